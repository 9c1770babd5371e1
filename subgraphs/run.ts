/**
 * `npm run subgraph -- <name>`: runs one registry subgraph alone from the
 * environment (PORT, HOST, REGISTRY_URL, REGISTRY_API_KEY, REGISTRY_TIMEOUT_MS).
 */
import { REGISTRIES } from '../lib/registries.js';
import { runSubgraphFromEnv } from './shared/env.js';

const name = process.argv[2];
if (!name) {
  console.error(`Usage: npm run subgraph -- <${REGISTRIES.join('|')}>`);
  process.exit(2);
}
await runSubgraphFromEnv(name);
