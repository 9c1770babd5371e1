/**
 * Which missed entries a cache stores: the admission rules of the response cache and the
 * subgraph-fetch cache (docs/CACHE.md, "Admission"). Only what is stored is decided here; every
 * request has passed the policy before any lookup.
 */
import { FrequencySketch } from './frequency-sketch.js';

/**
 * TinyLFU's "doorkeeper": an entry is stored the second time its key misses within the window,
 * not the first. Most keys of uniform or long-tailed traffic are asked once: storing them cost an
 * encoding, an LRU insert and their tags, and pushed out entries that are asked again
 * (`npx tsx bench/admission-sim.ts`). Two generations of keys (the current one turns into the
 * previous one when full), so the memory is bounded and a key is remembered for at least
 * `window` misses.
 */
export class Doorkeeper {
  private current = new Set<string>();
  private previous = new Set<string>();

  constructor(private readonly window: number) {}

  /** True when `key` missed before within the window (store it); otherwise remembers it. */
  admit(key: string): boolean {
    if (this.current.has(key) || this.previous.has(key)) return true;
    this.current.add(key);
    if (this.current.size >= this.window) {
      this.previous = this.current;
      this.current = new Set();
    }
    return false;
  }
}

/** When a missed entry is stored (docs/CACHE.md, "Admission"). */
export type AdmissionRule = 'first' | 'second' | 'frequency';
export const ADMISSION_RULES: readonly AdmissionRule[] = ['frequency', 'second', 'first'];

/**
 * The admission rule, one object per cache: `first` stores every miss; `second` what the
 * Doorkeeper admits; `frequency` that, and once the LRU is full only a key asked more often
 * recently (FrequencySketch, fed by every lookup) than the entry storing it would push out.
 * Used by the cache and by the simulation (bench/admission-sim.ts), so both run the same rule.
 */
export class Admission {
  private readonly doorkeeper: Doorkeeper | null;
  private readonly sketch: FrequencySketch | null;

  /** `window`: misses a Doorkeeper generation holds. Default 65,536. */
  constructor(rule: AdmissionRule, window = 65_536) {
    this.doorkeeper = rule !== 'first' ? new Doorkeeper(window) : null;
    this.sketch = rule === 'frequency' ? new FrequencySketch() : null;
  }

  /** A lookup of `key`, hit or miss. */
  seen(key: string): void {
    this.sketch?.record(key);
  }

  /** Whether to store `key` after its miss; `victim` names the entry storing it would push out (undefined: there is room). */
  admit(key: string, victim: () => string | undefined): boolean {
    // Asked once so far: remembered, not stored.
    if (this.doorkeeper && !this.doorkeeper.admit(key)) return false;
    if (!this.sketch) return true;
    const out = victim();
    return out === undefined || this.sketch.estimate(key) > this.sketch.estimate(out);
  }

  /** The sketch's estimate for `key` (0 without the frequency rule); for tests. */
  estimate(key: string): number {
    return this.sketch?.estimate(key) ?? 0;
  }
}
