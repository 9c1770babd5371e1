/**
 * Per-client request budgets with rate-limiter-flexible.
 *
 * The request budget behaves like a token bucket: a steady refill of `ratePerSecond`
 * plus a reserve of `burst` requests that refills over `burstWindowSeconds` (the
 * library's BurstyRateLimiter: a 1-second limiter backed by a burst limiter). A client
 * that keeps to its rate never touches the reserve; one that spikes spends it, then gets
 * 429 with the seconds until the next token.
 *
 * Storage: in memory by default (each replica enforces its own budget); with a Redis URL
 * every replica shares one budget per client (RateLimiterRedis, atomic Lua). Should Redis
 * fail, an in-memory insurance limiter of the same shape takes over on each replica, so
 * limits keep holding (per replica) rather than failing open or refusing everyone.
 */
import { EnvReader } from '../../lib/env-options.js';
import { Redis } from 'ioredis';
import { redactUrl } from '../../lib/redact-url.js';
import { BurstyRateLimiter, RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';

export interface RateLimitOptions {
  /** Steady requests per second per client. Default: RATE_LIMIT_PER_SECOND env, else 20. */
  ratePerSecond: number;
  /** Requests a client may burst above the steady rate. Default: RATE_LIMIT_BURST env, else 40. */
  burst: number;
  /** Seconds over which the burst reserve refills. Default 10. */
  burstWindowSeconds: number;
  /**
   * Failed lookups (identifiers the registries do not know, or subjects refused as not
   * related), per client, before the client's lookups are refused for the rest of the
   * window (the failed-lookup brake, failed-lookups.ts; the name is historical). Default:
   * RATE_LIMIT_UNKNOWN_LOOKUPS env, else 20.
   */
  unknownLookups: number;
  /** Window of the failed-lookup budget (gateway/ratelimit/failed-lookups.ts), in seconds. Default 600 (10 minutes). */
  unknownLookupWindowSeconds: number;
  /** Redis URL for budgets shared by replicas. Default: REDIS_URL env; unset = in memory. */
  redisUrl: string | undefined;
  /** Prefix of the Redis keys (several deployments or test runs on one Redis). Default: RATE_LIMIT_KEY_PREFIX env, else `motlan:rl`. */
  keyPrefix: string;
}

/** Settings from `overrides`, else the environment (strict: lib/env-options.ts), else the defaults. */
export function loadRateLimitOptions(overrides: Partial<RateLimitOptions> = {}, environment: NodeJS.ProcessEnv | EnvReader = process.env): RateLimitOptions {
  const env = environment instanceof EnvReader ? environment : new EnvReader(environment);
  const num = (name: string, fallback: number) => env.number(name, { min: 0, exclusiveMin: true }) ?? fallback;
  return {
    ratePerSecond: overrides.ratePerSecond ?? num('RATE_LIMIT_PER_SECOND', 20),
    burst: overrides.burst ?? num('RATE_LIMIT_BURST', 40),
    burstWindowSeconds: overrides.burstWindowSeconds ?? 10,
    unknownLookups: overrides.unknownLookups ?? num('RATE_LIMIT_UNKNOWN_LOOKUPS', 20),
    unknownLookupWindowSeconds: overrides.unknownLookupWindowSeconds ?? 600,
    redisUrl: 'redisUrl' in overrides ? overrides.redisUrl : env.string('REDIS_URL'),
    keyPrefix: overrides.keyPrefix ?? env.string('RATE_LIMIT_KEY_PREFIX') ?? 'motlan:rl',
  };
}

function isResolved(o: Partial<RateLimitOptions>): o is RateLimitOptions {
  return (['ratePerSecond', 'burst', 'burstWindowSeconds', 'unknownLookups', 'unknownLookupWindowSeconds', 'keyPrefix'] as const).every((k) => o[k] !== undefined) && 'redisUrl' in o;
}

export type Verdict = { allowed: true; remaining: number } | { allowed: false; retryAfterSeconds: number };

export interface ClientRateLimiter {
  readonly options: RateLimitOptions;
  /** 'redis' when budgets are shared through Redis, else 'memory'. */
  readonly store: 'memory' | 'redis';
  /** Spends `points` requests of `key`'s budget. */
  consumeRequest(key: string, points?: number): Promise<Verdict>;
  /** Whether `key` still has unknown-lookup budget (does not spend it). */
  unknownLookupsLeft(key: string): Promise<Verdict>;
  /** Spends failed-lookup budget for `count` lookups that found nothing or were refused as unrelated. */
  recordUnknownLookups(key: string, count: number): Promise<void>;
  /**
   * Connects to Redis (no-op in memory). Resolves to null, or to the reason Redis is not
   * usable now; the limiter then works per replica and keeps reconnecting.
   */
  connect(): Promise<string | null>;
  /** Readiness: null when the store answers. */
  ready(): Promise<string | null>;
  close(): Promise<void>;
}


function verdictOf(res: unknown): Verdict {
  if (res instanceof RateLimiterRes) return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(res.msBeforeNext / 1000)) };
  throw res;
}

