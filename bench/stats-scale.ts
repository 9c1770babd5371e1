/**
 * Statistics scale mode of `npm run bench` (issue 16):
 *
 *   npm run bench -- --stats-scale --records 1000000 --store sqlite|postgres [--days 30] [--batch 5000 (postgres 2000)]
 *                    [--pg-url postgres://…] [--keep FILE|SCHEMA] [--reuse]
 *
 *                    [--load bulk|append|replicate|none (default bulk)] [--period-days 30]
 *
 * Loads N synthetic, correctly chained audit records (bench/stats-load.ts: a realistic spread of
 * clients, procedures, registries, outcomes and dossiers) spread over `--days` days ending today:
 * `bulk` writes them straight into the records table in big transactions, then times the store's
 * `rebuildStats` (which fills the rollups); `append` goes through `appendBatch` and the store's roll
 * into the rollups, as a gateway does (slower). Then it times every statistics call for the last 30 days (the engine's
 * methods behind each endpoint, on the store's connection) and the console dashboard's full load
 * (its calls run concurrently). Prints the load time, rows of each rollup table and a latency table.
 * Targets (issue 16): every call < 300 ms for 30 days, the dashboard < 2 s. `--period-days` shortens
 * the timed period (default 30): with `--days 2 --records 3000000 --period-days 2` the period's
 * partial hours and edge days hold national density (1.5 million records a day) without loading
 * 45 million — what a period cut mid-hour costs at its edges, not its whole days.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { PostgresAuditStore } from '../gateway/audit/postgres-store.js';
import { SqliteAuditStore } from '../gateway/audit/sqlite-store.js';
import { chainRecord, genesisHash, type AuditRecord } from '../gateway/audit/record.js';
import { auditReadPort } from '../gateway/audit/read-port.js';
import { StatsEngine } from '../gateway/stats/engine.js';
import { statsCatalogOf } from '../gateway/stats/index.js';
import { parseStatsQuery, type StatsQuery } from '../gateway/stats/params.js';
import { rankingOf } from '../gateway/stats/ranking.js';
import { reportOf, reportCsv } from '../gateway/stats/report.js';
import { statsDbOf } from '../gateway/stats/source.js';
import { STATS_TABLES } from '../gateway/core/stats-rollup.js';
import { bulkLoadPostgres, bulkLoadSqlite, PROCEDURES, replicateLoadPostgres, syntheticEntries } from './stats-load.js';

/** The first row of `text` over `table` (a table name, schema-qualified on PostgreSQL) on the store's own connection. */
async function firstRow(store: PostgresAuditStore | SqliteAuditStore, text: (table: string) => string, table: string): Promise<Record<string, unknown> | undefined> {
  const sql = statsDbOf(auditReadPort(store));
  if (sql.kind === 'postgres') return (await sql.pool.query(text(`${sql.schema}.${table}`))).rows[0];
  return 'db' in sql ? (sql.db.prepare(text(table)).get() as Record<string, unknown> | undefined) : (await sql.all(text(table), []))[0];
}

/** The newest record's time in the store, null when it has none. */
async function latestRecordTs(store: PostgresAuditStore | SqliteAuditStore): Promise<number | null> {
  const row = await firstRow(store, (t) => `SELECT MAX(ts) AS ts FROM ${t}`, 'audit_records');
  return row?.ts === null || row?.ts === undefined ? null : Number(row.ts);
}

async function time<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t = performance.now();
  const value = await fn();
  return { ms: performance.now() - t, value };
}

