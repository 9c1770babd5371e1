/**
 * Subject relation checks: a request about a citizen may also name a family member,
 * an enterprise or a land parcel only when the registries record a link between them.
 *
 * - `relatedPersonalId`: a parent, child, spouse or household member recorded in the
 *   population registry;
 * - `enterpriseCode`: an enterprise the citizen is legal representative or member of
 *   (business registry);
 * - `parcelId`: a parcel held by the citizen, or by an enterprise the citizen is the
 *   legal representative of (land registry).
 *
 * The check reads only identifiers, starting from the citizen (never from the other
 * subject), so nothing of an unrelated subject is fetched. Used by prefill and, for
 * plain federated queries, by the purpose policy (gateway/policy):
 *
 *   const verdicts = await checkSubjectRelations(subject, execute, context);
 *   assertRelated(verdicts); // throws FORBIDDEN SUBJECT_NOT_RELATED / REGISTRY_UNAVAILABLE
 */
import { GraphQLError } from 'graphql';
import type { MotlanContext, Subject } from './context.js';
import { identifierLookupContext, type ExecutionError, type ExecutionResult, type InnerExecutor } from './inner-execution.js';

export type RelatedSubject = 'relatedPersonalId' | 'enterpriseCode' | 'parcelId';

/**
 * Outcome for one subject: `related`; `unrelated` (FORBIDDEN); `unverifiable` when the
 * registry that records the link did not answer (fail closed: the subject's data is
 * not fetched).
 */
export interface RelationVerdict {
  subject: RelatedSubject;
  status: 'related' | 'unrelated' | 'unverifiable';
  /** Registry that records the link. */
  registry: string;
  /** Why, in words a TTHC integrator can act on. */
  reason: string;
}

export interface RelationCheck {
  /** False when the population registry answered that no such citizen exists. */
  citizenFound: boolean;
  /** False when the population registry could not be reached (nothing can be verified). */
  citizenVerified: boolean;
  verdicts: RelationVerdict[];
}

/** Field coordinates the relation query may select (for the purpose policy's allow-list). */
export const RELATION_COORDINATES: Record<'citizen' | RelatedSubject, string[]> = {
  citizen: ['Query.citizen', 'Citizen.personalId'],
  relatedPersonalId: [
    'Citizen.father',
    'Citizen.mother',
    'Citizen.spouse',
    'Citizen.children',
    'Citizen.household',
    'Household.members',
    'HouseholdMember.citizen',
  ],
  enterpriseCode: ['Citizen.enterprises', 'EnterpriseRole.role', 'EnterpriseRole.enterprise', 'Enterprise.enterpriseCode'],
  parcelId: [
    'Citizen.landParcels',
    'LandParcel.parcelId',
    'Citizen.enterprises',
    'EnterpriseRole.role',
    'EnterpriseRole.enterprise',
    'Enterprise.enterpriseCode',
    'Enterprise.landParcels',
  ],
};

/**
 * Paths the relation query reads from the citizen (identifiers and the enterprise role),
 * per related subject. Internal relation-check operations are held to the procedure's
 * path tree plus these (gateway/policy); a client's own queries are not.
 */
export const RELATION_PATHS: Record<'citizen' | RelatedSubject, string[]> = {
  citizen: ['citizen.personalId'],
  relatedPersonalId: [
    'citizen.father.personalId',
    'citizen.mother.personalId',
    'citizen.spouse.personalId',
    'citizen.children.personalId',
    'citizen.household.members.citizen.personalId',
  ],
  enterpriseCode: ['citizen.enterprises.role', 'citizen.enterprises.enterprise.enterpriseCode'],
  parcelId: [
    'citizen.landParcels.parcelId',
    'citizen.enterprises.role',
    'citizen.enterprises.enterprise.enterpriseCode',
    'citizen.enterprises.enterprise.landParcels.parcelId',
  ],
};

/**
 * The relation query for the given subjects. Each link sits under its own alias of
 * `citizen` so a registry that is down nulls only its own part (non-null lists such
 * as `landParcels` would otherwise null the whole citizen).
 */
export function relationQuery(subjects: ReadonlySet<RelatedSubject>): { query: string; operationName: string } {
  const parts = ['subjectCitizen: citizen(personalId: $personalId) { personalId' +
    (subjects.has('relatedPersonalId')
      ? ' father { personalId } mother { personalId } spouse { personalId } children { personalId } household { members { citizen { personalId } } }'
      : '') +
    ' }'];
  if (subjects.has('enterpriseCode') || subjects.has('parcelId')) {
    parts.push(
      'subjectEnterprises: citizen(personalId: $personalId) { enterprises { role enterprise { enterpriseCode' +
        (subjects.has('parcelId') ? ' landParcels { parcelId }' : '') +
        ' } } }',
    );
  }
  if (subjects.has('parcelId')) parts.push('subjectParcels: citizen(personalId: $personalId) { landParcels { parcelId } }');
  return {
    operationName: 'MotlanSubjectRelations',
    query: `query MotlanSubjectRelations($personalId: ID!) {\n  ${parts.join('\n  ')}\n}`,
  };
}

