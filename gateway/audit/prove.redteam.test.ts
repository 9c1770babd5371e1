/**
 * Red team (issue 11, `motlan audit prove`): a proof names the record it proves in its header
 * (`filter.requestId`) but the record's line can be swapped for a `redacted` line with the same
 * hashes — the chain still links, every checkpoint still verifies — and `verify` said "intact"
 * for a proof that no longer shows the record at all.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redactedOf, toJsonLine, type ExportLine } from './export-format.js';
import { exportLines } from './export.js';
import { AuditLog } from './log.js';
import type { AuditRecord } from './record.js';
import { verifyExportLines } from './sources.js';
import { SqliteAuditStore } from './sqlite-store.js';
import { sampleEntry, testSigner } from '../../test/support/audit-testing.js';

const dir = mkdtempSync(path.join(tmpdir(), 'motlan-prove-redteam-'));
const signer = testSigner();
let store: SqliteAuditStore;
let target: AuditRecord;

beforeAll(async () => {
  store = new SqliteAuditStore({ file: path.join(dir, 'audit.db'), writer: 'inline' });
  await store.init();
  const log = new AuditLog({ store, instanceId: 'gw-1', signer, checkpointEvery: 4, checkpointIntervalMs: 0 });
  await log.start();
  const records: AuditRecord[] = [];
  for (let i = 0; i < 10; i++) records.push(await log.append(sampleEntry({ ts: 1_750_000_000_000 + i, requestId: `00000000-0000-4000-8000-00000000000${i}` })));
  await log.close();
  target = records[5]!;
});
afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

async function proofLines(): Promise<ExportLine[]> {
  const out: ExportLine[] = [];
  for await (const line of exportLines(store, { requestId: target.requestId })) out.push(line);
  return out;
}
const verify = (lines: ExportLine[]) => verifyExportLines(lines.map((l) => toJsonLine(l).trimEnd()), { publicKeyPems: [signer.publicKeyPem] });

describe('a proof of one record', () => {
  it('verifies as produced', async () => {
    const lines = await proofLines();
    expect(lines.filter((l) => l.type === 'record')).toHaveLength(1);
    expect((await verify(lines)).ok).toBe(true);
  });

  it('fails when the record it names is not in it in full', async () => {
    const lines = (await proofLines()).map((l) => (l.type === 'record' ? redactedOf(l as unknown as AuditRecord) : l));
    expect(lines.filter((l) => (l.type as string) === 'record')).toHaveLength(0);
    const report = await verify(lines);
    expect(report.ok).toBe(false);
    expect(report.chains.find((c) => !c.ok)?.problem?.message).toMatch(new RegExp(`request id ${target.requestId}`));
  });
});
