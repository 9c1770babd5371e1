/**
 * Data-sharing statistics read from the rollup tables the audit store keeps in step with its
 * records (gateway/core/stats-rollup.ts), so a figure costs the same whatever the volume: a
 * query reads the narrowest cube that has its grouping and filter dimensions, and a 30-day period
 * reads a handful of aligned multi-day blocks plus edge days, never the records.
 *
 * A period [from, to) is cut into: whole Vietnamese days (aligned blocks of 16/8/4/2 days and
 * single days; single days when grouping by day, blocks inside each month when grouping by month),
 * whole hours at its ends (hour rollups), and the parts of at most two hours that are not whole: in
 * cube n their whole 5-minute rows, the rest (in the other cubes all of it) read from the raw
 * records and folded with the very function the store uses to write rollups (on PostgreSQL, where
 * the larger part of an hour is in the period, its hour row less the records outside). Every figure is
 * therefore exact, except percentiles, which come from a fixed histogram (at most 18.9 % above
 * the exact nearest-rank value, see LATENCY_BOUNDS_MS). docs/CONSOLE.md defines every figure.
 *
 * Semantics:
 * - A request counts in the period of its arrival time (`ts`), once.
 * - Grouping by registry puts a request in every registry it contacted, so those groups do not
 *   add up to the total; their `entitiesShared` counts only that registry's entities.
 * - A dossier (client, dossier id) counts in the period, and under the client/agency/tier/
 *   province/procedure, of its FIRST request; `withComponentsCut` when any of its requests so far
 *   cut a component. Dossier figures are null when grouping or filtering by registry or outcome
 *   (a dossier has no single registry or outcome).
 * - With a procedure catalog, a purpose naming no catalog procedure is grouped as `unknown`.
 */
import type { AuditSqlWithCatchUp } from '../core/services.js';
import { recordFoldSql, recordRowsSql } from '../core/stats-rebuild-sql.js';
import {
  addRecord,
  BLOCK_DAYS,
  CUBE_ORDER,
  CUBES,
  DAY_MS,
  denseHist,
  DOSSIER_CUBES,
  DIMS,
  emptyBatch,
  FIELD_CUBES,
  HIST_COLUMNS,
  HOUR_MS,
  LATENCY_BOUNDS_MS,
  LATENCY_BUCKETS,
  MEASURES,
  outcomeColumn,
  ROLL_OUTCOMES,
  SUB_CUBES,
  SUB_GRAIN,
  SUB_MS,
  VN_OFFSET_MS,
  type Cube,
  type Dim,
  type Measure,
  type RollupRecord,
} from '../core/stats-rollup.js';
import { AGENCY_TIER_LABELS, PROVINCIAL_UNIT_BY_CODE, type AgencyTier } from '../../lib/provinces.js';
import { registryLabel } from '../../lib/registries.js';
import { OUTCOMES, vnDay, vnMonth, type GroupBy, type StatsFilter, type StatsQuery } from './params.js';

/**
 * Where the records are: the audit store's own connection (see gateway/stats/source.ts), with the
 * `catchUp` the engine awaits before every figure (the store rolls what is committed).
 */
export type StatsDb = AuditSqlWithCatchUp;

export interface LatencyStats {
  p50: number | null;
  p95: number | null;
  p99: number | null;
  mean: number | null;
  max: number | null;
}

export interface DossierFigures {
  /** Distinct (client, dossier id) whose first request falls in the period/group. */
  served: number;
  /** Of those, dossiers with at least one request that cut a component. */
  withComponentsCut: number;
  /** Requests that named no dossier (not in `served`: the gap stays visible). */
  requestsWithoutDossier: number;
}

export interface StatsFigures {
  requests: { total: number; byOutcome: Record<string, number> };
  entitiesShared: { total: number; byRegistry: Record<string, number> };
  /** Schema coordinates returned, summed over requests (a field returned by 3 requests counts 3). */
  fieldsShared: number;
  /** Requests that ran a prefill (their record carries a prefill note). */
  prefills: number;
  /** Dossier components the prefills made unnecessary. */
  componentsCut: number;
  /** Citizen hours saved by those prefills (2 decimals). */
  hoursSaved: number;
  /** `hoursSaved` × the hourly rate, rounded to the dong. */
  valueVnd: number;
  latencyMs: LatencyStats;
  /** Dossier-level counts; `served`/`withComponentsCut` null when grouped or filtered by registry or outcome. */
  dossiers: { served: number | null; withComponentsCut: number | null; requestsWithoutDossier: number };
  /** Form fields of the prefills: filled from the registries vs left for the citizen. */
  fields: { prefilled: number; forCitizen: number };
  /** Out-of-pocket costs avoided (copies, certification, postage): components cut × cost per component. */
  costsSavedVnd: number;
}

export interface StatsGroup extends StatsFigures {
  /** Client id, agency, registry, procedure id (null: no purpose; `unknown`), outcome, tier, province code, `YYYY-MM-DD` or `YYYY-MM`. */
  key: string | null;
  /** Vietnamese label (procedure name, client display name, province name, tier name…). */
  label: string | null;
  /** English label where known, else null. */
  labelEn: string | null;
}

export interface StatsSummary {
  total: StatsFigures;
  groups: StatsGroup[];
  /** Number of groups before paging. */
  totalGroups: number;
}

export interface FieldCount {
  coordinate: string;
  /** Requests that returned this field. */
  requests: number;
}

/** What the engine knows of the catalog and clients, for `unknown`, labels and costs. */
export interface StatsCatalog {
  /** Catalog procedure ids; null = no catalog (every purpose is kept as its own group). */
  procedureIds(): readonly string[] | null;
  procedureName(id: string): string | null;
  procedureNameEn(id: string): string | null;
  nationalCode(id: string): string | null;
  /** Out-of-pocket cost of one cut component of this procedure, VND. */
  componentCostVnd(id: string | null): number;
  clientName(id: string): string | null;
}

export interface StatsEngineOptions {
  /** VND per citizen hour saved (see gateway/stats/index.ts for the default and its source). */
  hourlyRateVnd: number;
  /** Catalog and clients. Default: none (no `unknown` grouping, no labels, DEFAULT_COMPONENT_COST_VND). */
  catalog?: StatsCatalog;
}

export const UNKNOWN_PROCEDURE = 'unknown';
/** The API's groupings plus `report`: the composite tier|province|procedure key of the report rows. */
type Grouping = GroupBy | 'report';
const REPORT_SEP = '|';
const PERCENTILES = [50, 95, 99] as const;
/** Groupings under which a dossier has a single key. */
const DOSSIER_GROUPS: ReadonlySet<Grouping> = new Set(['none', 'client', 'agency', 'procedure', 'tier', 'province', 'day', 'month', 'report']);

/** Rows of one group and outcome: what every figure is computed from. */
interface Acc {
  m: Record<Measure, number>;
  byOutcome: Record<string, number>;
  durMax: number | null;
  hist: number[];
  costVnd: number;
  entities: Record<string, number>;
  served: number;
  withCut: number;
}

function newAcc(): Acc {
  return {
    m: Object.fromEntries(MEASURES.map((k) => [k, 0])) as Record<Measure, number>,
    byOutcome: Object.fromEntries(OUTCOMES.map((o) => [o, 0])),
    durMax: null,
    hist: new Array<number>(LATENCY_BUCKETS).fill(0),
    costVnd: 0,
    entities: {},
    served: 0,
    withCut: 0,
  };
}

function num(v: unknown): number {
  return v === null || v === undefined ? 0 : Number(v);
}
function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

