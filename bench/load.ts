/**
 * Load generator, run as a separate process so it does not share a CPU event loop
 * with the gateway under test. Closed loop (fixed concurrency, the default) or open
 * loop (`rate`: fixed arrivals per second, latency from each scheduled start, see
 * open-loop.ts); fixed duration, one request body per request (subjects drawn from a
 * Zipf-like or uniform distribution).
 *
 * Usage: tsx bench/load.ts <file with a JSON LoadSpec>  → prints one JSON LoadResult line.
 * (A file, not an argument: 100,000 subjects exceed the kernel's argument size.)
 */
import { readFileSync } from 'node:fs';
import { Pool } from 'undici';
import { makeSubjectPicker } from './subjects.js';
import { percentile, runOpenLoop } from './open-loop.js';

export interface LoadSpec {
  /** Base origin of the target, e.g. http://127.0.0.1:4000 */
  origin: string;
  /** One or more requests that make up one logical request (several = sent in parallel, e.g. the no-gateway floor); `origin` overrides the spec's. */
  requests: Array<{ origin?: string; path: string; headers: Record<string, string>; bodyTemplate: string }>;
  /** Personal IDs to substitute for `$SUBJECT` in body templates. */
  subjects: string[];
  distribution: 'zipf' | 'uniform';
  /** Closed loop: requests in flight. Open loop: connections per origin the requests may use. */
  connections: number;
  durationSec: number;
  /** Open loop at this many requests per second; absent = closed loop. */
  rate?: number;
  seed: number;
}

export interface LoadResult {
  requests: number;
  errors: number;
  rps: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  max: number;
  /** Open loop only: requests scheduled, and the generator's own largest lag behind its schedule (ms). */
  sent?: number;
  maxLagMs?: number;
  /** First error message seen, to tell a misconfigured contender from a slow one. */
  firstError?: string;
}

export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const pools = new Map<string, Pool>();
  const poolFor = (origin: string): Pool => {
    let pool = pools.get(origin);
    if (!pool) pools.set(origin, (pool = new Pool(origin, { connections: spec.connections, pipelining: 1, keepAliveTimeout: 30_000 })));
    return pool;
  };
  const pick = makeSubjectPicker(spec.subjects.length, spec.distribution, spec.seed);
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  const deadline = performance.now() + spec.durationSec * 1000;

  /** One logical request; rejects with the first error (HTTP status or GraphQL errors). */
  async function send(): Promise<void> {
    const subject = spec.subjects[pick()]!;
    await Promise.all(
      spec.requests.map(async (r) => {
        const res = await poolFor(r.origin ?? spec.origin).request({
          method: 'POST',
          path: r.path,
          headers: { 'content-type': 'application/json', ...r.headers },
          body: r.bodyTemplate.replaceAll('$SUBJECT', subject),
        });
        const text = await res.body.text();
        // A GraphQL error in a 200 response is an error for the benchmark too.
        if (res.statusCode !== 200 || text.includes('"errors"')) {
          throw new Error(`HTTP ${res.statusCode}: ${text.slice(0, 300)}`);
        }
      }),
    );
  }

  const summarize = (latencies: number[], elapsedSec: number, extra: Partial<LoadResult>): LoadResult => {
    const sorted = Float64Array.from(latencies).sort();
    return {
      requests: latencies.length,
      errors,
      rps: latencies.length / elapsedSec,
      p50: percentile(sorted, 50),
      p90: percentile(sorted, 90),
      p95: percentile(sorted, 95),
      p99: percentile(sorted, 99),
      max: sorted.length ? sorted[sorted.length - 1]! : 0,
      ...extra,
      ...(firstError ? { firstError } : {}),
    };
  };

  if (spec.rate !== undefined) {
    const out = await runOpenLoop({ rate: spec.rate, durationSec: spec.durationSec, send });
    await Promise.all([...pools.values()].map((p) => p.close()));
    errors = out.errors;
    firstError = out.firstError;
    return summarize(out.latencies, out.elapsedMs / 1000, { sent: out.sent, maxLagMs: out.maxLagMs });
  }

  async function one(): Promise<void> {
    const started = performance.now();
    try {
      await send();
      latencies.push(performance.now() - started);
    } catch (err) {
      errors++;
      firstError ??= (err as Error).message;
    }
  }

  async function worker(): Promise<void> {
    while (performance.now() < deadline) await one();
  }

  const t0 = performance.now();
  await Promise.all(Array.from({ length: spec.connections }, worker));
  const elapsed = (performance.now() - t0) / 1000;
  await Promise.all([...pools.values()].map((p) => p.close()));
  return summarize(latencies, elapsed, {});
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const spec = JSON.parse(readFileSync(process.argv[2] ?? '', 'utf8')) as LoadSpec;
  runLoad(spec).then(
    (r) => process.stdout.write(JSON.stringify(r) + '\n'),
    (err) => {
      process.stderr.write(String(err?.stack ?? err) + '\n');
      process.exit(1);
    },
  );
}
