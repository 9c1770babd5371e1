/**
 * Query-plan warm-up: plans the procedure catalog's compiled operations (and prefill's
 * relation checks) once, when the supergraph loads, so the first prefill of each
 * procedure does not pay for query planning (tens of ms for a wide operation).
 *
 * How: the same steps as `ApolloGateway.executor` on a plan-cache miss: parse the
 * operation, `operationFromDocument` over the gateway's API schema, `buildQueryPlan`
 * with the gateway's query planner, stored in the gateway's own query-plan store under
 * the key the executor will look up (sha256 hex of the query, as Apollo Server computes
 * it, then sha256 of that hash + operation name). Nothing runs against a subgraph.
 *
 * Through gateway/core/gateway-planner.ts (private members of @apollo/gateway 2.x): if a future
 * version renames them, warming is skipped with one warning and requests plan on first use.
 */
import { sha256 } from '../../lib/sha256.js';
import type { ApolloGateway } from '@apollo/gateway';
import { parse } from 'graphql';
import { gatewayPlanner } from '../core/gateway-planner.js';

export interface OperationToWarm {
  query: string;
  operationName?: string;
}

/** The key `ApolloGateway.executor` looks plans up by. */
export function queryPlanKey(query: string, operationName?: string): string {
  const queryHash = sha256(query, 'hex');
  // Two updates hash their concatenation.
  return operationName ? sha256(queryHash + operationName, 'hex') : queryHash;
}

export interface WarmResult {
  planned: number;
  /** Already in the store. */
  present: number;
  /** Operations that could not be planned, with why (an invalid catalog entry shows up here). */
  failed: Array<{ operationName?: string; error: string }>;
  /** Set when the gateway's internals were not found: nothing was warmed. */
  skipped?: string;
}

export async function warmQueryPlans(gateway: ApolloGateway, operations: readonly OperationToWarm[]): Promise<WarmResult> {
  const planner = gatewayPlanner(gateway);
  const result: WarmResult = { planned: 0, present: 0, failed: [] };
  if (!planner) {
    result.skipped = 'this @apollo/gateway version does not expose apiSchema/queryPlanner/queryPlanStore; plans are built on first use';
    return result;
  }
  const seen = new Set<string>();
  for (const op of operations) {
    const key = queryPlanKey(op.query, op.operationName);
    if (seen.has(key)) continue;
    seen.add(key);
    try {
      if (await planner.store.get(key)) {
        result.present++;
        continue;
      }
      await planner.store.set(key, planner.plan(parse(op.query), op.operationName));
      result.planned++;
    } catch (err) {
      result.failed.push({ operationName: op.operationName, error: (err as Error).message });
    }
  }
  return result;
}
