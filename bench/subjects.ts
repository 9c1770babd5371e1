/**
 * Subject popularity for the benchmark. National services are skewed: a few
 * citizens are looked up many times (the same dossier touched by several steps),
 * most rarely. A Zipf(s=1) draw over the subjects models that honestly, so a cache
 * is rewarded only as much as real traffic would reward it.
 */

/** Small seeded PRNG (mulberry32): the same seed gives the same request sequence. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Returns a function drawing indexes in [0, n) by the given distribution. */
export function makeSubjectPicker(n: number, distribution: 'zipf' | 'uniform', seed: number, s = 1): () => number {
  const rand = mulberry32(seed);
  if (distribution === 'uniform') return () => Math.floor(rand() * n);
  const cdf = new Float64Array(n);
  let total = 0;
  for (let k = 0; k < n; k++) {
    total += 1 / Math.pow(k + 1, s);
    cdf[k] = total;
  }
  return () => {
    const u = rand() * total;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid]! < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}
