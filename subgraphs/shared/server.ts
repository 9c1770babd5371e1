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
import { randomUUID } from 'node:crypto';
import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { DocumentNode } from 'graphql';
import { EnvReader } from '../../lib/env-options.js';
import type { RegistryName } from '../../lib/registries.js';
import {
  DEFAULT_MAX_SKEW_MS,
  ReplayGuard,
  VERIFY_FAILURE_MESSAGES,
  verifySignature,
} from '../../lib/subgraph-signature.js';
import { maskedLogStream, redactQueryString, requestForLog } from '../../lib/redact-url.js';
import { RefusalLog, type RefusalLogOptions } from './refusal-log.js';
import { RegistryLoaders, type RegistryLoadersOptions } from './loaders.js';
import type { RegistryClient } from './registry-client.js';
import { traceRequests, type Tracing } from '../../lib/tracing.js';
import { assertUsablePort } from '../../lib/bad-ports.js';

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
  /** Where log lines go (tests read them). Default: stdout. */
  logStream?: NodeJS.WritableStream;
  loaders?: RegistryLoadersOptions;
  /**
   * The key the gateway signs this subgraph's requests with (lib/subgraph-signature.ts). Required:
   * every request but `GET /health` must carry a valid, fresh, unreplayed signature, else 401.
   * `null` accepts unsigned requests: only for the benchmark's third-party contenders
   * (`GATEWAY_SIGNATURE=off`), refused when `production` is true.
   */
  gatewayKey: Buffer | null;
  /** Clock skew accepted either way between gateway and subgraph. Default: 30 000 ms. */
  maxSkewMs?: number;
  /** Clock, ms since the epoch (tests). Default: Date.now. */
  now?: () => number;
  /**
   * Bound on the log lines of refused and other unauthenticated requests (per reason, per
   * window; then one summary line). Default: 20 lines per reason per minute, on `now`.
   */
  refusalLog?: Omit<RefusalLogOptions, 'now'>;
  /** OpenTelemetry tracing of this subgraph (lib/tracing.ts): a SERVER span per request, child of the gateway's `traceparent`. Default: none (off). */
  tracing?: Tracing | null;
}

/** A request as the signature check needs it: the raw body the gateway signed. */
declare module 'fastify' {
  interface FastifyRequest {
    motlanRawBody?: string;
    /** Set once the gateway's signature verified (or the server runs unsigned): its lines are logged in full. */
    motlanVerified?: boolean;
  }
}

/**
 * Refuses every request but `GET /health` unless the gateway signed it: 401 with a
 * GraphQL-shaped error, logged without the body (it may name a citizen).
 */
function requireGatewaySignature(app: FastifyInstance, name: string, opts: SubgraphServerOptions, refusals: RefusalLog): void {
  const maxSkewMs = opts.maxSkewMs ?? DEFAULT_MAX_SKEW_MS;
  const now = opts.now ?? Date.now;
  const replay = new ReplayGuard(2 * maxSkewMs);
  const key = opts.gatewayKey;
  if (!Buffer.isBuffer(key) || key.length === 0) throw new Error(`The ${name} subgraph needs the gateway's signing key (GATEWAY_SIGNING_KEY).`);
  // Keep the exact bytes the gateway signed; the parsed body is what Apollo reads.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = body as string;
    request.motlanRawBody = text;
    if (text === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch {
      const err = new Error('The request body is not valid JSON') as Error & { statusCode: number };
      err.statusCode = 400;
      done(err, undefined);
    }
  });
  app.addHook('preHandler', async (request, reply) => {
    if (request.method === 'GET' && request.url === '/health') return;
    const raw = request.motlanRawBody ?? (request.body === undefined || request.body === null ? '' : null);
    const result =
      raw === null
        ? ({ ok: false, reason: 'malformed' } as const)
        : verifySignature({ key, subgraph: name, method: request.method, path: request.url, body: raw, headers: request.headers, now: now(), maxSkewMs, replay });
    if (result.ok) {
      adoptGatewayRequestId(app, request, reply, name, result.requestId);
      return;
    }
    // Bounded: an unauthenticated flood must not fill the log disk (one line per refusal did).
    refusals.refuse(result.reason, () =>
      request.log.warn({ reason: result.reason, method: request.method, url: redactQueryString(request.url).slice(0, 200), remote: request.ip }, `${name} subgraph refused a request not signed by the gateway`),
    );
    return reply
      .code(401)
      .header('www-authenticate', 'Motlan-Gateway-Signature')
      .send({ errors: [{ message: VERIFY_FAILURE_MESSAGES[result.reason], extensions: { code: 'UNAUTHENTICATED', reason: result.reason } }] });
  });
}

export interface RunningSubgraph {
  /** The GraphQL endpoint, e.g. `http://127.0.0.1:4001/graphql`. */
  url: string;
  port: number;
  app: FastifyInstance;
  close(): Promise<void>;
}

/** Exactly what the gateway sends for a client fetch: `<uuid v4>:<subgraph>:<12 hex>` (newSubgraphRequestId). */
const GATEWAY_FETCH_ID = /^([0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}):([a-z][a-z0-9-]{0,30}):([0-9a-f]{12})$/;

