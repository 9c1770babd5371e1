/**
 * Programmatic start of the registry subgraphs (docs/ARCHITECTURE.md,
 * "Subgraphs"), used by `scripts/start.ts`, the whole-stack tests and each
 * subgraph's own `main.ts`.
 */
import { REGISTRIES, type RegistryName } from '../lib/registries.js';
import { civilSubgraph } from './civil/schema.js';
import { enterpriseSubgraph } from './enterprise/schema.js';
import { insuranceSubgraph } from './insurance/schema.js';
import { landSubgraph } from './land/schema.js';
import { populationSubgraph } from './population/schema.js';
import { RegistryClient } from './shared/registry-client.js';
import { startSubgraphServer, type SubgraphDefinition } from './shared/server.js';
import { tracingFromEnv, type Tracing } from '../lib/tracing.js';

export { RegistryClient, RegistryError } from './shared/registry-client.js';
export type { RunningSubgraph, SubgraphDefinition } from './shared/server.js';

export interface StartSubgraphOptions {
  /** Port to listen on; 0 picks a free one. Default 0. */
  port?: number;
  /** Interface to bind; `localhost` binds 127.0.0.1 and ::1. Default `localhost`. */
  host?: string;
  /** Base URL of the upstream registry, e.g. `http://localhost:4101`. */
  registryUrl: string;
  /** Service-account key for the registry (`X-API-Key`). */
  apiKey: string;
  /** Deadline of one registry call. Default 2000 ms. */
  timeoutMs?: number;
  /** Hide stack traces and internal messages. Default: NODE_ENV === 'production'. */
  production?: boolean;
  /** pino level. Default: LOG_LEVEL or `warn`. */
  logLevel?: string;
  /** Where log lines go (tests). Default: stdout. */
  logStream?: NodeJS.WritableStream;
  /** The key the gateway signs this subgraph's requests with (`GATEWAY_SIGNING_KEY`); unsigned requests get 401. `null`: see SubgraphServerOptions. */
  gatewayKey: Buffer | null;
  /** Clock skew accepted on signatures. Default 30 000 ms. */
  maxSkewMs?: number;
  /** Today's ISO date for date-dependent fields (expired cards, mortgages, digitised results). Default: the date in Vietnam. */
  today?: () => string;
  /**
   * OpenTelemetry tracing (lib/tracing.ts): spans of its requests and registry calls. Default: from the
   * OTEL_* variables of the process (off without an endpoint), service `motlan-subgraph-<name>`;
   * `null` turns it off. A tracing given here is the caller's to shut down.
   */
  tracing?: Tracing | null;
}

/** The subgraph definitions by name; `today` feeds the date-dependent fields. */
export function subgraphDefinition(name: RegistryName, opts: { today?: () => string } = {}): SubgraphDefinition<object> {
  switch (name) {
    case 'population':
      return populationSubgraph() as SubgraphDefinition<object>;
    case 'enterprise':
      return enterpriseSubgraph() as SubgraphDefinition<object>;
    case 'insurance':
      return insuranceSubgraph(opts) as SubgraphDefinition<object>;
    case 'land':
      return landSubgraph(opts) as SubgraphDefinition<object>;
    case 'civil':
      return civilSubgraph(opts) as SubgraphDefinition<object>;
    default:
      throw new Error(`Unknown subgraph ${JSON.stringify(name)}: expected one of ${REGISTRIES.join(', ')}`);
  }
}

/** Starts one subgraph; resolves once it listens. `url` is its GraphQL endpoint. */
export async function startSubgraph(
  name: RegistryName,
  opts: StartSubgraphOptions,
): Promise<{ url: string; port: number; close(): Promise<void> }> {
  const def = subgraphDefinition(name, { today: opts.today });
  const own = opts.tracing === undefined ? await tracingFromEnv(process.env, `motlan-subgraph-${name}`) : null;
  const tracing = opts.tracing ?? own;
  const client = new RegistryClient({ registry: name, url: opts.registryUrl, apiKey: opts.apiKey, timeoutMs: opts.timeoutMs, tracing });
  const running = await startSubgraphServer(def, {
    client,
    port: opts.port,
    host: opts.host,
    production: opts.production,
    logLevel: opts.logLevel,
    logStream: opts.logStream,
    gatewayKey: opts.gatewayKey,
    maxSkewMs: opts.maxSkewMs,
    tracing,
  });
  return {
    url: running.url,
    port: running.port,
    close: async () => {
      await running.close();
      await own?.shutdown();
    },
  };
}
