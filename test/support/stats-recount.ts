/**
 * An independent recount of the statistics from audit records as the auditor
 * API returns them, in plain JavaScript: the tests compare the figures of
 * gateway/stats (read from rollups) with it. Deliberately written without the
 * engine's code paths (no SQL, no rollup, its own day arithmetic, dossier
 * attribution and percentile picking). Only the histogram's bounds are shared:
 * they are the documented definition of the percentiles.
 */
import type { AuditRecord } from '../../gateway/audit/record.js';
import type { AuditStore } from '../../gateway/audit/store.js';
import { LATENCY_BOUNDS_MS } from '../../gateway/core/stats-rollup.js';
import type { StatsFigures } from '../../gateway/stats/engine.js';
import type { GroupBy, StatsFilter } from '../../gateway/stats/params.js';

/** Every record of the store, through its paginated search (the auditor's view). */
export async function allRecords(store: AuditStore): Promise<AuditRecord[]> {
  const out: AuditRecord[] = [];
  let after = null;
  for (;;) {
    const page = await store.search({}, { limit: 500, after });
    out.push(...page.items);
    if (!page.next) return out;
    after = page.next;
  }
}

export interface RecountOptions {
  /** Catalog procedure ids: any other purpose is `unknown`. Default: every purpose is its own group. */
  procedures?: readonly string[];
  /** Cost of a cut component, VND (per procedure id or null). Default 10 000. */
  costVnd?: (procedureId: string | null) => number;
}

const tierOf = (r: AuditRecord) => r.clientTier ?? 'unspecified';
const provinceOf = (r: AuditRecord) => (tierOf(r) === 'province' ? (r.clientProvince ?? '') : '');

function procedureOf(r: AuditRecord, o: RecountOptions): string | null {
  if (r.procedureId === null) return null;
  return !o.procedures || o.procedures.includes(r.procedureId) ? r.procedureId : 'unknown';
}

function matches(r: AuditRecord, f: StatsFilter, o: RecountOptions, dossierOnly = false): boolean {
  if (r.ts < f.from || r.ts >= f.to) return false;
  if (f.client && !f.client.includes(r.clientId)) return false;
  if (f.agency && !f.agency.includes(r.agency)) return false;
  if (f.procedure && !f.procedure.includes(procedureOf(r, o) ?? '')) return false;
  if (f.tier && !f.tier.includes(tierOf(r))) return false;
  if (f.province && !f.province.includes(provinceOf(r))) return false;
  if (dossierOnly) return true;
  if (f.outcome && !f.outcome.includes(r.outcome)) return false;
  if (f.registry && !r.registries.some((g) => f.registry!.includes(g))) return false;
  return true;
}

function keysOf(r: AuditRecord, groupBy: GroupBy, o: RecountOptions): Array<string | null> {
  const vn = new Date(r.ts + 7 * 60 * 60 * 1000).toISOString();
  switch (groupBy) {
    case 'none':
      return ['*'];
    case 'client':
      return [r.clientId];
    case 'agency':
      return [r.agency];
    case 'procedure':
      return [procedureOf(r, o)];
    case 'outcome':
      return [r.outcome];
    case 'day':
      return [vn.slice(0, 10)];
    case 'month':
      return [vn.slice(0, 7)];
    case 'registry':
      return [...r.registries];
    case 'tier':
      return [tierOf(r)];
    case 'province':
      return [provinceOf(r) || null];
  }
}

/** The documented percentile: the nearest-rank value's histogram bucket upper bound, capped by the maximum. */
function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const exact = sorted[Math.ceil((p * sorted.length) / 100) - 1]!;
  const max = sorted[sorted.length - 1]!;
  const bound = LATENCY_BOUNDS_MS.find((b) => exact <= b);
  return bound === undefined ? max : Math.min(bound, max);
}

const before = (a: AuditRecord, b: AuditRecord) =>
  a.ts !== b.ts ? a.ts < b.ts : a.instanceId !== b.instanceId ? a.instanceId < b.instanceId : a.seq < b.seq;

/** Per dossier (client, dossier id): its first request and whether any of its requests cut a component. */
function dossiersOf(records: AuditRecord[]): Array<{ first: AuditRecord; cut: boolean }> {
  const m = new Map<string, { first: AuditRecord; cut: boolean }>();
  for (const r of records) {
    if (!r.dossierId) continue;
    const k = `${r.clientId}\u0000${r.dossierId}`;
    const cut = (r.prefill?.componentsCut ?? 0) > 0;
    const cur = m.get(k);
    if (!cur) m.set(k, { first: r, cut });
    else m.set(k, { first: before(r, cur.first) ? r : cur.first, cut: cur.cut || cut });
  }
  return [...m.values()];
}

