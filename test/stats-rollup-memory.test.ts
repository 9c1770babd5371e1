/**
 * The roll from memory (gateway/audit/rollup-tail.ts, RecentRecords): a roll sums the records this
 * process committed since the mark without reading them back. Generated (fast-check) interleavings
 * of appends, failed appends, rolls, concurrent rolls of two stores on one SQLite file (or two
 * PostgreSQL replicas in one schema), rebuilds and stores re-opened (memory lost): after a final
 * roll the rollups equal a rebuild from the records, and the memory path was taken.
 * Also: addRecords' grouping of field lists (more distinct lists than it keeps per group).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chainRecord, genesisHash, type AuditEntry, type AuditRecord, type Outcome } from '../gateway/audit/record.js';
import { SqliteAuditStore } from '../gateway/audit/sqlite-store.js';
import { PostgresAuditStore } from '../gateway/audit/postgres-store.js';
import { ChainConflictError } from '../gateway/audit/store.js';
import { RECENT_MAX, RecentRecords, type RollupTail } from '../gateway/audit/rollup-tail.js';
import { addRecord, addRecords, emptyBatch, rollupStatements, type RollupBatch } from '../gateway/core/stats-rollup.js';
import { postgresUnavailable, PG_TEST_URL, uniqueSchema } from './support/audit-testing.js';
import { generatedEntry, snapshot } from './support/rollup-traffic.js';

const pgProblem = await postgresUnavailable();
const T0 = Date.parse('2025-07-01T00:00:00+07:00');
const HOUR = 3_600_000;
const FIELDS = ['Citizen.fullName', 'Citizen.dateOfBirth', 'LandParcel.area', 'Citizen.gender', 'Address.fullAddress'];

const entryArb = fc.record({
  client: fc.constantFrom(
    { clientId: 'hcm', agency: 'UBND TP.HCM', clientTier: 'province', clientProvince: '79' },
    { clientId: 'bca', agency: 'Bộ Công an', clientTier: 'ministry' },
    { clientId: 'old', agency: 'Đơn vị cũ' },
  ),
  hour: fc.integer({ min: 0, max: 60 }),
  procedureId: fc.constantFrom<string | null>('lodging-notification', 'passport-issuance', null),
  dossier: fc.option(fc.integer({ min: 1, max: 5 }), { nil: null }),
  outcome: fc.constantFrom<Outcome>('OK', 'OK', 'PARTIAL', 'DENIED', 'ERROR'),
  registries: fc.subarray(['population', 'land', 'insurance']),
  fields: fc.array(fc.constantFrom(...FIELDS), { maxLength: 6 }),
  durationMs: fc.integer({ min: 0, max: 400_000 }).map((n) => n / 1000),
  cut: fc.option(fc.integer({ min: 0, max: 3 }), { nil: null }),
});
type Gen = typeof entryArb extends fc.Arbitrary<infer T> ? T : never;

function entryOf(g: Gen, i: number): AuditEntry {
  return generatedEntry(g, i, T0 + g.hour * HOUR + (i % 60) * 60_000, Object.fromEntries(g.registries.map((r, k) => [r, k + 1])));
}

type Store = SqliteAuditStore | PostgresAuditStore;
const recentOf = (s: Store) => (s as unknown as { tail: RollupTail }).tail.recent;

/** Two stores on one database (SQLite file / PostgreSQL schema); `open(i)` opens store i again. */
interface Setup {
  open(i: 0 | 1): Promise<Store>;
  dump(t: string): Promise<unknown[]>;
  cleanup(): Promise<void>;
}

