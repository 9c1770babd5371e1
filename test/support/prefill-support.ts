/**
 * Support for the prefill whole-stack tests: an independent oracle that reads a catalog
 * path (`citizen.socialInsurance.currentEmployer.name`) straight from the generated
 * world, so tests compare the gateway's answer with the registry data rather than with
 * hard-coded values, and a small client for the prefill operation.
 */
import type { AddressRecord, CitizenRecord, DigitisedResultRecord, EnterpriseRecord, LandParcelRecord, World } from '../../mocks/world/types.js';
import { todayInVietnam } from '../../subgraphs/shared/today.js';
import { indexWorld } from '../../mocks/world/generate.js';
import { PREFILL_DOCUMENT } from '../../scripts/generate-documents.js';
import type { DossierComponentResult, PrefilledField, PrefillSummary } from '../../gateway/procedures/prefill.js';

/** The prefill operation with every field of the form: the same document the trusted-documents file registers. */
export const PREFILL_QUERY = PREFILL_DOCUMENT;

// The JSON of a prefilled form is the server's own types (the API returns them as is).
export type PrefilledFieldJson = PrefilledField;
export type ComponentJson = DossierComponentResult;
export interface PrefillJson {
  procedure: { id: string; name: string };
  fields: PrefilledFieldJson[];
  dossierComponents: ComponentJson[];
  summary: PrefillSummary;
}
export interface GraphQLBody<T> {
  data?: T | null;
  errors?: Array<{ message: string; path?: unknown[]; extensions?: Record<string, unknown> }>;
}

export interface SubjectIds {
  personalId: string;
  relatedPersonalId?: string;
  enterpriseCode?: string;
  parcelId?: string;
}

/** POSTs the prefill operation with an API key; returns the HTTP status, the parsed body and its raw text. */
export async function postPrefill(
  graphqlUrl: string,
  key: string,
  procedureId: string,
  subject: SubjectIds,
  dossierId = 'H01.01-TEST-0001',
): Promise<{ status: number; body: GraphQLBody<{ prefill: PrefillJson }>; text: string }> {
  const res = await fetch(graphqlUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ query: PREFILL_QUERY, variables: { procedureId, subject, dossierId } }),
  });
  const text = await res.text();
  return { status: res.status, body: JSON.parse(text) as GraphQLBody<{ prefill: PrefillJson }>, text };
}

/** One line, as the subgraphs write Address.fullAddress: "detail, commune, province". */
function oneLine(a: AddressRecord): string {
  return a.detail ? `${a.detail}, ${a.commune}, ${a.province}` : `${a.commune}, ${a.province}`;
}

type Kind = 'citizen' | 'enterprise' | 'parcel' | 'socialInsurance' | 'household' | 'address' | 'civil' | 'results' | 'plain';
interface Node {
  kind: Kind;
  value: unknown;
}

/**
 * Every value at the end of `path` for the given subject records, read from the world as
 * the registries hold it (lists flattened), and the registry the last field belongs to.
 */
