/**
 * Runs the civil subgraph alone: `npx tsx subgraphs/civil/main.ts` (or `npm run subgraph -- civil`).
 * Environment: PORT, HOST, REGISTRY_URL, REGISTRY_API_KEY, REGISTRY_TIMEOUT_MS, TODAY (see subgraphs/shared/env.ts).
 */
import { runSubgraphFromEnv } from '../shared/env.js';

await runSubgraphFromEnv('civil');
