/**
 * The response cache on the hit path (gateway/cache/response-cache.ts), over the whole stack:
 *
 * - a repeat is answered without planning, executing or calling a registry, and audited with
 *   `cache: hit` and the entities the cached response carried;
 * - no hit is ever served to a request the policy would refuse (another client, another
 *   purpose, another subject, a missing or foreign subject token, an unknown key): checked
 *   case by case, and by a generated test against a twin gateway with the cache off;
 * - a registry change evicts every cached response carrying the changed record, for literal
 *   and variable arguments alike, and for a related record (a father) as well as the subject.
 *
 * Two gateways over one stack: `plain` (the stack's own, cache off) and `cached`.
 */
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningGateway } from '../gateway/app.js';
import type { AuditRecord } from '../gateway/audit/record.js';
import { startEidIssuer, type StartedEidIssuer } from '../mocks/eid/issuer.js';
import type { CitizenRecord } from '../mocks/world/types.js';
import { eventually, gql, patchRecord, type Answer } from './support/cache-support.js';
import { clientGatewayOptions, GENEROUS_RATE_LIMIT } from './support/client-stack.js';
import { deleteRedisKeys, redisAnswers, writeClientsFile, type ClientsFixture } from './support/security-fixtures.js';
import { startStack, type Stack } from './support/stack.js';

/** Two procedures: the judicial record reads the citizen and the parents, the lodging notification the citizen only. */
const P = 'judicial-record-certificate';
const P2 = 'lodging-notification';

const WITH_FATHER = /* GraphQL */ `
  query WithFather($id: ID!) { citizen(personalId: $id) { fullName father { fullName } } }
`;
const literal = (id: string) => `query Literal { citizen(personalId: "${id}") { fullName father { fullName } } }`;

let stack: Stack;
let eid: StartedEidIssuer;
let clients: ClientsFixture;
let plain: RunningGateway;
let cached: RunningGateway;
/** Adults with a recorded father, handed out so no two tests share one. */
let pool: CitizenRecord[];
const take = (): CitizenRecord => {
  const c = pool.shift();
  if (!c) throw new Error('The test world has too few citizens with a recorded father: raise `citizens`.');
  return c;
};

beforeAll(async () => {
  eid = await startEidIssuer({ port: 0 });
  clients = writeClientsFile([
    { id: 'a', procedures: [P, P2] },
    { id: 'b', procedures: [P] },
    { id: 'narrow', procedures: [P2] },
    { id: 'consent', procedures: [P], requireSubjectToken: true },
  ]);
  const common = clientGatewayOptions(clients, eid.jwksUrl);
  stack = await startStack({ citizens: 300, gateway: common });
  plain = stack.gateway;
  cached = await stack.startGateway({ ...common, cache: {} });
  await cached.services.need('cache').feedsConnected();
  const byId = new Map(stack.world.citizens.map((c) => [c.personalId, c]));
  pool = stack.world.citizens.filter((c) => !c.deceased && c.fatherId && byId.has(c.fatherId));
}, 120_000);

afterAll(async () => {
  await stack?.close();
  await eid?.close();
  clients?.cleanup();
});

const as = (client: string, headers: Record<string, string> = {}) => ({ key: clients.keys[client]!, headers });
const token = (personalId: string, procedureId = P) => eid.issueSubjectToken({ personalId, procedureId });

/** `motlan_response_cache_<name>_total` of a gateway. */
async function counter(gw: RunningGateway, name: 'hits' | 'misses' | 'stores' | 'evictions'): Promise<number> {
  const text = await (await fetch(`${gw.url}/metrics`)).text();
  let n = 0;
  for (const m of text.matchAll(new RegExp(`^motlan_response_cache_${name}_total(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))) n += Number(m[1]);
  return n;
}

/** Registry API calls so far, all registries and collections. */
function registryCalls(): number {
  let n = 0;
  for (const r of ['population', 'insurance', 'land', 'enterprise'] as const) {
    for (const v of Object.values(stack.registries.stats(r).requests ?? {})) n += v;
  }
  return n;
}

/** Sends and returns the answer with the audit record the gateway wrote for it. */
async function audited(gw: RunningGateway, body: { query: string; variables?: Record<string, unknown> }, opts: { key: string; headers?: Record<string, string> }): Promise<Answer & { record: AuditRecord }> {
  const res = await fetch(gw.graphqlUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${opts.key}`, ...opts.headers },
    body: JSON.stringify(body),
  });
  const answer = { status: res.status, body: (await res.json()) as Answer['body'] };
  // The record is durable before the response leaves (gateway/audit).
  const record = await gw.services.need('audit').store.byRequestId(res.headers.get('x-request-id')!);
  expect(record, 'an audit record for every request').not.toBeNull();
  return { ...answer, record: record! };
}

