/**
 * The metrics concern: `GET /metrics` in Prometheus text format and a Fastify
 * `onResponse` hook that records every `/graphql` request from its MotlanContext
 * (client, purpose, trace) once the response has left — including requests
 * refused before GraphQL ran (401, 429, 413), which an Apollo plugin would miss.
 *
 * It provides the registry as the `metrics` service (gateway/core/services.ts, `MetricsPort`),
 * built from `GatewayOptions.metrics` before any concern that uses it, whatever the list order:
 *   services.use('metrics')?.cacheHit('entity')
 *   services.use('metrics')?.auditCommit(seconds)
 */
import { timingSafeEqual, createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ApolloServerPlugin } from '@apollo/server';
import type { MotlanContext, Purpose } from '../core/context.js';
import { defineConcern, motlanContextOf } from '../core/concern.js';
import { isGraphQLRequest, sendError } from '../core/errors.js';
import type { ClientDirectory } from '../core/services.js';
import { isKnownPurpose } from '../core/known-purposes.js';
import { MotlanMetrics, type MetricsOptions } from './metrics.js';
import { classifyOutcome } from '../core/outcome.js';

export { MotlanMetrics } from './metrics.js';
export type { MetricsOptions, RequestObservation } from './metrics.js';

export interface MetricsConcernOptions extends MetricsOptions {
  /**
   * Bearer token Prometheus must send (`Authorization: Bearer <token>`). Default:
   * `METRICS_TOKEN` env. Unset: open outside production (development, the mocked setup); in
   * production /metrics then refuses every scrape (403), because client systems reach the gateway too.
   */
  token?: string | null;
  /** Path of the endpoint. Default `/metrics` (a stable interface: do not change it in deployments). */
  path?: string;
}

function sha256(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/** Constant-time check of `Authorization: Bearer <token>` (hashing equalises lengths). */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const m = header ? /^Bearer[ ]+(\S+)\s*$/i.exec(header) : null;
  return timingSafeEqual(sha256(m?.[1] ?? ''), sha256(token)) && m !== null;
}

/**
 * Apollo Server runs each operation on a shallow copy of the context, so the
 * purpose the policy plugin sets may not be on the HTTP-level context the
 * onResponse hook sees. The copy shares `trace` with the original: remember the
 * purpose by trace (read-only; nothing else of the context is touched). One map per gateway.
 */
function purposeCapturePlugin(purposeByTrace: WeakMap<object, Purpose>): ApolloServerPlugin<MotlanContext> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ contextValue }) {
          if (contextValue?.purpose && contextValue.trace && !purposeByTrace.has(contextValue.trace)) {
            purposeByTrace.set(contextValue.trace, contextValue.purpose);
          }
        },
      };
    },
  };
}

/** Reads the trace of one finished /graphql request and records it. */
export function observeRequest(
  metrics: MotlanMetrics,
  ctx: MotlanContext,
  statusCode: number,
  opts: {
    now?: number;
    fallbackClientId?: () => string | null;
    purposeByTrace?: WeakMap<object, Purpose>;
    /** Whether a purpose is a procedure or group of the catalog (core/known-purposes.ts). Default: every id is (no catalog to ask). */
    isKnownPurpose?: (procedureId: string) => boolean;
  } = {},
): void {
  const now = opts.now ?? Date.now();
  const trace = ctx.trace;
  const subgraphs = [...trace.registries].map((registry) => {
    const ms = trace.subgraphMs[registry];
    return { registry, seconds: typeof ms === 'number' ? ms / 1000 : null, failed: trace.unavailableRegistries.has(registry) };
  });
  // A registry that failed before answering may be missing from `registries`.
  for (const registry of trace.unavailableRegistries) {
    if (!trace.registries.has(registry)) subgraphs.push({ registry, seconds: null, failed: true });
  }
  const procedureId = (ctx.purpose ?? opts.purposeByTrace?.get(trace))?.procedureId ?? null;
  metrics.recordRequest({
    // A request refused before the auth hook ran (e.g. unparsable JSON) still names its caller,
    // as its audit record does.
    clientId: ctx.client?.id ?? (statusCode !== 401 ? (opts.fallbackClientId?.() ?? null) : null),
    procedureId,
    procedureKnown: procedureId === null || !opts.isKnownPurpose ? true : opts.isKnownPurpose(procedureId),
    outcome: classifyOutcome({
      httpStatus: statusCode,
      codes: trace.errorCodes,
      executed: true,
      troubled: trace.errorCodes.size > 0 || trace.unavailableRegistries.size > 0,
      dataReturned: trace.fields.size > 0,
      operationCodes: trace.errorCodes,
    }),
    durationSeconds: (now - ctx.receivedAt) / 1000,
    subgraphs,
    entities: trace.entities,
  });
}

