/**
 * Child process of the shared-memory test (test/audit-ops.test.ts): opens a SQLite audit
 * store with SHM_LOCKING (`exclusive` or `shared`) in SHM_DIR, commits a record, then does
 * what an insider or a failing disk would: truncates the `-shm` file if there is one, and
 * commits again. Prints one JSON line per step; a SIGBUS kills it before the second.
 */
import { existsSync, truncateSync } from 'node:fs';
import path from 'node:path';
import { AuditLog } from '../gateway/audit/log.js';
import { SqliteAuditStore } from '../gateway/audit/sqlite-store.js';
import { sampleEntry, testSigner } from './support/audit-testing.js';

const dir = process.env.SHM_DIR!;
const locking = process.env.SHM_LOCKING === 'shared' ? 'shared' : 'exclusive';
const file = path.join(dir, 'audit.db');
const store = new SqliteAuditStore({ file, locking });
await store.init();
const log = new AuditLog({ store, instanceId: 'shm', signer: testSigner(), checkpointIntervalMs: 0 });
await log.start();
await log.append(sampleEntry());
const shm = `${file}-shm`;
const had = existsSync(shm);
if (had) truncateSync(shm, 0);
process.stdout.write(`${JSON.stringify({ step: 'first', shm: had })}\n`);
let second: string;
try {
  await log.append(sampleEntry());
  second = 'committed';
} catch (err) {
  second = `refused: ${(err as Error).message}`;
}
const head = await store.head('shm');
process.stdout.write(`${JSON.stringify({ step: 'second', second, seq: head?.seq ?? null })}\n`);
await log.close();
await store.close();
