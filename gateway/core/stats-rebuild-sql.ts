/**
 * PostgreSQL's set-based rebuild of the statistics rollups (issue 16): the statements that
 * recompute `stats_cube`, `stats_cube_entities`, `stats_cube_fields` and `stats_dossiers` from the
 * records inside the database, with the same result as summing every record with `addRecords` in
 * Node (tested: test/stats-rollup.test.ts, rebuild = incremental under generated traffic). The
 * records are read three times by the database (measures, entities, fields), never sent to Node.
 * The row-by-row rebuild it replaces ran at ≈ 1 200 records/s at 1 million (≈ 11 hours for 45
 * million); this one rebuilt 45 million in 41.6 minutes (docs/CONSOLE.md, "Scale").
 *
 * How: a day of records at a time, three GROUP BYs sum them per hour and full dimensions (cube
 * `f`, grain `h`, the same first step as `addRecords`) into temporary tables; each cube's hour,
 * day and block rows are then GROUP BYs of those (spreadSql). Each expression below mirrors one line of `dimsOf` / `measuresOf` /
 * `latencyBucket` / `addDossier` in stats-rollup.ts, with JavaScript's semantics (notes inline).
 */
import {
  CUBES,
  CUBE_ORDER,
  DAY_MS,
  DIMS,
  FIELD_CUBES,
  HIST_COLUMNS,
  HOUR_MS,
  LATENCY_BOUNDS_MS,
  MEASURES,
  ROLL_OUTCOMES,
  cubeSums,
  groupedInsertSql,
  SUB_CUBES,
  SUB_GRAIN,
  SUB_MS,
  TIER_UNSPECIFIED,
  VN_OFFSET_MS,
  grainDays,
  grainsOf,
  outcomeColumn,
  type Cube,
  type Dim,
} from './stats-rollup.js';

/** `Math.round(x)` for a double `x` (PostgreSQL's round(float8) rounds half to even). */
const jsRound = (x: string) => `(floor(${x}) + CASE WHEN (${x}) - floor(${x}) >= 0.5 THEN 1 ELSE 0 END)::int8`;

/** The record's dimensions as `dimsOf` computes them, from a records row `r`. */
function dimExprs(): Record<Dim, string> {
  const tier = `COALESCE(r.client_tier, '${TIER_UNSPECIFIED}')`;
  return {
    client_id: 'r.client_id',
    agency: 'r.agency',
    tier,
    province: `CASE WHEN ${tier} = 'province' THEN COALESCE(r.client_province, '') ELSE '' END`,
    procedure: `COALESCE(r.procedure_id, '')`,
    // [...registries].sort().join(';'): code-unit order, which "C" collation gives for these ids
    // (one registry, the common case, without the sub-select).
    registries: `CASE jsonb_array_length(r.registries) WHEN 0 THEN '' WHEN 1 THEN r.registries ->> 0
      ELSE (SELECT string_agg(x, ';' ORDER BY x COLLATE "C") FROM jsonb_array_elements_text(r.registries) AS x) END`,
    outcome: 'r.outcome',
  };
}

/** The bucket (hour, or `bucketMs`) and dimensions of a records row `r` as `cube` keeps them ('' for the others), as a SELECT list. */
function keyOf(cube: Cube, bucketMs: number): string {
  const d = dimExprs();
  const keep: readonly Dim[] = CUBES[cube];
  return [`(r.ts / ${bucketMs}) * ${bucketMs} AS bucket`, ...DIMS.map((k) => `${keep.includes(k) ? d[k] : "''"} AS ${k}`)].join(', ');
}

/** `latencyBucket(ms)`: the number of bounds below ms (first bound ≥ ms), via width_bucket on negated bounds. */
function latencyBucketSql(ms: string): string {
  const negAscending = [...LATENCY_BOUNDS_MS].reverse().map((b) => `${-b}`);
  return `(${LATENCY_BOUNDS_MS.length} - width_bucket(-(${ms}), ARRAY[${negAscending.join(', ')}]::float8[]))`;
}

