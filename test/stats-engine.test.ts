/**
 * The statistics engine's SQL, on both audit stores, against an independent
 * recount of the same records read back through the auditor's search: every
 * grouping, several filters, paging. Records are generated (seeded) across two
 * months, with the edge cases that break naive SQL: requests on a Vietnamese day
 * boundary, no procedure, no registry, several registries, prefill notes with
 * fractional hours, repeated durations.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createRandom } from '../mocks/world/random.js';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chainRecord, genesisHash, type AuditEntry, type AuditRecord, type Outcome } from '../gateway/audit/record.js';
import { SqliteAuditStore } from '../gateway/audit/sqlite-store.js';
import { PostgresAuditStore } from '../gateway/audit/postgres-store.js';
import type { AuditStore } from '../gateway/audit/store.js';
import { StatsEngine } from '../gateway/stats/engine.js';
import { GROUP_BYS, parseStatsQuery, type StatsQuery } from '../gateway/stats/params.js';
import { statsDbOf } from '../gateway/stats/source.js';
import { auditReadPort } from '../gateway/audit/read-port.js';
import { allRecords, exact, recount, recountFields } from './support/stats-recount.js';
import { postgresUnavailable } from './support/audit-testing.js';

const PG_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const RATE = 37_000;
const DAY = 86_400_000;
/** 2025-07-01T00:00:00+07:00 */
const T0 = Date.parse('2025-07-01T00:00:00+07:00');

function rng(seed: number) {
  const random = createRandom(seed);
  return () => random.next();
}

const CLIENTS = [
  { id: 'hcm-tthc', agency: 'UBND TP. Hồ Chí Minh', clientTier: 'province', clientProvince: '79' },
  { id: 'hn-tthc', agency: 'UBND TP. Hà Nội', clientTier: 'province', clientProvince: '01' },
  { id: 'bhxh-vn', agency: 'Bảo hiểm xã hội Việt Nam', clientTier: 'ministry' },
  { id: 'old-tthc', agency: 'UBND tỉnh Cũ' },
  { id: 'anonymous', agency: 'anonymous' },
];
const PROCEDURES = ['1.001757', '2.000488', '1.004227', 'bogus-purpose', null];
/** The catalog the `unknown` tests use: 'bogus-purpose' is not in it. */
const CATALOG = ['1.001757', '2.000488', '1.004227'];
const REGISTRIES = ['population', 'enterprise', 'insurance', 'land'];
const OUTCOMES: Outcome[] = ['OK', 'OK', 'OK', 'PARTIAL', 'DENIED', 'INVALID', 'ERROR', 'UNAUTHENTICATED'];
const FIELDS = ['Citizen.fullName', 'Citizen.dateOfBirth', 'Citizen.permanentResidence', 'Enterprise.name', 'SocialInsurance.status', 'LandParcel.area'];

function entries(n: number, seed: number): AuditEntry[] {
  const r = rng(seed);
  const pick = <T>(a: readonly T[]) => a[Math.floor(r() * a.length)]!;
  const out: AuditEntry[] = [];
  for (let i = 0; i < n; i++) {
    const client = pick(CLIENTS);
    const outcome: Outcome = client.id === 'anonymous' ? 'UNAUTHENTICATED' : pick(OUTCOMES);
    const served = outcome === 'OK' || outcome === 'PARTIAL';
    const registries = served ? REGISTRIES.filter(() => r() < 0.5) : [];
    const entities: Record<string, number> = {};
    for (const g of registries) entities[g] = 1 + Math.floor(r() * 3);
    const procedureId = client.id === 'anonymous' ? null : pick(PROCEDURES);
    // Some requests exactly on a Vietnamese midnight, the rest spread over 45 days.
    const ts = i % 17 === 0 ? T0 + Math.floor(r() * 45) * DAY : T0 + Math.floor(r() * 45 * DAY);
    const prefill =
      served && procedureId && r() < 0.4
        ? {
            fieldsTotal: 20,
            fieldsPrefilled: 12,
            fieldsForCitizen: 8,
            componentsTotal: 4,
            componentsCut: Math.floor(r() * 4),
            hoursSaved: Math.round(r() * 400) / 100,
          }
        : null;
    out.push({
      ts,
      requestId: `req-${seed}-${i}`,
      clientId: client.id,
      agency: client.agency,
      operationName: 'Q',
      operationType: 'query',
      documentHash: 'ab'.repeat(32),
      procedureId,
      // Dossiers: a few dozen ids per client, so many requests share one (and some none).
      dossierId: r() < 0.3 ? null : `HS-${Math.floor(r() * 40)}`,
      subjects: [],
      registries,
      fields: served ? FIELDS.filter(() => r() < 0.5) : [],
      entities,
      outcome,
      errorCodes: [],
      httpStatus: 200,
      // Coarse durations so many repeat (percentile ties).
      durationMs: Math.round(r() * 40) * 2.5,
      responseBytes: 100,
      prefill,
      ...('clientTier' in client ? { clientTier: client.clientTier } : {}),
      ...('clientProvince' in client ? { clientProvince: client.clientProvince } : {}),
    });
  }
  return out;
}

