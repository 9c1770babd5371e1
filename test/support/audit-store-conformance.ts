/**
 * The conformance suite every AuditStore passes (sqlite-store.test.ts and
 * postgres-store.test.ts run it). Besides the store contract it checks the log
 * (group commit, checkpoints, restart) and the verifier over the store, including
 * each kind of tampering done with plain SQL, as an insider with database access would.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditChainLostError, AuditLog, AuditUnavailableError } from '../../gateway/audit/log.js';
import { chainHash, chainRecord, contentHash, genesisHash, type AuditEntry, type AuditRecord } from '../../gateway/audit/record.js';
import { ChainConflictError, recordToRow, type AuditStore } from '../../gateway/audit/store.js';
import { verifyStore } from '../../gateway/audit/sources.js';
import { MemoryWitness, sampleEntry, testSigner } from './audit-testing.js';

export interface StoreHarness {
  store: AuditStore & { exec(sql: string): unknown };
  /** Qualified table name, e.g. `audit_records` or `schema.audit_records`. */
  table(name: 'audit_records' | 'audit_checkpoints' | 'audit_subjects'): string;
  /** Opens a second store over the same data (restart). */
  reopen(): Promise<AuditStore>;
  cleanup(): Promise<void>;
}

const hmacA = 'a1'.repeat(32);
const hmacB = 'b2'.repeat(32);

async function all(it: AsyncIterable<AuditRecord>): Promise<AuditRecord[]> {
  const out: AuditRecord[] = [];
  for await (const r of it) out.push(r);
  return out;
}

function chainOf(instanceId: string, entries: AuditEntry[], startSeq = 1, prev = genesisHash(instanceId)): AuditRecord[] {
  return entries.map((e, i) => {
    const r = chainRecord(instanceId, startSeq + i, prev, e);
    prev = r.hash;
    return r;
  });
}

