import { createHmac } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { parse } from 'graphql';
import { afterAll, describe, expect, it } from 'vitest';
import { newTrace, type MotlanContext } from '../core/context.js';
import { AuditDraft, buildEntry, classify, type OperationCapture } from './draft.js';
import { DEV_HMAC_KEY_FILE, DEV_SIGNING_KEY_FILE, loadHmacKey, loadSigner, subjectHasher } from './keys.js';
import { chainRecord, contentHash, genesisHash, type SubjectKind } from './record.js';
import { sampleEntry } from '../../test/support/audit-testing.js';
import { SubjectCollector } from './subjects.js';

const dir = mkdtempSync(path.join(tmpdir(), 'motlan-keys-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const op = (over: Partial<OperationCapture> = {}): OperationCapture => ({
  internal: false,
  operationName: 'Q',
  operationType: 'query',
  documentHash: 'h',
  errorCodes: [],
  done: true,
  data: { citizen: { fullName: 'x' } },
  ...over,
});

describe('outcome', () => {
  const c = (httpStatus: number, primary: OperationCapture | undefined, extra: Partial<Parameters<typeof classify>[0]> = {}) =>
    classify({ httpStatus, codes: new Set(primary?.errorCodes ?? []), primary, innerErrors: false, unavailableRegistries: 0, ...extra });

  it('classifies every outcome of the issue', () => {
    expect(c(200, op())).toBe('OK');
    expect(c(200, op({ errorCodes: ['REGISTRY_UNAVAILABLE'] }))).toBe('PARTIAL');
    expect(c(200, op(), { unavailableRegistries: 1 })).toBe('PARTIAL');
    expect(c(200, op(), { innerErrors: true })).toBe('PARTIAL');
    expect(c(200, op({ data: { citizen: null }, errorCodes: ['REGISTRY_UNAVAILABLE'] }))).toBe('ERROR');
    expect(c(200, op({ data: null, errorCodes: ['BAD_USER_INPUT'] }))).toBe('INVALID');
    expect(c(400, op({ data: undefined, errorCodes: ['GRAPHQL_PARSE_FAILED'] }))).toBe('INVALID');
    expect(c(200, op({ data: null, errorCodes: ['FORBIDDEN'] }))).toBe('DENIED');
    expect(c(429, undefined)).toBe('DENIED');
    expect(c(401, undefined)).toBe('UNAUTHENTICATED');
    expect(c(413, undefined)).toBe('INVALID');
    expect(c(400, undefined)).toBe('INVALID');
    expect(c(500, undefined)).toBe('ERROR');
    expect(c(499, op({ done: false }))).toBe('ERROR');
  });
});

describe('subjects', () => {
  const hasher = subjectHasher(Buffer.from('k'.repeat(32)));

  it('are keyed HMACs, domain-separated by kind, never the identifier', () => {
    expect(hasher('personal', '079203001234')).toMatch(/^[0-9a-f]{64}$/);
    expect(hasher('personal', '079203001234')).not.toBe(hasher('parcel', '079203001234'));
    expect(hasher('personal', '079203001234')).not.toBe(subjectHasher(Buffer.from('j'.repeat(32)))('personal', '079203001234'));
  });

  it('a remembered pseudonym is the HMAC itself, for any identifier and kind', () => {
    const key = Buffer.from('m'.repeat(32));
    const memoised = subjectHasher(key);
    fc.assert(
      fc.property(fc.constantFrom('personal', 'enterprise', 'parcel'), fc.string({ maxLength: 20 }), (kind, id) => {
        const expected = createHmac('sha256', key).update(`${kind}:${id.trim()}`).digest('hex');
        expect(memoised(kind as SubjectKind, id)).toBe(expected);
        expect(memoised(kind as SubjectKind, id)).toBe(expected);
      }),
    );
  });

  it('a response key is an identifier only when it is one of the identifier fields, whatever the alias (generated)', () => {
    const kindOf: Record<string, SubjectKind> = { personalId: 'personal', personalIds: 'personal', relatedPersonalId: 'personal', enterpriseCode: 'enterprise', parcelId: 'parcel' };
    const key = fc.oneof(fc.constantFrom(...Object.getOwnPropertyNames(Object.prototype), ...Object.keys(kindOf)), fc.string({ maxLength: 12 }));
    fc.assert(
      fc.property(fc.dictionary(key, fc.constantFrom('001090000001', '001090000002')), (response) => {
        const s = new SubjectCollector();
        s.fromResponse(response);
        const expected = new Set<string>();
        for (const [k, id] of Object.entries(response)) if (Object.hasOwn(kindOf, k)) expected.add(hasher(kindOf[k]!, id));
        expect(new Set(s.refs(hasher).map((r) => r.hmac))).toEqual(expected);
      }),
    );
  });

  it('response keys named like Object members (an alias `constructor`) are not identifiers', () => {
    const s = new SubjectCollector();
    s.fromResponse({ constructor: '001090000001', toString: '001090000002', hasOwnProperty: { personalId: '001090000003' } });
    const refs = s.refs(hasher);
    expect(refs).toEqual([{ kind: 'personal', role: 'related', hmac: hasher('personal', '001090000003') }]);
  });

  it('come from the context, the arguments (variables, input objects) and entity keys in the response', () => {
    const s = new SubjectCollector();
    s.fromContext({ personalId: '001090000001' });
    const doc = parse('query($s: SubjectInput!, $ids: [ID!]!) { prefill(procedureId: "x", subject: $s) { summary { fieldsTotal } } citizens(personalIds: $ids) { fullName } }');
    s.fromOperation(doc, null, { s: { personalId: '001090000001', enterpriseCode: '0101234567' }, ids: ['001090000002'] });
    s.fromResponse({ citizens: [{ fullName: 'A', father: { personalId: '001060000003' } }] });
    const refs = s.refs(hasher);
    const has = (kind: string, role: string, id: string) => refs.some((r) => r.kind === kind && r.role === role && r.hmac === hasher(kind as never, id));
    expect(has('personal', 'subject', '001090000001')).toBe(true);
    expect(has('personal', 'subject', '001090000002')).toBe(true);
    expect(has('enterprise', 'subject', '0101234567')).toBe(true);
    expect(has('personal', 'related', '001060000003')).toBe(true);
    expect(refs).toHaveLength(4);
  });

  it('an entry carries no identifier and no value in clear', () => {
    const ctx: MotlanContext = {
      requestId: 'r1',
      receivedAt: 1,
      client: { id: 'c', agency: 'A', name: 'n', demo: true, procedures: [], permissions: [], requireSubjectToken: false },
      purpose: { procedureId: 'p', dossierId: 'd' },
      subject: { personalId: '001090000001' },
      headers: {},
      trace: newTrace(),
    };
    ctx.trace.fields.add('Citizen.fullName');
    ctx.trace.registries.add('population');
    const d = new AuditDraft('r1', 1, performance.now());
    d.context = ctx;
    d.ops.push(op({ data: { citizen: { fullName: 'Nguyễn Văn A', personalId: '001090000001' } } }));
    const entry = buildEntry(d, { httpStatus: 200, responseBytes: 10, bodyCodes: [] }, hasher);
    const text = JSON.stringify(entry);
    expect(text).not.toContain('001090000001');
    expect(text).not.toContain('Nguyễn');
    expect(entry).toMatchObject({ outcome: 'OK', clientId: 'c', agency: 'A', procedureId: 'p', dossierId: 'd', fields: ['Citizen.fullName'] });
  });
});

