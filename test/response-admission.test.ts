/**
 * The response cache's admission rules (gateway/cache/response-cache.ts): the Doorkeeper stores a
 * key on its second miss within the window, never on its first, in bounded memory; the frequency
 * rule (FrequencySketch), once the LRU is full, stores a response only when its key was asked
 * more often than the response it would push out, and never a response asked once.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FrequencySketch, SKETCH_MAX_COUNT } from '../gateway/cache/frequency-sketch.js';
import { Admission, Doorkeeper } from '../gateway/cache/admission.js';
import { ResponseCache } from '../gateway/cache/response-cache.js';
import { loadCacheSettings } from '../gateway/cache/settings.js';
import { LocalStore } from '../gateway/cache/store.js';
import { bareContext } from './support/cache-support.js';

describe('Doorkeeper', () => {
  it('generated traffic: a first sighting is never admitted, a repeat within the window always is, memory stays within two windows', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 16 }), fc.array(fc.integer({ min: 0, max: 40 }), { minLength: 20, maxLength: 400 }), (window, keys) => {
        const door = new Doorkeeper(window);
        // Keys remembered since each was last added (the sightings the door keeps), in order.
        const added: string[] = [];
        const seen = new Set<string>();
        for (const n of keys) {
          const key = `k${n}`;
          const admitted = door.admit(key);
          if (!seen.has(key)) expect(admitted, `first sighting of ${key}`).toBe(false);
          const since = added.lastIndexOf(key);
          // Added within the last `window` additions: still in one of the two generations.
          if (since >= 0 && added.length - since <= window) expect(admitted, `${key} repeated ${added.length - since} additions later`).toBe(true);
          if (!admitted) added.push(key);
          seen.add(key);
          const held = (door as unknown as { current: Set<string>; previous: Set<string> });
          expect(held.current.size + held.previous.size).toBeLessThanOrEqual(2 * window);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('FrequencySketch', () => {
  it('generated traffic: an estimate is never below the true count (capped at 15) between halvings', () => {
    fc.assert(
      fc.property(fc.integer({ min: 16, max: 256 }), fc.array(fc.string({ maxLength: 12 }), { minLength: 20, maxLength: 300 }), (width, keys) => {
        // A narrow sketch, so counters collide: collisions may only add.
        const sketch = new FrequencySketch({ width, sample: 1_000_000 });
        const counts = new Map<string, number>();
        for (const key of keys) {
          sketch.record(key);
          counts.set(key, (counts.get(key) ?? 0) + 1);
          for (const [k, n] of counts) expect(sketch.estimate(k)).toBeGreaterThanOrEqual(Math.min(SKETCH_MAX_COUNT, n));
        }
      }),
      { numRuns: 200 },
    );
  });

  it('halves every count after `sample` recordings, so old popularity fades', () => {
    const sketch = new FrequencySketch({ width: 1024, sample: 12 });
    for (let i = 0; i < 11; i++) sketch.record('hot');
    expect(sketch.estimate('hot')).toBe(11);
    sketch.record('hot');
    expect(sketch.estimate('hot')).toBe(6);
    for (let i = 0; i < 12; i++) sketch.record('other');
    expect(sketch.estimate('hot')).toBe(3);
    expect(sketch.estimate('other')).toBe(6);
  });
});

const contextFor = bareContext;

/** A miss as the plugin makes it: look up, then store the checked response. True when stored. */
async function request(cache: ResponseCache, key: string, size: number): Promise<'hit' | 'stored' | 'refused'> {
  if (await cache.get(key)) return 'hit';
  return (await cache.set(key, contextFor(), { v: 'x'.repeat(size) }, {}, 1_000_000, cache.generation)) ? 'stored' : 'refused';
}

