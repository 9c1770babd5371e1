/**
 * The Apollo Server side of the audit trail: for every GraphQL execution it
 * captures the operation (name, type, document hash, variables for subject
 * extraction), the error codes and the response data, into the draft of the HTTP
 * request it belongs to (found by request id).
 *
 * Inner executions of prefill carry `internalOf` on their context (see
 * gateway/core/inner-execution.ts) and the outer request id: they enrich the same
 * draft and never write a record of their own. When no HTTP request is around
 * (Apollo `executeOperation` called directly), the plugin writes the record
 * itself in `willSendResponse`, before the result is returned, and fails closed.
 */
import { performance } from 'node:perf_hooks';
import type { ApolloServerPlugin, GraphQLRequestContext } from '@apollo/server';
import type { MotlanContext } from '../core/context.js';
import { isInternalExecution, readsIdentifiersOnly } from '../core/inner-execution.js';
import { AuditDraft, type OperationCapture } from './draft.js';
import { AuditUnavailableError } from './log.js';
import type { AuditRecorder } from './recorder.js';
import { auditUnavailableBody } from './http-hooks.js';

function errorCodes(errors: ReadonlyArray<{ extensions?: Record<string, unknown> }> | undefined): string[] {
  const out: string[] = [];
  for (const e of errors ?? []) {
    const code = e.extensions?.code;
    out.push(typeof code === 'string' ? code : 'INTERNAL_SERVER_ERROR');
  }
  return out;
}

/** `extensions.reason` of refusals (the policy's machine-readable reason codes). */
function reasonsOf(errors: ReadonlyArray<{ extensions?: Record<string, unknown> }> | undefined): string[] {
  const out: string[] = [];
  for (const e of errors ?? []) if (typeof e.extensions?.reason === 'string') out.push(e.extensions.reason);
  return out;
}

export function auditPlugin(recorder: AuditRecorder): ApolloServerPlugin<MotlanContext> {
  return {
    async requestDidStart(rc: GraphQLRequestContext<MotlanContext>) {
      const ctx = rc.contextValue;
      const internal = isInternalExecution(ctx);
      let draft = ctx?.requestId ? recorder.find(ctx.requestId) : undefined;
      if (!draft) {
        // Executed outside an HTTP request: this execution is the request. (An orphan inner
        // execution gets a throwaway draft: it records nothing and must not linger in the map.)
        const id = ctx?.requestId ?? `op-${Date.now().toString(36)}`;
        draft = internal ? new AuditDraft(id, Date.now(), performance.now()) : recorder.open(id, ctx?.receivedAt ?? Date.now(), performance.now());
        draft.standalone = true;
      }
      if (!draft.context && !internal) draft.context = ctx;
      const op: OperationCapture = {
        internal,
        identifiersOnly: readsIdentifiersOnly(ctx),
        operationName: rc.request.operationName ?? null,
        operationType: null,
        documentHash: null,
        errorCodes: [],
        done: false,
      };
      draft.ops.push(op);
      const d = draft;
      return {
        async didResolveOperation(r) {
          op.operationName = r.operationName ?? r.operation?.name?.value ?? null;
          op.operationType = r.operation?.operation ?? null;
          op.documentHash = r.queryHash;
          op.document = r.document;
          op.variables = r.request.variables ?? undefined;
        },
        async willSendResponse(r) {
          op.documentHash ??= r.queryHash ?? null;
          op.operationName ??= r.operationName ?? null;
          // Apollo Server runs each operation on a shallow copy of the context, so the purpose
          // the policy plugin set there is not on the HTTP-level context the draft holds: copy it
          // back (the record's procedureId/dossierId, the statistics and the metrics read it). [helper H]
          if (!internal && d.context && d.context !== ctx) {
            if (ctx?.purpose && !d.context.purpose) d.context.purpose = ctx.purpose;
            // Likewise the prefill summary the prefill resolver left on the operation's context.
            if (ctx?.prefill && !d.context.prefill) d.context.prefill = ctx.prefill;
          }
          if (r.response.body.kind === 'single') {
            op.data = r.response.body.singleResult.data;
            op.errorCodes = errorCodes(r.response.body.singleResult.errors as never);
            op.reasons = reasonsOf(r.response.body.singleResult.errors as never);
          } else {
            op.data = r.response.body.initialResult.data;
            op.errorCodes = errorCodes(r.response.body.initialResult.errors as never);
            op.reasons = reasonsOf(r.response.body.initialResult.errors as never);
          }
          op.done = true;
          if (!d.standalone || internal) return;
          try {
            await recorder.record(d, { httpStatus: r.response.http.status ?? 200, responseBytes: null, bodyCodes: [] });
          } catch (err) {
            if (!(err instanceof AuditUnavailableError)) throw err;
            // Fail closed: the caller gets the error and none of the data.
            r.response.http.status = 503;
            r.response.body = { kind: 'single', singleResult: auditUnavailableBody() as never };
          }
        },
      };
    },
  };
}
