/**
 * Exports from a store, as lines of export-format.ts, that `motlan audit verify`
 * checks offline.
 *
 * Without a filter, every chain is exported whole (from its anchor, if older
 * records were archived). With a filter, each chain that has matching records is
 * exported from the last signed checkpoint before the first match to the first
 * checkpoint after the last match: matching records in full, the others
 * "redacted" (sequence number and hashes only). The verifier can then recompute
 * the whole stretch and check both signatures, while the file discloses only the
 * records the auditor asked for.
 */
import { redactedOf, EXPORT_FORMAT, type ExportLine } from './export-format.js';
import type { Checkpoint } from './record.js';
import type { AuditFilter, AuditStore } from './store.js';

export function isEmptyFilter(f: AuditFilter): boolean {
  return Object.values(f).every((v) => v === undefined || (Array.isArray(v) && v.length === 0));
}

/** Matching (instance → seqs), read page by page. */
async function matches(store: AuditStore, filter: AuditFilter): Promise<Map<string, Set<number>>> {
  const out = new Map<string, Set<number>>();
  let after = null;
  for (;;) {
    const page = await store.search(filter, { limit: 1000, after });
    for (const r of page.items) {
      let s = out.get(r.instanceId);
      if (!s) out.set(r.instanceId, (s = new Set()));
      s.add(r.seq);
    }
    if (!page.next) return out;
    after = page.next;
  }
}

export async function* exportLines(store: AuditStore, filter: AuditFilter = {}, now = Date.now()): AsyncIterable<ExportLine> {
  const keys = await store.publicKeys();
  yield {
    type: 'header',
    format: EXPORT_FORMAT,
    exportedAt: now,
    filter: filter as Record<string, unknown>,
    keys: keys.map((k) => ({ keyId: k.keyId, publicKeyPem: k.publicKeyPem })),
  };
  const whole = isEmptyFilter(filter);
  const plan: Array<{ instanceId: string; anchor: Checkpoint | null; toSeq: number | undefined; wanted: Set<number> | null }> = [];
  if (whole) {
    for (const id of await store.instances()) plan.push({ instanceId: id, anchor: await store.anchor(id), toSeq: undefined, wanted: null });
  } else {
    for (const [id, seqs] of await matches(store, filter)) {
      const min = Math.min(...seqs);
      const max = Math.max(...seqs);
      const before = await store.checkpoints(id, { toSeq: min - 1 });
      const anchor = before[before.length - 1] ?? (await store.anchor(id));
      const after = (await store.checkpoints(id, { fromSeq: max }))[0];
      plan.push({ instanceId: id, anchor, toSeq: after?.seq, wanted: seqs });
    }
  }
  for (const p of plan) {
    const fromSeq = (p.anchor?.seq ?? 0) + 1;
    if (p.anchor) yield { type: 'anchor', ...p.anchor };
    const cps = new Map<number, Checkpoint[]>();
    for (const cp of await store.checkpoints(p.instanceId, { fromSeq, ...(p.toSeq !== undefined ? { toSeq: p.toSeq } : {}) })) {
      cps.set(cp.seq, [...(cps.get(cp.seq) ?? []), cp]);
    }
    for await (const r of store.chain(p.instanceId, { fromSeq, ...(p.toSeq !== undefined ? { toSeq: p.toSeq } : {}) })) {
      yield p.wanted === null || p.wanted.has(r.seq) ? { type: 'record', ...r } : redactedOf(r);
      for (const cp of cps.get(r.seq) ?? []) yield { type: 'checkpoint', ...cp };
    }
  }
}