/** The nearest-rank percentile read from the histogram: its bucket's upper bound, capped by the maximum. */
export function histogramPercentile(hist: readonly number[], p: number, max: number | null): number | null {
  const n = hist.reduce((a, b) => a + b, 0);
  if (n === 0 || max === null) return null;
  const rank = Math.ceil((p * n) / 100);
  let seen = 0;
  for (let i = 0; i < hist.length; i++) {
    seen += hist[i]!;
    if (seen >= rank) return i < LATENCY_BOUNDS_MS.length ? Math.min(LATENCY_BOUNDS_MS[i]!, max) : max;
  }
  return max;
}

/** The parts of a period: whole days, whole hours, and partial hours read from the records. */
export interface PeriodSegments {
  days: [number, number] | null;
  hours: Array<[number, number]>;
  raw: Array<[number, number]>;
  /** Single days read whole though the period lacks some of their hours (withComplements): their own day rows, never in a block. */
  edgeDays?: number[];
  /** Hours read whole though the period holds only part of them (partialComplements): their maximum is not used. */
  boundedHours?: number[];
}

/** The Vietnamese midnight at or before `t`. */
const vnDayStart = (t: number) => Math.floor((t + VN_OFFSET_MS) / DAY_MS) * DAY_MS - VN_OFFSET_MS;
/** The Vietnamese midnight that starts the month containing `t`, or the month `months` after it. */
const vnMonthStart = (t: number, months = 0) => {
  const d = new Date(t + VN_OFFSET_MS);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + months, 1) - VN_OFFSET_MS;
};
/** Segments of whole hours only (the hours a period's edges subtract). */
const hoursOnly = (hours: Array<[number, number]>): PeriodSegments => ({ days: null, hours, raw: [] });
/** Keeps in `m` the largest value seen for `k`. */
const raiseTo = (m: Map<unknown, number>, k: unknown, v: number) => m.set(k, Math.max(m.get(k) ?? -Infinity, v));

export function segmentsOf(from: number, to: number): PeriodSegments {
  const hA = Math.ceil(from / HOUR_MS) * HOUR_MS;
  const hB = Math.floor(to / HOUR_MS) * HOUR_MS;
  if (hA >= hB) return { days: null, hours: [], raw: [[from, to]] };
  const raw: Array<[number, number]> = [];
  if (from < hA) raw.push([from, hA]);
  if (hB < to) raw.push([hB, to]);
  const dA = vnDayStart(hA) === hA ? hA : vnDayStart(hA) + DAY_MS;
  const dB = vnDayStart(hB);
  if (dA >= dB) return { days: null, hours: [[hA, hB]], raw };
  const hours: Array<[number, number]> = [];
  if (hA < dA) hours.push([hA, dA]);
  if (dB < hB) hours.push([dB, hB]);
  return { days: [dA, dB], hours, raw };
}

/** A day row read costs about this many hour rows (cube c at 1.5 million records a day: 10 088 coordinates a day, 2 851 an hour). */
const DAY_AS_HOURS = 4;

/**
 * The whole hours of an edge day read as the day's rows minus the hours it lacks, where that reads
 * fewer rows: a period from 00:20 reads its first day as the day minus 00:00–01:00, not as 23
 * hour rows. `plus` are the segments read (the days so read in `edgeDays`, each its own day row,
 * so its maximum stays apart from the other days'), `minus` the hours subtracted. Sums and
 * histograms subtract exactly; a maximum does not (accumulate resolves it).
 */
export function withComplements(seg: PeriodSegments): { plus: PeriodSegments; minus: Array<[number, number]> } {
  const minus: Array<[number, number]> = [];
  const hours: Array<[number, number]> = [];
  const edgeDays: number[] = [];
  // A short period's hours may cross a midnight: each day's part decides for itself.
  const pieces = seg.hours.flatMap(([a, b]): Array<[number, number]> => {
    const m = vnDayStart(a) + DAY_MS;
    return m < b ? [[a, m], [m, b]] : [[a, b]];
  });
  for (const [a, b] of pieces) {
    const d = vnDayStart(a);
    const e = d + DAY_MS;
    const lacking = 24 - (b - a) / HOUR_MS;
    if (b <= e && lacking + DAY_AS_HOURS < 24 - lacking) {
      edgeDays.push(d);
      if (d < a) minus.push([d, a]);
      if (b < e) minus.push([b, e]);
    } else hours.push([a, b]);
  }
  return { plus: { days: seg.days, hours, raw: seg.raw, ...(edgeDays.length ? { edgeDays } : {}) }, minus };
}

/**
 * A partial hour whose larger part is in the period read as its hour row minus the records of the
 * part outside (PostgreSQL, where each record folded costs several µs): a period from 10:20 folds
 * the records of 10:00–10:20, not of 10:20–11:00. `raw` are the parts of partial hours still to
 * fold, `plus`/`minus` what withComplements reads. Returns the records to add (`add`), to subtract
 * (`subtract`), the parts whose maximum is read from the records (`included`: a row's maximum
 * bounds its hour only), and the segments: an hour an edge day already subtracts is no longer
 * subtracted (the day row then covers it), any other is read as an hour row (`boundedHours`).
 */
export function partialComplements(
  raw: ReadonlyArray<[number, number]>,
  plus: PeriodSegments,
  minus: ReadonlyArray<[number, number]>,
): { add: Array<[number, number]>; subtract: Array<[number, number]>; included: Array<[number, number]>; plus: PeriodSegments; minus: Array<[number, number]> } {
  const add: Array<[number, number]> = [];
  const subtract: Array<[number, number]> = [];
  const included: Array<[number, number]> = [];
  let left = [...minus];
  const hours = [...plus.hours];
  const bounded: number[] = [];
  for (const [a, b] of raw) {
    const h = Math.floor(a / HOUR_MS) * HOUR_MS;
    if (b > h + HOUR_MS || HOUR_MS - (b - a) >= b - a) {
      add.push([a, b]);
      continue;
    }
    included.push([a, b]);
    if (h < a) subtract.push([h, a]);
    if (b < h + HOUR_MS) subtract.push([b, h + HOUR_MS]);
    const covering = left.find(([m0, m1]) => m0 <= h && h + HOUR_MS <= m1);
    if (covering) {
      const [m0, m1] = covering;
      left = left.filter((r) => r !== covering);
      if (m0 < h) left.push([m0, h]);
      if (h + HOUR_MS < m1) left.push([h + HOUR_MS, m1]);
    } else {
      hours.push([h, h + HOUR_MS]);
      bounded.push(h);
    }
  }
  return { add, subtract, included, plus: { ...plus, hours, ...(bounded.length ? { boundedHours: bounded } : {}) }, minus: left };
}

/**
 * Whole days [dA, dB) as (grain, from, to) ranges: greedily the largest aligned block that fits
 * (with `blocks`), else single days; consecutive ranges of one grain merged.
 */
export function dayRanges(dA: number, dB: number, blocks: boolean): Array<[string, number, number]> {
  const out: Array<[string, number, number]> = [];
  const dayNo = (t: number) => Math.round((t + VN_OFFSET_MS) / DAY_MS);
  let k = dayNo(dA);
  const end = dayNo(dB);
  while (k < end) {
    const n = (blocks ? BLOCK_DAYS.find((b) => k % b === 0 && k + b <= end) : undefined) ?? 1;
    const grain = n === 1 ? 'd' : `d${n}`;
    const a = k * DAY_MS - VN_OFFSET_MS;
    const b = (k + n) * DAY_MS - VN_OFFSET_MS;
    const last = out[out.length - 1];
    if (last && last[0] === grain && last[2] === a) last[2] = b;
    else out.push([grain, a, b]);
    k += n;
  }
  return out;
}

/** [dA, dB) (Vietnamese midnights) cut at the Vietnamese months' first days. */
export function monthSpans(dA: number, dB: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let a = dA;
  while (a < dB) {
    const b = Math.min(vnMonthStart(a, 1), dB);
    out.push([a, b]);
    a = b;
  }
  return out;
}

