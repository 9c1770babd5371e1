/**
 * The whole stack as the security tests start it: a 300-citizen world, a gateway that knows
 * only the clients of `clients` (no demo clients) over a supergraph that is not watched.
 * `gateway` adds to or overrides those options (rate limits, policy, audit, limits…).
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startGateway, type GatewayOptions, type RunningGateway } from '../../gateway/app.js';
import type { ClientsFixture } from './security-fixtures.js';
import { startStack, type Stack } from './stack.js';

/** Rate limits far above what a test sends: they never refuse a request unless a test lowers one. */
export const GENEROUS_RATE_LIMIT = { ratePerSecond: 100_000, burst: 100_000, unknownLookups: 100_000, redisUrl: undefined };

/**
 * Gateway options for tests whose clients come from `clients` and whose subject tokens from a
 * local e-ID issuer: no demo clients, no watching, rate limits out of the way.
 */
export function clientGatewayOptions(clients: ClientsFixture, eidJwksUrl: string) {
  return {
    clientsFile: clients.file,
    demoClientsFile: false as const,
    watchSupergraph: false,
    rateLimit: GENEROUS_RATE_LIMIT,
    policy: { subjectTokens: { jwksUrl: eidJwksUrl } },
  };
}

export function startStackForClients(clients: ClientsFixture, gateway: Partial<GatewayOptions> = {}): Promise<Stack> {
  return startStack({
    citizens: 300,
    gateway: { clientsFile: clients.file, demoClientsFile: false, watchSupergraph: false, ...gateway },
  });
}

export interface ProductionGateway {
  gateway: RunningGateway;
  /** Stops the gateway and removes its audit folder. */
  close(): Promise<void>;
}

/**
 * A second gateway, in production mode, over `stack`'s subgraphs: only the clients of `clients`,
 * no sandbox, and real audit keys in a temporary folder (production refuses development keys)
 * and the subgraphs' signing keys (production refuses to start without them).
 * `gateway` adds to or overrides those options.
 */
export async function startProductionGateway(stack: Stack, clients: ClientsFixture, gateway: Partial<GatewayOptions> = {}): Promise<ProductionGateway> {
  const auditDir = mkdtempSync(path.join(tmpdir(), 'motlan-production-audit-'));
  const removeDir = () => rmSync(auditDir, { recursive: true, force: true });
  try {
    const signingKeyPath = path.join(auditDir, 'signing.pem');
    writeFileSync(signingKeyPath, generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, { mode: 0o600 });
    const prod = await startGateway({
      production: true,
      audit: { dataDir: auditDir, signingKeyPath, hmacKey: randomBytes(32).toString('hex') },
      port: 0,
      host: '127.0.0.1',
      logLevel: 'silent',
      watchSupergraph: false,
      sandbox: false,
      clientsFile: clients.file,
      demoClientsFile: false,
      subgraphUrls: Object.fromEntries(Object.entries(stack.subgraphs).map(([n, sg]) => [n, sg.url])),
      subgraphSigningKeys: stack.subgraphSigningKeys,
      ...gateway,
    });
    return {
      gateway: prod,
      close: async () => {
        await prod.close();
        removeDir();
      },
    };
  } catch (err) {
    removeDir();
    throw err;
  }
}
