/**
 * An independent recount of the statistics from audit records as the auditor
 * API returns them, in plain JavaScript: the tests compare the SQL figures of
 * gateway/stats with it. Deliberately written without the engine's code paths
 * (no SQL, its own day arithmetic and percentile picking).
 */
import type { AuditRecord } from '../../gateway/audit/record.js';
import type { AuditStore } from '../../gateway/audit/store.js';
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

function matches(r: AuditRecord, f: StatsFilter): boolean {
  if (r.ts < f.from || r.ts >= f.to) return false;
  if (f.client && !f.client.includes(r.clientId)) return false;
  if (f.agency && !f.agency.includes(r.agency)) return false;
  if (f.procedure && !(r.procedureId !== null && f.procedure.includes(r.procedureId))) return false;
  if (f.outcome && !f.outcome.includes(r.outcome)) return false;
  if (f.registry && !r.registries.some((g) => f.registry!.includes(g))) return false;
  return true;
}

function keysOf(r: AuditRecord, groupBy: GroupBy): Array<string | null> {
  const vn = new Date(r.ts + 7 * 60 * 60 * 1000).toISOString();
  switch (groupBy) {
    case 'none':
      return ['*'];
    case 'client':
      return [r.clientId];
    case 'agency':
      return [r.agency];
    case 'procedure':
      return [r.procedureId];
    case 'outcome':
      return [r.outcome];
    case 'day':
      return [vn.slice(0, 10)];
    case 'month':
      return [vn.slice(0, 7)];
    case 'registry':
      return [...r.registries];
  }
}

function nearestRank(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.ceil((p * sorted.length) / 100) - 1]!;
}

export function recount(records: AuditRecord[], f: StatsFilter, groupBy: GroupBy, hourlyRateVnd: number): Map<string | null, StatsFigures> {
  const buckets = new Map<string | null, Array<{ r: AuditRecord; key: string | null }>>();
  for (const r of records) {
    if (!matches(r, f)) continue;
    for (const key of keysOf(r, groupBy)) {
      if (!buckets.has(key)) buckets.set(key, []);
      buckets.get(key)!.push({ r, key });
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
    const durations: number[] = [];
    for (const { r } of items) {
      byOutcome[r.outcome] = (byOutcome[r.outcome] ?? 0) + 1;
      for (const [reg, n] of Object.entries(r.entities)) {
        if (groupBy === 'registry' && reg !== key) continue;
        byRegistry[reg] = (byRegistry[reg] ?? 0) + n;
      }
      fields += r.fields.length;
      if (r.prefill) {
        prefills += 1;
        componentsCut += r.prefill.componentsCut;
        cents += Math.round(r.prefill.hoursSaved * 100);
      }
      durations.push(r.durationMs);
    }
    durations.sort((a, b) => a - b);
    out.set(key, {
      requests: { total: items.length, byOutcome },
      entitiesShared: { total: Object.values(byRegistry).reduce((a, b) => a + b, 0), byRegistry },
      fieldsShared: fields,
      prefills,
      componentsCut,
      hoursSaved: cents / 100,
      valueVnd: Math.round((cents * hourlyRateVnd) / 100),
      latencyMs: {
        p50: nearestRank(durations, 50),
        p95: nearestRank(durations, 95),
        p99: nearestRank(durations, 99),
        mean: durations.reduce((a, b) => a + b, 0) / durations.length,
        max: durations[durations.length - 1] ?? null,
      },
    });
  }
  return out;
}

/** Fields shared by coordinate: requests that returned each one. */
export function recountFields(records: AuditRecord[], f: StatsFilter): Map<string, number> {
  const out = new Map<string, number>();
  for (const r of records) {
    if (!matches(r, f)) continue;
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