/**
 * The partial hours cut at 5-minute boundaries: the whole 5-minute buckets inside them (`whole`,
 * read from SUB_GRAIN rows) and what is left at each end (`rest`, under 5 minutes each, folded
 * from the records).
 */
export function subSplit(raw: ReadonlyArray<[number, number]>): { whole: Array<[number, number]>; rest: Array<[number, number]> } {
  const whole: Array<[number, number]> = [];
  const rest: Array<[number, number]> = [];
  for (const [a, b] of raw) {
    const A = Math.ceil(a / SUB_MS) * SUB_MS;
    const B = Math.floor(b / SUB_MS) * SUB_MS;
    if (A >= B) {
      rest.push([a, b]);
      continue;
    }
    whole.push([A, B]);
    if (a < A) rest.push([a, A]);
    if (B < b) rest.push([B, b]);
  }
  return { whole, rest };
}

/** One group's sums over rollup rows or records. */
interface GroupSums {
  g: unknown;
  m: Record<Measure, number>;
  durMax: number | null;
  /** The maximum over the edge days' rows (PeriodSegments.edgeDays), kept apart from `durMax`: an upper bound only. */
  durMaxEdge?: number | null;
  hist: number[];
  cost: number;
}
interface EntitySums {
  g: unknown;
  registry: string;
  n: number;
}
type Blocks = 'all' | 'month' | 'none';
/** Bound parameters per maxOf query (each bucket range repeats the keys), under SQLite's limit of 32 766. */
const MAX_OF_PARAMS = 2_000;

/**
 * One statistics query on PostgreSQL, in a transaction of its own with its settings (BEGIN and SET
 * LOCAL in one round trip; the pool's connections are the audit store's, so nothing outlives it):
 * - no parallel workers: a call runs up to seven queries at once, one connection each, and
 *   workers only compete with them for the cores (4.5 M records on 2 cores, same figures: a
 *   period cut mid-hour by registry 554 → 374 ms, by procedure 122 → 50 ms, client on whole
 *   days 235 → 139 ms);
 * - `workMem`: 64 MB for a fold of partial hours' records, which PostgreSQL's default 4 MB makes
 *   it sort on disk where a hash in memory does.
 */
async function pgRows(pool: import('pg').Pool, text: string, params: unknown[], workMem = false): Promise<Record<string, unknown>[]> {
  const c = await pool.connect();
  try {
    await c.query(`BEGIN; SET LOCAL max_parallel_workers_per_gather = 0${workMem ? `; SET LOCAL work_mem = '64MB'` : ''}`);
    const r = await c.query(text, params);
    await c.query('COMMIT');
    return r.rows as Record<string, unknown>[];
  } catch (e) {
    await c.query('ROLLBACK').catch(() => undefined);
    throw e;
  } finally {
    c.release();
  }
}

/** The (grain, from, to) bucket ranges of a cube that timeSql reads for `seg` (see there). */
function timeRanges(seg: PeriodSegments, cube: Cube, blocks: Blocks, sub: ReadonlyArray<[number, number]>): Array<[string, number, number]> {
  const out: Array<[string, number, number]> = [];
  if (seg.days) {
    const useBlocks = blocks !== 'none' && cube !== 'f';
    const spans = blocks === 'month' ? monthSpans(seg.days[0], seg.days[1]) : [seg.days];
    for (const [dA, dB] of spans) out.push(...dayRanges(dA, dB, useBlocks));
  }
  for (const d of seg.edgeDays ?? []) out.push(['d', d, d + DAY_MS]);
  for (const [a, b] of seg.hours) out.push(['h', a, b]);
  for (const [a, b] of sub) out.push([SUB_GRAIN, a, b]);
  return out;
}

/** One bucket range of a rollup table as a condition (parameters pushed in text order). */
const rangeSql = (sql: Sql, [grain, a, b]: readonly [string, number, number]) => `grain = ${sql.p(grain)} AND bucket >= ${sql.p(a)} AND bucket < ${sql.p(b)}`;

/** A tiny SQL builder: the same query text for both dialects, parameters always bound. */
class Sql {
  readonly params: unknown[] = [];
  constructor(readonly dialect: 'sqlite' | 'postgres') {}
  p(v: unknown): string {
    this.params.push(v);
    return this.dialect === 'sqlite' ? '?' : `$${this.params.length}`;
  }
  /**
   * SUM of an integer column or expression. PostgreSQL sums bigint into numeric (a state allocated
   * per group, about eight times slower over the 70 histogram columns); summed as float8 the result
   * is the same integer exactly while every partial sum stays below 2^53 (9·10^15: a count, or
   * microseconds of latency, far beyond any audit store). SQLite sums integers natively.
   */
  sum(expr: string): string {
    return this.dialect === 'postgres' ? `SUM((${expr})::float8)` : `SUM(${expr})`;
  }
  in(values: readonly unknown[]): string {
    return values.map((v) => this.p(v)).join(', ');
  }
  /** Whether the `;`-joined set column contains one of `values`. */
  setHasAny(column: string, values: readonly string[]): string {
    const hay = `(';' || ${column} || ';')`;
    const f = this.dialect === 'sqlite' ? (v: string) => `instr(${hay}, ${v}) > 0` : (v: string) => `strpos(${hay}, ${v}) > 0`;
    return `(${values.map((v) => f(this.p(`;${v};`))).join(' OR ')})`;
  }
}

export class StatsEngine {
  private readonly dialect: 'sqlite' | 'postgres';
  private readonly t: (name: string) => string;

  constructor(
    private readonly source: StatsDb,
    private readonly opts: StatsEngineOptions,
  ) {
    this.dialect = source.kind;
    if (source.kind === 'postgres' && !/^[a-z_][a-z0-9_]{0,62}$/.test(source.schema)) {
      throw new Error(`Audit schema name ${JSON.stringify(source.schema)} is invalid: use lowercase letters, digits and _.`);
    }
    this.t = source.kind === 'sqlite' ? (n) => n : (n) => `${source.schema}.${n}`;
  }

  get hourlyRateVnd(): number {
    return this.opts.hourlyRateVnd;
  }

  private costOf(procedure: string | null): number {
    return this.opts.catalog?.componentCostVnd(procedure) ?? DEFAULT_COMPONENT_COST_VND;
  }

  private async rows(sql: Sql, text: string): Promise<Record<string, unknown>[]> {
    if (this.source.kind === 'sqlite') {
      if ('all' in this.source) return this.source.all(text, sql.params);
      return this.source.db.prepare(text).all(...sql.params) as Record<string, unknown>[];
    }
    return pgRows(this.source.pool, text, sql.params);
  }

  // ------------------------------------------------------------------ keys and filters

  /** The procedure as grouped: '' (no purpose), a catalog id, or `unknown`. */
  private procedureKeyJs(raw: string): string {
    if (raw === '') return '';
    const ids = this.opts.catalog?.procedureIds();
    return !ids || ids.includes(raw) ? raw : UNKNOWN_PROCEDURE;
  }
  private procedureKeySql(sql: Sql, col = 'procedure'): string {
    const ids = this.opts.catalog?.procedureIds();
    if (!ids) return col;
    if (ids.length === 0) return `CASE WHEN ${col} = '' THEN '' ELSE ${sql.p(UNKNOWN_PROCEDURE)} END`;
    return `CASE WHEN ${col} = '' OR ${col} IN (${sql.in(ids)}) THEN ${col} ELSE ${sql.p(UNKNOWN_PROCEDURE)} END`;
  }