describe('frequency admission (the default)', () => {
  it('once full, a response asked twice does not push out responses asked more often; one asked more often does', async () => {
    const store = new LocalStore({ maxSizeBytes: 40_000, now: () => 0 });
    const cache = new ResponseCache({ store, now: () => 0 });
    // Fill the LRU with responses each asked three times (stored on the second miss, hit on the third).
    let hot = 0;
    while (store.victimIfFull() === undefined) {
      const key = `hot${hot++}`;
      for (let i = 0; i < 3; i++) await request(cache, key, 1_000);
    }
    const held = store.stats().entries;
    expect(held).toBeGreaterThan(5);
    // Asked twice: past the doorkeeper, but not more often than the least recent hot response.
    expect(await request(cache, 'cold', 1_000)).toBe('refused');
    expect(await request(cache, 'cold', 1_000)).toBe('refused');
    expect(store.stats().entries).toBe(held);
    // Asked four times by its second miss (a miss, two lookups, a miss): more often than the victim (three).
    const victim = store.victimIfFull()!;
    expect(await request(cache, 'popular', 1_000)).toBe('refused');
    for (let i = 0; i < 2; i++) await cache.get('popular');
    expect(await request(cache, 'popular', 1_000)).toBe('stored');
    expect(await cache.get('popular')).toBeDefined();
    expect(await cache.get(victim)).toBeUndefined();
  });

  it('an expired response at the LRU tail never keeps a new one out: room is free', async () => {
    let now = 0;
    const store = new LocalStore({ maxSizeBytes: 40_000, now: () => now });
    const cache = new ResponseCache({ store, now: () => now });
    const put = async (key: string, freshFor: number) => {
      for (let i = 0; i < 3; i++) if (!(await cache.get(key))) await cache.set(key, contextFor(), { v: 'x'.repeat(1_000) }, {}, now + freshFor, cache.generation);
    };
    // The first responses live 10 s, the rest an hour; all asked three times.
    let n = 0;
    while (store.victimIfFull() === undefined) await put(`r${n}`, n++ < 3 ? 10_000 : 3_600_000);
    expect(await request(cache, 'cold', 1_000)).toBe('refused');
    expect(await request(cache, 'cold', 1_000)).toBe('refused');
    now = 11_000;
    // r0 … r2 have expired: 'cold' (asked three times, fewer than nobody) now takes their room.
    expect(store.victimIfFull()).toBeUndefined();
    expect(await cache.set('cold', contextFor(), { v: 'x'.repeat(1_000) }, {}, now + 3_600_000, cache.generation)).toBe(true);
    expect(await cache.get('cold')).toBeDefined();
  });

  it('generated traffic: never stores a first sighting; when full, stores only a key asked more often than the victim; below full, every repeat', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 5_000, max: 60_000 }),
        fc.array(fc.record({ key: fc.integer({ min: 0, max: 12 }), size: fc.integer({ min: 100, max: 3_000 }) }), { minLength: 50, maxLength: 400 }),
        async (maxSizeBytes, requests) => {
          const store = new LocalStore({ maxSizeBytes, now: () => 0 });
          const cache = new ResponseCache({ store, now: () => 0 });
          const sketch = (cache as unknown as { admission: Admission }).admission;
          const asked = new Map<string, number>();
          for (const { key: n, size } of requests) {
            const key = `k${n}`;
            const victim = store.victimIfFull();
            const victimCount = victim === undefined ? -1 : sketch.estimate(victim);
            const outcome = await request(cache, key, size);
            asked.set(key, (asked.get(key) ?? 0) + 1);
            if (outcome === 'hit') continue;
            if (asked.get(key) === 1) expect(outcome, `first sighting of ${key}`).toBe('refused');
            else if (victim !== undefined && victim !== key && outcome === 'stored') expect(sketch.estimate(key)).toBeGreaterThan(victimCount);
            else if (victim === undefined) expect(outcome, `${key} asked ${asked.get(key)} times, cache not full`).toBe('stored');
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('CACHE_RESPONSE_ADMISSION', () => {
  it('defaults to frequency, takes second and first, and refuses anything else with the choices', () => {
    expect(loadCacheSettings({}, {}).responseAdmission).toBe('frequency');
    expect(loadCacheSettings({}, { CACHE_RESPONSE_ADMISSION: 'second' }).responseAdmission).toBe('second');
    expect(loadCacheSettings({}, { CACHE_RESPONSE_ADMISSION: 'first' }).responseAdmission).toBe('first');
    expect(() => loadCacheSettings({}, { CACHE_RESPONSE_ADMISSION: 'third' })).toThrow(/CACHE_RESPONSE_ADMISSION=third .*frequency .*second .*first/);
  });

  it('CACHE_ADMISSION (the subgraph-fetch cache) takes the same rules, independently, default first', () => {
    expect(loadCacheSettings({}, {}).admission).toBe('first');
    expect(loadCacheSettings({}, { CACHE_ADMISSION: 'frequency' })).toMatchObject({ admission: 'frequency', responseAdmission: 'frequency' });
    expect(loadCacheSettings({}, { CACHE_ADMISSION: 'second', CACHE_RESPONSE_ADMISSION: 'first' })).toMatchObject({ admission: 'second', responseAdmission: 'first' });
    expect(() => loadCacheSettings({}, { CACHE_ADMISSION: 'sometimes' })).toThrow(/CACHE_ADMISSION=sometimes .*frequency .*second .*first.*default is first/);
  });
});
