/**
 * The Motlan gateway: Fastify + Apollo Server 5 + @apollo/gateway over the
 * static supergraph file, with every concern composed in ONE place below.
 *
 * ── How a request flows ────────────────────────────────────────────────────
 *   HTTP request
 *    │ onRequest   request-context: X-Request-Id, security headers, a fresh
 *    │             MotlanContext on `request.motlan` (gateway/context.ts)
 *    │ preHandler  auth: `Authorization: Bearer <key>` → context.client (401 otherwise)
 *    │ …           rate limits, document limits (Fastify hooks or Apollo plugins)
 *    ▼ /graphql    Apollo Server; its context function returns `request.motlan`.
 *    │             Apollo shallow-copies it per operation: nested objects (trace,
 *    │             subject, headers, client) are shared by Fastify hooks, Apollo
 *    │             plugins, the subgraph data sources and local subgraph resolvers;
 *    │             a top-level field assigned inside Apollo (e.g. `purpose`) is seen
 *    │             by that operation's plugins and resolvers, not by Fastify hooks.
 *    │ plugins     purpose policy & subject binding → cache → response check → (execution) → audit → metrics
 *    │ execution   @apollo/gateway plans the query; `SubgraphDataSource`
 *    │             (gateway/datasource.ts) calls each subgraph with keep-alive and a
 *    │             timeout and fills `context.trace`; a failing subgraph becomes a
 *    │             REGISTRY_UNAVAILABLE error next to the others' data (HTTP 200).
 *    ▼ response    formatError masks internals in production (gateway/errors).
 *
 * ── How to plug a concern in ───────────────────────────────────────────────
 *   Write a `ConcernFactory` (gateway/concern.ts) in your folder and add ONE line
 *   to `CONCERNS` below, in its slot. The factory may register Fastify hooks and
 *   routes on `env.app` (hooks of one kind run in list order) and returns its
 *   Apollo plugins (installed in list order), local subgraphs, a readiness probe
 *   and a close function. Own settings: add an optional field to GatewayOptions
 *   (gateway/options.ts) and read `env.options.gateway.<field>`.
 *
 * ── Supergraph ─────────────────────────────────────────────────────────────
 *   `schema/supergraph.graphql` (SUPERGRAPH_FILE) is composed at build time
 *   (`npm run compose`) and hot-reloaded by gateway/supergraph/manager.ts; an
 *   invalid new file is refused and the previous one keeps serving. Subgraph URLs
 *   come from the file unless `subgraphUrls` overrides them; subgraphs listed in
 *   `localSubgraphs` (or returned by a concern) run inside the gateway.
 *
 * ── Endpoints ──────────────────────────────────────────────────────────────
 *   POST/GET /graphql, GET /health, GET /ready, plus the routes concerns add
 *   (/ sandbox, /metrics, /audit/…, /console/, /stats/…).
 */
// First: sets APOLLO_TELEMETRY_DISABLED & co. before @apollo/gateway is loaded (no egress).
import '../lib/no-egress.js';
import { ApolloGateway } from '@apollo/gateway';
import {
  ApolloServerPluginLandingPageDisabled,
  ApolloServerPluginSchemaReportingDisabled,
  ApolloServerPluginUsageReportingDisabled,
} from '@apollo/server/plugin/disabled';
import { CachedLocalDataSource } from './procedures/local-datasource.js';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { fastifyApolloHandler } from '@as-integrations/fastify';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import type { GraphQLSchema } from 'graphql';
import { ClientRegistry } from './auth/clients.js';
import { authentication } from './auth/concern.js';
import type { ConcernEnv, ConcernFactory, GatewayConcern } from './core/concern.js';
import { isGraphQLRequest } from './core/concern.js';
import type { MotlanContext } from './core/context.js';
import { SubgraphDataSource } from './core/datasource.js';
import { errorBody, makeFormatError, scrubInternals } from './core/errors.js';
import { registerHealthRoutes } from './health/routes.js';
import { genRequestId, requestContext } from './http/request-context.js';
import { maskIdentifiers, redactQueryString } from '../lib/redact-url.js';
import { returnedFieldsPlugin } from './http/returned-fields.js';
import { resolveOptions, type GatewayOptions, type ResolvedGatewayOptions } from './options.js';
import { FileSupergraphManager } from './core/supergraph.js';
import { procedures } from './procedures/concern.js';
import { rateLimits } from './ratelimit/concern.js';
import { documentLimits } from './limits/concern.js';
import { loadLimits } from './limits/options.js';
import { purposePolicy } from './policy/concern.js';
import { cacheConcern } from './cache/concern.js';
import { disclosureCheck } from './disclosure/concern.js';
import { sandbox } from './sandbox/concern.js';
import { metricsConcern } from './metrics/index.js';
import { statsConcern } from './stats/index.js';
import { consoleConcern } from './console/index.js';
import { auditConcern } from './audit/index.js';

