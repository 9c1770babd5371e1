/**
 * Warm-up until throughput is stable, so no contender is measured cold (a gateway's
 * first seconds pay for JIT, query-plan and document caches, pools and, for Motlan,
 * its response cache filling). Short windows are repeated until two consecutive ones
 * differ by less than `tolerance`, or `maxWindows` have run.
 */

export interface WarmupOptions {
  /** Largest relative difference between two consecutive windows that counts as stable. Default: 0.1 (10 %). */
  tolerance?: number;
  /** Windows run at most, stable or not. Default: 6. */
  maxWindows?: number;
  /** Windows run at least (the first one is always cold, so it never counts alone). Default: 2. */
  minWindows?: number;
}

export interface WarmupOutcome {
  /** Requests per second of each window, in order. */
  windows: number[];
  /** True when the last two windows differ by less than the tolerance. */
  stable: boolean;
}

/** Relative difference of two throughputs, against the larger (0 when both are 0). */
export function relativeDifference(a: number, b: number): number {
  const larger = Math.max(Math.abs(a), Math.abs(b));
  return larger === 0 ? 0 : Math.abs(a - b) / larger;
}

/** True when the last two windows differ by less than `tolerance`. */
export function isStable(windows: readonly number[], tolerance = 0.1): boolean {
  if (windows.length < 2) return false;
  return relativeDifference(windows[windows.length - 1]!, windows[windows.length - 2]!) < tolerance;
}

/** Runs `window()` (one warm-up window, resolving to its req/s) until stable or the cap. */
export async function warmUntilStable(window: () => Promise<number>, opts: WarmupOptions = {}): Promise<WarmupOutcome> {
  const tolerance = opts.tolerance ?? 0.1;
  const maxWindows = Math.max(1, opts.maxWindows ?? 6);
  const minWindows = Math.min(maxWindows, Math.max(1, opts.minWindows ?? 2));
  const windows: number[] = [];
  while (windows.length < maxWindows) {
    windows.push(await window());
    if (windows.length >= minWindows && isStable(windows, tolerance)) return { windows, stable: true };
  }
  return { windows, stable: isStable(windows, tolerance) };
}
