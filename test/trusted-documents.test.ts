/**
 * Trusted documents through the whole stack: a TTHC client restricted to the
 * documents generated from the catalog runs its procedure's operation and prefill
 * by hash, and everything else is refused with 403 DOCUMENT_NOT_TRUSTED before
 * any parsing (a syntax error or an alias bomb gets the same refusal, not a parse
 * or limit error); an unrestricted (explore) client still sends free-form queries.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { documentHash } from '../gateway/auth/trusted-documents.js';
import { PREFILL_DOCUMENT } from '../scripts/generate-documents.js';
import type { Stack } from './support/stack.js';
import { startTrustedDocumentsStack, type TrustedDocumentsStack } from './support/trusted-documents-stack.js';

let fixture: TrustedDocumentsStack;
let stack: Stack;
let KEY: string;
let personalId: string;
let lodging: TrustedDocumentsStack['lodging'];

beforeAll(async () => {
  fixture = await startTrustedDocumentsStack({ procedures: ['lodging-notification', 'social-insurance-lump-sum'] });
  ({ stack, key: KEY, personalId, lodging } = fixture);
});
afterAll(async () => {
  await fixture?.close();
});

const asRestricted = (body: unknown, headers: Record<string, string> = {}) =>
  fetch(stack.graphqlUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}`, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  }).then(async (r) => ({ status: r.status, body: (await r.json()) as { data?: Record<string, unknown>; errors?: Array<{ message: string; extensions?: { code?: string } }> } }));

describe('a client restricted to trusted documents', () => {
  it("runs its procedure's operation by documentId, with its purpose", async () => {
    const r = await asRestricted({ documentId: `sha256:${lodging.sha256}`, variables: { personalId } }, { 'x-purpose': 'lodging-notification' });
    expect(r.body.errors).toBeUndefined();
    expect(r.status).toBe(200);
    const citizen = r.body.data!.citizen as { fullName: string };
    expect(citizen.fullName).toBe(stack.world.citizens.find((c) => c.personalId === personalId)!.fullName);
  });

  it("runs prefill by Apollo's persisted-query hash", async () => {
    const r = await asRestricted({
      extensions: { persistedQuery: { version: 1, sha256Hash: documentHash(PREFILL_DOCUMENT) } },
      variables: { procedureId: 'social-insurance-lump-sum', subject: { personalId } },
    });
    expect(r.body.errors).toBeUndefined();
    expect((r.body.data!.prefill as { fields: unknown[] }).fields.length).toBeGreaterThan(0);
  });

  it('is refused anything else, before parsing: free-form, introspection, a syntax error, an alias bomb, a mismatched hash', async () => {
    const bomb = `{ ${Array.from({ length: 500 }, (_, i) => `a${i}: __typename`).join(' ')} }`;
    const attempts: unknown[] = [
      { query: `{ citizen(personalId: "${personalId}") { fullName father { fullName spouse { fullName } } } }` },
      { query: '{ __schema { types { name } } }' },
      { query: '{{{ not graphql' },
      { query: bomb },
      { documentId: `sha256:${lodging.sha256}`, query: '{ __typename }' },
      { documentId: `sha256:${'f'.repeat(64)}` },
      [{ documentId: `sha256:${lodging.sha256}`, variables: { personalId } }, { query: '{ __typename }' }],
    ];
    for (const body of attempts) {
      const r = await asRestricted(body, { 'x-purpose': 'lodging-notification' });
      expect({ body, status: r.status, code: r.body.errors?.[0]?.extensions?.code }).toEqual({ body, status: 403, code: 'DOCUMENT_NOT_TRUSTED' });
      expect(r.body.data).toBeUndefined();
      expect(r.body.errors?.[0]?.message).toMatch(/registered operations \(trusted documents\)/);
    }
  });

  it('is refused over GET too', async () => {
    const res = await fetch(`${stack.graphqlUrl}?query=${encodeURIComponent('{ __typename }')}`, { headers: { authorization: `Bearer ${KEY}`, 'apollo-require-preflight': '1' } });
    expect(res.status).toBe(403);
  });
});

describe('an unrestricted development client (explore)', () => {
  it('still sends free-form queries', async () => {
    const r = await stack.query(`{ citizen(personalId: "${personalId}") { fullName } }`);
    expect(r.body.errors).toBeUndefined();
    expect(r.status).toBe(200);
  });
});
