/**
 * The metrics concern: `GET /metrics` in Prometheus text format and a Fastify
 * `onResponse` hook that records every `/graphql` request from its MotlanContext
 * (client, purpose, trace) once the response has left — including requests
 * refused before GraphQL ran (401, 429, 413), which an Apollo plugin would miss.
 *
 * Other concerns record into the same registry through `metricsFor(env.app)`:
 *   metricsFor(env.app).cacheHit('entity')
 *   metricsFor(env.app).auditCommit(seconds)
 *   metricsFor(env.app).setAuditQueueDepthSource(() => store.queueDepth)
 */
import { timingSafeEqual, createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ApolloServerPlugin } from '@apollo/server';
import type { MotlanContext, Purpose } from '../core/context.js';
import type { ConcernFactory } from '../core/concern.js';
import { isGraphQLRequest, motlanContextOf } from '../core/concern.js';
import { MotlanMetrics, type MetricsOptions } from './metrics.js';
import { classifyOutcome } from '../core/outcome.js';

export { MotlanMetrics } from './metrics.js';
export type { MetricsOptions, RequestObservation } from './metrics.js';

export interface MetricsConcernOptions extends MetricsOptions {
  /**
   * Bearer token Prometheus must send (`Authorization: Bearer <token>`). Default:
   * `METRICS_TOKEN` env; unset means /metrics is open, the usual setup when
   * Prometheus scrapes over a private network (a warning is logged in production).
   */
  token?: string | null;
  /** Path of the endpoint. Default `/metrics` (a stable interface: do not change it in deployments). */
  path?: string;
}

/**
 * The metrics of this gateway. Any concern may call it, in any order: the first
 * caller creates the registry (with `opts`), later callers get the same one. It
 * is stored as a Fastify decoration, so child instances (plugins) see it too;
 * call it while the factories run (before the app is ready) and keep the result.
 */
export function metricsFor(app: FastifyInstance, opts?: MetricsOptions): MotlanMetrics {
  const existing = (app as FastifyInstance & { motlanMetrics?: MotlanMetrics }).motlanMetrics;
  if (existing) return existing;
  const metrics = new MotlanMetrics(opts);
  app.decorate('motlanMetrics', metrics);
  return metrics;
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
 * purpose by trace (read-only; nothing else of the context is touched).
 */
const PURPOSE_BY_TRACE = new WeakMap<object, Purpose>();

function purposeCapturePlugin(): ApolloServerPlugin<MotlanContext> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ contextValue }) {
          if (contextValue?.purpose && contextValue.trace && !PURPOSE_BY_TRACE.has(contextValue.trace)) {
            PURPOSE_BY_TRACE.set(contextValue.trace, contextValue.purpose);
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
  opts: { now?: number; fallbackClientId?: () => string | null } = {},
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
  metrics.recordRequest({
    // A request refused before the auth hook ran (e.g. unparsable JSON) still names its caller,
    // as its audit record does.
    clientId: ctx.client?.id ?? (statusCode !== 401 ? (opts.fallbackClientId?.() ?? null) : null),
    procedureId: (ctx.purpose ?? PURPOSE_BY_TRACE.get(trace))?.procedureId ?? null,
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

export const metricsConcern: ConcernFactory = (env) => {
  const given = (env.options.gateway as { metrics?: MetricsConcernOptions }).metrics ?? {};
  const token = given.token !== undefined ? given.token : env.options.env.METRICS_TOKEN || null;
  const path = given.path ?? '/metrics';
  const metrics = metricsFor(env.app, { instanceId: env.options.instanceId, ...given });
  metrics.setInstanceId(env.options.instanceId);
  if (!token && env.options.production) {
    env.logger.warn('METRICS_TOKEN is not set: /metrics is readable by anyone who can reach the gateway. Set it unless only Prometheus can.');
  }

  env.app.addHook('onResponse', async (request: FastifyRequest, reply: FastifyReply) => {
    if (!isGraphQLRequest(request)) return;
    const ctx = motlanContextOf(request);
    if (!ctx) return;
    try {
      observeRequest(metrics, ctx, reply.statusCode, {
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
    if (token && !bearerMatches(request.headers.authorization, token)) {
      return reply
        .code(401)
        .header('www-authenticate', 'Bearer realm="metrics"')
        .send({ error: 'unauthenticated', message: 'This /metrics endpoint requires Authorization: Bearer <METRICS_TOKEN>; configure it as the scrape bearer token in Prometheus.' });
    }
    const { contentType, body } = await metrics.render();
    return reply.header('content-type', contentType).header('cache-control', 'no-store').send(body);
  });

  return { name: 'metrics', plugins: [purposeCapturePlugin()] };
};
