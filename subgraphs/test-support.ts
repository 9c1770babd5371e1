/**
 * Test support: one subgraph in-process on a free port in front of a counting stub
 * registry serving the fixtures, and a tiny GraphQL client.
 */
import { startStubRegistry, type StubRegistry } from '../mocks/fixtures/stub-registry.js';
import type { RegistryName } from '../lib/registries.js';
import { randomBytes } from 'node:crypto';
import { newSubgraphRequestId, pathOf, signatureHeaders } from '../lib/subgraph-signature.js';
import { startSubgraph, type StartSubgraphOptions } from './index.js';

export interface SubgraphUnderTest {
  url: string;
  /** The key `query` signs with, as the gateway would. */
  gatewayKey: Buffer;
  registry: StubRegistry;
  query<T = Record<string, unknown>>(query: string, variables?: Record<string, unknown>): Promise<GraphQLResponse<T>>;
  close(): Promise<void>;
}

export interface GraphQLResponse<T> {
  status: number;
  data?: T | null;
  errors?: Array<{ message: string; path?: Array<string | number>; extensions?: Record<string, unknown> }>;
}

export async function startSubgraphWithStub(
  name: RegistryName,
  opts: Partial<Omit<StartSubgraphOptions, 'registryUrl' | 'apiKey'>> = {},
): Promise<SubgraphUnderTest> {
  const gatewayKey = opts.gatewayKey ?? randomBytes(32);
  const registry = await startStubRegistry(name, { apiKey: 'test-registry-key' });
  const sub = await startSubgraph(name, {
    host: '127.0.0.1',
    port: 0,
    registryUrl: registry.url,
    apiKey: 'test-registry-key',
    // A deadline no stub answer misses on a loaded machine; deadline tests pass their own.
    timeoutMs: 30_000,
    today: () => '2025-09-01',
    ...opts,
    gatewayKey,
  });
  return {
    url: sub.url,
    gatewayKey,
    registry,
    async query<T>(query: string, variables?: Record<string, unknown>): Promise<GraphQLResponse<T>> {
      const body = JSON.stringify({ query, variables });
      const res = await fetch(sub.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...signatureHeaders({ key: gatewayKey, subgraph: name, method: 'POST', path: pathOf(sub.url), body, timestamp: Date.now(), requestId: newSubgraphRequestId() }),
        },
        body,
      });
      return { status: res.status, ...((await res.json()) as Omit<GraphQLResponse<T>, 'status'>) };
    },
    async close() {
      await sub.close();
      await registry.close();
    },
  };
}

/** `_entities` for representations of one entity type, selecting `selection` on it. */
export function entitiesQuery(typename: string, selection: string): string {
  return `query($representations: [_Any!]!) { _entities(representations: $representations) { ... on ${typename} { ${selection} } } }`;
}
