/**
 * Runs the enterprise subgraph alone: `npx tsx subgraphs/enterprise/main.ts` (or `npm run subgraph -- enterprise`).
 * Environment: PORT, HOST, REGISTRY_URL, REGISTRY_API_KEY, REGISTRY_TIMEOUT_MS (see subgraphs/shared/env.ts).
 */
import { runSubgraphFromEnv } from '../shared/env.js';

await runSubgraphFromEnv('enterprise');
