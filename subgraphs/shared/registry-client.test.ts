/**
 * The upstream registry client against nock (docs/ARCHITECTURE.md, "Mock registry
 * HTTP API"): lookups, batches, unknown keys, and every failure turned into an
 * error that names the registry instead of a hang or a raw socket error.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeAll, afterAll, describe, expect, it } from 'vitest';
import { nock, nockRegistry } from '../../mocks/fixtures/nock.js';
import { FIXTURE_IDS, fixtureWorld } from '../../mocks/fixtures/index.js';
import type { CitizenRecord } from '../../lib/registry-records.js';
import { RegistryClient, RegistryError } from './registry-client.js';
import { RegistryLoaders } from './loaders.js';

// Loopback origins: nock (msw's interceptors) still opens a real connection to a mocked
// origin, so a made-up host name would be looked up in DNS, which leaves the machine (the
// egress guard of test/support refuses it). Nothing listens on port 9.
const BASE = 'http://127.0.0.1:9';
const KEY = 'test-registry-key';
const an = fixtureWorld.citizens.find((c) => c.personalId === FIXTURE_IDS.an)!;

let client: RegistryClient;
beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
  // A deadline no answer misses on a loaded machine; the deadline test has its own client.
  client = new RegistryClient({ registry: 'population', url: BASE, apiKey: KEY, timeoutMs: 30_000 });
});
afterEach(() => {
  nock.cleanAll();
});
afterAll(() => {
  client.close();
  nock.enableNetConnect();
  nock.restore();
});

async function closedPort(): Promise<number> {
  const srv = http.createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as AddressInfo).port;
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

async function failure(p: Promise<unknown>): Promise<RegistryError> {
  const err = await p.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(RegistryError);
  return err as RegistryError;
}

describe('RegistryClient', () => {
  it('gets one record by key with the service key', async () => {
    nockRegistry('population', BASE, { apiKey: KEY });
    const record = await client.get<CitizenRecord>('citizens', FIXTURE_IDS.an);
    expect(record?.fullName).toBe(an.fullName);
    expect(record?.spouseId).toBe(FIXTURE_IDS.binh);
  });

  it('answers null for an unknown key (404)', async () => {
    nockRegistry('population', BASE, { apiKey: KEY });
    expect(await client.get('citizens', FIXTURE_IDS.unknownPersonalId)).toBeNull();
  });

  it('batches keys in one call, aligned with the keys, null for unknown ones', async () => {
    const keys = [FIXTURE_IDS.chau, FIXTURE_IDS.unknownPersonalId, FIXTURE_IDS.an];
    const byId = new Map(fixtureWorld.citizens.map((c) => [c.personalId, c]));
    const scope = nock(BASE)
      .post('/api/v1/citizens/batch', { keys })
      .matchHeader('x-api-key', KEY)
      .once()
      .reply(200, { items: keys.map((k) => byId.get(k) ?? null) });
    const items = await client.batch<CitizenRecord>('citizens', keys);
    expect(items.map((c) => c?.personalId ?? null)).toEqual([FIXTURE_IDS.chau, null, FIXTURE_IDS.an]);
    expect(scope.isDone()).toBe(true);
  });

  it('splits key lists longer than the batch limit and keeps the order', async () => {
    const small = new RegistryClient({ registry: 'population', url: BASE, apiKey: KEY, maxBatchSize: 2 });
    const sizes: number[] = [];
    nock(BASE)
      .persist()
      .post('/api/v1/citizens/batch')
      .reply(async (req: Request) => {
        const { keys } = (await req.json()) as { keys: string[] };
        sizes.push(keys.length);
        return [200, { items: keys.map((k) => ({ personalId: k })) }];
      });
    const keys = ['001070000001', '001070000002', '001070000003', '001070000004', '001070000005'];
    const items = await small.batch<{ personalId: string }>('citizens', keys);
    small.close();
    expect(items.map((i) => i?.personalId)).toEqual(keys);
    expect(sizes.sort()).toEqual([1, 2, 2]);
  });

  it('names the registry when it answers 503', async () => {
    nock(BASE).get(`/api/v1/citizens/${FIXTURE_IDS.an}`).reply(503, { error: 'outage', message: 'down for maintenance' });
    const err = await failure(client.get('citizens', FIXTURE_IDS.an));
    expect(err.message).toContain('population registry (CSDLQG về dân cư) is unavailable');
    expect(err.message).toContain('503');
    expect(err.registry).toBe('population');
  });

  it('names the registry and the deadline when it answers too late', async () => {
    nock(BASE).post('/api/v1/citizens/batch').delay(3000).reply(200, { items: [null] });
    const hurried = new RegistryClient({ registry: 'population', url: BASE, apiKey: KEY, timeoutMs: 300 });
    try {
      const err = await failure(hurried.batch('citizens', [FIXTURE_IDS.an]));
      expect(err.message).toBe('The population registry (CSDLQG về dân cư) is unavailable: timeout after 300 ms');
    } finally {
      hurried.close();
    }
  });

  it('says the service key was refused (401)', async () => {
    nockRegistry('population', BASE, { apiKey: 'another-key' });
    const err = await failure(client.get('citizens', FIXTURE_IDS.an));
    expect(err.message).toContain('population registry');
    expect(err.message).toContain('REGISTRY_API_KEY');
  });

  it('rejects a response that is not JSON', async () => {
    nock(BASE).get(`/api/v1/citizens/${FIXTURE_IDS.an}`).reply(200, '<html>proxy error</html>');
    const err = await failure(client.get('citizens', FIXTURE_IDS.an));
    expect(err.message).toContain('invalid JSON');
    expect(err.message).toContain('population registry');
  });

  it('rejects a batch answer that does not match the keys', async () => {
    nock(BASE).post('/api/v1/citizens/batch').reply(200, { items: [null] });
    const err = await failure(client.batch('citizens', [FIXTURE_IDS.an, FIXTURE_IDS.binh]));
    expect(err.message).toContain('1 items for 2 keys');
  });

  it('reports a refused connection without the registry URL', async () => {
    // nock 15's replyWithError never reaches node:http, so refuse for real: a port nobody listens on.
    const port = await closedPort();
    const down = new RegistryClient({ registry: 'population', url: `http://127.0.0.1:${port}`, apiKey: KEY });
    const err = await failure(down.get('citizens', FIXTURE_IDS.an));
    down.close();
    expect(err.message).toBe('The population registry (CSDLQG về dân cư) is unavailable: cannot reach it (ECONNREFUSED)');
  });

  it('encodes keys that contain spaces (certificate serials)', async () => {
    const land = new RegistryClient({ registry: 'land', url: 'http://127.0.0.2:9', apiKey: KEY });
    nockRegistry('land', 'http://127.0.0.2:9', { apiKey: KEY });
    const parcel = await land.get<{ parcelId: string }>('parcels-by-certificate', FIXTURE_IDS.homeCertificate);
    land.close();
    expect(parcel?.parcelId).toBe(FIXTURE_IDS.homeParcel);
  });
});

describe('RegistryLoaders', () => {
  it('coalesces the loads of one tick into one batch call per collection', async () => {
    let batches = 0;
    nock(BASE)
      .persist()
      .post('/api/v1/citizens/batch')
      .reply(async (req: Request) => {
        batches++;
        const { keys } = (await req.json()) as { keys: string[] };
        return [200, { items: keys.map((k) => fixtureWorld.citizens.find((c) => c.personalId === k) ?? null) }];
      });
    const loaders = new RegistryLoaders<{ citizens: CitizenRecord }>(client);
    const ids = [FIXTURE_IDS.an, FIXTURE_IDS.binh, FIXTURE_IDS.dung, FIXTURE_IDS.an, FIXTURE_IDS.unknownPersonalId];
    const records = await Promise.all(ids.map((id) => loaders.of('citizens').load(id)));
    expect(batches).toBe(1);
    expect(records.map((r) => r?.personalId ?? null)).toEqual([FIXTURE_IDS.an, FIXTURE_IDS.binh, FIXTURE_IDS.dung, FIXTURE_IDS.an, null]);
  });

  it('turns a registry failure into REGISTRY_UNAVAILABLE naming the registry', async () => {
    nock(BASE).post('/api/v1/citizens/batch').reply(500, { error: 'internal', message: 'boom' });
    const loaders = new RegistryLoaders<{ citizens: CitizenRecord }>(client);
    const results = await Promise.allSettled([FIXTURE_IDS.an, FIXTURE_IDS.binh].map((id) => loaders.of('citizens').load(id)));
    for (const r of results) {
      expect(r.status).toBe('rejected');
      const reason = (r as PromiseRejectedResult).reason as { extensions: Record<string, unknown>; message: string };
      expect(reason.extensions).toMatchObject({ code: 'REGISTRY_UNAVAILABLE', registry: 'population' });
      expect(reason.message).toContain('population registry');
    }
  });
});
