/**
 * HTTP status of prefill's refusals. The policy's own refusals carry their status in
 * `extensions.http` (errors.ts); prefill refuses in its resolver, inside the local
 * `procedures` subgraph, and the gateway passes subgraph errors on with 200. A client
 * (and a load balancer's error rate) must see a refusal as one: a prefill response with
 * no data whose errors all carry ONE client-error code gets that code's status, like the
 * policy's. Partial answers (data present, REGISTRY_UNAVAILABLE) keep their 200.
 *
 * Runs in `willSendResponse`, synchronously, before the audit plugin reads the status.
 */
import type { ApolloServerPlugin } from '@apollo/server';
import { Kind } from 'graphql';
import type { MotlanContext } from '../core/context.js';
import { isInternalExecution } from '../core/inner-execution.js';

/** The client-error codes prefill refuses with, and their status (as in errors.ts). */
const STATUS_OF_CODE: Readonly<Record<string, number>> = { BAD_USER_INPUT: 400, FORBIDDEN: 403, NOT_FOUND: 404 };

/** True when some root field carries a value. */
function hasData(data: unknown): boolean {
  return data !== null && typeof data === 'object' && Object.values(data as Record<string, unknown>).some((v) => v !== null && v !== undefined);
}

/** The status a response should carry, or undefined to leave it as it is. Pure. */
export function refusalStatus(data: unknown, errors: ReadonlyArray<{ extensions?: Record<string, unknown> }> | undefined): number | undefined {
  if (!errors || errors.length === 0 || hasData(data)) return undefined;
  const codes = new Set(errors.map((e) => e.extensions?.code));
  if (codes.size !== 1) return undefined;
  const [code] = codes;
  return typeof code === 'string' ? STATUS_OF_CODE[code] : undefined;
}

export function prefillRefusalStatusPlugin(): ApolloServerPlugin<MotlanContext> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse(rc) {
          if (isInternalExecution(rc.contextValue) || rc.response.body.kind !== 'single') return;
          if ((rc.response.http.status ?? 200) !== 200) return;
          const roots = rc.operation?.selectionSet.selections ?? [];
          const prefillOnly = roots.length > 0 && roots.every((s) => s.kind === Kind.FIELD && (s.name.value === 'prefill' || s.name.value === '__typename'))
            && roots.some((s) => s.kind === Kind.FIELD && s.name.value === 'prefill');
          if (!prefillOnly) return;
          const { data, errors } = rc.response.body.singleResult;
          const status = refusalStatus(data, errors as never);
          if (status !== undefined) rc.response.http.status = status;
        },
      };
    },
  };
}
