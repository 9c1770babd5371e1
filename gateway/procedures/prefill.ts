/**
 * `prefill`: fills a procedure's e-form from the registries and decides which dossier
 * components the citizen no longer submits.
 *
 * Order of work, each step able to stop the request:
 *  1. the procedure exists (NOT_FOUND), identifiers are well formed and are exactly the
 *     subjects the procedure takes (BAD_USER_INPUT);
 *  2. relation check from the citizen's side (one FORBIDDEN SUBJECT_NOT_RELATED for an
 *     unknown citizen and for an unrelated subject alike, so the refusal is no existence
 *     oracle, before any of that subject's data is fetched); a procedure
 *     about the citizen alone has nothing to relate, and its compiled operation is the
 *     existence check (see prefillCitizenOnly);
 *  3. the procedure's compiled operation, through the gateway pipeline with the caller's
 *     context (policy, cache and audit apply);
 *  4. provenance per field and fail-safe component decisions: a component is cut only
 *     when the replacing data was retrieved and meets its conditions.
 */
import { REGISTRY_TITLES } from '../../lib/registries.js';
import { GraphQLError } from 'graphql';
import { validateEnterpriseCode, validateParcelId, validatePersonalId } from '../../lib/identifiers.js';
import { DOSSIER_ID_RULE, isDossierId } from '../../lib/purpose-ids.js';
import type { MotlanContext, Subject } from '../core/context.js';
import type { SubjectRoot } from './catalog-format.js';
import type { Catalog } from './catalog.js';
import type { CompiledComponent, CompiledField, CompiledProcedure, CompiledTarget } from './compile.js';
import { innerContext, type ExecutionError, type ExecutionResult, type InnerExecutor } from '../core/inner-execution.js';
import { formatValues } from './format.js';
import { hoursSaved } from './hours.js';
import { ROOTS, valuesAt, type ResolvedPath } from './paths.js';
import { assertRelated, checkSubjectRelations, failedUnder, notFoundCitizen, type RelatedSubject } from '../core/relations.js';
import type { PrefillSummary } from '../core/context.js';

export interface SubjectInput {
  personalId: string;
  relatedPersonalId?: string | null;
  enterpriseCode?: string | null;
  parcelId?: string | null;
}

export interface PrefillArgs {
  procedureId: string;
  subject: SubjectInput;
  dossierId?: string | null;
}

export interface PrefilledField {
  key: string;
  label: string;
  value: string | null;
  source: 'REGISTRY' | 'CITIZEN';
  registry: string | null;
  retrievedAt: string | null;
  unavailable: 'NOT_RECORDED' | 'REGISTRY_UNAVAILABLE' | null;
}

/**
 * Why a component is cut or required, as a stable code (the `reason` text says it in words).
 * REQUIRED: NO_REGISTRY (no source holds it), NOT_RECORDED, REGISTRY_UNAVAILABLE,
 * CONDITION_NOT_MET, RESULT_EXPIRED, RESULT_REVOKED, RESULT_NOT_VALID (any other status).
 * CUT: REPLACED_BY_DATA (replacedBy), REPLACED_BY_RESULT (replacedByResult, status VALID).
 */
export type ComponentReasonCode =
  | 'REPLACED_BY_DATA'
  | 'REPLACED_BY_RESULT'
  | 'NO_REGISTRY'
  | 'NOT_RECORDED'
  | 'REGISTRY_UNAVAILABLE'
  | 'CONDITION_NOT_MET'
  | 'RESULT_EXPIRED'
  | 'RESULT_REVOKED'
  | 'RESULT_NOT_VALID';

/** Where the data that cut a component came from; number and issuingAgency for a digitised result. */
export interface ComponentProvenance {
  registry: string;
  retrievedAt: string;
  /** The catalog paths whose retrieved values replaced the component. */
  paths: string[];
  /** Số (number) of the digitised result; null when cut by data. */
  number: string | null;
  /** Cơ quan cấp (issuing agency) of the digitised result; null when cut by data. */
  issuingAgency: string | null;
}

export interface DossierComponentResult {
  code: string;
  name: string;
  status: 'CUT' | 'REQUIRED';
  registry: string | null;
  reason: string;
  reasonCode: ComponentReasonCode;
  /** Set when CUT, null when REQUIRED. */
  provenance: ComponentProvenance | null;
}

export type { PrefillSummary };

