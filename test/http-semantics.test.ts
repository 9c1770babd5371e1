/**
 * Consistent HTTP semantics for integrators (issue 14): a refusal made inside `prefill`
 * answers with the same status and body as the same refusal of a plain query, and every
 * refusal on /graphql — also those made before Apollo Server, such as 401 — is typed
 * `application/graphql-response+json` when the client asks for it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphqlResponseType } from '../gateway/core/errors.js';
import { indexWorld } from '../mocks/world/generate.js';
import { startStack, type GraphQLResult, type Stack } from './support/stack.js';

let stack: Stack;
/** A demo client WITHOUT the explore permission: its plain queries are held to their X-Purpose. */
let plainKey: string;

beforeAll(async () => {
  stack = await startStack();
  plainKey = stack.gateway.clients.demoCredentials().find((c) => c.clientId === 'demo-hcm')!.key;
}, 120_000);
afterAll(async () => {
  await stack?.close();
});

const PREFILL = 'query P($p: ID!, $s: SubjectInput!) { prefill(procedureId: $p, subject: $s) { summary { fieldsTotal } } }';
const prefill = (procedureId: string, subject: Record<string, string>) =>
  stack.query({ query: PREFILL, variables: { p: procedureId, s: subject } }, { key: plainKey });
const plain = (query: string, purpose: string) => stack.query(query, { key: plainKey, headers: { 'x-purpose': purpose } });

/** The body without development stack traces (they name the throwing function, which differs). */
function comparable(r: GraphQLResult): unknown {
  return JSON.parse(JSON.stringify(r.body), (k, v: unknown) => (k === 'stacktrace' ? undefined : v));
}

/** A refused request's body: errors with message and extensions only, no data, no path. */
function expectRequestRefusal(r: GraphQLResult, status: number, code: string, reason: string): void {
  expect(r.status, JSON.stringify(r.body)).toBe(status);
  expect(Object.keys(r.body)).toEqual(['errors']);
  for (const e of r.body.errors!) expect(Object.keys(e).sort()).toEqual(['extensions', 'message']);
  expect(r.body.errors![0]!.extensions).toMatchObject({ code, reason });
  expect(r.body.errors![0]!.extensions).not.toHaveProperty('serviceName');
}

