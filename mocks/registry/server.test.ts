import { perRegistry } from '../../lib/registries.js';
import { createServer, request as httpRequest, Agent, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { generateWorld } from '../world/generate.js';
import {
  findCitizenWithoutLand,
  findEnterprise,
  findEnterpriseParcel,
  findFullProfileCitizen,
} from '../world/find.js';
import { indexWorld } from '../world/index-world.js';
import { faultsFromEnv } from './faults.js';
import { startRegistries, type RunningRegistries } from './server.js';

const KEY = 'test-registry-key';
const world = generateWorld({ citizens: 2000 });
const ix = indexWorld(world);
const noEnv = {} as NodeJS.ProcessEnv;
const anyPort = perRegistry(() => 0);

let reg: RunningRegistries;

beforeAll(async () => {
  reg = await startRegistries({ world, apiKey: KEY, ports: anyPort, env: noEnv });
});
afterAll(async () => {
  await reg?.close();
});
beforeEach(() => {
  for (const name of ['population', 'enterprise', 'insurance', 'land'] as const) reg.setFaults(name, { outage: false, errorRate: 0, latencyMs: 0, jitterMs: 0, slowRate: 0 });
  reg.resetStats();
});

async function api(url: string, init: RequestInit & { key?: string | null } = {}): Promise<{ status: number; body: any }> {
  const headers = new Headers(init.headers);
  if (init.key !== null) headers.set('x-api-key', init.key ?? KEY);
  if (init.body !== undefined && !headers.has('content-type')) headers.set('content-type', 'application/json');
  const res = await fetch(url, { ...init, headers });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

const batch = (url: string, keys: unknown, key?: string | null) => api(url, { method: 'POST', body: JSON.stringify({ keys }), key });

describe('mock registries: access', () => {
  it('answers /health without a key', async () => {
    const { status, body } = await api(`${reg.urls.land}/health`, { key: null });
    expect(status).toBe(200);
    expect(body).toEqual({ status: 'ok', registry: 'land' });
  });

  it('refuses API and admin calls without a valid X-API-Key (401 JSON naming the header)', async () => {
    const c = world.citizens[0]!;
    const missing = await api(`${reg.urls.population}/api/v1/citizens/${c.personalId}`, { key: null });
    expect(missing.status).toBe(401);
    expect(missing.body.error).toBe('unauthorized');
    expect(missing.body.message).toMatch(/X-API-Key/);
    expect((await api(`${reg.urls.population}/api/v1/citizens/${c.personalId}`, { key: 'wrong' })).status).toBe(401);
    expect((await api(`${reg.urls.population}/__admin/stats`, { key: null })).status).toBe(401);
    expect((await batch(`${reg.urls.population}/api/v1/citizens/batch`, [c.personalId], 'wrong')).status).toBe(401);
  });

  it('refuses the demo key in production unless REGISTRY_API_KEY is set to something else', async () => {
    await expect(startRegistries({ world, ports: anyPort, env: { NODE_ENV: 'production' } })).rejects.toThrow(/REGISTRY_API_KEY/);
    await expect(startRegistries({ world, ports: anyPort, env: { NODE_ENV: 'production', REGISTRY_API_KEY: 'demo-registry-key' } }))
      .rejects.toThrow(/demo key/);
    const prod = await startRegistries({ world, ports: anyPort, env: { NODE_ENV: 'production', REGISTRY_API_KEY: 'a-real-secret' } });
    try {
      expect(prod.apiKey).toBe('a-real-secret');
      expect((await api(`${prod.urls.population}/api/v1/citizens/${world.citizens[0]!.personalId}`, { key: 'a-real-secret' })).status).toBe(200);
      expect((await api(`${prod.urls.population}/api/v1/citizens/${world.citizens[0]!.personalId}`, { key: 'demo-registry-key' })).status).toBe(401);
    } finally {
      await prod.close();
    }
  });

  it('reports a clear error when a port is taken', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as AddressInfo).port;
    try {
      await expect(startRegistries({ world, apiKey: KEY, env: noEnv, ports: { ...anyPort, insurance: port } }))
        .rejects.toThrow(new RegExp(`insurance mock registry on 127.0.0.1:${port}: the port is already in use.*INSURANCE_REGISTRY_PORT`));
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  it('keeps connections alive between calls', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const url = new URL(`${reg.urls.population}/api/v1/citizens/${world.citizens[0]!.personalId}`);
    const call = () => new Promise<{ reused: boolean; status?: number }>((resolve, reject) => {
      const req = httpRequest(url, { agent, headers: { 'x-api-key': KEY } }, (res) => {
        res.resume();
        res.on('end', () => resolve({ reused: req.reusedSocket, status: res.statusCode }));
      });
      req.on('error', reject);
      req.end();
    });
    try {
      expect(await call()).toEqual({ reused: false, status: 200 });
      expect(await call()).toEqual({ reused: true, status: 200 });
    } finally {
      agent.destroy();
    }
  });
});

describe('mock registries: lookups', () => {
  it('returns a citizen and a household by key, exactly as generated', async () => {
    const c = findFullProfileCitizen(world);
    const got = await api(`${reg.urls.population}/api/v1/citizens/${c.personalId}`);
    expect(got).toEqual({ status: 200, body: JSON.parse(JSON.stringify(c)) });
    const h = await api(`${reg.urls.population}/api/v1/households/${c.householdId}`);
    expect(h.body.members.map((m: { personalId: string }) => m.personalId)).toContain(c.personalId);
  });

  it('serves every collection of the other three registries', async () => {
    const c = findFullProfileCitizen(world);
    const si = ix.socialInsurance.get(c.personalId)!;
    const card = ix.healthInsurance.get(c.personalId)!;
    const e = findEnterprise(world);
    const parcel = findEnterpriseParcel(world);
    expect((await api(`${reg.urls.enterprise}/api/v1/enterprises/${e.enterpriseCode}`)).body.name).toBe(e.name);
    expect((await api(`${reg.urls.enterprise}/api/v1/roles-by-person/${c.personalId}`)).body).toEqual(ix.rolesByPerson.get(c.personalId));
    expect((await api(`${reg.urls.insurance}/api/v1/social-insurance/${c.personalId}`)).body).toEqual(si);
    expect((await api(`${reg.urls.insurance}/api/v1/social-insurance-by-number/${si.socialInsuranceNumber}`)).body.personalId).toBe(c.personalId);
    expect((await api(`${reg.urls.insurance}/api/v1/health-insurance/${c.personalId}`)).body).toEqual(card);
    expect((await api(`${reg.urls.insurance}/api/v1/health-insurance-by-card/${card.cardNumber}`)).body.personalId).toBe(c.personalId);
    expect((await api(`${reg.urls.land}/api/v1/parcels/${parcel.parcelId}`)).body.parcelId).toBe(parcel.parcelId);
    const serial = world.parcels.find((p) => p.certificate)!.certificate!.serial;
    expect((await api(`${reg.urls.land}/api/v1/parcels-by-certificate/${encodeURIComponent(serial)}`)).body.certificate.serial).toBe(serial);
    const holder = parcel.holders[0]!;
    const holderId = holder.kind === 'ENTERPRISE' ? holder.enterpriseCode : holder.personalId;
    expect((await api(`${reg.urls.land}/api/v1/parcels-by-holder/${holderId}`)).body.parcelIds).toContain(parcel.parcelId);
  });

  it('answers empty roles and parcel lists (never 404) for people without any', async () => {
    const landless = findCitizenWithoutLand(world);
    expect((await api(`${reg.urls.land}/api/v1/parcels-by-holder/${landless.personalId}`)).body).toEqual({ holderId: landless.personalId, parcelIds: [] });
    const unknown = '001099999999';
    expect((await api(`${reg.urls.enterprise}/api/v1/roles-by-person/${unknown}`)).body).toEqual({ personalId: unknown, roles: [] });
  });

  it('answers 404 for a well-formed unknown key', async () => {
    const { status, body } = await api(`${reg.urls.population}/api/v1/citizens/001099999999`);
    expect(status).toBe(404);
    expect(body.error).toBe('not_found');
  });

  it('answers 400 naming the format for a malformed key', async () => {
    const bad = await api(`${reg.urls.population}/api/v1/citizens/12345`);
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ error: 'invalid_key', message: expect.stringMatching(/12 digits/) });
    const badCode = await api(`${reg.urls.enterprise}/api/v1/enterprises/0100000001`);
    expect(badCode.status).toBe(400);
    expect(badCode.body.message).toMatch(/check digit/);
  });

  it('never lists a collection and rejects collections of other registries', async () => {
    const list = await api(`${reg.urls.population}/api/v1/citizens`);
    expect(list.status).toBe(404);
    expect(list.body.error).toBe('listing_not_supported');
    const wrong = await api(`${reg.urls.population}/api/v1/parcels/00004-1-1`);
    expect(wrong.status).toBe(404);
    expect(wrong.body.message).toMatch(/citizens, households/);
  });
});