function isGatewayFetchId(id: string, subgraph: string): boolean {
  const m = GATEWAY_FETCH_ID.exec(id);
  return m !== null && m[2] === subgraph;
}

/**
 * Once the signature verified, the request's log lines carry the gateway's per-fetch id as
 * `reqId` (and its "incoming request" line is written then). Before that, the id is ours:
 * the header is the client's choice until the signature proves it is the gateway's, and even
 * a signed id is adopted only in the gateway's exact format for this subgraph (a UUID-shaped
 * value could carry a personal ID in its last group). Schema loads and probes (a bare UUID)
 * keep a fresh id.
 */
function adoptGatewayRequestId(app: FastifyInstance, request: FastifyRequest, reply: FastifyReply, subgraph: string, id: string): void {
  request.motlanVerified = true;
  if (isGatewayFetchId(id, subgraph)) {
    (request as { id: string }).id = id;
    const log = app.log.child({ reqId: id });
    request.log = log;
    reply.log = log;
  }
  request.log.info({ req: request }, 'incoming request');
}

/**
 * Fastify's own per-request lines, bounded for requests the gateway did not sign: their
 * "incoming request" line is not written (a verified request writes it after the check),
 * their "request completed" line neither, and not-found and error lines go through the
 * refusal log. An unauthenticated flood costs at most the refusal log's budget.
 */
class SubgraphLogController extends LogController {
  constructor(private readonly refusals: RefusalLog) {
    super();
  }
  override incomingRequest(): void {}
  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (request.motlanVerified) super.requestCompleted(error, request, reply);
    else if (error) this.refusals.refuse('errored', () => super.requestCompleted(error, request, reply));
  }
  override defaultErrorLog(error: Error, request: FastifyRequest, reply: FastifyReply): void {
    if (request.motlanVerified) super.defaultErrorLog(error, request, reply);
    else this.refusals.refuse(`error-${reply.statusCode}`, () => super.defaultErrorLog(error, request, reply));
  }
  override routeNotFound(request: FastifyRequest): void {
    this.refusals.refuse('not-found', () => request.log.info({ method: request.method, url: redactQueryString(request.url).slice(0, 200) }, 'Route not found'));
  }
}

/** Builds the fastify app with the subgraph mounted at `/graphql`, not listening yet. */
export async function buildSubgraphServer<M extends object>(
  def: SubgraphDefinition<M>,
  opts: SubgraphServerOptions,
): Promise<FastifyInstance> {
  // Defaults from the environment through the one strict reader (lib/env-options.ts).
  const env = new EnvReader();
  const production = opts.production ?? env.string('NODE_ENV') === 'production';
  const dest = opts.logStream ?? process.stdout;
  // Created before the app (the log controller needs it); it writes through the app's logger.
  let summaryLog: ((fields: Record<string, unknown>, msg: string) => void) | null = null;
  const refusals = new RefusalLog((fields, msg) => summaryLog?.(fields, `${def.name} subgraph: ${msg}`), { ...opts.refusalLog, now: opts.now });
  const app = Fastify({
    logger: {
      level: opts.logLevel ?? env.string('LOG_LEVEL') ?? 'warn',
      // Logs hold no personal data: URLs lose their query values (an unsigned
      // `GET /graphql?variables={"personalId":…}` is logged before it is refused), and
      // identifier-shaped digits are masked on the way out, as in the gateway.
      serializers: { req: requestForLog },
      stream: maskedLogStream(dest),
    },
    // Longer than the gateway's idle keep-alive so the gateway closes first and
    // never writes on a socket we are closing.
    keepAliveTimeout: 72_000,
    // A fresh id until the signature verifies; then the gateway's per-fetch id, which the
    // gateway's audit record keeps, is adopted (adoptGatewayRequestId): a registry owner can
    // reconcile its log with the gateway's.
    genReqId: () => randomUUID(),
    logController: new SubgraphLogController(refusals),
  });
  summaryLog = (fields, msg) => app.log.warn(fields, msg);
  // First hooks: the span covers the signature check, and its context is active for the resolvers (registry calls).
  traceRequests(app, opts.tracing ?? null, { attributes: { 'motlan.subgraph': def.name } });
  app.addHook('onClose', async () => refusals.flush());
  if (opts.gatewayKey === null) {
    if (production) throw new Error(`The ${def.name} subgraph refuses to run without GATEWAY_SIGNING_KEY in production: it would answer anyone.`);
    app.log.warn(`${def.name} subgraph: accepting UNSIGNED requests (GATEWAY_SIGNATURE=off, benchmark/development only)`);
    // Nothing verified the header: its id is never adopted (the lines keep a fresh one).
    app.addHook('preHandler', async (request, reply) => adoptGatewayRequestId(app, request, reply, def.name, ''));
  } else {
    requireGatewaySignature(app, def.name, opts, refusals);
  }
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
  assertUsablePort(opts.port ?? 0, `The ${def.name} subgraph's port`);
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
