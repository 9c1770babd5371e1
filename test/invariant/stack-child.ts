/**
 * The whole stack (test/helpers/stack.ts) plus the mock e-ID issuer, in a child process
 * of the invariant test, so that the gateway and the test's generator and oracle each
 * get a core: ten thousand requests must fit in CI time on a loaded 2-core machine.
 *
 * Started by stack-process.ts with one JSON argument (the stack's gateway options,
 * without the subject-token settings, which are wired here); answers over IPC with the
 * URLs, the API schema as SDL and the generated world; exits on "close" or when the
 * parent goes away.
 */
import { printSchema } from 'graphql';
import { startEidIssuer } from '../../mocks/eid/issuer.js';
import { startStack } from '../support/stack.js';

const config = JSON.parse(process.argv[2] ?? '{}') as { citizens?: number; gateway?: Record<string, unknown> };
const eid = await startEidIssuer({ port: 0 });
const stack = await startStack({
  citizens: config.citizens ?? 300,
  gateway: { ...config.gateway, policy: { subjectTokens: { jwksUrl: eid.jwksUrl } } },
});

const close = async () => {
  await stack.close().catch(() => undefined);
  await eid.close().catch(() => undefined);
  process.exit(0);
};
process.on('message', (m) => {
  if (m === 'close') void close();
  // CPU time spent so far (the test reports where its time goes).
  if (m === 'cpu') process.send!({ cpu: process.cpuUsage() });
});
process.on('disconnect', () => void close());

process.send!({
  ready: true,
  gatewayUrl: stack.gatewayUrl,
  graphqlUrl: stack.graphqlUrl,
  eidUrl: eid.url,
  apiSchema: printSchema(stack.gateway.supergraph.apiSchema()!),
  world: stack.world,
});
