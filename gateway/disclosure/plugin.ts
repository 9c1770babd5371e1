/**
 * The response check, second line of defence behind the purpose policy: after
 * execution and before the response leaves, every entity the subgraphs returned for
 * the request (`trace.returnedEntities`, `trace.entityGraph`, filled by collect.ts
 * from the subgraph answers, so the client's aliases change nothing) must be reachable
 * from the request's subjects by field paths inside the purpose's path tree. If one is
 * not, the WHOLE response is replaced by a 403 FORBIDDEN (no partial data).
 *
 * Runs in `willSendResponse`, synchronously, before the plugins after it in app.ts
 * (returned fields, audit, metrics): Apollo calls every `willSendResponse` in list order
 * and each runs until its first `await`, so they all see the refusal, not the data.
 *
 * Inner executions (prefill's operations, relation checks) are not checked on their
 * own: they share the outer request's trace, and the outer request (the prefill) is
 * checked with everything its inner operations fetched.
 */
import type { RefusalReason } from '../core/reasons.js';
import { ERROR_TABLE, errorBody } from '../core/errors.js';
import type { ApolloServerPlugin, GraphQLRequestContextWillSendResponse } from '@apollo/server';
import type { GraphQLSchema } from 'graphql';
import { mayRunProcedure, type MotlanContext, type ResponseCheckResult } from '../core/context.js';
import type { PathTree } from '../core/path-tree.js';
import { isInternalExecution } from '../core/inner-execution.js';
import { allowedRoots, checkReach, rootBindingsOf, type RootBinding } from './reach.js';

/** Why a response was refused (the `reason` of the error and the metric's label). */
export const RESPONSE_REASONS = {
  /** An entity outside the subjects and the relations the purpose declares, or data under no subject. */
  notAllowed: 'RESPONSE_ENTITY_NOT_ALLOWED',
  /** Part of a subgraph answer could not be read (entity without key, unknown type): refused rather than guessed. */
  undecidable: 'RESPONSE_UNDECIDABLE',
} as const satisfies Record<string, RefusalReason>;
export type ResponseReason = (typeof RESPONSE_REASONS)[keyof typeof RESPONSE_REASONS];

export interface ResponseCheckOptions {
  /** The purpose's allowed path tree, null for an unknown procedure (`procedurePathTree`). Required. */
  pathTree: (procedureId: string) => PathTree | null;
  /** Production: `explore` no longer skips the check. Required. */
  production: boolean;
  /** Called once per refused response (the metric). Default: nothing. */
  onRefusal?: (reason: ResponseReason) => void;
}

/** The decision for one finished request; pure apart from reading the context. */
export function decide(ctx: MotlanContext, opts: Pick<ResponseCheckOptions, 'pathTree' | 'production'>, bindings: Record<string, RootBinding>): ResponseCheckResult {
  const trace = ctx.trace;
  const g = trace.entityGraph;
  if (trace.returnedEntities.size === 0 && g.unanchored.size === 0 && g.problems.length === 0) return { outcome: 'skipped' };
  if (!opts.production && ctx.client?.permissions.includes('explore')) return { outcome: 'skipped' };
  if (g.problems.length > 0) return { outcome: 'refused', reason: RESPONSE_REASONS.undecidable };
  // The purpose must be one this client may run ('*' only outside production), whoever recorded it.
  const procedureId = ctx.purpose?.procedureId;
  const client = ctx.client;
  const mayRun = !!procedureId && !!client && mayRunProcedure(client, procedureId, opts.production);
  const tree = mayRun ? opts.pathTree(procedureId) : null;
  if (!tree || g.unanchored.size > 0) {
    return { outcome: 'refused', reason: RESPONSE_REASONS.notAllowed, outside: countByType(trace.returnedEntities.keys(), g.unanchored.size) };
  }
  const verdict = checkReach(g, trace.returnedEntities.keys(), allowedRoots(ctx.subject, tree, bindings));
  return verdict.ok ? { outcome: 'checked' } : { outcome: 'refused', reason: RESPONSE_REASONS.notAllowed, outside: countByType(verdict.outside, 0) };
}

function countByType(ids: Iterable<string>, unanchored: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const id of ids) {
    const type = id.slice(0, id.indexOf(':'));
    out[type] = (out[type] ?? 0) + 1;
  }
  if (unanchored > 0) out['(no subject)'] = unanchored;
  return out;
}

function refusalMessage(result: ResponseCheckResult, procedureId: string | undefined): string {
  if (result.reason === RESPONSE_REASONS.undecidable) {
    return 'The response was withheld: part of a registry answer could not be checked against the purpose (see the audit record by X-Request-Id). No data is returned.';
  }
  const what = Object.entries(result.outside ?? {}).map(([t, n]) => `${t}: ${n}`).join(', ');
  return (
    `The response was withheld: it would disclose registry data (${what || 'none readable'}) about someone who is neither a subject of this request nor a relation ` +
    (procedureId ? `purpose "${procedureId}" declares` : 'a declared purpose allows (no purpose was established for this request)') +
    '. No data is returned; ask only for the subjects and the relations the procedure reads.'
  );
}

export function responseCheckPlugin(opts: ResponseCheckOptions): ApolloServerPlugin<MotlanContext> {
  const bindingsBySchema = new WeakMap<GraphQLSchema, Record<string, RootBinding>>();
  const bindingsOf = (schema: GraphQLSchema) => {
    let b = bindingsBySchema.get(schema);
    if (!b) bindingsBySchema.set(schema, (b = rootBindingsOf(schema)));
    return b;
  };

  // Synchronous on purpose (see the file comment): no await before the body is replaced.
  const check = (rc: GraphQLRequestContextWillSendResponse<MotlanContext>): void => {
    const ctx = rc.contextValue;
    if (!ctx?.trace || isInternalExecution(ctx)) return;
    const body = rc.response.body;
    // Later payloads of an incremental (@defer) response would leave unchecked; the gateway never
    // produces one, so one is refused rather than half-checked.
    const data = body.kind === 'single' ? body.singleResult.data : body.initialResult.data;
    if (body.kind === 'single' && (data === null || data === undefined)) return; // nothing leaves
    const result: ResponseCheckResult = body.kind === 'single' ? decide(ctx, opts, bindingsOf(rc.schema)) : { outcome: 'refused', reason: RESPONSE_REASONS.undecidable };
    ctx.trace.responseCheck = result;
    if (result.outcome !== 'refused') return;
    ctx.trace.errorCodes.add('FORBIDDEN');
    rc.response.http.status = ERROR_TABLE.FORBIDDEN.status;
    rc.response.body = { kind: 'single', singleResult: errorBody('FORBIDDEN', refusalMessage(result, ctx.purpose?.procedureId), { reason: result.reason }) };
    opts.onRefusal?.(result.reason as ResponseReason);
  };

  return {
    async requestDidStart() {
      return {
        async willSendResponse(rc) {
          check(rc);
        },
      };
    },
  };
}
