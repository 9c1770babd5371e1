/**
 * Who a plain query is about: the identifiers its root lookups name. They are validated
 * here, before any subgraph call, so a malformed or partial identifier ("0010%", "001*",
 * 11 digits) is refused at once (no search by prefix exists anywhere in the graph), and
 * collected into the context's `Subject` for relation checks and the audit trail.
 */
import { VALIDATORS, type IdentifierKind } from '../../lib/identifiers.js';
import type { Subject } from '../context.js';
import { forbidden, policyError } from './errors.js';
import type { RootFieldUse } from './analyze.js';

export interface RootLookup {
  /** Argument carrying the identifier. */
  arg: string;
  /** Its format (lib/identifiers.ts), or null when no format is fixed (household ids). */
  kind: IdentifierKind | null;
  /** Which Subject slot it fills, when it can be related to the citizen before fetching. */
  subject: 'personalId' | 'enterpriseCode' | 'parcelId' | null;
  list?: boolean;
}

/** Root lookups of the supergraph. Each is a lookup by key: the graph has no listing. */
export const ROOT_LOOKUPS: Readonly<Record<string, RootLookup>> = {
  'Query.citizen': { arg: 'personalId', kind: 'personalId', subject: 'personalId' },
  'Query.citizens': { arg: 'personalIds', kind: 'personalId', subject: 'personalId', list: true },
  'Query.household': { arg: 'householdId', kind: null, subject: null },
  'Query.enterprise': { arg: 'enterpriseCode', kind: 'enterpriseCode', subject: 'enterpriseCode' },
  'Query.socialInsurance': { arg: 'socialInsuranceNumber', kind: 'socialInsuranceNumber', subject: null },
  'Query.healthInsuranceCard': { arg: 'cardNumber', kind: 'healthInsuranceCard', subject: null },
  'Query.landParcel': { arg: 'parcelId', kind: 'parcelId', subject: 'parcelId' },
  'Query.landParcelByCertificate': { arg: 'serial', kind: 'certificateSerial', subject: null },
};

export interface NamedSubjects {
  personalIds: string[];
  enterpriseCodes: string[];
  parcelIds: string[];
  /** Root lookups whose relation to the citizen cannot be checked before fetching. */
  indirect: string[];
  /** Number of identifiers looked up (for the unknown-lookup budget). */
  lookups: number;
}

/** Validates and collects the identifiers of the root lookups; throws BAD_USER_INPUT on a bad one. */
export function collectSubjects(roots: Array<{ use: RootFieldUse; args: Record<string, unknown> }>): NamedSubjects {
  const out: NamedSubjects = { personalIds: [], enterpriseCodes: [], parcelIds: [], indirect: [], lookups: 0 };
  for (const { use, args } of roots) {
    const lookup = ROOT_LOOKUPS[use.coordinate];
    if (!lookup) continue;
    const raw = args[lookup.arg];
    const values = lookup.list ? (Array.isArray(raw) ? raw : []) : [raw];
    for (const value of values) {
      out.lookups++;
      if (lookup.kind) {
        const problem = VALIDATORS[lookup.kind](value);
        if (problem) throw policyError('BAD_USER_INPUT', `${use.responseKey}: ${problem}`, { field: use.coordinate });
      } else if (typeof value !== 'string' || !/^[A-Za-z0-9-]{1,40}$/.test(value)) {
        throw policyError('BAD_USER_INPUT', `${use.responseKey}: ${lookup.arg} must be 1-40 letters, digits or dashes.`, { field: use.coordinate });
      }
      const v = value as string;
      if (lookup.subject === 'personalId' && !out.personalIds.includes(v)) out.personalIds.push(v);
      else if (lookup.subject === 'enterpriseCode' && !out.enterpriseCodes.includes(v)) out.enterpriseCodes.push(v);
      else if (lookup.subject === 'parcelId' && !out.parcelIds.includes(v)) out.parcelIds.push(v);
      else if (lookup.subject === null) out.indirect.push(use.coordinate);
    }
  }
  return out;
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
