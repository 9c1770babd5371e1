/** Trusted documents: which requests of a restricted client are admitted, decided without parsing. */
import { describe, expect, it } from 'vitest';
import { admitOperation, admitRequest, documentHash, TrustedDocuments, TRUSTED_DOCUMENTS_FORMAT } from './trusted-documents.js';

const LODGING = 'query PrefillLodgingNotification($personalId: ID!) { citizen(personalId: $personalId) { fullName } }';
const PREFILL = 'query Prefill($procedureId: ID!, $subject: SubjectInput!) { prefill(procedureId: $procedureId, subject: $subject) { fields { key } } }';
const docs = new TrustedDocuments(
  [
    { sha256: documentHash(LODGING), name: 'PrefillLodgingNotification', procedureId: 'lodging-notification', kind: 'procedure-operation', query: LODGING },
    { sha256: documentHash(PREFILL), name: 'Prefill', kind: 'prefill', query: PREFILL },
  ],
  'test',
);

describe('admitOperation', () => {
  it('admits a registered document by documentId (with or without the sha256: prefix) and runs the registered text', () => {
    for (const documentId of [`sha256:${documentHash(LODGING)}`, documentHash(LODGING)]) {
      const op: Record<string, unknown> = { documentId, variables: { personalId: '001090000001' } };
      expect(admitOperation(op, docs)).toMatchObject({ ok: true, document: { name: 'PrefillLodgingNotification' } });
      expect(op).toEqual({ query: LODGING, variables: { personalId: '001090000001' } });
    }
  });

  it("admits Apollo's persisted-query form, and drops the extension so Apollo's own cache is never used", () => {
    const op: Record<string, unknown> = { extensions: { persistedQuery: { version: 1, sha256Hash: documentHash(PREFILL) } } };
    expect(admitOperation(op, docs).ok).toBe(true);
    expect(op).toEqual({ query: PREFILL, extensions: {} });
    // GET: extensions arrive as JSON text.
    const get: Record<string, unknown> = { extensions: JSON.stringify({ persistedQuery: { version: 1, sha256Hash: documentHash(PREFILL) } }) };
    expect(admitOperation(get, docs).ok).toBe(true);
    expect(get).toEqual({ query: PREFILL });
  });

  it('admits the exact registered text, with a matching hash or alone', () => {
    expect(admitOperation({ query: LODGING }, docs).ok).toBe(true);
    expect(admitOperation({ query: LODGING, documentId: `sha256:${documentHash(LODGING)}` }, docs).ok).toBe(true);
  });

  it('refuses free-form text, a changed registered text, an unknown hash, a hash with another text, and malformed ids', () => {
    const refused = (op: Record<string, unknown>) => {
      const v = admitOperation(op, docs);
      expect(v.ok, JSON.stringify(op)).toBe(false);
      return v.ok ? '' : v.message;
    };
    expect(refused({ query: '{ citizen(personalId: "001090000001") { fullName father { fullName } } }' })).toMatch(/not in this client's trusted documents/);
    expect(refused({ query: `${LODGING} ` })).toMatch(/not in this client's trusted documents/);
    expect(refused({ documentId: `sha256:${'0'.repeat(64)}` })).toMatch(/not in this client's trusted documents/);
    expect(refused({ documentId: `sha256:${documentHash(LODGING)}`, query: '{ __schema { types { name } } }' })).toMatch(/does not match the document hash/);
    expect(refused({ extensions: { persistedQuery: { version: 1, sha256Hash: documentHash(LODGING) } }, query: PREFILL })).toMatch(/does not match/);
    expect(refused({ documentId: 'PrefillLodgingNotification' })).toMatch(/documentId must be/);
    expect(refused({ documentId: `sha256:${documentHash(LODGING).toUpperCase()}` })).toMatch(/documentId must be/);
    expect(refused({ extensions: { persistedQuery: { version: 1 } } })).toMatch(/sha256Hash must be/);
    expect(refused({ extensions: '{not json' })).toMatch(/sha256Hash must be/);
    expect(refused({ query: 42 })).toMatch(/query must be a string/);
    expect(refused({ variables: {} })).toMatch(/names no operation/);
  });
});

describe('admitRequest', () => {
  it('checks every operation of a batch and the GET query string', () => {
    expect(admitRequest('POST', [{ query: LODGING }, { documentId: `sha256:${documentHash(PREFILL)}` }], undefined, docs).ok).toBe(true);
    expect(admitRequest('POST', [{ query: LODGING }, { query: '{ __typename }' }], undefined, docs).ok).toBe(false);
    expect(admitRequest('POST', [], undefined, docs).ok).toBe(false);
    expect(admitRequest('POST', 'query { x }', undefined, docs).ok).toBe(false);
    expect(admitRequest('POST', null, undefined, docs).ok).toBe(false);
    expect(admitRequest('GET', undefined, { query: '{ __typename }' }, docs).ok).toBe(false);
    const q = { documentId: `sha256:${documentHash(LODGING)}`, variables: '{"personalId":"001090000001"}' };
    expect(admitRequest('GET', undefined, q, docs).ok).toBe(true);
    expect(q).toMatchObject({ query: LODGING });
  });
});

describe('trusted-documents files', () => {
  it('refuse a document whose hash is not its text, and an unknown format', () => {
    expect(() => new TrustedDocuments([{ sha256: documentHash(PREFILL), name: 'x', kind: 'prefill', query: LODGING }], 'f.json')).toThrow(/not the SHA-256 of its query/);
    expect(() => TrustedDocuments.parse({ format: 'other/1', documents: [] }, 'f.json')).toThrow(/Invalid trusted-documents file f.json/);
    expect(TrustedDocuments.parse({ format: TRUSTED_DOCUMENTS_FORMAT, documents: [{ sha256: documentHash(LODGING), name: 'a', kind: 'k', query: LODGING }] }, 'f').size).toBe(1);
  });
});