type Obj = Record<string, unknown>;
const ids = (list: unknown, key: string): string[] =>
  Array.isArray(list) ? list.map((x) => (x as Obj | null)?.[key]).filter((v): v is string => typeof v === 'string') : [];

/** Whether an error may explain a null under `alias`. */
export function failedUnder(errors: readonly ExecutionError[] | undefined, alias: string): boolean {
  // An error without a path (a whole fetch failed) may concern any alias.
  return (errors ?? []).some((e) => !e.path || e.path.length === 0 || e.path[0] === alias);
}

/** Pure evaluation of a relation query result; exported for unit tests and the policy. */
export function evaluateRelations(subject: Subject, result: ExecutionResult): RelationCheck {
  const data = result.data ?? {};
  const me = data['subjectCitizen'] as Obj | null | undefined;
  const verdicts: RelationVerdict[] = [];
  if (!me) {
    const down = failedUnder(result.errors, 'subjectCitizen');
    return { citizenFound: false, citizenVerified: !down, verdicts: [] };
  }

  if (subject.relatedPersonalId) {
    const family = new Set<string>([
      ...ids([me['father'], me['mother'], me['spouse']], 'personalId'),
      ...ids(me['children'], 'personalId'),
      ...ids(((me['household'] as Obj | null)?.['members'] as unknown[] | undefined)?.map((m) => (m as Obj)['citizen']), 'personalId'),
    ]);
    family.delete(subject.personalId ?? '');
    const related = family.has(subject.relatedPersonalId);
    verdicts.push({
      subject: 'relatedPersonalId',
      status: related ? 'related' : 'unrelated',
      registry: 'population',
      reason: related
        ? 'recorded as a family member in the population registry'
        : `relatedPersonalId ${subject.relatedPersonalId} is not recorded in the population registry as a parent, child, spouse or household member of the citizen`,
    });
  }

  const rolesNode = data['subjectEnterprises'] as Obj | null | undefined;
  const roles = (rolesNode?.['enterprises'] as Obj[] | null | undefined) ?? [];
  // Registry-owned lists are nullable: null (not []) with an error means the registry could not answer.
  const rolesUnknown = !Array.isArray(rolesNode?.['enterprises']) && failedUnder(result.errors, 'subjectEnterprises');
  if (subject.enterpriseCode) {
    const code = subject.enterpriseCode;
    const linked = roles.some((r) => (r['enterprise'] as Obj | null)?.['enterpriseCode'] === code);
    verdicts.push(
      linked
        ? { subject: 'enterpriseCode', status: 'related', registry: 'enterprise', reason: 'the citizen is legal representative or member of the enterprise' }
        : rolesUnknown
          ? { subject: 'enterpriseCode', status: 'unverifiable', registry: 'enterprise', reason: 'the enterprise registry is unavailable, so the link between the citizen and the enterprise cannot be checked' }
          : { subject: 'enterpriseCode', status: 'unrelated', registry: 'enterprise', reason: `the citizen is neither legal representative nor member of enterprise ${code} in the business registry` },
    );
  }

  if (subject.parcelId) {
    const parcelId = subject.parcelId;
    const ownNode = data['subjectParcels'] as Obj | null | undefined;
    const own = ids(ownNode?.['landParcels'], 'parcelId');
    const viaEnterprise = roles
      .filter((r) => r['role'] === 'LEGAL_REPRESENTATIVE')
      .flatMap((r) => ids((r['enterprise'] as Obj | null)?.['landParcels'], 'parcelId'));
    const held = own.includes(parcelId) || viaEnterprise.includes(parcelId);
    const parcelsUnknown = !Array.isArray(ownNode?.['landParcels']) && failedUnder(result.errors, 'subjectParcels');
    const representedUnknown = roles
      .filter((r) => r['role'] === 'LEGAL_REPRESENTATIVE')
      .some((r) => !Array.isArray((r['enterprise'] as Obj | null)?.['landParcels']) && failedUnder(result.errors, 'subjectEnterprises'));
    const incomplete = parcelsUnknown || rolesUnknown || representedUnknown;
    verdicts.push(
      held
        ? { subject: 'parcelId', status: 'related', registry: 'land', reason: 'the parcel is held by the citizen or by an enterprise the citizen represents' }
        : incomplete
          ? { subject: 'parcelId', status: 'unverifiable', registry: 'land', reason: 'the land or business registry is unavailable, so the link between the citizen and the parcel cannot be checked' }
          : { subject: 'parcelId', status: 'unrelated', registry: 'land', reason: `parcel ${parcelId} is not held by the citizen nor by an enterprise the citizen is legal representative of` },
    );
  }
  return { citizenFound: true, citizenVerified: true, verdicts };
}