export async function runStatsScale(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      records: { type: 'string', default: '1000000' },
      store: { type: 'string', default: 'sqlite' },
      days: { type: 'string', default: '30' },
      // PostgreSQL's record insert binds 29 parameters per record (limit 65 535 per statement).
      batch: { type: 'string' },
      'pg-url': { type: 'string', default: process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test' },
      keep: { type: 'string' },
      reuse: { type: 'boolean', default: false },
      rounds: { type: 'string', default: '3' },
      // bulk: records written straight into the tables, then the store's rebuild fills the rollups;
      // append: through appendBatch and the store's roll into the rollups, as a gateway writes.
      load: { type: 'string', default: 'bulk' },
      'period-days': { type: 'string', default: '30' },
    },
  });
  const n = Number(values.records);
  const days = Number(values.days);
  const periodDays = Number(values['period-days']);
  if (!Number.isInteger(periodDays) || periodDays < 1) throw new Error('--period-days must be a whole number of days, at least 1');
  const batch = Number(values.batch ?? (values.store === 'postgres' ? 2000 : 5000));
  const rounds = Number(values.rounds);
  const kind = values.store;
  if (kind !== 'sqlite' && kind !== 'postgres') throw new Error('--store must be sqlite or postgres');
  const dir = kind === 'sqlite' && !values.keep ? mkdtempSync(path.join(tmpdir(), 'motlan-stats-scale-')) : null;
  const schema = kind === 'postgres' ? (values.keep ?? `stats_scale_${process.pid}`) : '';
  const store =
    kind === 'sqlite'
      ? new SqliteAuditStore({ file: values.keep ?? path.join(dir!, 'audit.db'), writer: 'inline' })
      : new PostgresAuditStore({ url: values['pg-url']!, schema, poolSize: 4 });
  await store.init();

  const DAY = 86_400_000;
  // The Vietnamese midnight after `t`'s UTC day (a loaded store's data ends there).
  const midnightAfter = (t: number) => Math.floor(t / DAY) * DAY + DAY - 7 * 3_600_000;
  // Reused, the period ends where the kept records end (they were loaded on another day maybe),
  // or the timed period would hold days never loaded.
  const to = values.reuse ? midnightAfter((await latestRecordTs(store)) ?? Date.now()) : midnightAfter(Date.now());
  if (values.reuse) console.log(`Reusing the kept records: the timed period ends ${new Date(to).toISOString()}.`);
  const from = to - days * DAY;
  if (!['bulk', 'append', 'replicate', 'none'].includes(values.load!)) throw new Error('--load must be bulk, append, replicate or none');
  if (values.load === 'replicate' && kind !== 'postgres') throw new Error('--load replicate is for --store postgres');
  if (!values.reuse && values.load !== 'append') {
    if (values.load !== 'none') {
      const t0 = performance.now();
      if (kind === 'sqlite') bulkLoadSqlite((store as SqliteAuditStore).location, n, from, to);
      else if (values.load === 'replicate') await replicateLoadPostgres(values['pg-url']!, schema, n, from, days);
      else await bulkLoadPostgres(values['pg-url']!, schema, n, from, to);
      const secs = (performance.now() - t0) / 1000;
      const how = values.load === 'replicate' ? 'first day generated, copied onto the others in SQL' : 'bulk INSERTs';
      console.log(`Loaded ${n} records into ${kind} in ${secs.toFixed(1)} s (${Math.round(n / secs)} records/s, ${how}, no rollups).`);
    }
    const t1 = performance.now();
    const rebuilt = await store.rebuildStats();
    const rsecs = (performance.now() - t1) / 1000;
    console.log(`Rebuilt the rollups from ${rebuilt} records in ${rsecs.toFixed(1)} s (${Math.round(rebuilt / rsecs)} records/s, store.rebuildStats).`);
  } else if (!values.reuse) {
    const t0 = performance.now();
    let prev = genesisHash('bench');
    let head: { seq: number; hash: string } | null = null;
    let pending: AuditRecord[] = [];
    let seq = 0;
    for (const e of syntheticEntries(n, from, to, 20250701)) {
      const rec = chainRecord('bench', ++seq, prev, e);
      prev = rec.hash;
      pending.push(rec);
      if (pending.length >= batch) {
        await store.appendBatch('bench', head, pending, []);
        head = { seq: rec.seq, hash: rec.hash };
        pending = [];
        if (seq % (batch * 20) === 0) process.stdout.write(`  loaded ${seq} records, ${((performance.now() - t0) / 1000).toFixed(0)} s\n`);
      }
    }
    if (pending.length) await store.appendBatch('bench', head, pending, []);
    // The store rolls a second after appends; here all of them now, so no timed call below pays for it.
    await store.rollUp();
    const secs = (performance.now() - t0) / 1000;
    console.log(`Loaded ${n} records into ${kind} in ${secs.toFixed(1)} s (${Math.round(n / secs)} records/s, appends and their rolls into the rollups).`);
  }
  const sql = statsDbOf(auditReadPort(store));
  if (sql.kind === 'postgres') for (const t of STATS_TABLES) await sql.pool.query(`ANALYZE ${schema}.${t}`);
  else if ('db' in sql) sql.db.exec('ANALYZE');
  const count = async (t: string) => Number((await firstRow(store, (table) => `SELECT COUNT(*) AS n FROM ${table}`, t))?.n);
  // One at a time: at tens of millions of rows a count takes seconds, longer than the pool waits for a connection.
  const counts: string[] = [];
  for (const t of STATS_TABLES) counts.push(`${t}=${await count(t)}`);
  console.log(`Rollup rows: ${counts.join(', ')}`);

  const catalog = statsCatalogOf({ ids: () => PROCEDURES, name: (id) => id, pathTree: () => null, fieldCoordinates: () => null, operation: () => null, groupProcedures: () => null }, undefined);
  const engine = new StatsEngine(sql, { hourlyRateVnd: 37_000, catalog });
  const q = (p: Record<string, string>): StatsQuery => {
    const r = parseStatsQuery({ from: String(to - periodDays * DAY), to: String(to), limit: '1000', ...p });
    if (!r.ok) throw new Error(r.message);
    return r.query;
  };
  const unaligned = { from: String(to - periodDays * DAY + 1_234_567), to: String(to - 2_345_678) };
  // On whole hours, not whole days: the edge days are read as the day minus the hours it lacks.
  const hourly = { from: String(to - periodDays * DAY + 3 * 3_600_000), to: String(to - 5 * 3_600_000) };
  const calls: Array<[string, () => Promise<unknown>]> = [
    ...(['none', 'day', 'month', 'client', 'agency', 'procedure', 'registry', 'outcome', 'tier', 'province'] as const).map(
      (g) => [`summary groupBy=${g}`, () => engine.summary(q({ groupBy: g }))] as [string, () => Promise<unknown>],
    ),
    // A period cut mid-hour, in every cube: n (procedure) reads its 5-minute rows and folds under
    // 5 minutes of records at each end; c (client, agency), r (registry, outcome), p (tier) and the
    // fields fold the partial hours' records (on PostgreSQL at most half an hour at each end).
    ...(['procedure', 'client', 'agency', 'registry', 'outcome', 'tier'] as const).map(
      (g) => [`summary groupBy=${g}, period cut mid-hour`, () => engine.summary(q({ groupBy: g, ...unaligned }))] as [string, () => Promise<unknown>],
    ),
    ...(['client', 'registry'] as const).map(
      (g) => [`summary groupBy=${g}, period on whole hours`, () => engine.summary(q({ groupBy: g, ...hourly }))] as [string, () => Promise<unknown>],
    ),
    ['fields', () => engine.fields(q({}))],
    ['fields, period cut mid-hour', () => engine.fields(q(unaligned))],
    ['ranking by=dossiers', () => rankingOf(engine, q({ by: 'dossiers' }))],
    ['ranking by=cutShare', () => rankingOf(engine, q({ by: 'cutShare' }))],
    ['report json', () => reportOf(engine, q({}), catalog)],
    ['report csv', async () => reportCsv(await reportOf(engine, q({}), catalog))],
  ];
  console.log(`\nLatency for a ${periodDays}-day period (${n} records over ${days} days), best and median of ${rounds} rounds:`);
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
  let worst = 0;
  for (const [name, fn] of calls) {
    const ms: number[] = [];
    for (let i = 0; i < rounds; i++) ms.push((await time(fn)).ms);
    worst = Math.max(worst, Math.min(...ms));
    console.log(`  ${name.padEnd(50)} ${Math.min(...ms).toFixed(1).padStart(8)} ms  ${median(ms).toFixed(1).padStart(8)} ms`);
  }
  // The dashboard: the console's calls, concurrently (console.js loadDashboard + tier/province/ranking).
  const dash = async () =>
    Promise.all([
      ...(['day', 'registry', 'procedure', 'client', 'outcome', 'tier', 'province'] as const).map((g) => engine.summary(q({ groupBy: g }))),
      rankingOf(engine, q({ by: 'dossiers' })),
      rankingOf(engine, q({ by: 'cutShare' })),
    ]);
  const d: number[] = [];
  for (let i = 0; i < rounds; i++) d.push((await time(dash)).ms);
  console.log(`  ${'dashboard full load (9 calls, concurrent)'.padEnd(50)} ${Math.min(...d).toFixed(1).padStart(8)} ms  ${median(d).toFixed(1).padStart(8)} ms`);
  console.log(`\nSlowest call (best of rounds): ${worst.toFixed(1)} ms — target < 300 ms; dashboard target < 2000 ms.`);

  await store.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  if (kind === 'postgres' && !values.keep) {
    const pg = (await import('pg')).default;
    const c = new pg.Client({ connectionString: values['pg-url'] });
    await c.connect();
    await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await c.end();
  }
  return 0;
}