  /** SQL key of a grouping over a rollup table (`bucket` = the row's hour or day start). Registry is split in JS. */
  private keySql(sql: Sql, groupBy: Grouping): string {
    switch (groupBy) {
      case 'none':
        return `'*'`;
      case 'client':
        return 'client_id';
      case 'agency':
      case 'outcome':
      case 'tier':
      case 'province':
        return groupBy;
      case 'procedure':
        return this.procedureKeySql(sql);
      case 'day':
      case 'month':
        return `(((bucket + ${VN_OFFSET_MS}) / ${DAY_MS}) * ${DAY_MS} - ${VN_OFFSET_MS})`;
      case 'registry':
        return 'registries';
      case 'report':
        return `(tier || '${REPORT_SEP}' || province || '${REPORT_SEP}' || ${this.procedureKeySql(sql)})`;
    }
  }

  /** The API key of a raw SQL/JS key. */
  private apiKeys(groupBy: Grouping, raw: unknown): Array<string | null> {
    const s = raw === null || raw === undefined ? '' : String(raw);
    switch (groupBy) {
      case 'day':
        return [vnDay(Number(raw))];
      case 'month':
        return [vnMonth(Number(raw))];
      case 'registry':
        return s === '' ? [] : s.split(';');
      case 'procedure':
      case 'province':
        return [s === '' ? null : s];
      default:
        return [s];
    }
  }

  private dimFilterSql(sql: Sql, f: StatsFilter, opts: { dossier: boolean }): string[] {
    const parts: string[] = [];
    if (f.client) parts.push(`client_id IN (${sql.in(f.client)})`);
    if (f.agency) parts.push(`agency IN (${sql.in(f.agency)})`);
    if (f.procedure) parts.push(`${this.procedureKeySql(sql)} IN (${sql.in(f.procedure)})`);
    if (f.tier) parts.push(`tier IN (${sql.in(f.tier)})`);
    if (f.province) parts.push(`province IN (${sql.in(f.province)})`);
    if (!opts.dossier) {
      if (f.outcome) parts.push(`outcome IN (${sql.in(f.outcome)})`);
      if (f.registry) parts.push(sql.setHasAny('registries', f.registry));
    }
    return parts;
  }

  private dimMatchesJs(d: Record<Dim, string>, f: StatsFilter): boolean {
    if (f.client && !f.client.includes(d.client_id)) return false;
    if (f.agency && !f.agency.includes(d.agency)) return false;
    if (f.procedure && !f.procedure.includes(this.procedureKeyJs(d.procedure))) return false;
    if (f.tier && !f.tier.includes(d.tier)) return false;
    if (f.province && !f.province.includes(d.province)) return false;
    if (f.outcome && !f.outcome.includes(d.outcome)) return false;
    if (f.registry && !d.registries.split(';').some((g) => f.registry!.includes(g))) return false;
    return true;
  }

  private keyJs(groupBy: Grouping, d: Record<Dim, string>, ts: number): unknown {
    switch (groupBy) {
      case 'none':
        return '*';
      case 'day':
      case 'month':
        return ts;
      case 'procedure':
        return this.procedureKeyJs(d.procedure);
      case 'registry':
        return d.registries;
      case 'report':
        return `${d.tier}${REPORT_SEP}${d.province}${REPORT_SEP}${this.procedureKeyJs(d.procedure)}`;
      case 'client':
        return d.client_id;
      default:
        return d[groupBy];
    }
  }

  /**
   * The cube and time predicate over a rollup table for the whole-day and whole-hour segments
   * (false when none): `cube = … AND (grain … bucket ranges)`. `blocks`: 'all' reads whole days as
   * the largest aligned blocks; 'month' only blocks inside one Vietnamese month (grouping by month:
   * a block's bucket then names its month); 'none' single days (grouping by day). `sub`: ranges of
   * whole 5-minute buckets read from SUB_GRAIN rows (`stats_cube` and its entities, SUB_CUBES).
   */
  private timeSql(sql: Sql, seg: PeriodSegments, cube: Cube, blocks: Blocks, sub: ReadonlyArray<[number, number]> = []): string {
    // SQLite's `?` are positional: parameters are pushed in text order.
    const cubeSql = `cube = ${sql.p(cube)}`;
    const parts = timeRanges(seg, cube, blocks, sub).map((r) => `(${rangeSql(sql, r)})`);
    return `${cubeSql} AND ${parts.length ? `(${parts.join(' OR ')})` : '1 = 0'}`;
  }

  /** The narrowest cube that keeps every dimension the grouping and the filters need. */
  private cubeFor(groupBy: Grouping, f: StatsFilter, among: readonly Cube[] = CUBE_ORDER): Cube {
    // The procedure always: component costs are per procedure.
    const need = new Set<Dim>(['procedure']);
    const byGroup: Partial<Record<Grouping, Dim[]>> = {
      client: ['client_id'], agency: ['agency'], tier: ['tier'], province: ['province'], registry: ['registries'], outcome: ['outcome'],
      report: ['tier', 'province'],
    };
    for (const d of byGroup[groupBy] ?? []) need.add(d);
    if (f.client) need.add('client_id');
    if (f.agency) need.add('agency');
    if (f.tier) need.add('tier');
    if (f.province) need.add('province');
    if (f.outcome) need.add('outcome');
    if (f.registry) need.add('registries');
    return among.find((c) => [...need].every((d) => (CUBES[c] as readonly Dim[]).includes(d))) ?? 'f';
  }

  /**
   * The records of `raw` (parts of partial hours), folded into the cube's hour rollups exactly as
   * the store writes them: on SQLite here, with `addRecord`; on PostgreSQL by the database, and only
   * the fields rows (the figures sum the partial hours per group instead, edgeSums).
   */
  private async rawEdges(raw: ReadonlyArray<[number, number]>, cube: Cube) {
    const batch = emptyBatch();
    for (const [a, b] of raw) {
      const sql = new Sql(this.dialect);
      if (this.dialect === 'postgres') {
        const fields = recordFoldSql(this.t('audit_records'), cube, `r.ts >= ${sql.p(a)} AND r.ts < ${sql.p(b)}`).fields;
        for (const row of await this.rows(sql, fields)) {
          const dims = Object.fromEntries(DIMS.map((d) => [d, String(row[d])])) as Record<Dim, string>;
          const bucket = Number(row.bucket);
          const k = `${bucket}\u0000${DIMS.map((d) => dims[d]).join('\u0000')}\u0000${String(row.coordinate)}`;
          batch.fields.set(k, { cube, grain: 'h', bucket, dims, coordinate: String(row.coordinate), n: num(row.n) });
        }
        continue;
      }
      const rows = await this.rows(
        sql,
        `SELECT instance_id, seq, ts, client_id, agency, procedure_id, dossier_id, registries, fields, entities, outcome, duration_ms, prefill, client_tier, client_province
         FROM ${this.t('audit_records')} WHERE ts >= ${sql.p(a)} AND ts < ${sql.p(b)}`,
      );
      for (const row of rows) addRecord(batch, rollupRecordOf(row), { cube, grain: 'h' });
    }
    return batch;
  }

  // ------------------------------------------------------------------ figures

  /** Costs per procedure as a SQL CASE over `procedure` (numbers from the configuration, as integer literals: a bound parameter in a CASE would be typed text by PostgreSQL). */
  private costCaseSql(sql: Sql): string {
    const ids = this.opts.catalog?.procedureIds() ?? [];
    const vnd = (id: string | null) => String(Math.max(0, Math.round(this.costOf(id))));
    return ids.length ? `CASE procedure ${ids.map((id) => `WHEN ${sql.p(id)} THEN ${vnd(id)}`).join(' ')} ELSE ${vnd(null)} END` : vnd(null);
  }

