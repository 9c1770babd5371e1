/**
 * The export for the national monitoring system: `GET /stats/v1/report?from&to&format=json|csv`,
 * one row per agency tier × province × procedure, in the versioned schema
 * schema/stats-report.v1.schema.json (fields are only ever added within version 1). The CSV has
 * the same rows, one column per row field, plus the period; docs/CONSOLE.md defines each figure.
 */
import { LATENCY_BOUNDS_MS } from '../core/stats-rollup.js';
import { provinceLabel, UNKNOWN_PROCEDURE, type StatsCatalog, type StatsEngine, type StatsFigures } from './engine.js';
import { VN_OFFSET, type StatsQuery } from './params.js';

export const REPORT_FORMAT = 'motlan-stats-report/1';

/** The figures of a row (and of the totals). */
export interface ReportFigures {
  requests: number;
  requestsWithoutDossier: number;
  dossiersServed: number;
  dossiersWithComponentsCut: number;
  fieldsPrefilled: number;
  fieldsForCitizen: number;
  componentsCut: number;
  hoursSaved: number;
  hoursValueVnd: number;
  costsSavedVnd: number;
  /** hoursValueVnd + costsSavedVnd. */
  totalValueVnd: number;
  latencyP50Ms: number | null;
  latencyP95Ms: number | null;
  latencyP99Ms: number | null;
}

export interface ReportRow extends ReportFigures {
  agencyTier: string;
  provinceCode: string | null;
  provinceName: string | null;
  /** Catalog procedure id; `unknown` for a purpose naming no catalog procedure; null for no purpose. */
  procedureId: string | null;
  /** National procedure code (Cơ sở dữ liệu quốc gia về TTHC) when the catalog knows it. */
  procedureCode: string | null;
  procedureName: string | null;
}

export interface StatsReport {
  format: typeof REPORT_FORMAT;
  generatedAt: string;
  period: { from: string; to: string; timezone: string };
  valuation: { hourlyRateVnd: number; defaultComponentCostVnd: number };
  latency: { method: 'histogram'; maxRelativeError: number };
  totals: ReportFigures;
  rows: ReportRow[];
}

function figures(f: StatsFigures): ReportFigures {
  return {
    requests: f.requests.total,
    requestsWithoutDossier: f.dossiers.requestsWithoutDossier,
    dossiersServed: f.dossiers.served ?? 0,
    dossiersWithComponentsCut: f.dossiers.withComponentsCut ?? 0,
    fieldsPrefilled: f.fields.prefilled,
    fieldsForCitizen: f.fields.forCitizen,
    componentsCut: f.componentsCut,
    hoursSaved: f.hoursSaved,
    hoursValueVnd: f.valueVnd,
    costsSavedVnd: f.costsSavedVnd,
    totalValueVnd: f.valueVnd + f.costsSavedVnd,
    latencyP50Ms: f.latencyMs.p50,
    latencyP95Ms: f.latencyMs.p95,
    latencyP99Ms: f.latencyMs.p99,
  };
}

export async function reportOf(engine: StatsEngine, q: StatsQuery, catalog: StatsCatalog, now = Date.now()): Promise<StatsReport> {
  // The report covers every request of the period: the row dimensions are its only split.
  const scope = { from: q.from, to: q.to };
  const total = (await engine.summary({ ...q, ...scope, client: undefined, agency: undefined, procedure: undefined, registry: undefined, outcome: undefined, tier: undefined, province: undefined, groupBy: 'none', offset: 0 })).total;
  const rows = (await engine.reportRows(scope)).map(({ tier, province, procedure, figures: f }) => ({
    agencyTier: tier,
    provinceCode: province,
    provinceName: province === null ? null : provinceLabel(province).label,
    procedureId: procedure,
    procedureCode: procedure && procedure !== UNKNOWN_PROCEDURE ? catalog.nationalCode(procedure) : null,
    procedureName: procedure && procedure !== UNKNOWN_PROCEDURE ? catalog.procedureName(procedure) : null,
    ...figures(f),
  }));
  return {
    format: REPORT_FORMAT,
    generatedAt: new Date(now).toISOString(),
    period: { from: new Date(q.from).toISOString(), to: new Date(q.to).toISOString(), timezone: VN_OFFSET },
    valuation: { hourlyRateVnd: engine.hourlyRateVnd, defaultComponentCostVnd: catalog.componentCostVnd(null) },
    latency: { method: 'histogram', maxRelativeError: Math.round((LATENCY_BOUNDS_MS[1]! / LATENCY_BOUNDS_MS[0]! - 1) * 10_000) / 10_000 },
    totals: figures(total),
    rows,
  };
}

export const REPORT_CSV_COLUMNS = [
  'periodFrom', 'periodTo', 'agencyTier', 'provinceCode', 'provinceName', 'procedureId', 'procedureCode', 'procedureName',
  'requests', 'requestsWithoutDossier', 'dossiersServed', 'dossiersWithComponentsCut', 'fieldsPrefilled', 'fieldsForCitizen',
  'componentsCut', 'hoursSaved', 'hoursValueVnd', 'costsSavedVnd', 'totalValueVnd', 'latencyP50Ms', 'latencyP95Ms', 'latencyP99Ms',
] as const;

/** A CSV cell: quoted when needed; a value a spreadsheet would run as a formula gets a leading `'` (as the audit export does). */
function cell(v: string | number | null | undefined): string {
  if (v === null || v === undefined) return '';
  let s = String(v);
  const formula = /^[=+\-@\t\r']/.test(s);
  if (formula) s = `'${s}`;
  return formula || /[",;\r\n\t]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The rows as CSV (RFC 4180, formula-safe cells), a header line first. */
export function reportCsv(r: StatsReport): string {
  const lines = [REPORT_CSV_COLUMNS.join(',')];
  for (const row of r.rows) {
    const v: Record<string, string | number | null> = { periodFrom: r.period.from, periodTo: r.period.to, ...row };
    lines.push(REPORT_CSV_COLUMNS.map((c) => cell(v[c])).join(','));
  }
  return `${lines.join('\n')}\n`;
}
