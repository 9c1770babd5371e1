/**
 * Where audit records live. Two implementations pass the same conformance suite
 * (store.conformance.ts): SQLite (embedded default) and PostgreSQL (replicas share
 * one database, each keeping its own chain identified by instance id).
 *
 * A store is deliberately dumb about hashing: the log (log.ts) chains records and
 * signs checkpoints; the store only guarantees that a batch is durable when
 * `appendBatch` resolves, and that it extends the head the log expected.
 */
import type { AuditRecord, Checkpoint, Outcome } from './record.js';

/** The last record of a chain. */
export interface ChainHead {
  seq: number;
  hash: string;
}

export interface PublicKeyEntry {
  keyId: string;
  publicKeyPem: string;
  /** ms since the epoch when the key was first used by a gateway. */
  createdAt: number;
}

/** Search filters; all optional and combined with AND. Times are ms since the epoch. */
export interface AuditFilter {
  /** Inclusive lower bound of `ts`. */
  from?: number;
  /** Exclusive upper bound of `ts`. */
  to?: number;
  instanceId?: string;
  clientId?: string;
  agency?: string;
  procedureId?: string;
  outcomes?: Outcome[];
  registry?: string;
  requestId?: string;
  /** The caller's own X-Request-Id (`clientRequestId`); several records may share one. */
  clientRequestId?: string;
  /** A subject HMAC (computed by the gateway from a personal ID, enterprise code or parcel id). */
  subjectHmac?: string;
}

/** Position after which the next page starts (newest first: ts, instance, seq descending). */
export interface SearchCursor {
  ts: number;
  instanceId: string;
  seq: number;
}

export interface SearchPage {
  items: AuditRecord[];
  /** Present when more records match. */
  next: SearchCursor | null;
}

export interface AuditStore {
  readonly kind: 'sqlite' | 'postgres';
  /** Human-readable location (file path, database URL without password). */
  readonly location: string;
  /** Creates the schema when missing. Idempotent. */
  init(): Promise<void>;

  /** Last record of the chain, or null for an empty chain (possibly after its records were archived: see `anchor`). */
  head(instanceId: string): Promise<ChainHead | null>;
  lastCheckpoint(instanceId: string): Promise<Checkpoint | null>;
  /**
   * Appends records and checkpoints in ONE transaction; resolves once committed
   * durably (fsync). Throws `ChainConflictError` when the chain's head is not
   * `expected` (another writer got there first), leaving the store unchanged.
   */
  appendBatch(instanceId: string, expected: ChainHead | null, records: AuditRecord[], checkpoints: Checkpoint[]): Promise<void>;

  registerKey(key: PublicKeyEntry): Promise<void>;
  publicKeys(): Promise<PublicKeyEntry[]>;
  instances(): Promise<string[]>;

  search(filter: AuditFilter, page: { limit: number; after?: SearchCursor | null }): Promise<SearchPage>;
  get(instanceId: string, seq: number): Promise<AuditRecord | null>;
  /** The record with this request id (the newest when a caller reused an id). */
  byRequestId(requestId: string): Promise<AuditRecord | null>;
  count(filter: AuditFilter): Promise<number>;

  /** Records of one chain by sequence number (the verifier checks that each follows the previous). */
  chain(instanceId: string, range?: { fromSeq?: number; toSeq?: number }): AsyncIterable<AuditRecord>;
  checkpoints(instanceId: string, range?: { fromSeq?: number; toSeq?: number }): Promise<Checkpoint[]>;
  /**
   * Rows of the subject index (the table the citizen history searches) for one chain's
   * records in a seq range. The verifier holds them against each record's hashed
   * `subjects` list, so deleting or adding an index row is detected.
   */
  subjectIndex(instanceId: string, range: { fromSeq: number; toSeq: number }): Promise<Array<{ seq: number; hmac: string }>>;
  /** The signed checkpoint the remaining chain starts after, once older records were archived; null otherwise. */
  anchor(instanceId: string): Promise<Checkpoint | null>;
  /**
   * Deletes the records with seq <= `checkpoint.seq` and the checkpoints before it, in one
   * transaction, and keeps `checkpoint` as the anchor of what remains.
   */
  prune(instanceId: string, checkpoint: Checkpoint): Promise<number>;

  /**
   * Readiness: proves the store can still commit by committing a small write outside the
   * chain (SQLite: a row of `audit_probes`, fsynced; PostgreSQL: a record insert rolled back
   * to a savepoint, then a row of `audit_probes`). Throws what went wrong.
   */
  probe?(instanceId: string): Promise<void>;

