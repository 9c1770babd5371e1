/**
 * A cached response is written from the JSON the cache stored, not serialised again: the bytes
 * must be exactly Apollo's own (`JSON.stringify(result) + '\n'`) for any data, whether the hit
 * comes from the entry stored in this process or from one decoded from its stored string (as
 * Redis hands it over), and anything but bare data takes the ordinary path.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bareContext } from '../../test/support/cache-support.js';
import { ResponseCache, cachedDataJson } from './response-cache.js';
import { LocalStore, type CacheEntry, type CacheStore } from './store.js';
import { stringifyResult } from './stringify-result.js';

const apollo = (value: object) => `${JSON.stringify(value)}\n`;

const contextFor = bareContext;

/** A store that hands every read a fresh copy of the entry (what a Redis round trip does). */
class CopyingStore implements CacheStore {
  readonly kind = 'memory' as const;
  private readonly entries = new Map<string, CacheEntry>();
  async getMany(keys: readonly string[]) {
    return keys.map((k) => {
      const e = this.entries.get(k);
      return e ? { ...e, value: `${e.value}` } : undefined;
    });
  }
  async set(key: string, entry: CacheEntry) {
    this.entries.set(key, entry);
  }
  async invalidate() {
    return 0;
  }
  stats() {
    return { entries: this.entries.size, bytes: 0 };
  }
  victimIfFull() {
    return undefined;
  }
  async ready() {
    return null;
  }
  async close() {}
}

const dataArb = fc.dictionary(fc.string(), fc.jsonValue()).filter((d) => Object.keys(d).length > 0);

describe('writing cached responses', () => {
  it('writes the same bytes as JSON.stringify for any cached data, stored here or decoded from its string', async () => {
    await fc.assert(
      fc.asyncProperty(dataArb, fc.boolean(), async (raw, copying) => {
        // The data as execution leaves it: plain JSON values (undefined members dropped by the round trip).
        const data = JSON.parse(JSON.stringify(raw)) as Record<string, unknown>;
        const cache = new ResponseCache({ store: copying ? new CopyingStore() : new LocalStore({ maxSizeBytes: 10_000_000, sizeFactor: 2, now: () => 0 }), now: () => 0, admission: 'first' });
        expect(await cache.set('k', contextFor(), data, {}, 1_000, cache.generation)).toBe(true);
        expect(stringifyResult({ data })).toBe(apollo({ data }));
        const hit = await cache.get('k');
        expect(hit).toBeDefined();
        expect(cachedDataJson(hit!.data)).toBe(JSON.stringify(hit!.data));
        expect(stringifyResult({ data: hit!.data })).toBe(apollo({ data: hit!.data }));
        expect(stringifyResult({ data: hit!.data })).toBe(apollo({ data }));
      }),
      { numRuns: 200 },
    );
  });

  it('takes the ordinary path for errors, extensions and data the cache does not hold', async () => {
    const cache = new ResponseCache({ store: new LocalStore({ maxSizeBytes: 1_000_000, now: () => 0 }), now: () => 0, admission: 'first' });
    const data = { citizen: { fullName: 'Nguyễn Văn A' } };
    await cache.set('k', contextFor(), data, {}, 1_000, cache.generation);
    const errors = [{ message: 'x' }];
    expect(stringifyResult({ errors, data })).toBe(apollo({ errors, data }));
    expect(stringifyResult({ data, extensions: { a: 1 } })).toBe(apollo({ data, extensions: { a: 1 } }));
    expect(stringifyResult({ data, errors: undefined, extensions: undefined })).toBe('{"data":{"citizen":{"fullName":"Nguyễn Văn A"}}}\n');
    expect(stringifyResult({ data: { other: 1 } })).toBe('{"data":{"other":1}}\n');
    expect(stringifyResult({ errors })).toBe(apollo({ errors }));
  });

  it('decodes entries stored before the data length was written (no shortcut, same bytes)', async () => {
    const store = new CopyingStore();
    const old = JSON.stringify({ d: { a: 1 }, r: [], e: {}, x: [], g: { roots: [], edges: [], unanchored: [], problems: [] }, p: null });
    await store.set('k', { value: old, freshUntil: 1_000, staleUntil: 1_000, tags: [] });
    const hit = await new ResponseCache({ store, now: () => 0 }).get('k');
    expect(hit?.data).toEqual({ a: 1 });
    expect(cachedDataJson(hit!.data)).toBeUndefined();
    expect(stringifyResult({ data: hit!.data })).toBe('{"data":{"a":1}}\n');
  });
});
