/**
 * Runs the population subgraph alone: `npx tsx subgraphs/population/main.ts` (or `npm run subgraph -- population`).
 * Environment: PORT, HOST, REGISTRY_URL, REGISTRY_API_KEY, REGISTRY_TIMEOUT_MS (see subgraphs/shared/env.ts).
 */
import { runSubgraphFromEnv } from '../shared/env.js';

await runSubgraphFromEnv('population');