  /** Rolls every committed record into the statistics rollups (gateway/audit/rollup-tail.ts). */
  rollUp?(): Promise<void>;

  close(): Promise<void>;
}

/**
 * The store is no longer the one this gateway opened: its file was removed or replaced, or
 * records it committed are gone. Nothing is shared again until an operator restarts the
 * gateway with the store back (docs/AUDIT.md, "When the store is lost").
 */
export class AuditStoreLostError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AuditStoreLostError';
  }
}

/** The chain moved under the writer (another process appended with the same instance id). */
export class ChainConflictError extends Error {
  constructor(instanceId: string, expected: ChainHead | null, actual: ChainHead | null) {
    super(
      `Audit chain "${instanceId}" head is ${actual ? `seq ${actual.seq}` : 'empty'} but this writer expected ` +
        `${expected ? `seq ${expected.seq}` : 'empty'}: another process appends with the same instance id ` +
        '(give each gateway replica its own AUDIT_INSTANCE_ID).',
    );
    this.name = 'ChainConflictError';
  }
}

export function sameHead(a: ChainHead | null, b: ChainHead | null): boolean {
  return a === null || b === null ? a === b : a.seq === b.seq && a.hash === b.hash;
}

// ---------------------------------------------------------------------------
// Row mapping shared by both SQL stores. List and object fields are JSON text.

export interface RecordRow {
  instance_id: string;
  seq: number;
  ts: number;
  request_id: string;
  client_id: string;
  agency: string;
  operation_name: string | null;
  operation_type: string | null;
  document_hash: string | null;
  procedure_id: string | null;
  dossier_id: string | null;
  subjects: string;
  registries: string;
  fields: string;
  entities: string;
  outcome: string;
  error_codes: string;
  http_status: number;
  duration_ms: number;
  response_bytes: number | null;
  prefill: string | null;
  prev_hash: string;
  hash: string;
  client_request_id: string | null;
  reason_code: string | null;
  covers: number | null;
  /** JSON array of `subgraphRequests`, NULL when the record has none. */
  subgraph_requests: string | null;
  client_tier: string | null;
  client_province: string | null;
  /** `hit` when the response came from the response cache, NULL otherwise. */
  cache: string | null;
  trace_id: string | null;
}

export const RECORD_COLUMNS = [
  'instance_id', 'seq', 'ts', 'request_id', 'client_id', 'agency', 'operation_name', 'operation_type', 'document_hash',
  'procedure_id', 'dossier_id', 'subjects', 'registries', 'fields', 'entities', 'outcome', 'error_codes', 'http_status',
  'duration_ms', 'response_bytes', 'prefill', 'prev_hash', 'hash', 'client_request_id', 'reason_code', 'covers', 'subgraph_requests',
  'client_tier', 'client_province', 'cache',
  'trace_id',
] as const satisfies readonly (keyof RecordRow)[];

export function recordToRow(r: AuditRecord): RecordRow {
  return {
    instance_id: r.instanceId,
    seq: r.seq,
    ts: r.ts,
    request_id: r.requestId,
    client_id: r.clientId,
    agency: r.agency,
    operation_name: r.operationName,
    operation_type: r.operationType,
    document_hash: r.documentHash,
    procedure_id: r.procedureId,
    dossier_id: r.dossierId,
    subjects: JSON.stringify(r.subjects),
    registries: JSON.stringify(r.registries),
    fields: JSON.stringify(r.fields),
    entities: JSON.stringify(r.entities),
    outcome: r.outcome,
    error_codes: JSON.stringify(r.errorCodes),
    http_status: r.httpStatus,
    duration_ms: r.durationMs,
    response_bytes: r.responseBytes,
    prefill: r.prefill ? JSON.stringify(r.prefill) : null,
    prev_hash: r.prevHash,
    hash: r.hash,
    // OPTIONAL_FIELDS written out in its order (text/number: the value or NULL; json: JSON text when
    // truthy): building them with map + fromEntries + spread cost more than the rest of the row.
    // RecordRow's type makes a field added there fail to compile here until it is mapped.
    client_request_id: r.clientRequestId ?? null,
    reason_code: r.reasonCode ?? null,
    covers: r.covers ?? null,
    subgraph_requests: r.subgraphRequests ? JSON.stringify(r.subgraphRequests) : null,
    client_tier: r.clientTier ?? null,
    client_province: r.clientProvince ?? null,
    cache: r.cache ?? null,
    trace_id: r.traceId ?? null,
  };
}