export function worldValues(world: World, roots: { citizen?: CitizenRecord; relatedCitizen?: CitizenRecord; enterprise?: EnterpriseRecord; parcel?: LandParcelRecord }, path: string): { values: unknown[]; registry: string } {
  const ix = indexWorld(world);
  const [root, ...steps] = path.split('.');
  const start = roots[root as keyof typeof roots];
  const kindOfRoot: Record<string, Kind> = { citizen: 'citizen', relatedCitizen: 'citizen', enterprise: 'enterprise', parcel: 'parcel' };
  let registry = root === 'enterprise' ? 'enterprise' : root === 'parcel' ? 'land' : 'population';
  let nodes: Node[] = start ? [{ kind: kindOfRoot[root!]!, value: start }] : [];
  const citizen = (id: string | null | undefined): Node[] => {
    const c = id ? ix.citizens.get(id) : undefined;
    return c ? [{ kind: 'citizen', value: c }] : [];
  };
  for (const step of steps) {
    const next: Node[] = [];
    for (const n of nodes) {
      const v = n.value as Record<string, unknown>;
      if (n.kind === 'citizen') {
        const c = v as unknown as CitizenRecord;
        if (step === 'father') next.push(...citizen(c.fatherId));
        else if (step === 'mother') next.push(...citizen(c.motherId));
        else if (step === 'spouse') next.push(...citizen(c.spouseId));
        else if (step === 'children') for (const id of c.childrenIds) next.push(...citizen(id));
        else if (step === 'household') {
          const h = c.householdId ? ix.households.get(c.householdId) : undefined;
          if (h) next.push({ kind: 'household', value: h });
        } else if (step === 'socialInsurance') {
          registry = 'insurance';
          const si = ix.socialInsurance.get(c.personalId);
          if (si) next.push({ kind: 'socialInsurance', value: si });
        } else if (step === 'healthInsuranceCard') {
          registry = 'insurance';
          const card = ix.healthInsurance.get(c.personalId);
          if (card) next.push({ kind: 'plain', value: card });
        } else if (step === 'latestBirthNotice') {
          registry = 'civil';
          // Oldest first in the store: the newest is the last one.
          const notices = ix.birthNoticesByParent.get(c.personalId)?.notices ?? [];
          if (notices.length) next.push({ kind: 'civil', value: notices[notices.length - 1] });
        } else if (step === 'deathNotice') {
          registry = 'civil';
          const notice = ix.deathNotices.get(c.personalId);
          if (notice) next.push({ kind: 'civil', value: notice });
        } else if (step === 'civilStatus') {
          registry = 'civil';
          const entry = ix.civilStatus.get(c.personalId);
          if (entry) next.push({ kind: 'civil', value: entry });
        } else if (step === 'digitisedResults') {
          registry = 'civil';
          next.push({ kind: 'results', value: ix.digitisedResults.get(c.personalId)?.results ?? [] });
        } else if (['hometown', 'permanentResidence', 'temporaryResidence', 'currentResidence'].includes(step)) {
          if (v[step]) next.push({ kind: 'address', value: v[step] });
        } else if (v[step] !== null && v[step] !== undefined) next.push({ kind: 'plain', value: v[step] });
      } else if (n.kind === 'socialInsurance') {
        if (step === 'currentEmployer') {
          registry = 'enterprise';
          const open = (v['periods'] as Array<{ to: string | null; employerCode: string | null }>).find((p) => p.to === null && p.employerCode);
          const e = open ? ix.enterprises.get(open.employerCode!) : undefined;
          if (e) next.push({ kind: 'enterprise', value: e });
        } else if (step === 'lastEmployerName') {
          const last = (v['periods'] as Array<{ employerName: string }>).at(-1);
          if (last) next.push({ kind: 'plain', value: last.employerName });
        } else if (v[step] !== null && v[step] !== undefined) next.push({ kind: 'plain', value: v[step] });
      } else if (n.kind === 'household') {
        if (step === 'head') next.push(...citizen(v['headId'] as string));
        else if (v[step] !== null && v[step] !== undefined) next.push({ kind: 'plain', value: v[step] });
      } else if (n.kind === 'results') {
        const kind = RESULT_KINDS[step];
        const newest = (v as unknown as DigitisedResultRecord[]).filter((x) => x.kind === kind).at(-1);
        if (newest) next.push({ kind: 'civil', value: { ...newest, status: resultStatus(newest) } });
      } else if (n.kind === 'civil') {
        if (step === 'father' || step === 'mother' || step === 'spouse') {
          registry = 'population';
          next.push(...citizen(v[`${step}Id`] as string | null));
        } else if (v[step] !== null && v[step] !== undefined) next.push({ kind: 'plain', value: v[step] });
      } else if (n.kind === 'address') {
        next.push({ kind: 'plain', value: step === 'fullAddress' ? oneLine(v as unknown as AddressRecord) : v[step] });
      } else if (n.kind === 'parcel' && step === 'mortgaged') {
        next.push({ kind: 'plain', value: (v as unknown as LandParcelRecord).mortgages.some((m) => m.releasedOn === null) });
      } else {
        const x = v[step];
        if (x === null || x === undefined) continue;
        if (step === 'headOffice' || step === 'address') next.push({ kind: 'address', value: x });
        else if (Array.isArray(x)) for (const item of x) next.push({ kind: 'plain', value: item });
        else next.push({ kind: 'plain', value: x });
      }
    }
    nodes = next;
  }
  // A path ending at an Address is displayed as its one line.
  const values = nodes.map((n) => (n.kind === 'address' ? oneLine(n.value as AddressRecord) : n.value));
  return { values: values.filter((x) => x !== null && x !== undefined), registry };
}

/** GraphQL field of DigitisedResults → the kind it holds the newest of. */
const RESULT_KINDS: Record<string, DigitisedResultRecord['kind']> = {
  birthExtract: 'BIRTH_EXTRACT',
  marriageCertificate: 'MARRIAGE_CERTIFICATE',
  deathExtract: 'DEATH_EXTRACT',
  maritalStatusConfirmation: 'MARITAL_STATUS_CONFIRMATION',
  judicialRecordCertificate: 'JUDICIAL_RECORD_CERTIFICATE',
  drivingLicence: 'DRIVING_LICENCE',
  driverHealthCertificate: 'DRIVER_HEALTH_CERTIFICATE',
};

