/**
 * The Motlan gateway: Fastify + Apollo Server 5 + @apollo/gateway over the
 * static supergraph file, with every concern composed in ONE place below.
 *
 * ── How a request flows ────────────────────────────────────────────────────
 *   HTTP request
 *    │ onRequest   request-context: X-Request-Id, security headers, a fresh
 *    │             MotlanContext on `request.motlan` (gateway/core/context.ts)
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
 *    │             (gateway/core/datasource.ts) calls each subgraph with keep-alive and a
 *    │             timeout and fills `context.trace`; a failing subgraph becomes a
 *    │             REGISTRY_UNAVAILABLE error next to the others' data (HTTP 200).
 *    ▼ response    formatError masks internals in production (gateway/core/errors.ts).
 *
 * ── How to plug a concern in ───────────────────────────────────────────────
 *   Write a `Concern` (gateway/core/concern.ts, `defineConcern`) in your folder, add
 *   ONE line to `CONCERNS` below in its slot and, if it has settings, ONE field to
 *   `GatewayOptions` below (its `slice`). It declares the services it provides, needs
 *   and uses (gateway/core/services.ts); the gateway creates providers before users,
 *   installs hooks and plugins in list order, and refuses to start when a needed
 *   service has no provider. docs/ARCHITECTURE.md has a worked example.
 *
 * ── Supergraph ─────────────────────────────────────────────────────────────
 *   `schema/supergraph.graphql` (SUPERGRAPH_FILE) is composed at build time
 *   (`npm run compose`) and hot-reloaded by gateway/core/supergraph.ts; an
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
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { fastifyApolloHandler } from '@as-integrations/fastify';
import Fastify, { type FastifyInstance } from 'fastify';
import type { GraphQLSchema } from 'graphql';
import { Agent } from 'undici';
import { EnvReader, unknownVariables } from '../lib/env-options.js';
import { defineConcern, type AnyConcern, type ConcernParts, type GatewayConcern } from './core/concern.js';
import type { MotlanContext } from './core/context.js';
import { chainInterceptors, SubgraphDataSource, type SubgraphFetchInterceptor } from './core/datasource.js';
import { errorHandler, makeFormatError, sendError } from './core/errors.js';
import { apolloExecutor } from './core/inner-execution.js';
import { CORE_SERVICES, ServiceRegistry, ServiceView, type ClientDirectory, type ServiceName } from './core/services.js';
import { FileSupergraphManager } from './core/supergraph.js';
import { registerHealthRoutes } from './health/routes.js';
import { CachedLocalDataSource } from './procedures/local-datasource.js';
import { withLocalShortcut, type GatewayForApollo } from './procedures/local-shortcut.js';
import { resolveOptions, type CoreGatewayOptions, type ResolvedGatewayOptions } from './options.js';
import { genRequestId, requestContext } from './http/request-context.js';
import { maskedLogStream, redactQueryString, requestForLog } from '../lib/redact-url.js';
import { returnedFieldsPlugin } from './http/returned-fields.js';
import { tracingConcern, type TracingOptions } from './tracing/concern.js';
import { authentication } from './auth/concern.js';
import { rateLimits, type RateLimitSetting } from './ratelimit/concern.js';
import { documentLimits, type LimitsSetting } from './limits/concern.js';
import { purposePolicy, type PolicyConcernOptions } from './policy/concern.js';
import { cacheConcern, type CacheConcernOptions } from './cache/concern.js';
import { disclosureCheck, type DisclosureOptions } from './disclosure/concern.js';
import { auditConcern, type AuditSetting } from './audit/index.js';
import { metricsConcern, type MetricsConcernOptions } from './metrics/index.js';
import { procedures, type ProceduresConcernOptions } from './procedures/concern.js';
import { sandbox, type SandboxSetting } from './sandbox/concern.js';
import { statsConcern, type StatsOptions } from './stats/index.js';
import { consoleConcern, type ConsoleOptions } from './console/index.js';

export type { ResolvedGatewayOptions, CoreGatewayOptions } from './options.js';
export type { AnyConcern, Concern, ConcernEnv, ConcernParts, GatewayConcern } from './core/concern.js';
export { defineConcern } from './core/concern.js';

/** Every option of the gateway: its own (gateway/options.ts) and one field per concern (each documented in its folder). */
export interface GatewayOptions extends CoreGatewayOptions {
  /** Procedure catalog (gateway/procedures/concern.ts): folders and reload. Default: `schema/procedures/` + `PROCEDURES_DIR_EXTRA`, watched. */
  procedures?: ProceduresConcernOptions;
  /** /metrics: bearer token (default `METRICS_TOKEN` env, open when unset), label limits, buckets. See gateway/metrics. */
  metrics?: MetricsConcernOptions;
  /** /stats/v1: hourly rate in VND (default `STATS_HOURLY_RATE_VND` env, else 37 000), audit store override. See gateway/stats. */
  stats?: StatsOptions;
  /** /console/: URL prefix (default `/console/`). See gateway/console. */
  console?: ConsoleOptions;
  /** Per-client rate limits (gateway/ratelimit): rate, burst, unknown-lookup brake, Redis (`REDIS_URL`); `false` turns them off (benchmarks). Default: 20/s, burst 40, 20 unknown lookups per 10 min, in memory. */
  rateLimit?: RateLimitSetting;
  /** Request/document limits (gateway/limits/options.ts): body 64 KiB, depth 12, aliases 15, cost 2000, … (`LIMIT_*` env). */
  limits?: LimitsSetting;
  /** Purpose policy & subject binding (gateway/policy): subject token key set. Default: `SUBJECT_TOKEN_JWKS_URL` env. */
  policy?: PolicyConcernOptions;
  /** Audit trail (gateway/audit/config.ts): store (SQLite `DATA_DIR/audit.db`, or `AUDIT_DATABASE_URL`), keys, checkpoints; `false` turns it off (benchmarks only). Default: on. */
  audit?: AuditSetting;
  /** The GraphiQL sandbox at `/` (gateway/sandbox): its options, or `false` to serve none. Default: on, demo key and demo-world examples outside production. */
  sandbox?: SandboxSetting;
  /** Response cache (hit path), subgraph-fetch cache, in-flight dedupe, change feeds, plan warm-up (gateway/cache, docs/CACHE.md); `false` turns caching off. Default: on, policies from `config/cache.json` (`CACHE_CONFIG`), `CACHE=off` disables, `CACHE_RESPONSES=off` keeps only the subgraph cache, `REDIS_URL` shares it. */
  cache?: CacheConcernOptions;
  /** OpenTelemetry tracing (gateway/tracing): settings in place of the OTEL_* variables, or `settings: false`. Default: from the environment, off without OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT. */
  tracing?: TracingOptions;
  /** Response check (gateway/disclosure): `enabled: false` (or `DISCLOSURE=off`) turns it off, benchmarks only. Default: on. */
  disclosure?: DisclosureOptions;
}