describe('mock registries: batch', () => {
  it('returns items aligned with the keys, null for unknown ones', async () => {
    const [a, b] = world.citizens;
    const { status, body } = await batch(`${reg.urls.population}/api/v1/citizens/batch`, [a!.personalId, '001099999999', b!.personalId, a!.personalId]);
    expect(status).toBe(200);
    expect(body.items).toHaveLength(4);
    expect(body.items[0].personalId).toBe(a!.personalId);
    expect(body.items[1]).toBeNull();
    expect(body.items[2].personalId).toBe(b!.personalId);
    expect(body.items[3].personalId).toBe(a!.personalId);
  });

  it('accepts 500 keys and refuses 501, an empty batch, a malformed key and a malformed body', async () => {
    const keys = world.citizens.slice(0, 501).map((c) => c.personalId);
    expect((await batch(`${reg.urls.population}/api/v1/citizens/batch`, keys.slice(0, 500))).body.items).toHaveLength(500);
    const tooMany = await batch(`${reg.urls.population}/api/v1/citizens/batch`, keys);
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.message).toMatch(/1 to 500/);
    expect((await batch(`${reg.urls.population}/api/v1/citizens/batch`, [])).status).toBe(400);
    const badKey = await batch(`${reg.urls.population}/api/v1/citizens/batch`, [keys[0], 'nope']);
    expect(badKey.status).toBe(400);
    expect(badKey.body.message).toMatch(/keys\[1\].*12 digits/);
    const notJson = await api(`${reg.urls.population}/api/v1/citizens/batch`, { method: 'POST', body: '{"keys": [' });
    expect(notJson).toMatchObject({ status: 400, body: { error: 'invalid_body' } });
    expect((await api(`${reg.urls.population}/api/v1/citizens/batch`, { method: 'POST', body: '{"ids": []}' })).status).toBe(400);
  });

  it('counts one request per batch in /__admin/stats, and resets', async () => {
    const keys = world.citizens.slice(0, 3).map((c) => c.personalId);
    await batch(`${reg.urls.population}/api/v1/citizens/batch`, keys);
    await api(`${reg.urls.population}/api/v1/households/${world.households[0]!.householdId}`);
    const stats = await api(`${reg.urls.population}/__admin/stats`);
    expect(stats.body).toEqual({ requests: { citizens: 1, households: 1 }, batches: 1, keys: { citizens: 3, households: 1 } });
    expect(reg.stats('population')).toEqual(stats.body);
    expect(reg.stats('land').requests.parcels).toBe(0);
    await api(`${reg.urls.population}/__admin/stats`, { method: 'DELETE' });
    expect((await api(`${reg.urls.population}/__admin/stats`)).body.requests.citizens).toBe(0);
  });
});

