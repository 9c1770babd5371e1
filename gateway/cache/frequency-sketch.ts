/**
 * How often each response key was asked recently, approximately, in fixed memory: TinyLFU's
 * count-min sketch (Einziger, Friedman, Manes: "TinyLFU: A Highly Efficient Cache Admission
 * Policy", 2017; the same structure as Caffeine's FrequencySketch). Four rows of 8-bit counters
 * that saturate at 15; a key's estimate is the smallest of its four counters, so it is never
 * below the key's true count since the last halving (collisions can only add). Every `sample`
 * recordings all counters are halved, so the counts follow what is asked now, not an hour ago.
 *
 * The response cache asks it one question when its LRU is full: is the new response asked more
 * often than the one it would push out? (response-cache.ts, admission `frequency`.)
 */

/** Counters per row (a power of two). Default 65,536: 4 rows of one byte each, 256 KiB. */
const DEFAULT_WIDTH = 65_536;
/** Largest count a counter holds (TinyLFU's 4-bit counters). */
export const SKETCH_MAX_COUNT = 15;

export interface FrequencySketchOptions {
  /** Counters per row, rounded up to a power of two. Default 65,536 (256 KiB in all). */
  width?: number;
  /** Recordings between two halvings. Default 5 × width (327,680: about 7 minutes at 800 requests/s). */
  sample?: number;
}

export class FrequencySketch {
  private readonly table: Uint8Array;
  private readonly mask: number;
  private readonly sample: number;
  private recorded = 0;

  constructor(opts: FrequencySketchOptions = {}) {
    let width = 1;
    while (width < Math.max(16, opts.width ?? DEFAULT_WIDTH)) width *= 2;
    this.table = new Uint8Array(width * 4);
    this.mask = width - 1;
    this.sample = Math.max(1, Math.floor(opts.sample ?? 5 * width));
  }

  /** FNV-1a of `key`; each row derives its column from it (`index`). No allocation: one call per lookup. */
  private static hash(key: string): number {
    let h = 0x811c9dc5;
    for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
    return h;
  }

  /** The counter of hash `h` in `row`: a different finaliser per row (murmur3's fmix32 of h ^ row seed), independent columns. */
  private index(h: number, row: number): number {
    let x = h ^ Math.imul(row + 1, 0x9e3779b9);
    x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
    x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
    x ^= x >>> 16;
    return row * (this.mask + 1) + (x & this.mask);
  }

  /** One more request for `key`. */
  record(key: string): void {
    const h = FrequencySketch.hash(key);
    for (let row = 0; row < 4; row++) {
      const i = this.index(h, row);
      const c = this.table[i]!;
      if (c < SKETCH_MAX_COUNT) this.table[i] = c + 1;
    }
    if (++this.recorded >= this.sample) this.halve();
  }

  /** Requests for `key` since the last halving (or half of those before it, and so on): at least the true count, at most 15. */
  estimate(key: string): number {
    const h = FrequencySketch.hash(key);
    let min = SKETCH_MAX_COUNT;
    for (let row = 0; row < 4; row++) min = Math.min(min, this.table[this.index(h, row)]!);
    return min;
  }

  private halve(): void {
    for (let i = 0; i < this.table.length; i++) this.table[i] = this.table[i]! >> 1;
    this.recorded = 0;
  }
}
