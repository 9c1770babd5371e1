import { describe, expect, it } from 'vitest';
import { isStable, relativeDifference, warmUntilStable } from './warmup.js';

const windowsOf = (rates: number[]) => {
  let i = 0;
  const calls = () => i;
  return { window: async () => rates[i++]!, calls };
};

describe('warm-up stability rule', () => {
  it('measures the difference against the larger window', () => {
    expect(relativeDifference(100, 90)).toBeCloseTo(0.1);
    expect(relativeDifference(90, 100)).toBeCloseTo(0.1);
    expect(relativeDifference(0, 0)).toBe(0);
  });

  it('is stable only when the last two windows differ by less than the tolerance', () => {
    expect(isStable([100])).toBe(false);
    expect(isStable([50, 100, 95])).toBe(true);
    expect(isStable([95, 100, 50])).toBe(false);
    expect(isStable([100, 90])).toBe(false); // exactly 10 %: not less than
    expect(isStable([100, 80], 0.25)).toBe(true);
  });

  it('repeats windows while throughput still climbs, then stops at the first stable pair', async () => {
    const w = windowsOf([98, 180, 230, 240, 500]);
    const out = await warmUntilStable(w.window);
    expect(out).toEqual({ windows: [98, 180, 230, 240], stable: true });
    expect(w.calls()).toBe(4);
  });

  it('stops at the cap and says the contender never settled', async () => {
    const w = windowsOf([100, 200, 100, 200, 100, 200, 100]);
    const out = await warmUntilStable(w.window, { maxWindows: 4 });
    expect(out).toEqual({ windows: [100, 200, 100, 200], stable: false });
  });

  it('runs at least minWindows even when the first pair already agrees', async () => {
    const w = windowsOf([100, 100, 100, 100]);
    expect(await warmUntilStable(w.window, { minWindows: 3 })).toEqual({ windows: [100, 100, 100], stable: true });
  });
});
