/**
 * Consistent HTTP semantics for integrators (issue 14): every error the gateway answers on
 * /graphql carries `extensions.reason` from the enum (gateway/core/reasons.ts) that maps back
 * to its `extensions.code`, on every refusal path this test can generate — those of the
 * graphql-http conformance audit (malformed requests, parse and validation failures,
 * coercion, CSRF) and the gateway's own (keys, limits, purpose, identifiers, rate, outages).
 * The audit itself (graphql-http's `serverAudits`) must pass every MUST; the SHOULDs that
 * fail are exactly those docs/INTEGRATION.md lists with the reason they stay.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { serverAudits, type AuditResult } from 'graphql-http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_REASONS, ERROR_TABLE, type ErrorCode } from '../gateway/core/errors.js';
import { isRefusalReason, REFUSAL_REASONS } from '../gateway/core/reasons.js';
import { QUIET_GATEWAY, startStack, type Stack } from './support/stack.js';

const GUIDE = readFileSync(path.join(import.meta.dirname, '..', 'docs/INTEGRATION.md'), 'utf8');

let stack: Stack;
/** Every GraphQL error body the gateway answered in this file, with how it was asked. */
const answered: Array<{ what: string; status: number; errors: Array<{ message: string; extensions?: Record<string, unknown> }> }> = [];

/** fetch that remembers each answer's errors (the body is read from a clone). */
function recordingFetch(what: string, extraHeaders: Record<string, string> = {}) {
  return async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const headers = new Headers(init?.headers);
    for (const [k, v] of Object.entries(extraHeaders)) headers.set(k, v);
    const res = await fetch(input, { ...init, headers });
    const text = await res.clone().text();
    try {
      const body = JSON.parse(text) as { errors?: Array<{ message: string; extensions?: Record<string, unknown> }> };
      if (Array.isArray(body.errors)) answered.push({ what, status: res.status, errors: body.errors });
    } catch {
      // Not JSON: nothing to check here (the audit checks the shape).
    }
    return res;
  };
}

beforeAll(async () => {
  stack = await startStack({ citizens: 300, gateway: QUIET_GATEWAY });
}, 120_000);
afterAll(async () => {
  await stack?.close();
});

describe('the reason enum covers the error table', () => {
  it('every code has a default reason that maps back to it, and every reason names a code of the table', () => {
    for (const code of Object.keys(ERROR_TABLE) as ErrorCode[]) {
      const reason = DEFAULT_REASONS[code];
      expect(isRefusalReason(reason), code).toBe(true);
      expect(REFUSAL_REASONS[reason], code).toBe(code);
    }
    for (const [reason, code] of Object.entries(REFUSAL_REASONS)) expect(Object.hasOwn(ERROR_TABLE, code), reason).toBe(true);
  });
});

describe('GraphQL over HTTP: the graphql-http server audit', () => {
  let results: Array<{ name: string; result: AuditResult }>;

  beforeAll(async () => {
    results = [];
    const fetchFn = recordingFetch('graphql-http audit', { authorization: `Bearer ${stack.demoKey}` });
    for (const audit of serverAudits({ url: stack.graphqlUrl, fetchFn })) results.push({ name: audit.name, result: await audit.fn() });
  }, 120_000);

  it('passes every MUST', () => {
    const must = results.filter((r) => r.name.startsWith('MUST'));
    expect(must.length).toBeGreaterThan(10);
    expect(must.filter((r) => r.result.status !== 'ok').map((r) => `${r.name}: ${'reason' in r.result ? r.result.reason : ''}`)).toEqual([]);
  });

  it('fails only the SHOULDs docs/INTEGRATION.md lists, each with why', () => {
    const failing = results.filter((r) => r.name.startsWith('SHOULD') && r.result.status !== 'ok').map((r) => r.name).sort();
    const start = GUIDE.indexOf('\n### GraphQL over HTTP conformance\n');
    expect(start, 'docs/INTEGRATION.md has a "GraphQL over HTTP conformance" section').toBeGreaterThan(-1);
    const rows = GUIDE.slice(start).split('\n').filter((l) => l.startsWith('| SHOULD'));
    const documented = rows.map((l) => l.split('|')[1]!.trim()).sort();
    expect(failing).toEqual(documented);
    for (const row of rows) expect(row.split('|')[2]!.trim().length, row).toBeGreaterThan(20);
    // The SHOULDs that pass are most of them.
    expect(results.filter((r) => r.name.startsWith('SHOULD') && r.result.status === 'ok').length).toBeGreaterThan(failing.length * 3);
  });
});

