/**
 * The four mock national registries, one HTTP JSON service each on its own port,
 * shaped like the upstream systems the subgraphs call (docs/ARCHITECTURE.md, "Mock
 * registry HTTP API"): lookups by key and batch lookups only, never listings, a
 * service-account key in `X-API-Key`, fault injection, and request counters so
 * tests can prove that N entities cost one upstream call.
 */
import { EnvReader } from '../../lib/env-options.js';
import { timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { generateWorld, DEFAULT_CITIZENS, DEFAULT_SEED } from '../world/generate.js';
import { indexWorld, type WorldIndex } from '../world/index-world.js';
import { REGISTRIES, type RegistryName, type World } from '../world/types.js';
import { COLLECTIONS, REGISTRY_TITLES, type Collection } from './collections.js';
import { FaultInjector, faultsFromEnv, parseFaults, type Faults } from './faults.js';
import { registerChangeFeed, type ChangeFeed } from './changes.js';
import { DEMO_REGISTRY_KEY } from '../../lib/demo.js';
import { traceRequests, tracingFromEnv, type Tracing } from '../../lib/tracing.js';
import { assertUsablePort } from '../../lib/bad-ports.js';
import { perRegistry } from '../../lib/registries.js';

export type { Faults } from './faults.js';

/** DEMO ONLY: refused when NODE_ENV=production. */
export const DEMO_REGISTRY_API_KEY = DEMO_REGISTRY_KEY;
/** 4101, 4102, … in the order of REGISTRIES (lib/registries.ts): a new registry needs no line here. */
export const DEFAULT_REGISTRY_PORTS: Readonly<Record<RegistryName, number>> = perRegistry((r, i) => 4101 + i);
/** Environment variable overriding each registry's port, e.g. POPULATION_REGISTRY_PORT. */
export const PORT_ENV: Readonly<Record<RegistryName, string>> = perRegistry((r) => `${r.toUpperCase()}_REGISTRY_PORT`);
export const MAX_BATCH_KEYS = 500;

export interface StartRegistriesOptions {
  /** A world to serve; generated from `seed`/`citizens` when absent. */
  world?: World;
  /** Default env MOCK_SEED, else 20250701. */
  seed?: number;
  /** Default env MOCK_CITIZENS, else 10,000. */
  citizens?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Port per registry; 0 means any free port. Default env <NAME>_REGISTRY_PORT, else 4101-4104. */
  ports?: Partial<Record<RegistryName, number>>;
  /** Service key required in X-API-Key. Default env REGISTRY_API_KEY, else the demo key (refused in production). */
  apiKey?: string;
  /** Faults applied to all four at start. Default from env MOCK_LATENCY_MS, MOCK_ERROR_RATE, ... (see faults.ts). */
  faults?: Partial<Faults>;
  /** Environment to read defaults from. Default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Fastify request logging. Default false. */
  logger?: boolean;
  /**
   * OpenTelemetry tracing (lib/tracing.ts): a SERVER span per API call, child of the subgraph's
   * `traceparent`. Default: from the OTEL_* variables of `env` (off without an endpoint), service
   * `motlan-registry`; `null` turns it off. A tracing given here is the caller's to shut down.
   */
  tracing?: Tracing | null;
}

export interface RegistryStats {
  /** API calls per collection (any outcome: data, 404, 400, injected fault). */
  requests: Record<string, number>;
  /** Batch calls (all collections). */
  batches: number;
  /** Keys asked per collection (a GET counts 1, a batch its number of keys). */
  keys: Record<string, number>;
}

export interface RunningRegistries {
  urls: Record<RegistryName, string>;
  world: World;
  /** The service key the registries require. */
  apiKey: string;
  setFaults(registry: RegistryName, f: Partial<Faults>): void;
  getFaults(registry: RegistryName): Faults;
  stats(registry: RegistryName): RegistryStats;
  resetStats(registry?: RegistryName): void;
  close(): Promise<void>;
}

interface ApiError {
  error: string;
  message: string;
}

function sendError(reply: FastifyReply, status: number, error: string, message: string): FastifyReply {
  return reply.code(status).send({ error, message } satisfies ApiError);
}

function sameKey(given: unknown, expected: Buffer): boolean {
  if (typeof given !== 'string') return false;
  const buf = Buffer.from(given);
  return buf.length === expected.length && timingSafeEqual(buf, expected);
}

class Counters {
  stats: RegistryStats;
  constructor(private readonly collections: readonly Collection[]) {
    this.stats = this.empty();
  }
  private empty(): RegistryStats {
    const zeros = (): Record<string, number> => Object.fromEntries(this.collections.map((c) => [c.name, 0]));
    return { requests: zeros(), batches: 0, keys: zeros() };
  }
  count(collection: string, keys: number, batch: boolean): void {
    this.stats.requests[collection] = (this.stats.requests[collection] ?? 0) + 1;
    this.stats.keys[collection] = (this.stats.keys[collection] ?? 0) + keys;
    if (batch) this.stats.batches++;
  }
  snapshot(): RegistryStats {
    return { requests: { ...this.stats.requests }, batches: this.stats.batches, keys: { ...this.stats.keys } };
  }
  reset(): void {
    this.stats = this.empty();
  }
}

interface RegistryApp {
  app: FastifyInstance;
  /** Change notifications: PATCH /__admin/<collection>/<key>, GET /api/v1/changes (changes.ts). */
  changes: ChangeFeed;
  faults: FaultInjector;
  counters: Counters;
}

/** Builds one registry's HTTP service (not listening). Exported for tests that use `app.inject`. */
export function buildRegistryApp(
  registry: RegistryName,
  index: WorldIndex,
  opts: { apiKey: string; faults?: Partial<Faults>; faultSeed?: number; logger?: boolean; tracing?: Tracing | null },
): RegistryApp {
  const collections = COLLECTIONS[registry];
  const byName = new Map(collections.map((c) => [c.name, c]));
  const faults = new FaultInjector(opts.faults, opts.faultSeed);
  const counters = new Counters(collections);
  const expectedKey = Buffer.from(opts.apiKey);
  const title = `The ${registry} registry (${REGISTRY_TITLES[registry]})`;
  const app = Fastify({
    logger: opts.logger ?? false,
    // Upstream clients keep connections open; idle ones are closed at shutdown.
    keepAliveTimeout: 65_000,
    forceCloseConnections: 'idle',
    bodyLimit: 1_048_576,
  });
  // First hook: the span covers the key check too (a 401 is a span with its status).
  traceRequests(app, opts.tracing ?? null, { attributes: { 'motlan.registry': registry } });

  app.addHook('onRequest', async (request, reply) => {
    if (request.url.split('?')[0] === '/health') return;
    if (!sameKey(request.headers['x-api-key'], expectedKey)) {
      const missing = request.headers['x-api-key'] === undefined;
      return sendError(reply, 401, 'unauthorized', missing
        ? `${title} requires a service key: send it in the X-API-Key header.`
        : `${title} refused the X-API-Key: the key is not valid for this registry.`);
    }
  });

  app.setErrorHandler((err: { statusCode?: number; message: string }, _request, reply) => {
    const status = err.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      return sendError(reply, 400, 'invalid_body', `Malformed request: ${err.message}. Send JSON {"keys": ["k1", "k2"]} with Content-Type: application/json.`);
    }
    return sendError(reply, 500, 'internal', `${title} failed: ${err.message}`);
  });

  app.setNotFoundHandler((request, reply) =>
    sendError(reply, 404, 'not_found', `No such endpoint: ${request.method} ${request.url.split('?')[0]}. `
      + `This registry serves GET /api/v1/<collection>/<key> and POST /api/v1/<collection>/batch for: ${collections.map((c) => c.name).join(', ')}.`));

  app.get('/health', async (_request, reply) => {
    const f = faults.faults;
    if (f.outage) return reply.code(503).send({ status: 'unavailable', registry });
    return { status: 'ok', registry };
  });

  const resolve = (name: string, reply: FastifyReply): Collection | null => {
    const collection = byName.get(name);
    if (!collection) {
      sendError(reply, 404, 'unknown_collection',
        `${title} has no collection ${JSON.stringify(name)}; it serves: ${collections.map((c) => c.name).join(', ')}.`);
      return null;
    }
    return collection;
  };

  /** Injected faults; returns false when the call was answered with an error. */
  const survive = async (reply: FastifyReply): Promise<boolean> => {
    const outcome = await faults.apply();
    if (outcome === 'ok') return true;
    const reason = outcome === 'outage' ? 'simulated outage'
      : outcome === 'error' ? 'simulated failure (fault injection errorRate)' : 'shutting down';
    sendError(reply, 503, 'unavailable', `${title} is unavailable: ${reason}. Retry later.`);
    return false;
  };

  app.get<{ Params: { collection: string } }>('/api/v1/:collection', async (request, reply) => {
    const collection = resolve(request.params.collection, reply);
    if (!collection) return reply;
    return sendError(reply, 404, 'listing_not_supported',
      `${title} never lists records: look one up with GET /api/v1/${collection.name}/<${collection.keyName}> `
      + `or up to ${MAX_BATCH_KEYS} with POST /api/v1/${collection.name}/batch.`);
  });

  app.get<{ Params: { collection: string; key: string } }>('/api/v1/:collection/:key', async (request, reply) => {
    const collection = resolve(request.params.collection, reply);
    if (!collection) return reply;
    counters.count(collection.name, 1, false);
    const key = request.params.key;
    const invalid = collection.validate(key);
    if (invalid) return sendError(reply, 400, 'invalid_key', invalid);
    if (!(await survive(reply))) return reply;
    const record = collection.lookup(index, key);
    if (record === null) {
      return sendError(reply, 404, 'not_found', `${title} holds no ${collection.name} record for ${collection.keyName} ${JSON.stringify(key)}.`);
    }
    return record;
  });

  app.post<{ Params: { collection: string } }>('/api/v1/:collection/batch', async (request, reply) => {
    const collection = resolve(request.params.collection, reply);
    if (!collection) return reply;
    const body = request.body as { keys?: unknown } | null | undefined;
    const keys = body && typeof body === 'object' && !Array.isArray(body) ? body.keys : undefined;
    counters.count(collection.name, Array.isArray(keys) ? keys.length : 0, true);
    if (!Array.isArray(keys)) {
      return sendError(reply, 400, 'invalid_body', `The body must be JSON {"keys": [...]} with 1 to ${MAX_BATCH_KEYS} ${collection.keyName} values.`);
    }
    if (keys.length === 0) return sendError(reply, 400, 'invalid_body', `Empty batch: send 1 to ${MAX_BATCH_KEYS} keys.`);
    if (keys.length > MAX_BATCH_KEYS) {
      return sendError(reply, 400, 'too_many_keys', `Too many keys (${keys.length}): a batch holds 1 to ${MAX_BATCH_KEYS} keys; split it into several requests.`);
    }
    for (let i = 0; i < keys.length; i++) {
      const key: unknown = keys[i];
      const invalid = typeof key === 'string' ? collection.validate(key) : `Invalid ${collection.keyName}: expected a string, got ${typeof key}.`;
      if (invalid) return sendError(reply, 400, 'invalid_key', `keys[${i}]: ${invalid}`);
    }
    if (!(await survive(reply))) return reply;
    return { items: (keys as string[]).map((key) => collection.lookup(index, key)) };
  });

  app.get('/__admin/faults', async () => faults.faults);
  app.put('/__admin/faults', async (request, reply) => {
    try {
      return faults.set(parseFaults(request.body ?? {}));
    } catch (err) {
      return sendError(reply, 400, 'invalid_faults', (err as Error).message);
    }
  });
  app.delete('/__admin/faults', async () => faults.reset());
  app.get('/__admin/stats', async () => counters.snapshot());
  app.delete('/__admin/stats', async () => {
    counters.reset();
    return counters.snapshot();
  });

  // preClose runs before the server waits for in-flight requests, so pending fault delays end first.
  app.addHook('preClose', async () => faults.abort());
  // Change notifications (record edits + SSE feed) for consumers' caches: changes.ts.
  const changes = registerChangeFeed(app, { registry, index, collections });
  return { app, faults, counters, changes };
}

