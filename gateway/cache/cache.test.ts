/**
 * Unit tests of the cache parts: fetch classification by policy, keys, the size-bounded
 * tagged LRU, in-flight sharing and the interceptor's entity split/merge, against a
 * fake upstream (the whole-stack behaviour is in test/cache*.test.ts).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Admission } from './admission.js';
import { FetchCache } from './fetch-cache.js';
import { InFlight } from './inflight.js';
import { canonicalJson, entityKey, rootKey, tagOf } from './keys.js';
import { classifyFetch } from './policy.js';
import { loadCacheSettings, type CachePolicy } from './settings.js';
import { LocalStore } from './store.js';
import type { SubgraphFetch } from '../core/datasource.js';

const POLICIES: Record<string, CachePolicy> = {
  'Query.citizen': { ttl: 60, stale: 10 },
  Citizen: { ttl: 30, stale: 5 },
  'Citizen.socialInsurance': { ttl: 10, stale: 1 },
};

const ENTITIES_QUERY = 'query($representations:[_Any!]!){_entities(representations:$representations){...on Citizen{socialInsurance{socialInsuranceNumber}}}}';

describe('classifyFetch', () => {
  it('caches a root fetch only when every root field has a policy, for the shortest one', () => {
    expect(classifyFetch('{ citizen(personalId: "1") { fullName } }', POLICIES)).toMatchObject({ kind: 'root', policy: { ttl: 60, stale: 10 } });
    expect(classifyFetch('{ citizen(personalId: "1") { fullName } household(householdId: "x") { householdId } }', POLICIES).kind).toBe('uncacheable');
    expect(classifyFetch('mutation { citizen { fullName } }', POLICIES).kind).toBe('uncacheable');
  });

  it('gives an entity fetch the field policy over the type policy', () => {
    const shape = classifyFetch(ENTITIES_QUERY, POLICIES);
    expect(shape.kind).toBe('entities');
    if (shape.kind === 'entities') expect(shape.byType.get('Citizen')).toEqual({ ttl: 10, stale: 1 });
    const typeOnly = classifyFetch('query($representations:[_Any!]!){_entities(representations:$representations){...on Citizen{fullName}}}', POLICIES);
    if (typeOnly.kind !== 'entities') throw new Error('expected entities');
    expect(typeOnly.byType.get('Citizen')).toEqual({ ttl: 30, stale: 5 });
    expect(classifyFetch('query($r:[_Any!]!){_entities(representations:$r){...on LandParcel{area}}}', POLICIES).kind).toBe('uncacheable');
  });
});

describe('keys', () => {
  it('differ by subject, by selection and by subgraph; ignore key order', () => {
    const a = entityKey('insurance', 'q1', { __typename: 'Citizen', personalId: '001' });
    expect(entityKey('insurance', 'q1', { personalId: '001', __typename: 'Citizen' })).toBe(a);
    expect(entityKey('insurance', 'q1', { __typename: 'Citizen', personalId: '002' })).not.toBe(a);
    expect(entityKey('insurance', 'q2', { __typename: 'Citizen', personalId: '001' })).not.toBe(a);
    expect(entityKey('land', 'q1', { __typename: 'Citizen', personalId: '001' })).not.toBe(a);
    expect(rootKey('population', 'q', { id: '1' })).not.toBe(rootKey('population', 'q', { id: '2' }));
    expect(canonicalJson({ b: [1, { d: 1, c: 2 }], a: null })).toBe('{"a":null,"b":[1,{"c":2,"d":1}]}');
  });
});

describe('LocalStore', () => {
  const entry = (value: string, tags: string[], now: number, ttlMs = 1000) => ({ value, freshUntil: now + ttlMs, staleUntil: now + ttlMs, tags });

  it('stays within its byte bound, dropping the least recently used entries', async () => {
    const store = new LocalStore({ maxSizeBytes: 20_000, maxEntryBytes: 5_000 });
    const now = Date.now();
    for (let i = 0; i < 100; i++) await store.set(`k${i}`, entry('x'.repeat(1000), [`t${i}`], now, 60_000));
    expect(store.stats().bytes).toBeLessThanOrEqual(20_000);
    expect((await store.getMany(['k0']))[0]).toBeUndefined();
    expect((await store.getMany(['k99']))[0]?.value).toHaveLength(1000);
    await store.set('huge', entry('x'.repeat(10_000), ['big'], now, 60_000));
    expect((await store.getMany(['huge']))[0]).toBeUndefined();
  });

  it('evicts by tag, and drops expired entries', async () => {
    let now = 1_000_000;
    const store = new LocalStore({ maxSizeBytes: 1_000_000, now: () => now });
    await store.set('a', entry('1', ['x', 'y'], now));
    await store.set('b', entry('2', ['y'], now));
    await store.set('c', entry('3', ['z'], now));
    expect(await store.invalidate(['y'])).toBe(2);
    expect((await store.getMany(['a', 'b', 'c'])).map((e) => e?.value)).toEqual([undefined, undefined, '3']);
    now += 2000;
    expect((await store.getMany(['c']))[0]).toBeUndefined();
  });

  it('an invalidation evicts exactly the held entries carrying a tag, whatever the writes, overwrites and evictions before it', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('set' as const), key: fc.constantFrom('a', 'b', 'c', 'd', 'e'), tags: fc.subarray(['t1', 't2', 't3', 't4']), size: fc.integer({ min: 1, max: 300 }) }),
      fc.record({ kind: fc.constant('invalidate' as const), tags: fc.subarray(['t1', 't2', 't3', 't4'], { minLength: 1 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        const now = 1_000_000;
        // Small enough that writes evict older entries (about three fit).
        const store = new LocalStore({ maxSizeBytes: 4_000, now: () => now });
        for (const o of ops) {
          if (o.kind === 'set') {
            store.setSync(o.key, entry('x'.repeat(o.size), o.tags, now));
            continue;
          }
          // The model: what the store holds now, and which of those carry one of the tags.
          const held = ['a', 'b', 'c', 'd', 'e'].filter((k) => store.getSync(k) !== undefined);
          const hit = held.filter((k) => store.getSync(k)!.tags.some((t) => o.tags.includes(t)));
          expect(store.invalidateSync(o.tags)).toBe(hit.length);
          expect(['a', 'b', 'c', 'd', 'e'].filter((k) => store.getSync(k) !== undefined)).toEqual(held.filter((k) => !hit.includes(k)));
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('InFlight', () => {
  it('shares one call among identical concurrent callers, each with its own copy', async () => {
    const inflight = new InFlight();
    let calls = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const fetch = async () => {
      calls++;
      await gate;
      return { data: { n: 1 } };
    };
    const all = Promise.all([inflight.run('k', fetch), inflight.run('k', fetch), inflight.run('k', fetch)]);
    release();
    const results = await all;
    expect(calls).toBe(1);
    results[0]!.data.n = 99;
    expect(results[1]!.data.n).toBe(1);
    expect(results[1]).not.toBe(results[2]);
    await inflight.run('k', fetch);
    expect(calls).toBe(2);
  });

  it('passes a failure to every waiter', async () => {
    const inflight = new InFlight();
    const fail = async () => {
      await new Promise((r) => setTimeout(r, 5));
      throw new Error('down');
    };
    const results = await Promise.allSettled([inflight.run('k', fail), inflight.run('k', fail)]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
  });
});

describe('FetchCache on _entities', () => {
  const settings = loadCacheSettings({ policies: POLICIES, configFile: null, redisUrl: undefined, changeFeeds: {} }, {});
  const rep = (id: string) => ({ __typename: 'Citizen', personalId: id });

  function fakeSubgraph() {
    const asked: string[][] = [];
    const fetchFor = (ids: string[], errorFor?: string): SubgraphFetch => ({
      subgraph: 'insurance',
      context: null,
      request: { query: ENTITIES_QUERY, variables: { representations: ids.map(rep) } },
      upstream: async (request) => {
        const reps = (request.variables?.representations ?? []) as Array<{ personalId: string }>;
        asked.push(reps.map((r) => r.personalId));
        const errIndex = reps.findIndex((r) => r.personalId === errorFor);
        return {
          data: { _entities: reps.map((r) => (r.personalId === errorFor ? null : { socialInsurance: { socialInsuranceNumber: `SI-${r.personalId}` } })) },
          ...(errIndex >= 0 ? { errors: [{ message: 'boom', path: ['_entities', errIndex, 'socialInsurance'] }] } : {}),
        };
      },
    });
    return { asked, fetchFor };
  }

  it('fetches only the misses and merges them back in order', async () => {
    const cache = new FetchCache({ settings, store: new LocalStore({ maxSizeBytes: 1_000_000 }) });
    const sg = fakeSubgraph();
    await cache.intercept(sg.fetchFor(['1', '2']));
    const r = await cache.intercept(sg.fetchFor(['3', '1', '4', '2']));
    expect(sg.asked).toEqual([['1', '2'], ['3', '4']]);
    expect((r.data?._entities as Array<{ socialInsurance: { socialInsuranceNumber: string } }>).map((e) => e.socialInsurance.socialInsuranceNumber))
      .toEqual(['SI-3', 'SI-1', 'SI-4', 'SI-2']);
  });

  it('renumbers error paths to the original positions and stores nothing from a failed answer', async () => {
    const cache = new FetchCache({ settings, store: new LocalStore({ maxSizeBytes: 1_000_000 }) });
    const sg = fakeSubgraph();
    await cache.intercept(sg.fetchFor(['1']));
    const r = await cache.intercept(sg.fetchFor(['1', '5', '6'], '6'));
    expect(r.errors?.[0]?.path).toEqual(['_entities', 2, 'socialInsurance']);
    await cache.intercept(sg.fetchFor(['5']));
    expect(sg.asked).toEqual([['1'], ['5', '6'], ['5']]);
  });

  it('with an admission rule, stores an entity on its second miss, then answers it; a full store keeps what is asked more often', async () => {
    const store = new LocalStore({ maxSizeBytes: 1_000_000 });
    const cache = new FetchCache({ settings, store, admission: new Admission('frequency') });
    const sg = fakeSubgraph();
    await cache.intercept(sg.fetchFor(['1']));
    await cache.intercept(sg.fetchFor(['1', '2']));
    await cache.intercept(sg.fetchFor(['1', '2']));
    await cache.intercept(sg.fetchFor(['2']));
    // 1: missed, missed (stored), hit. 2: missed, missed (stored), hit.
    expect(sg.asked).toEqual([['1'], ['1', '2'], ['2']]);

    // Full: an entity asked twice does not push out entities asked more often.
    const small = new LocalStore({ maxSizeBytes: 6_000 });
    const full = new FetchCache({ settings, store: small, admission: new Admission('frequency') });
    const sg2 = fakeSubgraph();
    for (let h = 0; small.victimIfFull() === undefined; h++) for (let i = 0; i < 3; i++) await full.intercept(sg2.fetchFor([`h${h}`]));
    const held = small.stats().entries;
    sg2.asked.length = 0;
    for (let i = 0; i < 3; i++) await full.intercept(sg2.fetchFor(['cold']));
    expect(sg2.asked).toEqual([['cold'], ['cold'], ['cold']]);
    expect(small.stats().entries).toBe(held);
  });

  it('a background refresh of a stale entity stores its answer whatever the admission rule', async () => {
    let now = 1_000_000;
    const store = new LocalStore({ maxSizeBytes: 1_000_000, now: () => now });
    // A rule that admits the first answer, then refuses everything.
    let allow = true;
    const admission = { seen: () => undefined, admit: () => allow } as unknown as Admission;
    const cache = new FetchCache({ settings, store, now: () => now, admission });
    const sg = fakeSubgraph();
    await cache.intercept(sg.fetchFor(['1']));
    allow = false;
    // Stale (ttl 10 s, stale 1 s): served, refreshed once in the background, and the refresh is stored.
    now += 10_500;
    await cache.intercept(sg.fetchFor(['1']));
    while (cache.refreshesInFlight > 0) await new Promise((r) => setImmediate(r));
    now += 5_000;
    const before = sg.asked.length;
    await cache.intercept(sg.fetchFor(['1']));
    expect(sg.asked.length).toBe(before);
  });

  it('evicts an entity by the tag of its key', async () => {
    const store = new LocalStore({ maxSizeBytes: 1_000_000 });
    const cache = new FetchCache({ settings, store });
    const sg = fakeSubgraph();
    await cache.intercept(sg.fetchFor(['1', '2']));
    await store.invalidate([tagOf('insurance', '1')]);
    await cache.intercept(sg.fetchFor(['1', '2']));
    expect(sg.asked).toEqual([['1', '2'], ['1']]);
  });
});
