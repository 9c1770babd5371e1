/**
 * Statistics rollups (issue 16): what each committed audit record adds to the statistics tables,
 * and the tables themselves. Shared by the writer (gateway/audit: the stores add the rollup upserts
 * to the very transaction that inserts the records, so rollups are exactly as durable as the
 * records) and the reader (gateway/stats: every figure is read from these tables). Defined in core
 * because two concerns need the one definition. Design and guarantees: docs/CONSOLE.md, "Rollups".
 *
 * Tables (prefix `stats_`), every dimension a NOT NULL text ('' = none):
 * - `stats_roll`     per grain (`h` hour, `d` Vietnamese day) × bucket × client × agency × tier ×
 *                    province × procedure (raw id; '' = no purpose) × registries (the sorted set
 *                    contacted, `;`-joined) × outcome: counts, sums, max and a latency histogram.
 * - `stats_entities` the same key × registry: entities returned.
 * - `stats_fields`   the same key × schema coordinate: requests that returned it.
 * - `stats_dossiers` one row per (client, dossier id): its first request (min of ts, instance,
 *                    seq), that request's agency/tier/province/procedure, and whether any of its
 *                    requests cut a component. Triggers keep `stats_droll` (served / with a
 *                    component cut, per grain × bucket of the first request × its dimensions) in
 *                    step, whatever order records are committed in.
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
export function dayBucket(ts: number): number {
  return Math.floor((ts + VN_OFFSET_MS) / DAY_MS) * DAY_MS - VN_OFFSET_MS;
}

/**
 * Latency histogram: bucket i holds durations d with LATENCY_BOUNDS_MS[i-1] < d ≤ LATENCY_BOUNDS_MS[i]
 * (bucket 0: d ≤ 1 ms), four buckets per doubling from 1 ms to 131 072 ms, plus one overflow bucket.
 * A percentile is reported as its bucket's upper bound, capped by the period's exact maximum: never
 * below the exact nearest-rank value and at most 2^(1/4) − 1 ≈ 18.9 % above it (under 1 ms absolute
 * in bucket 0; the overflow bucket reports the exact maximum).
 */
export const LATENCY_BOUNDS_MS: readonly number[] = Array.from({ length: 69 }, (_, i) => Math.round(2 ** (i / 4) * 1000) / 1000);
/** Number of histogram columns (`h0` … `h69`), the last one the overflow. */
export const LATENCY_BUCKETS = LATENCY_BOUNDS_MS.length + 1;
export const LATENCY_COLUMNS: readonly string[] = Array.from({ length: LATENCY_BUCKETS }, (_, i) => `h${i}`);

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
/** Additive measures of `stats_roll` (the histogram columns follow them). */
export const MEASURES = [
  'requests', 'no_dossier', 'fields_shared', 'prefills', 'fields_total', 'fields_prefilled', 'fields_for_citizen',
  'components_total', 'components_cut', 'hours_cents', 'dur_sum_us',
] as const;
export type Measure = (typeof MEASURES)[number];
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

/** Everything one record adds to `stats_roll` (histogram as `hist[i]`). */
export interface RollMeasures {
  m: Record<Measure, number>;
  durMax: number;
  hist: number[];
}

export function measuresOf(r: RollupRecord): RollMeasures {
  const p = r.prefill;
  const hist = new Array<number>(LATENCY_BUCKETS).fill(0);
  hist[latencyBucket(r.durationMs)] = 1;
  return {
    m: {
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
    },
    durMax: r.durationMs,
    hist,
  };
}

