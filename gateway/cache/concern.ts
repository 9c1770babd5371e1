/**
 * The cache concern (slot 6 of gateway/app.ts): answers repeats of whole operations from
 * the response cache without planning or executing (response-plugin.ts, after the purpose
 * policy), caches subgraph answers by policy, shares identical in-flight fetches, listens
 * to the registries' change feeds, and warms the query plans of the procedure catalog.
 * See docs/CACHE.md.
 *
 * It acts inside `SubgraphDataSource` (the `subgraphFetch` interceptor), i.e. while
 * the query plan executes: after authentication (Fastify hook), rate limits, document
 * limits and the purpose policy (`didResolveOperation`) have accepted the request.
 * A refused request never reaches it, so cached data is never served to one.
 *
 * Settings: `GatewayOptions.cache` (`false` turns caching off), then the environment
 * (CACHE, CACHE_CONFIG, CACHE_MAX_BYTES, CACHE_ADMISSION, CACHE_RESPONSES, CACHE_RESPONSE_MAX_BYTES, CACHE_RESPONSE_ADMISSION, CACHE_DEDUPE, REDIS_URL, REGISTRY_URL_<NAME>,
 * REGISTRY_API_KEY), then `config/cache.json`.
 */
import { Admission } from './admission.js';
import type { ApolloServerPlugin } from '@apollo/server';
import { Counter, type Registry } from 'prom-client';
import { defineConcern } from '../core/concern.js';
import type { MotlanContext } from '../core/context.js';
import { relationQuery, type RelatedSubject } from '../core/relations.js';
import type { ProcedureCatalog } from '../core/services.js';
import { ChangeFeedSubscriber } from './change-feed.js';
import { FetchCache, type CacheCounters } from './fetch-cache.js';
import { registryTag, tagOf } from './keys.js';
import { RedisStore } from './redis-store.js';
import { ResponseCache } from './response-cache.js';
import { responseCachePlugin, type ResponseCacheCounters } from './response-plugin.js';
import { loadCacheSettings, type CacheSettings } from './settings.js';
import { LocalStore, type CacheStore } from './store.js';
import { stringifyResult } from './stringify-result.js';
import { warmQueryPlans, type OperationToWarm } from './warm.js';

/**
 * `GatewayOptions.cache`: any field of CacheSettings (defaults there), plus `clock`
 * (default `Date.now`; tests pass a controllable one so expiry does not depend on
 * how busy the machine is), or `false` = caching off (dedupe and warm-up stay).
 */
export type CacheConcernOptions = (Partial<CacheSettings> & { clock?: () => number }) | false;

/** What the running cache exposes (tests, the benchmark, /ready). */
export interface RunningCache {
  settings: CacheSettings;
  store: CacheStore;
  fetchCache: FetchCache;
  /** The response cache (whole responses on the hit path), or null when off (`responses: false` or the cache off). */
  responses: ResponseCache | null;
  feeds: ReadonlyMap<string, ChangeFeedSubscriber>;
  /** Resolves when every change feed is subscribed. */
  feedsConnected(): Promise<void>;
  /** Evicts the entries and responses built from these registry records (what a change event does); resolves to the local evictions. */
  invalidate(registry: string, ids: readonly string[]): Promise<number>;
}

declare module '../core/services.js' {
  interface ServiceMap {
    /** The running cache of this gateway (gateway/cache): its store, feeds and invalidation, for tools and tests. */
    cache: RunningCache;
  }
}

/** Delay of the second eviction of responses through Redis (see `invalidate`). */
const REDIS_SECOND_EVICTION_MS = 1000;

/** The operations prefill runs: each procedure's compiled operation and every relation check. */
function catalogOperations(catalog: ProcedureCatalog | undefined): OperationToWarm[] {
  const ops: OperationToWarm[] = [];
  for (const id of catalog?.ids() ?? []) {
    const op = catalog!.operation(id);
    if (op) ops.push(op);
  }
  const subjects: RelatedSubject[] = ['relatedPersonalId', 'enterpriseCode', 'parcelId'];
  for (let mask = 0; mask < 1 << subjects.length; mask++) {
    ops.push(relationQuery(new Set(subjects.filter((_, i) => mask & (1 << i)))));
  }
  return ops;
}

