/**
 * `motlan stats rebuild`: recomputes the statistics rollups (gateway/core/stats-rollup.ts) from
 * the audit records, in one transaction. The gateway rolls its records into them a second after it
 * commits them (gateway/audit/rollup-tail.ts); rebuild after restoring records from a backup.
 */
import { parseArgs } from 'node:util';
import { PostgresAuditStore } from '../gateway/audit/postgres-store.js';
import { SqliteAuditStore } from '../gateway/audit/sqlite-store.js';
import { SOURCE_OPTIONS, sourceOf } from './audit.js';
import type { CliIo } from './io.js';

export const STATS_USAGE = `motlan stats rebuild [--db FILE.db | --url postgres://… [--schema S]] [--drop-archived]
  Recomputes the statistics rollups from the audit records (one transaction; readers see the old or
  the new rollups). After \`audit archive\` it refuses (the archived periods' figures exist only in
  the rollups) unless --drop-archived. SQLite: stop the gateway first (it holds the file, AUDIT_SQLITE_LOCKING=exclusive).
  PostgreSQL: appends wait until the rebuild commits. Default store: DATA_DIR / AUDIT_DATABASE_URL.`;

export async function runStatsCli(argv: string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  if (command !== 'rebuild') {
    io.err(`Unknown stats command ${JSON.stringify(command ?? '')}.\n\n${STATS_USAGE}`);
    return 2;
  }
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options: { ...SOURCE_OPTIONS, 'drop-archived': { type: 'boolean', default: false } }, allowPositionals: true, strict: true });
  } catch (err) {
    io.err(`${(err as Error).message}\n\n${STATS_USAGE}`);
    return 2;
  }
  let source;
  try {
    source = sourceOf(parsed.values, parsed.positionals, io, true);
  } catch (err) {
    io.err(`${(err as Error).message}\n\n${STATS_USAGE}`);
    return 2;
  }
  if (source.kind !== 'store') {
    io.err('stats rebuild works on a store (--db or --url), not on an exported file.');
    return 2;
  }
  const store = source.open();
  try {
    await store.init();
    if (!(store instanceof SqliteAuditStore) && !(store instanceof PostgresAuditStore)) throw new Error(`Cannot rebuild the statistics of a ${store.kind} store.`);
    const started = Date.now();
    let n: number;
    try {
      n = await store.rebuildStats({ dropArchived: parsed.values['drop-archived'] === true });
    } catch (err) {
      io.err(`Rebuild refused, nothing changed: ${(err as Error).message}`);
      return 1;
    }
    io.out(`Rebuilt the statistics rollups of ${source.describe} from ${n} record(s) in ${((Date.now() - started) / 1000).toFixed(1)} s.`);
    return 0;
  } finally {
    await store.close();
  }
}