  /** Step 1 over `stats_cube`: counts, sums, maximum, histogram and costs per group, for the rollup rows of `seg` (and the 5-minute rows of `sub`). */
  private async cubeSums(q: StatsFilter, groupBy: Grouping, cube: Cube, blocks: Blocks, seg: PeriodSegments, sub: ReadonlyArray<[number, number]>): Promise<GroupSums[]> {
    const sql = new Sql(this.dialect);
    // Parameters are pushed in text order (SQLite's `?` are positional).
    const key = this.keySql(sql, groupBy);
    // The edge days' maximum apart (each condition binds its own parameters: SQLite's are positional).
    const days = seg.edgeDays;
    const edge = () => `grain = 'd' AND bucket IN (${sql.in(days!)})`;
    // A bounded hour's maximum is not used (the records give it, partialComplements).
    const bounded = seg.boundedHours;
    const unbounded = (col: string) => (bounded ? `CASE WHEN grain = 'h' AND bucket IN (${sql.in(bounded)}) THEN NULL ELSE ${col} END` : col);
    const maxima = days
      ? `MAX(CASE WHEN ${edge()} THEN NULL ELSE ${unbounded('dur_max')} END) AS dur_max, MAX(CASE WHEN ${edge()} THEN dur_max END) AS dur_max_edge`
      : `MAX(${unbounded('dur_max')}) AS dur_max`;
    const costCase = this.costCaseSql(sql);
    const where = [this.timeSql(sql, seg, cube, blocks, sub), ...this.dimFilterSql(sql, q, { dossier: false })];
    const rows = await this.rows(
      sql,
      `SELECT ${key} AS g, ${MEASURES.map((m) => `${sql.sum(m)} AS ${m}`).join(', ')}, ${maxima},
         ${HIST_COLUMNS.map((c) => `${sql.sum(c)} AS ${c}`).join(', ')}, ${sql.sum(`components_cut * ${costCase}`)} AS cost_vnd
       FROM ${this.t('stats_cube')} WHERE ${where.join(' AND ')} GROUP BY g`,
    );
    return rows.map((row) => ({
      g: row.g,
      m: Object.fromEntries(MEASURES.map((k) => [k, num(row[k])])) as Record<Measure, number>,
      durMax: row.dur_max === null ? null : Number(row.dur_max),
      durMaxEdge: row.dur_max_edge === null || row.dur_max_edge === undefined ? null : Number(row.dur_max_edge),
      hist: HIST_COLUMNS.map((c) => num(row[c])),
      cost: num(row.cost_vnd),
    }));
  }

  /**
   * The maximum of each of the groups `only` over the hour rows of `hours`: one range query per
   * range (each an index range of the table's key, the group's own column checked in the index),
   * not one scan under an OR of ranges. Grouped by time the ranges are the filter (a month's rows
   * carry their own days as keys): every key of the ranges is returned, for the caller to map.
   */
  private async maxOf(q: StatsFilter, groupBy: Grouping, cube: Cube, hours: ReadonlyArray<[number, number]>, only: unknown[]): Promise<Array<{ g: unknown; durMax: number | null }>> {
    const ranges = hours.map(([a, b]) => ['h', a, b] as const);
    if (!ranges.length) return [];
    const out: Array<{ g: unknown; durMax: number | null }> = [];
    const byTime = groupBy === 'day' || groupBy === 'month';
    // Parameters are pushed in text order (SQLite's `?` are positional).
    const query = (sql: Sql, keys: unknown[]) =>
      ranges.map((range) => {
        const key = this.keySql(sql, groupBy);
        const where = [`cube = ${sql.p(cube)} AND ${rangeSql(sql, range)}`, ...this.dimFilterSql(sql, q, { dossier: false })];
        if (!byTime) where.push(`${this.keySql(sql, groupBy)} IN (${sql.in(keys)})`);
        return `SELECT ${key} AS g, dur_max FROM ${this.t('stats_cube')} WHERE ${where.join(' AND ')}`;
      });
    // The keys in chunks: each range repeats them, besides its own parameters (counted by a dry run).
    const dry = new Sql(this.dialect);
    query(dry, []);
    const per = byTime ? only.length : Math.max(1, Math.floor((MAX_OF_PARAMS - dry.params.length) / ranges.length));
    for (let i = 0; i < only.length; i += per) {
      const sql = new Sql(this.dialect);
      const parts = query(sql, only.slice(i, i + per));
      const rows = await this.rows(sql, `SELECT g, MAX(dur_max) AS dur_max FROM (${parts.join(' UNION ALL ')}) AS u GROUP BY g`);
      for (const row of rows) out.push({ g: row.g, durMax: row.dur_max === null ? null : Number(row.dur_max) });
    }
    return out;
  }

  /** Step 2 over `stats_cube_entities`: entities per group and registry for the rollup rows of `seg`. */
  private async entitySums(q: StatsFilter, groupBy: Grouping, cube: Cube, blocks: Blocks, seg: PeriodSegments, sub: ReadonlyArray<[number, number]>): Promise<EntitySums[]> {
    const sql = new Sql(this.dialect);
    const key = this.keySql(sql, groupBy);
    const where = [this.timeSql(sql, seg, cube, blocks, sub), ...this.dimFilterSql(sql, q, { dossier: false })].join(' AND ');
    const rows = await this.rows(sql, `SELECT ${key} AS g, registry, ${sql.sum('n')} AS n FROM ${this.t('stats_cube_entities')} WHERE ${where} GROUP BY g, registry`);
    return rows.map((row) => ({ g: row.g, registry: String(row.registry), n: num(row.n) }));
  }

  /**
   * The records of `raw` (parts of partial hours) summed per group as steps 1 and 2 sum rollup
   * rows. PostgreSQL sums them itself, keyed and filtered by the very expressions used over rollup
   * rows (recordRowsSql gives each record the rollups' columns): at 1.5 million records a day a
   * partial hour holds up to 62 500 records, and per group and latency bucket they fold to a few
   * thousand rows, where per cube coordinate they did not. SQLite folds them here.
   */
  private async edgeSums(q: StatsFilter, groupBy: Grouping, cube: Cube, raw: ReadonlyArray<[number, number]>): Promise<{ roll: GroupSums[]; entities: EntitySums[] }> {
    if (!raw.length) return { roll: [], entities: [] };
    if (this.source.kind === 'postgres') {
      const pool = this.source.pool;
      const fold = (measures: boolean, text: (sql: Sql, keyed: string) => string) => {
        const sql = new Sql(this.dialect);
        const keyed = this.keyedRecordsSql(sql, q, groupBy, cube, raw, measures);
        return pgRows(pool, text(sql, keyed), sql.params, true);
      };
      const [roll, entities] = await Promise.all([
        fold(
          true,
          (sql, keyed) => `SELECT g, le, ${MEASURES.map((m) => `${sql.sum(m)} AS ${m}`).join(', ')}, MAX(dur) AS dur_max, COUNT(*) AS n,
             ${sql.sum(`components_cut * ${this.costCaseSql(sql)}`)} AS cost_vnd FROM (${keyed}) AS y GROUP BY g, le`,
        ),
        // OFFSET 0 keeps the key computed once per record, not once per registry.
        fold(false, (sql, keyed) => `SELECT g, e.key AS registry, ${sql.sum('e.value::int8')} AS n FROM (${keyed} OFFSET 0) AS y, jsonb_each(y.entities) AS e GROUP BY g, e.key`),
      ]);
      // One row per group and latency bucket: the histogram is pivoted here.
      const byGroup = new Map<unknown, GroupSums>();
      for (const row of roll) {
        let s = byGroup.get(row.g);
        if (!s) byGroup.set(row.g, (s = { g: row.g, m: Object.fromEntries(MEASURES.map((k) => [k, 0])) as Record<Measure, number>, durMax: null, hist: new Array<number>(LATENCY_BUCKETS).fill(0), cost: 0 }));
        for (const k of MEASURES) s.m[k] += num(row[k]);
        s.durMax = s.durMax === null ? Number(row.dur_max) : Math.max(s.durMax, Number(row.dur_max));
        s.hist[Number(row.le)]! += num(row.n);
        s.cost += num(row.cost_vnd);
      }
      return { roll: [...byGroup.values()], entities: entities.map((row) => ({ g: row.g, registry: String(row.registry), n: num(row.n) })) };
    }
    const batch = await this.rawEdges(raw, cube);
    const roll: GroupSums[] = [];
    const entities: EntitySums[] = [];
    for (const e of batch.roll.values()) {
      if (!this.dimMatchesJs(e.dims, q)) continue;
      roll.push({ g: this.keyJs(groupBy, e.dims, e.bucket), m: e.v.m, durMax: e.v.durMax, hist: denseHist(e.v.hist), cost: e.v.m.components_cut * this.costOf(e.dims.procedure || null) });
    }
    for (const e of batch.entities.values()) {
      if (this.dimMatchesJs(e.dims, q)) entities.push({ g: this.keyJs(groupBy, e.dims, e.bucket), registry: e.registry, n: e.n });
    }
    return { roll, entities };
  }

