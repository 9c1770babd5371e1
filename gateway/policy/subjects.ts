/**
 * Who a plain query is about: the identifiers its root lookups name. They are validated
 * here, before any subgraph call, so a malformed or partial identifier ("0010%", "001*",
 * 11 digits) is refused at once (no search by prefix exists anywhere in the graph), and
 * collected into the context's `Subject` for relation checks and the audit trail.
 */
import { VALIDATORS, type IdentifierKind } from '../../lib/identifiers.js';
import type { Subject } from '../core/context.js';
import type { SubjectRoot } from '../core/path-tree.js';
import { forbidden, policyError } from '../core/errors.js';
import { ROOT_LOOKUPS, type RootFieldUse } from '../core/operation-analysis.js';

export { ROOT_LOOKUPS, type RootLookup } from '../core/operation-analysis.js';

export interface NamedSubjects {
  personalIds: string[];
  enterpriseCodes: string[];
  parcelIds: string[];
  /** Root lookups whose relation to the citizen cannot be checked before fetching. */
  indirect: string[];
  /** Number of identifiers looked up (for the unknown-lookup budget). */
  lookups: number;
}

/**
 * Validates and collects the identifiers of the root lookups; throws BAD_USER_INPUT on a
 * bad one. Deny by default: an argument it does not know, a null identifier, a scalar
 * where a list is expected (or the reverse) and an empty list are refused, never skipped.
 */
export function collectSubjects(roots: Array<{ use: RootFieldUse; args: Record<string, unknown> }>): NamedSubjects {
  const out: NamedSubjects = { personalIds: [], enterpriseCodes: [], parcelIds: [], indirect: [], lookups: 0 };
  for (const { use, args } of roots) {
    const lookup = ROOT_LOOKUPS[use.coordinate];
    if (!lookup) continue;
    const undecidable = (message: string) => policyError('BAD_USER_INPUT', `${use.responseKey}: ${message}`, { field: use.coordinate, reason: 'UNDECIDABLE_REQUEST' });
    const unknown = (use.node.arguments ?? []).map((a) => a.name.value).filter((a) => a !== lookup.arg);
    if (unknown.length > 0) throw undecidable(`argument ${unknown.join(', ')} is not recognised; ${use.name} takes ${lookup.arg} only.`);
    const raw = args[lookup.arg];
    if (raw === null || raw === undefined) throw undecidable(`${lookup.arg} is missing or null; name the identifier to look up.`);
    if (Boolean(lookup.list) !== Array.isArray(raw)) throw undecidable(`${lookup.arg} must be ${lookup.list ? 'a list of identifiers' : 'one identifier, not a list'}.`);
    const values: unknown[] = lookup.list ? (raw as unknown[]) : [raw];
    if (values.length === 0) throw undecidable(`${lookup.arg} is empty; name the identifiers to look up.`);
    for (const value of values) {
      out.lookups++;
      if (typeof value !== 'string') throw undecidable(`${lookup.arg} must hold strings.`);
      if (lookup.kind) {
        const problem = VALIDATORS[lookup.kind](value);
        if (problem) throw policyError('BAD_USER_INPUT', `${use.responseKey}: ${problem}`, { field: use.coordinate, reason: 'INVALID_IDENTIFIER' });
      } else if (!/^[A-Za-z0-9-]{1,40}$/.test(value)) {
        throw policyError('BAD_USER_INPUT', `${use.responseKey}: ${lookup.arg} must be 1-40 letters, digits or dashes.`, { field: use.coordinate, reason: 'INVALID_IDENTIFIER' });
      }
      if (lookup.subject === 'personalId' && !out.personalIds.includes(value)) out.personalIds.push(value);
      else if (lookup.subject === 'enterpriseCode' && !out.enterpriseCodes.includes(value)) out.enterpriseCodes.push(value);
      else if (lookup.subject === 'parcelId' && !out.parcelIds.includes(value)) out.parcelIds.push(value);
      else if (lookup.subject === null) out.indirect.push(use.coordinate);
    }
  }
  return out;
}

/**
 * The subject roots (`citizen`, `relatedCitizen`, `enterprise`, `parcel`) a root lookup
 * enters the purpose's path tree at, given the request's subject:
 * `citizen(personalId: X)` at `citizen` when X is the subject's personal ID and at
 * `relatedCitizen` when it is the related one; `citizens(personalIds:)` at the roots of
 * every (distinct) identifier; `enterprise` at `enterprise`; `landParcel` at `parcel`.
 * `null` for a root that is not a subject lookup (household, socialInsurance, …: no tree
 * reaches them), and an identifier that is not one of the subject's gives `unmatched`.
 */
export function rootsOfLookup(
  coordinate: string,
  args: Record<string, unknown>,
  subject: Subject,
): { roots: SubjectRoot[]; unmatched: string[] } | null {
  const lookup = ROOT_LOOKUPS[coordinate];
  if (!lookup || lookup.subject === null) return null;
  const raw = args[lookup.arg];
  const values = [...new Set((Array.isArray(raw) ? raw : [raw]).map(String))];
  const roots: SubjectRoot[] = [];
  const unmatched: string[] = [];
  for (const v of values) {
    let root: SubjectRoot | null = null;
    if (lookup.subject === 'personalId') root = v === subject.personalId ? 'citizen' : v === subject.relatedPersonalId ? 'relatedCitizen' : null;
    else if (lookup.subject === 'enterpriseCode') root = v === subject.enterpriseCode ? 'enterprise' : null;
    else root = v === subject.parcelId ? 'parcel' : null;
    if (root === null) unmatched.push(v);
    else if (!roots.includes(root)) roots.push(root);
  }
  return { roots, unmatched };
}

/**
 * Reduces the named identifiers to one Subject: one citizen (the token's, else the first
 * looked up), at most one related person, one enterprise, one parcel — the same shape as
 * prefill's SubjectInput, so one request cannot sweep over many people.
 */
export function toSubject(named: NamedSubjects, tokenPersonalId: string | undefined): Subject {
  const primary = tokenPersonalId ?? named.personalIds[0];
  const others = named.personalIds.filter((p) => p !== primary);
  if (others.length > 1) {
    throw forbidden(`A request may concern one citizen and at most one related person; this one names ${named.personalIds.length} personal IDs.`, { reason: 'TOO_MANY_SUBJECTS' });
  }
  if (named.enterpriseCodes.length > 1 || named.parcelIds.length > 1) {
    throw forbidden('A request may concern at most one enterprise and one land parcel.', { reason: 'TOO_MANY_SUBJECTS' });
  }
  const subject: Subject = {};
  if (primary) subject.personalId = primary;
  if (others[0]) subject.relatedPersonalId = others[0];
  if (named.enterpriseCodes[0]) subject.enterpriseCode = named.enterpriseCodes[0];
  if (named.parcelIds[0]) subject.parcelId = named.parcelIds[0];
  if (!primary && (subject.enterpriseCode || subject.parcelId)) {
    throw forbidden(
      'A query about an enterprise or a land parcel must name the citizen it is for: look up citizen(personalId) in the same operation or send X-Subject-Token, so the gateway can check that they are related.',
      { reason: 'NO_SUBJECT' },
    );
  }
  return subject;
}