/** Execution slot: records which fields were returned (the data sources record the rest of the trace). */
const execution = defineConcern({ name: 'execution', create: () => ({ plugins: [returnedFieldsPlugin()] }) });

/**
 * THE composition, in the order of docs/ARCHITECTURE.md. One line per concern;
 * keep the order (hooks and plugins run in it).
 */
const CONCERNS: readonly AnyConcern[] = [
  requestContext, //   1. request id & security headers          gateway/http
  tracingConcern, //   1b. OpenTelemetry spans (off by default)   gateway/tracing
  authentication, //   2. auth (client API keys)                 gateway/auth
  rateLimits, //       3. rate limits (per client, Redis-shared) gateway/ratelimit
  documentLimits, //   4. document limits (depth, cost, size)     gateway/limits
  purposePolicy, //    5. purpose policy & subject binding        gateway/policy
  cacheConcern, //     6. cache (responses, subgraph fetches, dedupe, plans) gateway/cache
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
const CORE = new Set<AnyConcern>([requestContext, authentication, execution]);

/**
 * Prefixes of the variables the gateway's concerns read: one set with such a prefix that
 * nobody reads (a typo like LIMIT_MAX_DEPHT) is reported at start.
 */
export const ENV_PREFIXES = [
  'LIMIT_', 'RATE_LIMIT_', 'AUDIT_', 'CACHE_', 'SUBGRAPH_', 'SUBJECT_TOKEN_', 'STATS_', 'METRICS_', 'PROCEDURES_', 'SANDBOX_',
  // Read by the gateway (CLIENTS_FILE, REGISTRY_URL_<NAME>, REGISTRY_API_KEY) and by the processes `npm start` runs beside it.
  'CLIENTS_', 'REGISTRY_', 'EID_', 'MOCK_',
  // OpenTelemetry's standard variables (gateway/tracing): a misspelt OTEL_EXPORTER_OTLP_ENDPOINT would leave tracing silently off.
  'OTEL_',
] as const;

/**
 * Variables with those prefixes that other programs of the repository read (tests, `npm start`, the subgraphs,
 * the mock registries and e-ID platform), not the gateway: `npm start` gives every child the same environment.
 */
const READ_ELSEWHERE = [
  'AUDIT_TEST_DATABASE_URL', 'SUBGRAPH_PORT_BASE',
  'REGISTRY_PORT_BASE', 'REGISTRY_HOST', 'REGISTRY_TIMEOUT_MS', 'REGISTRY_API_KEY', 'EID_PORT',
  'MOCK_SEED', 'MOCK_CITIZENS', 'MOCK_LATENCY_MS', 'MOCK_ERROR_RATE', 'MOCK_JITTER_MS', 'MOCK_SLOW_RATE', 'MOCK_SLOW_MS', 'MOCK_OUTAGE',
];

export interface Gateway {
  app: FastifyInstance;
  apollo: ApolloServer<MotlanContext>;
  gateway: ApolloGateway;
  /** What Apollo Server runs operations through: the gateway, with a local subgraph's lone operations projected (gateway/procedures/local-shortcut.ts). */
  executorGateway: GatewayForApollo;
  options: ResolvedGatewayOptions;
  clients: ClientDirectory;
  supergraph: FileSupergraphManager;
  /** The services of this gateway (procedure catalog, metrics, audit store read port, …): what tests and tools read. */
  services: ServiceRegistry;
  concerns: readonly GatewayConcern[];
  /** Warnings raised at start (unknown environment variables…), also logged. */
  warnings: readonly string[];
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

/**
 * The order concerns are created in: every provider before the concerns that need or use
 * its services, otherwise the list order. A cycle is a start error naming the concerns.
 */
export function creationOrder(list: readonly AnyConcern[]): AnyConcern[] {
  const providerOf = new Map<ServiceName, AnyConcern>();
  for (const c of list) for (const s of c.provides ?? []) providerOf.set(s, c);
  const out: AnyConcern[] = [];
  const state = new Map<AnyConcern, 'visiting' | 'done'>();
  const visit = (c: AnyConcern, path: string[]) => {
    if (state.get(c) === 'done') return;
    if (state.get(c) === 'visiting') throw new Error(`Concerns depend on each other's services in a cycle: ${[...path, c.name].join(' → ')}. Break it (one of them must not need the other).`);
    state.set(c, 'visiting');
    for (const s of [...(c.needs ?? []), ...(c.uses ?? [])] as ServiceName[]) {
      const p = providerOf.get(s);
      if (p && p !== c) visit(p, [...path, c.name]);
    }
    state.set(c, 'done');
    out.push(c);
  };
  for (const c of list) visit(c, []);
  return out;
}

/** Start-time check of the declarations: one provider per service, a provider for every need. */
export function checkDeclarations(list: readonly AnyConcern[]): void {
  const providers = new Map<ServiceName, string>(CORE_SERVICES.map((s) => [s, 'the gateway core']));
  for (const c of list) {
    for (const s of c.provides ?? []) {
      const first = providers.get(s);
      if (first) throw new Error(`Service "${s}" is provided twice, by ${first} and by concern "${c.name}": remove one of them from the concern list.`);
      providers.set(s, `concern "${c.name}"`);
    }
  }
  for (const c of list) {
    for (const s of (c.needs ?? []) as ServiceName[]) {
      if (!providers.has(s)) {
        throw new Error(`Concern "${c.name}" needs the "${s}" service, which no concern of this gateway provides: add the concern that provides it, or remove "${c.name}".`);
      }
    }
  }
}

/** Builds the gateway (supergraph loaded, routes ready) without listening. */
export async function buildGateway(opts: GatewayOptions = {}): Promise<Gateway> {
  const reader = new EnvReader(opts.env ?? process.env);
  const options = resolveOptions(opts, reader);
  const builtIn = opts.coreOnly ? CONCERNS.filter((f) => CORE.has(f)) : CONCERNS;
  const list: AnyConcern[] = [...builtIn, ...(opts.concerns ?? [])];

  // 1. Every concern's options (a bad value stops the start before anything is opened).
  const own = new Map<AnyConcern, unknown>();
  for (const c of list) {
    own.set(c, c.options ? c.options(c.slice ? (opts as Record<string, unknown>)[c.slice] : undefined, { core: options, env: reader }) : undefined);
    reader.know(...(c.variables ?? []));
  }
  reader.know(...READ_ELSEWHERE);
  const warnings = unknownVariables(reader, ENV_PREFIXES).map((u) => u.message);
  // 2. Declarations: a needed service without provider, or two providers, stop the start.
  checkDeclarations(list);

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
  for (const w of warnings) app.log.warn(w);
  const supergraph = new FileSupergraphManager({
    file: options.supergraphFile,
    watch: options.watchSupergraph,
    subgraphUrls: options.subgraphUrls,
    logger: { info: (m) => app.log.info(m), error: (m) => app.log.error(m) },
  });

  // One keep-alive pool for this gateway's subgraph fetches, closed with it.
  const agent = new Agent({ keepAliveTimeout: 30_000, keepAliveMaxTimeout: 120_000, connections: 128 });
  const created: Array<{ concern: AnyConcern; parts: ConcernParts }> = [];
  const closeConcerns = async () => {
    for (const { concern, parts } of [...created].reverse()) {
      try {
        await parts.close?.();
      } catch (err) {
        app.log.error({ err }, `Closing concern ${concern.name} failed`);
      }
    }
    created.length = 0;
    await agent.close().catch(() => undefined);
  };

  try {
    let apolloServer: ApolloServer<MotlanContext> | null = null;
    let apolloGateway: ApolloGateway | null = null;
    const services = new ServiceRegistry();
    services.provide('logger', app.log, 'the gateway core');
    services.provide('httpAgent', agent, 'the gateway core');
    // Inner operations go through this gateway's own Apollo Server (built after the concerns).
    services.provide(
      'executor',
      apolloExecutor(() => {
        if (!apolloServer) throw new Error('Apollo Server is not built yet: run inner operations at request time, not while the concerns are created.');
        return apolloServer;
      }),
      'the gateway core',
    );
    services.provide(
      'planner',
      () => {
        if (!apolloGateway) throw new Error('The gateway is not built yet: ask for the planner at request time, not while the concerns are created.');
        return apolloGateway;
      },
      'the gateway core',
    );

    // 3. Create: providers before their users.
    for (const concern of creationOrder(list)) {
      const view = new ServiceView(services, concern.name, new Set(concern.needs ?? []), new Set(concern.uses ?? []));
      const parts = await concern.create({ own: own.get(concern), core: options, logger: app.log, app, supergraph, services: view });
      created.push({ concern, parts });
      const declared = new Set(concern.provides ?? []);
      for (const [name, value] of Object.entries(parts.services ?? {}) as Array<[ServiceName, never]>) {
        if (!declared.has(name)) throw new Error(`Concern "${concern.name}" returned the "${name}" service without declaring it in \`provides\`.`);
        services.provide(name, value, `concern "${concern.name}"`);
      }
    }
    // 4. Install: hooks and routes in list order.
    const partsOf = new Map(created.map((c) => [c.concern, c.parts]));
    const inOrder = list.map((c) => ({ name: c.name, ...partsOf.get(c)! }));
    for (const c of inOrder) await c.install?.();

    const localSubgraphs: Record<string, GraphQLSchema> = { ...opts.localSubgraphs };
    for (const c of inOrder) Object.assign(localSubgraphs, c.localSubgraphs);

    // Interceptors of remote subgraph fetches (gateway/cache: cache, in-flight dedupe), chained in list order.
    const intercept = chainInterceptors(inOrder.flatMap((c) => (c.subgraphFetch ? [c.subgraphFetch] : [])) as SubgraphFetchInterceptor[]);
    // Entities returned (gateway/disclosure): keys added to subgraph fetches, answers recorded in the trace.
    const entities = services.get('entityCollector');
    const gateway = new ApolloGateway({
      supergraphSdl: supergraph,
      validateSupergraph: true,
      logger: app.log,
      buildService: ({ name, url }) => {
        const local = localSubgraphs[name];
        if (local) return new CachedLocalDataSource(local);
        const target = options.subgraphUrls[name] ?? url;
        if (!target) throw new Error(`Subgraph "${name}" has no URL in ${options.supergraphFile} and no override: set subgraphUrls.${name}.`);
        return new SubgraphDataSource({ name, url: target, timeoutMs: options.subgraphTimeoutMs, agent, intercept, entities, signingKey: options.subgraphSigningKey(name) });
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
      ...inOrder.flatMap((c) => c.plugins ?? []),
      ...(opts.extraPlugins ?? []),
    ];
    const stringifyResult = inOrder.find((c) => c.apolloSettings?.stringifyResult)?.apolloSettings?.stringifyResult;
    // A prefill (an operation a local subgraph answers alone) skips the executor's reshaping.
    const executorGateway = withLocalShortcut(gateway, localSubgraphs);
    const apollo = new ApolloServer<MotlanContext>({
      gateway: executorGateway,
      plugins,
      logger: app.log,
      formatError: makeFormatError(options.production),
      includeStacktraceInErrorResponses: !options.production,
      // Introspection is for developers (sandbox); clients in production get the catalog instead.
      introspection: !options.production,
      // Arrays of operations only when a concern allows them (gateway/limits: limits.maxBatchedOperations > 1).
      allowBatchedHttpRequests: inOrder.some((c) => c.apolloSettings?.allowBatchedHttpRequests === true),
      // gateway/cache writes cached responses from their stored JSON (same bytes as Apollo's own).
      ...(stringifyResult ? { stringifyResult } : {}),
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
      concerns: () => inOrder,
      instanceId: options.instanceId,
    });

    // Fastify's own 404 logs `Route GET:<url> not found` with the whole URL, query values
    // included (a mistyped auditor URL `…/record?personalId=…`): log it redacted instead.
    app.setNotFoundHandler((request, reply) => {
      request.log.info(`Route ${request.method}:${redactQueryString(request.url)} not found`);
      // Unknown routes answer in the same body shape as every other refusal (core/errors.ts).
      return sendError(request, reply, 'NOT_FOUND', `No route ${request.method} ${request.url.split('?')[0]!.slice(0, 200)}: see docs/ARCHITECTURE.md for the endpoints.`);
    });

    app.setErrorHandler(errorHandler(options.production));

    app.addHook('onClose', async () => {
      await apollo.stop();
      await closeConcerns();
    });
    await app.ready();

    return {
      app,
      apollo,
      gateway,
      executorGateway,
      options,
      clients: services.need('clients', 'buildGateway'),
      supergraph,
      services,
      concerns: inOrder,
      warnings,
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