export function createClientRateLimiter(overrides: Partial<RateLimitOptions> | RateLimitOptions = {}, env?: NodeJS.ProcessEnv): ClientRateLimiter {
  const options = isResolved(overrides) ? overrides : loadRateLimitOptions(overrides, env);
  const redis = options.redisUrl
    ? new Redis(options.redisUrl, {
        // Fail fast instead of queueing requests while Redis is away: the insurance limiter answers.
        enableOfflineQueue: false,
        maxRetriesPerRequest: 1,
        connectTimeout: 2000,
        // connect() below, awaited at start, so the first requests already use Redis.
        lazyConnect: true,
      })
    : null;
  // ioredis emits 'error' on every failed reconnect; without a listener Node would crash.
  redis?.on('error', () => undefined);

  const make = (prefix: string, points: number, duration: number): RateLimiterAbstract => {
    const memory = new RateLimiterMemory({ keyPrefix: `${options.keyPrefix}:${prefix}`, points, duration });
    if (!redis) return memory;
    return new RateLimiterRedis({
      storeClient: redis,
      keyPrefix: `${options.keyPrefix}:${prefix}`,
      points,
      duration,
      insuranceLimiter: memory,
      rejectIfRedisNotReady: true,
    } as ConstructorParameters<typeof RateLimiterRedis>[0]);
  };

  const steady = make('steady', Math.max(1, Math.round(options.ratePerSecond)), 1);
  const reserve = make('burst', Math.max(1, Math.round(options.burst)), options.burstWindowSeconds);
  const requests = new BurstyRateLimiter(steady, reserve);
  const unknown = make('unknown', Math.max(1, Math.round(options.unknownLookups)), options.unknownLookupWindowSeconds);

  return {
    options,
    store: redis ? 'redis' : 'memory',
    async connect() {
      if (!redis) return null;
      try {
        await redis.connect();
        return null;
      } catch (err) {
        return `Redis at ${redactUrl(options.redisUrl!, 'REDIS_URL')} is not reachable (${(err as Error).message}); rate limits hold per replica until it is`;
      }
    },
    async consumeRequest(key, points = 1) {
      try {
        const res = await requests.consume(key, points);
        return { allowed: true, remaining: res.remainingPoints };
      } catch (err) {
        return verdictOf(err);
      }
    },
    async unknownLookupsLeft(key) {
      let res: RateLimiterRes | null;
      try {
        res = await unknown.get(key);
      } catch {
        return { allowed: true, remaining: 0 }; // store away: the request budget still holds
      }
      if (res && res.consumedPoints >= unknown.points) {
        return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(res.msBeforeNext / 1000)) };
      }
      return { allowed: true, remaining: unknown.points - (res?.consumedPoints ?? 0) };
    },
    async recordUnknownLookups(key, count) {
      if (count <= 0) return;
      // penalty() adds points without rejecting: the refusal happens on the next request.
      await unknown.penalty(key, count).catch(() => undefined);
    },
    async ready() {
      if (!redis) return null;
      try {
        await redis.ping();
        return null;
      } catch (err) {
        return `Redis for shared rate limits does not answer (${(err as Error).message}); limits hold per replica meanwhile`;
      }
    },
    async close() {
      if (redis) redis.disconnect();
    },
  };
}
