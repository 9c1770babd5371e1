/**
 * No personal data in any log line (issue 11, observation 6). The stack's gateway logs at
 * `info` into a captured stream while it serves a representative set of requests — GET
 * /graphql with variables in the URL, auditor searches (also with the personal ID wrongly
 * put in the URL), prefill, refusals, malformed bodies, an oversized body, a registry
 * outage — and then everything it wrote is scanned for the identifiers of the mocked world.
 *
 * The log stream also masks identifier-shaped digits as a last line of defence
 * (gateway/app.ts); the test requires that the mask never had to act, so a new leak (a
 * message carrying an ID) fails here instead of hiding behind the mask.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maskIdentifiers, redactQueryString } from '../lib/redact-url.js';
import type { CitizenRecord } from '../mocks/world/types.js';
import { QUIET_GATEWAY, startStack, type Stack } from './support/stack.js';

let stack: Stack;
let citizen: CitizenRecord;
let keys: { hcm: string; danang: string; auditor: string };

const CITIZEN_QUERY = 'query Citizen($personalId: ID!) { citizen(personalId: $personalId) { fullName permanentResidence { fullAddress } } }';

beforeAll(async () => {
  stack = await startStack({ citizens: 300, captureLog: 'info', gateway: QUIET_GATEWAY });
  const creds = stack.gateway.clients.demoCredentials();
  keys = {
    hcm: creds.find((c) => c.clientId === 'demo-hcm')!.key,
    danang: creds.find((c) => c.clientId === 'demo-danang')!.key,
    auditor: creds.find((c) => c.roles.includes('auditor'))!.key,
  };
  citizen = stack.world.citizens.find((c) => c.dateOfBirth < '2000-01-01' && !c.dateOfDeath)!;
});

afterAll(async () => {
  await stack?.close();
});

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

async function get(pathAndQuery: string, headers: Record<string, string> = {}): Promise<number> {
  const res = await fetch(`${stack.gatewayUrl}${pathAndQuery}`, { headers });
  await res.arrayBuffer();
  return res.status;
}

async function post(body: string, headers: Record<string, string> = {}): Promise<number> {
  const res = await fetch(stack.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  await res.arrayBuffer();
  return res.status;
}

describe('the request log keeps URLs without their query values', () => {
  it('redactQueryString keeps the path and parameter names only', () => {
    expect(redactQueryString('/graphql?query=%7Bx%7D&variables=%7B%22personalId%22%3A%22079203001234%22%7D')).toBe('/graphql?query=…&variables=…');
    expect(redactQueryString('/audit/v1/records?personalId=079203001234&limit=5')).toBe('/audit/v1/records?personalId=…&limit=…');
    expect(redactQueryString('/ready')).toBe('/ready');
    // A value smuggled into a parameter name is dropped too.
    expect(redactQueryString('/graphql?079203001234')).toBe('/graphql?…');
    expect(maskIdentifiers('{"msg":"citizen 079203001234 / 0312345678-001","time":1751356800123}')).toBe('{"msg":"citizen [id] / [id]","time":1751356800123}');
  });
});

describe('whole-stack: nothing the gateway logs names a citizen or an enterprise', () => {
  it('a representative set of requests leaves no personal ID, enterprise code or insurance number in the log', async () => {
    const pid = citizen.personalId;
    const enterprise = stack.world.enterprises[0]!;
    const variables = encodeURIComponent(JSON.stringify({ personalId: pid }));
    const query = encodeURIComponent(CITIZEN_QUERY);
    const graphGet = { ...bearer(keys.hcm), 'x-purpose': 'lodging-notification', 'apollo-require-preflight': 'true' };

    // GET /graphql with the personal ID in the URL (an accepted transport), served and refused.
    expect(await get(`/graphql?query=${query}&variables=${variables}`, graphGet)).toBe(200);
    expect(await get(`/graphql?query=${query}&variables=${variables}`, { 'apollo-require-preflight': 'true' })).toBe(401);
    expect(await get(`/graphql?query=${encodeURIComponent(`{ citizen(personalId: "${pid}") { fullName } }`)}`, graphGet)).toBe(200);
    // POST: served, refused by policy, prefill (found, unknown citizen, missing token), enterprise.
    expect(await post(JSON.stringify({ query: CITIZEN_QUERY, variables: { personalId: pid } }), { ...bearer(keys.hcm), 'x-purpose': 'lodging-notification' })).toBe(200);
    expect(await post(JSON.stringify({ query: CITIZEN_QUERY, variables: { personalId: pid } }), bearer(keys.hcm))).toBe(403);
    const prefill = (personalId: string) =>
      JSON.stringify({
        query: 'query P($s: SubjectInput!) { prefill(procedureId: "lodging-notification", subject: $s) { fields { key value } } }',
        variables: { s: { personalId } },
      });
    expect(await post(prefill(pid), bearer(keys.hcm))).toBe(200);
    const unknown = `${pid.slice(0, 6)}999999`;
    await post(prefill(unknown), bearer(keys.hcm)); // unknown citizen: refused inside the response
    expect(await post(prefill(pid), bearer(keys.danang))).toBe(403);
    await post(JSON.stringify({ query: `{ enterprise(enterpriseCode: "${enterprise.enterpriseCode}") { name } }` }), { ...bearer(keys.hcm), 'x-purpose': 'business-registration' });
    // Malformed and oversized bodies carrying the ID.
    expect(await post(`{"query":"{ citizen(personalId: \\"${pid}\\") { fullName } }"`, bearer(keys.hcm))).toBe(400);
    expect(await post(`{"query":"x","variables":{"personalId":"${pid}"},"pad":"${'x'.repeat(3_000_000)}"}`, bearer(keys.hcm))).toBe(413);
    // A registry outage (its error is logged by the gateway's data source).
    stack.setFaults('population', { outage: true });
    try {
      await post(JSON.stringify({ query: CITIZEN_QUERY, variables: { personalId: pid } }), { ...bearer(keys.hcm), 'x-purpose': 'lodging-notification' });
    } finally {
      stack.setFaults('population', { outage: false });
    }
    // The auditor API: the ID wrongly in the URL (refused), then properly in a header.
    expect(await get(`/audit/v1/records?personalId=${pid}`, bearer(keys.auditor))).toBe(400);
    expect(await get('/audit/v1/records?limit=5', { ...bearer(keys.auditor), 'x-subject-personal-id': pid })).toBe(200);
    expect(await get('/audit/v1/citizen-history', { ...bearer(keys.auditor), 'x-subject-personal-id': pid })).toBe(200);
    expect(await get('/audit/v1/export?format=csv', { ...bearer(keys.auditor), 'x-subject-personal-id': pid })).toBe(200);
    expect(await get(`/audit/v1/records?personalId=${pid}`)).toBe(401);

    const log = stack.logLines.join('');
    // The scan saw the request log: the URLs are there, without their values.
    expect(log).toContain('"url":"/graphql?query=…&variables=…"');
    expect(log).toContain('"url":"/audit/v1/records?personalId=…"');
    expect(log).not.toMatch(/variables=%7B|%22personalId%22/);

    const personal = new Set(stack.world.citizens.map((c) => c.personalId));
    const codes = new Set(stack.world.enterprises.map((e) => e.enterpriseCode));
    const insurance = new Set(stack.world.socialInsurance.map((s) => s.socialInsuranceNumber));
    const leaks = stack.logLines.filter((line) => {
      const digits = line.match(/[0-9]{10,12}(?:-[0-9]{3})?/g) ?? [];
      return digits.some((d) => personal.has(d) || codes.has(d) || insurance.has(d) || d === unknown) || line.includes(pid);
    });
    expect(leaks, leaks.join('\n')).toEqual([]);
    // The mask is a last line of defence: no line needed it.
    const masked = stack.logLines.filter((l) => l.includes('[id]'));
    expect(masked, masked.join('\n')).toEqual([]);
  });
});