describe('the hit path', () => {
  it('answers a repeat without calling a registry, audited as a hit with the entities it returned', async () => {
    const c = take();
    const q = { query: WITH_FATHER, variables: { id: c.personalId } };
    const first = await audited(cached, q, as('a', { 'x-purpose': P }));
    expect(first.status).toBe(200);
    expect(first.body.errors).toBeUndefined();
    expect(first.body.data?.citizen.fullName).toBe(c.fullName);
    expect(first.record.cache).toBeUndefined();

    const [hits, calls] = [await counter(cached, 'hits'), registryCalls()];
    const second = await audited(cached, q, as('a', { 'x-purpose': P, 'x-dossier-id': 'H01.01-TEST-0002' }));
    expect(second.body).toEqual(first.body);
    expect(await counter(cached, 'hits')).toBe(hits + 1);
    expect(registryCalls(), 'a hit calls no registry').toBe(calls);

    const rec = second.record;
    expect(rec.cache).toBe('hit');
    expect(rec.outcome).toBe('OK');
    // The same entities (the citizen and the father, as HMACs), registries and fields as the fetched answer…
    expect(rec.subjects).toEqual(first.record.subjects);
    expect(rec.subjects.length).toBeGreaterThanOrEqual(2);
    expect(rec.entities).toEqual(first.record.entities);
    expect(rec.registries).toEqual(first.record.registries);
    expect(rec.fields).toEqual(first.record.fields);
    // …under this request's own purpose (the dossier is not part of the data, so not of the key).
    expect(rec.dossierId).toBe('H01.01-TEST-0002');
    expect(rec.subgraphRequests ?? []).toEqual([]);
  });

  it('keys by client: another client allowed the same purpose gets its own miss, never the first one\'s entry', async () => {
    const c = take();
    const q = { query: WITH_FATHER, variables: { id: c.personalId } };
    expect((await gql(cached, q, as('a', { 'x-purpose': P }))).status).toBe(200);
    const [hits, misses] = [await counter(cached, 'hits'), await counter(cached, 'misses')];
    const other = await audited(cached, q, as('b', { 'x-purpose': P }));
    expect(other.status).toBe(200);
    expect(other.record.cache).toBeUndefined();
    expect(await counter(cached, 'hits')).toBe(hits);
    expect(await counter(cached, 'misses')).toBe(misses + 1);
  });

  it('serves no hit to a request the policy refuses: other client, other purpose, no purpose, other subject, unknown key', async () => {
    const c = take();
    const stranger = take();
    const q = { query: WITH_FATHER, variables: { id: c.personalId } };
    expect((await gql(cached, q, as('a', { 'x-purpose': P }))).status).toBe(200);
    expect((await gql(cached, q, as('a', { 'x-purpose': P }))).status).toBe(200);
    const hits = await counter(cached, 'hits');
    // A client that may not run the purpose.
    const narrow = await audited(cached, q, as('narrow', { 'x-purpose': P }));
    expect(narrow.status).toBe(403);
    expect(narrow.body.data ?? null).toBeNull();
    expect(narrow.record.cache).toBeUndefined();
    // A purpose that does not read the father.
    const otherPurpose = await gql(cached, q, as('a', { 'x-purpose': P2 }));
    expect(otherPurpose.status).toBe(403);
    expect(otherPurpose.body.data ?? null).toBeNull();
    // No purpose at all.
    expect((await gql(cached, q, as('a'))).status).toBe(403);
    // An unknown (or revoked) key, or none.
    expect((await gql(cached, q, { key: 'test-revoked-key-0000000000000000000000000' , headers: { 'x-purpose': P } })).status).toBe(401);
    expect((await gql(cached, q, { key: null, headers: { 'x-purpose': P } })).status).toBe(401);
    // Another subject is another key (a miss, with that subject's own data).
    const other = await gql(cached, { query: WITH_FATHER, variables: { id: stranger.personalId } }, as('a', { 'x-purpose': P }));
    expect(other.body.data?.citizen.fullName).toBe(stranger.fullName);
    expect(await counter(cached, 'hits')).toBe(hits);
  });

  it('holds a client that needs subject tokens to the token on every hit: missing, for another citizen, for another procedure', async () => {
    const c = take();
    const stranger = take();
    const q = { query: WITH_FATHER, variables: { id: c.personalId } };
    const ok = await gql(cached, q, as('consent', { 'x-purpose': P, 'x-subject-token': await token(c.personalId) }));
    expect(ok.status).toBe(200);
    const hits = await counter(cached, 'hits');
    const repeat = await audited(cached, q, as('consent', { 'x-purpose': P, 'x-subject-token': await token(c.personalId) }));
    expect(repeat.body).toEqual(ok.body);
    expect(repeat.record.cache).toBe('hit');
    expect(await counter(cached, 'hits')).toBe(hits + 1);

    const missing = await gql(cached, q, as('consent', { 'x-purpose': P }));
    expect(missing.status).toBe(403);
    expect(missing.body.errors?.[0]?.extensions).toMatchObject({ reason: 'SUBJECT_TOKEN_MISSING' });
    const foreign = await gql(cached, q, as('consent', { 'x-purpose': P, 'x-subject-token': await token(stranger.personalId) }));
    expect(foreign.status).toBe(403);
    expect(foreign.body.data ?? null).toBeNull();
    const otherProcedure = await gql(cached, q, as('consent', { 'x-purpose': P, 'x-subject-token': await token(c.personalId, P2) }));
    expect(otherProcedure.status).toBe(403);
    expect(await counter(cached, 'hits')).toBe(hits + 1);
  });
});

