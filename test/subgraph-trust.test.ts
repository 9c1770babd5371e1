/**
 * The subgraph trust boundary (issue 10, observation 4): a registry's subgraph,
 * reached directly, answers nothing without the gateway's signature — neither a
 * root query nor `_entities` — while the gateway, which signs every fetch and
 * its readiness probes, works; each fetch's id is in the request's trace (and so
 * in the audit record) for a registry owner to reconcile with its own log.
 */
import type { ApolloServerPlugin } from '@apollo/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findFullProfileCitizen } from '../mocks/world/generate.js';
import { REGISTRIES, type CitizenRecord, type RegistryName } from '../mocks/world/types.js';
import type { MotlanContext } from '../gateway/core/context.js';
import { newSubgraphRequestId, pathOf, signatureHeaders } from '../lib/subgraph-signature.js';
import { startSubgraph } from '../subgraphs/index.js';
import { startStack, type Stack } from './support/stack.js';

const subgraphRequestsSeen: string[][] = [];
const capture: ApolloServerPlugin<MotlanContext> = {
  async requestDidStart() {
    return {
      async willSendResponse({ contextValue }) {
        subgraphRequestsSeen.push([...contextValue.trace.subgraphRequests]);
      },
    };
  },
};

let stack: Stack;
let citizen: CitizenRecord;

beforeAll(async () => {
  stack = await startStack({ citizens: 300, gateway: { extraPlugins: [capture] } });
  citizen = findFullProfileCitizen(stack.world);
});
afterAll(async () => {
  await stack?.close();
});

/** A query a subgraph would answer with personal data, per subgraph: its root field where it has one, and `_entities`. */
function directQueries(name: RegistryName, personalId: string): Array<{ query: string; variables?: Record<string, unknown> }> {
  const entities = {
    query: 'query($r: [_Any!]!) { _entities(representations: $r) { ... on Citizen { personalId } } }',
    variables: { r: [{ __typename: 'Citizen', personalId }] },
  };
  return name === 'population' ? [{ query: `{ citizen(personalId: "${personalId}") { personalId fullName dateOfBirth } }` }, entities] : [entities];
}

async function post(url: string, body: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  return { status: res.status, body: (await res.json()) as { data?: unknown; errors?: Array<{ message: string; extensions?: { code?: string; reason?: string } }> } };
}

describe('a subgraph reached directly', () => {
  it('refuses unsigned citizen{…} and _entities with 401 and says why, returning no data', async () => {
    for (const name of REGISTRIES) {
      for (const q of directQueries(name, citizen.personalId)) {
        const { status, body } = await post(stack.subgraphs[name].url, JSON.stringify(q));
        expect({ name, status }).toEqual({ name, status: 401 });
        expect(body.data).toBeUndefined();
        expect(body.errors?.[0]?.extensions).toEqual({ code: 'UNAUTHENTICATED', reason: 'missing' });
        expect(body.errors?.[0]?.message).toMatch(/only the Motlan gateway/);
      }
    }
  });

  it('refuses a request signed with another key, a stale one and a replayed one; accepts a fresh one once', async () => {
    const url = stack.subgraphs.population.url;
    const body = JSON.stringify(directQueries('population', citizen.personalId)[0]);
    const sign = (key: Buffer, timestamp = Date.now(), requestId = newSubgraphRequestId()) =>
      signatureHeaders({ key, subgraph: 'population', method: 'POST', path: pathOf(url), body, timestamp, requestId });

    const otherKey = stack.subgraphKeys.enterprise;
    expect((await post(url, body, sign(otherKey))).body.errors?.[0]?.extensions?.reason).toBe('bad-signature');
    const stale = await post(url, body, sign(stack.subgraphKeys.population, Date.now() - 10 * 60_000));
    expect([stale.status, stale.body.errors?.[0]?.extensions?.reason]).toEqual([401, 'stale']);

    const good = sign(stack.subgraphKeys.population);
    const first = await post(url, body, good);
    expect(first.status).toBe(200);
    expect(first.body.data).toMatchObject({ citizen: { personalId: citizen.personalId } });
    const again = await post(url, body, good);
    expect([again.status, again.body.errors?.[0]?.extensions?.reason, again.body.data]).toEqual([401, 'replayed', undefined]);

    // The signature covers the body: the same headers over another query are refused.
    const tampered = await post(url, body.replace(citizen.personalId, stack.world.citizens[1]!.personalId), sign(stack.subgraphKeys.population));
    expect([tampered.status, tampered.body.errors?.[0]?.extensions?.reason]).toEqual([401, 'bad-signature']);
  });

  it('in production mode too: unsigned refused, signed answered', async () => {
    const key = Buffer.from('p'.repeat(64));
    const prod = await startSubgraph('population', {
      host: '127.0.0.1',
      port: 0,
      registryUrl: stack.registries.urls.population,
      apiKey: 'stack-registry-key',
      production: true,
      logLevel: 'silent',
      gatewayKey: key,
    });
    try {
      for (const q of directQueries('population', citizen.personalId)) {
        const body = JSON.stringify(q);
        const unsigned = await post(prod.url, body);
        expect([unsigned.status, unsigned.body.errors?.[0]?.extensions?.code, unsigned.body.data]).toEqual([401, 'UNAUTHENTICATED', undefined]);
        const signed = await post(prod.url, body, signatureHeaders({ key, subgraph: 'population', method: 'POST', path: pathOf(prod.url), body, timestamp: Date.now(), requestId: newSubgraphRequestId() }));
        expect(signed.status).toBe(200);
        expect(JSON.stringify(signed.body.data)).toContain(citizen.personalId);
      }
    } finally {
      await prod.close();
    }
  });

  it('keeps GET /health open and data-free (liveness only)', async () => {
    const res = await fetch(stack.subgraphs.population.url.replace(/\/graphql$/, '/health'));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok', subgraph: 'population', registry: 'population' });
  });
});

