/**
 * The audit record's fast paths (chainRecord, contentHash, normalizeEntry, recordToRow, sha256Hex)
 * give byte for byte what the code they replaced gave: every stored hash must still verify and
 * every stored row must stay the same. The replaced code is copied below, unchanged, as the
 * reference; generated entries (optional fields present or absent, odd and non-BMP strings,
 * duplicate and unsorted lists, non-integer and non-finite numbers, prefill with and without a
 * group) and generated raw record contents (as a parsed export may hold: any shape) go through
 * both, and a thrown error must be thrown by both.
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sha256Hex } from '../gateway/audit/canonical.js';
import { chainRecord, contentHash, contentJson, normalizeEntry, type AuditEntry, type AuditRecord, type RecordContent } from '../gateway/audit/record.js';
import { recordToRow } from '../gateway/audit/store.js';
import { isDossierId, isProcedureId } from '../lib/purpose-ids.js';

// ---------------------------------------------------------------------------
// Reference: the implementations before the fast paths (gateway/audit/canonical.ts, record.ts,
// store.ts), copied verbatim apart from names. Do not "fix" them: they define the bytes.

function refCanonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) {
      throw new Error(`Cannot canonicalize the number ${value}: audit records hold finite numbers only.`);
    }
    return JSON.stringify(value) ?? 'null';
  }
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ',';
      const v: unknown = value[i];
      out += v === undefined ? 'null' : refCanonicalJson(v);
    }
    return `${out}]`;
  }
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj).sort();
  let out = '{';
  let first = true;
  for (const k of keys) {
    const v = obj[k];
    if (v === undefined) continue;
    if (!first) out += ',';
    first = false;
    out += `${JSON.stringify(k)}:${refCanonicalJson(v)}`;
  }
  return `${out}}`;
}

function refSha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

const REF_CHAIN_FORMAT = 'motlan-audit/1';

const REF_CONTENT_FIELDS = [
  'instanceId', 'seq', 'ts', 'requestId', 'clientId', 'agency', 'operationName', 'operationType', 'documentHash',
  'procedureId', 'dossierId', 'subjects', 'registries', 'fields', 'entities', 'outcome', 'errorCodes', 'httpStatus',
  'durationMs', 'responseBytes', 'prefill', 'clientRequestId', 'reasonCode', 'covers', 'subgraphRequests',
  'clientTier', 'clientProvince', 'cache',
  'traceId',
] as const;

function refContentOf(record: RecordContent): RecordContent {
  const out: Record<string, unknown> = {};
  for (const f of REF_CONTENT_FIELDS) out[f] = record[f];
  return out as unknown as RecordContent;
}

function refContentHash(record: RecordContent): string {
  return refSha256Hex(refCanonicalJson(refContentOf(record)));
}

function refChainHash(prevHash: string, contentHashHex: string): string {
  return refSha256Hex(`${REF_CHAIN_FORMAT}\n${prevHash}\n${contentHashHex}`);
}

const SAFE_TOKEN = /[^A-Za-z0-9_.:@\-/]/g;
const CONTROL = /[\u0000-\u001f\u007f]/g;

function refToken(s: string, max = 128): string {
  return s.replace(SAFE_TOKEN, '_').slice(0, max);
}

function refText(s: string | null | undefined, max = 256): string | null {
  if (s === null || s === undefined) return null;
  const t = s.replace(CONTROL, ' ').slice(0, max);
  return t === '' ? null : t;
}

function refSortedTokens(values: Iterable<string>, max: number): string[] {
  return [...new Set([...values].map((v) => refToken(v)).filter((v) => v !== ''))].sort().slice(0, max);
}

function refFinite(n: number, digits = 3): number {
  if (!Number.isFinite(n)) return 0;
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

const CLIENT_REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;
const SUBGRAPH_REQUEST_ID = /^[A-Za-z0-9._:-]{1,200}$/;
const MAX_SUBGRAPH_REQUESTS = 500;
const TRACE_ID = /^(?!0{32})[0-9a-f]{32}$/;
const REASON_CODE = /^[A-Z][A-Z0-9_]{0,63}$/;
const TIER = /^[a-z]{1,16}$/;
const PROVINCE_CODE = /^[0-9]{2}$/;
const NOT_NAME = /[^_0-9A-Za-z]/g;
const MAX_SUBJECTS = 1000;

function refNormalizeEntry(e: AuditEntry): AuditEntry {
  const subjects = [...new Map(e.subjects.map((s) => [`${s.kind}|${s.role}|${s.hmac}`, s])).values()]
    .map((s) => ({ kind: s.kind, role: s.role, hmac: s.hmac }))
    .sort((a, b) => (a.kind + a.role + a.hmac < b.kind + b.role + b.hmac ? -1 : 1))
    .slice(0, MAX_SUBJECTS);
  const entities: Record<string, number> = {};
  for (const [k, v] of Object.entries(e.entities)) if (Number.isFinite(v) && v > 0) entities[refToken(k)] = Math.trunc(v);
  return {
    ts: Math.trunc(e.ts),
    requestId: refText(e.requestId, 128) ?? 'unknown',
    clientId: refText(e.clientId, 128) ?? 'anonymous',
    agency: refText(e.agency, 256) ?? 'anonymous',
    operationName: e.operationName ? e.operationName.slice(0, 128).replace(NOT_NAME, '_') : null,
    operationType: e.operationType ?? null,
    documentHash: refText(e.documentHash, 128),
    procedureId: e.procedureId && isProcedureId(e.procedureId) ? e.procedureId : null,
    dossierId: e.dossierId && isDossierId(e.dossierId) ? e.dossierId : null,
    subjects,
    registries: refSortedTokens(e.registries, 32),
    fields: refSortedTokens(e.fields, 2000),
    entities,
    outcome: e.outcome,
    errorCodes: refSortedTokens(e.errorCodes, 32),
    httpStatus: Math.trunc(e.httpStatus),
    durationMs: refFinite(e.durationMs),
    responseBytes: e.responseBytes === null ? null : Math.trunc(e.responseBytes),
    prefill: e.prefill
      ? {
          fieldsTotal: Math.trunc(e.prefill.fieldsTotal),
          fieldsPrefilled: Math.trunc(e.prefill.fieldsPrefilled),
          fieldsForCitizen: Math.trunc(e.prefill.fieldsForCitizen),
          componentsTotal: Math.trunc(e.prefill.componentsTotal),
          componentsCut: Math.trunc(e.prefill.componentsCut),
          hoursSaved: refFinite(e.prefill.hoursSaved, 2),
          ...(e.prefill.groupId && isProcedureId(e.prefill.groupId)
            ? { groupId: e.prefill.groupId, procedureIds: (e.prefill.procedureIds ?? []).filter((id) => isProcedureId(id)).slice(0, 32) }
            : {}),
        }
      : null,
    ...(e.clientRequestId && CLIENT_REQUEST_ID.test(e.clientRequestId) ? { clientRequestId: e.clientRequestId } : {}),
    ...(e.reasonCode && REASON_CODE.test(e.reasonCode) ? { reasonCode: e.reasonCode } : {}),
    ...(e.covers !== undefined && Number.isSafeInteger(e.covers) && e.covers >= 1 ? { covers: e.covers } : {}),
    ...refSubgraphRequestsOf(e.subgraphRequests),
    ...(e.clientTier && TIER.test(e.clientTier) ? { clientTier: e.clientTier } : {}),
    ...(e.clientProvince && PROVINCE_CODE.test(e.clientProvince) ? { clientProvince: e.clientProvince } : {}),
    ...(e.cache === 'hit' ? { cache: 'hit' as const } : {}),
    ...(e.traceId && TRACE_ID.test(e.traceId) ? { traceId: e.traceId } : {}),
  };
}

function refSubgraphRequestsOf(ids: readonly string[] | undefined): { subgraphRequests?: string[] } {
  const kept = (ids ?? []).filter((id) => typeof id === 'string' && SUBGRAPH_REQUEST_ID.test(id)).slice(0, MAX_SUBGRAPH_REQUESTS);
  return kept.length > 0 ? { subgraphRequests: kept } : {};
}

function refChainRecord(instanceId: string, seq: number, prevHash: string, entry: AuditEntry): AuditRecord {
  const content: RecordContent = { instanceId, seq, ...refNormalizeEntry(entry) };
  return { ...content, prevHash, hash: refChainHash(prevHash, refContentHash(content)) };
}

const REF_OPTIONAL_FIELDS = [
  { field: 'clientRequestId', column: 'client_request_id', kind: 'text' },
  { field: 'reasonCode', column: 'reason_code', kind: 'text' },
  { field: 'covers', column: 'covers', kind: 'number' },
  { field: 'subgraphRequests', column: 'subgraph_requests', kind: 'json' },
  { field: 'clientTier', column: 'client_tier', kind: 'text' },
  { field: 'clientProvince', column: 'client_province', kind: 'text' },
  { field: 'cache', column: 'cache', kind: 'text' },
  { field: 'traceId', column: 'trace_id', kind: 'text' },
] as const;

function refRecordToRow(r: AuditRecord): Record<string, unknown> {
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
    ...Object.fromEntries(REF_OPTIONAL_FIELDS.map((f) => [f.column, f.kind === 'json' ? (r[f.field] ? JSON.stringify(r[f.field]) : null) : (r[f.field] ?? null)])),
  };
}

// ---------------------------------------------------------------------------
// Generators.

/** Any string: ASCII, full Unicode (non-BMP), lone surrogates, control characters. */
const anyString = fc.oneof(
  fc.string(),
  fc.string({ unit: 'grapheme' }),
  fc.string({ unit: 'binary' }),
  fc.constantFrom('', ' ', '\u0000', '\u007f', '\ud800', 'a\udc00b', '"\\', '\u2028', 'Hồ Chí Minh', '😀', '=cmd|x', 'a;b'),
);
/** Tokens from a small vocabulary (so lists repeat), odd ones, and anything. */
const coordinate = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('Citizen.fullName', 'Query.citizen', 'Citizen.household', 'Address.fullAddress', 'LandParcel.area', 'a', 'A', 'b', '_', '-', 'Z.z', 'population', 'land') },
  { weight: 2, arbitrary: fc.stringMatching(/^[A-Za-z0-9_.:@\-/]{1,20}$/) },
  { weight: 1, arbitrary: fc.constantFrom('x'.repeat(128), 'y'.repeat(129), 'Citizen.full Name', 'Citizen.ﬁeld', 'a\u0000', '') },
  { weight: 1, arbitrary: anyString },
);
/** A list as callers send it: unsorted with repeats, or already sorted and unique. */
const tokenList = (max: number) =>
  fc.oneof(
    fc.array(coordinate, { maxLength: max }),
    fc.uniqueArray(coordinate, { maxLength: max }).map((xs) => xs.sort()),
  );
