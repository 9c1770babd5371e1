/**
 * Serves one subgraph: `@apollo/server` over `buildSubgraphSchema`, mounted on
 * fastify (keep-alive, graceful drain), plus `GET /health`. The schema, the
 * registry client and its connection pool are built once; each request only gets
 * a fresh set of DataLoaders.
 */
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/resolverMap.js';
import fastifyApollo, { fastifyApolloDrainPlugin } from '@as-integrations/fastify';
import Fastify, { type FastifyInstance } from 'fastify';
import type { DocumentNode } from 'graphql';
import type { RegistryName } from '../../mocks/world/types.js';
import { RegistryLoaders, type RegistryLoadersOptions } from './loaders.js';
import type { RegistryClient } from './registry-client.js';

/** What every resolver of a subgraph receives. */
export interface SubgraphContext<M extends object> {
  loaders: RegistryLoaders<M>;
}

/** A subgraph: its SDL and resolvers; `M` maps the registry's collections to record types. */
export interface SubgraphDefinition<M extends object> {
  name: RegistryName;
  typeDefs: DocumentNode;
  resolvers: GraphQLResolverMap<SubgraphContext<M>>;
}

export interface SubgraphServerOptions {
  /** The upstream registry client (owned by the server from now on: closed with it). */
  client: RegistryClient;
  /** Port to listen on; 0 picks a free one. Default 0. */
  port?: number;
  /** Interface to bind; `localhost` binds 127.0.0.1 and ::1. Default `localhost`. */
  host?: string;
  /** Hide stack traces and internal error messages. Default: NODE_ENV === 'production'. */
  production?: boolean;
  /** pino level for the fastify logger. Default: LOG_LEVEL or `warn`. */
  logLevel?: string;
  loaders?: RegistryLoadersOptions;
}

export interface RunningSubgraph {
  /** The GraphQL endpoint, e.g. `http://127.0.0.1:4001/graphql`. */
  url: string;
  port: number;
  app: FastifyInstance;
  close(): Promise<void>;
}

/** Builds the fastify app with the subgraph mounted at `/graphql`, not listening yet. */
export async function buildSubgraphServer<M extends object>(
  def: SubgraphDefinition<M>,
  opts: SubgraphServerOptions,
): Promise<FastifyInstance> {
  const production = opts.production ?? process.env.NODE_ENV === 'production';
  const app = Fastify({
    logger: { level: opts.logLevel ?? process.env.LOG_LEVEL ?? 'warn' },
    // Longer than the gateway's idle keep-alive so the gateway closes first and
    // never writes on a socket we are closing.
    keepAliveTimeout: 72_000,
  });
  const apollo = new ApolloServer<SubgraphContext<M>>({
    schema: buildSubgraphSchema({ typeDefs: def.typeDefs, resolvers: def.resolvers as GraphQLResolverMap<unknown> }),
    includeStacktraceInErrorResponses: !production,
    // No landing page (subgraphs are not browsed) and no Apollo ftv1 inline traces:
    // the gateway times subgraph calls itself, so per-field tracing is pure overhead.
    plugins: [fastifyApolloDrainPlugin(app), ApolloServerPluginLandingPageDisabled(), ApolloServerPluginInlineTraceDisabled()],
    formatError(formatted) {
      // Unexpected failures may carry internal details in their message; coded
      // errors (BAD_USER_INPUT, REGISTRY_UNAVAILABLE, ...) are written for clients.
      if (production && formatted.extensions?.code === 'INTERNAL_SERVER_ERROR') {
        return { ...formatted, message: `Internal error in the ${def.name} subgraph` };
      }
      return formatted;
    },
  });
  await apollo.start();
  const client = opts.client;
  const loaderOpts = opts.loaders;
  await app.register(fastifyApollo(apollo), {
    context: async () => ({ loaders: new RegistryLoaders<M>(client, loaderOpts) }),
  });
  app.get('/health', async () => ({ status: 'ok', subgraph: def.name, registry: client.registry }));
  app.addHook('onClose', async () => client.close());
  return app;
}

/** Builds and starts the server; `close()` drains requests and closes registry sockets. */
export async function startSubgraphServer<M extends object>(
  def: SubgraphDefinition<M>,
  opts: SubgraphServerOptions,
): Promise<RunningSubgraph> {
  const app = await buildSubgraphServer(def, opts);
  const host = opts.host ?? 'localhost';
  await app.listen({ port: opts.port ?? 0, host });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : (opts.port ?? 0);
  const shownHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' || host === '::' ? 'localhost' : host;
  return {
    url: `http://${shownHost}:${port}/graphql`,
    port,
    app,
    close: () => app.close(),
  };
}
