/**
 * The GraphQL shape of a compiled procedure (type `Procedure` of schema/procedures.graphql).
 * Built once per compiled procedure and cached: the catalog is immutable between reloads.
 */
import type { SubjectRoot } from './catalog-format.js';
import type { CompiledProcedure } from './compile.js';
import type { CompiledGroup } from './groups.js';
import { hoursMethod } from './hours.js';
import { ROOTS } from './paths.js';

const SUBJECT_KIND: Record<SubjectRoot, string> = {
  citizen: 'CITIZEN',
  relatedCitizen: 'RELATED_CITIZEN',
  enterprise: 'ENTERPRISE',
  parcel: 'PARCEL',
};

const PLACEHOLDER: Record<SubjectRoot, string> = {
  citizen: '<12-digit personal ID of the citizen>',
  relatedCitizen: '<12-digit personal ID of the family member>',
  enterprise: '<10-digit enterprise code>',
  parcel: '<commune code>-<map sheet>-<parcel number>',
};

export const EXAMPLE_QUERY = `query Prefill($procedureId: ID!, $subject: SubjectInput!, $dossierId: String) {
  prefill(procedureId: $procedureId, subject: $subject, dossierId: $dossierId) {
    fields { key label value source registry retrievedAt unavailable }
    dossierComponents { code name status registry reason }
    summary { fieldsTotal fieldsPrefilled fieldsForCitizen componentsTotal componentsCut hoursSaved }
  }
}`;

export interface ProcedureView {
  id: string;
  nationalCode: string | null;
  name: string;
  nameEn: string | null;
  agency: string;
  legalBasis: string[];
  subjects: string[];
  fields: Array<{ key: string; label: string; source: 'REGISTRY' | 'CITIZEN'; path: string | null; format: string; registry: string | null }>;
  dossierComponents: Array<{ code: string; name: string; replacedBy: string[]; replacedByResult: string | null; conditions: string[]; tripsAvoided: number }>;
  timeSaved: { formPages: number; method: string };
  registryFieldCount: number;
  citizenFieldCount: number;
  example: { query: string; variables: string };
}

const cache = new WeakMap<CompiledProcedure, ProcedureView>();

/** Example variables of a procedure, with placeholders for the identifiers. */
export function exampleVariables(p: CompiledProcedure, ids: Partial<Record<SubjectRoot, string>> = {}): Record<string, unknown> {
  const subject: Record<string, string> = {};
  for (const root of p.def.subjects) subject[ROOTS[root].variable] = ids[root] ?? PLACEHOLDER[root];
  return { procedureId: p.def.id, subject, dossierId: 'H01.01-250701-0001' };
}

export function procedureView(p: CompiledProcedure): ProcedureView {
  const hit = cache.get(p);
  if (hit) return hit;
  const d = p.def;
  const view: ProcedureView = {
    id: d.id,
    nationalCode: d.nationalCode ? d.nationalCode : null,
    name: d.name,
    nameEn: d.nameEn ?? null,
    agency: d.agency,
    legalBasis: d.legalBasis ?? [],
    subjects: d.subjects.map((s) => SUBJECT_KIND[s]),
    fields: p.fields.map((f) => ({
      key: f.def.key,
      label: f.def.label,
      source: f.path ? 'REGISTRY' : 'CITIZEN',
      path: f.path?.path ?? null,
      format: f.format.toUpperCase(),
      registry: f.path?.registry ?? null,
    })),
    dossierComponents: p.components.map((c) => ({
      code: c.def.code,
      name: c.def.name,
      replacedBy: c.replacedBy.map((r) => r.path),
      replacedByResult: c.result?.path ?? null,
      conditions: c.when.map((w) => w.text),
      tripsAvoided: c.tripsAvoided,
    })),
    timeSaved: {
      formPages: d.timeSaved.formPages,
      method: hoursMethod(
        d.timeSaved.formPages,
        p.components.map((c) => ({ code: c.def.code, trips: c.tripsAvoided, replaceable: c.replacedBy.length > 0 || !!c.result })),
      ),
    },
    registryFieldCount: p.fields.filter((f) => f.path).length,
    citizenFieldCount: p.fields.filter((f) => !f.path).length,
    example: { query: EXAMPLE_QUERY, variables: JSON.stringify(exampleVariables(p), null, 2) },
  };
  cache.set(p, view);
  return view;
}

export const GROUP_EXAMPLE_QUERY = `query PrefillGroup($groupId: ID!, $subject: SubjectInput!, $dossierId: String) {
  prefillGroup(groupId: $groupId, subject: $subject, dossierId: $dossierId) {
    forms {
      procedure { id name }
      fields { key label value source registry retrievedAt unavailable }
      dossierComponents { code status reasonCode }
    }
    dossierComponents { code name status registry reason reasonCode procedureIds provenance { registry number issuingAgency retrievedAt } }
    summary { forms fieldsShown fieldsTotal fieldsPrefilled fieldsForCitizen componentsTotal componentsCut hoursSaved }
  }
}`;

export interface GroupView {
  id: string;
  name: string;
  nameEn: string;
  legalBasis: string[];
  procedures: ProcedureView[];
  subjects: string[];
  example: { query: string; variables: string };
}

const groupCache = new WeakMap<CompiledGroup, GroupView>();

/** Example variables of a group, with placeholders for the identifiers. */
export function groupExampleVariables(g: CompiledGroup, ids: Partial<Record<SubjectRoot, string>> = {}): Record<string, unknown> {
  const subject: Record<string, string> = {};
  for (const root of g.subjects) subject[ROOTS[root].variable] = ids[root] ?? PLACEHOLDER[root];
  return { groupId: g.def.id, subject, dossierId: 'H01.01-250701-0001' };
}

export function groupView(g: CompiledGroup): GroupView {
  const hit = groupCache.get(g);
  if (hit) return hit;
  const view: GroupView = {
    id: g.def.id,
    name: g.def.name,
    nameEn: g.def.nameEn,
    legalBasis: g.def.legalBasis,
    procedures: g.procedures.map(procedureView),
    subjects: g.subjects.map((s) => SUBJECT_KIND[s]),
    example: { query: GROUP_EXAMPLE_QUERY, variables: JSON.stringify(groupExampleVariables(g), null, 2) },
  };
  groupCache.set(g, view);
  return view;
}