/** One record's measures, as `measuresOf` computes them (a SELECT list over records row `r`). */
function measureSelect(): string {
  const p = (k: string) => `(r.prefill ->> '${k}')`;
  const hasPrefill = `(r.prefill IS NOT NULL AND jsonb_typeof(r.prefill) <> 'null')`;
  const m: Record<string, string> = {
    requests: '1',
    // r.dossierId ? 0 : 1 — the empty string counts as none.
    no_dossier: `CASE WHEN r.dossier_id IS NULL OR r.dossier_id = '' THEN 1 ELSE 0 END`,
    fields_shared: 'jsonb_array_length(r.fields)',
    prefills: `CASE WHEN ${hasPrefill} THEN 1 ELSE 0 END`,
    fields_total: `COALESCE(${p('fieldsTotal')}::int8, 0)`,
    fields_prefilled: `COALESCE(${p('fieldsPrefilled')}::int8, 0)`,
    fields_for_citizen: `COALESCE(${p('fieldsForCitizen')}::int8, 0)`,
    components_total: `COALESCE(${p('componentsTotal')}::int8, 0)`,
    components_cut: `COALESCE(${p('componentsCut')}::int8, 0)`,
    hours_cents: `CASE WHEN ${hasPrefill} THEN ${jsRound(`${p('hoursSaved')}::float8 * 100`)} ELSE 0 END`,
    dur_sum_us: jsRound('r.duration_ms * 1000'),
  };
  for (const o of ROLL_OUTCOMES) m[outcomeColumn(o)] = `CASE WHEN r.outcome = '${o}' THEN 1 ELSE 0 END`;
  return [...MEASURES.map((k) => `${m[k]} AS ${k}`), 'r.duration_ms AS dur', `${latencyBucketSql('r.duration_ms')} AS le`].join(', ');
}

const KEY_COLS = ['bucket', ...DIMS].join(', ');

/**
 * The records matching `where` (a condition on `r`), one row each as the rollups see it: its hour
 * `bucket`, its dimensions (DIMS, or only `dims`), its measures (MEASURES), `dur` (ms), `le`
 * (latency bucket) and `entities` (the jsonb object); with `measures: false` only the bucket, the
 * dimensions, `dur` and `entities`. A statistics query can key, filter and sum these rows with the same
 * expressions it uses over rollup rows. Fewer columns matter where the rows are not flattened into
 * the outer query (an OFFSET 0 fence): every expression is then computed for every record.
 */
export function recordRowsSql(records: string, where: string, only: { dims?: readonly Dim[]; measures?: boolean } = {}): string {
  const d = dimExprs();
  const dims = only.dims ?? DIMS;
  const cols = [`(r.ts / ${HOUR_MS}) * ${HOUR_MS} AS bucket`, ...dims.map((k) => `${d[k]} AS ${k}`), ...(only.measures === false ? ['r.duration_ms AS dur'] : [measureSelect()]), 'r.entities'];
  return `SELECT ${cols.join(', ')}
    FROM ${records} AS r WHERE ${where}`;
}

/** `bucketOf(grain, bucket)` for a bucket of a finer grain, the grain's days in `days`. */
const grainBucket = (bucket: string, days: string) => `((${bucket} + ${VN_OFFSET_MS}) / ${DAY_MS} / ${days}) * ${days} * ${DAY_MS} - ${VN_OFFSET_MS}`;

/** A cube's dimensions as it stores them: the others ''. */
const projected = (cube: Cube, alias: string) => DIMS.map((d) => ((CUBES[cube] as readonly Dim[]).includes(d) ? `${alias}.${d}` : `''`));

/**
 * Spreads a fine table (hour × full dimensions [× extra]) over every cube and grain of `cubes`.
 * Per cube, in steps that each read the previous step's (fewer) rows: its hour rows from the fine
 * table, its day rows from its hour rows, its multi-day blocks from its day rows (the blocks are
 * aligned on day numbers, so every block is whole days). Each statement writes its rows sorted by
 * the table's key (one cube and grain's rows then lie on adjacent pages). `sums` are the summed
 * columns and their aggregate over rows aliased `f`.
 */
function spreadSql(into: string, fine: string, cubes: readonly Cube[], extra: string[], sums: Array<[string, string]>): string[] {
  const cols = ['cube', 'grain', 'bucket', ...DIMS, ...extra];
  const step = (key: string[], from: string, where = '') => groupedInsertSql(into, cols, key, sums, `${from} ${where}`);
  const more = extra.map((e) => `f.${e}`);
  return cubes.flatMap((cube) => {
    const blocks = grainsOf(cube).filter((g) => grainDays(g) > 1);
    const blockValues = `(VALUES ${blocks.map((g) => `('${g}', ${grainDays(g)})`).join(', ')}) AS g(grain, days)`;
    const own = (grain: string) => `WHERE f.cube = '${cube}' AND f.grain = '${grain}'`;
    const dims = DIMS.map((d) => `f.${d}`);
    return [
      step([`'${cube}'`, `'h'`, 'f.bucket', ...projected(cube, 'f'), ...more], `${fine} AS f`),
      step([`'${cube}'`, `'d'`, grainBucket('f.bucket', '1'), ...dims, ...more], `${into} AS f`, own('h')),
      ...(blocks.length ? [step([`'${cube}'`, 'g.grain', grainBucket('f.bucket', 'g.days'), ...dims, ...more], `${into} AS f CROSS JOIN ${blockValues}`, own('d'))] : []),
    ];
  });
}

