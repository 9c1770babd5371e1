/**
 * The integrator's guide (docs/INTEGRATION.md) runs: its examples (docs/examples/*.ts)
 * are imported and run here against the real stack, and what the guide claims about
 * them is checked — per-request purposes reach the gateway and the audit trail, and
 * Apollo's default cache-first would answer a second purpose with no request at all.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as apollo from '../docs/examples/apollo-client.js';
import * as gqlRequest from '../docs/examples/graphql-request.js';
import { motlanQuery } from '../docs/examples/fetch.js';
import { startStack, type Stack } from './support/stack.js';

let stack: Stack;
/** A demo client without the explore permission: held to its purposes like a real one. */
let key: string;
let adult: Stack['world']['citizens'][number];
const PURPOSES = ['judicial-record-certificate', 'passport-issuance'] as const;

beforeAll(async () => {
  stack = await startStack();
  key = stack.gateway.clients.demoCredentials().find((c) => c.clientId === 'demo-hcm')!.key;
  adult = stack.world.citizens.find((c) => !c.deceased && c.dateOfBirth < '2000-01-01')!;
}, 120_000);
afterAll(async () => {
  await stack?.close();
});

const audited = (procedureId: string) => stack.gateway.services.need('audit').store.count({ procedureId, clientId: 'demo-hcm' });

/** A fetch that counts the requests Apollo Client really sends. */
function countingFetch(): { fetch: typeof fetch; sent: () => number } {
  let n = 0;
  return { fetch: (input, init) => { n++; return fetch(input, init); }, sent: () => n };
}

describe('Apollo Client 4 (docs/examples/apollo-client.ts)', () => {
  it('sends X-Purpose and X-Dossier-Id per request; no-cache makes each purpose a request with its own audit record', async () => {
    const counter = countingFetch();
    const client = apollo.motlanClient(stack.graphqlUrl, key, counter.fetch);
    const before = await Promise.all(PURPOSES.map(audited));
    for (const [i, purpose] of PURPOSES.entries()) {
      const citizen = await apollo.citizenForProcedure(client, adult.personalId, purpose, `HS-2025-00000${i + 1}`);
      expect(citizen).toMatchObject({ personalId: adult.personalId, fullName: adult.fullName });
    }
    expect(counter.sent()).toBe(2);
    const after = await Promise.all(PURPOSES.map(audited));
    expect(after.map((n, i) => n - before[i]!)).toEqual([1, 1]);
  });

  it('normalizes citizens by personalId (typePolicies keyFields)', async () => {
    const client = apollo.motlanClient(stack.graphqlUrl, key);
    await apollo.citizenCacheFirst(client, adult.personalId, PURPOSES[0]);
    expect(client.cache.extract()).toHaveProperty(`Citizen:${JSON.stringify({ personalId: adult.personalId })}`);
  });

  it('why the guide says no-cache: cache-first answers a second purpose from the cache, unsent and unaudited', async () => {
    const counter = countingFetch();
    const client = apollo.motlanClient(stack.graphqlUrl, key, counter.fetch);
    const before = await audited(PURPOSES[1]);
    await apollo.citizenCacheFirst(client, adult.personalId, PURPOSES[0]);
    const second = await apollo.citizenCacheFirst(client, adult.personalId, PURPOSES[1]);
    expect(second?.fullName).toBe(adult.fullName); // the data is shown…
    expect(counter.sent()).toBe(1); // …but the second purpose never reached the gateway
    expect(await audited(PURPOSES[1])).toBe(before); // and no record says it was read for it
  });
});

describe('graphql-request 7 (docs/examples/graphql-request.ts)', () => {
  it('prefills a form and reads a citizen for a purpose given per request', async () => {
    const client = gqlRequest.motlanClient(stack.graphqlUrl, key);
    const form = await gqlRequest.prefillForm(client, 'judicial-record-certificate', adult.personalId, 'HS-2025-000003');
    expect(form.fields.find((f) => f.key === 'hoTen')?.value).toBe(adult.fullName);
    expect(form.summary.fieldsPrefilled).toBeGreaterThan(0);
    expect(await gqlRequest.citizenName(client, adult.personalId, PURPOSES[0])).toBe(adult.fullName);
  });

  it('reads a refusal\'s status, code and reason', async () => {
    const client = gqlRequest.motlanClient(stack.graphqlUrl, key);
    expect(await gqlRequest.refusalOf(gqlRequest.prefillForm(client, 'no-such-procedure', adult.personalId, 'HS-1'))).toEqual({ status: 404, code: 'NOT_FOUND', reason: 'UNKNOWN_PROCEDURE' });
    expect(await gqlRequest.refusalOf(gqlRequest.citizenName(client, '123', PURPOSES[0]))).toEqual({ status: 400, code: 'BAD_USER_INPUT', reason: 'INVALID_IDENTIFIER' });
  });
});

describe('plain fetch (docs/examples/fetch.ts)', () => {
  it('answers with data, status and the request id the audit record is found by', async () => {
    const r = await motlanQuery<{ citizen: { fullName: string } }>(stack.graphqlUrl, key, 'query Q($id: ID!) { citizen(personalId: $id) { fullName } }', { id: adult.personalId }, { procedureId: PURPOSES[0], dossierId: 'HS-2025-000004' });
    expect(r.status).toBe(200);
    expect(r.data?.citizen.fullName).toBe(adult.fullName);
    const record = await stack.gateway.services.need('audit').store.byRequestId(r.requestId!);
    expect(record).toMatchObject({ procedureId: PURPOSES[0], dossierId: 'HS-2025-000004' });
  });

  it('a request without a purpose is refused with PURPOSE_MISSING', async () => {
    const r = await motlanQuery(stack.graphqlUrl, key, 'query Q($id: ID!) { citizen(personalId: $id) { fullName } }', { id: adult.personalId });
    expect(r.status).toBe(403);
    expect(r.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'PURPOSE_MISSING' });
  });
});
