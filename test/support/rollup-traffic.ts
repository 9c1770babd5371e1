/**
 * Shared by test/stats-rollup.test.ts and test/stats-rollup-memory.test.ts: one generated request
 * as the audit entry the gateway would write (the parts the rollups group and sum by: client and
 * its tier, procedure, dossier, outcome, registries, fields, duration, components cut), and the
 * rollup tables as comparable snapshots.
 */
import type { AuditEntry, Outcome } from '../../gateway/audit/record.js';
import { STATS_TABLES } from '../../gateway/core/stats-rollup.js';

export interface GeneratedRequest {
  client: { clientId: string; agency: string; clientTier?: string; clientProvince?: string };
  procedureId: string | null;
  dossier: number | null;
  outcome: Outcome;
  registries: string[];
  fields: string[];
  durationMs: number;
  cut: number | null;
}

/** The entry of request `i`, at `ts`, with `entities` returned per registry (default one each). */
export function generatedEntry(g: GeneratedRequest, i: number, ts: number, entities: Record<string, number> = Object.fromEntries(g.registries.map((r) => [r, 1]))): AuditEntry {
  const { clientId, agency, ...tier } = g.client;
  return {
    ts,
    requestId: `r-${i}`,
    clientId,
    agency,
    operationName: 'Q',
    operationType: 'query',
    documentHash: null,
    procedureId: g.procedureId,
    dossierId: g.dossier === null ? null : `HS-${g.dossier}`,
    subjects: [],
    registries: g.registries,
    fields: g.fields,
    entities,
    outcome: g.outcome,
    errorCodes: [],
    httpStatus: 200,
    durationMs: g.durationMs,
    responseBytes: 1,
    prefill: g.cut === null ? null : { fieldsTotal: 10, fieldsPrefilled: 7, fieldsForCitizen: 3, componentsTotal: 3, componentsCut: g.cut, hoursSaved: g.cut * 1.25 },
    ...tier,
  };
}

/** The rollup tables' rows, order-independent, zero-count dossier rollup rows dropped (a moved dossier leaves one). */
export async function snapshot(dump: (t: string) => Promise<unknown[]>): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const t of STATS_TABLES) {
    const rows = (await dump(t)) as Array<Record<string, unknown>>;
    out[t] = rows
      .filter((r) => !(t === 'stats_cube_droll' && Number(r.served) === 0 && Number(r.with_cut) === 0))
      .map((r) => JSON.stringify(Object.entries(r).map(([k, v]) => [k, typeof v === 'number' || typeof v === 'bigint' ? Number(v) : v]).sort()))
      .sort();
  }
  return out;
}
