/**
 * Contender (c): a plain `@apollo/gateway` over the same supergraph and subgraphs,
 * as a team would run it out of the box (standalone server, no auth, no audit).
 * Env: BENCH_SUPERGRAPH (file), PORT.
 */
// First: no telemetry from @apollo/gateway (it would probe cloud-metadata addresses).
import '../../lib/no-egress.js';
import { readFileSync } from 'node:fs';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { ApolloGateway } from '@apollo/gateway';
import {
  ApolloServerPluginLandingPageDisabled,
  ApolloServerPluginSchemaReportingDisabled,
  ApolloServerPluginUsageReportingDisabled,
} from '@apollo/server/plugin/disabled';

const supergraphSdl = readFileSync(process.env.BENCH_SUPERGRAPH ?? 'schema/supergraph.graphql', 'utf8');
// Out of the box, except what would leave the machine (Apollo's CDN landing page, reporting).
const server = new ApolloServer({
  gateway: new ApolloGateway({ supergraphSdl }),
  plugins: [ApolloServerPluginLandingPageDisabled(), ApolloServerPluginUsageReportingDisabled(), ApolloServerPluginSchemaReportingDisabled()],
});
const { url } = await startStandaloneServer(server, {
  listen: { port: Number(process.env.PORT ?? 4200), host: '127.0.0.1' },
});
process.stdout.write(`ready ${url}\n`);
process.on('SIGTERM', () => void server.stop().then(() => process.exit(0)));