describe('admission: the product stores a response on its second miss', () => {
  it('answers the first two requests from the registries, stores on the second, hits from the third; a response asked once is never stored', async () => {
    // The product default (the test stacks store on the first miss): no responseAdmission given.
    const common = clientGatewayOptions(clients, eid.jwksUrl);
    const gw = await stack.startGateway({ ...common, cache: { responseAdmission: undefined } });
    try {
      const c = take();
      const q = { query: WITH_FATHER, variables: { id: c.personalId } };
      const once = take();
      const one = await audited(gw, { query: WITH_FATHER, variables: { id: once.personalId } }, as('a', { 'x-purpose': P }));
      expect(one.status).toBe(200);
      expect(await counter(gw, 'stores'), 'a response asked once is not stored').toBe(0);
      const answers = [];
      for (let i = 0; i < 3; i++) answers.push(await audited(gw, q, as('a', { 'x-purpose': P })));
      expect(answers.map((a) => a.record.cache ?? 'miss')).toEqual(['miss', 'miss', 'hit']);
      expect(answers[2]!.body).toEqual(answers[0]!.body);
      expect(await counter(gw, 'stores')).toBe(1);
      expect(await counter(gw, 'hits')).toBe(1);
    } finally {
      await gw.close();
    }
  });
});

describe('prefill', () => {
  it('a repeated prefill is a hit, audited with its form summary and entities', async () => {
    const c = take();
    const q = { query: `query Pre($id: ID!) { prefill(procedureId: "${P2}", subject: { personalId: $id }) { summary { fieldsTotal fieldsPrefilled } } }`, variables: { id: c.personalId } };
    const first = await audited(cached, q, as('a'));
    expect(first.status).toBe(200);
    expect(first.body.errors).toBeUndefined();
    const hits = await counter(cached, 'hits');
    const second = await audited(cached, q, as('a'));
    expect(second.body).toEqual(first.body);
    expect(await counter(cached, 'hits')).toBe(hits + 1);
    expect(second.record.cache).toBe('hit');
    expect(second.record.procedureId).toBe(P2);
    expect(second.record.prefill).toEqual(first.record.prefill);
    expect(second.record.prefill).not.toBeNull();
    expect(second.record.subjects).toEqual(first.record.subjects);
    expect(second.record.entities).toEqual(first.record.entities);
    // Another client that may not run the procedure is refused, not served.
    expect((await gql(cached, q, as('b'))).status).toBe(403);
    expect(await counter(cached, 'hits')).toBe(hits + 1);
  });
});

