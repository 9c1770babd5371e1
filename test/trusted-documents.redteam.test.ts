/**
 * Red team (issue 10, trusted documents): over GET, Apollo reads the operation from the URL,
 * not from the parsed query string the trusted-documents check rewrote. A restricted client
 * could therefore not run a registered operation by `documentId` over GET (an accepted
 * transport), and the persisted-query hash of a GET went on to Apollo's own APQ cache (which
 * the documentation says is never consulted for such clients). What runs must be exactly
 * what was admitted, whatever the transport.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from './support/stack.js';
import { startTrustedDocumentsStack, type TrustedDocumentsStack } from './support/trusted-documents-stack.js';
import { QUIET_GATEWAY } from './support/stack.js';

let fixture: TrustedDocumentsStack;
let stack: Stack;
let KEY: string;
let personalId: string;
let lodging: TrustedDocumentsStack['lodging'];

beforeAll(async () => {
  fixture = await startTrustedDocumentsStack({ procedures: ['lodging-notification'], gateway: QUIET_GATEWAY });
  ({ stack, key: KEY, personalId, lodging } = fixture);
}, 120_000);
afterAll(async () => {
  await fixture?.close();
});

const get = async (params: Record<string, string>) => {
  const res = await fetch(`${stack.graphqlUrl}?${new URLSearchParams(params)}`, {
    headers: { authorization: `Bearer ${KEY}`, 'apollo-require-preflight': '1', 'x-purpose': 'lodging-notification' },
  });
  return { status: res.status, body: (await res.json()) as { data?: { citizen?: { fullName: string } }; errors?: Array<{ message: string; extensions?: { code?: string } }> } };
};

describe('a client restricted to trusted documents, over GET', () => {
  const name = () => stack.world.citizens.find((c) => c.personalId === personalId)!.fullName;

  it('runs the registered operation named by documentId', async () => {
    const r = await get({ documentId: `sha256:${lodging.sha256}`, variables: JSON.stringify({ personalId }) });
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data?.citizen?.fullName).toBe(name());
  });

  it("runs it by persisted-query hash without Apollo's APQ cache (which has never seen it)", async () => {
    const r = await get({ extensions: JSON.stringify({ persistedQuery: { version: 1, sha256Hash: lodging.sha256 } }), variables: JSON.stringify({ personalId }) });
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data?.citizen?.fullName).toBe(name());
  });

  it('still refuses a hash sent with another text, and free-form text', async () => {
    for (const params of <Array<Record<string, string>>>[
      { documentId: `sha256:${lodging.sha256}`, query: '{ __typename }' },
      { query: `{ citizen(personalId: "${personalId}") { fullName father { fullName } } }` },
    ]) {
      const r = await get(params);
      expect(r.status).toBe(403);
      expect(r.body.errors?.[0]?.extensions?.code).toBe('DOCUMENT_NOT_TRUSTED');
    }
  });
});