export function recount(records: AuditRecord[], f: StatsFilter, groupBy: GroupBy, hourlyRateVnd: number, o: RecountOptions = {}): Map<string | null, StatsFigures> {
  const cost = o.costVnd ?? (() => 10_000);
  const buckets = new Map<string | null, AuditRecord[]>();
  for (const r of records) {
    if (!matches(r, f, o)) continue;
    for (const key of keysOf(r, groupBy, o)) {
      if (!buckets.has(key)) buckets.set(key, []);
      buckets.get(key)!.push(r);
    }
  }
  const dossierKeyed = !['registry', 'outcome'].includes(groupBy) && !f.outcome && !f.registry;
  const served = new Map<string | null, { served: number; cut: number }>();
  if (dossierKeyed) {
    for (const d of dossiersOf(records)) {
      if (!matches(d.first, f, o, true)) continue;
      for (const key of keysOf(d.first, groupBy, o)) {
        const s = served.get(key) ?? { served: 0, cut: 0 };
        s.served += 1;
        s.cut += d.cut ? 1 : 0;
        served.set(key, s);
      }
    }
  }
  const out = new Map<string | null, StatsFigures>();
  for (const [key, items] of buckets) {
    const byOutcome: Record<string, number> = { OK: 0, PARTIAL: 0, DENIED: 0, INVALID: 0, ERROR: 0, UNAUTHENTICATED: 0 };
    const byRegistry: Record<string, number> = {};
    let fields = 0;
    let prefills = 0;
    let componentsCut = 0;
    let cents = 0;
    let prefilled = 0;
    let forCitizen = 0;
    let costs = 0;
    let noDossier = 0;
    const durations: number[] = [];
    for (const r of items) {
      byOutcome[r.outcome] = (byOutcome[r.outcome] ?? 0) + 1;
      for (const [reg, n] of Object.entries(r.entities)) {
        if (groupBy === 'registry' && reg !== key) continue;
        byRegistry[reg] = (byRegistry[reg] ?? 0) + n;
      }
      fields += r.fields.length;
      if (!r.dossierId) noDossier += 1;
      if (r.prefill) {
        prefills += 1;
        componentsCut += r.prefill.componentsCut;
        cents += Math.round(r.prefill.hoursSaved * 100);
        prefilled += r.prefill.fieldsPrefilled;
        forCitizen += r.prefill.fieldsForCitizen;
        costs += r.prefill.componentsCut * cost(procedureOf(r, o));
      }
      durations.push(r.durationMs);
    }
    durations.sort((a, b) => a - b);
    const s = served.get(key) ?? { served: 0, cut: 0 };
    out.set(key, {
      requests: { total: items.length, byOutcome },
      entitiesShared: { total: Object.values(byRegistry).reduce((a, b) => a + b, 0), byRegistry },
      fieldsShared: fields,
      prefills,
      componentsCut,
      hoursSaved: cents / 100,
      valueVnd: Math.round((cents * hourlyRateVnd) / 100),
      latencyMs: {
        p50: percentile(durations, 50),
        p95: percentile(durations, 95),
        p99: percentile(durations, 99),
        mean: durations.reduce((a, b) => a + b, 0) / durations.length,
        max: durations[durations.length - 1] ?? null,
      },
      dossiers: {
        served: dossierKeyed ? s.served : null,
        withComponentsCut: dossierKeyed ? s.cut : null,
        requestsWithoutDossier: noDossier,
      },
      fields: { prefilled, forCitizen },
      costsSavedVnd: costs,
    });
  }
  return out;
}

/** Fields shared by coordinate: requests that returned each one. */
export function recountFields(records: AuditRecord[], f: StatsFilter, o: RecountOptions = {}): Map<string, number> {
  const out = new Map<string, number>();
  for (const r of records) {
    if (!matches(r, f, o)) continue;
    for (const c of r.fields) out.set(c, (out.get(c) ?? 0) + 1);
  }
  return out;
}

/** The figures without the float mean, for exact comparison (the mean is compared with a tolerance). */
export function exact(f: StatsFigures): Omit<StatsFigures, 'latencyMs'> & { latencyMs: Omit<StatsFigures['latencyMs'], 'mean'> } {
  const { mean: _mean, ...latency } = f.latencyMs;
  // byRegistry keys with 0 are not produced by SQL; drop them for comparison.
  const byRegistry = Object.fromEntries(Object.entries(f.entitiesShared.byRegistry).filter(([, n]) => n > 0));
  return { ...f, entitiesShared: { total: f.entitiesShared.total, byRegistry }, latencyMs: latency };
}
