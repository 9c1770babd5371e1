/**
 * HTTP status and body of prefill's refusals. The policy's own refusals carry their status
 * in `extensions.http` (errors.ts); prefill refuses in its resolver, inside the local
 * `procedures` subgraph, and the gateway passes subgraph errors on with 200. A client
 * (and a load balancer's error rate) must see a refusal as one, and the same one whether
 * it came from `prefill` or a plain query: a prefill response with no data whose errors all
 * carry ONE client-error code gets that code's status (ERROR_TABLE) and the policy's body
 * shape, `{ "errors": [{ "message", "extensions": { "code", "reason", … } }] }`: no
 * `data`, no `path`/`locations` (the request was refused, not a field), no `serviceName`
 * (which subgraph refused is internal). Partial answers (data present,
 * REGISTRY_UNAVAILABLE) keep their 200 and their shape.
 *
 * Runs in `willSendResponse`, synchronously, before the audit plugin reads the status.
 */
import type { ApolloServerPlugin } from '@apollo/server';
import { Kind, type GraphQLFormattedError } from 'graphql';
import { errorSpec } from '../core/errors.js';
import type { MotlanContext } from '../core/context.js';
import { isInternalExecution } from '../core/inner-execution.js';

/** The client-error codes prefill refuses with (their status comes from ERROR_TABLE). */
const REFUSAL_CODES: ReadonlySet<string> = new Set(['BAD_USER_INPUT', 'FORBIDDEN', 'NOT_FOUND']);

/** Extension keys that say where a refusal was made, not what the client did wrong. */
const INTERNAL_EXTENSION_KEYS: ReadonlySet<string> = new Set(['serviceName']);

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
  return typeof code === 'string' && REFUSAL_CODES.has(code) ? errorSpec(code).status : undefined;
}

/** A refused request's errors in the policy's shape: message and extensions only. Pure. */
export function asRequestErrors(errors: ReadonlyArray<GraphQLFormattedError>): GraphQLFormattedError[] {
  return errors.map((e) => {
    const extensions = Object.fromEntries(Object.entries(e.extensions ?? {}).filter(([k]) => !INTERNAL_EXTENSION_KEYS.has(k)));
    return { message: e.message, extensions };
  });
}

/** prefill and prefillGroup refuse alike. */
const PREFILL_FIELDS = new Set(['prefill', 'prefillGroup']);

export function prefillRefusalStatusPlugin(): ApolloServerPlugin<MotlanContext> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse(rc) {
          if (isInternalExecution(rc.contextValue) || rc.response.body.kind !== 'single') return;
          if ((rc.response.http.status ?? 200) !== 200) return;
          const roots = rc.operation?.selectionSet.selections ?? [];
          const prefillOnly = roots.length > 0 && roots.every((s) => s.kind === Kind.FIELD && (PREFILL_FIELDS.has(s.name.value) || s.name.value === '__typename'))
            && roots.some((s) => s.kind === Kind.FIELD && PREFILL_FIELDS.has(s.name.value));
          if (!prefillOnly) return;
          const { data, errors } = rc.response.body.singleResult;
          const status = refusalStatus(data, errors as never);
          if (status === undefined || !errors) return;
          rc.response.http.status = status;
          rc.response.body.singleResult = { errors: asRequestErrors(errors), ...(rc.response.body.singleResult.extensions ? { extensions: rc.response.body.singleResult.extensions } : {}) };
        },
      };
    },
  };
}