describe('every refusal carries a reason from the enum, matching its code', () => {
  const post = (what: string, body: unknown, headers: Record<string, string> = {}, key: string | null = stack.demoKey) =>
    recordingFetch(what, key ? { authorization: `Bearer ${key}` } : {})(stack.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  it('the gateway\'s own refusals and errors', async () => {
    const plainKey = stack.gateway.clients.demoCredentials().find((c) => c.clientId === 'demo-hcm')!.key;
    const citizen = stack.world.citizens.find((c) => !c.deceased)!;
    const who = `{ citizen(personalId: "${citizen.personalId}") { fullName } }`;
    const cases: Array<[string, () => Promise<Response>, number, string]> = [
      ['no key', () => post('no key', { query: '{ __typename }' }, {}, null), 401, 'API_KEY_INVALID'],
      ['unknown key', () => post('unknown key', { query: '{ __typename }' }, {}, 'not-a-key'), 401, 'API_KEY_INVALID'],
      ['body too large', () => post('body too large', { query: `{ __typename } # ${'x'.repeat(80_000)}` }), 413, 'REQUEST_LIMIT_EXCEEDED'],
      ['too deep', () => post('too deep', { query: `{ citizen(personalId: "${citizen.personalId}") { ${'father { '.repeat(14)}fullName${' }'.repeat(15)} }` }), 400, 'REQUEST_LIMIT_EXCEEDED'],
      ['no purpose', () => post('no purpose', { query: who }, {}, plainKey), 403, 'PURPOSE_MISSING'],
      ['unknown procedure', () => post('unknown procedure', { query: who }, { 'x-purpose': 'no-such-procedure' }, plainKey), 404, 'UNKNOWN_PROCEDURE'],
      ['malformed identifier', () => post('malformed identifier', { query: '{ citizen(personalId: "123") { fullName } }' }, { 'x-purpose': 'judicial-record-certificate' }, plainKey), 400, 'INVALID_IDENTIFIER'],
      // Variables that do not coerce are the policy's refusal: it cannot tell whom the request is about.
      ['variable coercion', () => post('variable coercion', { query: 'query Q($id: ID!) { citizen(personalId: $id) { fullName } }', variables: { id: { not: 'an id' } } }), 400, 'UNDECIDABLE_REQUEST'],
      ['syntax', () => post('syntax', { query: '{ citizen(' }), 400, 'SYNTAX_ERROR'],
      ['unknown field', () => post('unknown field', { query: '{ nope }' }), 400, 'INVALID_DOCUMENT'],
      ['operationName', () => post('operationName', { query: 'query A { __typename } query B { __typename }' }), 400, 'OPERATION_NOT_RESOLVED'],
      ['no query', () => post('no query', { variables: {} }), 400, 'MALFORMED_REQUEST'],
      ['malformed JSON', () => post('malformed JSON', '{"query": '), 400, 'MALFORMED_REQUEST'],
    ];
    for (const [what, send, status, reason] of cases) {
      const res = await send();
      const body = (await res.json()) as { errors?: Array<{ extensions?: Record<string, unknown> }> };
      expect(res.status, `${what}: ${JSON.stringify(body).slice(0, 300)}`).toBe(status);
      expect(body.errors?.[0]?.extensions?.reason, `${what}: ${JSON.stringify(body).slice(0, 300)}`).toBe(reason);
    }
  });

  it('a rate-limited client, and a partial answer while a registry is down', async () => {
    const gw = await stack.startGateway({ rateLimit: { ratePerSecond: 0.001, burst: 1 } });
    const send = () =>
      recordingFetch('rate limited', { authorization: `Bearer ${stack.demoKey}` })(gw.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ __typename }"}' });
    // The burst of 1 is spent within a few requests (refill is negligible at 0.001/s).
    let limited: Response | undefined;
    for (let i = 0; i < 5 && !limited; i++) {
      const res = await send();
      if (res.status === 429) limited = res;
      else expect(res.status).toBe(200);
    }
    expect(limited, 'a 429 after the burst').toBeDefined();
    if (!limited) return;
    expect(((await limited.json()) as { errors: Array<{ extensions: { reason: string } }> }).errors[0]!.extensions.reason).toBe('REQUEST_RATE_EXCEEDED');
    await gw.close();

    stack.setFaults('insurance', { outage: true });
    try {
      const citizen = stack.world.citizens.find((c) => !c.deceased && c.dateOfBirth < '2000-01-01')!;
      const res = await post('registry down', { query: `{ citizen(personalId: "${citizen.personalId}") { fullName socialInsurance { status } } }` });
      const body = (await res.json()) as { data?: unknown; errors?: Array<{ extensions?: Record<string, unknown> }> };
      expect(res.status).toBe(200);
      expect(body.errors?.map((e) => e.extensions?.reason)).toContain('REGISTRY_UNAVAILABLE');
    } finally {
      stack.setFaults('insurance', { outage: false });
    }
  });

  it('every error answered in this file (audit and own paths) has a reason of the enum, for its code', () => {
    expect(answered.length).toBeGreaterThan(40);
    const bad: string[] = [];
    for (const a of answered) {
      for (const e of a.errors) {
        const { code, reason } = e.extensions ?? {};
        if (!isRefusalReason(reason) || REFUSAL_REASONS[reason] !== code) bad.push(`${a.what} (${a.status}): code ${String(code)}, reason ${String(reason)}: ${e.message.slice(0, 120)}`);
      }
    }
    expect(bad).toEqual([]);
  });
});
