/**
 * Subject popularity for the benchmark. National services are skewed: a few
 * citizens are looked up many times (the same dossier touched by several steps),
 * most rarely. A Zipf(s=1) draw over the subjects models that honestly, so a cache
 * is rewarded only as much as real traffic would reward it. Draws use the
 * generator's seeded PRNG: the same seed gives the same request sequence.
 */
import { createRandom, weighted } from '../mocks/world/random.js';

/** Returns a function drawing indexes in [0, n) by the given distribution. */
export function makeSubjectPicker(n: number, distribution: 'zipf' | 'uniform', seed: number, s = 1): () => number {
  const random = createRandom(seed);
  if (distribution === 'uniform') return () => random.int(0, n - 1);
  const table = weighted(Array.from({ length: n }, (_, k) => [k, 1 / Math.pow(k + 1, s)] as const));
  return () => random.pickWeighted(table);
}
