/**
 * The gateway's cache over the whole stack (mock registries → subgraphs → gateway):
 * TTL expiry, stale-while-revalidate, eviction through the registries' change feeds,
 * no answer for one subject or one purpose served to another, nothing served before
 * authentication and the purpose policy, identical in-flight fetches shared, and the
 * catalog's query plans warmed at start.
 *
 * One stack (registries, subgraphs); each block starts its own gateway with the cache
 * settings it tests. Upstream calls are counted at the mock registries (/__admin/stats).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningGateway } from '../gateway/app.js';
import { queryPlanKey } from '../gateway/cache/warm.js';
import { indexWorld, type WorldIndex } from '../mocks/world/index-world.js';
import type { CitizenRecord } from '../mocks/world/types.js';
import { cacheHits, calls, eventually, gql, patchRecord } from './support/cache-support.js';
import { QUIET_GATEWAY, startStack, type Stack } from './support/stack.js';

const CITIZEN = /* GraphQL */ `
  query Citizen($id: ID!) {
    citizen(personalId: $id) {
      personalId
      fullName
      permanentResidence { detail }
      socialInsurance { socialInsuranceNumber totalContributionMonths }
      landParcels { parcelId }
    }
  }
`;

const DOSSIERS = /* GraphQL */ `
  query Dossiers($ids: [ID!]!) {
    citizens(personalIds: $ids) {
      personalId
      fullName
      socialInsurance { socialInsuranceNumber }
      landParcels { parcelId }
      enterprises { enterprise { enterpriseCode } }
    }
  }
`;

interface Dossier {
  personalId: string;
  fullName: string;
  socialInsurance: { socialInsuranceNumber: string } | null;
  landParcels: Array<{ parcelId: string }>;
  enterprises: Array<{ enterprise: { enterpriseCode: string } }>;
}

let stack: Stack;
let ix: WorldIndex;
/** Citizens with a social insurance record, handed out so no two tests share one. */
let pool: CitizenRecord[];
const take = (): CitizenRecord => {
  const c = pool.shift();
  if (!c) throw new Error('The test world has too few insured citizens: raise `citizens` in startStack.');
  return c;
};
/** The demo client without `explore`: held to its declared purpose's fields. */
let purposeKey: string;

beforeAll(async () => {
  // Rate limits off: these tests send bursts on purpose.
  stack = await startStack({ citizens: 400, gateway: QUIET_GATEWAY });
  ix = indexWorld(stack.world);
  pool = stack.world.citizens.filter((c) => ix.socialInsurance.has(c.personalId) && !c.deceased);
  purposeKey = stack.gateway.clients.demoCredentials().find((c) => c.clientId === 'demo-hcm')!.key;
}, 120_000);

afterAll(async () => {
  await stack?.close();
});

/** A gateway of this stack with the cache on (these settings over the defaults), change feeds subscribed. */
async function cachedGateway(cache: Record<string, unknown> = {}): Promise<RunningGateway> {
  const gw = await stack.startGateway({ cache });
  await gw.services.need('cache').feedsConnected();
  return gw;
}

function expected(c: CitizenRecord): Dossier {
  const si = ix.socialInsurance.get(c.personalId);
  return {
    personalId: c.personalId,
    fullName: c.fullName,
    socialInsurance: si ? { socialInsuranceNumber: si.socialInsuranceNumber } : null,
    landParcels: (ix.parcelsByHolder.get(c.personalId)?.parcelIds ?? []).map((parcelId) => ({ parcelId })),
    enterprises: (ix.rolesByPerson.get(c.personalId)?.roles ?? []).map((r) => ({ enterprise: { enterpriseCode: r.enterpriseCode } })),
  };
}

/** Order-insensitive view of a dossier (lists compared as sorted). */
function normal(d: Dossier): unknown {
  return {
    ...d,
    landParcels: d.landParcels.map((p) => p.parcelId).sort(),
    enterprises: d.enterprises.map((e) => e.enterprise.enterpriseCode).sort(),
  };
}

