/**
 * What the record covers (issue 11, observation 1) and the witness file
 * (observation 2): unit level. The store-level tampering scenarios are in
 * store.conformance.ts, the whole-stack and CLI ones in test/audit*.test.ts.
 */
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { newTrace, type MotlanContext } from '../core/context.js';
import { AuditDraft, buildEntry } from './draft.js';
import { subjectHasher } from './keys.js';
import { checkpointMessage, type Checkpoint } from './record.js';
import { ENTITY_KINDS } from './subjects.js';
import { resolveAuditConfig } from './config.js';
import { AuditLog } from './log.js';
import { SqliteAuditStore } from './sqlite-store.js';
import { sampleEntry, testSigner } from '../../test/support/audit-testing.js';
import { FileWitness, loadWitness, parseWitness, WITNESS_FORMAT, type WitnessedCheckpoint } from './witness.js';

const dir = mkdtempSync(path.join(tmpdir(), 'motlan-witness-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const hasher = subjectHasher(Buffer.from('k'.repeat(32)));

function contextWith(entities: Array<{ type: string; key: string }>, subject = '001090000001'): MotlanContext {
  const trace = newTrace();
  for (const e of entities) trace.returnedEntities.set(`${e.type}:${e.key}`, e);
  return {
    requestId: 'r1',
    receivedAt: 1,
    client: { id: 'c', agency: 'A', name: 'n', demo: true, procedures: [], permissions: [], requireSubjectToken: false },
    purpose: { procedureId: 'judicial-record-certificate', dossierId: null },
    subject: { personalId: subject },
    headers: {},
    trace,
  } as MotlanContext;
}

function entryFor(ctx: MotlanContext, data: unknown) {
  const d = new AuditDraft('r1', 1, performance.now());
  d.context = ctx;
  d.ops.push({ internal: false, operationName: 'Q', operationType: 'query', documentHash: 'h', errorCodes: [], done: true, data });
  return buildEntry(d, { httpStatus: 200, responseBytes: 10, bodyCodes: [] }, hasher);
}

describe('the record lists every entity that left (observation 1)', () => {
  it('33 citizens returned through nested relations, under aliases: all 33 are subjects, typed, as HMACs', () => {
    const family = Array.from({ length: 33 }, (_, i) => ({ type: 'Citizen', key: `0010900000${String(i + 1).padStart(2, '0')}` }));
    const ctx = contextWith([...family, { type: 'Enterprise', key: '0101234567' }, { type: 'LandParcel', key: 'HN-12-345' }]);
    // The client renamed every key: the response shows none of them under its schema name.
    const entry = entryFor(ctx, { c: { pid: family[0]!.key, dad: { pid: family[1]!.key } } });
    expect(entry.subjects).toHaveLength(35);
    for (const e of family.slice(1)) expect(entry.subjects).toContainEqual({ kind: 'personal', role: 'related', hmac: hasher('personal', e.key) });
    expect(entry.subjects).toContainEqual({ kind: 'personal', role: 'subject', hmac: hasher('personal', family[0]!.key) });
    expect(entry.subjects).toContainEqual({ kind: 'enterprise', role: 'related', hmac: hasher('enterprise', '0101234567') });
    expect(entry.subjects).toContainEqual({ kind: 'parcel', role: 'related', hmac: hasher('parcel', 'HN-12-345') });
    expect(JSON.stringify(entry)).not.toContain('00109000000');
  });

  it('every returned entity of every known type is a subject, whatever else the request named (generated)', () => {
    const types = Object.keys(ENTITY_KINDS);
    fc.assert(
      fc.property(fc.uniqueArray(fc.record({ type: fc.constantFrom(...types), key: fc.stringMatching(/^[0-9A-Z-]{1,20}$/) }), { maxLength: 60, selector: (e) => `${e.type}:${e.key}` }), (entities) => {
        const entry = entryFor(contextWith(entities), null);
        const hmacs = new Set(entry.subjects.map((s) => `${s.kind}:${s.hmac}`));
        for (const e of entities) {
          const kind = ENTITY_KINDS[e.type]!;
          expect(hmacs.has(`${kind}:${hasher(kind, e.key)}`)).toBe(true);
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe('the witness file', () => {
  const signer = testSigner();
  const cp = (seq: number, instanceId = 'gw'): Checkpoint => {
    const unsigned = { instanceId, seq, hash: seq.toString(16).padStart(64, '0'), ts: 1_700_000_000_000 + seq, keyId: signer.keyId };
    return { ...unsigned, signature: signer.sign(checkpointMessage(unsigned)) };
  };

  it('appends one JSON line per checkpoint, and reads back the newest per chain (file, saved endpoint body)', async () => {
    const file = path.join(dir, 'sub', 'w.jsonl');
    const w = new FileWitness(file, 'gw', () => 42);
    await w.append([cp(4), cp(8)]);
    await w.append([cp(3, 'other'), { ...cp(9), head: true }]);
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatchObject({ format: WITNESS_FORMAT, instanceId: 'gw', seq: 4, witnessedAt: 42, witnessedBy: 'gw' });
    expect(lines[3]).toMatchObject({ seq: 9, head: true });
    // A second reader (another process) sees the same.
    const again = new FileWitness(file, 'x');
    expect([...again.latest().values()].map((c) => [c.instanceId, c.seq])).toEqual([['gw', 9], ['other', 3]]);
    expect(again.readAll()).toHaveLength(4);

    const saved = path.join(dir, 'latest.json');
    writeFileSync(saved, JSON.stringify({ format: WITNESS_FORMAT, checkpoints: [cp(8)] }));
    expect(await loadWitness(saved, { cwd: dir })).toEqual([cp(8)]);
  });

  it('tolerates a torn last line (crash mid-append) but nothing else unreadable', async () => {
    const file = path.join(dir, 'torn.jsonl');
    const w = new FileWitness(file, 'gw');
    await w.append([cp(1), cp(2)]);
    appendFileSync(file, '{"instanceId":"gw","se');
    expect(w.readAll().map((c) => c.seq)).toEqual([1, 2]);
    writeFileSync(file, `garbage\n${JSON.stringify(cp(1))}\n`);
    expect(() => new FileWitness(file, 'gw').readAll()).toThrow(/line 1: not JSON/);
    expect(() => parseWitness('{"checkpoints":[{"seq":1}]}', 'body')).toThrow(/not a signed checkpoint/);
  });
});

describe('a witness that cannot be written', () => {
  it('keeps the records, reports the problem for /ready, and delivers the pending checkpoints once it works again', async () => {
    const store = new SqliteAuditStore({ file: path.join(dir, 'ready.db'), writer: 'inline' });
    await store.init();
    let broken = true;
    const got: WitnessedCheckpoint[] = [];
    const errors: string[] = [];
    const witness = {
      location: '/mnt/witness (test)',
      append: async (cps: WitnessedCheckpoint[]) => {
        if (broken) throw new Error('EROFS: read-only file system');
        got.push(...cps);
      },
      latest: () => new Map<string, WitnessedCheckpoint>(),
    };
    const log = new AuditLog({ store, instanceId: 'ro', signer: testSigner(), checkpointEvery: 2, checkpointIntervalMs: 0, witness, witnessHeadIntervalMs: 60_000, onWitnessError: (e) => errors.push(e.message) });
    await log.start();
    for (let i = 0; i < 2; i++) await log.append(sampleEntry());
    expect((await store.head('ro'))?.seq).toBe(2);
    expect(await log.witnessProblem()).toMatch(/cannot be written to the witness \/mnt\/witness \(test\): EROFS/);
    expect(errors.length).toBeGreaterThan(0);
    broken = false;
    expect(await log.witnessProblem()).toBeNull();
    expect(got.map((c) => [c.instanceId, c.seq])).toContainEqual(['ro', 2]);
    await log.close();
    await store.close();
  });
});

describe('AUDIT_WITNESS_HEAD_INTERVAL_MS: how long a committed tail may stay unwitnessed', () => {
  const resolve = (env: NodeJS.ProcessEnv) => resolveAuditConfig({ instanceId: 'cfg', dataDir: dir }, { env, production: false });
  it('defaults to 1000 ms, reads the variable (0: a head after every commit), refuses a bad value', () => {
    expect(resolve({}).witnessHeadIntervalMs).toBe(1000);
    expect(resolve({ AUDIT_WITNESS_HEAD_INTERVAL_MS: '0' }).witnessHeadIntervalMs).toBe(0);
    expect(resolve({ AUDIT_WITNESS_HEAD_INTERVAL_MS: '250' }).witnessHeadIntervalMs).toBe(250);
    expect(() => resolve({ AUDIT_WITNESS_HEAD_INTERVAL_MS: '-1' })).toThrow(/AUDIT_WITNESS_HEAD_INTERVAL_MS/);
  });
});