export const cacheConcern = defineConcern({
  name: 'cache',
  slice: 'cache',
  options: (given: CacheConcernOptions | undefined, { env, core }) => {
    const { clock, ...givenSettings } = given === false ? { enabled: false } : (given ?? {});
    return { clock, settings: loadCacheSettings(givenSettings, env, core.production) };
  },
  provides: ['cache'],
  uses: ['metrics', 'procedures'],
  needs: ['planner'],
  create: async (env) => {
  const { clock: now, settings } = env.own;
  const log = env.logger;

  // Every invalidation of either tier (local, or received from another replica) is counted by the
  // response cache, which then drops responses whose execution it raced (see ResponseCache.generation).
  let responses: ResponseCache | null = null;
  const local = new LocalStore({ maxSizeBytes: settings.maxSizeBytes, maxEntryBytes: settings.maxEntryBytes, now, onInvalidate: () => responses?.invalidated() });
  let store: CacheStore = local;
  if (settings.enabled && settings.redisUrl) {
    const redis = new RedisStore(local, {
      url: settings.redisUrl,
      keyPrefix: settings.redisKeyPrefix,
      timeoutMs: settings.redisTimeoutMs,
      tagTtlMs: Math.max(60_000, ...Object.values(settings.policies).map((p) => (p.ttl + p.stale) * 1000)),
      now,
      onError: (m) => log.warn(m),
    });
    const why = await redis.connect();
    if (why) log.warn(why);
    store = redis;
  }

  // Built before this concern whatever the list order (the registry creates providers first).
  const metrics = env.services.use('metrics');
  const responseCounters = responseMetrics(metrics?.registry);
  const counters: CacheCounters = {
    hit: (cache, n) => metrics?.cacheHit(cache, n),
    miss: (cache, n) => metrics?.cacheMiss(cache, n),
  };

  const fetchCache = new FetchCache({
    settings,
    store,
    now,
    counters,
    admission: new Admission(settings.admission),
    onRefreshError: (subgraph, err) => log.warn(`Background refresh of a stale ${subgraph} cache entry failed (${(err as Error).message}); the stale entry is served until it expires.`),
  });

  // The response cache: its own byte-bounded LRU (an entry that was hit is also held decoded: counted twice),
  // shared through Redis under its own prefix when the fetch cache is.
  if (settings.enabled && settings.responses) {
    const responseLocal = new LocalStore({ maxSizeBytes: settings.responseMaxSizeBytes, maxEntryBytes: settings.maxEntryBytes, now, sizeFactor: 2, onInvalidate: () => responses?.invalidated() });
    let responseStore: CacheStore = responseLocal;
    if (store.kind === 'redis') {
      const redis = new RedisStore(responseLocal, {
        url: settings.redisUrl!,
        keyPrefix: `${settings.redisKeyPrefix}r:`,
        timeoutMs: settings.redisTimeoutMs,
        tagTtlMs: Math.max(60_000, ...Object.values(settings.policies).map((p) => p.ttl * 1000)),
        now,
        onError: (m) => log.warn(`Response cache: ${m}`),
      });
      const why = await redis.connect();
      if (why) log.warn(`Response cache: ${why}`);
      responseStore = redis;
    }
    responses = new ResponseCache({ store: responseStore, now, admission: settings.responseAdmission });
  }

  // Subgraph entries first (in Redis too), responses after: a response rebuilt meanwhile reads fresh data.
  // With Redis, the responses are evicted once more a second later: a replica may have rebuilt one from
  // its local copy of a subgraph entry before the other replica's invalidation reached it.
  const evictResponses = async (ids: readonly string[], reason: 'change' | 'reset') => {
    const n = (await responses?.invalidate(ids)) ?? 0;
    if (n > 0) responseCounters?.evicted(reason, n);
    return n;
  };
  const invalidate = async (registry: string, ids: readonly string[]) => {
    const entries = await store.invalidate(ids.map((id) => tagOf(registry, id)));
    const evicted = await evictResponses(ids, 'change');
    if (responses && store.kind === 'redis') {
      setTimeout(() => void evictResponses(ids, 'change').catch(() => undefined), REDIS_SECOND_EVICTION_MS).unref();
    }
    return entries + evicted;
  };
  const feeds = new Map<string, ChangeFeedSubscriber>();
  if (settings.enabled) {
    for (const [registry, url] of Object.entries(settings.changeFeeds)) {
      if (!url) continue;
      const feed = new ChangeFeedSubscriber({
        registry,
        url,
        apiKey: settings.changeFeedApiKey,
        reconnectMs: settings.changeFeedReconnectMs,
        onChange: async (e) => void (await invalidate(registry, e.keys)),
        onReset: (reason) => {
          log.warn(`Change feed of the ${registry} registry: ${reason}; evicting this replica's ${registry} entries.`);
          local.invalidateSync([registryTag(registry)]);
          // Response entries of that registry, in process (their Redis copies expire by their PX).
          void responses?.store.invalidate([registryTag(registry)]).then((n) => void (n > 0 && responseCounters?.evicted('reset', n)));
        },
        onStatus: (m, level) => (level === 'warn' ? log.warn(m) : log.info(m)),
      });
      feeds.set(registry, feed);
      feed.start();
    }
  }

  const self: RunningCache = {
    settings,
    store,
    fetchCache,
    responses,
    feeds,
    feedsConnected: async () => void (await Promise.all([...feeds.values()].map((f) => f.whenConnected()))),
    invalidate,
  };
  const catalog = env.services.use('procedures');
  const planner = env.services.need('planner');

  const warm = async () => {
    const gateway = planner();
    const started = performance.now();
    const r = await warmQueryPlans(gateway, catalogOperations(catalog));
    if (r.skipped) log.warn(`Query-plan warm-up skipped: ${r.skipped}.`);
    else log.info(`Query plans warmed: ${r.planned} planned, ${r.present} already planned, in ${Math.round(performance.now() - started)} ms.`);
    for (const f of r.failed) log.warn(`Query-plan warm-up: ${f.operationName ?? 'an operation'} could not be planned: ${f.error}`);
  };
  const warmPlugin: ApolloServerPlugin<MotlanContext> = {
    async serverWillStart() {
      return {
        schemaDidLoadOrUpdate() {
          // After the gateway swapped its planner and cleared its plan store; off the caller's stack.
          if (settings.warmQueryPlans) setImmediate(() => void warm().catch((err: unknown) => log.warn(`Query-plan warm-up failed: ${(err as Error).message}`)));
        },
      };
    },
  };

  log.info(
    settings.enabled
      ? `Cache on: ${Object.keys(settings.policies).length} policies from ${settings.configFile ?? 'built-in defaults'}, ${Math.round(settings.maxSizeBytes / 1048576)} MiB in process`
        + `${store.kind === 'redis' ? ', shared through Redis' : ''}, change feeds: ${[...feeds.keys()].join(', ') || 'none (entries live until their TTL)'}.`
      : `Cache off${settings.dedupe ? ' (identical in-flight fetches still shared)' : ''}.`,
  );

  return {
    services: { cache: self },
    plugins: [
      warmPlugin,
      ...(responses
        ? [responseCachePlugin({
            cache: responses,
            production: env.core.production,
            purposeVersion: (id) => catalog?.version?.(id) ?? null,
            counters: responseCounters ?? undefined,
            onStoreError: (err) => log.warn(`Response cache: storing a response failed (${(err as Error).message}); it is served from the registries next time.`),
            now,
          })]
        : []),
    ],
    subgraphFetch: fetchCache.intercept,
    ...(responses ? { apolloSettings: { stringifyResult } } : {}),
    // The cache is optional: a broken Redis only costs speed, so it never makes the gateway unready.
    ready: async () => null,
    async close() {
      await Promise.all([...feeds.values()].map((f) => f.close()));
      await Promise.all([store.close(), responses?.store.close()]);
    },
  };
  },
});