export interface PrefilledForm {
  procedure: CompiledProcedure;
  fields: PrefilledField[];
  dossierComponents: DossierComponentResult[];
  summary: PrefillSummary;
}

const SUBJECT_OF_ROOT: Record<SubjectRoot, keyof SubjectInput> = {
  citizen: 'personalId',
  relatedCitizen: 'relatedPersonalId',
  enterprise: 'enterpriseCode',
  parcel: 'parcelId',
};
const RELATED_OF_ROOT: Partial<Record<SubjectRoot, RelatedSubject>> = {
  relatedCitizen: 'relatedPersonalId',
  enterprise: 'enterpriseCode',
  parcel: 'parcelId',
};
const SUBJECT_MEANING: Record<keyof SubjectInput, string> = {
  personalId: 'the personal ID of the citizen who files',
  relatedPersonalId: 'the personal ID of the family member the procedure is about',
  enterpriseCode: 'the code of the enterprise',
  parcelId: 'the id of the land parcel',
};

const REGISTRY_NAMES: Record<string, string> = {
  population: `population registry (${REGISTRY_TITLES.population})`,
  enterprise: `business registry (${REGISTRY_TITLES.enterprise})`,
  insurance: `insurance registry (${REGISTRY_TITLES.insurance})`,
  land: `land registry (${REGISTRY_TITLES.land})`,
  civil: `civil-status registry (${REGISTRY_TITLES.civil})`,
};
const registryName = (r: string) => REGISTRY_NAMES[r] ?? `${r} registry`;

/** `reason`: INVALID_IDENTIFIER (malformed value) or SUBJECTS_DO_NOT_FIT_PROCEDURE (core/reasons.ts). */
function badInput(message: string, reason: 'INVALID_IDENTIFIER' | 'SUBJECTS_DO_NOT_FIT_PROCEDURE'): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT', reason } });
}

/** Step 1: the procedure and well-formed subjects, exactly those the procedure takes. */
export function checkPrefillArgs(catalog: Catalog, args: PrefillArgs): { procedure: CompiledProcedure; subject: Subject } {
  const procedure = catalog.byId.get(args.procedureId);
  if (!procedure) {
    throw new GraphQLError(`Unknown procedure "${String(args.procedureId).slice(0, 80)}": list the catalog with { procedures { id name } }.`, {
      extensions: { code: 'NOT_FOUND', reason: 'UNKNOWN_PROCEDURE' },
    });
  }
  return { procedure, subject: checkSubject(`Procedure ${procedure.def.id}`, procedure.def.subjects, args.subject, args.dossierId) };
}

/**
 * Well-formed identifiers, exactly the subjects `subjects` lists (a procedure's, or the union
 * of a group's procedures'), and a well-formed dossier id. `what` names the procedure or group.
 */
export function checkSubject(what: string, subjects: readonly SubjectRoot[], s: SubjectInput, dossierId: string | null | undefined): Subject {
  // The same rule as the X-Dossier-Id header: the value is recorded and exported to auditors.
  if (dossierId != null && !isDossierId(dossierId)) throw badInput(`dossierId ${DOSSIER_ID_RULE}.`, 'INVALID_IDENTIFIER');
  const problems = [
    validatePersonalId(s.personalId),
    s.relatedPersonalId != null ? validatePersonalId(s.relatedPersonalId) : null,
    s.enterpriseCode != null ? validateEnterpriseCode(s.enterpriseCode) : null,
    s.parcelId != null ? validateParcelId(s.parcelId) : null,
  ].filter((p): p is string => p !== null);
  if (problems.length) throw badInput(problems.join(' '), 'INVALID_IDENTIFIER');
  if (s.relatedPersonalId != null && s.relatedPersonalId === s.personalId) {
    throw badInput('subject.relatedPersonalId is the citizen themself: give the family member the procedure is about.', 'SUBJECTS_DO_NOT_FIT_PROCEDURE');
  }
  const takes = new Set(subjects);
  for (const root of Object.keys(SUBJECT_OF_ROOT) as SubjectRoot[]) {
    const key = SUBJECT_OF_ROOT[root];
    const given = s[key] != null;
    if (takes.has(root) && !given) {
      throw badInput(`${what} needs subject.${key} (${SUBJECT_MEANING[key]}).`, 'SUBJECTS_DO_NOT_FIT_PROCEDURE');
    }
    if (!takes.has(root) && given) {
      // Data minimisation: a subject the form does not need is not even looked at.
      throw badInput(
        `${what} does not take subject.${key}; it takes ${subjects.map((r) => `subject.${SUBJECT_OF_ROOT[r]}`).join(', ')}.`,
        'SUBJECTS_DO_NOT_FIT_PROCEDURE',
      );
    }
  }
  const subject: Subject = { personalId: s.personalId };
  if (s.relatedPersonalId != null) subject.relatedPersonalId = s.relatedPersonalId;
  if (s.enterpriseCode != null) subject.enterpriseCode = s.enterpriseCode;
  if (s.parcelId != null) subject.parcelId = s.parcelId;
  return subject;
}