async function fill(store: AuditStore, instanceId: string, list: AuditEntry[]): Promise<AuditRecord[]> {
  let prev = genesisHash(instanceId);
  const records: AuditRecord[] = list.map((e, i) => {
    const rec = chainRecord(instanceId, i + 1, prev, e);
    prev = rec.hash;
    return rec;
  });
  await store.appendBatch(instanceId, null, records, []);
  return records;
}

function q(params: Record<string, string>): StatsQuery {
  const parsed = parseStatsQuery(params);
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.query;
}

// Skips with the reason when PostgreSQL is absent; throws under CI, which must run these.
const pgProblem = await postgresUnavailable(PG_URL);

const STORES: Array<{ name: string; skip: boolean; open: () => Promise<{ store: AuditStore; cleanup: () => Promise<void> }> }> = [
  {
    name: 'sqlite',
    skip: false,
    open: async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'motlan-stats-'));
      const store = new SqliteAuditStore({ file: path.join(dir, 'audit.db') });
      await store.init();
      return { store, cleanup: async () => { await store.close(); rmSync(dir, { recursive: true, force: true }); } };
    },
  },
  {
    name: 'postgres',
    skip: pgProblem !== null,
    open: async () => {
      const schema = `stats_test_${process.pid}_${Date.now()}`;
      const store = new PostgresAuditStore({ url: PG_URL, schema });
      await store.init();
      return {
        store,
        cleanup: async () => {
          await store.close();
          const c = new pg.Client({ connectionString: PG_URL });
          await c.connect();
          await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
          await c.end();
        },
      };
    },
  },
];

