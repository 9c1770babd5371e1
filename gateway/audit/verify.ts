/**
 * Offline verification of audit chains (used by `motlan audit verify`, the
 * auditor API and the archive command).
 *
 * For each instance chain it walks the records in the order they were stored,
 * recomputes every hash, checks the links, the sequence numbers and every signed
 * checkpoint, and stops at the FIRST bad record, naming the kind of tampering:
 *
 * - `modified`   a record's content no longer matches its hash (or its successor's link);
 * - `deleted`    a sequence number is missing (or a checkpoint covers records that are gone);
 * - `inserted`   a record that is not part of the chain (duplicate seq, or links skipping it);
 * - `reordered`  a record appears after one that follows it;
 * - `rewritten`  hashes are internally consistent but disagree with a signed checkpoint
 *                (the chain was recomputed after tampering: the range is reported);
 * - `bad-signature` / `unknown-key`  a checkpoint is not signed by a trusted key;
 * - `malformed`  an input line could not be read.
 *
 * Witnessed checkpoints (witness.ts: kept outside the store, by the gateway's witness
 * file, another replica or an auditor's pinned copy) are held against the chain too:
 * the chain must still reach each one's seq with its hash (else `deleted`: truncated,
 * or `rewritten`), hold each stored checkpoint among them (else `deleted`), and a chain
 * the witness knows but the source lacks entirely is reported `deleted` as a whole.
 */
import { verify as edVerify, type KeyObject } from 'node:crypto';
import { chainHash, checkpointMessage, contentHash, genesisHash, type AuditRecord, type Checkpoint } from './record.js';
import { latestByChain, type WitnessedCheckpoint } from './witness.js';

export type ProblemKind = 'modified' | 'deleted' | 'inserted' | 'reordered' | 'rewritten' | 'bad-signature' | 'unknown-key' | 'malformed';

export interface Problem {
  kind: ProblemKind;
  instanceId: string;
  /** The first bad sequence number (null when none applies). */
  seq: number | null;
  /** Line (1-based) in an exported file, when the input was a file. */
  line?: number;
  message: string;
}

/** A chain position: a full record, or a redacted one (outside an export's filter) that keeps only its hashes. */
export type ChainItem =
  | { type: 'record'; record: AuditRecord; line?: number }
  | { type: 'redacted'; instanceId: string; seq: number; contentHash: string; prevHash: string; hash: string; line?: number };

export interface ChainSource {
  instanceId: string;
  /** Signed checkpoint the chain starts after (archived records before it); null: the chain starts at seq 1. */
  anchor: Checkpoint | null;
  items: AsyncIterable<ChainItem> | Iterable<ChainItem>;
  checkpoints: Checkpoint[];
  /** Checkpoints of this chain held outside the source (witness file, pinned copies). Default: none. */
  witnessed?: WitnessedCheckpoint[];
  /**
   * The source holds the chain from its anchor to its current end (a store, a whole export),
   * so a witnessed seq beyond its end means records were cut. False for a filtered export,
   * which covers a stretch. Default: true.
   */
  complete?: boolean;
}

export interface TrustedKeys {
  keys: Map<string, KeyObject>;
  /** True when the keys came from the verifier's own configuration, not from the data being verified. */
  pinned: boolean;
}

export interface ChainReport {
  instanceId: string;
  ok: boolean;
  /** Chain positions read (records and redacted ones). */
  records: number;
  firstSeq: number | null;
  lastSeq: number | null;
  headHash: string | null;
  /** Seq the chain starts after (archived records), or null. */
  anchoredAt: number | null;
  checkpointsVerified: number;
  lastCheckpointSeq: number | null;
  /** Records after the last signed checkpoint: chained, but not yet covered by a signature. */
  unsignedTail: number;
  /** Witnessed checkpoints the chain was checked against (0: no witness for it). */
  witnessVerified?: number;
  /** Highest witnessed seq the chain was checked against, or null. */
  witnessedSeq?: number | null;
  problem: Problem | null;
}

/**
 * A warning in structured form, one per entry of `warnings`, for readers that show it in their own
 * words (the console translates these; the CLI prints `warnings`).
 */
export type VerifyNotice =
  | { code: 'NO_WITNESS' }
  | { code: 'EMPTY_WITNESS' }
  | { code: 'KEYS_NOT_PINNED' }
  | { code: 'UNSIGNED_TAIL'; instanceId: string; count: number; afterSeq: number }
  | { code: 'CHAIN_NOT_WITNESSED'; instanceId: string }
  | { code: 'ARCHIVED'; instanceId: string; upToSeq: number }
  | { code: 'EMPTY_FILE' };

