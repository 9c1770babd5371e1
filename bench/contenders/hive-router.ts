/**
 * Contender (d2): Hive Gateway's runtime with Hive Router's Rust query planner
 * (`@graphql-hive/router-runtime`, a native npm binary) instead of the JavaScript one,
 * over the same supergraph and subgraphs. Otherwise the same as (d), hive-gateway.ts.
 * Env: BENCH_SUPERGRAPH (file), PORT.
 */
import '../../lib/no-egress.js';
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { createGatewayRuntime } from '@graphql-hive/gateway-runtime';
import { unifiedGraphHandler } from '@graphql-hive/router-runtime';

const supergraph = readFileSync(process.env.BENCH_SUPERGRAPH ?? 'schema/supergraph.graphql', 'utf8');
const gateway = createGatewayRuntime({
  supergraph,
  unifiedGraphHandler,
  logging: false,
  // No egress: GraphiQL would load its page from a CDN; no landing page; no reporting (none configured).
  graphiql: false,
  landingPage: false,
});
const server = createServer(gateway);
const port = Number(process.env.PORT ?? 4202);
server.keepAliveTimeout = 30_000;
server.listen(port, '127.0.0.1', () => process.stdout.write(`ready http://127.0.0.1:${port}/graphql\n`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
