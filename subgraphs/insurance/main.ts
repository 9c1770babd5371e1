/**
 * Runs the insurance subgraph alone: `npx tsx subgraphs/insurance/main.ts` (or `npm run subgraph -- insurance`).
 * Environment: PORT, HOST, REGISTRY_URL, REGISTRY_API_KEY, REGISTRY_TIMEOUT_MS (see subgraphs/shared/env.ts).
 */
import { runSubgraphFromEnv } from '../shared/env.js';

await runSubgraphFromEnv('insurance');
