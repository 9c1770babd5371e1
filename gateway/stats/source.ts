/**
 * The statistics read the audit store's own connection (SQLite database or
 * PostgreSQL pool), so they see exactly the committed records, through the same
 * WAL snapshot/transaction isolation as the auditor API. The AuditStore interface
 * (gateway/audit/store.ts) deliberately has no aggregation method; this adapter
 * reaches the connection the two SQL stores hold.
 */
import type Database from 'better-sqlite3';
import type pg from 'pg';
import type { AuditStore } from '../audit/store.js';
import type { StatsDb } from './engine.js';

export function statsDbOf(store: AuditStore): StatsDb {
  const handles = store as unknown as {
    db?: Database.Database | null;
    all?: (sql: string, params: unknown[]) => Promise<Record<string, unknown>[]>;
    pool?: pg.Pool;
    schema?: string;
  };
  // A SQLite store opened with exclusive locking has no connection on this thread: its `all`
  // runs the query in the writer thread that holds the database.
  if (store.kind === 'sqlite' && handles.db) return { kind: 'sqlite', db: handles.db };
  if (store.kind === 'sqlite' && typeof handles.all === 'function') return { kind: 'sqlite', all: (sql, params) => handles.all!.call(store, sql, params) };
  if (store.kind === 'postgres' && handles.pool && handles.schema) return { kind: 'postgres', pool: handles.pool, schema: handles.schema };
  throw new Error(
    `The statistics cannot read this audit store (${store.kind} at ${store.location}): it exposes no SQL connection. ` +
      'Use the SQLite or PostgreSQL store of gateway/audit.',
  );
}