const BACKENDS: Array<{ name: string; skip: boolean; runs: number; setup(): Setup }> = [
  {
    name: 'sqlite',
    skip: false,
    runs: 25,
    setup() {
      const dir = mkdtempSync(path.join(tmpdir(), 'motlan-rollmem-'));
      const file = path.join(dir, 'a.db');
      let reader: SqliteAuditStore | null = null;
      return {
        // Store 1 commits from its writer thread: rolls of the two interleave at every await.
        async open(i) {
          const s = new SqliteAuditStore({ file, writer: i === 0 ? 'inline' : 'worker', rollupDelayMs: 3_600_000 });
          await s.init();
          reader ??= s as SqliteAuditStore;
          return s;
        },
        dump: (t) => reader!.all(`SELECT * FROM ${t}`),
        cleanup: async () => rmSync(dir, { recursive: true, force: true }),
      };
    },
  },
  {
    name: 'postgres',
    skip: pgProblem !== null,
    runs: 12,
    setup() {
      const schema = uniqueSchema('rollmem_test');
      let first: PostgresAuditStore | null = null;
      return {
        async open() {
          const s = new PostgresAuditStore({ url: PG_TEST_URL, schema, rollupDelayMs: 3_600_000 });
          await s.init();
          first ??= s;
          return s;
        },
        dump: async (t) => (await (first as unknown as { pool: import('pg').Pool }).pool.query(`SELECT * FROM ${schema}.${t}`)).rows,
        cleanup: async () => {
          const s = new PostgresAuditStore({ url: PG_TEST_URL, schema });
          await s.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
          await s.close();
        },
      };
    },
  },
];

const storeArb = fc.constantFrom<0 | 1>(0, 1);
const chainArb = fc.constantFrom('a', 'b');
const cmdArb = fc.oneof(
  { weight: 6, arbitrary: fc.record({ t: fc.constant('append' as const), s: storeArb, chain: chainArb, gens: fc.array(entryArb, { minLength: 1, maxLength: 6 }) }) },
  // Records that never commit (a stale head): the seqs are then committed with other contents.
  { weight: 2, arbitrary: fc.record({ t: fc.constant('fail' as const), s: storeArb, chain: chainArb, gens: fc.array(entryArb, { minLength: 1, maxLength: 4 }), then: storeArb, real: fc.array(entryArb, { minLength: 1, maxLength: 4 }) }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('roll' as const), s: storeArb }) },
  // Both stores roll while store 0 appends: marks move under a roll (SQLite guard, PostgreSQL lock).
  { weight: 2, arbitrary: fc.record({ t: fc.constant('race' as const), chain: chainArb, gens: fc.array(entryArb, { minLength: 1, maxLength: 4 }) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('rebuild' as const), s: storeArb }) },
  // A crash: the store is dropped without its closing roll, a new one opened (its memory empty).
  { weight: 1, arbitrary: fc.record({ t: fc.constant('reopen' as const), s: storeArb }) },
);

let memoryRolled = 0;
let storeRolled = 0;

for (const backend of BACKENDS) {
  describe.skipIf(backend.skip)(`rolling from memory on ${backend.name}`, () => {
    it('any interleaving of appends, failed appends, rolls of two stores, rebuilds and re-opened stores: the rollups equal a rebuild from the records', async () => {
      let i = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(cmdArb, { minLength: 1, maxLength: 25 }), async (cmds) => {
          const setup = backend.setup();
          const stores: Store[] = [await setup.open(0), await setup.open(1)];
          const dropped: Store[] = [];
          const chains: Record<string, AuditRecord[]> = { a: [], b: [] };
          const next = (chain: string, gens: Gen[]) => {
            const list = chains[chain]!;
            const out: AuditRecord[] = [];
            for (const g of gens) {
              const prev = out.at(-1) ?? list.at(-1);
              out.push(chainRecord(chain, (prev?.seq ?? 0) + 1, prev?.hash ?? genesisHash(chain), entryOf(g, i++)));
            }
            return out;
          };
          const append = async (s: Store, chain: string, gens: Gen[]) => {
            const recs = next(chain, gens);
            const h = chains[chain]!.at(-1);
            await s.appendBatch(chain, h ? { seq: h.seq, hash: h.hash } : null, recs, []);
            chains[chain]!.push(...recs);
          };
          const count = (s: Store) => {
            memoryRolled += recentOf(s).counts.memory;
            storeRolled += recentOf(s).counts.store;
          };
          try {
            for (const c of cmds) {
              if (c.t === 'append') await append(stores[c.s]!, c.chain, c.gens);
              else if (c.t === 'fail') {
                const recs = next(c.chain, c.gens);
                const h = chains[c.chain]!.at(-1);
                await expect(stores[c.s]!.appendBatch(c.chain, { seq: h?.seq ?? 0, hash: 'stale' }, recs, [])).rejects.toThrow(ChainConflictError);
                await append(stores[c.then]!, c.chain, c.real);
              } else if (c.t === 'roll') await stores[c.s]!.rollUp();
              else if (c.t === 'race') await Promise.all([stores[0]!.rollUp(), stores[1]!.rollUp(), append(stores[0]!, c.chain, c.gens), stores[1]!.rollUp()]);
              else if (c.t === 'rebuild') await stores[c.s]!.rebuildStats({ pageSize: 5 });
              else {
                count(stores[c.s]!);
                dropped.push(stores[c.s]!);
                stores[c.s] = await setup.open(c.s);
              }
            }
            await stores[0]!.rollUp();
            await stores[1]!.rollUp();
            const rolled = await snapshot(setup.dump);
            const total = chains.a!.length + chains.b!.length;
            expect(await stores[0]!.rebuildStats({ pageSize: 7 })).toBe(total);
            expect(rolled).toEqual(await snapshot(setup.dump));
          } finally {
            for (const s of stores) count(s);
            // The closing rolls of dropped stores run after the check (their memory is stale by now).
            for (const s of [...stores, ...dropped]) await s.close();
            await setup.cleanup();
          }
        }),
        { numRuns: backend.runs },
      );
    }, 240_000);
  });
}

