/**
 * The audit store's read side for the statistics (the `auditStore` service, core/services.ts):
 * the SQL connection the SQLite or PostgreSQL store holds, so the statistics see exactly the
 * committed records through the same snapshot isolation as the auditor API. The AuditStore
 * interface deliberately has no aggregation method; this adapter, owned by the audit concern,
 * is the one place that reaches the connection.
 */
import type Database from 'better-sqlite3';
import type pg from 'pg';
import type { AuditReadPort, AuditSql } from '../core/services.js';
import type { AuditStore } from './store.js';

export function auditReadPort(store: AuditStore): AuditReadPort {
  return {
    kind: store.kind,
    location: store.location,
    sql() {
      const connection = connectionOf(store);
      return connection && { ...connection, catchUp: store.rollUp ? () => store.rollUp!() : undefined };
    },
  };
}

/** The store's own connection: its SQLite database, its writer thread's reads, or its pool. */
function connectionOf(store: AuditStore): AuditSql | null {
  const handles = store as unknown as {
    db?: Database.Database | null;
    all?: (sql: string, params: unknown[]) => Promise<Record<string, unknown>[]>;
    pool?: pg.Pool;
    schema?: string;
  };
  if (store.kind === 'sqlite' && handles.db) return { kind: 'sqlite', db: handles.db };
  // A SQLite store opened with exclusive locking has no connection on this thread: its `all`
  // runs the query in the writer thread that holds the database.
  if (store.kind === 'sqlite' && typeof handles.all === 'function') return { kind: 'sqlite', all: (sql, params) => handles.all!.call(store, sql, params) };
  if (store.kind === 'postgres' && handles.pool && handles.schema) return { kind: 'postgres', pool: handles.pool, schema: handles.schema };
  return null;
}