/** SELECTs over `records` (aliased `r`) that sum them per hour and `cube`'s dimensions. */
export interface RecordFoldSql {
  /** bucket, DIMS…, MEASURES…, dur_max, l0 … l69 */
  roll: string;
  /** bucket, DIMS…, registry, n */
  entities: string;
  /** bucket, DIMS…, coordinate, n */
  fields: string;
}

/**
 * What `addRecord(batch, r, { cube, grain: 'h' })` adds for every record of `records` matching
 * `where` (a condition on `r`, or ''), computed by the database: the rebuild's first step (cube
 * `f`, every record) and the statistics' partial hours on PostgreSQL. With `sub`, the same at
 * SUB_GRAIN (5-minute buckets).
 */
export function recordFoldSql(records: string, cube: Cube, where = '', sub = false): RecordFoldSql {
  const key = keyOf(cube, sub ? SUB_MS : HOUR_MS);
  const hist = HIST_COLUMNS.map((c, i) => `COALESCE(SUM(n) FILTER (WHERE le = ${i}), 0)::int8 AS ${c}`);
  const w = where ? `WHERE ${where}` : '';
  return {
    // Summed per key and latency bucket first (a hash aggregate over narrow rows), then pivoted:
    // the 70 histogram filters run once per (key, bucket), not once per record.
    roll: `SELECT ${KEY_COLS}, ${MEASURES.map((m) => `SUM(${m})::int8 AS ${m}`).join(', ')}, MAX(dur_max) AS dur_max, ${hist.join(', ')}
       FROM (SELECT ${KEY_COLS}, le, ${MEASURES.map((m) => `SUM(${m}) AS ${m}`).join(', ')}, MAX(dur) AS dur_max, COUNT(*) AS n
             FROM (SELECT ${key}, ${measureSelect()} FROM ${records} AS r ${w}) AS x GROUP BY ${KEY_COLS}, le) AS y
       GROUP BY ${KEY_COLS}`,
    // for (registry in entities): every key, its value summed (a 0 still makes a row, as in Node).
    // OFFSET 0 keeps the key computed once per record, not once per registry.
    entities: `SELECT ${KEY_COLS}, e.key AS registry, SUM(e.value::int8)::int8 AS n
       FROM (SELECT ${key}, r.entities FROM ${records} AS r ${w} OFFSET 0) AS x, jsonb_each(x.entities) AS e
       GROUP BY ${KEY_COLS}, e.key`,
    // for (coordinate of fields): every element, a repeated one counted each time. Records sharing
    // a key and a field list (those of one procedure do) are counted first, each list expanded once.
    fields: `SELECT ${KEY_COLS}, c AS coordinate, SUM(x.records)::int8 AS n
       FROM (SELECT ${KEY_COLS}, fields, COUNT(*) AS records FROM (SELECT ${key}, r.fields FROM ${records} AS r ${w}) AS k
             GROUP BY ${KEY_COLS}, fields) AS x, jsonb_array_elements_text(x.fields) AS c
       GROUP BY ${KEY_COLS}, c`,
  };
}

/**
 * The SUB_GRAIN rows of `cube` in `stats_cube` and `stats_cube_entities` from the records of `span`
 * (a day at a time, each statement in key order): the rebuild's, and a store's that gains a cube
 * of SUB_CUBES (deriveMissingCubes). `t` qualifies a rollup table.
 */
export function subGrainSql(t: (name: string) => string, records: string, cube: Cube, span: { from: number; to: number } | null): string[] {
  return daysOf(span).flatMap((day) => subGrainDaySql(t, records, cube, day));
}

/** subGrainSql for the records matching `day` (a condition on `r.ts`). */
function subGrainDaySql(t: (name: string) => string, records: string, cube: Cube, day: string): string[] {
  const key = `cube, grain, ${KEY_COLS}`;
  const fold = recordFoldSql(records, cube, day, true);
  return [
    `INSERT INTO ${t('stats_cube')} (${key}, ${[...MEASURES, 'dur_max', ...HIST_COLUMNS].join(', ')})
       SELECT '${cube}', '${SUB_GRAIN}', x.* FROM (${fold.roll}) AS x ORDER BY ${KEY_COLS}`,
    `INSERT INTO ${t('stats_cube_entities')} (${key}, registry, n) SELECT '${cube}', '${SUB_GRAIN}', x.* FROM (${fold.entities}) AS x ORDER BY ${KEY_COLS}, registry`,
  ];
}