describe('rolling from memory (after the generated runs)', () => {
  it('took the memory path, and the read-back path too (gaps, failed appends, crashes, races)', () => {
    console.log(`records rolled from memory ${memoryRolled}, read back ${storeRolled}`);
    expect(memoryRolled).toBeGreaterThan(0);
    expect(storeRolled).toBeGreaterThan(0);
  });
});

describe('RecentRecords', () => {
  const rec = (seq: number) => ({ seq }) as AuditRecord;
  const seqs = (r: Array<{ seq: number }> | null) => r?.map((x) => x.seq) ?? null;

  it('gives the run only when it starts right after the mark, dropping what the mark covers', () => {
    const m = new RecentRecords();
    m.remember('a', [rec(3), rec(4)]);
    m.remember('a', [rec(5)]);
    expect(seqs(m.take('a', 1, 100))).toBeNull(); // seq 2 is not in memory: read back
    expect(seqs(m.take('a', 2, 100))).toEqual([3, 4, 5]);
    expect(seqs(m.take('a', 3, 2))).toEqual([4, 5]);
    m.rolled('a', 4);
    expect(seqs(m.take('a', 4, 100))).toEqual([5]);
    expect(seqs(m.take('a', 7, 100))).toBeNull();
    expect(m.size()).toBe(0);
  });

  it('starts over after a gap, and drops a chain that outgrows the bound', () => {
    const m = new RecentRecords();
    m.remember('a', [rec(1), rec(2)]);
    m.remember('a', [rec(5)]); // 3, 4 committed elsewhere
    expect(seqs(m.take('a', 0, 100))).toBeNull();
    expect(seqs(m.take('a', 4, 100))).toEqual([5]);
    m.remember('b', Array.from({ length: RECENT_MAX }, (_, k) => rec(k + 1)));
    expect(m.take('b', 0, 1)?.length).toBe(1);
    m.remember('b', [rec(RECENT_MAX + 1)]);
    expect(m.take('b', 0, 1)).toBeNull();
    m.forget();
    expect(m.size()).toBe(0);
  });
});

describe('addRecords groups the records of an hour and dimensions by field list', () => {
  it('equals addRecord on each record with many distinct field lists and repeated coordinates in one group', () => {
    const rows = (b: RollupBatch) => rollupStatements(b, 'sqlite').map((st) => [st.table, st.rows.map((r) => JSON.stringify(r)).sort()]);
    const coords = [...FIELDS, 'Citizen.household', 'Household.householdId'];
    fc.assert(
      fc.property(fc.array(fc.array(fc.constantFrom(...coords), { maxLength: 8 }), { minLength: 1, maxLength: 60 }), fc.boolean(), (lists, shared) => {
        // One client, hour and dimensions: every record in one group; lists may share arrays.
        const base = fc.sample(entryArb, { numRuns: 1, seed: 3 })[0]!;
        const records = lists.map((fields, k) => chainRecord('a', k + 1, genesisHash('a'), { ...entryOf({ ...base, fields: shared ? lists[k % 3] ?? fields : fields }, 0), requestId: `r${k}` }));
        const one = emptyBatch();
        for (const r of records) addRecord(one, r);
        const many = emptyBatch();
        addRecords(many, records);
        expect(rows(many)).toEqual(rows(one));
      }),
      { numRuns: 150 },
    );
  });
});