type PathState =
  | { kind: 'present'; values: unknown[] }
  | { kind: 'absent' }
  | { kind: 'unavailable' };

function responseKey(root: SubjectRoot): string {
  return ROOTS[root].alias ?? ROOTS[root].queryField;
}

function valueAtErrorPath(data: Record<string, unknown> | null | undefined, path: ReadonlyArray<string | number>): unknown {
  let cur: unknown = data;
  for (const step of path) {
    if (cur === null || cur === undefined) return cur;
    cur = (cur as Record<string | number, unknown>)[step];
  }
  return cur;
}

/**
 * Whether an error explains a missing value at `p`: it names the path's registry, or it
 * sits on the path above the value with nothing retrieved there, or it cannot be located.
 */
function errorTouches(e: ExecutionError, p: ResolvedPath, data: Record<string, unknown> | null | undefined): boolean {
  const registry = (e.extensions?.['registry'] ?? e.extensions?.['serviceName']) as string | undefined;
  if (registry !== undefined && registry === p.registry) return true;
  if (!e.path || e.path.length === 0) return registry === undefined;
  const names = e.path.filter((s): s is string => typeof s === 'string');
  const full = [responseKey(p.root), ...p.selection];
  const isPrefix = names.every((n, i) => full[i] === n);
  if (!isPrefix) return false;
  const v = valueAtErrorPath(data, e.path);
  return v === null || v === undefined;
}

export class Retrieved {
  constructor(
    readonly result: ExecutionResult | null,
    readonly roots: ReadonlySet<SubjectRoot>,
  ) {}

  state(p: ResolvedPath): PathState {
    if (!this.result || !this.roots.has(p.root)) return { kind: 'unavailable' };
    const values = valuesAt(this.result.data, responseKey(p.root), p.selection);
    if (values.length > 0) return { kind: 'present', values };
    const errors = this.result.errors ?? [];
    return errors.some((e) => errorTouches(e, p, this.result!.data)) ? { kind: 'unavailable' } : { kind: 'absent' };
  }
}

function conditionHolds(value: unknown, c: CompiledComponent['when'][number]['def']): boolean {
  if (c.equals !== undefined) return value === c.equals;
  if (c.notEquals !== undefined) return value !== c.notEquals;
  if (c.in !== undefined) return c.in.includes(value as string | number | boolean);
  if (c.min !== undefined) return typeof value === 'number' && value >= c.min;
  if (c.max !== undefined) return typeof value === 'number' && value <= c.max;
  return false;
}

// Results are built as plain literals: `{ ...base, more }` is a slow path in V8 (Node 20),
// measured at ~6 µs per object, which made building the form cost more than its query.
function required(c: CompiledComponent, registry: string | null, reasonCode: ComponentReasonCode, reason: string): DossierComponentResult {
  return { code: c.def.code, name: c.def.name, status: 'REQUIRED', registry, reason, reasonCode, provenance: null };
}

function cut(c: CompiledComponent, reasonCode: ComponentReasonCode, reason: string, provenance: ComponentProvenance): DossierComponentResult {
  return { code: c.def.code, name: c.def.name, status: 'CUT', registry: provenance.registry, reason, reasonCode, provenance };
}