describe('TTL', () => {
  let gw: RunningGateway;
  // A clock the test moves: expiry must not depend on how busy the machine is.
  let clockMs = Date.now();
  beforeAll(async () => {
    gw = await cachedGateway({ policies: { 'Query.citizen': { ttl: 0.5 }, Citizen: { ttl: 0.5 } }, clock: () => clockMs });
  });

  it('answers a repeat from the cache until the TTL, then asks the registries again', async () => {
    const c = take();
    const q = { query: CITIZEN, variables: { id: c.personalId } };
    const before = { population: calls(stack, 'population', 'citizens'), insurance: calls(stack, 'insurance', 'social-insurance') };
    const first = await gql(gw, q, { key: stack.demoKey });
    expect(first.body.errors).toBeUndefined();
    expect(first.body.data?.citizen.fullName).toBe(c.fullName);
    const second = await gql(gw, q, { key: stack.demoKey });
    expect(second.body).toEqual(first.body);
    expect(calls(stack, 'population', 'citizens')).toBe(before.population + 1);
    expect(calls(stack, 'insurance', 'social-insurance')).toBe(before.insurance + 1);

    clockMs += 700;
    const third = await gql(gw, q, { key: stack.demoKey });
    expect(third.body).toEqual(first.body);
    expect(calls(stack, 'population', 'citizens')).toBe(before.population + 2);
    expect(calls(stack, 'insurance', 'social-insurance')).toBe(before.insurance + 2);
  });
});

describe('stale-while-revalidate', () => {
  let gw: RunningGateway;
  // A clock the test moves: the entry is stale exactly when the test says so, however busy the machine.
  let clockMs = Date.now();
  beforeAll(async () => {
    gw = await cachedGateway({ policies: { 'Query.citizen': { ttl: 0.3, stale: 60 }, Citizen: { ttl: 0.3, stale: 60 } }, clock: () => clockMs });
  });

  it('serves the stale value while ONE background refresh fetches the new one', async () => {
    const c = take();
    const q = { query: CITIZEN, variables: { id: c.personalId } };
    const oldName = c.fullName;
    await gql(gw, q, { key: stack.demoKey });
    // Changed behind the feed's back (no change event): only expiry can reveal it.
    ix.citizens.get(c.personalId)!.fullName = `${oldName} Mới`;
    const before = calls(stack, 'population', 'citizens');
    clockMs += 400;

    // The registry answers slowly, so the refresh is surely still running while the
    // stale requests are served: they must not wait for it.
    stack.setFaults('population', { latencyMs: 1500 }); // under the subgraph's 2 s registry timeout
    let stale: Awaited<ReturnType<typeof gql>>[];
    const fetchCache = gw.services.need('cache').fetchCache;
    try {
      stale = await Promise.all(Array.from({ length: 5 }, () => gql(gw, q, { key: stack.demoKey })));
      await eventually('the background refresh settles', async () => fetchCache.refreshesInFlight === 0);
    } finally {
      stack.setFaults('population', { latencyMs: 0 });
    }
    for (const r of stale) expect(r.body.data?.citizen.fullName).toBe(oldName);
    expect(calls(stack, 'population', 'citizens')).toBe(before + 1);

    const fresh = await gql(gw, q, { key: stack.demoKey });
    expect(fresh.body.data?.citizen.fullName).toBe(`${oldName} Mới`);
    expect(calls(stack, 'population', 'citizens')).toBe(before + 1);
  });
});