describe('mock registries: fault injection', () => {
  const citizenUrl = () => `${reg.urls.population}/api/v1/citizens/${world.citizens[0]!.personalId}`;

  it('answers 503 to every call during an outage set by PUT /__admin/faults, then recovers', async () => {
    const put = await api(`${reg.urls.population}/__admin/faults`, { method: 'PUT', body: JSON.stringify({ outage: true }) });
    expect(put.body.outage).toBe(true);
    expect((await api(`${reg.urls.population}/__admin/faults`)).body.outage).toBe(true);
    const down = await api(citizenUrl());
    expect(down.status).toBe(503);
    expect(down.body.error).toBe('unavailable');
    expect(down.body.message).toMatch(/population registry/);
    expect((await batch(`${reg.urls.population}/api/v1/citizens/batch`, [world.citizens[0]!.personalId])).status).toBe(503);
    expect((await api(`${reg.urls.population}/health`, { key: null })).status).toBe(503);
    // Other registries are unaffected.
    expect((await api(`${reg.urls.land}/health`, { key: null })).status).toBe(200);
    await api(`${reg.urls.population}/__admin/faults`, { method: 'PUT', body: JSON.stringify({ outage: false }) });
    expect((await api(citizenUrl())).status).toBe(200);
  });

  it('fails a share of calls with errorRate (setFaults), all of them at 1', async () => {
    reg.setFaults('population', { errorRate: 1 });
    expect((await api(citizenUrl())).status).toBe(503);
    reg.setFaults('population', { errorRate: 0.5 });
    const statuses = await Promise.all(Array.from({ length: 40 }, () => api(citizenUrl()).then((r) => r.status)));
    expect(statuses).toContain(503);
    expect(statuses).toContain(200);
    expect(new Set(statuses)).toEqual(new Set([200, 503]));
  });

  it('makes calls slow enough to hit a client timeout with slowRate', async () => {
    reg.setFaults('population', { slowRate: 1, slowMs: 60_000 });
    await expect(fetch(citizenUrl(), { headers: { 'x-api-key': KEY }, signal: AbortSignal.timeout(300) })).rejects.toThrow();
    reg.setFaults('population', { slowRate: 0 });
    expect((await api(citizenUrl())).status).toBe(200);
  });

  it('refuses invalid fault settings with 400 naming the field', async () => {
    const bad = await api(`${reg.urls.population}/__admin/faults`, { method: 'PUT', body: JSON.stringify({ errorRate: 2 }) });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/errorRate/);
    expect(() => reg.setFaults('population', { latencyMs: -1 })).toThrow(/latencyMs/);
    expect((await api(`${reg.urls.population}/__admin/faults`, { method: 'PUT', body: JSON.stringify({ outrage: true }) })).status).toBe(400);
  });

  it('reads faults from the environment at start', async () => {
    expect(faultsFromEnv({ MOCK_LATENCY_MS: '20', MOCK_ERROR_RATE: '0.1', MOCK_OUTAGE: 'true' })).toEqual({ latencyMs: 20, errorRate: 0.1, outage: true });
    expect(() => faultsFromEnv({ MOCK_ERROR_RATE: 'often' })).toThrow(/MOCK_ERROR_RATE/);
    const flaky = await startRegistries({ world, apiKey: KEY, ports: anyPort, env: { MOCK_ERROR_RATE: '1' } });
    try {
      expect((await api(`${flaky.urls.land}/api/v1/parcels/${world.parcels[0]!.parcelId}`)).status).toBe(503);
      expect(flaky.getFaults('land').errorRate).toBe(1);
    } finally {
      await flaky.close();
    }
  });

  it('closes promptly even while a slow call is pending', async () => {
    const slow = await startRegistries({ world, apiKey: KEY, ports: anyPort, env: noEnv, faults: { slowRate: 1, slowMs: 60_000 } });
    const pending = fetch(`${slow.urls.population}/api/v1/citizens/${world.citizens[0]!.personalId}`, { headers: { 'x-api-key': KEY } })
      .then((r) => r.status, () => 'failed');
    await new Promise((resolve) => setTimeout(resolve, 100));
    await slow.close();
    expect([503, 'failed']).toContain(await pending);
  });
});
