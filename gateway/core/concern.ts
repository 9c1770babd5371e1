/**
 * The composition contract of the gateway. Every concern (auth, rate limits, document limits,
 * purpose policy, cache, audit, metrics, sandbox, procedures…) is a `Concern` listed once, in
 * order, in gateway/app.ts — the only file that knows them all.
 *
 * A concern declares:
 * - `slice`: the field of `GatewayOptions` it owns; `options(own, ctx)` turns it into its
 *   resolved settings (defaults, environment through the strict `EnvReader`). Every concern's
 *   options are resolved before any concern is built, so a bad setting stops the start first;
 * - `provides` / `needs` / `uses`: the shared services (core/services.ts). A missing required
 *   service stops the start with a message naming the concern and the service;
 * - `create(env)`: builds it for ONE gateway (no module state) and returns its parts. Providers
 *   are created before their users, whatever the list order;
 * - `install()` (returned by `create`): registers Fastify hooks and routes. Installs run in list
 *   order, as do Apollo plugins: the list decides hook order, and only that.
 */
import type { ApolloServerPlugin } from '@apollo/server';
import type { FastifyBaseLogger, FastifyInstance, FastifyRequest } from 'fastify';
import type { FormattedExecutionResult, GraphQLSchema } from 'graphql';
import type { EnvReader } from '../../lib/env-options.js';
import type { MotlanContext } from './context.js';
import type { SubgraphFetchInterceptor } from './datasource.js';
import type { ServiceMap, ServiceName, ServiceView } from './services.js';
import type { SupergraphSource } from './supergraph.js';

/** Settings every concern may read (the gateway's own, resolved: gateway/options.ts). */
export interface CoreSettings {
  production: boolean;
  /** Name of this replica in logs, audit records and metrics. */
  instanceId: string;
  /** Whether the gateway was asked an explicit instance id (option or INSTANCE_ID), not the generated default. */
  instanceIdGiven: string | undefined;
  supergraphFile: string;
  watchSupergraph: boolean;
  clientsFile: string;
  /** Where `clientsFile` was asked for explicitly (`CLIENTS_FILE=…` or the `clientsFile` option), else undefined (the default path). */
  clientsFileGiven?: string;
  demoClientsFile: string | false;
  /** The environment the defaults come from (GatewayOptions.env, else process.env). */
  env: NodeJS.ProcessEnv;
}

/** What `options()` gets besides the concern's own slice. */
export interface OptionsContext {
  core: CoreSettings;
  /** The strict environment reader: a bad value throws, naming the variable. */
  env: EnvReader;
}

export interface ConcernEnv<O = unknown, N extends ServiceName = ServiceName, U extends ServiceName = ServiceName> {
  /** The concern's own resolved options (what its `options()` returned). */
  own: O;
  core: CoreSettings;
  logger: FastifyBaseLogger;
  /** Register hooks/routes here, from `install()`. `/graphql` is routed after every concern is installed. */
  app: FastifyInstance;
  supergraph: SupergraphSource;
  /** The services it declared (`need` for `needs`, `use` for `uses`). */
  services: ServiceView<N, U>;
}

/** What one concern contributes to one gateway. */
export interface ConcernParts {
  /** Services it `provides` (exactly those, checked at start). */
  services?: Partial<ServiceMap>;
  /** Registers Fastify hooks and routes; called in list order once every concern is created. */
  install?: () => void | Promise<void>;
  /** Apollo Server plugins, installed in list order. */
  plugins?: ApolloServerPlugin<MotlanContext>[];
  /**
   * In-gateway subgraphs served with `LocalGraphQLDataSource` (the request's own `MotlanContext`
   * is passed to their resolvers). Each must also be composed into the supergraph file.
   */
  localSubgraphs?: Record<string, GraphQLSchema>;
  /**
   * Sees every client fetch to a remote subgraph and may answer it without calling the subgraph
   * (gateway/cache). Interceptors of several concerns form a chain in list order (the first
   * sees the fetch first; `upstream` calls the next one).
   */
  subgraphFetch?: SubgraphFetchInterceptor;
  /** Apollo Server settings this concern decides (gateway/limits: batched requests; gateway/cache: how results are written). */
  apolloSettings?: { allowBatchedHttpRequests?: boolean; stringifyResult?: (value: FormattedExecutionResult) => string };
  /** Readiness probe for /ready: resolve `null` when ready, or a reason when not. */
  ready?: () => Promise<string | null>;
  /** Release resources (flush, close pools); called once on shutdown, in reverse creation order. */
  close?: () => Promise<void>;
}

export interface Concern<I = unknown, O = unknown, N extends ServiceName = never, U extends ServiceName = never> {
  /** Short name used in logs, errors and /ready. */
  name: string;
  /** Resolves its settings from its own slice of GatewayOptions (undefined when not given) and the environment. */
  options?: (own: I | undefined, ctx: OptionsContext) => O;
  /** Field of GatewayOptions handed to `options()`. Default: none (`own` is undefined). */
  slice?: string;
  /** Environment variables it reads besides those `options()` reads (reported as known at start). */
  variables?: readonly string[];
  provides?: readonly ServiceName[];
  needs?: readonly N[];
  uses?: readonly U[];
  create: (env: ConcernEnv<O, N, U>) => ConcernParts | Promise<ConcernParts>;
}

/** Any concern, whatever its option and service types (what the list holds). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyConcern = Concern<any, any, any, any>;

/**
 * Declares a concern with its types inferred: `own` is typed by `options`, and `services.need`
 * accepts only what `needs` lists.
 */
export function defineConcern<I = undefined, O = undefined, const N extends ServiceName = never, const U extends ServiceName = never>(
  concern: Concern<I, O, N, U>,
): Concern<I, O, N, U> {
  return concern;
}

/** The MotlanContext created for this HTTP request (set by the request-context hook). */
export function motlanContextOf(request: FastifyRequest): MotlanContext {
  return (request as FastifyRequest & { motlan: MotlanContext }).motlan;
}

export { isGraphQLRequest } from './errors.js';

/** One concern of a built gateway, as /ready and `Gateway.concerns` see it. */
export type GatewayConcern = { name: string } & ConcernParts;