describe('invalidation through the registries\u2019 change feeds', () => {
  let gw: RunningGateway;
  beforeAll(async () => {
    gw = await cachedGateway(); // default policies: 120 s, far longer than this test
  });

  it('shows a changed address and a changed insurance record at once, long before the TTL', async () => {
    const c = take();
    const q = { query: CITIZEN, variables: { id: c.personalId } };
    const first = await gql(gw, q, { key: stack.demoKey });
    const months = first.body.data?.citizen.socialInsurance.totalContributionMonths as number;
    const before = calls(stack, 'population', 'citizens');
    await gql(gw, q, { key: stack.demoKey });
    expect(calls(stack, 'population', 'citizens')).toBe(before); // cached

    await patchRecord(stack, 'population', 'citizens', c.personalId, { permanentResidence: { detail: 'Số 1 Tràng Tiền' } });
    const ms = await eventually('the new address through the gateway', async () =>
      (await gql(gw, q, { key: stack.demoKey })).body.data?.citizen.permanentResidence?.detail === 'Số 1 Tràng Tiền');
    expect(ms).toBeLessThan(5000);

    const si = ix.socialInsurance.get(c.personalId)!;
    await patchRecord(stack, 'insurance', 'social-insurance-by-number', si.socialInsuranceNumber, { totalContributionMonths: months + 7 });
    await eventually('the new contribution months through the gateway', async () =>
      (await gql(gw, q, { key: stack.demoKey })).body.data?.citizen.socialInsurance.totalContributionMonths === months + 7);
    // Only the changed citizen was evicted: the population entry filled after the address change still answers.
    const populationCalls = calls(stack, 'population', 'citizens');
    await gql(gw, q, { key: stack.demoKey });
    expect(calls(stack, 'population', 'citizens')).toBe(populationCalls);
  });
});

describe('no cross-subject or cross-purpose answers', () => {
  let gw: RunningGateway;
  beforeAll(async () => {
    gw = await cachedGateway();
  });

  it('gives each of many subjects its own data, cold and warm, alone and in batches', async () => {
    const subjects = stack.world.citizens.filter((c) => !c.deceased).slice(0, 60);
    for (let round = 0; round < 2; round++) {
      const answers = await Promise.all(subjects.map((c) => gql(gw, { query: DOSSIERS, variables: { ids: [c.personalId] } }, { key: stack.demoKey })));
      answers.forEach((a, i) => {
        expect(a.body.errors).toBeUndefined();
        expect(normal(a.body.data?.citizens[0] as Dossier)).toEqual(normal(expected(subjects[i]!)));
      });
    }
    // Mixed batches over entities now cached one by one: each position keeps its own subject.
    for (let i = 0; i < subjects.length; i += 7) {
      const batch = [...subjects.slice(i, i + 7)].reverse();
      const a = await gql(gw, { query: DOSSIERS, variables: { ids: batch.map((c) => c.personalId) } }, { key: stack.demoKey });
      expect((a.body.data?.citizens as Dossier[]).map(normal)).toEqual(batch.map((c) => normal(expected(c))));
    }
    expect(await cacheHits(gw)).toBeGreaterThan(subjects.length);
  });

  it('never answers one purpose\u2019s selection with another\u2019s', async () => {
    const c = take();
    const lodging = { 'x-purpose': 'lodging-notification' };
    const judicial = { 'x-purpose': 'judicial-record-certificate' };
    const before = calls(stack, 'population', 'citizens');
    const a = await gql(gw, { query: `{ citizen(personalId: "${c.personalId}") { fullName gender } }` }, { key: purposeKey, headers: lodging });
    expect(a.status).toBe(200);
    expect(a.body.data?.citizen).toEqual({ fullName: c.fullName, gender: c.gender });
    const b = await gql(gw, { query: `{ citizen(personalId: "${c.personalId}") { fullName placeOfBirth } }` }, { key: purposeKey, headers: judicial });
    expect(b.body.data?.citizen).toEqual({ fullName: c.fullName, placeOfBirth: c.placeOfBirth });
    // The second purpose's selection was fetched, not taken from the first one's entry.
    expect(calls(stack, 'population', 'citizens')).toBe(before + 2);
  });
});