export function describeStoreConformance(name: string, open: () => Promise<StoreHarness>, skipReason: string | null): void {
  describe.skipIf(skipReason !== null)(`AuditStore conformance: ${name}${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
    let h: StoreHarness;
    const signer = testSigner();
    const t0 = Date.UTC(2025, 6, 1, 8, 0, 0);

    beforeAll(async () => {
      h = await open();
      await h.store.init();
    });
    afterAll(async () => {
      await h?.cleanup();
    });

    it('starts empty and returns appended records exactly as written', async () => {
      expect(await h.store.head('rt')).toBeNull();
      const entries = [
        sampleEntry({ ts: t0, subjects: [{ kind: 'personal', role: 'subject', hmac: hmacA }], subgraphRequests: ['r-1:population:0a1b', 'r-1:insurance:2c3d', 'r-1:population:4e5f'], traceId: '4bf92f3577b34da6a3ce929d0e0e4736', prefill: { fieldsTotal: 23, fieldsPrefilled: 17, fieldsForCitizen: 6, componentsTotal: 3, componentsCut: 2, hoursSaved: 2.5 } }),
        sampleEntry({ ts: t0 + 1, operationName: null, operationType: null, documentHash: null, procedureId: null, responseBytes: null, durationMs: 0.1 + 0.2, outcome: 'UNAUTHENTICATED', clientId: 'anonymous', agency: 'anonymous', httpStatus: 401, errorCodes: ['UNAUTHENTICATED'], registries: [], fields: [], entities: {} }),
      ];
      const records = chainOf('rt', entries);
      await h.store.appendBatch('rt', null, records, []);
      expect(await h.store.head('rt')).toEqual({ seq: 2, hash: records[1]!.hash });
      expect(await all(h.store.chain('rt'))).toEqual(records);
      expect(await h.store.get('rt', 1)).toEqual(records[0]);
      expect(await h.store.get('rt', 3)).toBeNull();
      expect(await h.store.byRequestId(records[1]!.requestId)).toEqual(records[1]);
    });

    it('refuses a batch that does not extend the expected head, and keeps the store unchanged', async () => {
      const [r1] = chainOf('conflict', [sampleEntry()]);
      await h.store.appendBatch('conflict', null, [r1!], []);
      const stale = chainOf('conflict', [sampleEntry()]);
      await expect(h.store.appendBatch('conflict', null, stale, [])).rejects.toBeInstanceOf(ChainConflictError);
      expect((await all(h.store.chain('conflict'))).map((r) => r.seq)).toEqual([1]);
    });

    it('searches by every filter, newest first, and pages with a cursor without gaps or repeats', async () => {
      const id = 'search';
      const entries: AuditEntry[] = [];
      for (let i = 0; i < 25; i++) {
        entries.push(
          sampleEntry({
            ts: t0 + i * 1000,
            clientId: i % 2 ? 'hn-dvc' : 'hcm-dvc',
            agency: i % 2 ? 'UBND TP. Hà Nội' : 'UBND TP. Hồ Chí Minh',
            procedureId: i % 3 ? 'passport-issuance' : 'lodging-notification',
            outcome: i % 5 === 0 ? 'DENIED' : 'OK',
            registries: i % 4 === 0 ? ['land', 'population'] : ['population'],
            subjects: i % 6 === 0 ? [{ kind: 'personal', role: 'subject', hmac: hmacB }] : [{ kind: 'personal', role: 'subject', hmac: hmacA }],
          }),
        );
      }
      await h.store.appendBatch(id, null, chainOf(id, entries), []);
      const want = (pred: (e: AuditEntry, i: number) => boolean) =>
        entries.map((e, i) => ({ e, i })).filter(({ e, i }) => pred(e, i)).map(({ i }) => i + 1).sort((a, b) => b - a);
      const seqs = async (f: Parameters<AuditStore['search']>[0]) => (await h.store.search({ instanceId: id, ...f }, { limit: 100 })).items.map((r) => r.seq);

      expect(await seqs({})).toEqual(want(() => true));
      expect(await seqs({ clientId: 'hn-dvc' })).toEqual(want((e) => e.clientId === 'hn-dvc'));
      expect(await seqs({ agency: 'UBND TP. Hồ Chí Minh' })).toEqual(want((e) => e.agency === 'UBND TP. Hồ Chí Minh'));
      expect(await seqs({ procedureId: 'lodging-notification' })).toEqual(want((e) => e.procedureId === 'lodging-notification'));
      expect(await seqs({ outcomes: ['DENIED'] })).toEqual(want((e) => e.outcome === 'DENIED'));
      expect(await seqs({ registry: 'land' })).toEqual(want((e) => e.registries.includes('land')));
      expect(await seqs({ subjectHmac: hmacB })).toEqual(want((e) => e.subjects.some((s) => s.hmac === hmacB)));
      expect(await seqs({ from: t0 + 5000, to: t0 + 10_000 })).toEqual(want((e) => e.ts >= t0 + 5000 && e.ts < t0 + 10_000));
      expect(await seqs({ clientId: 'hn-dvc', registry: 'land', outcomes: ['OK', 'DENIED'] })).toEqual(
        want((e) => e.clientId === 'hn-dvc' && e.registries.includes('land')),
      );
      expect(await h.store.count({ instanceId: id, subjectHmac: hmacA })).toBe(want((e) => e.subjects.some((s) => s.hmac === hmacA)).length);

      const paged: number[] = [];
      let after = null;
      do {
        const page: Awaited<ReturnType<AuditStore['search']>> = await h.store.search({ instanceId: id }, { limit: 7, after });
        paged.push(...page.items.map((r) => r.seq));
        after = page.next;
      } while (after);
      expect(paged).toEqual(want(() => true));
    });

    it('keeps one chain per instance and lists the instances', async () => {
      await h.store.appendBatch('replica-a', null, chainOf('replica-a', [sampleEntry()]), []);
      await h.store.appendBatch('replica-b', null, chainOf('replica-b', [sampleEntry(), sampleEntry()]), []);
      expect((await h.store.head('replica-a'))?.seq).toBe(1);
      expect((await h.store.head('replica-b'))?.seq).toBe(2);
      expect(await h.store.instances()).toEqual(expect.arrayContaining(['replica-a', 'replica-b']));
    });

    it('registers public keys once', async () => {
      await h.store.registerKey({ keyId: signer.keyId, publicKeyPem: signer.publicKeyPem, createdAt: t0 });
      await h.store.registerKey({ keyId: signer.keyId, publicKeyPem: signer.publicKeyPem, createdAt: t0 + 1 });
      expect((await h.store.publicKeys()).filter((k) => k.keyId === signer.keyId)).toEqual([
        { keyId: signer.keyId, publicKeyPem: signer.publicKeyPem, createdAt: t0 },
      ]);
    });

    it('group-commits concurrent appends into few transactions, signs checkpoints, and continues the chain after a restart', async () => {
      const id = 'group';
      const commits: number[] = [];
      const log = new AuditLog({ store: h.store, instanceId: id, signer, checkpointEvery: 50, checkpointIntervalMs: 0, onCommit: (c) => commits.push(c.records) });
      await log.start();
      const records = await Promise.all(Array.from({ length: 200 }, (_, i) => log.append(sampleEntry({ ts: t0 + i }))));
      expect(records.map((r) => r.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
      expect(commits.reduce((a, b) => a + b, 0)).toBe(200);
      expect(commits.length).toBeLessThan(200);
      expect((await h.store.checkpoints(id)).map((c) => c.seq)).toEqual([50, 100, 150, 200]);
      await log.close();

      const store2 = await h.reopen();
      const log2 = new AuditLog({ store: store2, instanceId: id, signer, checkpointEvery: 50, checkpointIntervalMs: 0 });
      await log2.start();
      const next = await log2.append(sampleEntry());
      expect(next.seq).toBe(201);
      expect(next.prevHash).toBe(records.find((r) => r.seq === 200)!.hash);
      await log2.close();
      // close() signs what is not yet covered.
      expect((await store2.lastCheckpoint(id))?.seq).toBe(201);
      if (store2 !== h.store) await store2.close();
      const report = await verifyStore(h.store, { instanceIds: [id], publicKeyPems: [signer.publicKeyPem] });
      expect(report.ok).toBe(true);
      expect(report.chains[0]).toMatchObject({ records: 201, lastSeq: 201, checkpointsVerified: 5, unsignedTail: 0 });
    });

    it('signs a checkpoint on the timer when records arrived since the last one', async () => {
      const id = 'timer';
      const log = new AuditLog({ store: h.store, instanceId: id, signer, checkpointEvery: 1000, checkpointIntervalMs: 50 });
      await log.start();
      await log.append(sampleEntry());
      await log.append(sampleEntry());
      await expect.poll(async () => (await h.store.lastCheckpoint(id))?.seq, { timeout: 5000 }).toBe(2);
      await log.close();
    });

    describe('tampering with the database is detected, at the first bad record', () => {
      async function freshChain(id: string): Promise<AuditRecord[]> {
        const log = new AuditLog({ store: h.store, instanceId: id, signer, checkpointEvery: 4, checkpointIntervalMs: 0 });
        await log.start();
        const out: AuditRecord[] = [];
        for (let i = 0; i < 10; i++) out.push(await log.append(sampleEntry({ ts: t0 + i })));
        await log.close();
        return out;
      }
      const check = async (id: string) => (await verifyStore(h.store, { instanceIds: [id], publicKeyPems: [signer.publicKeyPem] })).chains[0]!;
      const q = (v: string) => `'${v.replace(/'/g, "''")}'`;

      it('an untouched chain verifies', async () => {
        await freshChain('t-ok');
        expect(await check('t-ok')).toMatchObject({ ok: true, records: 10, problem: null });
      });

      it('modification', async () => {
        await freshChain('t-mod');
        await h.store.exec(`UPDATE ${h.table('audit_records')} SET client_id = 'someone-else' WHERE instance_id = 't-mod' AND seq = 6`);
        expect((await check('t-mod')).problem).toMatchObject({ kind: 'modified', seq: 6 });
      });

      it('deletion', async () => {
        await freshChain('t-del');
        await h.store.exec(`DELETE FROM ${h.table('audit_records')} WHERE instance_id = 't-del' AND seq = 3`);
        expect((await check('t-del')).problem).toMatchObject({ kind: 'deleted', seq: 3 });
      });

      it('deletion of the newest records (covered by a checkpoint)', async () => {
        await freshChain('t-tail');
        await h.store.exec(`DELETE FROM ${h.table('audit_records')} WHERE instance_id = 't-tail' AND seq >= 7`);
        expect((await check('t-tail')).problem).toMatchObject({ kind: 'deleted', seq: 7 });
      });

      it('insertion (a forged record linked in, later records renumbered)', async () => {
        const recs = await freshChain('t-ins');
        const t = h.table('audit_records');
        await h.store.exec(`UPDATE ${t} SET seq = seq + 1000 WHERE instance_id = 't-ins' AND seq >= 5`);
        await h.store.exec(`UPDATE ${t} SET seq = seq - 999 WHERE instance_id = 't-ins' AND seq >= 1000`);
        const forged = chainRecord('t-ins', 5, recs[3]!.hash, sampleEntry({ clientId: 'forger' }));
        const row = recordToRow(forged);
        await h.store.exec(`INSERT INTO ${t} (${Object.keys(row).join(', ')}) VALUES (${Object.values(row).map((v) => (v === null ? 'NULL' : typeof v === 'number' ? String(v) : q(v))).join(', ')})`);
        expect((await check('t-ins')).problem).toMatchObject({ kind: 'inserted', seq: 5 });
      });

      it('reordering (two records swap places)', async () => {
        await freshChain('t-ord');
        const t = h.table('audit_records');
        await h.store.exec(`UPDATE ${t} SET seq = 1000 WHERE instance_id = 't-ord' AND seq = 5`);
        await h.store.exec(`UPDATE ${t} SET seq = 5 WHERE instance_id = 't-ord' AND seq = 6`);
        await h.store.exec(`UPDATE ${t} SET seq = 6 WHERE instance_id = 't-ord' AND seq = 1000`);
        expect((await check('t-ord')).problem).toMatchObject({ kind: 'reordered', seq: 5 });
      });

      it('a modification re-hashed to the end of the chain is caught by the signed checkpoint', async () => {
        const recs = await freshChain('t-rew');
        const t = h.table('audit_records');
        let prev = recs[1]!.hash;
        for (const r of recs.slice(2)) {
          const forged = chainRecord('t-rew', r.seq, prev, { ...r, clientId: r.seq === 3 ? 'someone-else' : r.clientId });
          prev = forged.hash;
          await h.store.exec(
            `UPDATE ${t} SET client_id = ${q(forged.clientId)}, prev_hash = ${q(forged.prevHash)}, hash = ${q(forged.hash)} WHERE instance_id = 't-rew' AND seq = ${r.seq}`,
          );
        }
        expect((await check('t-rew')).problem).toMatchObject({ kind: 'rewritten', seq: 1 });
      });

      it('a forged checkpoint signature', async () => {
        await freshChain('t-sig');
        await h.store.exec(`UPDATE ${h.table('audit_checkpoints')} SET signature = ${q(Buffer.alloc(64, 7).toString('base64'))} WHERE instance_id = 't-sig' AND seq = 8`);
        expect((await check('t-sig')).problem).toMatchObject({ kind: 'bad-signature', seq: 8 });
      });
    });

    describe('an insider with database access, against the witness (issue 11, observation 2)', () => {
      const q = (v: string) => `'${v.replace(/'/g, "''")}'`;
      /** 10 records about two citizens, checkpoints at 4 and 8, a signed head witnessed after every commit. */
      async function witnessed(id: string, opts: { close?: boolean } = {}) {
        const witness = new MemoryWitness();
        const log = new AuditLog({ store: h.store, instanceId: id, signer, checkpointEvery: 4, checkpointIntervalMs: 0, witness, witnessHeadIntervalMs: 0 });
        await log.start();
        const records: AuditRecord[] = [];
        for (let i = 0; i < 10; i++) {
          const subjects = [{ kind: 'personal' as const, role: 'subject' as const, hmac: hmacA }, ...(i === 5 ? [{ kind: 'personal' as const, role: 'related' as const, hmac: hmacB }] : [])];
          records.push(await log.append(sampleEntry({ ts: t0 + i, subjects })));
        }
        if (opts.close ?? true) await log.close();
        return { witness, log, records };
      }
      const check = async (id: string, witness?: MemoryWitness) => {
        const report = await verifyStore(h.store, { instanceIds: [id], publicKeyPems: [signer.publicKeyPem], ...(witness ? { witness: witness.all } : {}) });
        return report.chains.find((c) => c.instanceId === id)!;
      };
      /** Recomputes every hash of the chain with the published algorithm (record.ts), as the insider would. */
      async function recompute(id: string) {
        let prev = genesisHash(id);
        const t = h.table('audit_records');
        const recs: AuditRecord[] = [];
        for await (const r of h.store.chain(id)) recs.push(r);
        for (const r of recs) {
          const hash = chainHash(prev, contentHash(r));
          await h.store.exec(`UPDATE ${t} SET prev_hash = ${q(prev)}, hash = ${q(hash)} WHERE instance_id = ${q(id)} AND seq = ${r.seq}`);
          prev = hash;
        }
      }

      it('every record, checkpoint and signed head reaches the witness; an untouched chain matches it', async () => {
        const { witness } = await witnessed('w-ok');
        const own = witness.all.filter((c) => c.instanceId === 'w-ok');
        expect(own.filter((c) => !c.head).map((c) => c.seq)).toEqual([4, 8, 10]);
        expect(own.some((c) => c.head && c.seq === 9)).toBe(true);
        // The other chains of the shared store are witnessed too (cross-witnessing between replicas).
        expect(witness.all.some((c) => c.instanceId === 'group' && c.seq === 201)).toBe(true);
        expect(await check('w-ok', witness)).toMatchObject({ ok: true, records: 10, witnessedSeq: 10 });
      });

      it('delete every checkpoint, relabel one record (another client, DENIED), recompute the chain: fails against the witness', async () => {
        const { witness } = await witnessed('w-rew');
        await h.store.exec(`DELETE FROM ${h.table('audit_checkpoints')} WHERE instance_id = 'w-rew'`);
        await h.store.exec(`UPDATE ${h.table('audit_records')} SET client_id = 'another-client', outcome = 'DENIED' WHERE instance_id = 'w-rew' AND seq = 3`);
        await recompute('w-rew');
        // The observation: with the key pinned but no witness, nothing contradicts the rewritten chain.
        expect(await check('w-rew')).toMatchObject({ ok: true, checkpointsVerified: 0 });
        expect((await check('w-rew', witness)).problem).toMatchObject({ kind: 'rewritten' });
      });

      it('delete only the checkpoints: fails against the witness', async () => {
        const { witness } = await witnessed('w-cp');
        await h.store.exec(`DELETE FROM ${h.table('audit_checkpoints')} WHERE instance_id = 'w-cp'`);
        expect((await check('w-cp', witness)).problem).toMatchObject({ kind: 'deleted', seq: 4 });
      });

      it('cut the unsigned tail (records after the last stored checkpoint): fails against the witnessed head', async () => {
        const { witness, log } = await witnessed('w-tail', { close: false });
        await h.store.exec(`DELETE FROM ${h.table('audit_records')} WHERE instance_id = 'w-tail' AND seq > 8`);
        await h.store.exec(`DELETE FROM ${h.table('audit_subjects')} WHERE instance_id = 'w-tail' AND seq > 8`);
        expect(await check('w-tail')).toMatchObject({ ok: true, lastSeq: 8 });
        expect((await check('w-tail', witness)).problem).toMatchObject({ kind: 'deleted', seq: 9 });
        // The running log notices its chain went back and refuses to continue it (no silent restart).
        await expect(log.append(sampleEntry())).rejects.toBeInstanceOf(AuditUnavailableError);
        expect(await log.probe()).toMatch(/went back from seq 10 to seq 8/);
        await expect(log.append(sampleEntry())).rejects.toBeInstanceOf(AuditUnavailableError);
        await log.close();
        expect(await h.store.head('w-tail')).toMatchObject({ seq: 8 });
      });

      it('delete the whole chain: fails against the witness, and a restart on that store refuses to start a new chain silently', async () => {
        const { witness } = await witnessed('w-all');
        for (const t of ['audit_records', 'audit_checkpoints', 'audit_subjects'] as const) await h.store.exec(`DELETE FROM ${h.table(t)} WHERE instance_id = 'w-all'`);
        expect((await check('w-all', witness)).problem).toMatchObject({ kind: 'deleted', seq: 1 });
        const all = await verifyStore(h.store, { publicKeyPems: [signer.publicKeyPem], witness: witness.all });
        expect(all.chains.find((c) => c.instanceId === 'w-all')?.problem?.message).toContain('whole chain "w-all" is missing');
        const restarted = new AuditLog({ store: h.store, instanceId: 'w-all', signer, checkpointIntervalMs: 0, witness });
        await expect(restarted.start()).rejects.toBeInstanceOf(AuditChainLostError);
      });

      it("delete a citizen's subject rows: the citizen history loses the access, and verify reports it (no witness needed)", async () => {
        const { records } = await witnessed('w-subj');
        expect((await h.store.search({ subjectHmac: hmacB, instanceId: 'w-subj' }, { limit: 10 })).items.map((r) => r.seq)).toEqual([6]);
        await h.store.exec(`DELETE FROM ${h.table('audit_subjects')} WHERE instance_id = 'w-subj' AND hmac = ${q(hmacB)}`);
        expect((await h.store.search({ subjectHmac: hmacB, instanceId: 'w-subj' }, { limit: 10 })).items).toEqual([]);
        expect((await check('w-subj')).problem).toMatchObject({ kind: 'deleted', seq: records[5]!.seq });
        await h.store.exec(`INSERT INTO ${h.table('audit_subjects')} (hmac, instance_id, seq) VALUES (${q(hmacB)}, 'w-subj', 6)`);
        expect(await check('w-subj')).toMatchObject({ ok: true });
        // An index row the record does not name (an access invented in someone's history) is reported too.
        await h.store.exec(`INSERT INTO ${h.table('audit_subjects')} (hmac, instance_id, seq) VALUES (${q(hmacB)}, 'w-subj', 3)`);
        expect((await check('w-subj')).problem).toMatchObject({ kind: 'inserted', seq: 3 });
      });

      it("replicas sharing the store witness each other's chains: one replica's rewritten chain fails against the other's witness", async () => {
        const witnessA = new MemoryWitness();
        const witnessB = new MemoryWitness();
        const a = new AuditLog({ store: h.store, instanceId: 'x-a', signer, checkpointEvery: 3, checkpointIntervalMs: 0, witness: witnessA });
        const b = new AuditLog({ store: h.store, instanceId: 'x-b', signer, checkpointEvery: 3, checkpointIntervalMs: 0, witness: witnessB });
        await a.start();
        await b.start();
        for (let i = 0; i < 6; i++) await a.append(sampleEntry({ ts: t0 + i }));
        for (let i = 0; i < 3; i++) await b.append(sampleEntry({ ts: t0 + i }));
        await a.close();
        await b.close();
        expect(witnessB.all.some((c) => c.instanceId === 'x-a' && c.seq === 6)).toBe(true);
        // The insider rewrites A's chain and A's own witness is lost with A's host.
        await h.store.exec(`DELETE FROM ${h.table('audit_checkpoints')} WHERE instance_id = 'x-a'`);
        await h.store.exec(`UPDATE ${h.table('audit_records')} SET outcome = 'DENIED' WHERE instance_id = 'x-a' AND seq = 2`);
        await recompute('x-a');
        expect((await check('x-a', witnessB)).problem).toMatchObject({ kind: 'rewritten' });
      });

      it('a restart over a store the witness knows further (truncated or rewritten) refuses to continue the chain', async () => {
        const { witness } = await witnessed('w-restart');
        await h.store.exec(`DELETE FROM ${h.table('audit_records')} WHERE instance_id = 'w-restart' AND seq > 6`);
        const log = new AuditLog({ store: h.store, instanceId: 'w-restart', signer, checkpointIntervalMs: 0, witness });
        await expect(log.start()).rejects.toThrow(/ends at seq 6.*refuses to continue or restart this chain silently/s);
      });
    });

    it('prunes up to a checkpoint and keeps it as the anchor the remaining chain verifies from', async () => {
      const id = 'prune';
      const log = new AuditLog({ store: h.store, instanceId: id, signer, checkpointEvery: 5, checkpointIntervalMs: 0 });
      await log.start();
      for (let i = 0; i < 12; i++) await log.append(sampleEntry({ ts: t0 + i }));
      await log.close();
      const cp = (await h.store.checkpoints(id)).find((c) => c.seq === 5)!;
      expect(await h.store.prune(id, cp)).toBe(5);
      expect(await h.store.anchor(id)).toEqual(cp);
      expect((await all(h.store.chain(id))).map((r) => r.seq)).toEqual([6, 7, 8, 9, 10, 11, 12]);
      const report = await verifyStore(h.store, { instanceIds: [id], publicKeyPems: [signer.publicKeyPem] });
      expect(report.chains[0]).toMatchObject({ ok: true, anchoredAt: 5, firstSeq: 6, lastSeq: 12 });
    });
  });
}