/**
 * Record fields added after the first release: optional in the record (left out when absent,
 * so older records keep their hashes), a nullable column in both stores, added to an existing
 * table at start. NULL for older records, which then read back without the field. One row here
 * drives both directions of the row mapping and the column migration.
 */
const OPTIONAL_FIELDS = [
  { field: 'clientRequestId', column: 'client_request_id', kind: 'text', sqlite: 'TEXT', postgres: 'TEXT' },
  { field: 'reasonCode', column: 'reason_code', kind: 'text', sqlite: 'TEXT', postgres: 'TEXT' },
  { field: 'covers', column: 'covers', kind: 'number', sqlite: 'INTEGER', postgres: 'BIGINT' },
  { field: 'subgraphRequests', column: 'subgraph_requests', kind: 'json', sqlite: 'TEXT', postgres: 'JSONB' },
  { field: 'clientTier', column: 'client_tier', kind: 'text', sqlite: 'TEXT', postgres: 'TEXT' },
  { field: 'clientProvince', column: 'client_province', kind: 'text', sqlite: 'TEXT', postgres: 'TEXT' },
  { field: 'cache', column: 'cache', kind: 'text', sqlite: 'TEXT', postgres: 'TEXT' },
  { field: 'traceId', column: 'trace_id', kind: 'text', sqlite: 'TEXT', postgres: 'TEXT' },
] as const satisfies ReadonlyArray<{ field: keyof AuditRecord; column: keyof RecordRow; kind: 'text' | 'number' | 'json'; sqlite: string; postgres: string }>;
type OptionalFields = Pick<AuditRecord, (typeof OPTIONAL_FIELDS)[number]['field']>;

/** Columns added after the first release, with their SQL type: both stores add them to an existing table at start. */
export const ADDED_RECORD_COLUMNS: ReadonlyArray<{ name: keyof RecordRow; sqlite: string; postgres: string }> = OPTIONAL_FIELDS.map((f) => ({
  name: f.column,
  sqlite: f.sqlite,
  postgres: f.postgres,
}));

/** Accepts JSON text (SQLite) or already-parsed jsonb values (PostgreSQL). */
function json<T>(v: unknown): T {
  return (typeof v === 'string' ? JSON.parse(v) : v) as T;
}

export function rowToRecord(row: Record<string, unknown>): AuditRecord {
  return {
    instanceId: String(row.instance_id),
    seq: Number(row.seq),
    ts: Number(row.ts),
    requestId: String(row.request_id),
    clientId: String(row.client_id),
    agency: String(row.agency),
    operationName: (row.operation_name as string | null) ?? null,
    operationType: (row.operation_type as AuditRecord['operationType']) ?? null,
    documentHash: (row.document_hash as string | null) ?? null,
    procedureId: (row.procedure_id as string | null) ?? null,
    dossierId: (row.dossier_id as string | null) ?? null,
    subjects: json(row.subjects),
    registries: json(row.registries),
    fields: json(row.fields),
    entities: json(row.entities),
    outcome: row.outcome as Outcome,
    errorCodes: json(row.error_codes),
    httpStatus: Number(row.http_status),
    durationMs: Number(row.duration_ms),
    responseBytes: row.response_bytes === null || row.response_bytes === undefined ? null : Number(row.response_bytes),
    prefill: row.prefill === null || row.prefill === undefined ? null : json(row.prefill),
    prevHash: String(row.prev_hash),
    hash: String(row.hash),
    ...optionalFieldsOf(row),
  };
}

/** The optional fields a row holds (a NULL column leaves its field out). */
function optionalFieldsOf(row: Record<string, unknown>): OptionalFields {
  const out: Record<string, unknown> = {};
  for (const f of OPTIONAL_FIELDS) {
    const v = row[f.column];
    if (v === null || v === undefined) continue;
    out[f.field] = f.kind === 'text' ? String(v) : f.kind === 'number' ? Number(v) : json<unknown>(v);
  }
  return out as OptionalFields;
}

export function rowToCheckpoint(row: Record<string, unknown>): Checkpoint {
  return {
    instanceId: String(row.instance_id),
    seq: Number(row.seq),
    hash: String(row.hash),
    ts: Number(row.ts),
    keyId: String(row.key_id),
    signature: String(row.signature),
  };
}

/** Distinct subject HMACs of a record, for the search index. */
export function subjectHmacs(r: AuditRecord): string[] {
  return [...new Set(r.subjects.map((s) => s.hmac))];
}
