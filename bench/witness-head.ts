/**
 * Micro-measure: what would it cost to write a signed chain head to the witness file in
 * EVERY group commit (before the responses of the group are released), against today
 * (a head at most once per `witnessHeadIntervalMs`, after the responses left)?
 *
 * Measures, on this machine's disk, with the real SQLite store (WAL, synchronous=FULL,
 * writer thread) and the real FileWitness (O_APPEND + fsync):
 *   1. one group commit of k records (`appendBatch`), k = 1, 16, 64;
 *   2. signing one head (Ed25519) and appending + fsyncing its line to a witness file;
 *   3. end to end through AuditLog: C concurrent writers, records/s and per-record latency,
 *      with the head witnessed every 1000 ms (today's default) and after every commit.
 *
 *   npx tsx bench/witness-head.ts [iterations=200]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { AuditLog } from '../gateway/audit/log.js';
import { chainRecord, checkpointMessage, genesisHash, type AuditRecord } from '../gateway/audit/record.js';
import { SqliteAuditStore } from '../gateway/audit/sqlite-store.js';
import { sampleEntry, testSigner } from '../test/support/audit-testing.js';
import { FileWitness } from '../gateway/audit/witness.js';

const iterations = Number(process.argv[2] ?? 200);
const dir = mkdtempSync(path.join(tmpdir(), 'motlan-bench-witness-'));
const signer = testSigner();

function stats(ms: number[]): string {
  const s = [...ms].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!.toFixed(3);
  return `median ${q(0.5)} ms, p90 ${q(0.9)} ms, p99 ${q(0.99)} ms (n=${s.length})`;
}

/**
 * `with`: none (today's commit), `after` (then the head line: the cost in sequence),
 * `parallel` (the head line written while the store commits: the cost if both fsyncs overlap).
 */
async function groupCommits(k: number, withHead: 'none' | 'after' | 'parallel' = 'none'): Promise<number[]> {
  const witness = new FileWitness(path.join(dir, `gc-${k}-${withHead}.jsonl`), 'bench');
  const head = (seq: number, hash: string) => {
    const unsigned = { instanceId: `bench-${k}`, seq, hash, ts: Date.now(), keyId: signer.keyId };
    return witness.append([{ ...unsigned, signature: signer.sign(checkpointMessage(unsigned)), head: true }]);
  };
  const store = new SqliteAuditStore({ file: path.join(dir, `gc-${k}-${withHead}.db`) });
  await store.init();
  const id = `bench-${k}`;
  let prev = genesisHash(id);
  let seq = 0;
  const out: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const expected = seq === 0 ? null : { seq, hash: prev };
    const records: AuditRecord[] = [];
    for (let j = 0; j < k; j++) {
      const r = chainRecord(id, ++seq, prev, sampleEntry({ ts: Date.now() }));
      records.push(r);
      prev = r.hash;
    }
    const t = performance.now();
    if (withHead === 'parallel') await Promise.all([store.appendBatch(id, expected, records, []), head(seq, prev)]);
    else {
      await store.appendBatch(id, expected, records, []);
      if (withHead === 'after') await head(seq, prev);
    }
    out.push(performance.now() - t);
  }
  await store.close();
  return out;
}

async function witnessHeads(): Promise<number[]> {
  const witness = new FileWitness(path.join(dir, 'witness', 'heads.jsonl'), 'bench');
  const out: number[] = [];
  for (let seq = 1; seq <= iterations; seq++) {
    const t = performance.now();
    const unsigned = { instanceId: 'bench', seq, hash: 'ab'.repeat(32), ts: Date.now(), keyId: signer.keyId };
    await witness.append([{ ...unsigned, signature: signer.sign(checkpointMessage(unsigned)), head: true }]);
    out.push(performance.now() - t);
  }
  return out;
}

async function endToEnd(label: string, witnessHeadIntervalMs: number, concurrency: number, extra: Record<string, unknown> = {}): Promise<void> {
  const store = new SqliteAuditStore({ file: path.join(dir, `e2e-${label}.db`) });
  await store.init();
  const witness = new FileWitness(path.join(dir, `e2e-${label}.jsonl`), 'bench');
  let commits = 0;
  const log = new AuditLog({ store, instanceId: `e2e-${label}`, signer, witness, witnessHeadIntervalMs, onCommit: () => commits++, ...extra });
  await log.start();
  const total = iterations * 10;
  let sent = 0;
  const latencies: number[] = [];
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (sent < total) {
        sent++;
        const t = performance.now();
        await log.append(sampleEntry({ ts: Date.now() }));
        latencies.push(performance.now() - t);
      }
    }),
  );
  const secs = (performance.now() - started) / 1000;
  await log.close();
  await store.close();
  console.log(`  ${label.padEnd(28)} ${(total / secs).toFixed(0).padStart(6)} records/s, ${commits} commits, latency ${stats(latencies)}`);
}

try {
  console.log(`Witness head per group commit — ${iterations} iterations, files in ${dir}`);
  for (const k of [1, 16, 64]) {
    for (const w of ['none', 'after', 'parallel'] as const) {
      console.log(`  group commit of ${String(k).padStart(2)} record(s), head ${w.padEnd(8)}: ${stats(await groupCommits(k, w))}`);
    }
  }
  console.log(`  sign + append + fsync one head line: ${stats(await witnessHeads())}`);
  for (const c of [1, 16, 64]) {
    console.log(` end to end, ${c} concurrent writer(s):`);
    await endToEnd(`c${c}-head-every-1000ms`, 1000, c);
    await endToEnd(`c${c}-head-every-commit`, 0, c);
    if (process.argv.includes('--before-release')) await endToEnd(`c${c}-head-before-release`, 0, c, { witnessHeadBeforeRelease: true });
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
