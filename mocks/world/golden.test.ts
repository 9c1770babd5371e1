import { describe, expect, it } from 'vitest';
import { DEFAULT_AS_OF, DEFAULT_SEED, generateWorld } from './generate.js';
import { canonicalJson, worldHash } from './world-hash.js';

/**
 * Golden hashes pin the generator's output: a refactoring must leave every seed's
 * world byte-for-byte the same (docs, demo keys in tests and the mock registries'
 * data all derive from it).
 *
 * To change the world deliberately (a new field, a fix in a phase): make the change,
 * run `npx vitest run mocks/world/golden.test.ts`, copy the "actual" hash of each
 * failing case here, and say in the commit message what changed in the world and
 * why. Never update a hash for a change meant to be a pure refactoring.
 */
const GOLDEN = [
  // The demo world's seed at the size most tests use, on the default asOf (2026-11-01).
  { seed: DEFAULT_SEED, citizens: 2000, asOf: DEFAULT_AS_OF, sha256: '7be2894d814d78e7cd8b2fa74e5139c582b508566ad7517b10e7ebb6f4841faf' },
  // Another seed, a small world (the "small worlds still show…" fallbacks) and a later asOf.
  { seed: 7, citizens: 500, asOf: '2031-05-20', sha256: '990220a91051a5d8523978889f5a7d0827b08c951dec118997e280a9fb9a631c' },
] as const;

describe('generateWorld: golden hashes', () => {
  for (const { seed, citizens, asOf, sha256 } of GOLDEN) {
    it(`seed ${seed}, ${citizens} citizens, asOf ${asOf} gives the pinned world`, () => {
      const world = generateWorld({ seed, citizens, asOf });
      expect(world.citizens).toHaveLength(citizens);
      expect(worldHash(world), 'the generated world changed: see the comment above GOLDEN').toBe(sha256);
    });
  }
});

describe('canonicalJson', () => {
  it('does not depend on key order', () => {
    expect(canonicalJson({ b: [1, { d: null, c: 'x' }], a: true })).toBe(canonicalJson({ a: true, b: [1, { c: 'x', d: null }] }));
    expect(canonicalJson({ b: 1, a: 2 })).toBe('{"a":2,"b":1}');
  });

  it('tells apart values a plain JSON.stringify would conflate', () => {
    expect(canonicalJson({ a: [1, 2] })).not.toBe(canonicalJson({ a: [2, 1] }));
    expect(() => canonicalJson({ a: undefined })).toThrow(/not plain data/);
    expect(() => canonicalJson({ a: Number.NaN })).toThrow(/no JSON form/);
    expect(() => canonicalJson(new Map())).toThrow(/not plain data/);
  });
});