export function addMeasures(into: RollMeasures, add: RollMeasures): void {
  for (const k of MEASURES) into.m[k] += add.m[k];
  into.durMax = Math.max(into.durMax, add.durMax);
  for (let i = 0; i < LATENCY_BUCKETS; i++) into.hist[i]! += add.hist[i]!;
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

/** The rollup contributions of a batch of records, summed per key. */
export interface RollupBatch {
  /** key = grain|bucket|dims… */
  roll: Map<string, { grain: string; bucket: number; dims: Record<Dim, string>; v: RollMeasures }>;
  entities: Map<string, { grain: string; bucket: number; dims: Record<Dim, string>; registry: string; n: number }>;
  fields: Map<string, { grain: string; bucket: number; dims: Record<Dim, string>; coordinate: string; n: number }>;
  dossiers: Map<string, DossierRow>;
}

export function emptyBatch(): RollupBatch {
  return { roll: new Map(), entities: new Map(), fields: new Map(), dossiers: new Map() };
}

const SEP = '\u0000';

export function addRecord(batch: RollupBatch, r: RollupRecord): void {
  const dims = dimsOf(r);
  const dimKey = DIMS.map((d) => dims[d]).join(SEP);
  const v = measuresOf(r);
  for (const [grain, bucket] of [['h', hourBucket(r.ts)], ['d', dayBucket(r.ts)]] as const) {
    const k = `${grain}${SEP}${bucket}${SEP}${dimKey}`;
    const cur = batch.roll.get(k);
    if (cur) addMeasures(cur.v, v);
    else batch.roll.set(k, { grain, bucket, dims, v: { m: { ...v.m }, durMax: v.durMax, hist: [...v.hist] } });
    for (const [registry, n] of Object.entries(r.entities)) {
      const ek = `${k}${SEP}${registry}`;
      const e = batch.entities.get(ek);
      if (e) e.n += n;
      else batch.entities.set(ek, { grain, bucket, dims, registry, n });
    }
    for (const coordinate of r.fields) {
      const fk = `${k}${SEP}${coordinate}`;
      const f = batch.fields.get(fk);
      if (f) f.n += 1;
      else batch.fields.set(fk, { grain, bucket, dims, coordinate, n: 1 });
    }
  }
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

// ---------------------------------------------------------------------------------------------
// SQL: the same text for both dialects except where noted; `t(name)` qualifies a table.

export type Dialect = 'sqlite' | 'postgres';
export const STATS_TABLES = ['stats_roll', 'stats_entities', 'stats_fields', 'stats_dossiers', 'stats_droll'] as const;

const dimCols = DIMS.map((d) => `${d} TEXT NOT NULL`).join(', ');
const dossierDimCols = DOSSIER_DIMS.map((d) => `${d} TEXT NOT NULL`).join(', ');

/** DDL of the rollup tables and the dossier triggers. `t` qualifies a table name (PostgreSQL schema). */
export function rollupSchemaSql(dialect: Dialect, t: (name: string) => string): string[] {
  const big = dialect === 'sqlite' ? 'INTEGER' : 'BIGINT';
  const real = dialect === 'sqlite' ? 'REAL' : 'DOUBLE PRECISION';
  const key = `grain, bucket, ${DIMS.join(', ')}`;
  const out = [
    `CREATE TABLE IF NOT EXISTS ${t('stats_roll')} (grain TEXT NOT NULL, bucket ${big} NOT NULL, ${dimCols},
      ${MEASURES.map((m) => `${m} ${big} NOT NULL`).join(', ')}, dur_max ${real} NOT NULL,
      ${LATENCY_COLUMNS.map((c) => `${c} ${big} NOT NULL`).join(', ')}, PRIMARY KEY (${key}))`,
    `CREATE TABLE IF NOT EXISTS ${t('stats_entities')} (grain TEXT NOT NULL, bucket ${big} NOT NULL, ${dimCols},
      registry TEXT NOT NULL, n ${big} NOT NULL, PRIMARY KEY (${key}, registry))`,
    `CREATE TABLE IF NOT EXISTS ${t('stats_fields')} (grain TEXT NOT NULL, bucket ${big} NOT NULL, ${dimCols},
      coordinate TEXT NOT NULL, n ${big} NOT NULL, PRIMARY KEY (${key}, coordinate))`,
    `CREATE TABLE IF NOT EXISTS ${t('stats_dossiers')} (client_id TEXT NOT NULL, dossier_id TEXT NOT NULL,
      first_ts ${big} NOT NULL, first_instance TEXT NOT NULL, first_seq ${big} NOT NULL,
      agency TEXT NOT NULL, tier TEXT NOT NULL, province TEXT NOT NULL, procedure TEXT NOT NULL, cut INTEGER NOT NULL,
      PRIMARY KEY (client_id, dossier_id))`,
    `CREATE INDEX IF NOT EXISTS stats_dossiers_first ON ${t('stats_dossiers')} (first_ts)`,
    `CREATE TABLE IF NOT EXISTS ${t('stats_droll')} (grain TEXT NOT NULL, bucket ${big} NOT NULL, ${dossierDimCols},
      served ${big} NOT NULL, with_cut ${big} NOT NULL, PRIMARY KEY (grain, bucket, ${DOSSIER_DIMS.join(', ')}))`,
  ];
  // Triggers: a dossier row inserted adds (1, cut) to the rows of its first request's hour and
  // day; an update (an earlier first request, or the first cut) moves/adjusts its contribution.
  // Integer division truncates in both engines; timestamps are positive, so it floors.
  const hour = (x: string) => `((${x}.first_ts / ${HOUR_MS}) * ${HOUR_MS})`;
  const dayOf = (x: string) => `(((${x}.first_ts + ${VN_OFFSET_MS}) / ${DAY_MS}) * ${DAY_MS} - ${VN_OFFSET_MS})`;
  const add = (x: 'NEW', grain: string, bucket: string) =>
    `INSERT INTO ${t('stats_droll')} AS stats_droll (grain, bucket, ${DOSSIER_DIMS.join(', ')}, served, with_cut)
       VALUES ('${grain}', ${bucket}, ${DOSSIER_DIMS.map((d) => `${x}.${d}`).join(', ')}, 1, ${x}.cut)
       ON CONFLICT (grain, bucket, ${DOSSIER_DIMS.join(', ')}) DO UPDATE SET served = stats_droll.served + 1, with_cut = stats_droll.with_cut + excluded.with_cut;`;
  const sub = (grain: string, bucket: string) =>
    `UPDATE ${t('stats_droll')} SET served = served - 1, with_cut = with_cut - OLD.cut
       WHERE grain = '${grain}' AND bucket = ${bucket} AND ${DOSSIER_DIMS.map((d) => `${d} = OLD.${d}`).join(' AND ')};`;
  const changed = `OLD.first_ts <> NEW.first_ts OR OLD.first_instance <> NEW.first_instance OR OLD.first_seq <> NEW.first_seq OR OLD.cut <> NEW.cut`;
  const onInsert = `${add('NEW', 'h', hour('NEW'))} ${add('NEW', 'd', dayOf('NEW'))}`;
  const onUpdate = `${sub('h', hour('OLD'))} ${sub('d', dayOf('OLD'))} ${onInsert}`;
  if (dialect === 'sqlite') {
    out.push(`CREATE TRIGGER IF NOT EXISTS stats_dossiers_ins AFTER INSERT ON stats_dossiers BEGIN ${onInsert} END`);
    out.push(`CREATE TRIGGER IF NOT EXISTS stats_dossiers_upd AFTER UPDATE ON stats_dossiers WHEN ${changed} BEGIN ${onUpdate} END`);
  } else {
    const fn = t('stats_dossiers_fn');
    out.push(`CREATE OR REPLACE FUNCTION ${fn}() RETURNS trigger LANGUAGE plpgsql AS $fn$
      BEGIN
        IF TG_OP = 'UPDATE' THEN
          IF NOT (${changed}) THEN RETURN NULL; END IF;
          ${sub('h', hour('OLD'))} ${sub('d', dayOf('OLD'))}
        END IF;
        ${onInsert}
        RETURN NULL;
      END $fn$`);
    out.push(`DROP TRIGGER IF EXISTS stats_dossiers_trg ON ${t('stats_dossiers')}`);
    out.push(`CREATE TRIGGER stats_dossiers_trg AFTER INSERT OR UPDATE ON ${t('stats_dossiers')} FOR EACH ROW EXECUTE FUNCTION ${fn}()`);
  }
  return out;
}

/** One upsert statement per table, with its rows (positional parameters, one array per row). */
export interface RollupStatement {
  table: (typeof STATS_TABLES)[number];
  columns: string[];
  /** `ON CONFLICT … DO UPDATE` clause. */
  conflict: string;
  rows: unknown[][];
}

export function rollupStatements(batch: RollupBatch, dialect: Dialect): RollupStatement[] {
  const key = `grain, bucket, ${DIMS.join(', ')}`;
  const max = dialect === 'sqlite' ? 'max' : 'GREATEST';
  const dimVals = (d: Record<Dim, string>) => DIMS.map((k) => d[k]);
  const out: RollupStatement[] = [];
  if (batch.roll.size) {
    out.push({
      table: 'stats_roll',
      columns: ['grain', 'bucket', ...DIMS, ...MEASURES, 'dur_max', ...LATENCY_COLUMNS],
      conflict: `ON CONFLICT (${key}) DO UPDATE SET ${[...MEASURES, ...LATENCY_COLUMNS].map((m) => `${m} = stats_roll.${m} + excluded.${m}`).join(', ')},
        dur_max = ${max}(stats_roll.dur_max, excluded.dur_max)`,
      rows: [...batch.roll.values()].map((r) => [r.grain, r.bucket, ...dimVals(r.dims), ...MEASURES.map((m) => r.v.m[m]), r.v.durMax, ...r.v.hist]),
    });
  }
  if (batch.entities.size) {
    out.push({
      table: 'stats_entities',
      columns: ['grain', 'bucket', ...DIMS, 'registry', 'n'],
      conflict: `ON CONFLICT (${key}, registry) DO UPDATE SET n = stats_entities.n + excluded.n`,
      rows: [...batch.entities.values()].map((r) => [r.grain, r.bucket, ...dimVals(r.dims), r.registry, r.n]),
    });
  }
  if (batch.fields.size) {
    out.push({
      table: 'stats_fields',
      columns: ['grain', 'bucket', ...DIMS, 'coordinate', 'n'],
      conflict: `ON CONFLICT (${key}, coordinate) DO UPDATE SET n = stats_fields.n + excluded.n`,
      rows: [...batch.fields.values()].map((r) => [r.grain, r.bucket, ...dimVals(r.dims), r.coordinate, r.n]),
    });
  }
  if (batch.dossiers.size) {
    // Keep the earliest first request (ts, instance, seq) and OR the cut flag: order-independent.
    const earlier = `(excluded.first_ts, excluded.first_instance, excluded.first_seq) < (stats_dossiers.first_ts, stats_dossiers.first_instance, stats_dossiers.first_seq)`;
    const pick = (c: string) => `${c} = CASE WHEN ${earlier} THEN excluded.${c} ELSE stats_dossiers.${c} END`;
    out.push({
      table: 'stats_dossiers',
      columns: ['client_id', 'dossier_id', 'first_ts', 'first_instance', 'first_seq', 'agency', 'tier', 'province', 'procedure', 'cut'],
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
 * Multi-row PostgreSQL upserts, chunked under the 65 535-parameter limit. `qualified` is the
 * schema-qualified table; the conflict clause refers to the bare table name, which PostgreSQL
 * accepts for the target row.
 */
export function postgresUpsertQueries(s: RollupStatement, qualified: string): Array<{ text: string; values: unknown[] }> {
  const per = Math.max(1, Math.floor(60_000 / s.columns.length));
  const out: Array<{ text: string; values: unknown[] }> = [];
  for (let i = 0; i < s.rows.length; i += per) {
    const chunk = s.rows.slice(i, i + per);
    const values: unknown[] = [];
    const tuples = chunk.map((row) => `(${row.map((v) => (values.push(v), `$${values.length}`)).join(', ')})`);
    out.push({ text: `INSERT INTO ${qualified} AS ${s.table} (${s.columns.join(', ')}) VALUES ${tuples.join(', ')} ${s.conflict}`, values });
  }
  return out;
}
