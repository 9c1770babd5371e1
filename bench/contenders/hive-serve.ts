/**
 * Serves a Hive Gateway runtime over the bench's supergraph on 127.0.0.1 (contenders d and d2).
 * Env: BENCH_SUPERGRAPH (file), PORT.
 */
import '../../lib/no-egress.js';
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { createGatewayRuntime } from '@graphql-hive/gateway-runtime';

/** `extra`: what the contender adds to the runtime's options (d2: the Rust query planner). */
export function serveHiveGateway(extra: Partial<Parameters<typeof createGatewayRuntime>[0]>, defaultPort: number): void {
  const supergraph = readFileSync(process.env.BENCH_SUPERGRAPH ?? 'schema/supergraph.graphql', 'utf8');
  const gateway = createGatewayRuntime({
    supergraph,
    ...extra,
    logging: false,
    // No egress: GraphiQL would load its page from a CDN; no landing page; no reporting (none configured).
    graphiql: false,
    landingPage: false,
  } as Parameters<typeof createGatewayRuntime>[0]);
  const server = createServer(gateway);
  const port = Number(process.env.PORT ?? defaultPort);
  server.keepAliveTimeout = 30_000;
  server.listen(port, '127.0.0.1', () => process.stdout.write(`ready http://127.0.0.1:${port}/graphql\n`));
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}
