/**
 * THE list of `extensions.reason` values the gateway answers with: a stable enum that
 * integrators may branch on (docs/INTEGRATION.md, "Refusals", is the table written for
 * them; test/reasons.test.ts fails when code, this list and that table disagree). A
 * reason refines an error code (`extensions.code`, errors.ts): the code gives the HTTP
 * status, the reason says what to fix. Never rename or reuse a reason: add a new one.
 *
 * Every error the gateway answers on /graphql carries one: the specific reason its refusal
 * gave, else its code's default (DEFAULT_REASONS in core/errors.ts, which also checks
 * at compile time that every code named here is one of its table), so a client
 * can always branch on `extensions.reason` (test/refusal-reasons.test.ts walks the paths).
 */
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
  // Each code's default: what a refusal without a more specific reason answers.
  API_KEY_INVALID: 'UNAUTHENTICATED',
  NOT_PERMITTED: 'FORBIDDEN',
  DOCUMENT_NOT_TRUSTED: 'DOCUMENT_NOT_TRUSTED',
  REQUEST_RATE_EXCEEDED: 'RATE_LIMITED',
  INVALID_ARGUMENT: 'BAD_USER_INPUT',
  RESOURCE_NOT_FOUND: 'NOT_FOUND',
  REQUEST_LIMIT_EXCEEDED: 'LIMIT_EXCEEDED',
  SYNTAX_ERROR: 'GRAPHQL_PARSE_FAILED',
  INVALID_DOCUMENT: 'GRAPHQL_VALIDATION_FAILED',
  MALFORMED_REQUEST: 'BAD_REQUEST',
  OPERATION_NOT_RESOLVED: 'OPERATION_RESOLUTION_FAILURE',
  PERSISTED_QUERY_UNKNOWN: 'PERSISTED_QUERY_NOT_FOUND',
  PERSISTED_QUERY_UNSUPPORTED: 'PERSISTED_QUERY_NOT_SUPPORTED',
  AUDIT_STORE_UNAVAILABLE: 'AUDIT_UNAVAILABLE',
  REGISTRY_UNAVAILABLE: 'REGISTRY_UNAVAILABLE',
  STATS_STORE_UNAVAILABLE: 'STATS_UNAVAILABLE',
  INTERNAL_ERROR: 'INTERNAL_SERVER_ERROR',
} as const satisfies Record<string, string>;

export type RefusalReason = keyof typeof REFUSAL_REASONS;

/** True when `value` is a documented reason. */
export function isRefusalReason(value: unknown): value is RefusalReason {
  return typeof value === 'string' && Object.hasOwn(REFUSAL_REASONS, value);
}
