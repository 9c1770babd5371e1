/**
 * A population subgraph that requires the gateway's signature (`gatewayKey`), over a stub
 * registry, logging at `info` to `logStream`: for the tests of a subgraph's side of the
 * trust boundary. `close()` stops the subgraph, then the registry.
 */
import type { Writable } from 'node:stream';
import { startStubRegistry, type StubRegistry } from '../../mocks/fixtures/stub-registry.js';
import { startSubgraph } from '../../subgraphs/index.js';

export interface SignedSubgraph {
  registry: StubRegistry;
  sub: Awaited<ReturnType<typeof startSubgraph>>;
  close(): Promise<void>;
}

export async function startSignedSubgraph(gatewayKey: Buffer, logStream: Writable): Promise<SignedSubgraph> {
  const registry = await startStubRegistry('population', { apiKey: 'test-registry-key' });
  try {
    const sub = await startSubgraph('population', { host: '127.0.0.1', port: 0, registryUrl: registry.url, apiKey: 'test-registry-key', gatewayKey, logLevel: 'info', logStream });
    return {
      registry,
      sub,
      close: async () => {
        await sub.close();
        await registry.close();
      },
    };
  } catch (err) {
    await registry.close();
    throw err;
  }
}
