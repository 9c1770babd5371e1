/**
 * Statistics rollups (issue 16) on both stores:
 * - a rebuild from the records gives exactly the rollups the appends kept incrementally
 *   (fast-check: generated traffic, several chains committed in interleaved, out-of-time-order
 *   batches, so a dossier's first request may arrive after later ones);
 * - the report validates against schema/stats-report.v1.schema.json (ajv) and reconciles with
 *   the records an auditor exports for the same period; the ranking with a recount.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, describe, expect, it } from 'vitest';
import { chainRecord, genesisHash, type AuditEntry, type AuditRecord, type Outcome } from '../gateway/audit/record.js';
import { SqliteAuditStore } from '../gateway/audit/sqlite-store.js';
import { PostgresAuditStore } from '../gateway/audit/postgres-store.js';
import { auditReadPort } from '../gateway/audit/read-port.js';
import { exportLines } from '../gateway/audit/export.js';
import { addRecord, addRecords, bucketOf, DAY_MS, emptyBatch, grainDays, ROLLED_TABLE, rollupStatements, STATS_TABLES, VN_OFFSET_MS, type RollupBatch } from '../gateway/core/stats-rollup.js';
import { dayRanges, monthSpans, segmentsOf, StatsEngine, withComplements } from '../gateway/stats/engine.js';
import { statsCatalogOf } from '../gateway/stats/index.js';
import { parseStatsQuery } from '../gateway/stats/params.js';
import { rankingOf } from '../gateway/stats/ranking.js';
import { reportCsv, reportOf } from '../gateway/stats/report.js';
import { statsDbOf } from '../gateway/stats/source.js';
import { REPO_ROOT } from '../lib/repo-root.js';
import { postgresUnavailable, PG_TEST_URL, uniqueSchema } from './support/audit-testing.js';
import { generatedEntry, snapshot } from './support/rollup-traffic.js';
import { recount } from './support/stats-recount.js';

const pgProblem = await postgresUnavailable();
const T0 = Date.parse('2025-07-01T00:00:00+07:00');
const HOUR = 3_600_000;
const CATALOG = ['lodging-notification', 'passport-issuance', 'land-use-right-transfer'];
const catalog = statsCatalogOf({ ids: () => CATALOG, name: (id) => `Thủ tục ${id}`, pathTree: () => null, fieldCoordinates: () => null, operation: () => null, groupProcedures: () => null }, undefined);

const CLIENTS = [
  { clientId: 'hcm', agency: 'UBND TP.HCM', clientTier: 'province', clientProvince: '79' },
  { clientId: 'hn', agency: 'UBND TP. Hà Nội', clientTier: 'province', clientProvince: '01' },
  { clientId: 'bca', agency: 'Bộ Công an', clientTier: 'ministry' },
  { clientId: 'old', agency: 'Đơn vị cũ' },
];

const entryArb = fc.record({
  client: fc.constantFrom(...CLIENTS),
  hour: fc.integer({ min: 0, max: 24 * 5 }),
  minute: fc.integer({ min: 0, max: 59 }),
  procedureId: fc.constantFrom<string | null>(...CATALOG, 'made-up-purpose', null),
  dossier: fc.option(fc.integer({ min: 1, max: 6 }), { nil: null }),
  outcome: fc.constantFrom<Outcome>('OK', 'OK', 'PARTIAL', 'DENIED', 'ERROR'),
  registries: fc.subarray(['population', 'land', 'insurance']),
  fields: fc.subarray(['Citizen.fullName', 'Citizen.dateOfBirth', 'LandParcel.area']),
  durationMs: fc.integer({ min: 0, max: 400_000 }).map((n) => n / 1000),
  cut: fc.option(fc.integer({ min: 0, max: 3 }), { nil: null }),
});
type Gen = typeof entryArb extends fc.Arbitrary<infer T> ? T : never;

function entryOf(g: Gen, i: number): AuditEntry {
  return generatedEntry(g, i, T0 + g.hour * HOUR + g.minute * 60_000);
}

interface Backend {
  name: string;
  skip: boolean;
  /** `q` qualifies a table name as the store's SQL needs it (the PostgreSQL schema). */
  open(): Promise<{ store: SqliteAuditStore | PostgresAuditStore; dump: (t: string) => Promise<unknown[]>; q: (t: string) => string; cleanup(): Promise<void> }>;
}