/** Settings resolved (METRICS_TOKEN read). */
interface ResolvedMetricsOptions extends MetricsOptions {
  token: string | null;
  path: string;
}

export const metricsConcern = defineConcern({
  name: 'metrics',
  slice: 'metrics',
  options: (own: MetricsConcernOptions | undefined, { env, core }): ResolvedMetricsOptions => ({
    ...own,
    instanceId: core.instanceId,
    token: own?.token !== undefined ? own.token : (env.string('METRICS_TOKEN') ?? null),
    path: own?.path ?? '/metrics',
  }),
  provides: ['metrics'],
  needs: ['clients'],
  // The catalog decides which purposes are procedures (read per request: it may be reloaded).
  uses: ['procedures'],
  create: ({ own, core, logger, app, services }) => {
    const metrics = new MotlanMetrics(own);
    if (!own.token && core.production) {
      // Client systems reach the gateway too; an open /metrics would show them every agency's counts.
      logger.warn('METRICS_TOKEN is not set: /metrics refuses every scrape in production. Set METRICS_TOKEN and configure it as the scrape bearer token in Prometheus.');
    }
    const purposeByTrace = new WeakMap<object, Purpose>();
    return {
      services: { metrics },
      plugins: [purposeCapturePlugin(purposeByTrace)],
      install: () =>
        installMetrics({
          app,
          metrics,
          clients: services.need('clients'),
          token: own.token,
          production: core.production,
          path: own.path,
          purposeByTrace,
          isKnownPurpose: (id) => {
            const catalog = services.use('procedures');
            return catalog ? isKnownPurpose(catalog, id) : true;
          },
        }),
    };
  },
});

function installMetrics(env: {
  app: FastifyInstance;
  metrics: MotlanMetrics;
  clients: ClientDirectory;
  token: string | null;
  /** In production /metrics is never open: without a token it refuses every scrape. */
  production: boolean;
  path: string;
  purposeByTrace: WeakMap<object, Purpose>;
  isKnownPurpose: (procedureId: string) => boolean;
}): void {
  const { metrics, token, path } = env;
  env.app.addHook('onResponse', async (request: FastifyRequest, reply: FastifyReply) => {
    if (!isGraphQLRequest(request)) return;
    const ctx = motlanContextOf(request);
    if (!ctx) return;
    try {
      observeRequest(metrics, ctx, reply.statusCode, {
        purposeByTrace: env.purposeByTrace,
        isKnownPurpose: env.isKnownPurpose,
        fallbackClientId: () => {
          const auth = env.clients.authenticate(request.headers, { role: 'client' });
          return auth.ok ? auth.client.id : null;
        },
      });
    } catch (err) {
      // Metrics must never break a request; log and move on.
      request.log.warn({ err }, 'metrics: could not record request');
    }
  });

  env.app.get(path, async (request, reply) => {
    if (!token && env.production) {
      return sendError(request, reply, 'FORBIDDEN', 'This gateway runs in production without METRICS_TOKEN, so /metrics is closed (client systems could read every agency\'s counts). Set METRICS_TOKEN and configure it as the scrape bearer token in Prometheus.');
    }
    if (token && !bearerMatches(request.headers.authorization, token)) {
      return sendError(request, reply, 'UNAUTHENTICATED', 'This /metrics endpoint requires Authorization: Bearer <METRICS_TOKEN>; configure it as the scrape bearer token in Prometheus.', {
        headers: { 'www-authenticate': 'Bearer realm="metrics"' },
      });
    }
    const { contentType, body } = await metrics.render();
    return reply.header('content-type', contentType).header('cache-control', 'no-store').send(body);
  });
}
