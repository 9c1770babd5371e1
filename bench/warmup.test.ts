import { describe, expect, it } from 'vitest';
import { hitRatioSettled, isStable, relativeDifference, warmUntilStable, type WarmupWindow } from './warmup.js';

const windowsOf = (rates: number[], hitRatios?: number[]) => {
  let i = 0;
  const calls = () => i;
  const window = async (): Promise<WarmupWindow> => {
    const k = i++;
    return { rps: rates[k]!, ...(hitRatios ? { hitRatio: hitRatios[k]! } : {}) };
  };
  return { window, calls };
};

describe('warm-up stability rule', () => {
  it('measures the difference against the larger window', () => {
    expect(relativeDifference(100, 90)).toBeCloseTo(0.1);
    expect(relativeDifference(90, 100)).toBeCloseTo(0.1);
    expect(relativeDifference(0, 0)).toBe(0);
  });

  it('is stable only when the last `span` windows spread by less than the tolerance', () => {
    expect(isStable([100])).toBe(false);
    expect(isStable([100, 100])).toBe(false); // fewer windows than the span
    expect(isStable([50, 100, 95, 98])).toBe(true);
    expect(isStable([95, 100, 50])).toBe(false);
    expect(isStable([100, 95, 90])).toBe(false); // exactly 10 % over the span: not less than
    expect(isStable([100, 80], 0.25, 2)).toBe(true);
  });

  it('does not take a slow steady climb for a plateau (each step under the tolerance, the span over it)', () => {
    // (a) warming its response cache: +7 % per window passed the old two-window rule.
    expect(isStable([600, 645, 690])).toBe(false);
    expect(isStable([600, 645], 0.1, 2)).toBe(true);
  });

  it('repeats windows while throughput still climbs, then stops at the first stable span', async () => {
    const w = windowsOf([98, 180, 230, 240, 245, 500]);
    const out = await warmUntilStable(w.window);
    expect(out).toEqual({ windows: [98, 180, 230, 240, 245], stable: true });
    expect(w.calls()).toBe(5);
  });

  it('keeps warming while the cache hit ratio still climbs, even when throughput looks flat', async () => {
    const ratios = [0.5, 0.6, 0.7, 0.75, 0.76, 0.765, 0.76, 0.765, 0.77, 0.9];
    const w = windowsOf([500, 510, 505, 508, 509, 507, 506, 508, 507, 507], ratios);
    const out = await warmUntilStable(w.window);
    expect(out).toEqual({ windows: [500, 510, 505, 508, 509, 507, 506, 508], hitRatios: ratios.slice(0, 8), stable: true });
    expect(hitRatioSettled([0.7, 0.75, 0.76])).toBe(false);
    expect(hitRatioSettled([0.75, 0.76, 0.765, 0.76, 0.765])).toBe(true);
    // A cache storing on the second miss climbs a point a window: three windows within 2 points are not a plateau.
    expect(hitRatioSettled([0.59, 0.61, 0.63, 0.63, 0.64])).toBe(false);
    expect(hitRatioSettled([0.63, 0.63, 0.64], 0.02, 3)).toBe(true);
  });

  it('stops at the cap and says the contender never settled', async () => {
    const w = windowsOf([100, 200, 100, 200, 100, 200, 100]);
    const out = await warmUntilStable(w.window, { maxWindows: 4 });
    expect(out).toEqual({ windows: [100, 200, 100, 200], stable: false });
  });

  it('runs at least minWindows even when the first span already agrees', async () => {
    const w = windowsOf([100, 100, 100, 100, 100]);
    expect(await warmUntilStable(w.window, { minWindows: 4 })).toEqual({ windows: [100, 100, 100, 100], stable: true });
  });
});
