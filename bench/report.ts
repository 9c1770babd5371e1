/**
 * The benchmark's markdown tables (latest.md, copied into the README): closed loop with
 * gateway CPU per request and RSS, open loop with p50/p95/p99. Rounds of one contender
 * on one workload are averaged.
 */
import type { LoadResult } from './load.js';

export interface ClosedResult extends LoadResult {
  workload: string;
  contender: string;
  label: string;
  round: number;
  /** Gateway RSS after the window, MiB (NaN without a gateway process). */
  memMiB: number;
  /** Gateway CPU (user + system, /proc) over the window divided by its requests, ms (NaN without a gateway process). */
  cpuMsPerRequest: number;
  /** Requests per second of each warm-up window before the measurement. */
  warmupRps: number[];
  /** Response cache hit ratio of each warm-up window (contenders with a response cache). */
  warmupHitRatios?: number[];
  /** True when the warm-up settled (bench/warmup.ts: the last windows agree, and the hit ratio with them). */
  warmupStable: boolean;
  /** Response cache hit ratio during the measurement (contenders with a response cache). */
  hitRatio?: number;
}

export interface OpenResult extends LoadResult {
  workload: string;
  contender: string;
  label: string;
  /** Arrival rate, req/s. */
  rate: number;
  memMiB: number;
  cpuMsPerRequest: number;
  /** Response cache hit ratio during the measurement (contenders with a response cache). */
  hitRatio?: number;
}

export interface SoakResult {
  contender: string;
  seconds: number;
  warmupSec: number;
  memAfterWarmupMiB: number;
  memEndMiB: number;
  growthPct: number;
  rps: number;
  heapAfterWarmupMiB: number | null;
  heapEndMiB: number | null;
}

type NumericKey = 'rps' | 'p50' | 'p95' | 'p99' | 'errors' | 'memMiB' | 'cpuMsPerRequest';

function mean<T extends Record<NumericKey, number>>(rows: readonly T[], key: NumericKey): number {
  const xs = rows.map((r) => r[key]).filter(Number.isFinite);
  return xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : NaN;
}

/** A figure, or – when not measured (no gateway process, no baseline). */
function fmt(x: number, digits: number): string {
  return Number.isFinite(x) ? x.toFixed(digits) : '–';
}

function groups<T extends { workload: string; contender: string }>(rows: readonly T[]): Array<[string, string, T[]]> {
  const out = new Map<string, [string, string, T[]]>();
  for (const r of rows) {
    const k = `${r.workload}\u0000${r.contender}`;
    if (!out.has(k)) out.set(k, [r.workload, r.contender, []]);
    out.get(k)![2].push(r);
  }
  return [...out.values()];
}

/** Hit ratio as a whole percentage, or – (no response cache). */
function pct(x: number | undefined): string {
  return x !== undefined && Number.isFinite(x) ? `${(x * 100).toFixed(0)} %` : '–';
}

/**
 * Warm-up as "98→180→230→240" (first round), marked when it never settled; a long one (a
 * response cache filling) as its first two and last three windows with the count, and the
 * cache hit ratio of its first and last window.
 */
function warmupText(rows: readonly ClosedResult[]): string {
  const first = rows.find((r) => r.round === 0) ?? rows[0];
  if (!first || first.warmupRps.length === 0) return '–';
  const w = first.warmupRps.map((x) => x.toFixed(0));
  const windows = w.length > 6 ? `${w.slice(0, 2).join('→')}→…→${w.slice(-3).join('→')} (${w.length} windows)` : w.join('→');
  const h = first.warmupHitRatios ?? [];
  const hits = h.length ? `, cache hits ${pct(h[0])} → ${pct(h[h.length - 1])}` : '';
  return `${windows}${hits}${first.warmupStable ? '' : ' (not stable)'}`;
}

/** Mean hit ratio of rows that report one. */
function meanHitRatio(rows: ReadonlyArray<{ hitRatio?: number }>): number | undefined {
  const xs = rows.map((r) => r.hitRatio).filter((x): x is number => x !== undefined && Number.isFinite(x));
  return xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : undefined;
}

export function closedTable(results: readonly ClosedResult[]): string {
  const lines = [
    '| workload | contender | req/s (per round) | p50 ms | p99 ms | errors | gateway CPU ms/request | gateway RSS MiB | × (c) req/s | cache hits | warm-up req/s |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|',
  ];
  for (const [workload, id, rs] of groups(results)) {
    const baseline = mean(results.filter((r) => r.workload === workload && r.contender === 'c'), 'rps');
    const rps = mean(rs, 'rps');
    lines.push(
      `| ${workload} | ${id}: ${rs[0]!.label} | ${fmt(rps, 0)}${rs.length > 1 ? ` (${rs.map((r) => fmt(r.rps, 0)).join(' / ')})` : ''} | ${fmt(mean(rs, 'p50'), 1)} | ${fmt(mean(rs, 'p99'), 1)} | ${fmt(mean(rs, 'errors'), 0)} | ${fmt(mean(rs, 'cpuMsPerRequest'), 2)} | ${fmt(mean(rs, 'memMiB'), 0)} | ${fmt(rps / baseline, 2)} | ${pct(meanHitRatio(rs))} | ${warmupText(rs)} |`,
    );
  }
  return lines.join('\n');
}

export function openTable(results: readonly OpenResult[]): string {
  const lines = ['| workload | contender | rate req/s | served req/s | p50 ms | p95 ms | p99 ms | errors | gateway CPU ms/request | cache hits |', '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|'];
  for (const [workload, id, rs] of groups(results)) {
    lines.push(
      `| ${workload} | ${id}: ${rs[0]!.label} | ${rs[0]!.rate} | ${fmt(mean(rs, 'rps'), 0)} | ${fmt(mean(rs, 'p50'), 1)} | ${fmt(mean(rs, 'p95'), 1)} | ${fmt(mean(rs, 'p99'), 1)} | ${fmt(mean(rs, 'errors'), 0)} | ${fmt(mean(rs, 'cpuMsPerRequest'), 2)} | ${pct(meanHitRatio(rs))} |`,
    );
  }
  return lines.join('\n');
}