export type { GatewayOptions, ResolvedGatewayOptions } from './options.js';
export type { ConcernEnv, ConcernFactory, GatewayConcern } from './core/concern.js';

/** Fastify's request serializer, with the query string's values left out. */
function requestForLog(req: { method?: string; url?: string; host?: string; ip?: string; socket?: { remotePort?: number } }) {
  return { method: req.method, url: redactQueryString(req.url ?? ''), host: req.host, remoteAddress: req.ip, remotePort: req.socket?.remotePort };
}

/** A pino destination that masks identifier-shaped digit runs before writing. */
function maskedLogStream(dest: { write(line: string): unknown }): { write(line: string): void } {
  return { write: (line: string) => void dest.write(maskIdentifiers(line)) };
}

/** Execution slot: records which fields were returned (the data sources record the rest of the trace). */
const execution: ConcernFactory = () => ({ name: 'execution', plugins: [returnedFieldsPlugin()] });

/**
 * THE composition, in the order of docs/ARCHITECTURE.md. One line per concern;
 * keep the order (hooks and plugins run in it).
 */
const CONCERNS: ConcernFactory[] = [
  requestContext, //   1. request id & security headers          gateway/http
  authentication, //   2. auth (client API keys)                 gateway/auth
  rateLimits, //       3. rate limits (per client, Redis-shared) gateway/ratelimit
  documentLimits, //   4. document limits (depth, cost, size)     gateway/limits
  purposePolicy, //    5. purpose policy & subject binding        gateway/policy
  cacheConcern, //     6. cache (subgraph fetches, dedupe, plans) gateway/cache
  disclosureCheck, //  6b. response check (entities that leave)   gateway/disclosure
  execution, //        7. execution (trace of returned fields)    gateway/http
  auditConcern, //     8. audit (durable before the response)     gateway/audit
  metricsConcern, //   9. metrics (/metrics)                      gateway/metrics
  procedures, //       10. procedures / prefill (local subgraph)   gateway/procedures
  sandbox, //         11. sandbox (GET /)                         gateway/sandbox
  statsConcern, //    12. statistics API (/stats/v1/…)            gateway/stats
  consoleConcern, //  13. web console (/console/)                gateway/console
];

/** What `coreOnly: true` keeps. */
const CORE = new Set<ConcernFactory>([requestContext, authentication, execution]);

export interface Gateway {
  app: FastifyInstance;
  apollo: ApolloServer<MotlanContext>;
  gateway: ApolloGateway;
  options: ResolvedGatewayOptions;
  clients: ClientRegistry;
  supergraph: FileSupergraphManager;
  concerns: readonly GatewayConcern[];
  /** Stops accepting requests, drains in-flight ones, stops the watcher, closes every concern. */
  close(): Promise<void>;
}

export interface RunningGateway extends Gateway {
  /** Origin, e.g. `http://localhost:4000` (port resolved when 0 was asked). */
  url: string;
  /** `${url}/graphql` */
  graphqlUrl: string;
  port: number;
}

