/**
 * Support for the prefill whole-stack tests: an independent oracle that reads a catalog
 * path (`citizen.socialInsurance.currentEmployer.name`) straight from the generated
 * world, so tests compare the gateway's answer with the registry data rather than with
 * hard-coded values, and a small client for the prefill operation.
 */
import type { AddressRecord, CitizenRecord, EnterpriseRecord, LandParcelRecord, World } from '../../mocks/world/types.js';
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

type Kind = 'citizen' | 'enterprise' | 'parcel' | 'socialInsurance' | 'household' | 'address' | 'plain';
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
        } else if (['hometown', 'permanentResidence', 'temporaryResidence', 'currentResidence'].includes(step)) {
          if (v[step]) next.push({ kind: 'address', value: v[step] });
        } else if (v[step] !== null && v[step] !== undefined) next.push({ kind: 'plain', value: v[step] });
      } else if (n.kind === 'socialInsurance') {
        if (step === 'currentEmployer') {
          registry = 'enterprise';
          const open = (v['periods'] as Array<{ to: string | null; employerCode: string | null }>).find((p) => p.to === null && p.employerCode);
          const e = open ? ix.enterprises.get(open.employerCode!) : undefined;
          if (e) next.push({ kind: 'enterprise', value: e });
        } else if (v[step] !== null && v[step] !== undefined) next.push({ kind: 'plain', value: v[step] });
      } else if (n.kind === 'household') {
        if (step === 'head') next.push(...citizen(v['headId'] as string));
        else if (v[step] !== null && v[step] !== undefined) next.push({ kind: 'plain', value: v[step] });
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

/** dd/MM/yyyy of an ISO date, written independently of the gateway's formatter. */
export function ddMMyyyy(iso: string): string {
  const [y, m, d] = iso.slice(0, 10).split('-');
  return `${d}/${m}/${y}`;
}