const anyNumber = fc.oneof(fc.integer(), fc.double(), fc.constantFrom(0, -0, 0.5, 1.0005, 1e21, 1e-7, 2 ** 53 + 1, -3.7));
const subject = fc.record({
  kind: fc.oneof(fc.constantFrom('personal', 'enterprise', 'parcel', 'ab', 'a'), anyString),
  role: fc.oneof(fc.constantFrom('subject', 'related', 'c', 'bc'), anyString),
  hmac: fc.oneof(fc.constantFrom('0'.repeat(64), 'f'.repeat(64), 'x', ''), fc.stringMatching(/^[0-9a-f]{64}$/), anyString),
});
const procedureId = fc.oneof(fc.constantFrom('judicial-record-certificate', 'lodging-notification', 'Bad Id', '-x'), anyString);
const entityKey = fc.oneof(fc.constantFrom('population', 'enterprise', 'insurance', 'land', '1', '10', '9', 'a b', 'toJSON'), anyString);

const entry: fc.Arbitrary<AuditEntry> = fc.record(
  {
    ts: anyNumber,
    requestId: anyString,
    clientId: anyString,
    agency: anyString,
    operationName: fc.option(fc.oneof(fc.constantFrom('CitizenDossier', 'a-b c'), anyString), { nil: null }),
    operationType: fc.constantFrom('query', 'mutation', 'subscription', null),
    documentHash: fc.option(fc.oneof(fc.stringMatching(/^[0-9a-f]{64}$/), anyString), { nil: null }),
    procedureId: fc.option(procedureId, { nil: null }),
    dossierId: fc.option(fc.oneof(fc.constantFrom('HS-2026/001', '=1+1', 'a'.repeat(65)), anyString), { nil: null }),
    subjects: fc.oneof(
      fc.array(subject, { maxLength: 8 }),
      // Duplicates of typical subjects.
      fc.array(fc.constantFrom(...[0, 1, 2].map((i) => ({ kind: 'personal', role: i === 2 ? 'related' : 'subject', hmac: `${i}`.repeat(64) }))), { maxLength: 6 }),
      // Distinct subjects whose `kind + role + hmac` sort keys collide: the old comparator answers 1
      // both ways for them, and the new one must give the same order.
      fc.array(fc.constantFrom({ kind: 'ab', role: 'c', hmac: 'x' }, { kind: 'a', role: 'bc', hmac: 'x' }, { kind: 'a', role: 'b', hmac: 'cx' }, { kind: '', role: 'abc', hmac: 'x' }, { kind: 'a', role: 'a', hmac: 'a' }), { maxLength: 6 }),
    ),
    registries: tokenList(40),
    fields: tokenList(60),
    entities: fc.dictionary(entityKey, anyNumber, { maxKeys: 6 }),
    outcome: fc.constantFrom('OK', 'PARTIAL', 'ERROR', 'INVALID', 'DENIED', 'UNAUTHENTICATED'),
    errorCodes: tokenList(40),
    httpStatus: anyNumber,
    durationMs: anyNumber,
    responseBytes: fc.option(anyNumber, { nil: null }),
    prefill: fc.option(
      fc.record(
        {
          fieldsTotal: anyNumber,
          fieldsPrefilled: anyNumber,
          fieldsForCitizen: anyNumber,
          componentsTotal: anyNumber,
          componentsCut: anyNumber,
          hoursSaved: anyNumber,
          groupId: procedureId,
          procedureIds: fc.array(procedureId, { maxLength: 40 }),
        },
        { requiredKeys: ['fieldsTotal', 'fieldsPrefilled', 'fieldsForCitizen', 'componentsTotal', 'componentsCut', 'hoursSaved'] },
      ),
      { nil: null },
    ),
    clientRequestId: fc.oneof(fc.stringMatching(/^[A-Za-z0-9._:-]{1,64}$/), anyString),
    reasonCode: fc.oneof(fc.constantFrom('SUBJECT_TOKEN_MISSING', 'bad'), anyString),
    covers: anyNumber,
    subgraphRequests: fc.array(fc.oneof(fc.stringMatching(/^[a-z0-9-]{1,12}:[a-z]{1,8}:[0-9a-f]{1,8}$/), anyString), { maxLength: 6 }),
    clientTier: fc.oneof(fc.constantFrom('ministry', 'province', 'Bad'), anyString),
    clientProvince: fc.oneof(fc.constantFrom('79', '01', '7'), anyString),
    cache: fc.constantFrom('hit', 'miss'),
    traceId: fc.oneof(fc.stringMatching(/^[0-9a-f]{32}$/), fc.constant('0'.repeat(32)), anyString),
  },
  {
    requiredKeys: [
      'ts', 'requestId', 'clientId', 'agency', 'operationName', 'operationType', 'documentHash', 'procedureId', 'dossierId',
      'subjects', 'registries', 'fields', 'entities', 'outcome', 'errorCodes', 'httpStatus', 'durationMs', 'responseBytes', 'prefill',
    ],
  },
) as fc.Arbitrary<AuditEntry>;

