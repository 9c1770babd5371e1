/**
 * Runs the gateway alone, configured from the environment (see GatewayOptions in
 * gateway/options.ts: PORT, HOST, SUPERGRAPH_FILE, CLIENTS_FILE, NODE_ENV,
 * SUBGRAPH_TIMEOUT_MS, INSTANCE_ID, LOG_LEVEL). Subgraph URLs come from the
 * supergraph file. `npm start` (scripts/start.ts) runs the whole stack instead.
 *
 *   tsx gateway/main.ts
 */
import '../lib/no-egress.js';
import { badPortMessage } from '../lib/bad-ports.js';
import { EnvReader } from '../lib/env-options.js';

/** Give in-flight requests this long to finish on SIGINT/SIGTERM before exiting anyway. */
const SHUTDOWN_GRACE_MS = 10_000;

async function main(): Promise<void> {
  // Checked before the gateway's modules load (seconds): a refused port is an error at once.
  const port = new EnvReader().int('PORT', { max: 65535 });
  const bad = port === undefined ? null : badPortMessage(port, `PORT=${port} (the gateway)`);
  if (bad) throw new Error(bad);
  const { startGateway } = await import('./app.js');
  const gw = await startGateway();
  gw.app.log.info(`Motlan gateway ready at ${gw.graphqlUrl} (health: ${gw.url}/health, ready: ${gw.url}/ready)`);
  const demo = gw.clients.demoCredentials();
  if (demo.length > 0) {
    const lines = demo.map((d) => `  ${d.clientId.padEnd(16)} ${d.roles.join(',').padEnd(17)} Authorization: Bearer ${d.key}`);
    process.stdout.write(`\nDEMO credentials (mocked setup only, refused in production):\n${lines.join('\n')}\n\n`);
  }

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    gw.app.log.info(`${signal} received: draining requests and stopping`);
    const force = setTimeout(() => {
      gw.app.log.error(`Still busy after ${SHUTDOWN_GRACE_MS} ms: exiting anyway`);
      process.exit(1);
    }, SHUTDOWN_GRACE_MS);
    force.unref();
    gw.close().then(
      () => process.exit(0),
      (err: unknown) => {
        gw.app.log.error({ err }, 'Shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err: unknown) => {
  process.stderr.write(`Motlan gateway failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
