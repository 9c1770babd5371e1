/**
 * Runs one subgraph alone from environment variables (PORT, HOST, REGISTRY_URL,
 * REGISTRY_API_KEY, REGISTRY_TIMEOUT_MS, TODAY, GATEWAY_SIGNING_KEY, DATA_DIR), as a registry owner would
 * host it next to its registry (docs/ARCHITECTURE.md, "Ports and environment").
 */
import { EnvReader } from '../../lib/env-options.js';
import { isRegistryName, perRegistry, REGISTRIES, type RegistryName } from '../../lib/registries.js';
import path from 'node:path';
import { DEMO_REGISTRY_KEY } from '../../lib/demo.js';
import { GATEWAY_KEY_ENV, loadSubgraphKey } from '../../lib/subgraph-keys.js';
import { assertUsablePort } from '../../lib/bad-ports.js';

/** 4001, 4002, … in the order of REGISTRIES (lib/registries.ts); each registry's mock at 41xx. */
export const DEFAULT_PORTS: Readonly<Record<RegistryName, number>> = perRegistry((r, i) => 4001 + i);
export const DEFAULT_REGISTRY_URLS: Readonly<Record<RegistryName, string>> = perRegistry((r, i) => `http://localhost:${4101 + i}`);
export { DEMO_REGISTRY_KEY };

export interface SubgraphEnvConfig {
  port: number;
  host: string;
  registryUrl: string;
  apiKey: string;
  timeoutMs: number;
  /** TODAY (yyyy-MM-dd): the date for expired cards and mortgages; set it to the mocked world's asOf. Default: the real date in Vietnam. */
  today?: () => string;
  /** The gateway's signing key for this subgraph (`GATEWAY_SIGNING_KEY`; development: generated under DATA_DIR). */
  gatewayKey: Buffer | null;
  /** Where that key came from (the variable or the development key file), for the start line. */
  gatewayKeySource: string;
}

/** Reads PORT, HOST, REGISTRY_URL, REGISTRY_API_KEY, REGISTRY_TIMEOUT_MS, TODAY, GATEWAY_SIGNING_KEY, DATA_DIR; throws with what to fix. */
export function subgraphConfigFromEnv(name: string, env: NodeJS.ProcessEnv = process.env): SubgraphEnvConfig & { name: RegistryName } {
  if (!isRegistryName(name)) {
    throw new Error(`Unknown subgraph ${JSON.stringify(name)}: expected one of ${REGISTRIES.join(', ')}`);
  }
  const registry = name;
  // The strict reader shared with the gateway and the mocks (lib/env-options.ts): every variable through it.
  const reader = new EnvReader(env);
  const production = reader.string('NODE_ENV') === 'production';
  const port = reader.int('PORT', { max: 65535 }) ?? DEFAULT_PORTS[registry];
  assertUsablePort(port, `PORT=${port} (the ${registry} subgraph)`);
  const timeoutMs = reader.number('REGISTRY_TIMEOUT_MS', { min: 0, exclusiveMin: true }) ?? 2000;
  const apiKey = reader.string('REGISTRY_API_KEY') ?? (production ? '' : DEMO_REGISTRY_KEY);
  if (production && (apiKey === '' || apiKey === DEMO_REGISTRY_KEY)) {
    throw new Error(
      `REGISTRY_API_KEY must be set to the ${registry} registry's service-account key when NODE_ENV=production (the demo key is refused)`,
    );
  }
  const today = reader.string('TODAY');
  if (today !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(today)) {
    throw new Error(`TODAY must be an ISO date (yyyy-MM-dd), got ${JSON.stringify(today)}`);
  }
  const registryUrl = reader.string('REGISTRY_URL');
  if (production && registryUrl === undefined) {
    throw new Error(`REGISTRY_URL must point at the ${registry} registry when NODE_ENV=production`);
  }
  // GATEWAY_SIGNATURE=off (benchmark contenders that cannot sign) is refused in production.
  const signature = reader.string('GATEWAY_SIGNATURE');
  const unsigned = signature === 'off';
  if (signature !== undefined && !unsigned) {
    throw new Error(`GATEWAY_SIGNATURE=${JSON.stringify(signature)} is not understood: the only value is "off" (development/benchmark only); unset it to require signatures.`);
  }
  if (unsigned && production) throw new Error('GATEWAY_SIGNATURE=off is refused when NODE_ENV=production: the subgraph would answer anyone.');
  // Refused in production when missing or a development key: the subgraph would answer anyone.
  const gateway = unsigned
    ? null
    : loadSubgraphKey({ subgraph: registry, value: reader.string(GATEWAY_KEY_ENV), envName: GATEWAY_KEY_ENV, dataDir: path.resolve(reader.string('DATA_DIR') ?? 'data'), production });
  return {
    name: registry,
    gatewayKey: gateway?.key ?? null,
    gatewayKeySource: gateway?.source ?? 'nothing (GATEWAY_SIGNATURE=off: unsigned requests accepted)',
    port,
    host: reader.string('HOST') ?? 'localhost',
    registryUrl: registryUrl ?? DEFAULT_REGISTRY_URLS[registry],
    apiKey,
    timeoutMs,
    today: today ? () => today : undefined,
  };
}

/** Starts the subgraph from the environment, prints where it listens, stops cleanly on SIGINT/SIGTERM. */
export async function runSubgraphFromEnv(name: string): Promise<void> {
  let config: ReturnType<typeof subgraphConfigFromEnv>;
  try {
    config = subgraphConfigFromEnv(name);
  } catch (err) {
    console.error(`Cannot start the ${name} subgraph: ${(err as Error).message}`);
    process.exit(1);
  }
  // Imported here so a configuration error is reported before the schema loads.
  const { startSubgraph } = await import('../index.js');
  const running = await startSubgraph(config.name, config);
  console.log(`${config.name} subgraph listening at ${running.url} (registry ${config.registryUrl}; ${config.gatewayKey ? 'accepts only requests the gateway signed with ' : 'signature key: '}${config.gatewayKeySource})`);
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    console.log(`${config.name} subgraph: ${signal}, closing`);
    running.close().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(err);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}