/** replacedBy (+ when): cut when every path was retrieved and every condition holds. */
function decideByData(c: CompiledComponent, got: Retrieved, retrievedAt: string): DossierComponentResult {
  const registries = [...new Set(c.replacedBy.map((p) => p.registry))];
  for (const p of [...c.replacedBy, ...c.when.map((w) => w.path)]) {
    const s = got.state(p);
    if (s.kind === 'unavailable') {
      return required(c, p.registry, 'REGISTRY_UNAVAILABLE', `The ${registryName(p.registry)} is unavailable: ${p.path} could not be retrieved, so the component is not cut this time.`);
    }
    if (s.kind === 'absent') {
      return required(c, p.registry, 'NOT_RECORDED', `${p.path} is not recorded in the ${registryName(p.registry)}, so the component is still required.`);
    }
  }
  for (const w of c.when) {
    const s = got.state(w.path) as { kind: 'present'; values: unknown[] };
    const failing = s.values.find((v) => !conditionHolds(v, w.def));
    if (failing !== undefined) {
      return required(c, w.path.registry, 'CONDITION_NOT_MET', `Condition ${w.text} is not met (the ${registryName(w.path.registry)} records ${String(failing)}).`);
    }
  }
  const conditions = c.when.length ? ` (${c.when.map((w) => w.text).join(', ')})` : '';
  return cut(c, 'REPLACED_BY_DATA', `Replaced by ${c.replacedBy.map((p) => p.path).join(', ')} retrieved from the ${registries.map(registryName).join(' and ')}${conditions}.`, {
    registry: registries.join(', '),
    retrievedAt,
    paths: c.replacedBy.map((p) => p.path),
    number: null,
    issuingAgency: null,
  });
}

/** One string value at a path, or the state that prevents it (a list or a non-string is not trusted). */
function oneString(got: Retrieved, p: ResolvedPath): { kind: 'present'; value: string } | { kind: 'absent' } | { kind: 'unavailable' } {
  const s = got.state(p);
  if (s.kind !== 'present') return s;
  const v = s.values.length === 1 ? s.values[0] : undefined;
  return typeof v === 'string' && v.trim() !== '' ? { kind: 'present', value: v } : { kind: 'absent' };
}

/**
 * replacedByResult: CUT only when the result was retrieved, its status is exactly VALID, it
 * has no revocation date, and its number and issuing agency were retrieved (they are the
 * provenance). Anything else, whatever the source answers, keeps the component REQUIRED.
 */
function decideByResult(c: CompiledComponent, got: Retrieved, retrievedAt: string): DossierComponentResult {
  const r = c.result!;
  const where = `the ${registryName(r.registry)}`;
  const missing = (s: { kind: 'absent' } | { kind: 'unavailable' }, p: ResolvedPath) =>
    s.kind === 'unavailable'
      ? required(c, r.registry, 'REGISTRY_UNAVAILABLE', `${where.charAt(0).toUpperCase()}${where.slice(1)} is unavailable: ${r.path} could not be retrieved, so the component is not cut this time.`)
      : required(c, r.registry, 'NOT_RECORDED', `No ${p === r.status ? '' : 'complete '}digitised result ${r.path} is recorded in ${where}, so the component is still required.`);
  const status = oneString(got, r.status);
  if (status.kind !== 'present') return missing(status, r.status);
  if (status.value === 'EXPIRED') return required(c, r.registry, 'RESULT_EXPIRED', `The digitised result ${r.path} has expired, so the component is still required.`);
  if (status.value === 'REVOKED') return required(c, r.registry, 'RESULT_REVOKED', `The digitised result ${r.path} was revoked, so the component is still required.`);
  if (status.value !== 'VALID') return required(c, r.registry, 'RESULT_NOT_VALID', `The digitised result ${r.path} is not valid (status ${status.value.slice(0, 40)}), so the component is still required.`);
  if (r.revokedOn) {
    const revoked = got.state(r.revokedOn);
    if (revoked.kind === 'unavailable') return missing(revoked, r.revokedOn);
    if (revoked.kind === 'present') return required(c, r.registry, 'RESULT_REVOKED', `The digitised result ${r.path} carries a revocation date, so the component is still required.`);
  }
  const number = oneString(got, r.number);
  if (number.kind !== 'present') return missing(number, r.number);
  const agency = oneString(got, r.issuingAgency);
  if (agency.kind !== 'present') return missing(agency, r.issuingAgency);
  return cut(c, 'REPLACED_BY_RESULT', `Replaced by the digitised result ${r.path} (số ${number.value}, ${agency.value}), valid, retrieved from ${where}.`, {
    registry: r.registry,
    retrievedAt,
    paths: [r.path],
    number: number.value,
    issuingAgency: agency.value,
  });
}

