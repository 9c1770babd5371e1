/**
 * The gateway process the crash test kills (test/audit-crash.test.ts): the whole
 * stack in one process, the audit trail in CRASH_DATA_DIR. Prints one JSON line
 * (URL, a client key, citizens to ask about) when ready; closes cleanly on SIGTERM.
 */
import { QUIET_GATEWAY, startStack } from './support/stack.js';

const dataDir = process.env.CRASH_DATA_DIR;
if (!dataDir) throw new Error('CRASH_DATA_DIR must name the audit data directory.');

const stack = await startStack({
  citizens: 200,
  // No failure throttle: the test checks one record per response, and its bad-key requests would
  // otherwise be answered 429 under a burst summary (test/audit-ops.test.ts covers that).
  gateway: { audit: { dataDir, instanceId: 'crash-gw', checkpointEvery: 25, checkpointIntervalMs: 0, throttle: false }, ...QUIET_GATEWAY },
});
const creds = stack.gateway.clients.demoCredentials();
const client = creds.find((c) => {
  const id = stack.gateway.clients.clients.find((x) => x.id === c.clientId);
  return c.roles.includes('client') && id && !id.requireSubjectToken && !id.permissions.includes('explore');
})!;
process.stdout.write(
  `${JSON.stringify({
    graphqlUrl: stack.graphqlUrl,
    clientKey: client.key,
    personalIds: stack.world.citizens.filter((c) => !c.dateOfDeath).slice(0, 50).map((c) => c.personalId),
  })}\n`,
);
process.on('SIGTERM', () => {
  void stack.close().then(() => process.exit(0));
});
