/**
 * Enumeration brake: a TTHC system looks citizens up by identifiers its users typed or
 * its dossiers hold, so it rarely asks for identifiers that do not exist. A client that
 * does, repeatedly, is probing: after `unknownLookups` lookups that found nothing within
 * the window, its lookups are refused (429 RATE_LIMITED) until the window ends. Lookups
 * that failed because a registry was down do not count.
 */
import type { ApolloServerPlugin } from '@apollo/server';
import type { MotlanContext } from '../context.js';
import { analyzeOperation, type RootFieldUse } from '../policy/analyze.js';
import { rateLimited } from '../policy/errors.js';
import { ROOT_LOOKUPS } from '../policy/subjects.js';
import { isInternalExecution } from '../procedures/executor.js';
import type { ClientRateLimiter } from './limiter.js';

export interface UnknownLookupOptions {
  /** Root field coordinates that look a subject up (Query.prefill answers NOT_FOUND instead of null). Default: the supergraph's lookups and Query.prefill. */
  lookupCoordinates?: ReadonlySet<string>;
}

type Obj = Record<string, unknown>;

/** Counts lookups in a response that found nothing (null, or NOT_FOUND), ignoring failed ones. */
export function countUnknownLookups(
  lookups: RootFieldUse[],
  data: Obj | null | undefined,
  errors: ReadonlyArray<{ path?: ReadonlyArray<string | number>; extensions?: Obj }> | undefined,
): number {
  let n = 0;
  for (const use of lookups) {
    const errs = (errors ?? []).filter((e) => e.path?.[0] === use.responseKey);
    if (errs.some((e) => e.extensions?.code === 'NOT_FOUND')) {
      n++;
      continue;
    }
    if (errs.length > 0 || !data) continue; // failed, not unknown
    const value = data[use.responseKey];
    if (value === null) n++;
    else if (Array.isArray(value)) n += value.filter((v) => v === null).length;
  }
  return n;
}

export function unknownLookupPlugin(limiter: ClientRateLimiter, opts: UnknownLookupOptions = {}): ApolloServerPlugin<MotlanContext> {
  const lookupCoordinates = opts.lookupCoordinates ?? new Set([...Object.keys(ROOT_LOOKUPS), 'Query.prefill']);
  return {
    async requestDidStart() {
      let lookups: RootFieldUse[] = [];
      return {
        async didResolveOperation(rc) {
          const ctx = rc.contextValue;
          if (!ctx.client || isInternalExecution(ctx)) return;
          const analysis = analyzeOperation(rc.schema, rc.document, rc.operationName);
          lookups = analysis?.rootFields.filter((r) => lookupCoordinates.has(r.coordinate)) ?? [];
          if (lookups.length === 0) return;
          const verdict = await limiter.unknownLookupsLeft(ctx.client.id);
          if (!verdict.allowed) {
            throw rateLimited(
              `Client ${ctx.client.id} looked up more than ${limiter.options.unknownLookups} identifiers the registries do not know within ${Math.round(limiter.options.unknownLookupWindowSeconds / 60)} minutes; its lookups are refused for ${verdict.retryAfterSeconds} s. The gateway answers lookups of known identifiers, not searches: check identifiers before sending them.`,
              verdict.retryAfterSeconds,
              { reason: 'UNKNOWN_LOOKUPS' },
            );
          }
        },
        async willSendResponse(rc) {
          const ctx = rc.contextValue;
          if (!ctx.client || lookups.length === 0 || rc.response.body.kind !== 'single') return;
          const result = rc.response.body.singleResult;
          const count = countUnknownLookups(lookups, result.data as Obj | null | undefined, result.errors as never);
          await limiter.recordUnknownLookups(ctx.client.id, count);
        },
      };
    },
  };
}
