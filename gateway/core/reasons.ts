/**
 * THE list of `extensions.reason` values the gateway answers with: a stable enum that
 * integrators may branch on (docs/INTEGRATION.md, "Refusals", is the table written for
 * them; test/reasons.test.ts fails when code, this list and that table disagree). A
 * reason refines an error code (`extensions.code`, errors.ts): the code gives the HTTP
 * status, the reason says what to fix. Never rename or reuse a reason: add a new one.
 */
import type { ErrorCode } from './errors.js';

export const REFUSAL_REASONS = {
  // The purpose (policy/)
  PURPOSE_MISSING: 'FORBIDDEN',
  PROCEDURE_NOT_ALLOWED: 'FORBIDDEN',
  UNKNOWN_PROCEDURE: 'NOT_FOUND',
  FIELDS_NOT_ALLOWED: 'FORBIDDEN',
  REGISTRY_NOT_ALLOWED: 'FORBIDDEN',
  MIXED_PURPOSES: 'FORBIDDEN',
  BATCHED_PURPOSE: 'FORBIDDEN',
  INTROSPECTION_DISABLED: 'FORBIDDEN',
  // The subjects
  SUBJECT_NOT_DECLARED: 'FORBIDDEN',
  TOO_MANY_SUBJECTS: 'FORBIDDEN',
  NO_SUBJECT: 'FORBIDDEN',
  SUBJECT_NOT_RELATED: 'FORBIDDEN',
  SUBJECT_TOKEN_MISSING: 'FORBIDDEN',
  SUBJECT_TOKEN_INVALID: 'FORBIDDEN',
  SUBJECTS_DO_NOT_FIT_PROCEDURE: 'BAD_USER_INPUT',
  CITIZEN_NOT_FOUND: 'NOT_FOUND',
  // The request itself
  INVALID_IDENTIFIER: 'BAD_USER_INPUT',
  INVALID_HEADER: 'BAD_USER_INPUT',
  UNDECIDABLE_REQUEST: 'BAD_USER_INPUT',
  // The response (disclosure/)
  RESPONSE_ENTITY_NOT_ALLOWED: 'FORBIDDEN',
  RESPONSE_UNDECIDABLE: 'FORBIDDEN',
  // Budgets (ratelimit/, audit/)
  FAILED_LOOKUPS: 'RATE_LIMITED',
  SOURCE_THROTTLED: 'RATE_LIMITED',
} as const satisfies Record<string, ErrorCode>;

export type RefusalReason = keyof typeof REFUSAL_REASONS;

/** True when `value` is a documented reason. */
export function isRefusalReason(value: unknown): value is RefusalReason {
  return typeof value === 'string' && Object.hasOwn(REFUSAL_REASONS, value);
}
