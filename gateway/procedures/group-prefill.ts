/**
 * `prefillGroup`: one request prefills every form of an interconnected group.
 *
 *  - one fetch: the group's compiled operation selects the union of its procedures' paths
 *    (after the same checks and relation checks as prefill, for the union of their subjects),
 *    through the gateway's own pipeline with the group id as the purpose;
 *  - a value once: every form reads the same retrieval, so a source path has one value in
 *    every form that shows it; the group summary counts it once (a registry field by its
 *    source path, a citizen field by its key);
 *  - a component once: the same component code in several forms gets ONE decision, applied
 *    to every form and counted once. Fail-safe: it is CUT only when every form's definition
 *    of it cuts (the first REQUIRED decision, in group order, is the group's otherwise).
 */
import { GraphQLError } from 'graphql';
import type { MotlanContext } from '../core/context.js';
import type { PrefillSummary } from '../core/context.js';
import type { Catalog } from './catalog.js';
import type { CompiledGroup } from './groups.js';
import { hoursSaved } from './hours.js';
import {
  Retrieved,
  buildForm,
  checkSubject,
  decideComponent,
  purposeContexts,
  retrieve,
  type DossierComponentResult,
  type PrefillDeps,
  type PrefilledForm,
  type SubjectInput,
} from './prefill.js';

export interface PrefillGroupArgs {
  groupId: string;
  subject: SubjectInput;
  dossierId?: string | null;
}

/** A component of the group: one decision, and the procedures whose dossiers list it. */
export interface GroupComponentResult extends DossierComponentResult {
  procedureIds: string[];
}

/** Counts over the whole group: each value and each component once. */
export interface GroupSummary extends PrefillSummary {
  forms: number;
  /** Fields shown in the forms, counting a shared value once per form (Σ of the forms' fieldsTotal). */
  fieldsShown: number;
}

export interface PrefilledGroup {
  group: CompiledGroup;
  forms: PrefilledForm[];
  dossierComponents: GroupComponentResult[];
  summary: GroupSummary;
}

/** Step 1: the group exists; the subjects are exactly the union of its procedures' subjects. */
export function checkGroupArgs(catalog: Catalog, args: PrefillGroupArgs): { group: CompiledGroup; subject: ReturnType<typeof checkSubject> } {
  const group = catalog.groups.get(args.groupId);
  if (!group) {
    throw new GraphQLError(`Unknown procedure group "${String(args.groupId).slice(0, 80)}": list them with { procedureGroups { id name } }.`, {
      extensions: { code: 'NOT_FOUND', reason: 'UNKNOWN_PROCEDURE' },
    });
  }
  return { group, subject: checkSubject(`Group ${group.def.id}`, group.subjects, args.subject, args.dossierId) };
}

/** One decision per component code, fail-safe across the forms that list it. */
function decideOnce(group: CompiledGroup, got: Retrieved, retrievedAt: string): GroupComponentResult[] {
  const byCode = new Map<string, GroupComponentResult>();
  for (const p of group.procedures) {
    for (const c of p.components) {
      const d = decideComponent(c, got, retrievedAt);
      const seen = byCode.get(c.def.code);
      if (!seen) byCode.set(c.def.code, { ...d, procedureIds: [p.def.id] });
      else {
        seen.procedureIds.push(p.def.id);
        if (seen.status === 'CUT' && d.status === 'REQUIRED') byCode.set(c.def.code, { ...d, name: seen.name, procedureIds: seen.procedureIds });
      }
    }
  }
  return [...byCode.values()];
}

/** Steps 3-4 for a group on one retrieval. */
export function buildGroup(group: CompiledGroup, got: { result: Retrieved['result']; roots: Retrieved['roots']; retrievedAt: string }): PrefilledGroup {
  const retrieved = new Retrieved(got.result, got.roots);
  const components = decideOnce(group, retrieved, got.retrievedAt);
  const decided = new Map<string, DossierComponentResult>(components.map((c) => [c.code, c]));
  const forms = group.procedures.map((p) => buildForm(p, got.result, got.roots, got.retrievedAt, decided));

  // A value once: a registry field by its source path, a citizen field by its key.
  const values = new Map<string, boolean>();
  forms.forEach((form, i) => {
    const procedure = group.procedures[i]!;
    form.fields.forEach((f, j) => {
      const path = procedure.fields[j]!.path?.path;
      const id = path ? `path:${path}` : `citizen:${f.key}`;
      values.set(id, (values.get(id) ?? false) || f.value !== null);
    });
  });
  const fieldsTotal = values.size;
  const fieldsPrefilled = [...values.values()].filter(Boolean).length;
  const cut = components.filter((c) => c.status === 'CUT');
  const trips = new Map<string, number>();
  for (const p of group.procedures) for (const c of p.components) if (!trips.has(c.def.code)) trips.set(c.def.code, c.tripsAvoided);
  const formPages = group.procedures.reduce((n, p) => n + p.def.timeSaved.formPages, 0);
  return {
    group,
    forms,
    dossierComponents: components,
    summary: {
      forms: forms.length,
      fieldsShown: forms.reduce((n, f) => n + f.summary.fieldsTotal, 0),
      fieldsTotal,
      fieldsPrefilled,
      fieldsForCitizen: fieldsTotal - fieldsPrefilled,
      componentsTotal: components.length,
      componentsCut: cut.length,
      hoursSaved: hoursSaved(formPages, fieldsPrefilled, fieldsTotal, cut.map((c) => trips.get(c.code) ?? 1)),
    },
  };
}

/** The whole group prefill for one request; `context` is the caller's MotlanContext. */
export async function prefillGroup(deps: PrefillDeps, args: PrefillGroupArgs, context: MotlanContext): Promise<PrefilledGroup> {
  const { group, subject } = checkGroupArgs(deps.catalog, args);
  // The group id is the purpose: its allowed paths are the union of its procedures'.
  const inner = purposeContexts(context, group.def.id, args.dossierId, subject);
  const got = await retrieve(deps, group, subject, inner);
  return buildGroup(group, got);
}
