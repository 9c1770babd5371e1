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
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chainRecord, genesisHash, type AuditEntry, type AuditRecord } from '../gateway/audit/record.js';
import { SqliteAuditStore } from '../gateway/audit/sqlite-store.js';

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

async function run(rollEach: boolean, n: number): Promise<{ appendMs: number; rollMs: number }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'motlan-rollup-cost-'));
  // A long delay: only this bench decides when the roll runs.
  const store = new SqliteAuditStore({ file: path.join(dir, 'audit.db'), locking: 'exclusive', rollupDelayMs: 3_600_000 });
  try {
    await store.init();
    let prev: AuditRecord | null = null;
    let appendUs = 0;
    let rollUs = 0;
    for (let i = 0; i < n; i++) {
      const r: AuditRecord = chainRecord('bench', i + 1, prev ? prev.hash : genesisHash('bench'), entry(i));
      let t = process.cpuUsage();
      await store.appendBatch('bench', prev ? { seq: prev.seq, hash: prev.hash } : null, [r], []);
      let u = process.cpuUsage(t);
      appendUs += u.user + u.system;
      if (rollEach) {
        t = process.cpuUsage();
        await store.rollUp();
        u = process.cpuUsage(t);
        rollUs += u.user + u.system;
      }
      prev = r;
    }
    if (!rollEach) {
      const t = process.cpuUsage();
      await store.rollUp();
      const u = process.cpuUsage(t);
      rollUs += u.user + u.system;
    }
    return { appendMs: appendUs / 1000 / n, rollMs: rollUs / 1000 / n };
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
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
