/**
 * The whole stack as the security tests start it: a 300-citizen world, a gateway that knows
 * only the clients of `clients` (no demo clients) over a supergraph that is not watched.
 * `gateway` adds to or overrides those options (rate limits, policy, audit, limits…).
 */
import type { GatewayOptions } from '../../gateway/app.js';
import type { ClientsFixture } from './security-fixtures.js';
import { startStack, type Stack } from './stack.js';

/** Rate limits far above what a test sends: they never refuse a request unless a test lowers one. */
export const GENEROUS_RATE_LIMIT = { ratePerSecond: 100_000, burst: 100_000, unknownLookups: 100_000, redisUrl: undefined };

export function startStackForClients(clients: ClientsFixture, gateway: Partial<GatewayOptions> = {}): Promise<Stack> {
  return startStack({
    citizens: 300,
    gateway: { clientsFile: clients.file, demoClientsFile: false, watchSupergraph: false, ...gateway },
  });
}
