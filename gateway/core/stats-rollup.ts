/**
 * Statistics rollups (issue 16): what each committed audit record adds to the statistics tables,
 * and the tables themselves. Shared by the writer (gateway/audit: the stores roll committed records
 * into these tables a second later, many at a time, moving a per-chain mark in the same
 * transaction, `stats_rolled`: see gateway/audit/rollup-tail.ts) and the reader (gateway/stats:
 * every figure is read from these tables, after rolling what is committed). Defined in core
 * because two concerns need the one definition. Design and guarantees: docs/CONSOLE.md, "Rollups".
 *
 * Every figure is kept in several CUBES, each a subset of the dimensions (the others stored as
 * ''), so a query reads the narrowest cube that has the dimensions it groups and filters by:
 *   n  procedure                                          (totals, procedure, day, month, fields)
 *   p  tier × province × procedure                       (tier, province, report, ranking)
 *   r  tier × province × procedure × registries × outcome (registry, outcome)
 *   c  client × agency × tier × province × procedure     (client, agency)
 *   f  every dimension                                    (any other combination of filters)
 * and at several GRAINS: `h` hour, `d` Vietnamese day, and aligned blocks of 2, 4, 8 and 16 days
 * (`d2` … `d16`, not in cube f), so a 30-day period is a handful of blocks plus its edge days,
 * whatever the volume; cube n also keeps 5-minute rows (`m5`, in `stats_cube` and
 * `stats_cube_entities`), so a period cut mid-hour folds at most 5 minutes of records at each end.
 * Tables (prefix `stats_`), every dimension a NOT NULL text ('' = none/not in the cube):
 * - `stats_cube`          cube × grain × bucket × dimensions: counts, sums, requests per outcome,
 *                         max duration and the latency histogram (`l0` … `l69`) in the same row.
 * - `stats_cube_entities` the same key × registry: entities returned.
 * - `stats_cube_fields`   the same key × schema coordinate (cubes n, p and f): requests that returned it.
 * - `stats_dossiers`      one row per (client, dossier id): its first request (min of ts, instance,
 *                         seq), that request's agency/tier/province/procedure, and whether any of
 *                         its requests cut a component. Triggers keep `stats_cube_droll` (served /
 *                         with a component cut, per cube n/p/c × grain × bucket of the first request ×
 *                         its dimensions) in step, whatever order records are committed in.
 * A cube added to a store written without it is derived from a wider cube's rows (deriveCubeSql).
 * Every table is additive in records, so a batch's contributions are summed in memory first
 * (one upsert per key and batch).
 */
import type { PrefillSummary } from './context.js';

/** The record fields the rollups read (an AuditRecord has them all). */
export interface RollupRecord {
  instanceId: string;
  seq: number;
  ts: number;
  clientId: string;
  agency: string;
  procedureId: string | null;
  dossierId: string | null;
  registries: string[];
  fields: string[];
  entities: Record<string, number>;
  outcome: string;
  durationMs: number;
  prefill: PrefillSummary | null;
  clientTier?: string;
  clientProvince?: string;
}

export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;
/** Vietnam time, UTC+07:00 all year: day buckets start at Vietnamese midnight. */
export const VN_OFFSET_MS = 7 * HOUR_MS;

export function hourBucket(ts: number): number {
  return Math.floor(ts / HOUR_MS) * HOUR_MS;
}

/**
 * Latency histogram: bucket i holds durations d with LATENCY_BOUNDS_MS[i-1] < d ≤ LATENCY_BOUNDS_MS[i]
 * (bucket 0: d ≤ 1 ms), four buckets per doubling from 1 ms to 131 072 ms, plus one overflow bucket.
 * A percentile is reported as its bucket's upper bound, capped by the period's exact maximum: never
 * below the exact nearest-rank value and at most 2^(1/4) − 1 ≈ 18.9 % above it (under 1 ms absolute
 * in bucket 0; the overflow bucket reports the exact maximum).
 */
export const LATENCY_BOUNDS_MS: readonly number[] = Array.from({ length: 69 }, (_, i) => Math.round(2 ** (i / 4) * 1000) / 1000);
/** Number of histogram buckets (`le` 0 … 69), the last one the overflow. */
export const LATENCY_BUCKETS = LATENCY_BOUNDS_MS.length + 1;

