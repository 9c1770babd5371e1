/**
 * The composition contract of the gateway: every concern (auth, rate limits,
 * document limits, purpose policy, cache, audit, metrics, sandbox, procedures…)
 * is a `ConcernFactory` listed once, in order, in `gateway/app.ts`.
 *
 * A factory receives the `ConcernEnv` (resolved options, logger, the Fastify
 * app, the client registry, the supergraph) and returns a `GatewayConcern`.
 * While it runs it may register Fastify hooks and routes on `env.app`: hooks of
 * the same kind run in the order of the list, which is how "auth before rate
 * limits before policy" is guaranteed. Apollo Server plugins are handed back in
 * `plugins` and are installed in the same order.
 */
import type { ApolloGateway } from '@apollo/gateway';
import type { ApolloServer, ApolloServerPlugin } from '@apollo/server';
import type { FastifyBaseLogger, FastifyInstance, FastifyRequest } from 'fastify';
import type { GraphQLSchema } from 'graphql';
import type { MotlanContext } from './context.js';
import type { SubgraphEntityCollector, SubgraphFetchInterceptor } from './datasource.js';
import type { ClientRegistry } from '../auth/clients.js';
import type { SupergraphSource } from './supergraph.js';
import type { ResolvedGatewayOptions } from '../options.js';

export interface ConcernEnv {
  /** Every option with its default applied (see `GatewayOptions` in gateway/options.ts). */
  options: ResolvedGatewayOptions;
  logger: FastifyBaseLogger;
  /** Register hooks/routes here. `/graphql` is routed after every factory has run. */
  app: FastifyInstance;
  /** Clients file: `clients.authenticate(headers, { role: 'auditor' })` for your own routes. */
  clients: ClientRegistry;
  /** The supergraph being served: current SDL, API schema, subgraph list, change events. */
  supergraph: SupergraphSource;
  /**
   * The gateway's Apollo Server, once built (throws if called from the factory itself).
   * `apollo().executeOperation(req, { contextValue })` runs an operation through the whole
   * pipeline (policy, cache, audit): prefill uses it for its inner operations.
   */
  apollo: () => ApolloServer<MotlanContext>;
  /** The @apollo/gateway instance, once built (throws if called from the factory itself); the cache warms its query plans. */
  gateway?: () => ApolloGateway;
}

export interface GatewayConcern {
  /** Short name used in logs and in /ready. */
  name: string;
  /** Apollo Server plugins, installed in list order (after those of earlier concerns). */
  plugins?: ApolloServerPlugin<MotlanContext>[];
  /**
   * In-gateway subgraphs served with `LocalGraphQLDataSource` (the request's own
   * `MotlanContext` is passed to their resolvers). Each must also be composed into
   * the supergraph file under the same name; the URL written there is ignored.
   */
  localSubgraphs?: Record<string, GraphQLSchema>;
  /**
   * Sees every client fetch to a remote subgraph (gateway/cache: cache, in-flight dedupe) and
   * may answer it without calling the subgraph. At most one concern provides it.
   */
  subgraphFetch?: SubgraphFetchInterceptor;
  /**
   * Sees every client fetch to a remote subgraph and its answer, to record the entities
   * returned (gateway/disclosure). At most one concern provides it.
   */
  entityCollector?: SubgraphEntityCollector;
  /** Readiness probe for /ready: resolve `null` when ready, or a reason when not. */
  ready?: () => Promise<string | null>;
  /** Release resources (flush, close pools); called once on shutdown, in reverse order. */
  close?: () => Promise<void>;
}

export type ConcernFactory = (env: ConcernEnv) => GatewayConcern | Promise<GatewayConcern>;

/** The MotlanContext created for this HTTP request (set by the request-context hook). */
export function motlanContextOf(request: FastifyRequest): MotlanContext {
  return (request as FastifyRequest & { motlan: MotlanContext }).motlan;
}

/** True when the request targets the GraphQL endpoint (where client auth applies). */
export function isGraphQLRequest(request: FastifyRequest): boolean {
  return request.routeOptions.url === '/graphql';
}
