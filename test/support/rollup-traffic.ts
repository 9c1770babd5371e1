/**
 * One generated request of the statistics tests, as the audit entry the gateway would write:
 * the parts the rollups group and sum by (client and its tier, procedure, dossier, outcome,
 * registries, fields, duration, components cut). Shared by test/stats-rollup.test.ts and
 * test/stats-rollup-memory.test.ts, whose generators draw these parts.
 */
import type { AuditEntry, Outcome } from '../../gateway/audit/record.js';

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
