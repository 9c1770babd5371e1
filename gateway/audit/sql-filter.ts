/**
 * The WHERE clause of audit searches, for both SQL dialects (SQLite `?`,
 * PostgreSQL `$n`). Filters only ever become bound parameters.
 */
import type { AuditFilter, SearchCursor } from './store.js';

export type Dialect = 'sqlite' | 'postgres';

export interface SqlPart {
  sql: string;
  params: unknown[];
}

export function buildWhere(filter: AuditFilter, dialect: Dialect, after: SearchCursor | null | undefined, subjectsTable: string): SqlPart {
  const params: unknown[] = [];
  const p = (v: unknown) => {
    params.push(v);
    return dialect === 'sqlite' ? '?' : `$${params.length}`;
  };
  const where: string[] = [];
  if (filter.from !== undefined) where.push(`r.ts >= ${p(filter.from)}`);
  if (filter.to !== undefined) where.push(`r.ts < ${p(filter.to)}`);
  if (filter.instanceId !== undefined) where.push(`r.instance_id = ${p(filter.instanceId)}`);
  if (filter.clientId !== undefined) where.push(`r.client_id = ${p(filter.clientId)}`);
  if (filter.agency !== undefined) where.push(`r.agency = ${p(filter.agency)}`);
  if (filter.procedureId !== undefined) where.push(`r.procedure_id = ${p(filter.procedureId)}`);
  if (filter.requestId !== undefined) where.push(`r.request_id = ${p(filter.requestId)}`);
  if (filter.clientRequestId !== undefined) where.push(`r.client_request_id = ${p(filter.clientRequestId)}`);
  if (filter.outcomes !== undefined && filter.outcomes.length > 0) {
    where.push(`r.outcome IN (${filter.outcomes.map((o) => p(o)).join(', ')})`);
  }
  if (filter.registry !== undefined) {
    where.push(
      dialect === 'sqlite'
        ? `EXISTS (SELECT 1 FROM json_each(r.registries) j WHERE j.value = ${p(filter.registry)})`
        : `r.registries @> jsonb_build_array(${p(filter.registry)}::text)`,
    );
  }
  if (filter.subjectHmac !== undefined) {
    where.push(`(r.instance_id, r.seq) IN (SELECT s.instance_id, s.seq FROM ${subjectsTable} s WHERE s.hmac = ${p(filter.subjectHmac)})`);
  }
  if (after) where.push(`(r.ts, r.instance_id, r.seq) < (${p(after.ts)}, ${p(after.instanceId)}, ${p(after.seq)})`);
  return { sql: where.length ? `WHERE ${where.join(' AND ')}` : '', params };
}

export const NEWEST_FIRST = 'ORDER BY r.ts DESC, r.instance_id DESC, r.seq DESC';
