/**
 * Contender (d): Hive Gateway's runtime over the same supergraph and subgraphs.
 * Env: BENCH_SUPERGRAPH (file), PORT.
 */
import '../../lib/no-egress.js';
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { createGatewayRuntime } from '@graphql-hive/gateway-runtime';

const supergraph = readFileSync(process.env.BENCH_SUPERGRAPH ?? 'schema/supergraph.graphql', 'utf8');
const gateway = createGatewayRuntime({
  supergraph,
  logging: false,
  // No egress: GraphiQL would load its page from a CDN; no landing page; no reporting (none configured).
  graphiql: false,
  landingPage: false,
});
const server = createServer(gateway);
const port = Number(process.env.PORT ?? 4201);
server.keepAliveTimeout = 30_000;
server.listen(port, '127.0.0.1', () => process.stdout.write(`ready http://127.0.0.1:${port}/graphql\n`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
