/**
 * What the verifier reads: the chains of a store, or of an exported file, and
 * the public keys to check their checkpoints with.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { KeyObject } from 'node:crypto';
import { parseExport } from './export-format.js';
import { keyIdOf, publicKeyFromPem } from './keys.js';
import type { AuditStore, PublicKeyEntry } from './store.js';
import { verifyChains, type ChainSource, type TrustedKeys, type VerifyReport } from './verify.js';

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

export async function verifyStore(store: AuditStore, opts: { publicKeyPems?: string[]; instanceIds?: string[] } = {}): Promise<VerifyReport> {
  const trust = trustFrom(opts.publicKeyPems ?? [], await store.publicKeys());
  return verifyChains(await storeSources(store, opts.instanceIds), trust);
}

export async function verifyExportLines(lines: AsyncIterable<string> | Iterable<string>, opts: { publicKeyPems?: string[] } = {}): Promise<VerifyReport> {
  const parsed = await parseExport(lines);
  const trust = trustFrom(opts.publicKeyPems ?? [], parsed.keys);
  const sources: ChainSource[] = [...parsed.chains].map(([instanceId, c]) => ({ instanceId, ...c }));
  const report = await verifyChains(sources, trust);
  if (parsed.malformed) {
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
      problem: { kind: 'malformed', instanceId: '(file)', seq: null, line: parsed.malformed.line, message: parsed.malformed.message },
    });
  }
  if (sources.length === 0 && !parsed.malformed) report.warnings.push('The file holds no audit records.');
  return report;
}

export async function verifyExportFile(file: string, opts: { publicKeyPems?: string[] } = {}): Promise<VerifyReport> {
  const rl = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
  return verifyExportLines(rl, opts);
}
