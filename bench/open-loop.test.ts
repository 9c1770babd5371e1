import { describe, expect, it } from 'vitest';
import { percentile, runOpenLoop, scheduledOffset, type OpenLoopClock } from './open-loop.js';

/** A discrete-event clock: time moves only when every pending promise has settled. */
function virtualClock() {
  let now = 0;
  const timers: Array<{ at: number; fire: () => void }> = [];
  const clock: OpenLoopClock = {
    now: () => now,
    sleepUntil: (t) => (t <= now ? Promise.resolve() : new Promise((resolve) => timers.push({ at: t, fire: resolve }))),
  };
  const after = (ms: number) => new Promise<void>((resolve) => timers.push({ at: now + ms, fire: resolve }));
  /** Runs `work` to completion, advancing virtual time from timer to timer. */
  async function run<T>(work: Promise<T>): Promise<T> {
    let done = false;
    const result = work.finally(() => (done = true));
    while (!done) {
      for (let i = 0; i < 20; i++) await Promise.resolve(); // let settled promises run
      if (done) break;
      timers.sort((a, b) => a.at - b.at);
      const next = timers.shift();
      if (!next) throw new Error('deadlock: nothing scheduled and the work is not done');
      now = Math.max(now, next.at);
      next.fire();
    }
    return result;
  }
  return { clock, after, run, sent: [] as number[] };
}

describe('open-loop scheduler', () => {
  it('spaces arrivals by 1/rate', () => {
    expect([0, 1, 2, 100].map((i) => scheduledOffset(i, 100))).toEqual([0, 10, 20, 1000]);
  });

  it('keeps sending on schedule while a slow response is outstanding, and counts the wait from the schedule', async () => {
    const v = virtualClock();
    const starts: number[] = [];
    let n = 0;
    const send = () => {
      starts.push(v.clock.now());
      // The first request stalls 500 ms; the others answer in 5 ms.
      return v.after(n++ === 0 ? 500 : 5);
    };
    const out = await v.run(runOpenLoop({ rate: 100, durationSec: 0.1, send, clock: v.clock }));
    expect(out.sent).toBe(10);
    expect(starts).toEqual([0, 10, 20, 30, 40, 50, 60, 70, 80, 90]); // not held back by the stall
    expect([...out.latencies].sort((a, b) => a - b)).toEqual([5, 5, 5, 5, 5, 5, 5, 5, 5, 500]);
    expect(out.maxLagMs).toBe(0);
    expect(out.elapsedMs).toBe(500);
  });

  it('charges the generator’s own lateness to the late request', async () => {
    const v = virtualClock();
    let n = 0;
    // The generator is blocked 25 ms after the first send (as by a busy event loop): the
    // requests due at 10 and 20 ms leave at 25 ms and their latency counts from 10 and 20.
    const send = async () => {
      if (n++ === 0) await v.clock.sleepUntil(0);
      return v.after(1);
    };
    const blockingClock: OpenLoopClock = {
      now: v.clock.now,
      sleepUntil: (t) => (t === 10 ? v.after(25) : v.clock.sleepUntil(t)),
    };
    const out = await v.run(runOpenLoop({ rate: 100, durationSec: 0.03, send, clock: blockingClock }));
    expect(out.maxLagMs).toBe(15);
    expect([...out.latencies].sort((a, b) => a - b)).toEqual([1, 6, 16]);
  });

  it('counts failures and keeps the first message', async () => {
    const v = virtualClock();
    let n = 0;
    const send = async () => {
      await v.after(1);
      if (n++ % 2 === 1) throw new Error(`boom ${n}`);
    };
    const out = await v.run(runOpenLoop({ rate: 10, durationSec: 0.4, send, clock: v.clock }));
    expect(out).toMatchObject({ sent: 4, errors: 2, firstError: 'boom 2' });
    expect(out.latencies).toHaveLength(2);
  });

  it('refuses a rate that is not positive', async () => {
    await expect(runOpenLoop({ rate: 0, durationSec: 1, send: async () => {} })).rejects.toThrow(/positive/);
  });

  it('takes nearest-rank percentiles', () => {
    const xs = Float64Array.from({ length: 100 }, (_, i) => i + 1);
    expect([percentile(xs, 50), percentile(xs, 95), percentile(xs, 99), percentile(xs, 100)]).toEqual([50, 95, 99, 100]);
    expect(percentile([], 99)).toBe(0);
    expect(percentile([7], 1)).toBe(7);
  });
});
