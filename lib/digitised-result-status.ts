/**
 * The status of a digitised TTHC result on a given day, computed when read (never
 * stored): the civil subgraph answers it from its "today", the mock world's finders
 * from the world's asOf, so both agree by construction.
 */
import type { DigitisedResultKind, DigitisedResultRecord } from './registry-records.js';

export type DigitisedResultStatus = 'VALID' | 'EXPIRED' | 'REVOKED';

/** A revocation in force wins; validUntil is the last valid day (expired from the day after). */
export function digitisedResultStatus(r: Pick<DigitisedResultRecord, 'validUntil' | 'revokedOn'>, today: string): DigitisedResultStatus {
  if (r.revokedOn !== null && r.revokedOn <= today) return 'REVOKED';
  if (r.validUntil !== null && r.validUntil < today) return 'EXPIRED';
  return 'VALID';
}

/** The newest result of a kind (the latest issue date; on a tie the later entry), or null. */
export function newestResult<R extends Pick<DigitisedResultRecord, 'kind' | 'issuedOn'>>(results: readonly R[], kind: DigitisedResultKind): R | null {
  let best: R | null = null;
  for (const r of results) if (r.kind === kind && (best === null || r.issuedOn >= best.issuedOn)) best = r;
  return best;
}
