/**
 * The formats of the purpose a request declares, shared by every place they enter:
 * the `X-Purpose` / `X-Dossier-Id` headers (gateway/policy/purpose.ts), prefill's
 * `procedureId` / `dossierId` arguments (gateway/procedures/prefill.ts) and the audit
 * record (gateway/audit/record.ts). One rule, so a value refused in a header cannot
 * come in through an argument and land in an auditor's spreadsheet (CSV injection).
 */

/** Procedure ids are the catalog's slugs, e.g. `judicial-record-certificate`. */
export const PROCEDURE_ID = /^[a-z0-9][a-z0-9-]{0,79}$/;
/**
 * Dossier ids (mã hồ sơ) of the TTHC systems: letters, digits and `. _ - /`, starting with a
 * letter or digit, at most 64 characters. A leading `=`, `+`, `-` or `@` (a spreadsheet
 * formula) is therefore impossible.
 */
export const DOSSIER_ID = /^[A-Za-z0-9][A-Za-z0-9._\-/]{0,63}$/;

/** What a well-formed dossier id looks like, for error messages (`<what> must be …`). */
export const DOSSIER_ID_RULE = 'must be 1-64 letters, digits or . _ - / characters, starting with a letter or digit';

export function isProcedureId(id: string): boolean {
  return PROCEDURE_ID.test(id);
}

export function isDossierId(id: string): boolean {
  return DOSSIER_ID.test(id);
}