/**
 * One component. With both replacedByResult and replacedBy, either suffices: the result is
 * tried first (its provenance is the more precise), then the data; when neither cuts, the
 * result's reason is given (it says why the paper the state issued cannot be reused).
 */
export function decideComponent(c: CompiledComponent, got: Retrieved, retrievedAt: string): DossierComponentResult {
  if (c.replacedBy.length === 0 && !c.result) {
    return required(c, null, 'NO_REGISTRY', 'No national registry holds this document: the citizen submits it.');
  }
  if (c.result) {
    const byResult = decideByResult(c, got, retrievedAt);
    if (byResult.status === 'CUT' || c.replacedBy.length === 0) return byResult;
    const byData = decideByData(c, got, retrievedAt);
    return byData.status === 'CUT' ? byData : { ...byResult, reason: `${byResult.reason} ${byData.reason}` };
  }
  return decideByData(c, got, retrievedAt);
}

function fieldResult(
  f: CompiledField,
  value: string | null,
  source: PrefilledField['source'],
  registry: string | null,
  retrievedAt: string | null,
  unavailable: PrefilledField['unavailable'],
): PrefilledField {
  return { key: f.def.key, label: f.def.label, value, source, registry, retrievedAt, unavailable };
}

/**
 * Steps 3-4 on a retrieval: the form with provenance, components and summary.
 * `decided` gives decisions made elsewhere by component code (a group decides each code once).
 */
export function buildForm(
  procedure: CompiledProcedure,
  result: ExecutionResult | null,
  roots: ReadonlySet<SubjectRoot>,
  retrievedAt: string,
  decided?: ReadonlyMap<string, DossierComponentResult>,
): PrefilledForm {
  const got = new Retrieved(result, roots);
  const fields: PrefilledField[] = procedure.fields.map((f): PrefilledField => {
    if (!f.path) return fieldResult(f, null, 'CITIZEN', null, null, null);
    const s = got.state(f.path);
    const registry = f.path.registry;
    if (s.kind === 'present') return fieldResult(f, formatValues(s.values, f.format, f.def.labels), 'REGISTRY', registry, retrievedAt, null);
    // The registry answered and records nothing, which for this field means "none".
    if (s.kind === 'absent' && f.def.ifAbsent !== undefined) return fieldResult(f, f.def.ifAbsent, 'REGISTRY', registry, retrievedAt, null);
    return s.kind === 'absent'
      ? fieldResult(f, null, 'REGISTRY', registry, retrievedAt, 'NOT_RECORDED')
      : fieldResult(f, null, 'REGISTRY', registry, null, 'REGISTRY_UNAVAILABLE');
  });
  const dossierComponents = procedure.components.map((c) => {
    const d = decided?.get(c.def.code);
    // The form keeps its own name for the component; the decision is the group's.
    return d ? { ...d, name: c.def.name } : decideComponent(c, got, retrievedAt);
  });
  const fieldsPrefilled = fields.filter((f) => f.value !== null).length;
  const cut = procedure.components.filter((_, i) => dossierComponents[i]!.status === 'CUT');
  return {
    procedure,
    fields,
    dossierComponents,
    summary: {
      fieldsTotal: fields.length,
      fieldsPrefilled,
      fieldsForCitizen: fields.length - fieldsPrefilled,
      componentsTotal: dossierComponents.length,
      componentsCut: cut.length,
      hoursSaved: hoursSaved(procedure.def.timeSaved.formPages, fieldsPrefilled, fields.length, cut.map((c) => c.tripsAvoided)),
    },
  };
}

/** An error that is not about a registry (e.g. refused by policy), with no data: the caller's answer as is. */
function throwIfRefused(result: ExecutionResult): ExecutionResult {
  if (result.data !== null && result.data !== undefined) return result;
  const refused = result.errors?.find((e) => e.extensions?.['code'] !== 'REGISTRY_UNAVAILABLE');
  if (refused) throw new GraphQLError(refused.message, { extensions: refused.extensions ?? {} });
  return result;
}

const NO_ROOTS: ReadonlySet<SubjectRoot> = new Set();
const CITIZEN_ROOT: ReadonlySet<SubjectRoot> = new Set(['citizen']);

/** What one prefill fetches for: a procedure, or a group (the union of its procedures' paths). */
export interface PrefillTarget {
  subjects: readonly SubjectRoot[];
  citizenOnly: boolean;
  operation: CompiledTarget['operation'];
  operationFor: CompiledTarget['operationFor'];
}

