/**
 * The gateway's own query planner, asked directly: the steps `ApolloGateway.executor` takes on a
 * plan-cache miss (`operationFromDocument` over the gateway's API schema, then `buildQueryPlan`
 * with the gateway's planner and its limit options), for the code that must plan exactly as the
 * executor does without executing (gateway/cache/warm.ts stores the plans ahead of use;
 * gateway/procedures/local-shortcut.ts asks whether one local subgraph answers an operation alone).
 *
 * These are private members of @apollo/gateway 2.x: `gatewayPlanner` returns null when a version
 * does not expose them, and each caller then falls back to the executor's own path.
 */
import type { ApolloGateway } from '@apollo/gateway';
import { operationFromDocument } from '@apollo/federation-internals';
import type { DocumentNode } from 'graphql';

/** A node of a query plan, as far as the callers read it. */
export interface QueryPlanNode {
  kind: string;
  serviceName?: string;
  requires?: unknown;
  inputRewrites?: unknown;
  outputRewrites?: unknown;
}

export interface QueryPlan {
  node?: QueryPlanNode;
}

/** The parts of ApolloGateway used (private in its typings). */
interface GatewayInternals {
  apiSchema?: Parameters<typeof operationFromDocument>[0];
  queryPlanner?: { buildQueryPlan(operation: unknown, options?: Record<string, unknown>): QueryPlan };
  queryPlanStore?: { get(key: string): Promise<unknown>; set(key: string, value: unknown): Promise<void> };
  recursiveSelectionsLimitDisabled?: boolean;
  nonLocalSelectionsLimitDisabled?: boolean;
}

export interface GatewayPlanner {
  /** The plan of `document`'s operation as the executor builds it; throws what the planner throws. */
  plan(document: DocumentNode, operationName?: string): QueryPlan;
  /** The executor's plan cache. */
  store: NonNullable<GatewayInternals['queryPlanStore']>;
}

/** The gateway's planner, or null when this @apollo/gateway version does not expose it (or has not loaded a schema). */
export function gatewayPlanner(gateway: ApolloGateway): GatewayPlanner | null {
  const g = gateway as unknown as GatewayInternals;
  const { apiSchema, queryPlanner, queryPlanStore } = g;
  if (!apiSchema || !queryPlanner || typeof queryPlanner.buildQueryPlan !== 'function' || !queryPlanStore) return null;
  return {
    plan: (document, operationName) =>
      queryPlanner.buildQueryPlan(operationFromDocument(apiSchema, document, { operationName }), {
        recursiveSelectionsLimitDisabled: g.recursiveSelectionsLimitDisabled ?? false,
        nonLocalSelectionsLimitDisabled: g.nonLocalSelectionsLimitDisabled ?? false,
      }),
    store: queryPlanStore,
  };
}