export function latencyBucket(ms: number): number {
  let lo = 0;
  let hi = LATENCY_BOUNDS_MS.length;
  // First bound ≥ ms (binary search); LATENCY_BOUNDS_MS.length = overflow.
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (LATENCY_BOUNDS_MS[mid]! >= ms) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Dimensions of a rollup row, in column order. */
export const DIMS = ['client_id', 'agency', 'tier', 'province', 'procedure', 'registries', 'outcome'] as const;
export type Dim = (typeof DIMS)[number];

/** The cubes, narrowest first: a query reads the first whose dimensions cover its grouping and filters. */
export const CUBES = {
  // Procedure alone: the costs are per procedure, so this is the narrowest a figure can be read
  // from (about 30 rows a day whatever the agencies; cube p has one per province and procedure).
  n: ['procedure'],
  p: ['tier', 'province', 'procedure'],
  r: ['tier', 'province', 'procedure', 'registries', 'outcome'],
  c: ['client_id', 'agency', 'tier', 'province', 'procedure'],
  f: DIMS,
} as const satisfies Record<string, readonly Dim[]>;
export type Cube = keyof typeof CUBES;
export const CUBE_ORDER: readonly Cube[] = ['n', 'p', 'r', 'c', 'f'];
/** Cubes that keep the fields table (the fields call groups by nothing: n, p with a tier or province filter, else f). */
export const FIELD_CUBES: readonly Cube[] = ['n', 'p', 'f'];
/** Cubes that keep dossier rows (a dossier has no registry or outcome). */
export const DOSSIER_CUBES: readonly Cube[] = ['n', 'p', 'c'];

/** Multi-day blocks, aligned on the Vietnamese day number (days since 1970-01-01 VN), largest first. */
export const BLOCK_DAYS: readonly number[] = [16, 8, 4, 2];
export type Grain = string;
/** `h`, `d` and (except cube f: its rows are nearly one per record and group) `d16` … `d2`. */
export function grainsOf(cube: Cube): readonly Grain[] {
  return cube === 'f' ? ['h', 'd'] : ['h', 'd', ...BLOCK_DAYS.map((n) => `d${n}`)];
}
/**
 * The sub-hour grain: 5-minute rows, in the cubes of SUB_CUBES and only in `stats_cube` and
 * `stats_cube_entities` (per coordinate or dossier they would outnumber the records' hours).
 */
export const SUB_GRAIN: Grain = 'm5';
export const SUB_MS = 300_000;
export const SUB_CUBES: readonly Cube[] = ['n'];
/** The grains of a cube's `stats_cube` and `stats_cube_entities` rows: its grains and, in SUB_CUBES, SUB_GRAIN. */
export function rollGrainsOf(cube: Cube): readonly Grain[] {
  return SUB_CUBES.includes(cube) ? [SUB_GRAIN, ...grainsOf(cube)] : grainsOf(cube);
}
/** Days of a grain (0 = hour or less). */
export function grainDays(grain: Grain): number {
  return grain === 'h' || grain === SUB_GRAIN ? 0 : grain === 'd' ? 1 : Number(grain.slice(1));
}
export function bucketOf(grain: Grain, ts: number): number {
  if (grain === SUB_GRAIN) return Math.floor(ts / SUB_MS) * SUB_MS;
  const n = grainDays(grain);
  if (n === 0) return hourBucket(ts);
  const day = Math.floor((ts + VN_OFFSET_MS) / DAY_MS);
  return Math.floor(day / n) * n * DAY_MS - VN_OFFSET_MS;
}

/** Requests per outcome are measures (not a dimension) in cubes without `outcome`. */
export const ROLL_OUTCOMES = ['OK', 'PARTIAL', 'DENIED', 'INVALID', 'ERROR', 'UNAUTHENTICATED'] as const;
export const outcomeColumn = (o: string) => `o_${o.toLowerCase()}`;
/** Additive measures of `stats_cube` (dur_max and the histogram columns follow them). */
export const MEASURES = [
  'requests', 'no_dossier', 'fields_shared', 'prefills', 'fields_total', 'fields_prefilled', 'fields_for_citizen',
  'components_total', 'components_cut', 'hours_cents', 'dur_sum_us',
  ...ROLL_OUTCOMES.map(outcomeColumn),
] as const;
export type Measure = (typeof MEASURES)[number];
/** Histogram columns `l0` … `l69` (requests per latency bucket). */
export const HIST_COLUMNS: readonly string[] = Array.from({ length: LATENCY_BUCKETS }, (_, i) => `l${i}`);
/** Dimensions a dossier is attributed by (those of its first request). */
export const DOSSIER_DIMS = ['client_id', 'agency', 'tier', 'province', 'procedure'] as const;

export const TIER_UNSPECIFIED = 'unspecified';

export function dimsOf(r: RollupRecord): Record<Dim, string> {
  const tier = r.clientTier ?? TIER_UNSPECIFIED;
  return {
    client_id: r.clientId,
    agency: r.agency,
    tier,
    province: tier === 'province' ? (r.clientProvince ?? '') : '',
    procedure: r.procedureId ?? '',
    registries: [...r.registries].sort().join(';'),
    outcome: r.outcome,
  };
}

/** The dimensions as a cube stores them ('' for those it does not keep). */
export function projectDims(d: Record<Dim, string>, cube: Cube): Record<Dim, string> {
  if (cube === 'f') return d;
  const keep: readonly Dim[] = CUBES[cube];
  const out = {} as Record<Dim, string>;
  for (const k of DIMS) out[k] = keep.includes(k) ? d[k] : '';
  return out;
}

/** Everything one or more records add to a `stats_cube` row; `hist` is sparse (bucket → requests). */
export interface RollMeasures {
  m: Record<Measure, number>;
  durMax: number;
  hist: Record<number, number>;
}

export function measuresOf(r: RollupRecord): RollMeasures {
  const p = r.prefill;
  const m = {
    requests: 1,
    no_dossier: r.dossierId ? 0 : 1,
    fields_shared: r.fields.length,
    prefills: p ? 1 : 0,
    fields_total: p?.fieldsTotal ?? 0,
    fields_prefilled: p?.fieldsPrefilled ?? 0,
    fields_for_citizen: p?.fieldsForCitizen ?? 0,
    components_total: p?.componentsTotal ?? 0,
    components_cut: p?.componentsCut ?? 0,
    // Stored with 2 decimals: integer hundredths keep sums exact.
    hours_cents: p ? Math.round(p.hoursSaved * 100) : 0,
    // Stored with 3 decimals: integer microseconds keep sums exact.
    dur_sum_us: Math.round(r.durationMs * 1000),
  } as Record<Measure, number>;
  for (const o of ROLL_OUTCOMES) m[outcomeColumn(o) as Measure] = r.outcome === o ? 1 : 0;
  return { m, durMax: r.durationMs, hist: { [latencyBucket(r.durationMs)]: 1 } };
}

/** The dense histogram of a sparse one. */
export function denseHist(h: Record<number, number>): number[] {
  const out = new Array<number>(LATENCY_BUCKETS).fill(0);
  for (const [i, n] of Object.entries(h)) out[Number(i)]! += n;
  return out;
}

/** A dossier's contribution: its first request and whether it cut a component. */
export interface DossierRow {
  clientId: string;
  dossierId: string;
  firstTs: number;
  firstInstance: string;
  firstSeq: number;
  dims: Pick<Record<Dim, string>, (typeof DOSSIER_DIMS)[number]>;
  cut: 0 | 1;
}

const before = (a: DossierRow, b: DossierRow) =>
  a.firstTs !== b.firstTs ? a.firstTs < b.firstTs : a.firstInstance !== b.firstInstance ? a.firstInstance < b.firstInstance : a.firstSeq < b.firstSeq;

interface Keyed {
  cube: Cube;
  grain: Grain;
  bucket: number;
  dims: Record<Dim, string>;
}
/** The rollup contributions of a batch of records, summed per key. */
export interface RollupBatch {
  /** key = cube|grain|bucket|dims… */
  roll: Map<string, Keyed & { v: RollMeasures }>;
  entities: Map<string, Keyed & { registry: string; n: number }>;
  fields: Map<string, Keyed & { coordinate: string; n: number }>;
  dossiers: Map<string, DossierRow>;
}

export function emptyBatch(): RollupBatch {
  return { roll: new Map(), entities: new Map(), fields: new Map(), dossiers: new Map() };
}

const SEP = '\u0000';

/**
 * Adds one record's contributions. `only` restricts them to one cube and grain (the engine folds
 * the records of partial hours into the hour rows of the cube it reads) and skips the dossiers.
 */
export function addRecord(batch: RollupBatch, r: RollupRecord, only?: { cube: Cube; grain: Grain }): void {
  const dims = dimsOf(r);
  const v = measuresOf(r);
  for (const cube of only ? [only.cube] : CUBE_ORDER) addToCube(batch, r, dims, v, cube, only ? [only.grain] : rollGrainsOf(cube));
  if (r.dossierId && !only) addDossier(batch, r, dims);
}

/** One record's rows of one cube at `grains` (no fields at SUB_GRAIN). */
function addToCube(batch: RollupBatch, r: RollupRecord, dims: Record<Dim, string>, v: RollMeasures, cube: Cube, grains: readonly Grain[]): void {
  const le = latencyBucket(r.durationMs);
  const cd = projectDims(dims, cube);
  const dimKey = DIMS.map((d) => cd[d]).join(SEP);
  const withFields = FIELD_CUBES.includes(cube);
  for (const grain of grains) {
    const bucket = bucketOf(grain, r.ts);
    const k = `${cube}${SEP}${grain}${SEP}${bucket}${SEP}${dimKey}`;
    const cur = batch.roll.get(k);
    if (cur) {
      const m = cur.v.m;
      for (const key of MEASURES) m[key] += v.m[key];
      if (v.durMax > cur.v.durMax) cur.v.durMax = v.durMax;
      cur.v.hist[le] = (cur.v.hist[le] ?? 0) + 1;
    } else batch.roll.set(k, { cube, grain, bucket, dims: cd, v: { m: { ...v.m }, durMax: v.durMax, hist: { [le]: 1 } } });
    for (const registry in r.entities) {
      const n = r.entities[registry]!;
      const ek = `${k}${SEP}${registry}`;
      const e = batch.entities.get(ek);
      if (e) e.n += n;
      else batch.entities.set(ek, { cube, grain, bucket, dims: cd, registry, n });
    }
    if (!withFields || grain === SUB_GRAIN) continue;
    for (const coordinate of r.fields) {
      const fk = `${k}${SEP}${coordinate}`;
      const f = batch.fields.get(fk);
      if (f) f.n += 1;
      else batch.fields.set(fk, { cube, grain, bucket, dims: cd, coordinate, n: 1 });
    }
  }
}

/** A record's dossier: its first request (the earliest so far in the batch) and the cut flag. */
function addDossier(batch: RollupBatch, r: RollupRecord, dims: Record<Dim, string>): void {
  if (r.dossierId) {
    const row: DossierRow = {
      clientId: r.clientId,
      dossierId: r.dossierId,
      firstTs: r.ts,
      firstInstance: r.instanceId,
      firstSeq: r.seq,
      dims: { client_id: dims.client_id, agency: dims.agency, tier: dims.tier, province: dims.province, procedure: dims.procedure },
      cut: r.prefill && r.prefill.componentsCut > 0 ? 1 : 0,
    };
    const k = `${r.clientId}${SEP}${r.dossierId}`;
    const cur = batch.dossiers.get(k);
    if (!cur) batch.dossiers.set(k, row);
    else {
      const cut = (cur.cut | row.cut) as 0 | 1;
      batch.dossiers.set(k, before(row, cur) ? { ...row, cut } : { ...cur, cut });
    }
  }
}

/** One hour × full dimensions of a batch (cube `f`, grain `h`) while addRecords sums it. */
interface FineGroup {
  row: Keyed & { v: RollMeasures };
  /** Entities per registry (a Map: registry names are data, not safe object keys). */
  entities: Map<string, number>;
  /** Distinct field lists and how many records had each (the records of a procedure share one). */
  lists: Array<{ fields: readonly string[]; n: number }>;
  /** Per coordinate, once a group has more than FINE_LISTS distinct lists. */
  coords: Map<string, number> | null;
}
/** Distinct field lists kept per group before counting per coordinate (bounds the list search). */
const FINE_LISTS = 8;

function sameList(a: readonly string[], b: readonly string[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Adds many records' contributions: the same result as `addRecord` on each, cheaper. The records
 * are first summed per hour and full dimensions (cube `f`, grain `h`: one key per record at most),
 * then each of those sums is spread over every cube and grain, so the cost of the cubes is paid
 * per distinct key, not per record. (An hour lies in one Vietnamese day: UTC+7 is whole hours.)
 * The SUB_GRAIN rows are added per record (a narrow cube: a handful of keys per batch); summing
 * per 5 minutes before spreading made the spread 2.5 times dearer.
 * The first pass builds one string per record (its group key): its field list and entities are
 * counted in the group (field lists compared, not keyed: ~29 coordinates a record), and expanded
 * into per-coordinate rows once per group and distinct list, with the count.
 */
export function addRecords(batch: RollupBatch, records: Iterable<RollupRecord>): void {
  const groups = new Map<string, FineGroup>();
  for (const r of records) {
    const dims = dimsOf(r);
    const v = measuresOf(r);
    for (const cube of SUB_CUBES) addToCube(batch, r, dims, v, cube, [SUB_GRAIN]);
    const bucket = hourBucket(r.ts);
    // Any key unique per (hour, dims): only the rows are spread, not these keys.
    const k = `${bucket}${SEP}${dims.client_id}${SEP}${dims.agency}${SEP}${dims.tier}${SEP}${dims.province}${SEP}${dims.procedure}${SEP}${dims.registries}${SEP}${dims.outcome}`;
    let g = groups.get(k);
    if (!g) {
      g = { row: { cube: 'f', grain: 'h', bucket, dims, v }, entities: new Map(), lists: [{ fields: r.fields, n: 1 }], coords: null };
      groups.set(k, g);
    } else {
      const m = g.row.v.m;
      for (const key of MEASURES) m[key] += v.m[key];
      if (v.durMax > g.row.v.durMax) g.row.v.durMax = v.durMax;
      for (const le in v.hist) g.row.v.hist[le] = (g.row.v.hist[le] ?? 0) + v.hist[le]!;
      addFields(g, r.fields);
    }
    for (const registry in r.entities) g.entities.set(registry, (g.entities.get(registry) ?? 0) + r.entities[registry]!);
    if (r.dossierId) addDossier(batch, r, dims);
  }
  const fine = emptyBatch();
  for (const [k, g] of groups) {
    const { cube, grain, bucket, dims } = g.row;
    fine.roll.set(k, g.row);
    for (const [registry, n] of g.entities) fine.entities.set(`${k}${SEP}${registry}`, { cube, grain, bucket, dims, registry, n });
    const addCoord = (coordinate: string, n: number) => {
      const fk = `${k}${SEP}${coordinate}`;
      const f = fine.fields.get(fk);
      if (f) f.n += n;
      else fine.fields.set(fk, { cube, grain, bucket, dims, coordinate, n });
    };
    for (const l of g.lists) for (const c of l.fields) addCoord(c, l.n);
    if (g.coords) for (const [c, n] of g.coords) addCoord(c, n);
  }
  spread(fine.roll, batch.roll, CUBE_ORDER, () => '', (cur, add) => {
    for (const key of MEASURES) cur.v.m[key] += add.v.m[key];
    if (add.v.durMax > cur.v.durMax) cur.v.durMax = add.v.durMax;
    for (const le in add.v.hist) cur.v.hist[le] = (cur.v.hist[le] ?? 0) + add.v.hist[le]!;
  }, (r) => ({ v: { m: { ...r.v.m }, durMax: r.v.durMax, hist: { ...r.v.hist } } }));
  spread(fine.entities, batch.entities, CUBE_ORDER, (r) => r.registry, (cur, add) => void (cur.n += add.n), (r) => ({ registry: r.registry, n: r.n }));
  spread(fine.fields, batch.fields, FIELD_CUBES, (r) => r.coordinate, (cur, add) => void (cur.n += add.n), (r) => ({ coordinate: r.coordinate, n: r.n }));
}

/** Counts one record's field list in its group: the last list matched first (records come in runs). */
function addFields(g: FineGroup, fields: readonly string[]): void {
  const lists = g.lists;
  for (let i = lists.length - 1; i >= 0; i--) {
    if (sameList(lists[i]!.fields, fields)) {
      lists[i]!.n += 1;
      return;
    }
  }
  if (lists.length < FINE_LISTS) {
    lists.push({ fields, n: 1 });
    return;
  }
  const coords = (g.coords ??= new Map());
  for (const c of fields) coords.set(c, (coords.get(c) ?? 0) + 1);
}

/** Adds each hour row of cube `f` to every cube of `cubes` at every grain (SUB_GRAIN aside), summed per key. */
function spread<R extends Keyed>(
  fine: Map<string, R>,
  into: Map<string, R>,
  cubes: readonly Cube[],
  suffix: (r: R) => string,
  merge: (cur: R, add: R) => void,
  values: (r: R) => Omit<R, keyof Keyed>,
): void {
  for (const row of fine.values()) {
    // The keys addRecord makes: a batch may be filled by either.
    const sfx = suffix(row);
    const tail = sfx ? `${SEP}${sfx}` : '';
    for (const cube of cubes) {
      const dims = projectDims(row.dims, cube);
      const dimKey = DIMS.map((d) => dims[d]).join(SEP);
      for (const grain of grainsOf(cube)) {
        const bucket = bucketOf(grain, row.bucket);
        const k = `${cube}${SEP}${grain}${SEP}${bucket}${SEP}${dimKey}${tail}`;
        const cur = into.get(k);
        if (cur) merge(cur, row);
        else into.set(k, { cube, grain, bucket, dims, ...values(row) } as R);
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// SQL: the same text for both dialects except where noted; `t(name)` qualifies a table.

export type Dialect = 'sqlite' | 'postgres';
/** SQLite: the rollups are clustered by their key (range scans over buckets read adjacent pages). */
const CLUSTERED = (dialect: Dialect) => (dialect === 'sqlite' ? ' WITHOUT ROWID' : '');
export const STATS_TABLES = ['stats_cube', 'stats_cube_entities', 'stats_cube_fields', 'stats_dossiers', 'stats_cube_droll'] as const;
/** Tables of the first rollup layout (one key for every figure): dropped, then rebuilt, on upgrade. */
export const LEGACY_STATS_TABLES = ['stats_roll', 'stats_latency', 'stats_entities', 'stats_fields', 'stats_droll'] as const;

const dimCols = DIMS.map((d) => `${d} TEXT NOT NULL`).join(', ');
const dossierDimCols = DOSSIER_DIMS.map((d) => `${d} TEXT NOT NULL`).join(', ');
const KEY = `cube, grain, bucket, ${DIMS.join(', ')}`;
const DROLL_KEY = `cube, grain, bucket, ${DOSSIER_DIMS.join(', ')}`;

/**
 * Per audit chain, the last record whose contributions are in the rollups: an append inserts its
 * chain's row (before its first record), a roll moves it forward in the transaction that upserts
 * (gateway/audit/rollup-tail.ts). Not one of STATS_TABLES: a rebuild sets it to every chain's head.
 */
export const ROLLED_TABLE = 'stats_rolled';
export function rolledSchemaSql(dialect: Dialect, t: (name: string) => string): string {
  return `CREATE TABLE IF NOT EXISTS ${t(ROLLED_TABLE)} (instance_id TEXT PRIMARY KEY, seq ${dialect === 'sqlite' ? 'INTEGER' : 'BIGINT'} NOT NULL)`;
}

/** DDL of the rollup tables and the dossier triggers. `t` qualifies a table name (PostgreSQL schema). */
export function rollupSchemaSql(dialect: Dialect, t: (name: string) => string): string[] {
  const big = dialect === 'sqlite' ? 'INTEGER' : 'BIGINT';
  const real = dialect === 'sqlite' ? 'REAL' : 'DOUBLE PRECISION';
  const out = [
    `CREATE TABLE IF NOT EXISTS ${t('stats_cube')} (cube TEXT NOT NULL, grain TEXT NOT NULL, bucket ${big} NOT NULL, ${dimCols},
      ${MEASURES.map((m) => `${m} ${big} NOT NULL`).join(', ')}, dur_max ${real} NOT NULL,
      ${HIST_COLUMNS.map((c) => `${c} ${big} NOT NULL`).join(', ')}, PRIMARY KEY (${KEY}))${CLUSTERED(dialect)}`,
    `CREATE TABLE IF NOT EXISTS ${t('stats_cube_entities')} (cube TEXT NOT NULL, grain TEXT NOT NULL, bucket ${big} NOT NULL, ${dimCols},
      registry TEXT NOT NULL, n ${big} NOT NULL, PRIMARY KEY (${KEY}, registry))${CLUSTERED(dialect)}`,
    `CREATE TABLE IF NOT EXISTS ${t('stats_cube_fields')} (cube TEXT NOT NULL, grain TEXT NOT NULL, bucket ${big} NOT NULL, ${dimCols},
      coordinate TEXT NOT NULL, n ${big} NOT NULL, PRIMARY KEY (${KEY}, coordinate))${CLUSTERED(dialect)}`,
    `CREATE TABLE IF NOT EXISTS ${t('stats_dossiers')} (client_id TEXT NOT NULL, dossier_id TEXT NOT NULL,
      first_ts ${big} NOT NULL, first_instance TEXT NOT NULL, first_seq ${big} NOT NULL,
      agency TEXT NOT NULL, tier TEXT NOT NULL, province TEXT NOT NULL, procedure TEXT NOT NULL, cut INTEGER NOT NULL,
      PRIMARY KEY (client_id, dossier_id))`,
    `CREATE INDEX IF NOT EXISTS stats_dossiers_first ON ${t('stats_dossiers')} (first_ts)`,
    `CREATE TABLE IF NOT EXISTS ${t('stats_cube_droll')} (cube TEXT NOT NULL, grain TEXT NOT NULL, bucket ${big} NOT NULL, ${dossierDimCols},
      served ${big} NOT NULL, with_cut ${big} NOT NULL, PRIMARY KEY (${DROLL_KEY}))${CLUSTERED(dialect)}`,
  ];
  return [...out, ...dossierTriggerSql(dialect, t)];
}

/** (cube, grain, days) of every dossier rollup row a dossier adds to: a VALUES list. */
const DROLL_TARGETS = `(VALUES ${DOSSIER_CUBES.flatMap((c) => grainsOf(c).map((g) => `('${c}', '${g}', ${grainDays(g)})`)).join(', ')})`;

/**
 * The dossier rollup rows of the dossier rows `x` (a row alias: NEW/OLD in a trigger, a table
 * alias in the rebuild): SELECT cube, grain, bucket, dims…, with the VALUES list as `g`.
 */
function drollSelect(x: string, served: string, cut: string): string {
  // A dimension as each cube keeps it: the column, or '' in the cubes without it.
  const kept = (col: (typeof DOSSIER_DIMS)[number]) => {
    const cubes = DOSSIER_CUBES.filter((c) => (CUBES[c] as readonly Dim[]).includes(col));
    if (cubes.length === DOSSIER_CUBES.length) return `${x}.${col} AS ${col}`;
    return `CASE WHEN g.column1 IN (${cubes.map((c) => `'${c}'`).join(', ') || "''"}) THEN ${x}.${col} ELSE '' END AS ${col}`;
  };
  // Integer division truncates in both engines; timestamps are positive, so it floors.
  const bucket = `CASE WHEN g.column3 = 0 THEN (${x}.first_ts / ${HOUR_MS}) * ${HOUR_MS}
    ELSE ((${x}.first_ts + ${VN_OFFSET_MS}) / ${DAY_MS} / g.column3) * g.column3 * ${DAY_MS} - ${VN_OFFSET_MS} END`;
  return `SELECT g.column1 AS cube, g.column2 AS grain, ${bucket} AS bucket, ${DOSSIER_DIMS.map(kept).join(', ')},
    ${served} AS served, ${cut} AS with_cut FROM ${DROLL_TARGETS} AS g`;
}

/** Dossier triggers: a dossier row inserted adds (1, cut) to its rollup rows; an update moves it. */
export function dossierTriggerSql(dialect: Dialect, t: (name: string) => string): string[] {
  const add = (x: 'NEW' | 'OLD', sign: 1 | -1) =>
    `INSERT INTO ${t('stats_cube_droll')} AS stats_cube_droll (${DROLL_KEY}, served, with_cut)
       ${drollSelect(x, String(sign), sign === 1 ? `${x}.cut` : `-${x}.cut`)} WHERE true
       ON CONFLICT (${DROLL_KEY}) DO UPDATE SET served = stats_cube_droll.served + excluded.served, with_cut = stats_cube_droll.with_cut + excluded.with_cut;`;
  const changed = `OLD.first_ts <> NEW.first_ts OR OLD.first_instance <> NEW.first_instance OR OLD.first_seq <> NEW.first_seq OR OLD.cut <> NEW.cut`;
  if (dialect === 'sqlite') {
    return [
      ...dropDossierTriggersSql(dialect, t),
      `CREATE TRIGGER IF NOT EXISTS stats_cube_dossiers_ins AFTER INSERT ON stats_dossiers BEGIN ${add('NEW', 1)} END`,
      `CREATE TRIGGER IF NOT EXISTS stats_cube_dossiers_upd AFTER UPDATE ON stats_dossiers WHEN ${changed} BEGIN ${add('OLD', -1)} ${add('NEW', 1)} END`,
    ];
  }
  const fn = t('stats_cube_dossiers_fn');
  return [
    ...dropDossierTriggersSql(dialect, t),
    `CREATE OR REPLACE FUNCTION ${fn}() RETURNS trigger LANGUAGE plpgsql AS $fn$
      BEGIN
        IF TG_OP = 'UPDATE' THEN
          IF NOT (${changed}) THEN RETURN NULL; END IF;
          ${add('OLD', -1)}
        END IF;
        ${add('NEW', 1)}
        RETURN NULL;
      END $fn$`,
    `CREATE TRIGGER stats_cube_dossiers_trg AFTER INSERT OR UPDATE ON ${t('stats_dossiers')} FOR EACH ROW EXECUTE FUNCTION ${fn}()`,
  ];
}

/** Drops the dossier triggers (this layout's and the first layout's). */
export function dropDossierTriggersSql(dialect: Dialect, t: (name: string) => string): string[] {
  if (dialect === 'sqlite') return ['stats_dossiers_ins', 'stats_dossiers_upd', 'stats_cube_dossiers_ins', 'stats_cube_dossiers_upd'].map((n) => `DROP TRIGGER IF EXISTS ${n}`);
  return ['stats_dossiers_trg', 'stats_cube_dossiers_trg'].map((n) => `DROP TRIGGER IF EXISTS ${n} ON ${t('stats_dossiers')}`);
}

/**
 * Set-based: the dossier rollups of every `stats_dossiers` row (the rebuild, triggers dropped), in
 * key order. The dossiers are first counted per hour of their first request and dimensions (an
 * hour's bucket is its own at every grain), so each of the 12 targets adds up those counts, not
 * every dossier again.
 */
export function drollFromDossiersSql(t: (name: string) => string): string {
  const hour = `(first_ts / ${HOUR_MS}) * ${HOUR_MS}`;
  const dims = DOSSIER_DIMS.join(', ');
  return `INSERT INTO ${t('stats_cube_droll')} (${DROLL_KEY}, served, with_cut)
    SELECT ${DROLL_KEY}, SUM(served), SUM(with_cut) FROM (${drollSelect('d', 'd.n', 'd.cut_n')},
      (SELECT ${hour} AS first_ts, ${dims}, COUNT(*) AS n, SUM(cut) AS cut_n FROM ${t('stats_dossiers')} GROUP BY ${hour}, ${dims}) AS d) x
    GROUP BY ${DROLL_KEY} ORDER BY ${DROLL_KEY}`;
}

/** One upsert statement per table, with its rows (positional parameters, one array per row). */
export interface RollupStatement {
  table: (typeof STATS_TABLES)[number];
  columns: string[];
  /** PostgreSQL type of each column (the rows are sent as one array per column). */
  types: string[];
  /** `ON CONFLICT … DO UPDATE` clause. */
  conflict: string;
  rows: unknown[][];
}

export function rollupStatements(batch: RollupBatch, dialect: Dialect): RollupStatement[] {
  const max = dialect === 'sqlite' ? 'max' : 'GREATEST';
  const keyVals = (r: Keyed) => [r.cube, r.grain, r.bucket, ...DIMS.map((k) => r.dims[k])];
  const keyCols = ['cube', 'grain', 'bucket', ...DIMS];
  const keyTypes = ['text', 'text', 'int8', ...DIMS.map(() => 'text')];
  const out: RollupStatement[] = [];
  if (batch.roll.size) {
    const add = [...MEASURES, ...HIST_COLUMNS];
    out.push({
      table: 'stats_cube',
      columns: [...keyCols, ...MEASURES, 'dur_max', ...HIST_COLUMNS],
      types: [...keyTypes, ...MEASURES.map(() => 'int8'), 'float8', ...HIST_COLUMNS.map(() => 'int8')],
      conflict: `ON CONFLICT (${KEY}) DO UPDATE SET ${add.map((m) => `${m} = stats_cube.${m} + excluded.${m}`).join(', ')},
        dur_max = ${max}(stats_cube.dur_max, excluded.dur_max)`,
      rows: [...batch.roll.values()].map((r) => [
        ...keyVals(r), ...MEASURES.map((m) => r.v.m[m]), r.v.durMax, ...HIST_COLUMNS.map((_, i) => r.v.hist[i] ?? 0),
      ]),
    });
  }
  if (batch.entities.size) {
    out.push({
      table: 'stats_cube_entities',
      columns: [...keyCols, 'registry', 'n'],
      types: [...keyTypes, 'text', 'int8'],
      conflict: `ON CONFLICT (${KEY}, registry) DO UPDATE SET n = stats_cube_entities.n + excluded.n`,
      rows: [...batch.entities.values()].map((r) => [...keyVals(r), r.registry, r.n]),
    });
  }
  if (batch.fields.size) {
    out.push({
      table: 'stats_cube_fields',
      columns: [...keyCols, 'coordinate', 'n'],
      types: [...keyTypes, 'text', 'int8'],
      conflict: `ON CONFLICT (${KEY}, coordinate) DO UPDATE SET n = stats_cube_fields.n + excluded.n`,
      rows: [...batch.fields.values()].map((r) => [...keyVals(r), r.coordinate, r.n]),
    });
  }
  if (batch.dossiers.size) {
    // Keep the earliest first request (ts, instance, seq) and OR the cut flag: order-independent.
    const earlier = `(excluded.first_ts, excluded.first_instance, excluded.first_seq) < (stats_dossiers.first_ts, stats_dossiers.first_instance, stats_dossiers.first_seq)`;
    const pick = (c: string) => `${c} = CASE WHEN ${earlier} THEN excluded.${c} ELSE stats_dossiers.${c} END`;
    out.push({
      table: 'stats_dossiers',
      columns: ['client_id', 'dossier_id', 'first_ts', 'first_instance', 'first_seq', 'agency', 'tier', 'province', 'procedure', 'cut'],
      types: ['text', 'text', 'int8', 'text', 'int8', 'text', 'text', 'text', 'text', 'int4'],
      conflict: `ON CONFLICT (client_id, dossier_id) DO UPDATE SET ${['first_ts', 'first_instance', 'first_seq', 'agency', 'tier', 'province', 'procedure'].map(pick).join(', ')},
        cut = ${max}(stats_dossiers.cut, excluded.cut)`,
      rows: [...batch.dossiers.values()].map((d) => [
        d.clientId, d.dossierId, d.firstTs, d.firstInstance, d.firstSeq, d.dims.agency, d.dims.tier, d.dims.province, d.dims.procedure, d.cut,
      ]),
    });
  }
  return out;
}

/** A statement's SQL for one row (SQLite, `?` placeholders). */
export function sqliteUpsertSql(s: RollupStatement): string {
  return `INSERT INTO ${s.table} (${s.columns.join(', ')}) VALUES (${s.columns.map(() => '?').join(', ')}) ${s.conflict}`;
}

/**
 * PostgreSQL upserts, set-based: one array parameter per column, `INSERT … SELECT FROM unnest(…)`
 * (one statement text whatever the row count, no parameter limit), in chunks of 20 000 rows.
 * `qualified` is the schema-qualified table; the conflict clause refers to the bare table name,
 * which PostgreSQL accepts for the target row.
 */
export function postgresUpsertQueries(s: RollupStatement, qualified: string): Array<{ text: string; values: unknown[] }> {
  const per = 20_000;
  const text = `INSERT INTO ${qualified} AS ${s.table} (${s.columns.join(', ')})
    SELECT * FROM unnest(${s.types.map((t, i) => `$${i + 1}::${t}[]`).join(', ')}) ${s.conflict}`;
  const out: Array<{ text: string; values: unknown[] }> = [];
  for (let i = 0; i < s.rows.length; i += per) {
    const chunk = s.rows.slice(i, i + per);
    out.push({ text, values: s.columns.map((_, c) => chunk.map((row) => row[c])) });
  }
  return out;
}

/** [column, aggregate] for every value column of `stats_cube`, over rows aliased `x` (none: bare columns). */
export function cubeSums(x?: string): Array<[string, string]> {
  const c = (col: string) => (x ? `${x}.${col}` : col);
  return [...MEASURES.map((m): [string, string] => [m, `SUM(${c(m)})`]), ['dur_max', `MAX(${c('dur_max')})`], ...HIST_COLUMNS.map((h): [string, string] => [h, `SUM(${c(h)})`])];
}

/**
 * `INSERT INTO into (columns…, sums…) SELECT key…, aggregates… FROM from GROUP BY key ORDER BY key`:
 * one rollup step, its rows written in the table's key order. `from` may end with a WHERE clause.
 */
export function groupedInsertSql(into: string, columns: readonly string[], key: readonly string[], sums: Array<[string, string]>, from: string): string {
  const positions = key.map((_, i) => i + 1).join(', ');
  return `INSERT INTO ${into} (${[...columns, ...sums.map(([col]) => col)].join(', ')})
    SELECT ${[...key, ...sums.map(([, e]) => e)].join(', ')} FROM ${from} GROUP BY ${positions} ORDER BY ${positions}`;
}

/**
 * The statements that fill cube `target`'s rows in every rollup table from a wider cube's, for a
 * store written before `target` existed (its records may be archived, so they are not re-read):
 * the wider cube keeps every dimension `target` keeps, at every grain, so summing its rows over the
 * dimensions `target` drops gives exactly what rolling every record into `target` would have.
 * SUB_GRAIN rows are not derived (deriveMissingCubes has them folded from the records).
 * Null when no cube can serve (then only a rebuild from the records can). `t` qualifies a table.
 */
export function deriveCubeSql(t: (name: string) => string, target: Cube): string[] | null {
  const keeps = (c: Cube) => (CUBES[target] as readonly Dim[]).every((d) => (CUBES[c] as readonly Dim[]).includes(d)) && grainsOf(target).every((g) => grainsOf(c).includes(g));
  const source = (among: readonly Cube[]) => among.find((c) => c !== target && keeps(c));
  const dims = (all: readonly Dim[]) => all.map((d) => ((CUBES[target] as readonly Dim[]).includes(d) ? d : `''`));
  const step = (table: string, all: readonly Dim[], extra: string[], sums: Array<[string, string]>, from: Cube) =>
    groupedInsertSql(t(table), ['cube', 'grain', 'bucket', ...all, ...extra], [`'${target}'`, 'grain', 'bucket', ...dims(all), ...extra], sums,
      `${t(table)} WHERE cube = '${from}' AND grain <> '${SUB_GRAIN}'`);
  const sum = (c: string): [string, string] => [c, `SUM(${c})`];
  const cube = source(CUBE_ORDER);
  if (!cube) return null;
  const out = [step('stats_cube', DIMS, [], cubeSums(), cube), step('stats_cube_entities', DIMS, ['registry'], [sum('n')], cube)];
  if (FIELD_CUBES.includes(target)) {
    const from = source(FIELD_CUBES);
    if (!from) return null;
    out.push(step('stats_cube_fields', DIMS, ['coordinate'], [sum('n')], from));
  }
  if (DOSSIER_CUBES.includes(target)) {
    const from = source(DOSSIER_CUBES);
    if (!from) return null;
    out.push(step('stats_cube_droll', DOSSIER_DIMS, [], [sum('served'), sum('with_cut')], from));
  }
  return out;
}

/**
 * Derives the cubes a store's rollups lack (deriveCubeSql), when it has rollups at all, and asks
 * `foldSub` for their SUB_GRAIN rows (no wider cube has them: they come from the records still in
 * the store, as a period cut mid-hour always did). Returns false when a missing cube cannot be
 * derived (the caller rebuilds from the records). `one` runs a query and says whether it returned
 * a row; `exec` runs a statement; all in the caller's transaction, which must hold off rolls (they
 * would write the new cube for their own records only).
 */
export async function deriveMissingCubes(
  t: (name: string) => string,
  one: (sql: string) => Promise<boolean>,
  exec: (sql: string) => Promise<void>,
  foldSub: (cube: Cube) => Promise<void>,
): Promise<boolean> {
  // One index probe per cube (the primary key starts with the cube), not a scan.
  const present = new Set<Cube>();
  for (const c of CUBE_ORDER) if (await one(`SELECT 1 AS x FROM ${t('stats_cube')} WHERE cube = '${c}' LIMIT 1`)) present.add(c);
  if (present.size === 0) return true;
  for (const c of CUBE_ORDER) {
    if (present.has(c)) continue;
    const sql = deriveCubeSql(t, c);
    if (!sql) return false;
    for (const s of sql) await exec(s);
    if (SUB_CUBES.includes(c)) await foldSub(c);
    present.add(c);
  }
  return true;
}
