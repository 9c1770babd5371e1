/**
 * The outcome of a request, in one vocabulary for the audit record, the metrics and
 * the statistics, decided by one rule so the three always agree:
 *
 *   UNAUTHENTICATED (401) › DENIED (403, 429, FORBIDDEN, RATE_LIMITED) › ERROR (5xx)
 *   › no error: OK (INVALID for a 4xx) › errors with data returned: PARTIAL
 *   › errors without data: INVALID when the request was at fault, else ERROR
 */
import { codesOfOutcome } from './errors.js';

export const OUTCOMES = ['OK', 'PARTIAL', 'DENIED', 'INVALID', 'ERROR', 'UNAUTHENTICATED'] as const;
export type Outcome = (typeof OUTCOMES)[number];

// From the one error table (core/errors.ts).
const DENIED_CODES = codesOfOutcome('DENIED');
/** Codes that mean the client's request was at fault. */
const INVALID_CODES = codesOfOutcome('INVALID');

export interface OutcomeFacts {
  httpStatus: number;
  /** Every error code seen for the request (response, hooks, subgraphs). */
  codes: ReadonlySet<string>;
  /** False when the operation never completed (refused before or during parsing). */
  executed: boolean;
  /** The execution met errors or unavailable registries. */
  troubled: boolean;
  /** Some data reached the client. */
  dataReturned: boolean;
  /** Error codes of the client's own operation, to tell INVALID from ERROR. */
  operationCodes: Iterable<string>;
}

export function classifyOutcome(f: OutcomeFacts): Outcome {
  if (f.httpStatus === 401 || f.codes.has('UNAUTHENTICATED')) return 'UNAUTHENTICATED';
  if (f.httpStatus === 403 || f.httpStatus === 429 || [...f.codes].some((c) => DENIED_CODES.has(c))) return 'DENIED';
  if (f.httpStatus >= 500 || f.httpStatus === 499) return 'ERROR';
  if (!f.executed || !f.troubled) return f.httpStatus >= 400 ? 'INVALID' : 'OK';
  if (f.dataReturned) return 'PARTIAL';
  return [...f.operationCodes].some((c) => INVALID_CODES.has(c)) || f.httpStatus === 400 ? 'INVALID' : 'ERROR';
}