/** The strict parser shared by every setting (lib/env-options.ts). */
function envInt(env: NodeJS.ProcessEnv, name: string): number | undefined {
  return new EnvReader(env).int(name);
}

/** The world the registries generate for this environment: MOCK_SEED and MOCK_CITIZENS, else the defaults. */
export function worldOptionsFromEnv(env: NodeJS.ProcessEnv): { seed: number; citizens: number } {
  return { seed: envInt(env, 'MOCK_SEED') ?? DEFAULT_SEED, citizens: envInt(env, 'MOCK_CITIZENS') ?? DEFAULT_CITIZENS };
}

/** Throws when the demo key would be used in production. */
export function resolveRegistryApiKey(apiKey: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const key = apiKey ?? env.REGISTRY_API_KEY ?? DEMO_REGISTRY_API_KEY;
  if (key.trim() === '') throw new Error('The registry API key is empty: set REGISTRY_API_KEY to a secret value.');
  if (env.NODE_ENV === 'production' && key === DEMO_REGISTRY_API_KEY) {
    throw new Error(
      `Refusing to start the mock registries with the demo key "${DEMO_REGISTRY_API_KEY}" while NODE_ENV=production: `
      + 'set REGISTRY_API_KEY to a secret value (and give the same value to the subgraphs).',
    );
  }
  return key;
}