export interface VerifyReport {
  ok: boolean;
  chains: ChainReport[];
  warnings: string[];
  /** The same warnings, structured (same order). */
  notices: VerifyNotice[];
}

function seqOf(i: ChainItem): number {
  return i.type === 'record' ? i.record.seq : i.seq;
}
function prevOf(i: ChainItem): string {
  return i.type === 'record' ? i.record.prevHash : i.prevHash;
}
function hashOf(i: ChainItem): string {
  return i.type === 'record' ? i.record.hash : i.hash;
}

export function checkpointSignatureProblem(cp: Checkpoint, trust: TrustedKeys): { kind: ProblemKind; message: string } | null {
  const key = trust.keys.get(cp.keyId);
  if (!key) {
    return {
      kind: 'unknown-key',
      message: `checkpoint at seq ${cp.seq} is signed by key ${cp.keyId}, which is not ${trust.pinned ? 'among the trusted public keys given' : 'known'}`,
    };
  }
  let ok = false;
  try {
    const { signature, ...unsigned } = cp;
    ok = edVerify(null, checkpointMessage(unsigned), key, Buffer.from(signature, 'base64'));
  } catch {
    ok = false;
  }
  return ok ? null : { kind: 'bad-signature', message: `checkpoint at seq ${cp.seq} has an invalid signature for key ${cp.keyId}` };
}

/** Remembers recent hashes → seq, to tell an insertion from a modification when a link breaks. */
const RECENT_HASHES = 100_000;

