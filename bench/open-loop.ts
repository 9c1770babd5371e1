/**
 * Open-loop load: requests leave at a fixed arrival rate whatever the target does, and
 * each latency is measured from the moment its request was SCHEDULED to leave, not from
 * when it actually left. A closed loop (N connections, next request when the previous
 * answers) slows down with the target and so hides queueing ("coordinated omission");
 * at 64 connections on two shared cores its latency only measures that queue.
 * If the generator itself falls behind (a busy event loop), the late request is sent at
 * once and its lateness counts in its latency; `maxLagMs` says how late it ever was.
 */

export interface OpenLoopClock {
  /** Milliseconds on a monotonic clock. */
  now(): number;
  /** Resolves at (or after) time `t` of `now()`; at once when `t` has passed. */
  sleepUntil(t: number): Promise<void>;
}

export const realClock: OpenLoopClock = {
  now: () => performance.now(),
  sleepUntil: (t) => {
    const wait = t - performance.now();
    return wait <= 0 ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, wait));
  },
};

export interface OpenLoopOptions {
  /** Arrivals per second. */
  rate: number;
  durationSec: number;
  /** Sends one request; rejects when it failed. Not awaited before the next arrival. */
  send: () => Promise<void>;
  /** Default: performance.now() and setTimeout. */
  clock?: OpenLoopClock;
}

export interface OpenLoopOutcome {
  /** Requests sent (rate × duration). */
  sent: number;
  /** Latency of each successful request from its scheduled start, ms, in completion order. */
  latencies: number[];
  errors: number;
  firstError?: string;
  /** Largest delay between a request's scheduled and actual start (the generator's own lag), ms. */
  maxLagMs: number;
  /** From the first scheduled start to the last completion, ms. */
  elapsedMs: number;
}

/** The scheduled start of request `i` (0-based), ms after the start. */
export function scheduledOffset(i: number, rate: number): number {
  return (i * 1000) / rate;
}

export async function runOpenLoop(opts: OpenLoopOptions): Promise<OpenLoopOutcome> {
  if (!(opts.rate > 0)) throw new Error(`The open-loop rate must be a positive number of requests per second (got ${opts.rate}).`);
  const clock = opts.clock ?? realClock;
  const total = Math.floor(opts.rate * opts.durationSec);
  const latencies: number[] = [];
  const inFlight: Promise<void>[] = [];
  let errors = 0;
  let firstError: string | undefined;
  let maxLagMs = 0;
  const t0 = clock.now();
  for (let i = 0; i < total; i++) {
    const at = t0 + scheduledOffset(i, opts.rate);
    await clock.sleepUntil(at);
    maxLagMs = Math.max(maxLagMs, clock.now() - at);
    inFlight.push(
      opts.send().then(
        () => void latencies.push(clock.now() - at),
        (err: unknown) => {
          errors++;
          firstError ??= err instanceof Error ? err.message : String(err);
        },
      ),
    );
  }
  await Promise.all(inFlight);
  return { sent: total, latencies, errors, ...(firstError !== undefined ? { firstError } : {}), maxLagMs, elapsedMs: clock.now() - t0 };
}

/** The p-th percentile (nearest rank) of ascending `sorted`; 0 when empty. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