function urlFor(host: string, port: number): string {
  if (host === '0.0.0.0' || host === '') return `http://127.0.0.1:${port}`;
  if (host === '::') return `http://[::1]:${port}`;
  return host.includes(':') ? `http://[${host}]:${port}` : `http://${host}:${port}`;
}

/** Starts the four registries (population, enterprise, insurance, land), each on its own port. */
export async function startRegistries(opts: StartRegistriesOptions = {}): Promise<RunningRegistries> {
  const env = opts.env ?? process.env;
  const apiKey = resolveRegistryApiKey(opts.apiKey, env);
  // Every port first, before the world is generated: a refused one is a start error at once.
  const ports = {} as Record<RegistryName, number>;
  for (const registry of REGISTRIES) {
    const given = opts.ports?.[registry];
    const port = given ?? envInt(env, PORT_ENV[registry]) ?? DEFAULT_REGISTRY_PORTS[registry];
    assertUsablePort(port, given !== undefined ? `The ${registry} mock registry's port` : `${PORT_ENV[registry]}=${port} (the ${registry} mock registry)`);
    ports[registry] = port;
  }
  const fromEnv = worldOptionsFromEnv(env);
  const world = opts.world ?? generateWorld({ seed: opts.seed ?? fromEnv.seed, citizens: opts.citizens ?? fromEnv.citizens });
  const initialFaults = opts.faults ?? faultsFromEnv(env);
  const host = opts.host ?? '127.0.0.1';
  const index = indexWorld(world);
  const ownTracing = opts.tracing === undefined ? await tracingFromEnv(env, 'motlan-registry') : null;
  const tracing = opts.tracing ?? ownTracing;

  const apps = new Map<RegistryName, RegistryApp>();
  const urls = {} as Record<RegistryName, string>;
  const closeAll = async (): Promise<void> => {
    await Promise.all([...apps.values()].map((a) => a.app.close()));
    await ownTracing?.shutdown();
  };
  try {
    for (const [i, registry] of REGISTRIES.entries()) {
      const port = ports[registry];
      const built = buildRegistryApp(registry, index, { apiKey, faults: initialFaults, faultSeed: world.seed + i, logger: opts.logger, tracing });
      apps.set(registry, built);
      try {
        await built.app.listen({ host, port });
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        const why = code === 'EADDRINUSE' ? 'the port is already in use' : (err as Error).message;
        throw new Error(`Could not start the ${registry} mock registry on ${host}:${port}: ${why}. `
          + `Set ${PORT_ENV[registry]} (or pass ports; 0 picks a free port).`);
      }
      urls[registry] = urlFor(host, (built.app.server.address() as AddressInfo).port);
    }
  } catch (err) {
    await closeAll();
    throw err;
  }

  const get = (registry: RegistryName): RegistryApp => {
    const a = apps.get(registry);
    if (!a) throw new Error(`Unknown registry ${JSON.stringify(registry)}: expected one of ${REGISTRIES.join(', ')}.`);
    return a;
  };
  let closed: Promise<void> | null = null;
  return {
    urls,
    world,
    apiKey,
    setFaults: (registry, f) => void get(registry).faults.set(f),
    getFaults: (registry) => get(registry).faults.faults,
    stats: (registry) => get(registry).counters.snapshot(),
    resetStats: (registry) => {
      for (const name of registry ? [registry] : REGISTRIES) get(name).counters.reset();
    },
    close: () => (closed ??= closeAll()),
  };
}