export async function verifyChain(source: ChainSource, trust: TrustedKeys): Promise<ChainReport> {
  const { instanceId, anchor } = source;
  const report: ChainReport = {
    instanceId,
    ok: true,
    records: 0,
    firstSeq: null,
    lastSeq: null,
    headHash: null,
    anchoredAt: anchor?.seq ?? null,
    checkpointsVerified: 0,
    lastCheckpointSeq: anchor?.seq ?? null,
    unsignedTail: 0,
    problem: null,
  };
  const fail = (kind: ProblemKind, seq: number | null, message: string, line?: number): ChainReport => {
    report.ok = false;
    report.problem = { kind, instanceId, seq, message, ...(line !== undefined ? { line } : {}) };
    return report;
  };

  if (anchor) {
    const p = checkpointSignatureProblem(anchor, trust);
    if (p) return fail(p.kind, anchor.seq, `the anchor of the chain (records up to seq ${anchor.seq} archived): ${p.message}`);
  }

  const witnessAt = new Map<number, WitnessedCheckpoint[]>();
  const witnessed = (source.witnessed ?? []).filter((w) => w.instanceId === instanceId).sort((a, b) => a.seq - b.seq);
  report.witnessVerified = 0;
  report.witnessedSeq = null;
  for (const w of witnessed) {
    const p = checkpointSignatureProblem(w, trust);
    if (p) return fail(p.kind, w.seq, `witnessed ${w.head ? 'head' : 'checkpoint'}: ${p.message}`);
    if (anchor && w.seq < anchor.seq) continue; // archived: the archive file is verified on its own
    if (anchor && w.seq === anchor.seq) {
      if (w.hash !== anchor.hash) return fail('rewritten', w.seq, `the witnessed checkpoint at seq ${w.seq} does not match the anchor of the chain: the chain was rewritten`);
      report.witnessVerified++;
      report.witnessedSeq = w.seq;
      continue;
    }
    witnessAt.set(w.seq, [...(witnessAt.get(w.seq) ?? []), w]);
  }
  let lastWitnessed = anchor?.seq ?? 0;

  const cps = new Map<number, Checkpoint[]>();
  for (const cp of source.checkpoints) {
    if (cp.instanceId !== instanceId) continue;
    const list = cps.get(cp.seq) ?? [];
    list.push(cp);
    cps.set(cp.seq, list);
  }

  let expected = (anchor?.seq ?? 0) + 1;
  let prevHash = anchor?.hash ?? genesisHash(instanceId);
  let lastGoodCheckpoint = anchor?.seq ?? 0;
  const recent = new Map<string, number>();
  /**
   * Some problems are classified by what comes later: a missing seq that shows up
   * later was reordered, not deleted; a record whose predecessor shows up later
   * was reordered, not modified. Once set, the rest is only scanned for that.
   */
  let pending:
    | { kind: 'gap'; missing: number; foundSeq: number; line?: number }
    | { kind: 'link'; seq: number; wantedHash: string; selfConsistent: boolean; line?: number }
    | null = null;

  for await (const item of source.items) {
    const seq = seqOf(item);
    if (pending) {
      if (pending.kind === 'gap' && seq === pending.missing) {
        return fail('reordered', pending.missing, `record ${pending.missing} is out of order: it appears after record ${pending.foundSeq}`, item.line);
      }
      if (pending.kind === 'link' && hashOf(item) === pending.wantedHash) {
        return fail('reordered', pending.seq, `record ${pending.seq} is out of order: the record it follows appears later (as seq ${seq})`, pending.line);
      }
      continue;
    }
    report.records++;
    report.firstSeq ??= seq;
    const line = item.line !== undefined ? { line: item.line } : {};
    if (seq !== expected) {
      if (seq < expected) {
        return fail('inserted', seq, `record ${seq} appears a second time after record ${expected - 1}: it is not part of the chain`, item.line);
      }
      pending = { kind: 'gap', missing: expected, foundSeq: seq, ...line };
      continue;
    }
    if (item.type === 'record' && item.record.instanceId !== instanceId) {
      return fail('inserted', seq, `record ${seq} belongs to chain "${item.record.instanceId}", not "${instanceId}"`, item.line);
    }
    const ch = item.type === 'record' ? contentHash(item.record) : item.contentHash;
    if (prevOf(item) !== prevHash) {
      const linkedTo = recent.get(prevOf(item));
      if (linkedTo !== undefined && linkedTo < seq - 1) {
        return fail(
          'inserted',
          linkedTo + 1,
          `records ${linkedTo + 1}..${seq - 1} are not part of the chain: record ${seq} links to record ${linkedTo}`,
          item.line,
        );
      }
      pending = { kind: 'link', seq, wantedHash: prevOf(item), selfConsistent: chainHash(prevOf(item), ch) === hashOf(item), ...line };
      continue;
    }
    const h = chainHash(prevHash, ch);
    if (h !== hashOf(item)) return fail('modified', seq, `record ${seq} was altered: its content does not match its hash`, item.line);

    for (const cp of cps.get(seq) ?? []) {
      const p = checkpointSignatureProblem(cp, trust);
      if (p) return fail(p.kind, seq, p.message, item.line);
      if (cp.hash !== h) {
        return fail(
          'rewritten',
          lastGoodCheckpoint + 1,
          `the signed checkpoint at seq ${seq} does not match the chain: records ${lastGoodCheckpoint + 1}..${seq} were altered and re-hashed`,
          item.line,
        );
      }
      report.checkpointsVerified++;
      lastGoodCheckpoint = seq;
      report.lastCheckpointSeq = seq;
    }
    for (const w of witnessAt.get(seq) ?? []) {
      if (w.hash !== h) {
        return fail(
          'rewritten',
          lastWitnessed + 1,
          `the witnessed ${w.head ? 'head' : 'checkpoint'} at seq ${seq} (signed ${new Date(w.ts).toISOString()}) does not match the chain: ` +
            `records ${lastWitnessed + 1}..${seq} were altered and the chain recomputed`,
          item.line,
        );
      }
      if (!w.head && !(cps.get(seq) ?? []).some((c) => c.hash === w.hash && c.signature === w.signature)) {
        return fail('deleted', seq, `the signed checkpoint at seq ${seq} (held by the witness) is missing from the source: checkpoints were deleted`, item.line);
      }
      report.witnessVerified++;
      report.witnessedSeq = seq;
      lastWitnessed = seq;
    }

    if (recent.size >= RECENT_HASHES) recent.delete(recent.keys().next().value as string);
    recent.set(h, seq);
    prevHash = h;
    report.lastSeq = seq;
    report.headHash = h;
    expected++;
  }

  if (pending?.kind === 'gap') {
    const { missing, foundSeq } = pending;
    return fail(
      'deleted',
      missing,
      missing === foundSeq - 1 ? `record ${missing} is missing (deleted)` : `records ${missing}..${foundSeq - 1} are missing (deleted)`,
      pending.line,
    );
  }
  if (pending?.kind === 'link') {
    const { seq } = pending;
    if (!pending.selfConsistent) return fail('modified', seq, `record ${seq} was altered: its content does not match its hash`, pending.line);
    if (seq === (anchor?.seq ?? 0) + 1) {
      return fail('modified', seq, `record ${seq} does not link to the ${anchor ? `anchor at seq ${anchor.seq}` : 'start of the chain'}`, pending.line);
    }
    return fail(
      'modified',
      seq - 1,
      `the chain breaks between records ${seq - 1} and ${seq}: record ${seq - 1} was altered (or records after it were removed and the rest renumbered)`,
      pending.line,
    );
  }
  // A checkpoint beyond the end proves records existed that are now gone.
  const beyond = source.checkpoints.filter((c) => c.instanceId === instanceId && c.seq >= expected).sort((a, b) => a.seq - b.seq)[0];
  if (beyond && checkpointSignatureProblem(beyond, trust) === null) {
    return fail('deleted', expected, `records ${expected}..${beyond.seq} are missing: a signed checkpoint covers seq ${beyond.seq} but the chain ends at ${expected - 1}`);
  }
  // A witnessed seq beyond the end: the chain was truncated (its tail, or all of it).
  const cut = (source.complete ?? true) ? witnessed.find((w) => w.seq >= expected) : undefined;
  if (cut) {
    return fail(
      'deleted',
      expected,
      `records ${expected}..${cut.seq} are missing: the witness holds a signed ${cut.head ? 'head' : 'checkpoint'} of seq ${cut.seq} (${new Date(cut.ts).toISOString()}) but the chain ends at ${expected - 1}`,
    );
  }
  report.unsignedTail = report.lastSeq === null ? 0 : report.lastSeq - Math.max(lastGoodCheckpoint, lastWitnessed);
  return report;
}