for (const backend of STORES) {
  describe.skipIf(backend.skip)(`statistics SQL on ${backend.name}`, () => {
    let store: AuditStore;
    let cleanup: () => Promise<void>;
    let engine: StatsEngine;
    let records: AuditRecord[];

    beforeAll(async () => {
      ({ store, cleanup } = await backend.open());
      await fill(store, 'gw-a', entries(700, 1));
      await fill(store, 'gw-b', entries(300, 2));
      engine = new StatsEngine(statsDbOf(auditReadPort(store)), { hourlyRateVnd: RATE });
      records = await allRecords(store);
    });
    afterAll(async () => {
      await cleanup?.();
    });

    const PERIOD = { from: '2025-07-03', to: '2025-08-10' };

    for (const groupBy of GROUP_BYS) {
      it(`groupBy=${groupBy}: every group equals the recount of the stored records`, async () => {
        const query = q({ ...PERIOD, groupBy, limit: '1000' });
        const s = await engine.summary(query);
        const expectedTotal = recount(records, query, 'none', RATE).get('*')!;
        expect(exact(s.total)).toEqual(exact(expectedTotal));
        expect(s.total.latencyMs.mean).toBeCloseTo(expectedTotal.latencyMs.mean!, 2); // rounded to µs
        expect(s.total.requests.total).toBeGreaterThan(500);
        if (groupBy === 'none') return;
        const expected = recount(records, query, groupBy, RATE);
        expect(s.totalGroups).toBe(expected.size);
        expect(new Set(s.groups.map((g) => g.key))).toEqual(new Set(expected.keys()));
        for (const g of s.groups) {
          const { key, label: _l, labelEn: _le, ...figures } = g;
          expect(exact(figures), `group ${key}`).toEqual(exact(expected.get(key)!));
        }
      });
    }

    it('filters narrow the figures exactly like the recount', async () => {
      const query = q({ ...PERIOD, groupBy: 'procedure', client: 'hcm-tthc,hn-tthc', registry: 'insurance', outcome: 'OK,PARTIAL' });
      const s = await engine.summary(query);
      const expected = recount(records, query, 'procedure', RATE);
      expect(exact(s.total)).toEqual(exact(recount(records, query, 'none', RATE).get('*')!));
      expect(s.groups.length).toBe(expected.size);
      for (const { key, label: _l, labelEn: _le, ...figures } of s.groups) expect(exact(figures)).toEqual(exact(expected.get(key)!));
      expect(s.total.prefills).toBeGreaterThan(0);
      expect(s.total.hoursSaved).toBeGreaterThan(0);
    });

    it('days are Vietnamese days: a request at 00:00 +07:00 belongs to that day', async () => {
      const onMidnight = records.find((r) => (r.ts - T0) % DAY === 0)!;
      const day = new Date(onMidnight.ts + 7 * 3600_000).toISOString().slice(0, 10);
      const s = await engine.summary(q({ from: day, to: String(onMidnight.ts + DAY), groupBy: 'day' }));
      expect(s.groups[0]!.key).toBe(day);
      expect(s.groups.map((g) => g.key)).toEqual([day]);
    });

    it('pages through the groups without gaps or repeats', async () => {
      const all = await engine.summary(q({ ...PERIOD, groupBy: 'day', limit: '1000' }));
      const keys: Array<string | null> = [];
      let cursor: string | undefined;
      for (let i = 0; i < 20; i++) {
        const page = await engine.summary(q({ ...PERIOD, groupBy: 'day', limit: '7', ...(cursor ? { cursor } : {}) }));
        keys.push(...page.groups.map((g) => g.key));
        const next = page.groups.length === 7 && keys.length < page.totalGroups ? String(keys.length) : undefined;
        if (!next) break;
        cursor = next;
      }
      expect(keys).toEqual(all.groups.map((g) => g.key));
      expect(keys).toEqual([...keys].sort());
    });

    it('fields shared by coordinate equal the recount', async () => {
      const query = q({ ...PERIOD, limit: '100' });
      const f = await engine.fields(query);
      const expected = recountFields(records, query);
      expect(f.totalItems).toBe(expected.size);
      expect(Object.fromEntries(f.items.map((i) => [i.coordinate, i.requests]))).toEqual(Object.fromEntries(expected));
      const citizen = await engine.fields(q({ ...PERIOD, prefix: 'Citizen.' }));
      expect(citizen.items.length).toBeGreaterThan(0);
      expect(citizen.items.every((i) => i.coordinate.startsWith('Citizen.'))).toBe(true);
    });

    it('any period to the millisecond, any grouping: partial hours are folded from the records exactly (generated)', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: -DAY, max: 46 * DAY }),
          // Short periods too: then the partial hours hold most of the period's records.
          fc.oneof(fc.integer({ min: 1, max: 5 * 3_600_000 }), fc.integer({ min: 1, max: 12 * DAY })),
          fc.constantFrom(...GROUP_BYS),
          // Edges anywhere, or on a 5-minute or hour boundary (the 5-minute rows' own edges).
          fc.constantFrom(1, 300_000, 3_600_000),
          async (rawStart, rawLength, groupBy, snap) => {
            const start = Math.floor(rawStart / snap) * snap;
            const length = Math.max(snap, Math.floor(rawLength / snap) * snap);
            const query = q({ from: String(T0 + start), to: String(T0 + start + length), groupBy, limit: '1000' });
            const s = await engine.summary(query);
            const expected = recount(records, query, groupBy, RATE);
            const total = recount(records, query, 'none', RATE).get('*');
            expect(s.total.requests.total).toBe(total?.requests.total ?? 0);
            if (total) expect(exact(s.total)).toEqual(exact(total));
            if (groupBy !== 'none') {
              expect(new Set(s.groups.map((g) => g.key))).toEqual(new Set(expected.keys()));
              for (const { key, label: _l, labelEn: _le, ...figures } of s.groups) expect(exact(figures), `group ${key}`).toEqual(exact(expected.get(key)!));
            }
            const f = await engine.fields(q({ from: String(T0 + start), to: String(T0 + start + length), limit: '100' }));
            expect(Object.fromEntries(f.items.map((i) => [i.coordinate, i.requests]))).toEqual(Object.fromEntries(recountFields(records, query)));
          },
        ),
        { numRuns: 30 },
      );
    });

    it('edge days read as the day minus the hours the period lacks: sums, groups and maxima exact (generated)', async () => {
      // Each run writes its own records into its own days, far after the shared data: few records
      // a group, durations rarely tied, so a group's maximum often lies in the hours subtracted
      // and some groups have requests only there.
      let run = 0;
      const H = 3_600_000;
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.tuple(fc.integer({ min: 0, max: 3 * DAY - 1 }), fc.integer({ min: 0, max: 200_000 })), { minLength: 1, maxLength: 40 }),
          // Starts early in the first day and ends late in a later one (the edge days then lack few
          // hours), or anywhere.
          fc.oneof(
            fc.tuple(fc.integer({ min: 0, max: 9 * H }), fc.integer({ min: 0, max: 2 }), fc.integer({ min: 15 * H, max: DAY })),
            fc.tuple(fc.integer({ min: 0, max: DAY }), fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: DAY })),
          ),
          fc.constantFrom(...GROUP_BYS),
          fc.constantFrom(1, 3_600_000),
          async (points, [fromInDay, days, toInDay], groupBy, snap) => {
            const w = T0 + (400 + 8 * run) * DAY;
            // Dossier ids of this run only: a dossier counts where its first request is.
            const list = entries(points.length, 1000 + run).map((e, i) => ({
              ...e,
              ts: w + points[i]![0],
              durationMs: points[i]![1] / 8,
              dossierId: e.dossierId && `${e.dossierId}-edges-${run}`,
            }));
            const mine = await fill(store, `edges-${run++}`, list);
            const from = w + Math.floor(fromInDay / snap) * snap;
            const to = Math.max(from + 1, w + days * DAY + Math.floor(toInDay / snap) * snap);
            const query = q({ from: String(from), to: String(to), groupBy, limit: '1000' });
            const s = await engine.summary(query);
            const total = recount(mine, query, 'none', RATE).get('*');
            expect(s.total.requests.total).toBe(total?.requests.total ?? 0);
            if (total) expect(exact(s.total)).toEqual(exact(total));
            if (groupBy === 'none') return;
            const expected = recount(mine, query, groupBy, RATE);
            expect(new Set(s.groups.map((g) => g.key))).toEqual(new Set(expected.keys()));
            for (const { key, label: _l, labelEn: _le, ...figures } of s.groups) expect(exact(figures), `group ${key}`).toEqual(exact(expected.get(key)!));
          },
        ),
        {
          numRuns: 40,
          // Found by CI: the first day's only request lies before `from`, in the hour subtracted.
          examples: [[[[DAY, 0], [0, 1]], [1, 1, 15 * H], 'month', 1]],
        },
      );
    });

    it('1 500 groups whose maxima lie in the hours subtracted: each maximum read again, exactly, a chunk of groups at a time', async () => {
      // 1 500 clients, each with its slowest request at 00:30 and one at 05:00 of one day; the
      // period runs from 01:00 to 20:00 the next day, so both days are read as the day minus the
      // hours it lacks and every client's maximum must be read again over the two days' hours
      // (two ranges: more keys than one query takes).
      const w = T0 + 300 * DAY;
      const base = entries(2, 77);
      const list = Array.from({ length: 1_500 }, (_, i) => [
        { ...base[0]!, clientId: `many-${i}`, agency: `Agency ${i}`, ts: w + 1_800_000, durationMs: 100 + i / 1000, dossierId: null },
        { ...base[1]!, clientId: `many-${i}`, agency: `Agency ${i}`, ts: w + 5 * 3_600_000, durationMs: 50 + i / 1000, dossierId: null },
      ]).flat();
      const mine = await fill(store, 'many-clients', list);
      const period = { from: String(w + 3_600_000), to: String(w + DAY + 20 * 3_600_000), groupBy: 'client', limit: '1000' };
      const expected = recount(mine, q(period), 'client', RATE);
      const seen = new Set<string | null>();
      for (let offset = 0; offset < 1_500; offset += 1000) {
        const s = await engine.summary(q({ ...period, ...(offset ? { cursor: String(offset) } : {}) }));
        expect(s.totalGroups).toBe(1_500);
        for (const { key, label: _l, labelEn: _le, ...figures } of s.groups) {
          expect(exact(figures), `group ${key}`).toEqual(exact(expected.get(key)!));
          seen.add(key);
        }
        if (offset === 0) expect(s.groups.find((g) => g.key === 'many-7')?.latencyMs.max ?? 50.007).toBe(50.007);
      }
      expect(seen.size).toBe(1_500);
    });

    it('a partial hour read as its hour minus the records outside the period: a slower request outside is not its maximum', async () => {
      // 10:20 to 14:00 of one day: 10:00–11:00 holds 40 of its 60 minutes, so PostgreSQL reads the
      // hour's rows and subtracts 10:00–10:20; the day lacks too many hours to be read whole.
      const w = T0 + 200 * DAY;
      const H = 3_600_000;
      const base = entries(4, 91);
      const at = (i: number, minutes: number, durationMs: number, clientId = 'bounded-a') => ({ ...base[i]!, clientId, agency: clientId, ts: w + 10 * H + minutes * 60_000, durationMs, dossierId: null });
      const mine = await fill(store, 'bounded-hour', [
        at(0, 5, 900),
        at(1, 40, 100),
        // 12:00, in a whole hour of the period.
        at(2, 120, 50),
        // A client whose only request lies outside: no group.
        at(3, 10, 700, 'bounded-b'),
      ]);
      const query = q({ from: String(w + 10 * H + 20 * 60_000), to: String(w + 14 * H), groupBy: 'client', limit: '1000' });
      const s = await engine.summary(query);
      const expected = recount(mine, query, 'client', RATE);
      expect(s.groups.map((g) => g.key)).toEqual(['bounded-a']);
      expect(s.groups[0]!.latencyMs.max).toBe(100);
      const { key: _k, label: _l, labelEn: _le, ...figures } = s.groups[0]!;
      expect(exact(figures)).toEqual(exact(expected.get('bounded-a')!));
    });

    it('a period with no record gives zeros, not an error', async () => {
      const s = await engine.summary(q({ from: '2024-01-01', to: '2024-01-31', groupBy: 'registry' }));
      expect(s.total.requests.total).toBe(0);
      expect(s.total.latencyMs.p95).toBeNull();
      expect(s.groups).toEqual([]);
    });
  });
}

describe('statistics query parameters', () => {
  it('rejects unknown groupings, bad dates and reversed periods with a message naming the parameter', () => {
    const bad = (p: Record<string, string>) => {
      const r = parseStatsQuery(p);
      return r.ok ? '' : r.message;
    };
    expect(bad({ groupBy: 'citizen' })).toMatch(/groupBy/);
    expect(bad({ from: 'yesterday' })).toMatch(/from.*2025-07-01/);
    expect(bad({ from: '2025-08-01', to: '2025-07-01' })).toMatch(/must be before/);
    expect(bad({ outcome: 'FINE' })).toMatch(/outcome/);
    expect(bad({ limit: '0' })).toMatch(/limit/);
    expect(bad({ personalId: '001090000001' })).toMatch(/personalId|Unrecognized/i);
  });
});