  /**
   * The records of `ranges` as rows with the rollups' columns (recordRowsSql), keyed `g` and
   * filtered by the very expressions used over rollup rows (PostgreSQL). Only the cube's
   * dimensions: they are the only ones a key or filter can name (cubeFor).
   */
  private keyedRecordsSql(sql: Sql, q: StatsFilter, groupBy: Grouping, cube: Cube, ranges: ReadonlyArray<[number, number]>, measures: boolean): string {
    const key = this.keySql(sql, groupBy);
    const where = ranges.map(([a, b]) => `(r.ts >= ${sql.p(a)} AND r.ts < ${sql.p(b)})`).join(' OR ');
    const records = recordRowsSql(this.t('audit_records'), where, { dims: CUBES[cube], measures });
    const filters = this.dimFilterSql(sql, q, { dossier: false });
    return `SELECT ${key} AS g, x.* FROM (${records}) AS x ${filters.length ? `WHERE ${filters.join(' AND ')}` : ''}`;
  }

  /** The largest latency per group over the records of `ranges` (PostgreSQL; the included parts of partialComplements). */
  private async recordMaxima(q: StatsFilter, groupBy: Grouping, cube: Cube, ranges: ReadonlyArray<[number, number]>): Promise<Array<{ g: unknown; durMax: number }>> {
    if (!ranges.length || this.source.kind !== 'postgres') return [];
    const sql = new Sql(this.dialect);
    const rows = await this.rows(sql, `SELECT g, MAX(dur) AS dur_max FROM (${this.keyedRecordsSql(sql, q, groupBy, cube, ranges, false)}) AS y GROUP BY g`);
    return rows.map((row) => ({ g: row.g, durMax: Number(row.dur_max) }));
  }

  private async accumulate(q: StatsFilter, groupBy: Grouping): Promise<Map<unknown, Acc>> {
    const seg = segmentsOf(q.from, q.to);
    const out = new Map<unknown, Acc>();
    // By month the SQL key is the row's own bucket day (a block row's first day), so rows of one
    // month carry different keys depending on their grain: a day block of the days read and the
    // hour rows subtracted must meet in one group before subtracting, dropping or comparing maxima.
    const keyOf = groupBy === 'month' ? (g: unknown) => vnMonthStart(Number(g)) : (g: unknown) => g;
    const accOf = (g: unknown) => {
      const k = keyOf(g);
      let a = out.get(k);
      if (!a) out.set(k, (a = newAcc()));
      return a;
    };
    const cube = this.cubeFor(groupBy, q);
    const blocks: Blocks = groupBy === 'day' ? 'none' : groupBy === 'month' ? 'month' : 'all';
    // Requests and entities: in SUB_CUBES the partial hours' whole 5-minute buckets from their rows;
    // edge days as the day minus the hours it lacks where that reads fewer rows.
    const sub = SUB_CUBES.includes(cube) ? subSplit(seg.raw) : { whole: [], rest: seg.raw };
    const whole = withComplements(seg);
    // The dossiers read the segments as they are (their partial hours from the dossier table).
    const dossierRows = this.dossierSums(q, groupBy, blocks, seg, whole.plus, hoursOnly(whole.minus));
    dossierRows.catch(() => undefined);
    // The records a partial hour lacks, where fewer than it holds (PostgreSQL only: SQLite folds
    // in Node, where the records' maximum costs a fold of its own).
    const part =
      this.source.kind === 'postgres'
        ? partialComplements(sub.rest, whole.plus, whole.minus)
        : { add: sub.rest, subtract: [], included: [], plus: whole.plus, minus: whole.minus };
    const { plus, minus } = part;
    const minusSeg = hoursOnly(minus);
    const none = async () => [] as never[];
    // Every read at once (PostgreSQL: one connection each); the dossiers are awaited last.
    const [rollPlus, rollMinus, entPlus, entMinus, edges, lacking, includedMax] = await Promise.all([
      this.cubeSums(q, groupBy, cube, blocks, plus, sub.whole),
      minus.length ? this.cubeSums(q, groupBy, cube, blocks, minusSeg, []) : none(),
      this.entitySums(q, groupBy, cube, blocks, plus, sub.whole),
      minus.length ? this.entitySums(q, groupBy, cube, blocks, minusSeg, []) : none(),
      this.edgeSums(q, groupBy, cube, part.add),
      this.edgeSums(q, groupBy, cube, part.subtract),
      this.recordMaxima(q, groupBy, cube, part.included),
    ]);

    // 1. Counts, sums, histogram per group and outcome; costs per procedure.
    // The edge days' maxima per group, apart: they may lie in the hours subtracted.
    const edgeMax = new Map<unknown, number>();
    for (const r of rollPlus) {
      this.addTo(accOf(r.g), r.m, r.durMax, r.hist, r.cost);
      if (r.durMaxEdge !== null && r.durMaxEdge !== undefined) raiseTo(edgeMax, keyOf(r.g), r.durMaxEdge);
    }
    // The hours subtracted and the records a partial hour's row lacks: a maximum among either may be an edge day's.
    const minusMax = new Map<unknown, number>();
    for (const r of [...rollMinus, ...lacking.roll]) {
      this.addTo(accOf(r.g), r.m, null, r.hist, r.cost, -1);
      if (r.durMax !== null) raiseTo(minusMax, keyOf(r.g), r.durMax);
    }
    // 2. Entities per registry.
    for (const [rows, sign] of [[entPlus, 1], [entMinus, -1], [lacking.entities, -1]] as const) {
      for (const r of rows) {
        const a = accOf(r.g);
        a.entities[r.registry] = (a.entities[r.registry] ?? 0) + sign * r.n;
      }
    }
    // A group with no request left once the lacking hours and records are subtracted is not in the period.
    if (minus.length || part.subtract.length) for (const [k, a] of out) if (a.m.requests === 0) out.delete(k);
    // The partial hours' maxima, exact: read from their records.
    for (const r of includedMax) {
      const a = out.get(keyOf(r.g));
      if (a) a.durMax = Math.max(a.durMax ?? -Infinity, r.durMax);
    }
    // The other rows' maximum is exact. An edge day's maximum bounds the hours read, and is
    // theirs if the subtracted hours stay below it; if not, it matters only when above the other
    // rows' maximum, and then the edge days' whole hours in the period are read again.
    const unsure = new Set<unknown>();
    for (const [k, m] of edgeMax) {
      const a = out.get(k);
      if (!a) continue;
      if (m > (minusMax.get(k) ?? -Infinity)) a.durMax = Math.max(a.durMax ?? -Infinity, m);
      else if (m > (a.durMax ?? -Infinity)) unsure.add(k);
    }
    if (unsure.size) {
      // A group may have several rows (a month: one a day).
      for (const r of await this.maxOf(q, groupBy, cube, seg.hours, [...unsure])) {
        const k = keyOf(r.g);
        const a = out.get(k);
        if (a && unsure.has(k) && r.durMax !== null) a.durMax = Math.max(a.durMax ?? -Infinity, r.durMax);
      }
    }
    for (const r of edges.roll) this.addTo(accOf(r.g), r.m, r.durMax, r.hist, r.cost);
    for (const r of edges.entities) {
      const a = accOf(r.g);
      a.entities[r.registry] = (a.entities[r.registry] ?? 0) + r.n;
    }

    // 3. Dossiers (first request's hour/day and dimensions), when they have a key.
    const dossiers = await dossierRows;
    if (dossiers) {
      for (const row of dossiers) {
        // A group whose dossiers all lie in the hours subtracted is not in the period.
        if (num(row.served) === 0 && num(row.with_cut) === 0) continue;
        const a = accOf(row.g);
        a.served += num(row.served);
        a.withCut += num(row.with_cut);
      }
    } else {
      for (const a of out.values()) a.served = a.withCut = Number.NaN;
      // Marks "not computed" for groups created later too (see figuresOf).
      out.set(NOT_COMPUTED, newAcc());
    }
    return out;
  }