/** A result's status as the store computes it when read (contract C1), on the registries' "today". */
export function resultStatus(r: DigitisedResultRecord, today = todayInVietnam()): 'VALID' | 'EXPIRED' | 'REVOKED' {
  if (r.revokedOn !== null && r.revokedOn <= today) return 'REVOKED';
  if (r.validUntil !== null && r.validUntil < today) return 'EXPIRED';
  return 'VALID';
}

/** dd/MM/yyyy of an ISO date, written independently of the gateway's formatter. */
export function ddMMyyyy(iso: string): string {
  const [y, m, d] = iso.slice(0, 10).split('-');
  return `${d}/${m}/${y}`;
}

/** Subject records of a prefill, by path root. */
export interface PrefillRoots {
  citizen?: CitizenRecord;
  relatedCitizen?: CitizenRecord;
  enterprise?: EnterpriseRecord;
  parcel?: LandParcelRecord;
}

/** The subject input naming the records. */
export function subjectOfRoots(r: PrefillRoots): SubjectIds {
  const s: SubjectIds = { personalId: r.citizen!.personalId };
  if (r.relatedCitizen) s.relatedPersonalId = r.relatedCitizen.personalId;
  if (r.enterprise) s.enterpriseCode = r.enterprise.enterpriseCode;
  if (r.parcel) s.parcelId = r.parcel.parcelId;
  return s;
}

const NUMBER = new Intl.NumberFormat('vi-VN', { maximumFractionDigits: 2 });

/** A field's values as the form shows them, written independently of the gateway's formatter. */
export function displayValues(values: unknown[], format: string, labels?: Record<string, string>): string {
  return values
    .map((v) => {
      switch (format) {
        case 'date':
          return ddMMyyyy(String(v));
        case 'month': {
          const [y, m] = String(v).split('-');
          return `${m}/${y}`;
        }
        case 'label':
          return labels?.[String(v)] ?? String(v);
        case 'number':
          return NUMBER.format(v as number);
        case 'boolean':
          return v ? 'Có' : 'Không';
        default:
          return String(v);
      }
    })
    .join('; ');
}

/** Whether a value meets a component's `when` condition (the oracle's reading of the catalog format). */
export function holdsCondition(value: unknown, c: { equals?: unknown; notEquals?: unknown; in?: unknown[]; min?: number; max?: number }): boolean {
  if (c.equals !== undefined) return value === c.equals;
  if (c.notEquals !== undefined) return value !== c.notEquals;
  if (c.in !== undefined) return c.in.includes(value);
  if (c.min !== undefined) return (value as number) >= c.min;
  return (value as number) <= c.max!;
}

/** What a procedure's catalog entry needs of the oracle (CompiledProcedure fits). */
export interface OracleProcedure {
  fields: Array<{ def: { key: string; source?: string; ifAbsent?: string; labels?: Record<string, string> }; format: string }>;
  components: Array<{ def: { code: string; replacedBy?: string | string[]; replacedByResult?: string; when?: Array<{ path: string; equals?: unknown; notEquals?: unknown; in?: unknown[]; min?: number; max?: number }> } }>;
}

/**
 * The form the registries' data implies, read from the world: each field's value (null when
 * the citizen fills it or the registries hold nothing) and each component's status
 * (CUT when its replacing data is held and its conditions hold, or its digitised result
 * is held and VALID; else REQUIRED).
 */
export function expectedForm(world: World, p: OracleProcedure, roots: PrefillRoots): { fields: Map<string, string | null>; components: Map<string, 'CUT' | 'REQUIRED'> } {
  const fields = new Map<string, string | null>();
  for (const f of p.fields) {
    if (!f.def.source) {
      fields.set(f.def.key, null);
      continue;
    }
    const { values } = worldValues(world, roots, f.def.source);
    fields.set(f.def.key, values.length > 0 ? displayValues(values, f.format, f.def.labels) : (f.def.ifAbsent ?? null));
  }
  const components = new Map<string, 'CUT' | 'REQUIRED'>();
  for (const c of p.components) {
    const paths = c.def.replacedBy === undefined ? [] : ([] as string[]).concat(c.def.replacedBy);
    const byData =
      paths.length > 0 &&
      paths.every((path) => worldValues(world, roots, path).values.length > 0) &&
      (c.def.when ?? []).every((w) => {
        const vs = worldValues(world, roots, w.path).values;
        return vs.length > 0 && vs.every((v) => holdsCondition(v, w));
      });
    const byResult = c.def.replacedByResult !== undefined && worldValues(world, roots, `${c.def.replacedByResult}.status`).values[0] === 'VALID';
    components.set(c.def.code, byData || byResult ? 'CUT' : 'REQUIRED');
  }
  return { fields, components };
}