/** One retrieval: the answer (null when nothing could be read), the subject roots it covers, when. */
export interface Retrieval {
  result: ExecutionResult | null;
  roots: ReadonlySet<SubjectRoot>;
  retrievedAt: string;
}

/**
 * A target about the citizen alone has no relation to check: its compiled operation
 * is also the existence check (one inner operation instead of two). The outcomes are
 * those of the relation check: no citizen and no error → NOT_FOUND; the citizen could
 * not be read (population registry down) → nothing is used, every registry field
 * REGISTRY_UNAVAILABLE and no component cut.
 */
async function retrieveCitizenOnly(deps: PrefillDeps, target: PrefillTarget, subject: Subject, inner: MotlanContext): Promise<Retrieval> {
  const op = target.operation;
  const result = throwIfRefused(await deps.execute({ query: op.query, operationName: op.operationName, variables: { [ROOTS.citizen.variable]: subject.personalId } }, inner));
  const key = responseKey('citizen');
  const citizen = result.data?.[key];
  const retrievedAt = (deps.now ?? (() => new Date()))().toISOString();
  if (citizen === null || citizen === undefined) {
    if (!failedUnder(result.errors, key)) throw notFoundCitizen(subject.personalId!);
    return { result: null, roots: NO_ROOTS, retrievedAt };
  }
  return { result, roots: CITIZEN_ROOT, retrievedAt };
}

/** Steps 2-3: relation checks, then the target's one operation for the subjects that may be read. */
export async function retrieve(deps: PrefillDeps, target: PrefillTarget, subject: Subject, inner: MotlanContext): Promise<Retrieval> {
  if (target.citizenOnly) return retrieveCitizenOnly(deps, target, subject, inner);

  const check = await checkSubjectRelations(subject, deps.execute, inner);
  const roots = new Set<SubjectRoot>();
  if (check.citizenVerified) {
    // Unknown citizen and unrelated subject → the same FORBIDDEN SUBJECT_NOT_RELATED (no oracle);
    // a link that cannot be checked only drops that subject's data.
    assertRelated({ ...check, verdicts: check.verdicts.filter((v) => v.status !== 'unverifiable') }, subject);
    for (const root of target.subjects) {
      const rel = RELATED_OF_ROOT[root];
      if (!rel || check.verdicts.some((v) => v.subject === rel && v.status === 'related')) roots.add(root);
    }
  }

  const op = target.operationFor(roots);
  let result: ExecutionResult | null = null;
  if (op) {
    const variables: Record<string, unknown> = {};
    for (const root of roots) variables[ROOTS[root].variable] = subject[SUBJECT_OF_ROOT[root] as keyof Subject];
    result = throwIfRefused(await deps.execute({ query: op.query, operationName: op.operationName, variables }, inner));
  }
  const retrievedAt = (deps.now ?? (() => new Date()))().toISOString();
  return { result, roots, retrievedAt };
}

export interface PrefillDeps {
  catalog: Catalog;
  execute: InnerExecutor;
  /** Clock for retrievedAt. Default: the system clock. */
  now?: () => Date;
}

/** Records the declared purpose and subject on the caller's context (unless the policy did) and builds the inner context. */
export function purposeContexts(context: MotlanContext, purposeId: string, dossierId: string | null | undefined, subject: Subject): MotlanContext {
  const purpose = { procedureId: purposeId, dossierId: dossierId ?? null };
  // The prefill arguments are this request's declared purpose and subject: record them
  // for the audit trail unless the policy already did.
  if (!context.purpose) context.purpose = purpose;
  if (!context.subject || Object.keys(context.subject).length === 0) context.subject = { ...subject };
  return innerContext(context, purpose, subject);
}

/** The whole prefill for one request; `context` is the caller's MotlanContext. */
export async function prefill(deps: PrefillDeps, args: PrefillArgs, context: MotlanContext): Promise<PrefilledForm> {
  const { procedure, subject } = checkPrefillArgs(deps.catalog, args);
  const inner = purposeContexts(context, procedure.def.id, args.dossierId, subject);
  const got = await retrieve(deps, { ...procedure, subjects: procedure.def.subjects }, subject, inner);
  return buildForm(procedure, got.result, got.roots, got.retrievedAt);
}
