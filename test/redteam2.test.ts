/**
 * Red team, round 2 (whole stack), as a client with a valid key. Every test here either
 * failed before its fix or pins a claim of docs/SECURITY.md that had no test.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningGateway } from '../gateway/app.js';
import type { CitizenRecord } from '../mocks/world/types.js';
import { writeClientsFile, type ClientsFixture } from './support/security-fixtures.js';
import type { Stack } from './support/stack.js';
import { startProductionGateway, startStackForClients, type ProductionGateway } from './support/client-stack.js';
import { QUIET_GATEWAY } from './support/stack.js';

let stack: Stack;
let clients: ClientsFixture;
let a: CitizenRecord;
let b: CitizenRecord;

beforeAll(async () => {
  clients = writeClientsFile([
    { id: 'plain', procedures: ['lodging-notification'] },
    { id: 'explorer', procedures: ['*'], permissions: ['explore'] },
  ]);
  stack = await startStackForClients(clients, {
    ...QUIET_GATEWAY,
    // An operator raised the batch limit (docs/SECURITY.md: limits).
    limits: { maxBatchedOperations: 4 },
  });
  const living = stack.world.citizens.filter((c) => !c.deceased && c.permanentResidence);
  a = living[0]!;
  b = living.find((c) => c.personalId !== a.personalId && c.householdId !== a.householdId)!;
}, 120_000);
afterAll(async () => {
  await stack?.close();
  clients?.cleanup();
});

function lodging(personalId: string) {
  const op = stack.gateway.services.need('procedures').operation('lodging-notification')!;
  return { query: op.query, operationName: op.operationName, variables: { personalId } };
}

async function post(url: string, body: unknown, key: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, ...headers }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as unknown };
}

type Single = { data?: unknown; errors?: Array<{ extensions?: { code?: string; reason?: string } }> };

describe('batched operations, when an operator raises maxBatchedOperations', () => {
  // Apollo Server shallow-copies the context per operation of a batch: the subject and the
  // trace (returned entities) are shared, so one operation's response check and audit record
  // were decided on the other operations' subjects and entities.
  it('refuses a batch of purpose-bound operations: each would be checked against the others\' subjects', async () => {
    const r = await post(stack.graphqlUrl, [lodging(a.personalId), lodging(b.personalId)], clients.keys.plain!, { 'x-purpose': 'lodging-notification' });
    const answers = r.body as Single[];
    expect(Array.isArray(answers)).toBe(true);
    for (const one of answers) {
      expect(one.data ?? null).toBeNull();
      expect(one.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'BATCHED_PURPOSE' });
    }
    expect(JSON.stringify(r.body)).not.toContain(a.fullName);
    expect(JSON.stringify(r.body)).not.toContain(b.fullName);
  });

  it('refuses prefill in a batch, and registry reads by an explorer too', async () => {
    const prefill = { query: 'query P($s: SubjectInput!) { prefill(procedureId: "lodging-notification", subject: $s) { summary { fieldsTotal } } }', variables: { s: { personalId: a.personalId } } };
    const r1 = await post(stack.graphqlUrl, [prefill, prefill], clients.keys.plain!);
    for (const one of r1.body as Single[]) expect(one.errors?.[0]?.extensions?.reason).toBe('BATCHED_PURPOSE');
    const q = { query: `{ citizen(personalId: "${a.personalId}") { fullName } }` };
    const r2 = await post(stack.graphqlUrl, [q, q], clients.keys.explorer!);
    for (const one of r2.body as Single[]) expect(one.errors?.[0]?.extensions?.reason).toBe('BATCHED_PURPOSE');
  });

  it('still answers a batch of catalog reads (no purpose, no personal data)', async () => {
    const r = await post(stack.graphqlUrl, [{ query: '{ procedures { id } }' }, { query: '{ procedures { id } }' }], clients.keys.plain!);
    expect(r.status).toBe(200);
    for (const one of r.body as Single[]) expect(one.errors).toBeUndefined();
  });

  it('a single operation (not an array) is unaffected', async () => {
    const r = await post(stack.graphqlUrl, lodging(a.personalId), clients.keys.plain!, { 'x-purpose': 'lodging-notification' });
    expect(r.status).toBe(200);
    expect(JSON.stringify(r.body)).toContain(a.fullName);
  });
});

describe('GET /graphql with both a query string and a body', () => {
  it('runs (and checks) only the query string: a body cannot smuggle another operation past the policy, or be what the policy checked', async () => {
    const sneaky = encodeURIComponent(`{ citizen(personalId: "${b.personalId}") { fullName religion } }`);
    const r = await stack.gateway.app.inject({
      method: 'GET',
      url: `/graphql?query=${sneaky}`,
      headers: { authorization: `Bearer ${clients.keys.plain!}`, 'x-purpose': 'lodging-notification', 'apollo-require-preflight': '1', 'content-type': 'application/json' },
      payload: JSON.stringify(lodging(a.personalId)),
    });
    expect(r.statusCode).toBe(403);
    expect(r.body).not.toContain(b.fullName);
    expect(JSON.parse(r.body).errors[0].extensions.reason).toBe('FIELDS_NOT_ALLOWED');
    // The reverse: an allowed query string, a disallowed body. The query string is what runs.
    const allowed = lodging(a.personalId);
    const qs = `query=${encodeURIComponent(allowed.query)}&operationName=${allowed.operationName}&variables=${encodeURIComponent(JSON.stringify(allowed.variables))}`;
    const r2 = await stack.gateway.app.inject({
      method: 'GET',
      url: `/graphql?${qs}`,
      headers: { authorization: `Bearer ${clients.keys.plain!}`, 'x-purpose': 'lodging-notification', 'apollo-require-preflight': '1', 'content-type': 'application/json' },
      payload: JSON.stringify({ query: `{ citizen(personalId: "${b.personalId}") { fullName religion } }` }),
    });
    expect(r2.statusCode).toBe(200);
    expect(r2.body).toContain(a.fullName);
    expect(r2.body).not.toContain(b.fullName);
  });
});

describe("'*' procedures and the explore permission in production", () => {
  let prodGateway: ProductionGateway;
  let prod: RunningGateway;
  let prodClients: ClientsFixture;
  beforeAll(async () => {
    prodClients = writeClientsFile([
      { id: 'star', procedures: ['*'] },
      { id: 'star-explorer', procedures: ['*'], permissions: ['explore'] },
    ]);
    prodGateway = await startProductionGateway(stack, prodClients, QUIET_GATEWAY);
    prod = prodGateway.gateway;
  }, 120_000);
  afterAll(async () => {
    await prodGateway?.close();
    prodClients?.cleanup();
  });

  it("refuses X-Purpose, prefill and free queries for a client whose procedures are ['*'], explore or not", async () => {
    for (const key of [prodClients.keys.star!, prodClients.keys['star-explorer']!]) {
      const plain = await post(prod.graphqlUrl, lodging(a.personalId), key, { 'x-purpose': 'lodging-notification' });
      expect([plain.status, (plain.body as Single).errors?.[0]?.extensions?.reason]).toEqual([403, 'PROCEDURE_NOT_ALLOWED']);
      const prefill = await post(prod.graphqlUrl, { query: 'query P($s: SubjectInput!) { prefill(procedureId: "lodging-notification", subject: $s) { summary { fieldsTotal } } }', variables: { s: { personalId: a.personalId } } }, key);
      expect([prefill.status, (prefill.body as Single).errors?.[0]?.extensions?.reason]).toEqual([403, 'PROCEDURE_NOT_ALLOWED']);
      const free = await post(prod.graphqlUrl, { query: `{ citizen(personalId: "${a.personalId}") { fullName religion } }` }, key);
      expect(free.status).toBe(403);
      expect(JSON.stringify(free.body)).not.toContain(a.fullName);
    }
  });

  it('closes /metrics in production when no METRICS_TOKEN is set: a client key, or none, cannot read every agency\'s counts', async () => {
    for (const headers of [{}, { authorization: `Bearer ${prodClients.keys.star!}` }] as Record<string, string>[]) {
      const res = await fetch(new URL('/metrics', prod.graphqlUrl), { headers });
      expect(res.status).toBe(403);
      const body = (await res.json()) as { message: string };
      expect(body.message).toMatch(/METRICS_TOKEN/);
    }
  });
});
