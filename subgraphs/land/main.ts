/**
 * Runs the land subgraph alone: `npx tsx subgraphs/land/main.ts` (or `npm run subgraph -- land`).
 * Environment: PORT, HOST, REGISTRY_URL, REGISTRY_API_KEY, REGISTRY_TIMEOUT_MS (see subgraphs/shared/env.ts).
 */
import { runSubgraphFromEnv } from '../shared/env.js';

await runSubgraphFromEnv('land');
