/**
 * Operations answered by an in-gateway subgraph alone (a client's `prefill`), run without the
 * gateway's executor around them.
 *
 * Through `ApolloGateway.executor`, such an operation is turned into a federation operation
 * (`operationFromDocument`), planned (one fetch to the local subgraph), sent to the local data
 * source (which projects the resolver's value onto the planner's selection, plain-execution.ts)
 * and the answer reshaped onto the client's selection (`computeResponse`): three passes over a
 * form of 25 fields to produce what one projection onto the client's selection gives. Measured in
 * `npm run bench` W2 (prefill), about a tenth of the gateway's CPU per request.
 *
 * When a document qualifies, decided once per parsed document (Apollo keeps one per query text):
 * - the gateway's own planner plans it as ONE fetch to a local subgraph (no other subgraph, no
 *   entity step: exactly the case where the executor adds nothing but shaping), and
 * - it is plain for that subgraph's schema (`planPlain`: one plain root field, plain selections).
 * Everything else — and any request whose variables or arguments graphql-js must judge — goes to
 * the gateway's executor as before. Errors are reported as the gateway reports a subgraph's
 * (`serviceName` added, a code when the error had none, no locations), so clients see the same
 * answer either way (test/local-shortcut.test.ts compares both paths).
 *
 * What the shortcut skips is only shaping: authentication, limits, the purpose policy, the response
 * cache, the response check and the audit are Apollo Server plugins around the executor, and the
 * resolver's own registry reads still go through the gateway (inner executions).
 */
import type { ApolloGateway } from '@apollo/gateway';
import { ERRORS, errorCodeDef } from '@apollo/federation-internals';
import { getVariableValues, GraphQLError, type DocumentNode, type GraphQLSchema } from 'graphql';
import { gatewayPlanner } from '../core/gateway-planner.js';
import { executePlain, planPlain, type PlainPlan } from './plain-execution.js';

/** What Apollo Server needs of a gateway (ApolloGateway implements it), and how often the shortcut answered. */
export type GatewayForApollo = Pick<ApolloGateway, 'load' | 'onSchemaLoadOrUpdate' | 'stop'> & {
  /** Operations answered by projection so far (tests check a prefill takes this path). */
  readonly shortcuts: number;
};
type GatewayExecutor = NonNullable<Awaited<ReturnType<ApolloGateway['load']>>['executor']>;

interface Shortcut {
  serviceName: string;
  schema: GraphQLSchema;
  plan: PlainPlan;
}

/** The local subgraph answering the whole operation alone, per the gateway's planner; null otherwise. */
function localFetchOf(gateway: ApolloGateway, document: DocumentNode, operationName: string | null, local: Readonly<Record<string, GraphQLSchema>>): string | null {
  const planner = gatewayPlanner(gateway);
  if (!planner) return null;
  try {
    const node = planner.plan(document, operationName ?? undefined).node;
    if (!node || node.kind !== 'Fetch' || !node.serviceName || !local[node.serviceName]) return null;
    if (node.requires || node.inputRewrites || node.outputRewrites) return null;
    return node.serviceName;
  } catch {
    // Whatever the planner refuses, the executor reports.
    return null;
  }
}

/** A subgraph error as the gateway passes it on (executeQueryPlan's `downstreamServiceError`). */
function asDownstream(error: GraphQLError, serviceName: string): GraphQLError {
  const message = error.message || `Error while fetching subquery from service "${serviceName}"`;
  const options = { originalError: error, path: error.path, extensions: { ...error.extensions, serviceName } };
  const def = errorCodeDef(error);
  if (!def && error.extensions?.code) return new GraphQLError(message, options);
  return (def ?? ERRORS.DOWNSTREAM_SERVICE_ERROR).err(message, options);
}

/**
 * `gateway`, with operations that a local subgraph answers alone executed by projection (see the
 * module comment). Give the result to Apollo Server in place of the gateway.
 */
export function withLocalShortcut(gateway: ApolloGateway, local: Readonly<Record<string, GraphQLSchema>>): GatewayForApollo {
  // Per parsed document and operation name (Apollo reuses the document object for the same text).
  const decided = new WeakMap<DocumentNode, Map<string, Shortcut | null>>();
  const shortcutFor = (document: DocumentNode, operationName: string | null): Shortcut | null => {
    let byName = decided.get(document);
    if (!byName) decided.set(document, (byName = new Map()));
    const name = operationName ?? '';
    if (byName.has(name)) return byName.get(name)!;
    let found: Shortcut | null = null;
    const serviceName = localFetchOf(gateway, document, operationName, local);
    if (serviceName) {
      const schema = local[serviceName]!;
      const plan = planPlain(schema, document, operationName ?? undefined);
      if (plan) found = { serviceName, schema, plan };
    }
    byName.set(name, found);
    return found;
  };
  let shortcuts = 0;
  return {
    get shortcuts() {
      return shortcuts;
    },
    onSchemaLoadOrUpdate: (callback) => gateway.onSchemaLoadOrUpdate(callback),
    stop: () => gateway.stop(),
    async load(options) {
      const loaded = await gateway.load(options);
      const inner = loaded.executor;
      const executor: GatewayExecutor = async (rc) => {
        const shortcut = shortcutFor(rc.document, rc.operationName);
        // The variables as the executor would judge them, against the API schema (it refuses what
        // the supergraph leaves out even where the local subgraph's own input type has it).
        if (shortcut && !getVariableValues(rc.schema, shortcut.plan.operation.variableDefinitions ?? [], rc.request.variables ?? {}).errors) {
          const outcome = await executePlain(shortcut.schema, shortcut.plan, rc.request.variables, rc.context);
          if (outcome !== 'graphql-js') {
            shortcuts++;
            return outcome.errors?.length ? { data: outcome.data, errors: outcome.errors.map((e) => asDownstream(e, shortcut.serviceName)) } : { data: outcome.data };
          }
        }
        return inner(rc);
      };
      return { ...loaded, executor };
    },
  };
}