describe('eviction by the registries\' change feeds', () => {
  /** Repeats `query` until the answer shows `expected`, counting that the repeat before the change was a hit. */
  async function evictedOnChange(query: { query: string; variables?: Record<string, unknown> }, change: () => Promise<void>, read: (a: Answer) => unknown, expected: unknown) {
    const first = await gql(cached, query, as('a', { 'x-purpose': P }));
    expect(first.status).toBe(200);
    const hits = await counter(cached, 'hits');
    expect((await gql(cached, query, as('a', { 'x-purpose': P }))).body).toEqual(first.body);
    expect(await counter(cached, 'hits'), 'cached before the change').toBe(hits + 1);
    const evictions = await counter(cached, 'evictions');
    await change();
    await eventually('the change shows through the response cache', async () => read(await gql(cached, query, as('a', { 'x-purpose': P }))) === expected, 10_000);
    expect(await counter(cached, 'evictions')).toBeGreaterThan(evictions);
  }

  it('variable argument: a change to the subject evicts its cached responses', async () => {
    const c = take();
    await evictedOnChange(
      { query: WITH_FATHER, variables: { id: c.personalId } },
      () => patchRecord(stack, 'population', 'citizens', c.personalId, { fullName: `${c.fullName} Mới` }),
      (a) => a.body.data?.citizen.fullName,
      `${c.fullName} Mới`,
    );
  });

  it('literal argument: a change to the subject evicts its cached responses', async () => {
    const c = take();
    await evictedOnChange(
      { query: literal(c.personalId) },
      () => patchRecord(stack, 'population', 'citizens', c.personalId, { fullName: `${c.fullName} Hai` }),
      (a) => a.body.data?.citizen.fullName,
      `${c.fullName} Hai`,
    );
  });

  it('a change to another entity the response carries (the father) evicts it too', async () => {
    const c = take();
    const father = stack.world.citizens.find((x) => x.personalId === c.fatherId)!;
    // The father must not be anyone else's subject in this file.
    pool = pool.filter((x) => x.personalId !== father.personalId && x.fatherId !== father.personalId);
    await evictedOnChange(
      { query: literal(c.personalId) },
      () => patchRecord(stack, 'population', 'citizens', father.personalId, { fullName: `${father.fullName} Cha` }),
      (a) => a.body.data?.citizen.father?.fullName,
      `${father.fullName} Cha`,
    );
  });
});

describe('generated: the cached gateway answers every request exactly as the uncached one', () => {
  it('for random sequences of clients, purposes, subjects, tokens and argument styles', async () => {
    const subjects = [take(), take()];
    const request = fc.record({
      client: fc.constantFrom('a', 'b', 'narrow', 'consent', 'unknown'),
      purpose: fc.constantFrom<string | null>(P, P2, null),
      subject: fc.constantFrom(0, 1),
      tokenFor: fc.constantFrom<number | null>(0, 1, null),
      literal: fc.boolean(),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(request, { minLength: 2, maxLength: 6 }), async (requests) => {
        for (const r of requests) {
          const id = subjects[r.subject]!.personalId;
          const body = r.literal ? { query: literal(id) } : { query: WITH_FATHER, variables: { id } };
          const headers: Record<string, string> = {};
          if (r.purpose) headers['x-purpose'] = r.purpose;
          if (r.tokenFor !== null) headers['x-subject-token'] = await token(subjects[r.tokenFor]!.personalId, r.purpose ?? P);
          const key = r.client === 'unknown' ? 'test-unknown-key-000000000000000000000000' : clients.keys[r.client]!;
          const hits = await counter(cached, 'hits');
          const want = await gql(plain, body, { key, headers });
          const got = await gql(cached, body, { key, headers });
          if (r.client === 'unknown') {
            // Refused before anything else: 401, or 429 once this address sent too many bad keys (the
            // audit's source throttle, whose count differs between the two gateways: not compared).
            expect([401, 429], JSON.stringify(r)).toContain(got.status);
            expect(got.body.data ?? null).toBeNull();
          } else {
            expect({ status: got.status, body: got.body }, JSON.stringify(r)).toEqual({ status: want.status, body: want.body });
          }
          const hit = (await counter(cached, 'hits')) > hits;
          // A hit only ever answers a request the uncached gateway (the policy) accepted.
          if (hit) expect([want.status, got.status], `hit for a refused request ${JSON.stringify(r)}`).toEqual([200, 200]);
        }
      }),
      { numRuns: 15 },
    );
  }, 120_000);
});

