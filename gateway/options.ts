/**
 * Gateway options and their defaults. Every default is read from the environment
 * once, here, so `buildGateway()` with no argument behaves like `npm start`.
 *
 * Concerns that need their own settings add one optional field below (documenting
 * its default) and read it from `env.options.gateway` in their factory.
 */
import { hostname } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ApolloServerPlugin } from '@apollo/server';
import type { GraphQLSchema } from 'graphql';
import type { MotlanContext } from './core/context.js';
import type { ConcernFactory } from './core/concern.js';
import type { SandboxOptions } from './sandbox/index.js';
import type { MetricsConcernOptions } from './metrics/index.js';
import type { StatsOptions } from './stats/index.js';
import type { ConsoleOptions } from './console/index.js';
import { namedFromEnv } from '../lib/env.js';
import { gatewayKeyEnvOf, loadSubgraphKey } from '../lib/subgraph-keys.js';

/** Repository root (gateway/ is one level below it). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface GatewayOptions {
  /** TCP port. Default: `PORT` env, else 4000. 0 picks a free port. */
  port?: number;
  /** Interface to bind. Default: `HOST` env, else `localhost` (127.0.0.1 and ::1). */
  host?: string;
  /** Composed supergraph SDL. Default: `SUPERGRAPH_FILE` env, else `schema/supergraph.graphql`. */
  supergraphFile?: string;
  /** Reload the supergraph when the file changes (no restart). Default: true. */
  watchSupergraph?: boolean;
  /** Subgraph URL overrides by subgraph name (tests run subgraphs on free ports). Default: `SUBGRAPH_URL_<NAME>` env (e.g. `SUBGRAPH_URL_POPULATION`, set by `npm start`), else the URLs in the supergraph. */
  subgraphUrls?: Partial<Record<string, string>>;
  /**
   * Keys the gateway signs each subgraph's requests with, by subgraph name (docs/SECURITY.md, "The subgraph
   * trust boundary"). Default: `SUBGRAPH_SIGNING_KEY_<NAME>` env (e.g. `SUBGRAPH_SIGNING_KEY_POPULATION`);
   * outside production a missing key is generated as `<DATA_DIR>/subgraph-signing-<name>.dev.key`
   * (DATA_DIR env, else `./data`); production refuses to start without one, or with a development key.
   */
  subgraphSigningKeys?: Partial<Record<string, string>>;
  /** Per-subgraph request timeout. Default: `SUBGRAPH_TIMEOUT_MS` env, else 3000 ms (above the subgraphs' 2000 ms registry timeout, so they report first). */
  subgraphTimeoutMs?: number;
  /** Clients file (hashed API keys). Default: `CLIENTS_FILE` env, else `config/clients.json` (optional outside production). */
  clientsFile?: string;
  /**
   * Demo clients file loaded in addition to `clientsFile`. Default: `mocks/clients.demo.json`
   * outside production, none in production. `false` disables it. Demo clients are
   * refused (startup error) when `production` is true.
   */
  demoClientsFile?: string | false;
  /** Production mode: masked errors, no introspection, no demo clients. Default: `NODE_ENV === 'production'`. */
  production?: boolean;
  /** Name of this replica in logs, audit records and metrics. Default: `INSTANCE_ID` env, else `<hostname>-<pid>`. */
  instanceId?: string;
  /** pino log level. Default: `LOG_LEVEL` env, else `info` (`silent` in tests). */
  logLevel?: string;
  /**
   * Where log lines go (one JSON line per `write`). Default: standard output. Every line is
   * filtered by `maskIdentifiers` (lib/redact-url.ts) on the way; tests capture it to scan it.
   */
  logDestination?: { write(line: string): unknown };
  /**
   * Run only the core concerns (request context, auth, execution) plus `concerns`: for tests
   * of the core against a toy supergraph. Default: false (every concern of gateway/app.ts).
   */
  coreOnly?: boolean;
  /** Concerns appended after the built-in list of gateway/app.ts (tests, extensions). Default: none. */
  concerns?: ConcernFactory[];
  /** Apollo Server plugins installed after every concern's plugins. Default: none. */
  extraPlugins?: ApolloServerPlugin<MotlanContext>[];
  /** In-gateway subgraphs by name, served with LocalGraphQLDataSource (must be in the supergraph). Default: none. */
  localSubgraphs?: Record<string, GraphQLSchema>;
  /** Procedure catalog (gateway/procedures/concern.ts): folders and reload. Default: `schema/procedures/` + `PROCEDURES_DIR_EXTRA`, watched. */
  procedures?: import('./procedures/concern.js').ProceduresConcernOptions;
  /** /metrics: bearer token (default `METRICS_TOKEN` env, open when unset), label limits, buckets. See gateway/metrics. */
  metrics?: MetricsConcernOptions;
  /** /stats/v1: hourly rate in VND (default `STATS_HOURLY_RATE_VND` env, else 37 000), audit store override. See gateway/stats. */
  stats?: StatsOptions;
  /** /console/: URL prefix (default `/console/`). See gateway/console. */
  console?: ConsoleOptions;
  /** Per-client rate limits (gateway/ratelimit): rate, burst, unknown-lookup brake, Redis (`REDIS_URL`); `false` turns them off (benchmarks). Default: 20/s, burst 40, 20 unknown lookups per 10 min, in memory. */
  rateLimit?: Partial<import('./ratelimit/limiter.js').RateLimitOptions> | false;
  /** Request/document limits (gateway/limits/options.ts): body 64 KiB, depth 12, aliases 15, cost 2000, … (`LIMIT_*` env). */
  limits?: Partial<import('./limits/options.js').DocumentLimits>;
  /** Purpose policy & subject binding (gateway/policy): subject token key set. Default: `SUBJECT_TOKEN_JWKS_URL` env. */
  policy?: import('./policy/concern.js').PolicyConcernOptions;
  /** Audit trail (gateway/audit/config.ts): store (SQLite `DATA_DIR/audit.db`, or `AUDIT_DATABASE_URL`), keys, checkpoints; `false` turns it off (benchmarks only). Default: on. */
  audit?: import('./audit/config.js').AuditOptions | false;
  /** Where defaults come from. Default: `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** The GraphiQL sandbox at `/` (gateway/sandbox): its options, or `false` to serve none. Default: on, demo key and demo-world examples outside production. */
  sandbox?: SandboxOptions | false;
  /** Subgraph-fetch cache, in-flight dedupe, change feeds, plan warm-up (gateway/cache, docs/CACHE.md); `false` turns caching off. Default: on, policies from `config/cache.json` (`CACHE_CONFIG`), `CACHE=off` disables, `REDIS_URL` shares it. */
  cache?: import('./cache/concern.js').CacheConcernOptions;
}