describe('the gateway', () => {
  it('signs every subgraph fetch: the query is answered and each fetch id is in the trace', async () => {
    subgraphRequestsSeen.length = 0;
    const { status, body, headers } = await stack.query({
      query: `query($id: ID!) { citizen(personalId: $id) { fullName socialInsurance { status } landParcels { parcelId } enterprises { role } digitisedResults { all { kind } } } }`,
      variables: { id: citizen.personalId },
    });
    expect(body.errors).toBeUndefined();
    expect(status).toBe(200);
    expect((body.data as { citizen: { fullName: string } }).citizen.fullName).toBe(citizen.fullName);
    const ids = subgraphRequestsSeen.at(-1)!;
    // population answers the root field, the others their entity fetches.
    expect(new Set(ids.map((i) => i.split(':')[1]))).toEqual(new Set(REGISTRIES));
    // `<requestId>:<subgraph>:<random>`: the audit record's requestId finds them in a registry's log.
    const requestId = headers.get('x-request-id')!;
    for (const id of ids) expect(id).toMatch(new RegExp(`^${requestId}:[a-z]+:[0-9a-f]{12}$`));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('is ready: its readiness probes of the subgraphs are signed', async () => {
    const res = await fetch(`${stack.gatewayUrl}/ready`);
    expect(res.status).toBe(200);
  });

  it('with the wrong key for one subgraph: not ready (naming the key), and that registry is unavailable in answers', async () => {
    const wrong = await stack.startGateway({ subgraphSigningKeys: { land: 'x'.repeat(64) } });
    const ready = await fetch(`${wrong.url}/ready`);
    expect(ready.status).toBe(503);
    const report = (await ready.json()) as { notReady: string[] };
    expect(report.notReady).toEqual([expect.stringMatching(/^subgraph land: HTTP 401 .*SUBGRAPH_SIGNING_KEY/)]);

    const res = await fetch(wrong.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${stack.demoKey}` },
      body: JSON.stringify({ query: `{ citizen(personalId: "${citizen.personalId}") { fullName landParcels { parcelId } } }` }),
    });
    const body = (await res.json()) as { data: { citizen: { fullName: string; landParcels: unknown } }; errors: Array<{ extensions: { code: string; registry?: string } }> };
    expect(body.data.citizen.fullName).toBe(citizen.fullName);
    expect(body.data.citizen.landParcels).toBeNull();
    expect(body.errors.map((e) => e.extensions)).toEqual([expect.objectContaining({ code: 'REGISTRY_UNAVAILABLE', registry: 'land' })]);
    await wrong.close();
  });
});
