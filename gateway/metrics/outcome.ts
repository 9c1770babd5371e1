/**
 * The outcome label of a finished request, in the audit record's vocabulary and
 * following the same precedence as `classify()` in gateway/audit/draft.ts, but
 * from what the metrics hook can see: the HTTP status and the MotlanContext trace
 * (error codes collected from the response and the subgraphs, fields returned).
 *
 *   UNAUTHENTICATED (401) › DENIED (403, 429, FORBIDDEN, RATE_LIMITED) › ERROR (5xx)
 *   › no error: OK (INVALID for a 4xx) › errors with data returned: PARTIAL
 *   › errors without data: INVALID when the request was at fault, else ERROR
 */
import type { MotlanContext } from '../context.js';

export type Outcome = 'OK' | 'PARTIAL' | 'DENIED' | 'INVALID' | 'ERROR' | 'UNAUTHENTICATED';

const DENIED_CODES = new Set(['FORBIDDEN', 'RATE_LIMITED']);
const INVALID_CODES = new Set([
  'BAD_USER_INPUT',
  'LIMIT_EXCEEDED',
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_REQUEST',
  'OPERATION_RESOLUTION_FAILURE',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'NOT_FOUND',
]);

export function outcomeOfRequest(ctx: MotlanContext, statusCode: number): Outcome {
  const codes = ctx.trace.errorCodes;
  if (statusCode === 401 || codes.has('UNAUTHENTICATED')) return 'UNAUTHENTICATED';
  if (statusCode === 403 || statusCode === 429 || [...codes].some((c) => DENIED_CODES.has(c))) return 'DENIED';
  if (statusCode >= 500 || statusCode === 499) return 'ERROR';
  const troubled = codes.size > 0 || ctx.trace.unavailableRegistries.size > 0;
  if (!troubled) return statusCode >= 400 ? 'INVALID' : 'OK';
  if (ctx.trace.fields.size > 0) return 'PARTIAL';
  return [...codes].some((c) => INVALID_CODES.has(c)) || statusCode === 400 ? 'INVALID' : 'ERROR';
}