export interface ResolvedGatewayOptions {
  port: number;
  host: string;
  supergraphFile: string;
  watchSupergraph: boolean;
  subgraphUrls: Partial<Record<string, string>>;
  subgraphTimeoutMs: number;
  /** The signing key of a subgraph (throws, naming the variable to set, when there is none in production). */
  subgraphSigningKey(name: string): Buffer;
  clientsFile: string;
  demoClientsFile: string | false;
  production: boolean;
  instanceId: string;
  logLevel: string;
  env: NodeJS.ProcessEnv;
  /** The options as given, for concerns' own fields. */
  gateway: GatewayOptions;
}

function intFrom(value: string | undefined, name: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name}=${JSON.stringify(value)} is not a non-negative integer: fix or unset it.`);
  return n;
}


export function resolveOptions(opts: GatewayOptions = {}): ResolvedGatewayOptions {
  const env = opts.env ?? process.env;
  const production = opts.production ?? env.NODE_ENV === 'production';
  const fromRoot = (p: string) => path.resolve(REPO_ROOT, p);
  const signingKeys = { ...namedFromEnv(env, 'SUBGRAPH_SIGNING_KEY'), ...opts.subgraphSigningKeys };
  const loadedKeys = new Map<string, Buffer>();
  const subgraphSigningKey = (name: string): Buffer => {
    let key = loadedKeys.get(name);
    if (!key) {
      key = loadSubgraphKey({ subgraph: name, value: signingKeys[name], envName: gatewayKeyEnvOf(name), dataDir: path.resolve(env.DATA_DIR || 'data'), production }).key;
      // The signature does not name its subgraph: with one key for two subgraphs, a request
      // signed for one could be replayed to the other inside the time window.
      for (const [other, k] of loadedKeys) {
        if (k.equals(key)) throw new Error(`${gatewayKeyEnvOf(name)} is the same key as ${gatewayKeyEnvOf(other)}: give each subgraph a key of its own (openssl rand -hex 32).`);
      }
      loadedKeys.set(name, key);
    }
    return key;
  };
  return {
    subgraphSigningKey,
    port: opts.port ?? intFrom(env.PORT, 'PORT') ?? 4000,
    host: opts.host ?? env.HOST ?? 'localhost',
    supergraphFile: fromRoot(opts.supergraphFile ?? env.SUPERGRAPH_FILE ?? 'schema/supergraph.graphql'),
    watchSupergraph: opts.watchSupergraph ?? true,
    subgraphUrls: opts.subgraphUrls ?? namedFromEnv(env, 'SUBGRAPH_URL'),
    subgraphTimeoutMs: opts.subgraphTimeoutMs ?? intFrom(env.SUBGRAPH_TIMEOUT_MS, 'SUBGRAPH_TIMEOUT_MS') ?? 3000,
    clientsFile: fromRoot(opts.clientsFile ?? env.CLIENTS_FILE ?? 'config/clients.json'),
    demoClientsFile:
      opts.demoClientsFile === false ? false : opts.demoClientsFile !== undefined ? fromRoot(opts.demoClientsFile) : production ? false : fromRoot('mocks/clients.demo.json'),
    production,
    instanceId: opts.instanceId ?? env.INSTANCE_ID ?? `${hostname()}-${process.pid}`,
    logLevel: opts.logLevel ?? env.LOG_LEVEL ?? 'info',
    env,
    gateway: opts,
  };
}