/** Runs `f`, giving its value or the message it threw (both sides must agree on either). */
function outcome<T>(f: () => T): { ok: T } | { threw: string } {
  try {
    return { ok: f() };
  } catch (err) {
    return { threw: err instanceof Error ? `${err.name}: ${err.message}` : String(err) };
  }
}

/** Members in order, so a reordered object (JSON.stringify of a record) fails too. */
const ordered = (o: object) => JSON.stringify(Object.entries(o));

describe('audit hash fast paths', () => {
  it('chainRecord, normalizeEntry and recordToRow equal the reference implementation', () => {
    fc.assert(
      fc.property(
        entry,
        fc.oneof(fc.constantFrom('gw-1', 'replica b'), anyString),
        fc.oneof(fc.nat(), anyNumber),
        fc.oneof(fc.stringMatching(/^[0-9a-f]{64}$/), anyString),
        (e, instanceId, seq, prevHash) => {
          expect(ordered(normalizeEntry(e))).toBe(ordered(refNormalizeEntry(e)));
          expect(normalizeEntry(e)).toEqual(refNormalizeEntry(e));
          const fast = outcome(() => chainRecord(instanceId, seq, prevHash, e));
          const ref = outcome(() => refChainRecord(instanceId, seq, prevHash, e));
          expect(fast).toEqual(ref);
          if ('ok' in fast && 'ok' in ref) {
            expect(fast.ok.hash).toBe(ref.ok.hash);
            expect(ordered(fast.ok)).toBe(ordered(ref.ok));
            expect(ordered(recordToRow(fast.ok))).toBe(ordered(refRecordToRow(ref.ok)));
            expect(recordToRow(fast.ok)).toEqual(refRecordToRow(ref.ok));
            expect(contentJson(fast.ok)).toBe(refCanonicalJson(refContentOf(ref.ok)));
          }
        },
      ),
      { numRuns: 3000, seed: 20261201 },
    );
  });

  it('keeps throwing on a non-finite number, as canonicalJson did', () => {
    const base = normalizeEntry({
      ts: 1, requestId: 'r', clientId: 'c', agency: 'a', operationName: null, operationType: null, documentHash: null, procedureId: null,
      dossierId: null, subjects: [], registries: [], fields: [], entities: {}, outcome: 'OK', errorCodes: [], httpStatus: 200, durationMs: 1,
      responseBytes: null, prefill: null,
    });
    for (const bad of [{ ts: NaN }, { seq: Infinity }, { entities: { a: -Infinity } }, { covers: NaN }]) {
      const content = { instanceId: 'i', seq: 1, ...base, ...bad } as RecordContent;
      expect(() => contentHash(content)).toThrow(/finite numbers only/);
      expect(() => refContentHash(content)).toThrow(/finite numbers only/);
    }
  });

  it('contentHash of ANY content (a parsed export may hold any shape) equals the reference', () => {
    // JSON-like values plus what JSON cannot carry: undefined, holes, non-finite numbers, toJSON.
    const { value } = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        fc.constant(null),
        fc.constant(undefined),
        fc.boolean(),
        anyNumber,
        anyString,
        fc.array(anyString, { maxLength: 5 }),
        fc.sparseArray(tie('value'), { maxLength: 4 }),
        fc.array(tie('value'), { maxLength: 4 }),
        fc.dictionary(fc.oneof(entityKey, fc.constantFrom('kind', 'role', 'hmac')), tie('value'), { maxKeys: 4 }),
        fc.array(anyString, { maxLength: 3 }).map((xs) => Object.assign(xs, { toJSON: () => 'x' })),
        subject,
        subject.map(({ kind, role, hmac }) => ({ hmac, role, kind })),
        subject.map((s) => ({ ...s, extra: 1 })),
        fc.tuple(subject, anyString).map(([s, v]) => ({ ...s, kind: v.length % 2 ? undefined : 7 })),
      ),
    }));
    const content = fc.record(Object.fromEntries([...REF_CONTENT_FIELDS, 'prevHash', 'hash', 'stray'].map((f) => [f, value])), { requiredKeys: [] });
    fc.assert(
      fc.property(content, (c) => {
        const fast = outcome(() => contentJson(c as unknown as RecordContent));
        const ref = outcome(() => refCanonicalJson(refContentOf(c as unknown as RecordContent)));
        expect(fast).toEqual(ref);
        expect(outcome(() => contentHash(c as unknown as RecordContent))).toEqual(outcome(() => refContentHash(c as unknown as RecordContent)));
      }),
      { numRuns: 3000, seed: 20261202 },
    );
  });

  it('recordToRow of any record, optional fields present or absent, equals the reference', () => {
    fc.assert(
      fc.property(entry, (e) => {
        // Records as read back or built by hand: the entry's values as they are, not normalised.
        const r = { instanceId: 'i', seq: 3, prevHash: 'p', hash: 'h', ...e } as AuditRecord;
        expect(ordered(recordToRow(r))).toBe(ordered(refRecordToRow(r)));
        expect(recordToRow(r)).toEqual(refRecordToRow(r));
      }),
      { numRuns: 1000, seed: 20261203 },
    );
  });

  it('sha256Hex equals createHash for any string (UTF-8, lone surrogates) and buffer', () => {
    fc.assert(
      fc.property(fc.oneof(anyString, fc.uint8Array().map((b) => Buffer.from(b))), (s) => {
        expect(sha256Hex(s)).toBe(refSha256Hex(s));
      }),
      { numRuns: 1000, seed: 20261204 },
    );
  });
});
