/**
 * What the statistics rollups cost the audit writer, per record: `npx tsx bench/rollup-cost.ts [records]`.
 *
 * The real SQLite store as the gateway opens it (writer thread, exclusive locking, fsync per
 * commit), one record per commit (the low-load case: every request its own transaction), each a
 * 25-field prefill over 2 registries from one of 10 procedures and 5 clients. Two ways:
 *   - roll with every commit (what keeping the rollups in the append's transaction cost);
 *   - roll once after all commits, as the store does a second after appends (rollup-tail.ts).
 * CPU is the process's (every thread: the writer's included), divided by the records.
 */
import { chainRecord, genesisHash, type AuditEntry, type AuditRecord } from '../gateway/audit/record.js';
import { cpuUs, withBenchStore } from './audit-store-bench.js';

const N = Number(process.argv[2] ?? 2000);
const FIELDS = Array.from({ length: 25 }, (_, i) => `Citizen.field${i}`);

function entry(i: number): AuditEntry {
  return {
    ts: Date.now(),
    requestId: `r-${i}`,
    clientId: `client-${i % 5}`,
    agency: 'Bench agency',
    operationName: 'Prefill',
    operationType: 'query',
    documentHash: null,
    procedureId: `procedure-${i % 10}`,
    dossierId: `HS-${Math.floor(i / 2)}`,
    subjects: [],
    registries: ['population', 'insurance'],
    fields: FIELDS,
    entities: { population: 2, insurance: 1 },
    outcome: 'OK',
    errorCodes: [],
    httpStatus: 200,
    durationMs: 5 + (i % 40),
    responseBytes: 1000,
    prefill: { fieldsTotal: 30, fieldsPrefilled: 25, fieldsForCitizen: 5, componentsTotal: 3, componentsCut: 2, hoursSaved: 2.5 },
    clientTier: 'province',
    clientProvince: '01',
  };
}

function run(rollEach: boolean, n: number): Promise<{ appendMs: number; rollMs: number }> {
  return withBenchStore('rollup-cost', async (store) => {
    let prev: AuditRecord | null = null;
    let appendUs = 0;
    let rollUs = 0;
    for (let i = 0; i < n; i++) {
      const r: AuditRecord = chainRecord('bench', i + 1, prev ? prev.hash : genesisHash('bench'), entry(i));
      let t = cpuUs();
      await store.appendBatch('bench', prev ? { seq: prev.seq, hash: prev.hash } : null, [r], []);
      appendUs += cpuUs() - t;
      if (rollEach) {
        t = cpuUs();
        await store.rollUp();
        rollUs += cpuUs() - t;
      }
      prev = r;
    }
    if (!rollEach) {
      const t = cpuUs();
      await store.rollUp();
      rollUs += cpuUs() - t;
    }
    return { appendMs: appendUs / 1000 / n, rollMs: rollUs / 1000 / n };
  });
}

// A short run of each first, not reported: the JIT warms up.
for (const rollEach of [true, false]) await run(rollEach, Math.min(200, N));
const results: Array<[string, { appendMs: number; rollMs: number }]> = [];
for (const [label, rollEach] of [['roll with every commit', true], ['roll once after the commits', false]] as const) {
  results.push([label, await run(rollEach, N)]);
}
console.log(`${N} records, one per commit, SQLite (writer thread, exclusive, synchronous=FULL); CPU ms per record:`);
for (const [label, r] of results) {
  console.log(`  ${label.padEnd(28)} append ${r.appendMs.toFixed(3)}  roll ${r.rollMs.toFixed(3)}  total ${(r.appendMs + r.rollMs).toFixed(3)}`);
}
