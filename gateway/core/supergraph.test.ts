/**
 * Hot reload of the supergraph file: a new field is served without a restart;
 * an invalid file is refused and the previous supergraph keeps serving.
 * Uses a tiny in-gateway subgraph so no other process is needed.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { composeServices } from '@apollo/composition';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type RunningGateway } from '../app.js';
import { ClientRegistry } from '../auth/clients.js';
import { REPO_ROOT } from '../../lib/repo-root.js';
import type { MotlanContext } from './context.js';
import { checkSupergraphSyntax } from './supergraph.js';
import { subgraphsOfSupergraph } from './supergraph-subgraphs.js';

const DEMO_FILE = path.join(REPO_ROOT, 'mocks/clients.demo.json');
const demoKey = ClientRegistry.load({ clientsFile: '/nonexistent', demoClientsFile: DEMO_FILE, production: false })
  .demoCredentials()
  .find((c) => c.roles.includes('client'))!.key;

// The subgraph implements both fields; the supergraph decides which are exposed.
const fullSdl = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
  type Query { greeting: String! whoami: String! farewell: String! }
`;
const resolvers = {
  Query: {
    greeting: () => 'xin chào',
    farewell: () => 'tạm biệt',
    // In-gateway subgraphs get the request's MotlanContext (LocalGraphQLDataSource passes it through).
    whoami: (_parent: unknown, _args: unknown, ctx: unknown) => `${(ctx as MotlanContext).client?.id} ${(ctx as MotlanContext).requestId}`,
  },
};

function supergraphOf(sdl: string): string {
  const result = composeServices([{ name: 'hello', url: 'http://unused.invalid/graphql', typeDefs: parse(sdl) }]);
  if (result.errors) throw new Error(result.errors.map((e) => e.message).join('\n'));
  return result.supergraphSdl;
}
const v1 = supergraphOf(fullSdl.replace(' farewell: String!', ''));
const v2 = supergraphOf(fullSdl);

let dir: string;
let file: string;
let gw: RunningGateway;

async function gql(query: string, headers: Record<string, string> = {}): Promise<{ status: number; body: { data?: Record<string, unknown> | null; errors?: Array<{ message: string; extensions?: { code?: string } }> } }> {
  const res = await fetch(gw.graphqlUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${demoKey}`, ...headers },
    body: JSON.stringify({ query }),
  });
  return { status: res.status, body: (await res.json()) as never };
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'motlan-supergraph-'));
  file = path.join(dir, 'supergraph.graphql');
  writeFileSync(file, v1);
  // No clients of its own: the demo clients serve (a clients file that was named must exist).
  writeFileSync(path.join(dir, 'clients.json'), JSON.stringify({ clients: [] }));
  gw = await startGateway({
    port: 0,
    host: '127.0.0.1',
    supergraphFile: file,
    clientsFile: path.join(dir, 'clients.json'),
    demoClientsFile: DEMO_FILE,
    logLevel: 'silent',
    coreOnly: true,
    localSubgraphs: { hello: buildSubgraphSchema({ typeDefs: parse(fullSdl), resolvers }) },
  });
});

afterAll(async () => {
  await gw?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('supergraph file', () => {
  it('serves the fields of the file it started with', async () => {
    const ok = await gql('{ greeting }');
    expect(ok.body.data).toEqual({ greeting: 'xin chào' });
    const missing = await gql('{ farewell }');
    expect(missing.body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });

  it('runs local subgraphs with the request context', async () => {
    // The request id is the gateway's own (a caller's X-Request-Id never becomes it).
    const res = await gql('{ whoami }', { 'x-request-id': 'req-local-1' });
    expect(res.body.data?.whoami).toMatch(/^demo-hanoi [0-9a-f-]{36}$/);
  });

  it('serves a new field after the file changes, without a restart', async () => {
    writeFileSync(file, v2);
    await expect.poll(async () => (await gql('{ farewell }')).body.data, { timeout: 10_000, interval: 100 }).toEqual({ farewell: 'tạm biệt' });
    expect(gw.supergraph.lastError()).toBeNull();
  });

  it('keeps serving the previous supergraph when the new file is invalid', async () => {
    const servedId = gw.supergraph.id();
    writeFileSync(file, v2.replace('type Query', 'type Query {{ broken'));
    await expect.poll(() => gw.supergraph.lastError(), { timeout: 10_000, interval: 50 }).toMatch(/not valid GraphQL/);
    expect(gw.supergraph.id()).toBe(servedId);
    expect((await gql('{ greeting farewell }')).body.data).toEqual({ greeting: 'xin chào', farewell: 'tạm biệt' });

    // Valid syntax but not a supergraph the gateway accepts (join__graph of an unknown subgraph).
    writeFileSync(file, v2.replace('@join__type(graph: HELLO)', '@join__type(graph: NOWHERE)'));
    await expect.poll(() => gw.supergraph.lastError(), { timeout: 10_000, interval: 50 }).toMatch(/not a valid supergraph/);
    expect((await gql('{ farewell }')).body.data).toEqual({ farewell: 'tạm biệt' });
    const ready = await fetch(`${gw.url}/ready`);
    expect(ready.status).toBe(200);
    expect(((await ready.json()) as { checks: Record<string, string> }).checks.supergraph).toMatch(/previous version/);
  });
});

describe('supergraph helpers', () => {
  it('lists subgraphs with URL overrides applied', () => {
    expect(subgraphsOfSupergraph(v1)).toEqual([{ name: 'hello', url: 'http://unused.invalid/graphql' }]);
    expect(subgraphsOfSupergraph(v1, { hello: 'http://127.0.0.1:9/graphql' })).toEqual([{ name: 'hello', url: 'http://127.0.0.1:9/graphql' }]);
  });

  it('says why a file is not a supergraph', () => {
    expect(checkSupergraphSyntax(v1, 'x.graphql')).toBeNull();
    expect(checkSupergraphSyntax('type Query { a: Int }', 'x.graphql')).toMatch(/not a composed supergraph.*npm run compose/);
    expect(checkSupergraphSyntax('type {', 'x.graphql')).toMatch(/x.graphql is not valid GraphQL/);
  });
});
