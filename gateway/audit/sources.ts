/**
 * What the verifier reads: the chains of a store, or of an exported file, and
 * the public keys to check their checkpoints with.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { KeyObject } from 'node:crypto';
import { parseExport } from './export-format.js';
import { keyIdOf, publicKeyFromPem } from './keys.js';
import { isEmptyFilter } from './export.js';
import { subjectHmacs, type AuditFilter, type AuditStore, type PublicKeyEntry } from './store.js';
import { verifyChains, type ChainReport, type ChainSource, type ProblemKind, type TrustedKeys, type VerifyReport } from './verify.js';
import type { WitnessedCheckpoint } from './witness.js';

/** Trusted keys: the pinned ones when given, else those stored with the data. */
export function trustFrom(pinnedPems: string[], embedded: PublicKeyEntry[]): TrustedKeys {
  const keys = new Map<string, KeyObject>();
  if (pinnedPems.length > 0) {
    pinnedPems.forEach((pem, i) => {
      const k = publicKeyFromPem(pem, `public key #${i + 1}`);
      keys.set(keyIdOf(k), k);
    });
    return { keys, pinned: true };
  }
  for (const e of embedded) {
    const k = publicKeyFromPem(e.publicKeyPem, `stored key ${e.keyId}`);
    // Never trust a stored key under an id it does not hash to.
    if (keyIdOf(k) === e.keyId) keys.set(e.keyId, k);
  }
  return { keys, pinned: false };
}

export async function storeSources(store: AuditStore, instanceIds?: string[]): Promise<ChainSource[]> {
  const ids = instanceIds ?? (await store.instances());
  const out: ChainSource[] = [];
  for (const instanceId of ids) {
    const items = store.chain(instanceId);
    out.push({
      instanceId,
      anchor: await store.anchor(instanceId),
      checkpoints: await store.checkpoints(instanceId),
      items: (async function* () {
        for await (const record of items) yield { type: 'record' as const, record };
      })(),
    });
  }
  return out;
}

/** Records whose index rows disagree with them, checked in pages of this many records. */
const INDEX_PAGE = 2000;

/**
 * Holds the subject index (what the citizen history searches) against the hashed
 * `subjects` of every record of a chain that verified: a deleted row hides an access
 * from a citizen's history, an added one invents it. Marks the chain report failed.
 */
export async function verifySubjectIndex(store: AuditStore, report: ChainReport): Promise<void> {
  if (!report.ok || report.lastSeq === null) return;
  const instanceId = report.instanceId;
  let page = new Map<number, Set<string>>();
  const check = async (): Promise<boolean> => {
    if (page.size === 0) return true;
    const seqs = [...page.keys()];
    const rows = await store.subjectIndex(instanceId, { fromSeq: Math.min(...seqs), toSeq: Math.max(...seqs) });
    const found = new Map<number, Set<string>>();
    for (const r of rows) found.set(r.seq, (found.get(r.seq) ?? new Set()).add(r.hmac));
    for (const [seq, want] of page) {
      const have = found.get(seq) ?? new Set<string>();
      const missing = [...want].filter((h) => !have.has(h)).length;
      const extra = [...have].filter((h) => !want.has(h)).length;
      if (missing > 0 || extra > 0) {
        report.ok = false;
        report.problem = {
          kind: missing > 0 ? 'deleted' : 'inserted',
          instanceId,
          seq,
          message:
            missing > 0
              ? `record ${seq} names ${want.size} subject(s) but the subject index (citizen history) lacks ${missing} of them: index rows were deleted`
              : `the subject index (citizen history) holds ${extra} subject(s) for record ${seq} that the record does not name: index rows were added`,
        };
        return false;
      }
    }
    page = new Map();
    return true;
  };
  for await (const r of store.chain(instanceId)) {
    page.set(r.seq, new Set(subjectHmacs(r)));
    if (page.size >= INDEX_PAGE && !(await check())) return;
  }
  await check();
}

export async function verifyStore(
  store: AuditStore,
  opts: { publicKeyPems?: string[]; instanceIds?: string[]; witness?: WitnessedCheckpoint[] } = {},
): Promise<VerifyReport> {
  const trust = trustFrom(opts.publicKeyPems ?? [], await store.publicKeys());
  const witness = opts.witness
    ? { checkpoints: opts.instanceIds ? opts.witness.filter((w) => opts.instanceIds!.includes(w.instanceId)) : opts.witness }
    : undefined;
  const report = await verifyChains(await storeSources(store, opts.instanceIds), trust, witness);
  for (const c of report.chains) await verifySubjectIndex(store, c);
  report.ok = report.chains.every((c) => c.ok);
  return report;
}

export async function verifyExportLines(
  lines: AsyncIterable<string> | Iterable<string>,
  opts: { publicKeyPems?: string[]; witness?: WitnessedCheckpoint[] } = {},
): Promise<VerifyReport> {
  const parsed = await parseExport(lines);
  const trust = trustFrom(opts.publicKeyPems ?? [], parsed.keys);
  // A filtered export covers a stretch of each chain: a witness beyond it proves nothing.
  const complete = !parsed.filter || isEmptyFilter(parsed.filter as AuditFilter);
  const sources: ChainSource[] = [...parsed.chains].map(([instanceId, c]) => ({ instanceId, ...c, complete }));
  const report = await verifyChains(sources, trust, opts.witness ? { checkpoints: opts.witness, missingChainsAreDeleted: complete } : undefined);
  if (parsed.malformed) {
    failFile(report, 'malformed', parsed.malformed.message, parsed.malformed.line);
  }
  // A proof (`motlan audit prove`) names its record in the header: the record must be there in
  // full, not only as a redacted line with the same hashes (which still links the chain).
  const wanted = (parsed.filter as { requestId?: unknown } | null | undefined)?.requestId;
  if (typeof wanted === 'string' && ![...parsed.chains.values()].some((c) => c.items.some((i) => i.type === 'record' && i.record.requestId === wanted))) {
    failFile(report, 'deleted', `the file names request id ${wanted} (filter) but holds no record with it in full: it proves nothing about that record`);
  }
  if (sources.length === 0 && !parsed.malformed) {
    report.warnings.push('The file holds no audit records.');
    report.notices.push({ code: 'EMPTY_FILE' });
  }
  return report;
}

/** Marks the report failed with a problem of the file as a whole (not of one chain), listed first. */
function failFile(report: VerifyReport, kind: ProblemKind, message: string, line?: number): void {
  report.ok = false;
  report.chains.unshift({
    instanceId: '(file)',
    ok: false,
    records: 0,
    firstSeq: null,
    lastSeq: null,
    headHash: null,
    anchoredAt: null,
    checkpointsVerified: 0,
    lastCheckpointSeq: null,
    unsignedTail: 0,
    problem: { kind, instanceId: '(file)', seq: null, ...(line === undefined ? {} : { line }), message },
  });
}

export async function verifyExportFile(file: string, opts: { publicKeyPems?: string[]; witness?: WitnessedCheckpoint[] } = {}): Promise<VerifyReport> {
  const rl = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
  return verifyExportLines(rl, opts);
}
