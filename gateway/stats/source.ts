/**
 * The statistics read the audit store's own connection (SQLite database or
 * PostgreSQL pool), so they see exactly the committed records, through the same
 * WAL snapshot/transaction isolation as the auditor API, through the audit concern's
 * read port (the `auditStore` service).
 */
import type { AuditReadPort } from '../core/services.js';
import type { StatsDb } from './engine.js';

export function statsDbOf(store: AuditReadPort): StatsDb {
  const sql = store.sql();
  if (sql) return sql;
  throw new Error(
    `The statistics cannot read this audit store (${store.kind} at ${store.location}): it exposes no SQL connection. ` +
      'Use the SQLite or PostgreSQL store of gateway/audit.',
  );
}
