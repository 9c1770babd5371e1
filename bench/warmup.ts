/**
 * Warm-up until throughput is stable, so no contender is measured cold (a gateway's
 * first seconds pay for JIT, query-plan and document caches, pools and, for Motlan,
 * its response cache filling). Short windows are repeated until the last `span` of them
 * agree within `tolerance`, or `maxWindows` have run.
 *
 * Why `span` windows and not two: a response cache under a Zipf draw fills slowly (its hit
 * ratio climbs with the log of the requests seen, until entries start expiring after their
 * TTL), so throughput rises by less than the tolerance from one window to the next while
 * still rising a lot over several: two consecutive windows 8 % apart passed the old rule
 * while (a) was still warming (72→129→187→225 req/s). Three windows within 10 % of each other
 * mean the rise is below ~5 % per window. When the target reports its response cache's hit
 * ratio, that must have settled too (the cache is full): it is the direct measure of what the
 * throughput only shows through the machine's noise. Over five windows, not three: a cache that
 * stores a response on its second miss fills more slowly, and three windows climbing a point each
 * (61 → 63 → 63 → 64 %) passed as settled while the ratio went on to the mid-70s.
 */

export interface WarmupOptions {
  /** Largest relative spread (max − min, against max) of the last `span` windows that counts as stable. Default: 0.1 (10 %). */
  tolerance?: number;
  /** Windows compared. Default: 3. */
  span?: number;
  /** Largest spread of the last `hitRatioSpan` windows' cache hit ratios (absolute, 0..1) that counts as settled. Default: 0.02. */
  hitRatioTolerance?: number;
  /** Windows whose hit ratios are compared. Default: 5. */
  hitRatioSpan?: number;
  /** Windows run at most, stable or not. Default: 30. */
  maxWindows?: number;
  /** Windows run at least (the first one is always cold, so it never counts alone). Default: `span`. */
  minWindows?: number;
}

/** One warm-up window: its throughput and, for a target with a response cache, its hit ratio in that window. */
export interface WarmupWindow {
  rps: number;
  /** Hits / (hits + misses) of the response cache during the window; absent when the target has none. */
  hitRatio?: number;
}

export interface WarmupOutcome {
  /** Requests per second of each window, in order. */
  windows: number[];
  /** Cache hit ratio of each window, in order (only for targets that report one). */
  hitRatios?: number[];
  /** True when the last `span` windows agree (throughput, and hit ratio when reported). */
  stable: boolean;
}

/** Relative difference of two throughputs, against the larger (0 when both are 0). */
export function relativeDifference(a: number, b: number): number {
  const larger = Math.max(Math.abs(a), Math.abs(b));
  return larger === 0 ? 0 : Math.abs(a - b) / larger;
}

/** True when the last `span` throughputs spread by less than `tolerance` (relative to the largest). */
export function isStable(windows: readonly number[], tolerance = 0.1, span = 3): boolean {
  if (windows.length < Math.max(2, span)) return false;
  const last = windows.slice(-Math.max(2, span));
  return relativeDifference(Math.min(...last), Math.max(...last)) < tolerance;
}

/** True when the last `span` hit ratios spread by less than `tolerance` (absolute). */
export function hitRatioSettled(ratios: readonly number[], tolerance = 0.02, span = 5): boolean {
  if (ratios.length < Math.max(2, span)) return false;
  const last = ratios.slice(-Math.max(2, span));
  return Math.max(...last) - Math.min(...last) < tolerance;
}

/** Runs `window()` (one warm-up window) until stable or the cap. */
export async function warmUntilStable(window: () => Promise<WarmupWindow>, opts: WarmupOptions = {}): Promise<WarmupOutcome> {
  const tolerance = opts.tolerance ?? 0.1;
  const span = Math.max(2, opts.span ?? 3);
  const hitTolerance = opts.hitRatioTolerance ?? 0.02;
  const hitSpan = Math.max(2, opts.hitRatioSpan ?? 5);
  const maxWindows = Math.max(1, opts.maxWindows ?? 30);
  const minWindows = Math.min(maxWindows, Math.max(1, opts.minWindows ?? span));
  const windows: number[] = [];
  const hitRatios: number[] = [];
  const stable = () =>
    isStable(windows, tolerance, span) && (hitRatios.length === 0 || (hitRatios.length === windows.length && hitRatioSettled(hitRatios, hitTolerance, hitSpan)));
  while (windows.length < maxWindows) {
    const w = await window();
    windows.push(w.rps);
    if (w.hitRatio !== undefined && Number.isFinite(w.hitRatio)) hitRatios.push(w.hitRatio);
    if (windows.length >= minWindows && stable()) break;
  }
  return { windows, ...(hitRatios.length ? { hitRatios } : {}), stable: stable() };
}
