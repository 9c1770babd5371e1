/**
 * The audit record and its hash chain.
 *
 * A record holds metadata only: who asked, for what purpose, about whom (as keyed
 * HMACs), which registries and schema coordinates were touched, and the outcome.
 * Never a field value, never a clear identifier.
 *
 * Chain: `hash = sha256("motlan-audit/1\n" + prevHash + "\n" + contentHash)` where
 * `contentHash` is the SHA-256 of the canonical JSON of every field except
 * `prevHash` and `hash`. Chaining the content *hash* (not the content) lets an
 * export replace records outside its filter by their content hash ("redacted")
 * and still be verified end to end against the signed checkpoints.
 */
import { canonicalJson, sha256Hex } from './canonical.js';
import type { PrefillSummary } from '../context.js';

export const CHAIN_FORMAT = 'motlan-audit/1';

export { OUTCOMES, type Outcome } from '../outcome.js';
import type { Outcome } from '../outcome.js';

export type OperationType = 'query' | 'mutation' | 'subscription';

/** Which identifier a subject HMAC was computed from (the HMAC input is domain-separated by kind). */
export type SubjectKind = 'personal' | 'enterprise' | 'parcel';
/** `subject`: named by the request; `related`: returned in the response about someone else (a parent, a member…). */
export type SubjectRole = 'subject' | 'related';

export interface SubjectRef {
  kind: SubjectKind;
  role: SubjectRole;
  /** Hex HMAC-SHA256 of `<kind>:<identifier>` with the gateway's audit HMAC key. */
  hmac: string;
}

/** Counts a prefill reports (issue 3), kept for the data-sharing statistics. Counts only. */
export type PrefillNote = PrefillSummary;

/** What the gateway knows about a finished request; the log adds the chain fields. */
export interface AuditEntry {
  /** Milliseconds since the epoch when the request arrived. */
  ts: number;
  requestId: string;
  /** Client id, or `anonymous` when the caller was not authenticated. */
  clientId: string;
  /** The client's agency, or `anonymous`. */
  agency: string;
  operationName: string | null;
  operationType: OperationType | null;
  /** SHA-256 (hex) of the GraphQL document text. */
  documentHash: string | null;
  procedureId: string | null;
  dossierId: string | null;
  subjects: SubjectRef[];
  registries: string[];
  /** Schema coordinates of the fields returned, e.g. `Citizen.permanentResidence`. */
  fields: string[];
  /** Entities returned per registry. */
  entities: Record<string, number>;
  outcome: Outcome;
  errorCodes: string[];
  httpStatus: number;
  durationMs: number;
  /** Bytes of the response body; null when it was streamed. */
  responseBytes: number | null;
  prefill: PrefillNote | null;
}

export interface AuditRecord extends AuditEntry {
  /** The gateway replica whose chain holds the record. */
  instanceId: string;
  /** Position in that chain: 1, 2, 3… with no gap. */
  seq: number;
  prevHash: string;
  hash: string;
}

/** A signed statement "the chain of `instanceId` had head `hash` at `seq`". */
export interface Checkpoint {
  instanceId: string;
  seq: number;
  hash: string;
  /** When it was signed (ms since the epoch). */
  ts: number;
  /** Identifies the Ed25519 public key (first 16 hex digits of the SHA-256 of its DER form). */
  keyId: string;
  /** Base64 Ed25519 signature of `checkpointMessage(...)`. */
  signature: string;
}

/** The fields covered by `contentHash`, in a fixed list so no stray property slips into the hash. */
export const CONTENT_FIELDS = [
  'instanceId', 'seq', 'ts', 'requestId', 'clientId', 'agency', 'operationName', 'operationType', 'documentHash',
  'procedureId', 'dossierId', 'subjects', 'registries', 'fields', 'entities', 'outcome', 'errorCodes', 'httpStatus',
  'durationMs', 'responseBytes', 'prefill',
] as const satisfies readonly (keyof AuditRecord)[];

export type RecordContent = Pick<AuditRecord, (typeof CONTENT_FIELDS)[number]>;

export function contentOf(record: RecordContent): RecordContent {
  const out: Record<string, unknown> = {};
  for (const f of CONTENT_FIELDS) out[f] = record[f];
  return out as unknown as RecordContent;
}

export function contentHash(record: RecordContent): string {
  return sha256Hex(canonicalJson(contentOf(record)));
}

export function chainHash(prevHash: string, contentHashHex: string): string {
  return sha256Hex(`${CHAIN_FORMAT}\n${prevHash}\n${contentHashHex}`);
}