const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
const redisUp = await redisAnswers(REDIS_URL);
if (!redisUp && process.env.CI) throw new Error(`Redis at ${REDIS_URL} is not reachable: CI must run the shared response cache tests; start Redis or set REDIS_URL.`);
if (!redisUp) console.warn(`Skipping the shared response cache tests: Redis at ${REDIS_URL} is not reachable.`);

describe.skipIf(!redisUp)('shared through Redis by two replicas', () => {
  const prefix = `motlan:test:rcache:${randomUUID()}:`;
  let one: RunningGateway;
  let two: RunningGateway;
  /** Replica two's clients file: the same clients with new keys (the old ones revoked there). */
  let rotated: ClientsFixture;

  beforeAll(async () => {
    rotated = writeClientsFile([{ id: 'a', procedures: [P, P2] }]);
    const common = { demoClientsFile: false as const, watchSupergraph: false, rateLimit: GENEROUS_RATE_LIMIT, policy: { subjectTokens: { jwksUrl: eid.jwksUrl } } };
    // Replica one follows the change feeds; replica two learns of changes only through Redis.
    one = await stack.startGateway({ ...common, clientsFile: clients.file, cache: { redisUrl: REDIS_URL, redisKeyPrefix: prefix } });
    two = await stack.startGateway({ ...common, clientsFile: rotated.file, cache: { redisUrl: REDIS_URL, redisKeyPrefix: prefix, changeFeeds: {} } });
    await one.services.need('cache').feedsConnected();
    expect(two.services.need('cache').responses?.store.kind).toBe('redis');
  }, 120_000);

  afterAll(async () => {
    await Promise.all([one?.close(), two?.close()]);
    rotated?.cleanup();
    await deleteRedisKeys(REDIS_URL, prefix);
  });

  it('a response cached by one replica is a hit in the other, never for a key revoked there, and a change evicts it in both', async () => {
    const c = take();
    const q = { query: literal(c.personalId) };
    const filled = await gql(one, q, as('a', { 'x-purpose': P }));
    expect(filled.status).toBe(200);
    const calls = registryCalls();

    // The old key of client a is revoked on replica two: refused before any cache lookup.
    const revoked = await gql(two, q, as('a', { 'x-purpose': P }));
    expect(revoked.status).toBe(401);
    expect(await counter(two, 'hits')).toBe(0);

    const shared = await audited(two, q, { key: rotated.keys.a!, headers: { 'x-purpose': P } });
    expect(shared.body).toEqual(filled.body);
    expect(shared.record.cache).toBe('hit');
    expect(shared.record.subjects.length).toBeGreaterThanOrEqual(2);
    expect(await counter(two, 'hits')).toBe(1);
    expect(registryCalls(), 'the shared hit called no registry').toBe(calls);

    // Replica two now holds it locally too: only the invalidation published through Redis evicts it there.
    // (The in-process registry patches the world record `c` itself: the new name is computed before.)
    const renamed = `${c.fullName} Ba`;
    await patchRecord(stack, 'population', 'citizens', c.personalId, { fullName: renamed });
    await eventually('replica two shows the change replica one was told of', async () =>
      (await gql(two, q, { key: rotated.keys.a!, headers: { 'x-purpose': P } })).body.data?.citizen.fullName === renamed, 10_000);
    expect((await gql(one, q, as('a', { 'x-purpose': P }))).body.data?.citizen.fullName).toBe(renamed);
  });
});