  /**
   * Dossiers served and with a component cut per group (null when they have no key: grouped or
   * filtered by registry or outcome): the dossier rollups of `plus` less those of `minus`, and the
   * dossiers whose first request lies in a partial hour.
   */
  private async dossierSums(q: StatsFilter, groupBy: Grouping, blocks: Blocks, seg: PeriodSegments, plus: PeriodSegments, minus: PeriodSegments): Promise<Record<string, unknown>[] | null> {
    if (!DOSSIER_GROUPS.has(groupBy) || q.outcome || q.registry) return null;
    const sql = new Sql(this.dialect);
    const key = this.keySql(sql, groupBy);
    // The same dimensions as the requests (a dossier cube: a dossier has no registry or outcome).
    const dcube = this.cubeFor(groupBy, q, DOSSIER_CUBES);
    const rolled = (s: PeriodSegments, sign: string) =>
      `SELECT grain, bucket, client_id, agency, tier, province, procedure, ${sign}served AS served, ${sign}with_cut AS with_cut FROM ${this.t('stats_cube_droll')} WHERE ${this.timeSql(sql, s, dcube, blocks)}`;
    const parts = [
      rolled(plus, ''),
      ...(minus.hours.length ? [rolled(minus, '-')] : []),
      ...seg.raw.map(
        ([a, b]) =>
          `SELECT 'x' AS grain, first_ts AS bucket, client_id, agency, tier, province, procedure, 1 AS served, cut AS with_cut
           FROM ${this.t('stats_dossiers')} WHERE first_ts >= ${sql.p(a)} AND first_ts < ${sql.p(b)}`,
      ),
    ];
    const filters = this.dimFilterSql(sql, q, { dossier: true });
    return this.rows(
      sql,
      `SELECT ${key} AS g, ${sql.sum('served')} AS served, ${sql.sum('with_cut')} AS with_cut FROM (${parts.join(' UNION ALL ')}) d
       ${filters.length ? `WHERE ${filters.join(' AND ')}` : ''} GROUP BY g`,
    );
  }

  /** Adds (sign 1) or subtracts (sign -1, a maximum then ignored) one group's sums. */
  private addTo(a: Acc, m: Record<Measure, number>, durMax: number | null, hist: readonly number[], cost: number, sign: 1 | -1 = 1): void {
    for (const k of MEASURES) a.m[k] += sign * m[k];
    for (const o of ROLL_OUTCOMES) a.byOutcome[o] = (a.byOutcome[o] ?? 0) + sign * m[outcomeColumn(o) as Measure];
    if (durMax !== null) a.durMax = a.durMax === null ? durMax : Math.max(a.durMax, durMax);
    for (let i = 0; i < LATENCY_BUCKETS; i++) a.hist[i]! += sign * hist[i]!;
    a.costVnd += sign * cost;
  }

  private figuresOf(a: Acc, dossiersComputed: boolean, ownRegistry?: string): StatsFigures {
    const byRegistry: Record<string, number> = {};
    for (const [k, n] of Object.entries(a.entities)) if (n > 0 && (ownRegistry === undefined || k === ownRegistry)) byRegistry[k] = n;
    const cents = a.m.hours_cents;
    const n = a.m.requests;
    return {
      requests: { total: n, byOutcome: { ...a.byOutcome } },
      entitiesShared: { total: Object.values(byRegistry).reduce((x, y) => x + y, 0), byRegistry },
      fieldsShared: a.m.fields_shared,
      prefills: a.m.prefills,
      componentsCut: a.m.components_cut,
      hoursSaved: cents / 100,
      valueVnd: Math.round((cents * this.opts.hourlyRateVnd) / 100),
      latencyMs: {
        p50: histogramPercentile(a.hist, 50, n ? a.durMax : null),
        p95: histogramPercentile(a.hist, 95, n ? a.durMax : null),
        p99: histogramPercentile(a.hist, 99, n ? a.durMax : null),
        mean: n ? round(a.m.dur_sum_us / 1000 / n, 3) : null,
        max: n ? a.durMax : null,
      },
      dossiers: {
        served: dossiersComputed ? a.served : null,
        withComponentsCut: dossiersComputed ? a.withCut : null,
        requestsWithoutDossier: a.m.no_dossier,
      },
      fields: { prefilled: a.m.fields_prefilled, forCitizen: a.m.fields_for_citizen },
      costsSavedVnd: Math.round(a.costVnd),
    };
  }

  emptyFigures(): StatsFigures {
    return this.figuresOf(newAcc(), true);
  }

  /** Figures per API key (registry groups split from their sets and merged). */
  private async figures(q: StatsFilter, groupBy: Grouping, withTotal?: (total: StatsFigures) => void): Promise<Map<string | null, StatsFigures>> {
    const accs = await this.accumulate(q, groupBy);
    if (withTotal) {
      // The groups partition the requests (and dossiers): the total is their sum, no second pass.
      const total = newAcc();
      for (const [k, a] of accs) if (k !== NOT_COMPUTED) mergeAcc(total, a);
      withTotal(this.figuresOf(total, !accs.has(NOT_COMPUTED)));
    }
    const computed = !accs.has(NOT_COMPUTED);
    accs.delete(NOT_COMPUTED);
    const merged = new Map<string | null, Acc>();
    for (const [raw, a] of accs) {
      for (const key of this.apiKeys(groupBy, raw)) {
        const cur = merged.get(key);
        if (!cur) {
          merged.set(key, structuredClone(a));
          continue;
        }
        mergeAcc(cur, a);
      }
    }
    const out = new Map<string | null, StatsFigures>();
    for (const [key, a] of merged) {
      // A dossier-only group (no request in the period matched) still shows its dossiers.
      out.set(key, this.figuresOf(a, computed, groupBy === 'registry' ? (key ?? undefined) : undefined));
    }
    return out;
  }

  /** The labels of a group key. */
  labelsOf(groupBy: Grouping, key: string | null): { label: string | null; labelEn: string | null } {
    const c = this.opts.catalog;
    switch (groupBy) {
      case 'procedure':
        if (key === null) return { label: 'Không nêu thủ tục', labelEn: 'No procedure named' };
        if (key === UNKNOWN_PROCEDURE) return { label: 'Mục đích không thuộc danh mục thủ tục', labelEn: 'Purpose not in the procedure catalog' };
        return { label: c?.procedureName(key) ?? key, labelEn: c?.procedureNameEn(key) ?? null };
      case 'client':
        return { label: (key && c?.clientName(key)) ?? key, labelEn: null };
      case 'tier':
        return tierLabel(key);
      case 'province':
        return provinceLabel(key);
      case 'registry':
        return { label: key ? registryTitle(key) : null, labelEn: null };
      default:
        return { label: key, labelEn: key };
    }
  }