/** The records of `span` a (UTC) day at a time, as conditions on `r.ts` (an index range each). */
function daysOf(span: { from: number; to: number } | null): string[] {
  const out: string[] = [];
  if (span) for (let a = Math.floor(span.from / DAY_MS) * DAY_MS; a <= span.to; a += DAY_MS) out.push(`r.ts >= ${a} AND r.ts < ${a + DAY_MS}`);
  return out;
}

const FINE = 'motlan_rebuild_fine';

const SUMMED = 'motlan_rebuild_summed';
/** The records the rebuild summed (kept when its fine tables were dropped): no second read of the records. */
export const REBUILT_RECORDS_SQL = `SELECT n FROM ${SUMMED}`;

/**
 * The statements, in order, that fill the (emptied) rollup tables from `records` (whose
 * timestamps lie in `span`, null when there is none), each table in its primary key's order; `t`
 * qualifies a rollup table. Run inside the rebuild's transaction (the temporary tables drop at
 * its commit). The dossier rollups (`stats_cube_droll`) follow from
 * `stats_dossiers` (drollFromDossiersSql).
 */
export function postgresRebuildSql(t: (name: string) => string, records: string, span: { from: number; to: number } | null): string[] {
  const fine = FINE;
  const fineEntities = 'motlan_rebuild_fine_entities';
  const fineFields = 'motlan_rebuild_fine_fields';
  const empty = recordFoldSql(records, 'f');
  // The records are summed a day at a time (an index range each): one day's hour groups fit in
  // memory, where one GROUP BY over 45 million records spilled ≈ 10 GB a minute to disk. The
  // 5-minute rows are folded with the day's other sums, while its records are still in cache.
  const chunks = daysOf(span).flatMap((day) => {
    const fold = recordFoldSql(records, 'f', day);
    return [
      `INSERT INTO ${fine} ${fold.roll}`,
      `INSERT INTO ${fineEntities} ${fold.entities}`,
      `INSERT INTO ${fineFields} ${fold.fields}`,
      ...SUB_CUBES.flatMap((c) => subGrainDaySql(t, records, c, day)),
    ];
  });
  const d = dimExprs();
  const tier = d.tier;
  return [
    // Hash aggregation of a day's keys and the sorts below: memory for this transaction only.
    `SET LOCAL work_mem = '256MB'`,
    `CREATE TEMP TABLE ${fine} ON COMMIT DROP AS ${empty.roll} WITH NO DATA`,
    `CREATE TEMP TABLE ${fineEntities} ON COMMIT DROP AS ${empty.entities} WITH NO DATA`,
    `CREATE TEMP TABLE ${fineFields} ON COMMIT DROP AS ${empty.fields} WITH NO DATA`,
    ...chunks,
    ...spreadSql(t('stats_cube'), fine, CUBE_ORDER, [], cubeSums('f')),
    ...spreadSql(t('stats_cube_entities'), fineEntities, CUBE_ORDER, ['registry'], [['n', 'SUM(f.n)']]),
    ...spreadSql(t('stats_cube_fields'), fineFields, FIELD_CUBES, ['coordinate'], [['n', 'SUM(f.n)']]),
    // The fine tables are spread: their disk space goes back before the dossiers' sort needs it.
    `CREATE TEMP TABLE ${SUMMED} ON COMMIT DROP AS SELECT COALESCE(SUM(requests), 0) AS n FROM ${fine}`,
    `DROP TABLE ${fine}, ${fineEntities}, ${fineFields}`,
    // addDossier: per (client, dossier) its earliest request by (ts, instance, seq) — instance in
    // code-unit order as JavaScript compares — its dimensions, and whether any request cut a component.
    `INSERT INTO ${t('stats_dossiers')} (client_id, dossier_id, first_ts, first_instance, first_seq, agency, tier, province, procedure, cut)
       SELECT DISTINCT ON (client_id, dossier_id) client_id, dossier_id, ts, instance_id, seq, agency, tier, province, procedure,
         MAX(c) OVER (PARTITION BY client_id, dossier_id)
       FROM (SELECT r.client_id, r.dossier_id, r.ts, r.instance_id, r.seq, r.agency, ${tier} AS tier, ${d.province} AS province,
               ${d.procedure} AS procedure, CASE WHEN (r.prefill ->> 'componentsCut')::numeric > 0 THEN 1 ELSE 0 END AS c
             FROM ${records} AS r WHERE r.dossier_id IS NOT NULL AND r.dossier_id <> '') AS x
       ORDER BY client_id, dossier_id, ts, instance_id COLLATE "C", seq`,
  ];
}
