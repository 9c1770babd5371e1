/**
 * The gateway's OWN options (listening, supergraph, subgraphs, clients files, mode) and their
 * defaults, read once from the environment through the strict reader of lib/env-options.ts.
 *
 * Each concern owns its options (type, defaults, environment) in its folder; the full
 * `GatewayOptions` (these plus one field per concern) is assembled in gateway/app.ts, the only
 * file that knows every concern.
 */
import { hostname } from 'node:os';
import path from 'node:path';
import type { ApolloServerPlugin } from '@apollo/server';
import type { GraphQLSchema } from 'graphql';
import type { MotlanContext } from './core/context.js';
import type { AnyConcern, CoreSettings } from './core/concern.js';
import type { EnvReader } from '../lib/env-options.js';
import { REPO_ROOT } from '../lib/repo-root.js';
import { assertUsablePort } from '../lib/bad-ports.js';
import { gatewayKeyEnvOf, loadSubgraphKey } from '../lib/subgraph-keys.js';

export { REPO_ROOT } from '../lib/repo-root.js';

export interface CoreGatewayOptions {
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
  /**
   * Clients file (hashed API keys). Default: `CLIENTS_FILE` env, else `config/clients.json` (optional outside
   * production). A file given here or in `CLIENTS_FILE` must exist in every mode: the start stops otherwise.
   */
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
  concerns?: AnyConcern[];
  /** Apollo Server plugins installed after every concern's plugins. Default: none. */
  extraPlugins?: ApolloServerPlugin<MotlanContext>[];
  /** In-gateway subgraphs by name, served with LocalGraphQLDataSource (must be in the supergraph). Default: none. */
  localSubgraphs?: Record<string, GraphQLSchema>;
  /** Where defaults come from. Default: `process.env`. */
  env?: NodeJS.ProcessEnv;
}

export interface ResolvedGatewayOptions extends CoreSettings {
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
  /** The options as given (the composition reads each concern's slice from it). */
  gateway: CoreGatewayOptions & Record<string, unknown>;
}

export function resolveOptions(opts: CoreGatewayOptions, reader: EnvReader): ResolvedGatewayOptions {
  const env = reader.env;
  const instanceIdGiven = opts.instanceId ?? reader.string('INSTANCE_ID');
  const production = opts.production ?? reader.string('NODE_ENV') === 'production';
  const fromRoot = (p: string) => path.resolve(REPO_ROOT, p);
  const signingKeys = { ...reader.named('SUBGRAPH_SIGNING_KEY'), ...opts.subgraphSigningKeys };
  const dataDir = reader.string('DATA_DIR') ?? 'data';
  const loadedKeys = new Map<string, Buffer>();
  const subgraphSigningKey = (name: string): Buffer => {
    let key = loadedKeys.get(name);
    if (!key) {
      key = loadSubgraphKey({ subgraph: name, value: signingKeys[name], envName: gatewayKeyEnvOf(name), dataDir: path.resolve(dataDir), production }).key;
      // The v2 signature names its subgraph, so a shared key is not replayable across them;
      // still refused: one leaked key would open both subgraphs.
      for (const [other, k] of loadedKeys) {
        if (k.equals(key)) throw new Error(`${gatewayKeyEnvOf(name)} is the same key as ${gatewayKeyEnvOf(other)}: give each subgraph a key of its own (openssl rand -hex 32).`);
      }
      loadedKeys.set(name, key);
    }
    return key;
  };
  const port = opts.port ?? reader.int('PORT', { max: 65535 }) ?? 4000;
  // Before anything opens: a port browsers and fetch refuse would look dead to every client.
  assertUsablePort(port, opts.port !== undefined ? "The gateway's `port` option" : `PORT=${port} (the gateway)`);
  return {
    subgraphSigningKey,
    port,
    host: opts.host ?? reader.string('HOST') ?? 'localhost',
    supergraphFile: fromRoot(opts.supergraphFile ?? reader.string('SUPERGRAPH_FILE') ?? 'schema/supergraph.graphql'),
    watchSupergraph: opts.watchSupergraph ?? true,
    subgraphUrls: opts.subgraphUrls ?? reader.named('SUBGRAPH_URL'),
    subgraphTimeoutMs: opts.subgraphTimeoutMs ?? reader.int('SUBGRAPH_TIMEOUT_MS', { min: 1 }) ?? 3000,
    clientsFile: fromRoot(opts.clientsFile ?? reader.string('CLIENTS_FILE') ?? 'config/clients.json'),
    clientsFileGiven: opts.clientsFile !== undefined ? 'the clientsFile option' : reader.string('CLIENTS_FILE') !== undefined ? `CLIENTS_FILE=${reader.string('CLIENTS_FILE')}` : undefined,
    demoClientsFile:
      opts.demoClientsFile === false ? false : opts.demoClientsFile !== undefined ? fromRoot(opts.demoClientsFile) : production ? false : fromRoot('mocks/clients.demo.json'),
    production,
    instanceId: instanceIdGiven ?? `${hostname()}-${process.pid}`,
    instanceIdGiven,
    logLevel: opts.logLevel ?? reader.string('LOG_LEVEL') ?? 'info',
    env,
    gateway: opts as CoreGatewayOptions & Record<string, unknown>,
  };
}