/** The `prevHash` of record 1 of an instance's chain. */
export function genesisHash(instanceId: string): string {
  return sha256Hex(`${CHAIN_FORMAT} genesis\n${instanceId}`);
}

/** The bytes a checkpoint signature covers. */
export function checkpointMessage(cp: Omit<Checkpoint, 'signature'>): Buffer {
  return Buffer.from(
    canonicalJson({ format: CHAIN_FORMAT, instanceId: cp.instanceId, seq: cp.seq, hash: cp.hash, ts: cp.ts, keyId: cp.keyId }),
    'utf8',
  );
}

// ---------------------------------------------------------------------------
// Normalisation: every record is stored in one exact shape, so that each store
// and export format gives back byte-identical canonical JSON.

const SAFE_TOKEN = /[^A-Za-z0-9_.:@\-/]/g;
const CONTROL = /[\u0000-\u001f\u007f]/g;

/** Codes, coordinates, registry names: a restricted alphabet (no `;`, no spaces), so CSV cells join them losslessly. */
export function token(s: string, max = 128): string {
  return s.replace(SAFE_TOKEN, '_').slice(0, max);
}

/** Free text (ids, names): no control characters, bounded, empty → null. */
export function text(s: string | null | undefined, max = 256): string | null {
  if (s === null || s === undefined) return null;
  const t = s.replace(CONTROL, ' ').slice(0, max);
  return t === '' ? null : t;
}

function sortedTokens(values: Iterable<string>, max: number): string[] {
  return [...new Set([...values].map((v) => token(v)).filter((v) => v !== ''))].sort().slice(0, max);
}

function finite(n: number, digits = 3): number {
  if (!Number.isFinite(n)) return 0;
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

/**
 * Maximum subjects kept in one record. Every entity a response carried is a subject
 * (issue 11); the response check refuses answers about people the purpose does not
 * name, so real records stay far below this bound, which only caps a pathological one.
 */
export const MAX_SUBJECTS = 1000;

export function normalizeEntry(e: AuditEntry): AuditEntry {
  const subjects = [...new Map(e.subjects.map((s) => [`${s.kind}|${s.role}|${s.hmac}`, s])).values()]
    .map((s) => ({ kind: s.kind, role: s.role, hmac: s.hmac }))
    .sort((a, b) => (a.kind + a.role + a.hmac < b.kind + b.role + b.hmac ? -1 : 1))
    .slice(0, MAX_SUBJECTS);
  const entities: Record<string, number> = {};
  for (const [k, v] of Object.entries(e.entities)) if (Number.isFinite(v) && v > 0) entities[token(k)] = Math.trunc(v);
  return {
    ts: Math.trunc(e.ts),
    requestId: text(e.requestId, 128) ?? 'unknown',
    clientId: text(e.clientId, 128) ?? 'anonymous',
    agency: text(e.agency, 256) ?? 'anonymous',
    operationName: text(e.operationName, 128),
    operationType: e.operationType ?? null,
    documentHash: text(e.documentHash, 128),
    procedureId: text(e.procedureId, 128),
    dossierId: text(e.dossierId, 128),
    subjects,
    registries: sortedTokens(e.registries, 32),
    fields: sortedTokens(e.fields, 2000),
    entities,
    outcome: e.outcome,
    errorCodes: sortedTokens(e.errorCodes, 32),
    httpStatus: Math.trunc(e.httpStatus),
    durationMs: finite(e.durationMs),
    responseBytes: e.responseBytes === null ? null : Math.trunc(e.responseBytes),
    prefill: e.prefill
      ? {
          fieldsTotal: Math.trunc(e.prefill.fieldsTotal),
          fieldsPrefilled: Math.trunc(e.prefill.fieldsPrefilled),
          fieldsForCitizen: Math.trunc(e.prefill.fieldsForCitizen),
          componentsTotal: Math.trunc(e.prefill.componentsTotal),
          componentsCut: Math.trunc(e.prefill.componentsCut),
          hoursSaved: finite(e.prefill.hoursSaved, 2),
        }
      : null,
  };
}

/** Builds the chained record that follows `prevHash` at `seq`. */
export function chainRecord(instanceId: string, seq: number, prevHash: string, entry: AuditEntry): AuditRecord {
  const content: RecordContent = { instanceId, seq, ...normalizeEntry(entry) };
  return { ...content, prevHash, hash: chainHash(prevHash, contentHash(content)) };
}