/** Builds the gateway (supergraph loaded, routes ready) without listening. */
export async function buildGateway(opts: GatewayOptions = {}): Promise<Gateway> {
  const options = resolveOptions(opts);
  const clients = ClientRegistry.load(options);

  const app = Fastify({
    logger: {
      level: options.logLevel,
      base: { instance: options.instanceId },
      // No personal data in any log line: URLs lose their query values (GET /graphql?variables=…,
      // auditor searches), and every line is masked for identifier-shaped digits on its way out.
      serializers: { req: requestForLog },
      stream: maskedLogStream(opts.logDestination ?? process.stdout),
    },
    genReqId: genRequestId,
    // Clients are servers on closed networks; no proxy is trusted unless configured in front.
    trustProxy: false,
  });
  const supergraph = new FileSupergraphManager({
    file: options.supergraphFile,
    watch: options.watchSupergraph,
    subgraphUrls: options.subgraphUrls,
    logger: { info: (m) => app.log.info(m), error: (m) => app.log.error(m) },
  });

  const concerns: GatewayConcern[] = [];
  const closeConcerns = async () => {
    for (const c of [...concerns].reverse()) {
      try {
        await c.close?.();
      } catch (err) {
        app.log.error({ err }, `Closing concern ${c.name} failed`);
      }
    }
  };

  try {
    let apolloServer: ApolloServer<MotlanContext> | null = null;
    let apolloGateway: ApolloGateway | null = null;
    const env: ConcernEnv = {
      options,
      logger: app.log,
      app,
      clients,
      supergraph,
      apollo: () => {
        if (!apolloServer) throw new Error('Apollo Server is not built yet: call env.apollo() at request time, not in the concern factory.');
        return apolloServer;
      },
      gateway: () => {
        if (!apolloGateway) throw new Error('The gateway is not built yet: call env.gateway() at request time, not in the concern factory.');
        return apolloGateway;
      },
    };
    const builtIn = options.gateway.coreOnly ? CONCERNS.filter((f) => CORE.has(f)) : CONCERNS;
    for (const factory of [...builtIn, ...(options.gateway.concerns ?? [])]) concerns.push(await factory(env));

    const localSubgraphs: Record<string, GraphQLSchema> = { ...options.gateway.localSubgraphs };
    for (const c of concerns) Object.assign(localSubgraphs, c.localSubgraphs);

    // Cache and in-flight dedupe (gateway/cache) see every remote subgraph fetch.
    const intercept = concerns.find((c) => c.subgraphFetch)?.subgraphFetch;
    // Entities returned (gateway/disclosure): keys added to subgraph fetches, answers recorded in the trace.
    const entities = concerns.find((c) => c.entityCollector)?.entityCollector;
    const gateway = new ApolloGateway({
      supergraphSdl: supergraph,
      validateSupergraph: true,
      logger: app.log,
      buildService: ({ name, url }) => {
        const local = localSubgraphs[name];
        if (local) return new CachedLocalDataSource(local);
        const target = options.subgraphUrls[name] ?? url;
        if (!target) throw new Error(`Subgraph "${name}" has no URL in ${options.supergraphFile} and no override: set subgraphUrls.${name}.`);
        return new SubgraphDataSource({ name, url: target, timeoutMs: options.subgraphTimeoutMs, intercept, entities, signingKey: options.subgraphSigningKey(name) });
      },
    });
    gateway.onSchemaLoadOrUpdate(({ apiSchema }) => supergraph.schemaLoaded(apiSchema));
    apolloGateway = gateway;

    // No fastifyApolloDrainPlugin: it calls app.close() from apollo.stop(), which we run
    // in app's onClose (deadlock). Fastify's close already drains in-flight requests.
    const plugins: ApolloServerPlugin<MotlanContext>[] = [
      // No egress: Apollo's usage/schema reporting never start, and its default landing page
      // (loaded from a CDN) is not served; the sandbox at / is ours and offline.
      ApolloServerPluginUsageReportingDisabled(),
      ApolloServerPluginSchemaReportingDisabled(),
      ApolloServerPluginLandingPageDisabled(),
      ...concerns.flatMap((c) => c.plugins ?? []),
      ...(options.gateway.extraPlugins ?? []),
    ];
    const apollo = new ApolloServer<MotlanContext>({
      gateway,
      plugins,
      logger: app.log,
      formatError: makeFormatError(options.production),
      includeStacktraceInErrorResponses: !options.production,
      // Introspection is for developers (sandbox); clients in production get the catalog instead.
      introspection: !options.production,
      // Arrays of operations only when the operator raised limits.maxBatchedOperations (gateway/limits).
      allowBatchedHttpRequests: loadLimits(options.gateway.limits ?? {}, options.env).maxBatchedOperations > 1,
      // The process owner (gateway/main.ts) handles SIGTERM/SIGINT with gw.close(). Apollo's own handler
      // would re-raise the signal as soon as Apollo stopped, killing the process before the audit tail is signed.
      stopOnTerminationSignals: false,
    });
    apolloServer = apollo;
    await apollo.start();

    const handler = fastifyApolloHandler<MotlanContext>(apollo, {
      context: async (request) => {
        // Batched operations share this context's subject and trace (see MotlanContext.batchSize).
        request.motlan.batchSize = request.method === 'POST' && Array.isArray(request.body) ? request.body.length : 1;
        return request.motlan;
      },
    });
    app.route({ method: ['GET', 'POST'], url: '/graphql', handler });

    registerHealthRoutes(app, {
      supergraph,
      localSubgraphs: new Set(Object.keys(localSubgraphs)),
      // Subgraphs answer only signed requests: the readiness probe is signed like any fetch.
      signingKey: (name) => options.subgraphSigningKey(name),
      concerns: () => concerns,
      instanceId: options.instanceId,
    });

    // Fastify's own 404 logs `Route GET:<url> not found` with the whole URL, query values
    // included (a mistyped auditor URL `…/record?personalId=…`): log it redacted instead.
    app.setNotFoundHandler((request, reply) => {
      request.log.info(`Route ${request.method}:${redactQueryString(request.url)} not found`);
      return reply.code(404).send({ message: `Route ${request.method}:${request.url} not found`, error: 'Not Found', statusCode: 404 });
    });

    app.setErrorHandler((error: FastifyError, request, reply) => {
      const status = error.statusCode && error.statusCode >= 400 ? error.statusCode : 500;
      if (status >= 500) request.log.error({ err: error }, 'Request failed');
      const message =
        status >= 500 && options.production
          ? 'Internal error in the gateway; the operator can find it in the logs by the X-Request-Id of this response.'
          : options.production
            ? scrubInternals(error.message)
            : error.message;
      const code = status === 413 ? 'LIMIT_EXCEEDED' : status >= 500 ? 'INTERNAL_SERVER_ERROR' : 'BAD_REQUEST';
      if (isGraphQLRequest(request)) return reply.code(status).send(errorBody(code, message));
      return reply.code(status).send({ error: code, message });
    });

    app.addHook('onClose', async () => {
      await apollo.stop();
      await closeConcerns();
    });
    await app.ready();

    return {
      app,
      apollo,
      gateway,
      options,
      clients,
      supergraph,
      concerns,
      close: () => app.close(),
    };
  } catch (err) {
    await supergraph.stop();
    await closeConcerns();
    await app.close().catch(() => undefined);
    throw err;
  }
}

/** Builds the gateway and listens on `port`/`host` (see GatewayOptions for defaults). */
export async function startGateway(opts: GatewayOptions = {}): Promise<RunningGateway> {
  const gw = await buildGateway(opts);
  try {
    await gw.app.listen({ port: gw.options.port, host: gw.options.host });
  } catch (err) {
    await gw.close();
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EADDRINUSE') throw new Error(`Port ${gw.options.port} is already in use on ${gw.options.host}: stop the other process or set PORT.`);
    throw err;
  }
  const address = gw.app.server.address();
  const port = typeof address === 'object' && address ? address.port : gw.options.port;
  const host = gw.options.host === '0.0.0.0' || gw.options.host === '::' ? 'localhost' : gw.options.host;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  return { ...gw, url, graphqlUrl: `${url}/graphql`, port };
}