const BACKENDS: Backend[] = [
  {
    name: 'sqlite',
    skip: false,
    async open() {
      const dir = mkdtempSync(path.join(tmpdir(), 'motlan-rollup-'));
      const store = new SqliteAuditStore({ file: path.join(dir, 'a.db'), writer: 'inline' });
      await store.init();
      return { store, dump: (t) => store.all(`SELECT * FROM ${t}`), q: (t) => t, cleanup: async () => { await store.close(); rmSync(dir, { recursive: true, force: true }); } };
    },
  },
  {
    name: 'postgres',
    skip: pgProblem !== null,
    async open() {
      const schema = uniqueSchema('rollup_test');
      const store = new PostgresAuditStore({ url: PG_TEST_URL, schema });
      await store.init();
      const pool = (store as unknown as { pool: import('pg').Pool }).pool;
      return {
        store,
        dump: async (t) => (await pool.query(`SELECT * FROM ${schema}.${t}`)).rows,
        q: (t) => `${schema}.${t}`,
        cleanup: async () => { await store.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`); await store.close(); },
      };
    },
  },
];

/** The store as if nothing were rolled yet: rollups empty, every chain's mark before its first record. */
async function unroll(store: SqliteAuditStore | PostgresAuditStore, q: (t: string) => string): Promise<void> {
  for (const t of STATS_TABLES) await store.exec(`DELETE FROM ${q(t)}`);
  await store.exec(`UPDATE ${q(ROLLED_TABLE)} SET seq = 0`);
}

/**
 * Chains `gens` over two instances and commits them in batches, the chains interleaved; rolls
 * them into the statistics after every `rollEvery`-th batch (0: never) and once at the end.
 */
async function commit(store: SqliteAuditStore | PostgresAuditStore, gens: Gen[], batchSizes: number[], rollEvery = 0): Promise<AuditRecord[]> {
  const chains: Record<string, AuditRecord[]> = { a: [], b: [] };
  gens.forEach((g, i) => {
    const id = i % 3 === 0 ? 'b' : 'a';
    const list = chains[id]!;
    const prev = list.length ? list[list.length - 1]!.hash : genesisHash(id);
    list.push(chainRecord(id, list.length + 1, prev, entryOf(g, i)));
  });
  const pos: Record<string, number> = { a: 0, b: 0 };
  let k = 0;
  while (pos.a! < chains.a!.length || pos.b! < chains.b!.length) {
    for (const id of ['b', 'a'] as const) {
      const list = chains[id]!;
      const size = batchSizes[k++ % batchSizes.length]!;
      if (pos[id]! >= list.length) continue;
      const head = pos[id]! === 0 ? null : { seq: list[pos[id]! - 1]!.seq, hash: list[pos[id]! - 1]!.hash };
      await store.appendBatch(id, head, list.slice(pos[id]!, pos[id]! + size), []);
      pos[id]! += size;
      if (rollEvery > 0 && k % rollEvery === 0) await store.rollUp();
    }
  }
  await store.rollUp();
  return [...chains.a!, ...chains.b!];
}

describe('addRecords (the roll) and addRecord (one record at a time)', () => {
  it('give the same rollup rows for any records', () => {
    const rows = (b: RollupBatch) => rollupStatements(b, 'sqlite').map((st) => [st.table, st.rows.map((r) => JSON.stringify(r)).sort()]);
    fc.assert(
      fc.property(fc.array(entryArb, { minLength: 0, maxLength: 80 }), (gens) => {
        const records = gens.map((g, i) => chainRecord(i % 3 === 0 ? 'b' : 'a', i + 1, genesisHash('x'), entryOf(g, i)));
        const one = emptyBatch();
        for (const r of records) addRecord(one, r);
        const many = emptyBatch();
        addRecords(many, records);
        expect(rows(many)).toEqual(rows(one));
      }),
      { numRuns: 200 },
    );
  });
});

describe('periods read as aligned multi-day blocks', () => {
  it('cover the whole days exactly, each block aligned, a bounded number of ranges whatever the length', () => {
    const vnMidnight = (day: number) => day * DAY_MS - VN_OFFSET_MS;
    fc.assert(
      fc.property(fc.integer({ min: 19_000, max: 21_000 }), fc.integer({ min: 1, max: 800 }), fc.boolean(), (start, len, blocks) => {
        const ranges = dayRanges(vnMidnight(start), vnMidnight(start + len), blocks);
        let at = vnMidnight(start);
        for (const [grain, a, b] of ranges) {
          expect(a).toBe(at);
          const step = grainDays(grain) * DAY_MS;
          if (!blocks) expect(grain).toBe('d');
          // Every bucket in the range is the start of an aligned block of its grain.
          for (let t = a; t < b; t += step) expect(bucketOf(grain, t)).toBe(t);
          expect((b - a) % step).toBe(0);
          at = b;
        }
        expect(at).toBe(vnMidnight(start + len));
        // Blocks: up to 15 days per side below 16-day alignment, so at most 2 ranges per grain.
        if (blocks) expect(ranges.length).toBeLessThanOrEqual(9);
      }),
    );
  });
});

describe('edge days read as the day minus the hours the period lacks', () => {
  it('count every whole hour of the period exactly once, subtract only hours of days read whole, and read fewer rows (generated)', () => {
    const H = 3_600_000;
    const hoursOf = (ranges: ReadonlyArray<readonly [number, number]>) => ranges.flatMap(([a, b]) => Array.from({ length: (b - a) / H }, (_, i) => a + i * H));
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 40 * DAY_MS }), fc.integer({ min: 1, max: 6 * DAY_MS }), fc.constantFrom(1, 60_000, H), (start, len, snap) => {
        const from = Date.UTC(2025, 6, 1) + Math.floor(start / snap) * snap;
        const to = from + Math.max(snap, Math.floor(len / snap) * snap);
        const seg = segmentsOf(from, to);
        const { plus, minus } = withComplements(seg);
        const whole = (s: typeof seg) => [...(s.days ? hoursOf([s.days]) : []), ...hoursOf((s.edgeDays ?? []).map((d) => [d, d + DAY_MS])), ...hoursOf(s.hours)];
        // Counted: hours read (edge days included) minus hours subtracted, each at most once.
        const counted = new Map<number, number>();
        for (const h of whole(plus)) counted.set(h, (counted.get(h) ?? 0) + 1);
        for (const h of hoursOf(minus)) counted.set(h, (counted.get(h) ?? 0) - 1);
        const expected = whole(seg).sort((a, b) => a - b);
        expect([...counted].filter(([, n]) => n !== 0).map(([h]) => h).sort((a, b) => a - b)).toEqual(expected);
        expect([...counted.values()].every((n) => n === 0 || n === 1)).toBe(true);
        // Subtracted hours lie inside the edge days, never in the other days or the partial hours.
        for (const h of hoursOf(minus)) expect((plus.edgeDays ?? []).some((d) => h >= d && h < d + DAY_MS)).toBe(true);
        expect(plus.days).toEqual(seg.days);
        expect(plus.raw).toEqual(seg.raw);
        // An edge day replaces more hour rows than it adds (a day read costs about 4 hours).
        const edgeDays = plus.edgeDays?.length ?? 0;
        expect(hoursOf(plus.hours).length + hoursOf(minus).length + 4 * edgeDays).toBeLessThanOrEqual(hoursOf(seg.hours).length);
      }),
    );
  });
});

describe('periods grouped by month', () => {
  it('are read as spans that cover the whole days exactly, each inside one Vietnamese month (generated)', () => {
    const vnMidnight = (day: number) => day * DAY_MS - VN_OFFSET_MS;
    const vnMonth = (t: number) => new Date(t + VN_OFFSET_MS).toISOString().slice(0, 7);
    fc.assert(
      fc.property(fc.integer({ min: 19_000, max: 21_000 }), fc.integer({ min: 1, max: 800 }), (start, len) => {
        const spans = monthSpans(vnMidnight(start), vnMidnight(start + len));
        let at = vnMidnight(start);
        for (const [a, b] of spans) {
          expect(a).toBe(at);
          expect(b).toBeGreaterThan(a);
          expect(vnMonth(b - 1)).toBe(vnMonth(a));
          // A span ends at the period's end or at the first day of the next month.
          if (b !== vnMidnight(start + len)) expect(new Date(b + VN_OFFSET_MS).getUTCDate()).toBe(1);
          at = b;
        }
        expect(at).toBe(vnMidnight(start + len));
      }),
    );
  });
});

for (const backend of BACKENDS) {
  describe.skipIf(backend.skip)(`statistics rollups on ${backend.name}`, () => {
    const cleanups: Array<() => Promise<void>> = [];
    afterAll(async () => {
      for (const c of cleanups) await c();
    });

    it('a rebuild from the records equals the rollups kept incrementally (generated traffic)', async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(entryArb, { minLength: 1, maxLength: 60 }), fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 4 }), fc.integer({ min: 0, max: 3 }), async (gens, sizes, rollEvery) => {
          const { store, dump, cleanup } = await backend.open();
          try {
            // Rolled after some batches or only at the end: the rollups are the same.
            const records = await commit(store, gens, sizes, rollEvery);
            const incremental = await snapshot(dump);
            expect(await store.rebuildStats({ pageSize: 7 })).toBe(records.length);
            expect(await snapshot(dump)).toEqual(incremental);
            // And the figures read from them equal a recount from the records.
            const engine = new StatsEngine(statsDbOf(auditReadPort(store)), { hourlyRateVnd: 35_000, catalog });
            const q = parseStatsQuery({ from: String(T0 - 7_777), to: String(T0 + 5 * 24 * HOUR + 1_234_567), groupBy: 'province', limit: '1000' });
            if (!q.ok) throw new Error(q.message);
            const s = await engine.summary(q.query);
            // No total when no record falls in the period (the recount has no groups then).
            const expected = recount(records, q.query, 'none', 35_000, { procedures: CATALOG }).get('*');
            expect(s.total.requests.total).toBe(expected?.requests.total ?? 0);
            if (expected) {
              expect(s.total.dossiers).toEqual(expected.dossiers);
              expect(s.total.costsSavedVnd).toBe(expected.costsSavedVnd);
              expect(s.total.latencyMs.p95).toBe(expected.latencyMs.p95);
            }
          } finally {
            await cleanup();
          }
        }),
        { numRuns: backend.name === 'postgres' ? 8 : 15 },
      );
    });

    it('a store written with the first rollup layout is upgraded on start: old tables dropped, rollups rebuilt from the records', async () => {
      const { store, dump, q, cleanup } = await backend.open();
      cleanups.push(cleanup);
      await commit(store, fc.sample(entryArb, { numRuns: 40, seed: 7 }), [10]);
      const expected = await snapshot(dump);
      // The first layout's tables present, the new rollups empty (as a store of that version is).
      await store.exec(`CREATE TABLE ${q('stats_latency')} (le INTEGER)`);
      for (const t of STATS_TABLES) await store.exec(`DELETE FROM ${q(t)}`);
      await store.init();
      expect(await snapshot(dump)).toEqual(expected);
      await expect(dump('stats_latency')).rejects.toThrow();
    });

    it('a store written before a cube existed gets it on start: derived from a wider cube, its 5-minute rows from the records still there', async () => {
      const { store, dump, q, cleanup } = await backend.open();
      cleanups.push(cleanup);
      await commit(store, fc.sample(entryArb, { numRuns: 40, seed: 11 }), [10]);
      const expected = await snapshot(dump);
      const isN = (row: string) => row.includes('["cube","n"]');
      const isSub = (row: string) => isN(row) && row.includes('["grain","m5"]');
      expect(expected.stats_cube!.some(isSub)).toBe(true);
      // Rollups as a store of that version has them: no cube n.
      const dropN = async () => {
        for (const t of STATS_TABLES) if (t !== 'stats_dossiers') await store.exec(`DELETE FROM ${q(t)} WHERE cube = 'n'`);
      };
      await dropN();
      expect((await snapshot(dump)).stats_cube!.some(isN)).toBe(false);
      await store.init();
      expect(await snapshot(dump)).toEqual(expected);
      // Derived once: starting again changes nothing.
      await store.init();
      expect(await snapshot(dump)).toEqual(expected);
      // Records gone (as if archived): every row but the 5-minute ones still comes back, from cube p alone.
      await dropN();
      await store.exec(`DELETE FROM ${q('audit_records')}`);
      await store.init();
      const withoutSub = Object.fromEntries(Object.entries(expected).map(([t, rows]) => [t, rows.filter((r) => !isSub(r))]));
      expect(await snapshot(dump)).toEqual(withoutSub);
    });

    it('a store whose rollups were kept in each append (no marks yet) is marked at its heads on start: nothing counted twice', async () => {
      const { store, dump, q, cleanup } = await backend.open();
      cleanups.push(cleanup);
      await commit(store, fc.sample(entryArb, { numRuns: 40, seed: 8 }), [10]);
      const expected = await snapshot(dump);
      await store.exec(`DROP TABLE ${q(ROLLED_TABLE)}`);
      await store.init();
      await store.rollUp();
      expect(await snapshot(dump)).toEqual(expected);
      expect((await dump(ROLLED_TABLE)).length).toBe(2);
    });

    it('records committed but not rolled are counted once by the next read, and rolled before they are archived', async () => {
      const { store, dump, q, cleanup } = await backend.open();
      cleanups.push(cleanup);
      const gens = fc.sample(entryArb, { numRuns: 60, seed: 9 });
      const records = await commit(store, gens, [7]);
      const expected = await snapshot(dump);
      // The same records as never rolled (a gateway stopped before its roll): the first statistics read rolls them.
      await unroll(store, q);
      expect((await snapshot(dump)).stats_cube).toEqual([]);
      const engine = new StatsEngine(statsDbOf(auditReadPort(store)), { hourlyRateVnd: 35_000, catalog });
      const period = parseStatsQuery({ from: String(T0 - DAY_MS), to: String(T0 + 10 * DAY_MS) });
      if (!period.ok) throw new Error(period.message);
      const first = await engine.summary(period.query);
      expect(first.total.requests.total).toBe(records.length);
      expect(await snapshot(dump)).toEqual(expected);
      // Rolling again adds nothing.
      await store.rollUp();
      expect(await snapshot(dump)).toEqual(expected);

      // Archiving: unrolled records are rolled before they leave, and their figures stay.
      await unroll(store, q);
      const cut = records.filter((r) => r.instanceId === 'a')[9]!;
      expect(await store.prune('a', { instanceId: 'a', seq: cut.seq, hash: cut.hash, ts: cut.ts, keyId: 'k', signature: 's' })).toBe(10);
      expect(await snapshot(dump)).toEqual(expected);
      expect((await engine.summary(period.query)).total.requests.total).toBe(records.length);
    });

    it('the report validates against its JSON Schema and reconciles with the auditor export of the period', async () => {
      const { store, cleanup } = await backend.open();
      cleanups.push(cleanup);
      const gens = fc.sample(entryArb, { numRuns: 300, seed: 16 });
      const records = await commit(store, gens, [50]);
      const engine = new StatsEngine(statsDbOf(auditReadPort(store)), { hourlyRateVnd: 35_000, catalog });
      const from = T0 + 24 * HOUR;
      const to = T0 + 4 * 24 * HOUR;
      const q = parseStatsQuery({ from: String(from), to: String(to) });
      if (!q.ok) throw new Error(q.message);
      const report = await reportOf(engine, q.query, catalog, 0);

      const schema = JSON.parse(readFileSync(path.join(REPO_ROOT, 'schema/stats-report.v1.schema.json'), 'utf8'));
      const validate = new Ajv2020({ allErrors: true, strict: true }).compile(schema);
      expect(validate(report), JSON.stringify(validate.errors)).toBe(true);
      expect(validate({ ...report, rows: [{ ...report.rows[0], dossiersServed: -1 }] })).toBe(false);

      // What an auditor exports for the same period (JSON lines), recounted by hand.
      const exported: AuditRecord[] = [];
      for await (const line of exportLines(store, { from, to })) if (line.type === 'record') exported.push(line);
      expect(exported.length).toBe(records.filter((r) => r.ts >= from && r.ts < to).length);
      const sum = (f: (r: AuditRecord) => number) => exported.reduce((a, r) => a + f(r), 0);
      expect(report.totals.requests).toBe(exported.length);
      expect(report.totals.requestsWithoutDossier).toBe(exported.filter((r) => !r.dossierId).length);
      expect(report.totals.fieldsPrefilled).toBe(sum((r) => r.prefill?.fieldsPrefilled ?? 0));
      expect(report.totals.fieldsForCitizen).toBe(sum((r) => r.prefill?.fieldsForCitizen ?? 0));
      expect(report.totals.componentsCut).toBe(sum((r) => r.prefill?.componentsCut ?? 0));
      expect(report.totals.hoursSaved).toBe(sum((r) => Math.round((r.prefill?.hoursSaved ?? 0) * 100)) / 100);
      expect(report.totals.costsSavedVnd).toBe(sum((r) => (r.prefill?.componentsCut ?? 0) * 10_000));
      // Rows add up to the totals, and each row's dimensions are those of its records.
      for (const k of ['requests', 'requestsWithoutDossier', 'dossiersServed', 'fieldsPrefilled', 'componentsCut', 'costsSavedVnd'] as const) {
        expect(report.rows.reduce((a, r) => a + r[k], 0), k).toBe(report.totals[k]);
      }
      const hcmPassport = report.rows.find((r) => r.provinceCode === '79' && r.procedureId === 'passport-issuance')!;
      expect(hcmPassport.requests).toBe(exported.filter((r) => r.clientId === 'hcm' && r.procedureId === 'passport-issuance').length);
      expect(hcmPassport.provinceName).toBe('Thành phố Hồ Chí Minh');
      expect(report.rows.some((r) => r.procedureId === 'unknown')).toBe(true);
      expect(report.rows.some((r) => r.procedureId === 'made-up-purpose')).toBe(false);
      const csv = reportCsv(report).trim().split('\n');
      expect(csv.length).toBe(report.rows.length + 1);
      expect(csv[0]).toMatch(/^periodFrom,periodTo,agencyTier,provinceCode/);

      // Ranking: provinces by dossiers (first requests in the period), against a recount.
      const rq = parseStatsQuery({ from: String(from), to: String(to), limit: '34' });
      if (!rq.ok) throw new Error(rq.message);
      const ranking = await rankingOf(engine, rq.query);
      const byProvince = recount(records, { from, to, tier: ['province'] }, 'province', 35_000, { procedures: CATALOG });
      expect(ranking.top.find((e) => e.provinceCode === '79')!.dossiers).toBe(byProvince.get('79')?.dossiers.served ?? 0);
      expect(ranking.top.length).toBe(34);
      expect(ranking.top[0]!.dossiers).toBeGreaterThanOrEqual(ranking.top[1]!.dossiers);
    });
  });
}

describe.skipIf(pgProblem !== null)('statistics rollups on postgres, several replicas', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const c of cleanups) await c();
  });

  it('two replicas rolling the same records at once count each record once', async () => {
    const { store, dump, q, cleanup } = await BACKENDS.find((b) => b.name === 'postgres')!.open();
    cleanups.push(cleanup);
    const other = new PostgresAuditStore({ url: PG_TEST_URL, schema: (store as PostgresAuditStore).schema });
    try {
      const records = await commit(store, fc.sample(entryArb, { numRuns: 80, seed: 10 }), [9]);
      const rolled = await snapshot(dump);
      const q = (t: string) => `${(store as PostgresAuditStore).schema}.${t}`;
      await unroll(store, q);
      await Promise.all([store.rollUp(), other.rollUp(), store.rollUp(), other.rollUp()]);
      expect(await snapshot(dump)).toEqual(rolled);
      expect(await store.rebuildStats()).toBe(records.length);
      expect(await snapshot(dump)).toEqual(rolled);
    } finally {
      await other.close();
    }
  });
});