describe('hash chain', () => {
  it('links each record to the previous hash and covers every field', () => {
    const r1 = chainRecord('gw', 1, genesisHash('gw'), sampleEntry());
    const r2 = chainRecord('gw', 2, r1.hash, sampleEntry());
    expect(r2.prevHash).toBe(r1.hash);
    expect(contentHash({ ...r1, durationMs: r1.durationMs + 1 })).not.toBe(contentHash(r1));
    expect(contentHash({ ...r1, seq: 2 })).not.toBe(contentHash(r1));
    expect(genesisHash('gw')).not.toBe(genesisHash('gw2'));
  });
});

describe('keys', () => {
  it('generates development keys once under the data directory, private key mode 600', () => {
    const a = loadSigner({ dataDir: dir, production: false });
    const b = loadSigner({ dataDir: dir, production: false });
    expect(a.generated).toBe(true);
    expect(b.generated).toBe(false);
    expect(b.signer.keyId).toBe(a.signer.keyId);
    expect(statSync(path.join(dir, DEV_SIGNING_KEY_FILE)).mode & 0o777).toBe(0o600);
    const h1 = loadHmacKey({ dataDir: dir, production: false });
    expect(existsSync(path.join(dir, DEV_HMAC_KEY_FILE))).toBe(true);
    expect(loadHmacKey({ dataDir: dir, production: false }).key.equals(h1.key)).toBe(true);
  });

  it('refuses development keys in production, with what to do instead', () => {
    expect(() => loadSigner({ dataDir: dir, production: true })).toThrow(/AUDIT_SIGNING_KEY.*keygen/);
    expect(() => loadHmacKey({ dataDir: dir, production: true })).toThrow(/AUDIT_HMAC_KEY/);
    expect(() => loadHmacKey({ dataDir: dir, production: true, hmacKey: 'short' })).toThrow(/32 characters/);
    expect(loadHmacKey({ dataDir: dir, production: true, hmacKey: 'x'.repeat(40) }).source).toBe('AUDIT_HMAC_KEY');
  });
});

describe('traceId (added with tracing): optional, hashed only when present', () => {
  const entry = (over: Partial<Parameters<typeof sampleEntry>[0]> = {}) =>
    sampleEntry({ ts: 1_750_000_000_000, requestId: 'req-golden', subgraphRequests: ['req-golden:population:0a1b2c3d4e5f'], ...over });

  it('a record without it keeps the hash it had before the field existed (golden value from the previous release)', () => {
    expect(chainRecord('gw-1', 1, genesisHash('gw-1'), entry()).hash).toBe('996b335daca1148a60f2254287e429d530b8f8f64820c0d98499f02fbdf1a290');
  });

  it('a record with it hashes it (changing it breaks the chain), and a malformed one never enters', () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const r = chainRecord('gw-1', 1, genesisHash('gw-1'), entry({ traceId }));
    expect(r.traceId).toBe(traceId);
    expect(r.hash).not.toBe('996b335daca1148a60f2254287e429d530b8f8f64820c0d98499f02fbdf1a290');
    expect(contentHash({ ...r, traceId: '0'.repeat(31) + '1' })).not.toBe(contentHash(r));
    for (const bad of ['0'.repeat(32), '4BF92F3577B34DA6A3CE929D0E0E4736', 'abc', `${traceId}00`]) {
      expect(chainRecord('gw-1', 1, genesisHash('gw-1'), entry({ traceId: bad })).traceId, bad).toBeUndefined();
    }
  });
});
