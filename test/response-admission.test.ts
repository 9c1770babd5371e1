/**
 * The response cache's admission rule (gateway/cache/response-cache.ts, Doorkeeper): a key is
 * stored on its second miss within the window, never on its first, and the doorkeeper's memory
 * stays bounded whatever the traffic.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Doorkeeper } from '../gateway/cache/response-cache.js';
import { loadCacheSettings } from '../gateway/cache/settings.js';

describe('Doorkeeper', () => {
  it('generated traffic: a first sighting is never admitted, a repeat within the window always is, memory stays within two windows', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 16 }), fc.array(fc.integer({ min: 0, max: 40 }), { maxLength: 400 }), (window, keys) => {
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

describe('CACHE_RESPONSE_ADMISSION', () => {
  it('defaults to the second miss, takes first, and refuses anything else with the choices', () => {
    expect(loadCacheSettings({}, {}).responseAdmission).toBe('second');
    expect(loadCacheSettings({}, { CACHE_RESPONSE_ADMISSION: 'first' }).responseAdmission).toBe('first');
    expect(() => loadCacheSettings({}, { CACHE_RESPONSE_ADMISSION: 'third' })).toThrow(/CACHE_RESPONSE_ADMISSION=third .*second .*first/);
  });
});
