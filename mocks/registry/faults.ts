/**
 * Fault injection for the mock registries: latency, jitter, random errors, slow
 * responses and full outages, settable at start and changed at run time (by
 * `PUT /__admin/faults` or `setFaults()`), so tests can exercise timeouts, retries
 * and partial results against a registry that misbehaves on demand.
 */
import { EnvReader } from '../../lib/env-options.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { createRandom, type Random } from '../world/random.js';

export interface Faults {
  /** Delay added to every API call, in ms. Default 0. */
  latencyMs: number;
  /** Extra random delay, uniformly 0..jitterMs ms. Default 0. */
  jitterMs: number;
  /** Share of API calls (0..1) answered 503 `unavailable`. Default 0. */
  errorRate: number;
  /** Share of API calls (0..1) delayed by `slowMs` more. Default 0. */
  slowRate: number;
  /** Extra delay of a slow call, in ms. Default 5000: longer than the subgraphs' 2000 ms timeout. */
  slowMs: number;
  /** While true every API call (and /health) answers 503. Default false. */
  outage: boolean;
}

export const NO_FAULTS: Readonly<Faults> = Object.freeze({
  latencyMs: 0,
  jitterMs: 0,
  errorRate: 0,
  slowRate: 0,
  slowMs: 5000,
  outage: false,
});

const MAX_DELAY_MS = 120_000;
const delay = z.number().int().min(0).max(MAX_DELAY_MS);
const rate = z.number().min(0).max(1);
const FaultsSchema = z.strictObject({
  latencyMs: delay,
  jitterMs: delay,
  errorRate: rate,
  slowRate: rate,
  slowMs: delay,
  outage: z.boolean(),
}).partial();

/** Validates a partial fault setting; throws an Error naming each wrong field and its allowed range. */
export function parseFaults(input: unknown): Partial<Faults> {
  const result = FaultsSchema.safeParse(input);
  if (!result.success) {
    throw new Error(
      `Invalid faults: ${z.prettifyError(result.error).replace(/\n/g, ' ')} `
      + `(expected {latencyMs, jitterMs, slowMs: 0..${MAX_DELAY_MS} ms, errorRate, slowRate: 0..1, outage: boolean}).`,
    );
  }
  return result.data as Partial<Faults>;
}

/**
 * Faults from the environment: MOCK_LATENCY_MS, MOCK_JITTER_MS, MOCK_ERROR_RATE,
 * MOCK_SLOW_RATE, MOCK_SLOW_MS, MOCK_OUTAGE (on/off, true/false, 1/0). Unset variables are left out.
 */
export function faultsFromEnv(env: NodeJS.ProcessEnv = process.env): Partial<Faults> {
  // The strict parser shared by every setting (lib/env-options.ts); ranges are checked by parseFaults.
  const reader = new EnvReader(env);
  const out: Record<string, unknown> = {};
  const map: Array<[keyof Faults, string]> = [
    ['latencyMs', 'MOCK_LATENCY_MS'], ['jitterMs', 'MOCK_JITTER_MS'], ['errorRate', 'MOCK_ERROR_RATE'],
    ['slowRate', 'MOCK_SLOW_RATE'], ['slowMs', 'MOCK_SLOW_MS'],
  ];
  for (const [key, name] of map) {
    const value = reader.number(name, { min: -Infinity });
    if (value !== undefined) out[key] = value;
  }
  const outage = reader.flag('MOCK_OUTAGE');
  if (outage !== undefined) out.outage = outage;
  try {
    return parseFaults(out);
  } catch (err) {
    throw new Error(`${(err as Error).message} Check the MOCK_* environment variables.`);
  }
}

export type FaultOutcome = 'ok' | 'outage' | 'error' | 'aborted';

/** Current faults of one registry and the seeded randomness that applies them. */
export class FaultInjector {
  private current: Faults;
  private readonly random: Random;
  private readonly aborter = new AbortController();

  constructor(initial: Partial<Faults> = {}, seed = 1) {
    this.current = { ...NO_FAULTS, ...parseFaults(initial) };
    this.random = createRandom(seed);
  }

  get faults(): Faults {
    return { ...this.current };
  }

  /** Merges a partial setting (fields left out keep their value). */
  set(partial: Partial<Faults>): Faults {
    this.current = { ...this.current, ...parseFaults(partial) };
    return this.faults;
  }

  reset(): Faults {
    this.current = { ...NO_FAULTS };
    return this.faults;
  }

  /** Applies the faults to one API call: waits the injected delay, then says how the call must end. */
  async apply(): Promise<FaultOutcome> {
    const f = this.current;
    if (f.outage) return 'outage';
    let wait = f.latencyMs;
    if (f.jitterMs > 0) wait += this.random.next() * f.jitterMs;
    if (f.slowRate > 0 && this.random.chance(f.slowRate)) wait += f.slowMs;
    if (wait > 0) {
      try {
        await sleep(wait, undefined, { signal: this.aborter.signal });
      } catch {
        return 'aborted';
      }
    }
    if (f.errorRate > 0 && this.random.chance(f.errorRate)) return 'error';
    // The outage may have started while this call was waiting.
    return this.current.outage ? 'outage' : 'ok';
  }

  /** Ends pending delays at shutdown, so closing never waits for a slow fault. */
  abort(): void {
    this.aborter.abort();
  }
}