describe('the cache is only reached after authentication and the purpose policy', () => {
  let gw: RunningGateway;
  beforeAll(async () => {
    gw = await cachedGateway();
  });

  it('serves nothing, not even a cache hit, to a request without a valid key or with a refused purpose', async () => {
    const c = take();
    const insured = `{ citizen(personalId: "${c.personalId}") { fullName socialInsurance { socialInsuranceNumber } } }`;
    const allowed = await gql(gw, { query: insured }, { key: purposeKey, headers: { 'x-purpose': 'social-insurance-lump-sum' } });
    expect(allowed.body.data?.citizen.socialInsurance.socialInsuranceNumber).toBe(ix.socialInsurance.get(c.personalId)!.socialInsuranceNumber);
    const hit = await gql(gw, { query: insured }, { key: purposeKey, headers: { 'x-purpose': 'social-insurance-lump-sum' } });
    expect(hit.body).toEqual(allowed.body);
    const hits = await cacheHits(gw);

    const anonymous = await gql(gw, { query: insured }, { key: null, headers: { 'x-purpose': 'social-insurance-lump-sum' } });
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.data ?? null).toBeNull();
    const badKey = await gql(gw, { query: insured }, { key: 'not-a-key', headers: { 'x-purpose': 'social-insurance-lump-sum' } });
    expect(badKey.status).toBe(401);
    expect(badKey.body.data ?? null).toBeNull();
    // lodging-notification does not need insurance data: refused before any fetch, cached or not.
    const wrongPurpose = await gql(gw, { query: insured }, { key: purposeKey, headers: { 'x-purpose': 'lodging-notification' } });
    expect(wrongPurpose.status).toBe(403);
    expect(wrongPurpose.body.data ?? null).toBeNull();
    const noPurpose = await gql(gw, { query: insured }, { key: purposeKey });
    expect(noPurpose.body.data ?? null).toBeNull();
    expect(JSON.stringify([anonymous.body, badKey.body, wrongPurpose.body, noPurpose.body])).not.toContain(ix.socialInsurance.get(c.personalId)!.socialInsuranceNumber);

    expect(await cacheHits(gw)).toBe(hits);
  });
});

describe('identical in-flight fetches', () => {
  let gw: RunningGateway;
  beforeAll(async () => {
    gw = await stack.startGateway({ cache: { enabled: false } });
  });

  it('share one upstream call (cache off, so nothing but the sharing saves calls)', async () => {
    const c = take();
    const q = { query: CITIZEN, variables: { id: c.personalId } };
    // Slow registries keep the first fetch in flight while the others arrive.
    stack.setFaults('population', { latencyMs: 400 });
    stack.setFaults('insurance', { latencyMs: 400 });
    try {
      const beforeP = calls(stack, 'population', 'citizens');
      const beforeI = calls(stack, 'insurance', 'social-insurance');
      const answers = await Promise.all(Array.from({ length: 12 }, () => gql(gw, q, { key: stack.demoKey })));
      for (const a of answers) expect(a.body).toEqual(answers[0]!.body);
      expect(answers[0]!.body.data?.citizen.fullName).toBe(ix.citizens.get(c.personalId)!.fullName);
      expect(calls(stack, 'population', 'citizens')).toBe(beforeP + 1);
      expect(calls(stack, 'insurance', 'social-insurance')).toBe(beforeI + 1);
      // Nothing is kept once the fetch settled: a later request asks again.
      await gql(gw, q, { key: stack.demoKey });
      expect(calls(stack, 'population', 'citizens')).toBe(beforeP + 2);
    } finally {
      stack.setFaults('population', { latencyMs: 0 });
      stack.setFaults('insurance', { latencyMs: 0 });
    }
  });
});

describe('query-plan warm-up', () => {
  it('plans every procedure of the catalog when the gateway starts', async () => {
    const gw = await stack.startGateway({ cache: { enabled: false } });
    const store = (gw.gateway as unknown as { queryPlanStore: { get(k: string): Promise<unknown> } }).queryPlanStore;
    const ops = gw.services.need('procedures').ids().map((id) => gw.services.need('procedures').operation(id)!);
    expect(ops.length).toBeGreaterThan(5);
    await eventually('every catalog operation planned', async () => {
      for (const op of ops) if (!(await store.get(queryPlanKey(op.query, op.operationName)))) return false;
      return true;
    });
  });
});