/** Runs the relation query for `subject` through `execute` and evaluates it. */
export async function checkSubjectRelations(subject: Subject, execute: InnerExecutor, context: MotlanContext): Promise<RelationCheck> {
  if (!subject.personalId) throw new GraphQLError('A subject needs the personalId of the citizen.', { extensions: { code: 'BAD_USER_INPUT', reason: 'SUBJECTS_DO_NOT_FIT_PROCEDURE' } });
  const wanted = new Set<RelatedSubject>();
  if (subject.relatedPersonalId) wanted.add('relatedPersonalId');
  if (subject.enterpriseCode) wanted.add('enterpriseCode');
  if (subject.parcelId) wanted.add('parcelId');
  const { query, operationName } = relationQuery(wanted);
  // Marked so the identifiers it reads are not recorded as returned entities (they do not leave).
  const result = await execute({ query, operationName, variables: { personalId: subject.personalId } }, identifierLookupContext(context));
  // An error that is not about a registry (e.g. refused by policy) is the caller's answer as is.
  const foreign = result.errors?.find((e) => e.extensions?.['code'] !== 'REGISTRY_UNAVAILABLE' && (result.data === null || result.data === undefined));
  if (foreign) throw new GraphQLError(foreign.message, { extensions: foreign.extensions ?? {} });
  return evaluateRelations(subject, result);
}

/**
 * Throws the error a client gets when a subject is unknown, unrelated or cannot be checked.
 * No oracle: an unknown citizen and a known citizen with an unrelated subject get the SAME
 * refusal (status, code, reason and message), so a refusal never tells whether an
 * identifier exists; the verdict's own reason stays server-side (`cause`).
 */
export function assertRelated(check: RelationCheck, _subject?: Subject): void {
  if (!check.citizenVerified) {
    throw new GraphQLError('The population registry is unavailable, so the citizen and the subjects related to them cannot be checked. Retry later.', {
      extensions: { code: 'REGISTRY_UNAVAILABLE', registry: 'population' },
    });
  }
  if (!check.citizenFound) throw subjectsNotRelated();
  for (const v of check.verdicts) {
    if (v.status === 'unrelated') throw subjectsNotRelated(v);
  }
  for (const v of check.verdicts) {
    if (v.status === 'unverifiable') {
      throw new GraphQLError(`Cannot check ${v.subject}: ${v.reason}. Retry later.`, { extensions: { code: 'REGISTRY_UNAVAILABLE', registry: v.registry } });
    }
  }
}

/** Reason code of the no-oracle refusal (unknown or unrelated subject); the failed-lookup brake counts it. */
export const SUBJECT_NOT_RELATED = 'SUBJECT_NOT_RELATED';

/** The message of that refusal: the same words whatever the cause. */
export const SUBJECT_NOT_RELATED_MESSAGE =
  'Subjects refused: the registries do not record the citizen and the other subjects of this request (relative, enterprise, parcel) as related. ' +
  'An unknown identifier gets this same answer. Check the identifiers and that the procedure fits them; refusals count towards the failed-lookup brake.';

/**
 * The one refusal for an unknown citizen (when other subjects are named) and for an
 * unrelated subject: 403 FORBIDDEN, reason SUBJECT_NOT_RELATED, one fixed message.
 * `verdict` is kept off the response (a non-enumerable `cause` for server logs only).
 */
export function subjectsNotRelated(verdict?: RelationVerdict): GraphQLError {
  const err = new GraphQLError(SUBJECT_NOT_RELATED_MESSAGE, {
    extensions: { code: 'FORBIDDEN', reason: SUBJECT_NOT_RELATED },
  });
  if (verdict) Object.defineProperty(err, 'cause', { value: verdict, enumerable: false });
  return err;
}

/** Unknown citizen for a procedure about the citizen alone: the lookup itself (counted by the brake). */
export function notFoundCitizen(personalId: string): GraphQLError {
  return new GraphQLError(`No citizen with personal ID ${personalId} is recorded in the population registry.`, {
    extensions: { code: 'NOT_FOUND', reason: 'CITIZEN_NOT_FOUND' },
  });
}
