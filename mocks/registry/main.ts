/**
 * Runs the four mock registries from the environment (`npm run mocks`):
 * MOCK_SEED, MOCK_CITIZENS, MOCK_LATENCY_MS, MOCK_ERROR_RATE (and the other MOCK_*
 * faults), REGISTRY_API_KEY, <NAME>_REGISTRY_PORT (one per registry of lib/registries.ts)
 * (default 4101-4104), REGISTRY_HOST (default 127.0.0.1).
 */
import { DEMO_REGISTRY_API_KEY, startRegistries } from './server.js';
import { REGISTRIES } from '../world/types.js';

async function main(): Promise<void> {
  const started = Date.now();
  const registries = await startRegistries({ host: process.env.REGISTRY_HOST || undefined });
  const w = registries.world;
  console.log(
    `Mock registries ready in ${Date.now() - started} ms (seed ${w.seed}, ${w.citizens.length} citizens, `
    + `${w.enterprises.length} enterprises, ${w.parcels.length} parcels, as of ${w.asOf}):`,
  );
  for (const name of REGISTRIES) console.log(`  ${name.padEnd(10)} ${registries.urls[name]}`);
  console.log(registries.apiKey === DEMO_REGISTRY_API_KEY
    ? `  X-API-Key: ${DEMO_REGISTRY_API_KEY} (DEMO ONLY)`
    : '  X-API-Key: from REGISTRY_API_KEY');

  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: closing the mock registries...`);
    registries.close().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error('Error while closing the mock registries:', err);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