  /** Totals for the period and, unless `groupBy` is `none`, one page of groups. */
  async summary(q: StatsQuery): Promise<StatsSummary> {
    await this.source.catchUp?.();
    if (q.groupBy === 'none') return { total: (await this.figures(q, 'none')).get('*') ?? this.emptyWith(q), groups: [], totalGroups: 0 };
    // Groupings that partition requests and dossiers give the total as their sum (one pass).
    let total: StatsFigures | null = null;
    const partition = DOSSIER_GROUPS.has(q.groupBy);
    const byKey = await this.figures(q, q.groupBy, partition ? (t) => (total = t) : undefined);
    if (!partition || total === null) total = (await this.figures(q, 'none')).get('*') ?? this.emptyWith(q);
    const totalFigures: StatsFigures = total;
    if (totalFigures.requests.total === 0 && partition) {
      const e = this.emptyWith(q);
      totalFigures.latencyMs = e.latencyMs;
    }
    const groups: StatsGroup[] = [...byKey.entries()].map(([key, f]) => ({ key, ...this.labelsOf(q.groupBy, key), ...f }));
    // Time groups read chronologically; the others largest first (ties by key, so pages are stable).
    const chronological = q.groupBy === 'day' || q.groupBy === 'month';
    groups.sort((a, b) => {
      if (!chronological && a.requests.total !== b.requests.total) return b.requests.total - a.requests.total;
      return (a.key ?? '') < (b.key ?? '') ? -1 : (a.key ?? '') > (b.key ?? '') ? 1 : 0;
    });
    return { total: totalFigures, groups: groups.slice(q.offset, q.offset + q.limit), totalGroups: groups.length };
  }

  private emptyWith(q: StatsFilter): StatsFigures {
    const f = this.emptyFigures();
    if (q.outcome || q.registry) f.dossiers = { served: null, withComponentsCut: null, requestsWithoutDossier: 0 };
    return f;
  }

  /** Fields shared by schema coordinate, most requested first, one page. */
  async fields(q: StatsQuery): Promise<{ items: FieldCount[]; totalItems: number }> {
    await this.source.catchUp?.();
    const seg = segmentsOf(q.from, q.to);
    const sql = new Sql(this.dialect);
    const cube = this.cubeFor('none', q, FIELD_CUBES);
    const where = [this.timeSql(sql, seg, cube, 'all'), ...this.dimFilterSql(sql, q, { dossier: false })];
    if (q.prefix) where.push(`coordinate LIKE ${sql.p(q.prefix.replace(/[\\%_]/g, (c) => `\\${c}`) + '%')} ESCAPE '\\'`);
    const rows = await this.rows(sql, `SELECT coordinate, ${sql.sum('n')} AS n FROM ${this.t('stats_cube_fields')} WHERE ${where.join(' AND ')} GROUP BY coordinate`);
    const counts = new Map<string, number>(rows.map((r) => [String(r.coordinate), num(r.n)]));
    if (seg.raw.length) {
      const edges = await this.rawEdges(seg.raw, cube);
      for (const e of edges.fields.values()) {
        if (!this.dimMatchesJs(e.dims, q) || (q.prefix && !e.coordinate.startsWith(q.prefix))) continue;
        counts.set(e.coordinate, (counts.get(e.coordinate) ?? 0) + e.n);
      }
    }
    const items = [...counts]
      .filter(([, n]) => n > 0)
      .map(([coordinate, requests]) => ({ coordinate, requests }))
      .sort((a, b) => b.requests - a.requests || (a.coordinate < b.coordinate ? -1 : 1));
    return { items: items.slice(q.offset, q.offset + q.limit), totalItems: items.length };
  }

  /** Figures per (tier, province, procedure) for the report, in one pass over the rollups. */
  async reportRows(q: StatsFilter): Promise<Array<{ tier: string; province: string | null; procedure: string | null; figures: StatsFigures }>> {
    await this.source.catchUp?.();
    const rows = [...(await this.figures(q, 'report'))].map(([key, figures]) => {
      const [tier = '', province = '', procedure = ''] = (key ?? '').split(REPORT_SEP);
      return { tier, province: province === '' ? null : province, procedure: procedure === '' ? null : procedure, figures };
    });
    const k = (r: { tier: string; province: string | null; procedure: string | null }) => `${r.tier}\u0000${r.province ?? ''}\u0000${r.procedure ?? ''}`;
    return rows.sort((x, y) => (k(x) < k(y) ? -1 : k(x) > k(y) ? 1 : 0));
  }
}

function mergeAcc(into: Acc, a: Acc): void {
  for (const k of MEASURES) into.m[k] += a.m[k];
  for (const [o, c] of Object.entries(a.byOutcome)) into.byOutcome[o] = (into.byOutcome[o] ?? 0) + c;
  if (a.durMax !== null) into.durMax = into.durMax === null ? a.durMax : Math.max(into.durMax, a.durMax);
  for (let i = 0; i < LATENCY_BUCKETS; i++) into.hist[i]! += a.hist[i]!;
  into.costVnd += a.costVnd;
  for (const [r, c] of Object.entries(a.entities)) into.entities[r] = (into.entities[r] ?? 0) + c;
  into.served += a.served;
  into.withCut += a.withCut;
}

/** Sentinel key: dossier figures were not computed for this grouping/filter. */
const NOT_COMPUTED = Symbol('dossiers-not-computed');

/**
 * Default out-of-pocket cost of one dossier component a citizen no longer supplies, VND:
 * 2 pages photocopied (2 × 500) + certification of 2 pages (2 × 2 000, the fee of Thông tư
 * 226/2016/TT-BTC on chứng thực bản sao) + a share of postage/travel for filing (5 000).
 * A procedure may declare its own (per component) in the catalog; docs/CONSOLE.md.
 */
export const DEFAULT_COMPONENT_COST_VND = 10_000;

/** An audit_records row (either store) as the rollup fold reads it. */
export function rollupRecordOf(row: Record<string, unknown>): RollupRecord {
  const json = <T>(v: unknown): T => (typeof v === 'string' ? JSON.parse(v) : v) as T;
  return {
    instanceId: String(row.instance_id),
    seq: Number(row.seq),
    ts: Number(row.ts),
    clientId: String(row.client_id),
    agency: String(row.agency),
    procedureId: (row.procedure_id as string | null) ?? null,
    dossierId: (row.dossier_id as string | null) ?? null,
    registries: json(row.registries),
    fields: json(row.fields),
    entities: json(row.entities),
    outcome: String(row.outcome),
    durationMs: Number(row.duration_ms),
    prefill: row.prefill === null || row.prefill === undefined ? null : json(row.prefill),
    ...(row.client_tier ? { clientTier: String(row.client_tier) } : {}),
    ...(row.client_province ? { clientProvince: String(row.client_province) } : {}),
  };
}


function tierLabel(key: string | null): { label: string | null; labelEn: string | null } {
  const l = key && key in AGENCY_TIER_LABELS ? AGENCY_TIER_LABELS[key as AgencyTier] : null;
  return l ? { label: l.label, labelEn: l.labelEn } : { label: 'Chưa khai báo', labelEn: 'Unspecified' };
}
export function provinceLabel(key: string | null): { label: string | null; labelEn: string | null } {
  if (key === null) return { label: 'Không thuộc khối địa phương', labelEn: 'Not a province' };
  const p = PROVINCIAL_UNIT_BY_CODE.get(key);
  return p ? { label: p.name, labelEn: p.nameEn } : { label: key, labelEn: null };
}
function registryTitle(key: string): string {
  return registryLabel(key);
}
