/**
 * Rate limits as a gateway concern: a Fastify preHandler right after authentication
 * spends one request (one per operation of a batch) from the client's budget and answers
 * 429 RATE_LIMITED with Retry-After when it is spent; an Apollo plugin applies the
 * stricter budget for lookups that fail (failed-lookups.ts: unknown or unrelated identifiers).
 *
 * Settings: GatewayOptions.rateLimit (see RateLimitOptions for defaults and env), or
 * `false` to turn rate limiting off (benchmarks). REDIS_URL shares budgets across replicas.
 */
import { defineConcern } from '../core/concern.js';
import { isGraphQLRequest, sendError } from '../core/errors.js';
import { createClientRateLimiter, loadRateLimitOptions, type ClientRateLimiter, type RateLimitOptions } from './limiter.js';
import { failedLookupPlugin } from './failed-lookups.js';
import type { FastifyInstance } from 'fastify';

export type RateLimitSetting = Partial<RateLimitOptions> | false;

export const rateLimits = defineConcern({
  name: 'rate-limits',
  slice: 'rateLimit',
  options: (own: RateLimitSetting | undefined, { env }) => (own === false ? false : loadRateLimitOptions(own ?? {}, env)),
  create: async ({ own, app, logger }) => {
    if (own === false) return {};
    const limiter = createClientRateLimiter(own);
    const problem = await limiter.connect();
    if (problem) logger.warn(problem);
    logger.info(
      `Rate limits: ${limiter.options.ratePerSecond}/s per client, burst ${limiter.options.burst}, ` +
        `${limiter.options.unknownLookups} failed lookups per ${limiter.options.unknownLookupWindowSeconds} s, ` +
        (limiter.store === 'redis' ? 'shared through Redis' : 'in memory (per replica)'),
    );
    return {
      install: () => installRateLimits(app, limiter),
      plugins: [failedLookupPlugin(limiter)],
      close: () => limiter.close(),
    };
  },
});

function installRateLimits(app: FastifyInstance, limiter: ClientRateLimiter): void {
  app.addHook('preHandler', async (request, reply) => {
    if (!isGraphQLRequest(request)) return undefined;
    const client = request.motlan?.client;
    if (!client) return undefined; // authentication refuses it (its hook runs first)
    const points = Array.isArray(request.body) ? Math.max(1, request.body.length) : 1;
    const verdict = await limiter.consumeRequest(client.id, points);
    if (verdict.allowed) return undefined;
    const retry = String(verdict.retryAfterSeconds);
    return sendError(
      request,
      reply,
      'RATE_LIMITED',
      `Rate limit exceeded for client ${client.id}: ${limiter.options.ratePerSecond} requests per second (burst ${limiter.options.burst}). Retry after ${retry} s.`,
      { extensions: { retryAfter: verdict.retryAfterSeconds }, headers: { 'retry-after': retry } },
    );
  });
}
