/**
 * Failed-lookup brake (enumeration): a TTHC system looks citizens up by identifiers its
 * users typed or its dossiers hold, so its lookups rarely fail. A client whose lookups do,
 * repeatedly, is probing: after `unknownLookups` failed lookups within the window, its
 * lookups are refused (429 RATE_LIMITED, reason FAILED_LOOKUPS) until the window ends.
 *
 * A lookup FAILS when it finds nothing (null, NOT_FOUND) or when its subjects are refused
 * as unrelated (FORBIDDEN, reason SUBJECT_NOT_RELATED): the policy gives an unknown and an
 * unrelated identifier the same answer (no existence oracle), and both are counted here,
 * so probing by relation checks costs the same budget as probing by lookups. Lookups that
 * failed because a registry was down do not count.
 *
 * The brake is consulted before any registry call: its verdict is put on the context
 * (`lookupBrake`) synchronously, and the purpose policy awaits it before its relation
 * checks (Apollo runs the plugins' didResolveOperation hooks concurrently).
 */
import type { ApolloServerPlugin } from '@apollo/server';
import type { MotlanContext } from '../core/context.js';
import { analyzeOperation, ROOT_LOOKUPS, type RootFieldUse } from '../core/operation-analysis.js';
import { rateLimited } from '../core/errors.js';
import { isInternalExecution } from '../core/inner-execution.js';
import { SUBJECT_NOT_RELATED } from '../core/relations.js';
import type { ClientRateLimiter } from './limiter.js';

export interface FailedLookupOptions {
  /** Root field coordinates that look a subject up (Query.prefill answers NOT_FOUND instead of null). Default: the supergraph's lookups, Query.prefill and Query.prefillGroup. */
  lookupCoordinates?: ReadonlySet<string>;
}

type Obj = Record<string, unknown>;
type ResponseError = { path?: ReadonlyArray<string | number>; extensions?: Obj };

/**
 * Counts the failed lookups of a response: lookups that found nothing (null, or NOT_FOUND)
 * and refusals of unrelated or unknown subjects (SUBJECT_NOT_RELATED), ignoring lookups
 * that failed because a registry could not answer.
 */
export function countFailedLookups(
  lookups: RootFieldUse[],
  data: Obj | null | undefined,
  errors: ReadonlyArray<ResponseError> | undefined,
): number {
  let n = (errors ?? []).filter((e) => e.extensions?.reason === SUBJECT_NOT_RELATED).length;
  for (const use of lookups) {
    const errs = (errors ?? []).filter((e) => e.path?.[0] === use.responseKey);
    if (errs.some((e) => e.extensions?.code === 'NOT_FOUND')) {
      n++;
      continue;
    }
    if (errs.length > 0 || !data) continue; // failed (or refused, counted above), not unknown
    const value = data[use.responseKey];
    if (value === null) n++;
    else if (Array.isArray(value)) n += value.filter((v) => v === null).length;
  }
  return n;
}

export function failedLookupPlugin(limiter: ClientRateLimiter, opts: FailedLookupOptions = {}): ApolloServerPlugin<MotlanContext> {
  const lookupCoordinates = opts.lookupCoordinates ?? new Set([...Object.keys(ROOT_LOOKUPS), 'Query.prefill', 'Query.prefillGroup']);
  const refuse = (clientId: string, retryAfterSeconds: number) =>
    rateLimited(
      `Client ${clientId} made more than ${limiter.options.unknownLookups} lookups that failed (unknown identifiers or subjects not related) within ${Math.round(limiter.options.unknownLookupWindowSeconds / 60)} minutes; its lookups are refused for ${retryAfterSeconds} s. The gateway answers lookups of known, related identifiers, not searches: check identifiers before sending them.`,
      retryAfterSeconds,
      { reason: 'FAILED_LOOKUPS' },
    );
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
          const clientId = ctx.client.id;
          // Set before the first await: the policy's hook, invoked right after this one,
          // finds it and waits for it before calling any registry.
          ctx.lookupBrake = limiter.unknownLookupsLeft(clientId).then((verdict) => {
            if (!verdict.allowed) throw refuse(clientId, verdict.retryAfterSeconds);
          });
          await ctx.lookupBrake;
        },
        async willSendResponse(rc) {
          const ctx = rc.contextValue;
          if (!ctx.client || lookups.length === 0 || rc.response.body.kind !== 'single') return;
          const result = rc.response.body.singleResult;
          const count = countFailedLookups(lookups, result.data as Obj | null | undefined, result.errors as never);
          await limiter.recordUnknownLookups(ctx.client.id, count);
        },
      };
    },
  };
}
