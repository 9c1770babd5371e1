/**
 * What the audit-cost benches share (bench/audit-cost.ts, bench/rollup-cost.ts): a fresh SQLite
 * audit store as the gateway opens it (writer thread, exclusive locking, fsync per commit) in a
 * temporary folder, removed afterwards, and the process's CPU time (every thread).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SqliteAuditStore } from '../gateway/audit/sqlite-store.js';

/** CPU microseconds of the process so far (user + system, the writer thread's included). */
export function cpuUs(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

/** Runs `fn` on a new store in a temporary folder; closes and removes it after. */
export async function withBenchStore<T>(name: string, fn: (store: SqliteAuditStore) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(path.join(tmpdir(), `motlan-${name}-`));
  // A long delay: only the bench decides when the roll runs.
  const store = new SqliteAuditStore({ file: path.join(dir, 'audit.db'), locking: 'exclusive', rollupDelayMs: 3_600_000 });
  try {
    await store.init();
    return await fn(store);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
