/**
 * The purpose a plain query declares: `X-Purpose: <procedure id>` and, optionally,
 * `X-Dossier-Id: <dossier id>`. Only the header format is checked here; whether the
 * client may run the procedure and what it may read is the policy plugin's job.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Purpose } from '../core/context.js';
import { policyError } from '../core/errors.js';
import { DOSSIER_ID, DOSSIER_ID_RULE, PROCEDURE_ID } from '../../lib/purpose-ids.js';

export const PURPOSE_HEADER = 'x-purpose';
export const DOSSIER_HEADER = 'x-dossier-id';
export const SUBJECT_TOKEN_HEADER = 'x-subject-token';

// Procedure and dossier id formats: lib/purpose-ids.ts (shared with prefill's arguments and the audit record).

/** One header value, or undefined; a header sent twice is refused (which one would count?). */
export function singleHeader(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  if (Array.isArray(v)) {
    if (v.length > 1) throw policyError('BAD_USER_INPUT', `Send the ${name} header once; it was sent ${v.length} times.`, { reason: 'INVALID_HEADER' });
    return v[0];
  }
  return v === undefined || v === '' ? undefined : v;
}

export function isProcedureId(id: string): boolean {
  return PROCEDURE_ID.test(id);
}

/** Reads and checks X-Purpose / X-Dossier-Id; null when no purpose is declared. */
export function purposeFromHeaders(headers: IncomingHttpHeaders): Purpose | null {
  const procedureId = singleHeader(headers, PURPOSE_HEADER)?.trim();
  const dossierId = singleHeader(headers, DOSSIER_HEADER)?.trim() ?? null;
  if (dossierId !== null && !DOSSIER_ID.test(dossierId)) {
    throw policyError('BAD_USER_INPUT', `X-Dossier-Id ${DOSSIER_ID_RULE}.`, { reason: 'INVALID_HEADER' });
  }
  if (procedureId === undefined) return null;
  if (!PROCEDURE_ID.test(procedureId)) {
    throw policyError('BAD_USER_INPUT', 'X-Purpose must be a procedure id of the catalog (lower-case letters, digits and dashes, e.g. judicial-record-certificate); list them with { procedures { id } }.', { reason: 'INVALID_HEADER' });
  }
  return { procedureId, dossierId };
}