export interface WitnessOptions {
  /** Checkpoints held outside the source; each is matched to its chain. */
  checkpoints: WitnessedCheckpoint[];
  /** Report a witnessed chain the sources lack entirely (a store; not a filtered export). Default: true. */
  missingChainsAreDeleted?: boolean;
}

export async function verifyChains(sources: ChainSource[], trust: TrustedKeys, witness?: WitnessOptions): Promise<VerifyReport> {
  const chains: ChainReport[] = [];
  for (const s of sources) chains.push(await verifyChain(witness ? { ...s, witnessed: witness.checkpoints } : s, trust));
  if (witness && (witness.missingChainsAreDeleted ?? true)) {
    // A chain the witness knows but the source lacks entirely: every record (and checkpoint) was deleted.
    const present = new Set(sources.map((s) => s.instanceId));
    const gone = latestByChain(witness.checkpoints.filter((w) => !present.has(w.instanceId)));
    for (const [instanceId, w] of gone) {
      const r = await verifyChain({ instanceId, anchor: null, items: [], checkpoints: [], witnessed: [w] }, trust);
      if (r.ok) continue;
      if (r.problem?.kind === 'deleted') r.problem.message = `the whole chain "${instanceId}" is missing from the source: ${r.problem.message}`;
      chains.push(r);
    }
  }
  const warnings: string[] = [];
  const notices: VerifyNotice[] = [];
  const warn = (notice: VerifyNotice, text: string) => {
    notices.push(notice);
    warnings.push(text);
  };
  if (!witness) {
    warn(
      { code: 'NO_WITNESS' },
      'No witness given: whoever administers the store could delete checkpoints and recompute the chain unnoticed. Pass --witness <witness file | saved /audit/v1/checkpoints/latest | its URL>.',
    );
  } else if (witness.checkpoints.length === 0) {
    warn({ code: 'EMPTY_WITNESS' }, 'The witness holds no checkpoint: nothing was checked against it.');
  }
  if (!trust.pinned) {
    warn(
      { code: 'KEYS_NOT_PINNED' },
      'Signatures were checked against the public keys stored with the data; pass --public-key <pem> (the key you keep apart) to rule out a re-signed forgery.',
    );
  }
  for (const c of chains) {
    if (c.ok && c.unsignedTail > 0) {
      warn({ code: 'UNSIGNED_TAIL', instanceId: c.instanceId, count: c.unsignedTail, afterSeq: c.lastCheckpointSeq ?? 0 }, `${c.instanceId}: the last ${c.unsignedTail} record(s) after seq ${c.lastCheckpointSeq ?? 0} are chained but not yet covered by a signed checkpoint.`);
    }
    // A witness was given but vouches for nothing of this chain (lines dropped, or a chain it
    // never saw): say so, or "intact" would read as if the witness had been checked.
    if (c.ok && witness && witness.checkpoints.length > 0 && !c.witnessVerified && c.records > 0) {
      warn({ code: 'CHAIN_NOT_WITNESSED', instanceId: c.instanceId }, `${c.instanceId}: no witnessed checkpoint of this chain was found, so it was checked against nothing outside the source; give the witness that holds it (or a pinned /audit/v1/checkpoints/latest).`);
    }
    if (c.ok && c.anchoredAt !== null) {
      warn({ code: 'ARCHIVED', instanceId: c.instanceId, upToSeq: c.anchoredAt }, `${c.instanceId}: records up to seq ${c.anchoredAt} were archived; verify the archive file for them.`);
    }
  }
  return { ok: chains.every((c) => c.ok), chains, warnings, notices };
}