describe('a refusal inside prefill is the same refusal as in a plain query', () => {
  it('FORBIDDEN SUBJECT_NOT_RELATED: same status, same body', async () => {
    const { world } = stack;
    const x = indexWorld(world);
    const citizen = world.citizens.find((c) => !c.deceased && c.dateOfBirth < '2000-01-01' && (x.rolesByPerson.get(c.personalId)?.roles.length ?? 0) === 0)!;
    const enterprise = world.enterprises.find((e) => e.status === 'ACTIVE')!;
    const procedure = 'enterprise-legal-representative-change';
    const viaPrefill = await prefill(procedure, { personalId: citizen.personalId, enterpriseCode: enterprise.enterpriseCode });
    const viaQuery = await plain(`{ citizen(personalId: "${citizen.personalId}") { personalId } enterprise(enterpriseCode: "${enterprise.enterpriseCode}") { enterpriseCode } }`, procedure);
    expectRequestRefusal(viaPrefill, 403, 'FORBIDDEN', 'SUBJECT_NOT_RELATED');
    expectRequestRefusal(viaQuery, 403, 'FORBIDDEN', 'SUBJECT_NOT_RELATED');
    expect(comparable(viaPrefill)).toEqual(comparable(viaQuery));
  });

  it('NOT_FOUND UNKNOWN_PROCEDURE: same status, same body', async () => {
    const citizen = stack.world.citizens[0]!;
    const viaPrefill = await prefill('no-such-procedure', { personalId: citizen.personalId });
    const viaQuery = await plain(`{ citizen(personalId: "${citizen.personalId}") { fullName } }`, 'no-such-procedure');
    expectRequestRefusal(viaPrefill, 404, 'NOT_FOUND', 'UNKNOWN_PROCEDURE');
    expectRequestRefusal(viaQuery, 404, 'NOT_FOUND', 'UNKNOWN_PROCEDURE');
    expect(comparable(viaPrefill)).toEqual(comparable(viaQuery));
  });

  it('BAD_USER_INPUT INVALID_IDENTIFIER: same status, same shape and reason', async () => {
    const viaPrefill = await prefill('judicial-record-certificate', { personalId: '123' });
    const viaQuery = await plain('{ citizen(personalId: "123") { fullName } }', 'judicial-record-certificate');
    expectRequestRefusal(viaPrefill, 400, 'BAD_USER_INPUT', 'INVALID_IDENTIFIER');
    expectRequestRefusal(viaQuery, 400, 'BAD_USER_INPUT', 'INVALID_IDENTIFIER');
    // Both name the format rule (the plain query's message also names the field it came from).
    expect(viaQuery.body.errors![0]!.message).toContain(viaPrefill.body.errors![0]!.message);
  });

  it('prefill-only refusals use the same shape: SUBJECTS_DO_NOT_FIT_PROCEDURE, CITIZEN_NOT_FOUND', async () => {
    const { world } = stack;
    const citizen = world.citizens.find((c) => !c.deceased)!;
    const superfluous = await prefill('judicial-record-certificate', { personalId: citizen.personalId, enterpriseCode: world.enterprises[0]!.enterpriseCode });
    expectRequestRefusal(superfluous, 400, 'BAD_USER_INPUT', 'SUBJECTS_DO_NOT_FIT_PROCEDURE');
    const known = new Set(world.citizens.map((c) => c.personalId));
    const unknown = ['001099999999', '001099999998', '001099999997'].find((id) => !known.has(id))!;
    expectRequestRefusal(await prefill('judicial-record-certificate', { personalId: unknown }), 404, 'NOT_FOUND', 'CITIZEN_NOT_FOUND');
  });

  it('a successful prefill keeps its data and 200', async () => {
    const citizen = stack.world.citizens.find((c) => !c.deceased && c.dateOfBirth < '2000-01-01')!;
    const ok = await prefill('judicial-record-certificate', { personalId: citizen.personalId });
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect(ok.body.data).toMatchObject({ prefill: { summary: { fieldsTotal: expect.any(Number) } } });
  });
});

describe('refusals made before Apollo Server are typed like its own responses', () => {
  const post = (headers: Record<string, string>) =>
    fetch(stack.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: '{"query":"{ __typename }"}' });

  it('401 is application/graphql-response+json when the client accepts it, with WWW-Authenticate', async () => {
    const res = await post({ accept: 'application/graphql-response+json' });
    expect(res.status).toBe(401);
    expect(res.headers.get('content-type')).toBe('application/graphql-response+json; charset=utf-8');
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(((await res.json()) as { errors: Array<{ extensions: { code: string } }> }).errors[0]!.extensions.code).toBe('UNAUTHENTICATED');
  });

  it('401 stays application/json for legacy clients, as Apollo Server answers them', async () => {
    for (const accept of [undefined, 'application/json', '*/*', 'application/json, application/graphql-response+json', 'application/graphql-response+json;q=0.5, application/json']) {
      const res = await post(accept ? { accept } : {});
      expect(res.status).toBe(401);
      expect(res.headers.get('content-type'), String(accept)).toBe('application/json; charset=utf-8');
    }
  });

  it('an authenticated refusal inside Apollo uses the same negotiation (the rule is Apollo\'s)', async () => {
    for (const accept of ['application/graphql-response+json', 'application/json', 'application/graphql-response+json, application/json', 'application/json, application/graphql-response+json']) {
      const res = await fetch(stack.graphqlUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept, authorization: `Bearer ${plainKey}` },
        body: JSON.stringify({ query: '{ citizen(personalId: "123") { fullName } }' }),
      });
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type'), accept).toBe(graphqlResponseType(accept));
    }
  });
});