/** `motlan_response_cache_*` counters (labels bounded: `reason` is change or reset), or null without /metrics. */
function responseMetrics(registry: Registry | undefined): (ResponseCacheCounters & { evicted(reason: 'change' | 'reset', n: number): void }) | null {
  if (!registry) return null;
  const hits = new Counter({ name: 'motlan_response_cache_hits_total', help: 'Requests answered from the response cache, without planning or executing (after auth and the purpose policy).', registers: [registry] });
  const misses = new Counter({ name: 'motlan_response_cache_misses_total', help: 'Cacheable requests (purpose-bound queries) the response cache had no fresh response for.', registers: [registry] });
  const stored = new Counter({ name: 'motlan_response_cache_stores_total', help: 'Responses stored in the response cache (checked, without errors, built from cacheable subgraph answers).', registers: [registry] });
  const evictions = new Counter({ name: 'motlan_response_cache_evictions_total', help: 'Cached responses evicted because a registry changed a record they carry (change) or its change feed had a gap (reset).', labelNames: ['reason'], registers: [registry] });
  for (const reason of ['change', 'reset']) evictions.inc({ reason }, 0);
  return {
    hit: () => hits.inc(),
    miss: () => misses.inc(),
    stored: () => stored.inc(),
    evicted: (reason, n) => evictions.inc({ reason }, n),
  };
}
