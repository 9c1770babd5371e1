/**
 * Retention: move records older than N days to an archive file (JSON Lines) and
 * prune them from the store, without breaking verification.
 *
 * The cut is always made at a signed checkpoint C (the newest one whose record is
 * older than the cutoff). The archive holds the records up to C with their
 * checkpoints, so it verifies on its own; the store keeps C as the *anchor* its
 * remaining chain starts after, so it verifies too, and the archive's last hash
 * is exactly the anchor's hash: the two link. The archive is written, fsynced
 * and verified before anything is deleted.
 */
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { EXPORT_FORMAT, toJsonLine, type ExportLine } from './export-format.js';
import type { Checkpoint } from './record.js';
import type { AuditStore } from './store.js';
import { verifyExportFile, verifyStore } from './sources.js';
import type { VerifyReport } from './verify.js';

export interface ArchiveOptions {
  olderThanDays: number;
  /** Archive file to write (JSON Lines). Must not exist. */
  out: string;
  /** Public keys the archive is verified with before pruning. Default: the store's keys. */
  publicKeyPems?: string[];
  /** Only write the file, delete nothing. Default: false. */
  dryRun?: boolean;
  now?: number;
}

export interface ArchiveResult {
  file: string | null;
  /** Per chain: the checkpoint the cut was made at and how many records were archived. */
  chains: Array<{ instanceId: string; cutAtSeq: number; archivedHash: string; records: number }>;
  archiveReport: VerifyReport | null;
  storeReport: VerifyReport | null;
}

/** Newest checkpoint whose record is older than the cutoff, and newer than the current anchor. */
async function cutPoint(store: AuditStore, instanceId: string, cutoff: number): Promise<Checkpoint | null> {
  const anchorSeq = (await store.anchor(instanceId))?.seq ?? 0;
  const cps = await store.checkpoints(instanceId, { fromSeq: anchorSeq + 1 });
  for (let i = cps.length - 1; i >= 0; i--) {
    const r = await store.get(instanceId, cps[i]!.seq);
    if (r && r.ts < cutoff) return cps[i]!;
  }
  return null;
}

export async function archiveOlderThan(store: AuditStore, opts: ArchiveOptions): Promise<ArchiveResult> {
  if (!(opts.olderThanDays >= 0)) throw new Error('--older-than-days must be a number of days >= 0.');
  const now = opts.now ?? Date.now();
  const cutoff = now - opts.olderThanDays * 86_400_000;
  const plan: Array<{ instanceId: string; cut: Checkpoint; anchor: Checkpoint | null }> = [];
  for (const id of await store.instances()) {
    const cut = await cutPoint(store, id, cutoff);
    if (cut) plan.push({ instanceId: id, cut, anchor: await store.anchor(id) });
  }
  const result: ArchiveResult = { file: null, chains: [], archiveReport: null, storeReport: null };
  if (plan.length === 0) return result;

  const tmp = `${opts.out}.partial`;
  const fd = openSync(tmp, 'wx');
  let buf = '';
  const write = (line: ExportLine) => {
    buf += toJsonLine(line);
    if (buf.length > 1 << 20) {
      writeSync(fd, buf);
      buf = '';
    }
  };
  try {
    const keys = await store.publicKeys();
    write({
      type: 'header',
      format: EXPORT_FORMAT,
      exportedAt: now,
      filter: { archivedBefore: cutoff },
      keys: keys.map((k) => ({ keyId: k.keyId, publicKeyPem: k.publicKeyPem })),
    });
    for (const p of plan) {
      if (p.anchor) write({ type: 'anchor', ...p.anchor });
      const fromSeq = (p.anchor?.seq ?? 0) + 1;
      const cps = new Map((await store.checkpoints(p.instanceId, { fromSeq, toSeq: p.cut.seq })).map((c) => [c.seq, c]));
      let n = 0;
      for await (const r of store.chain(p.instanceId, { fromSeq, toSeq: p.cut.seq })) {
        write({ type: 'record', ...r });
        n++;
        const cp = cps.get(r.seq);
        if (cp) write({ type: 'checkpoint', ...cp });
      }
      result.chains.push({ instanceId: p.instanceId, cutAtSeq: p.cut.seq, archivedHash: p.cut.hash, records: n });
    }
    if (buf) writeSync(fd, buf);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw err;
  }
  closeSync(fd);

  // Never delete evidence that does not verify.
  result.archiveReport = await verifyExportFile(tmp, { publicKeyPems: opts.publicKeyPems ?? (await store.publicKeys()).map((k) => k.publicKeyPem) });
  const incomplete = result.chains.find((c) => {
    const rep = result.archiveReport!.chains.find((x) => x.instanceId === c.instanceId);
    return !rep || rep.lastSeq !== c.cutAtSeq || rep.headHash !== c.archivedHash;
  });
  if (!result.archiveReport.ok || incomplete) {
    rmSync(tmp, { force: true });
    const first = result.archiveReport.chains.find((c) => !c.ok)?.problem;
    throw new Error(
      `Archive aborted, nothing deleted: the records to archive do not verify (${first ? `${first.instanceId} seq ${first.seq}: ${first.message}` : `chain ${incomplete?.instanceId} is incomplete`}). ` +
        'Investigate with `motlan audit verify` before archiving.',
    );
  }
  renameSync(tmp, opts.out);
  result.file = opts.out;
  if (opts.dryRun) return result;
  for (const p of plan) await store.prune(p.instanceId, p.cut);
  result.storeReport = await verifyStore(store, opts.publicKeyPems?.length ? { publicKeyPems: opts.publicKeyPems } : {});
  return result;
}
