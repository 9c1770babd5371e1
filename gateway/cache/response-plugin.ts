/**
 * The response cache on the hit path, as an Apollo Server plugin (slot 6 of gateway/app.ts).
 *
 * Apollo runs every plugin's `didResolveOperation` (rate-limit brake, purpose policy with its
 * subject-token and relation checks, audit capture) and only then `responseForOperation`: a
 * request reaches the lookup only once everything before execution has accepted it, and a
 * response returned there skips planning and execution (requestPipeline.js). The plugins'
 * `willSendResponse` still run: the response check re-decides on the restored entity graph,
 * returned fields, failed-lookup counts, audit and metrics see the hit like a fetched answer.
 *
 * Stored in `willSendResponse` after one `await`: Apollo calls every plugin's hook in list order
 * and each runs synchronously up to its first `await`, so by then the response check (the next
 * concern) has decided, and a refused response (body replaced) is not stored.
 *
 * Never cached: internal executions (prefill's inner operations, relation checks), requests
 * without an authenticated client or a purpose (catalog reads), `explore` clients outside
 * production (their responses are not checked), batches, responses with errors (partial ones,
 * REGISTRY_UNAVAILABLE included), responses with no remote subgraph fetch, and responses built
 * from a subgraph answer that may not be cached (no policy, served stale): see `freshUntil`.
 */
import { HeaderMap, type ApolloServerPlugin } from '@apollo/server';
import type { MotlanContext } from '../core/context.js';
import { isInternalExecution } from '../core/inner-execution.js';
import { responseKey, restoreTrace, type ResponseCache } from './response-cache.js';

/** Where hits, misses and stores are counted (`motlan_response_cache_*`). */
export interface ResponseCacheCounters {
  hit(): void;
  miss(): void;
  stored(): void;
}

export interface ResponseCachePluginOptions {
  cache: ResponseCache;
  /** Production: `explore` clients are held to the policy there, so their responses may be cached. Required. */
  production: boolean;
  /** Default: none. */
  counters?: ResponseCacheCounters;
  /** A failed store (Redis) is logged, never the client's error. Default: ignored. */
  onStoreError?: (err: unknown) => void;
  /** Clock. Default `Date.now`. */
  now?: () => number;
  /** The version of a purpose's definition, part of the key (see ProcedureCatalog.version). Default: none (no catalog). */
  purposeVersion?: (purposeId: string) => string | null;
}

export function responseCachePlugin(opts: ResponseCachePluginOptions): ApolloServerPlugin<MotlanContext> {
  const now = opts.now ?? Date.now;
  return {
    async requestDidStart() {
      let key: string | null = null;
      let generation = 0;
      return {
        async responseForOperation(rc) {
          const ctx = rc.contextValue;
          if (!ctx?.trace || isInternalExecution(ctx) || !ctx.client || !ctx.purpose || (ctx.batchSize ?? 1) > 1) return null;
          if (rc.operation.operation !== 'query' || !rc.queryHash) return null;
          if (!opts.production && ctx.client.permissions.includes('explore')) return null;
          key = responseKey(ctx, rc.queryHash, rc.operationName, rc.request.variables, opts.purposeVersion?.(ctx.purpose.procedureId) ?? '');
          generation = opts.cache.generation;
          const hit = await opts.cache.get(key);
          if (!hit) {
            opts.counters?.miss();
            return null;
          }
          opts.counters?.hit();
          restoreTrace(ctx.trace, hit);
          // The prefill resolver leaves its summary on the operation's context; the audit copies it from there.
          if (hit.prefill) ctx.prefill = hit.prefill;
          return { http: { status: undefined, headers: new HeaderMap() }, body: { kind: 'single', singleResult: { data: hit.data } } };
        },
        async willSendResponse(rc) {
          if (key === null) return;
          const ctx = rc.contextValue;
          if (ctx.trace.cache === 'hit') return;
          // Let the response check (later in the list) decide first: see the file comment.
          await Promise.resolve();
          const body = rc.response.body;
          if (body.kind !== 'single') return;
          const { data, errors } = body.singleResult;
          if (!data || (errors?.length ?? 0) > 0) return;
          const status = rc.response.http.status;
          if (status !== undefined && status !== 200) return;
          const trace = ctx.trace;
          if (trace.responseCheck?.outcome === 'refused' || trace.unavailableRegistries.size > 0 || trace.errorCodes.size > 0) return;
          const freshUntil = trace.freshUntil;
          if (freshUntil === undefined || freshUntil <= now()) return;
          // Awaited like the fetch cache's writes: once the response leaves, every replica can hit it
          // (a Redis write costs a loopback round trip on a miss; a failing Redis is skipped at once).
          try {
            if (await opts.cache.set(key, ctx, data, rc.request.variables, freshUntil, generation)) opts.counters?.stored();
          } catch (err) {
            opts.onStoreError?.(err);
          }
        },
      };
    },
  };
}
