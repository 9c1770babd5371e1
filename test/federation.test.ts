/**
 * The whole stack: mock registries → four subgraphs → gateway. A citizen query
 * returns data from the four registries equal to the generated world; unknown
 * and malformed ids behave as documented; a registry or subgraph that is down
 * or hangs gives a partial result naming it (HTTP 200, never a 500 or a hang).
 */
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import type { ApolloServerPlugin } from '@apollo/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findFullProfileCitizen, indexWorld } from '../mocks/world/generate.js';
import type { CitizenRecord } from '../mocks/world/types.js';
import type { MotlanContext, RequestTrace } from '../gateway/core/context.js';
import { startStack, type Stack } from './support/stack.js';

const CITIZEN_QUERY = /* GraphQL */ `
  query FourRegistries($id: ID!) {
    citizen(personalId: $id) {
      personalId
      fullName
      gender
      dateOfBirth
      permanentResidence { provinceCode province communeCode commune detail }
      enterprises { role enterprise { enterpriseCode name status } }
      socialInsurance { socialInsuranceNumber status totalContributionMonths periods { from to employerName salary } }
      healthInsuranceCard { cardNumber beneficiaryGroup validFrom validTo }
      landParcels { parcelId area landUseCode certificate { serial } }
    }
  }
`;

interface CitizenResult {
  citizen: null | {
    personalId: string;
    fullName: string;
    gender: string;
    dateOfBirth: string;
    permanentResidence: { provinceCode: string; province: string; communeCode: string; commune: string; detail: string | null } | null;
    enterprises: Array<{ role: string; enterprise: { enterpriseCode: string; name: string; status: string } }> | null;
    socialInsurance: null | { socialInsuranceNumber: string; status: string; totalContributionMonths: number; periods: Array<{ from: string; to: string | null; employerName: string; salary: number }> };
    healthInsuranceCard: null | { cardNumber: string; beneficiaryGroup: string; validFrom: string; validTo: string };
    landParcels: Array<{ parcelId: string; area: number; landUseCode: string; certificate: { serial: string } | null }> | null;
  };
}

/** Traces of the requests the gateway served, captured the way the audit trail reads them. */
const traces: RequestTrace[] = [];
const traceCapture: ApolloServerPlugin<MotlanContext> = {
  async requestDidStart() {
    return {
      async willSendResponse({ contextValue }) {
        traces.push(contextValue.trace);
      },
    };
  },
};

let stack: Stack;
let citizen: CitizenRecord;
/** A URL nothing listens on (a port just freed), so connections are refused. */
let deadUrl: string;

async function freedPortUrl(): Promise<string> {
  const srv = createNetServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as AddressInfo;
  await new Promise((resolve) => srv.close(resolve));
  return `http://127.0.0.1:${port}/graphql`;
}

beforeAll(async () => {
  stack = await startStack({ citizens: 400, gateway: { extraPlugins: [traceCapture] } });
  citizen = findFullProfileCitizen(stack.world);
  deadUrl = await freedPortUrl();
});

afterAll(async () => {
  await stack?.close();
});

const byString = <T>(key: (t: T) => string) => (a: T, b: T) => key(a).localeCompare(key(b));

describe('the four-registry citizen query', () => {
  it('returns identity, residence, enterprises, insurance and land equal to the registries', async () => {
    const { status, body } = await stack.query<CitizenResult>({ query: CITIZEN_QUERY, variables: { id: citizen.personalId } });
    expect(body.errors).toBeUndefined();
    expect(status).toBe(200);
    const got = body.data!.citizen!;
    const ix = indexWorld(stack.world);

    // population
    expect(got).toMatchObject({ personalId: citizen.personalId, fullName: citizen.fullName, gender: citizen.gender, dateOfBirth: citizen.dateOfBirth });
    const res = citizen.permanentResidence!;
    expect(got.permanentResidence).toEqual({ provinceCode: res.provinceCode, province: res.province, communeCode: res.communeCode, commune: res.commune, detail: res.detail });

    // enterprise
    const roles = ix.rolesByPerson.get(citizen.personalId)!.roles;
    expect(roles.length).toBeGreaterThan(0);
    const expectedRoles = roles.map((r) => {
      const e = ix.enterprises.get(r.enterpriseCode)!;
      return { role: r.role, enterprise: { enterpriseCode: e.enterpriseCode, name: e.name, status: e.status } };
    });
    const key = (r: { role: string; enterprise: { enterpriseCode: string } }) => `${r.enterprise.enterpriseCode}/${r.role}`;
    expect([...got.enterprises!].sort(byString(key))).toEqual(expectedRoles.sort(byString(key)));

    // insurance
    const si = ix.socialInsurance.get(citizen.personalId)!;
    expect(got.socialInsurance).toEqual({
      socialInsuranceNumber: si.socialInsuranceNumber,
      status: si.status,
      totalContributionMonths: si.totalContributionMonths,
      periods: si.periods.map((p) => ({ from: p.from, to: p.to, employerName: p.employerName, salary: p.salary })),
    });
    const card = ix.healthInsurance.get(citizen.personalId)!;
    expect(got.healthInsuranceCard).toEqual({ cardNumber: card.cardNumber, beneficiaryGroup: card.beneficiaryGroup, validFrom: card.validFrom, validTo: card.validTo });

    // land
    const parcelIds = ix.parcelsByHolder.get(citizen.personalId)!.parcelIds;
    const expectedParcels = parcelIds.map((id) => {
      const p = ix.parcels.get(id)!;
      return { parcelId: p.parcelId, area: p.area, landUseCode: p.landUseCode, certificate: p.certificate ? { serial: p.certificate.serial } : null };
    });
    expect([...got.landParcels!].sort(byString((p) => p.parcelId))).toEqual(expectedParcels.sort(byString((p) => p.parcelId)));
  });

  it('records in the trace the four registries and the entities each returned', async () => {
    traces.length = 0;
    await stack.query({ query: CITIZEN_QUERY, variables: { id: citizen.personalId } });
    const trace = traces.at(-1)!;
    expect([...trace.registries].sort()).toEqual(['enterprise', 'insurance', 'land', 'population']);
    expect(trace.unavailableRegistries.size).toBe(0);
    expect(trace.entities.population).toBe(1);
    // One Citizen entity resolved by each extending registry, plus the entities it nests.
    for (const r of ['enterprise', 'insurance', 'land']) expect(trace.entities[r]).toBeGreaterThanOrEqual(1);
    expect(trace.fields).toContain('Citizen.fullName');
    expect(trace.fields).toContain('Citizen.landParcels');
    expect(trace.fields).toContain('LandParcel.parcelId');
    for (const r of Object.keys(trace.subgraphMs)) expect(trace.subgraphMs[r]).toBeGreaterThanOrEqual(0);
  });

  it('answers null for a well-formed id the registry does not know', async () => {
    const ix = indexWorld(stack.world);
    let unknown = `${citizen.personalId.slice(0, 6)}999999`;
    for (let n = 999_998; ix.citizens.has(unknown); n--) unknown = `${citizen.personalId.slice(0, 6)}${n}`;
    const { status, body } = await stack.query({ query: '{ citizen(personalId: "' + unknown + '") { fullName } }' });
    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();
    expect(body.data).toEqual({ citizen: null });
  });

  it('refuses a malformed id with BAD_USER_INPUT naming the format', async () => {
    const { body } = await stack.query({ query: '{ citizen(personalId: "12345") { fullName } }' });
    expect(body.data?.citizen ?? null).toBeNull();
    const err = body.errors?.[0];
    expect(err?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(err?.message).toMatch(/12 digits/);
  });
});

describe('a registry that is down', () => {
  it('gives the other registries\u2019 data and an error naming the unavailable one (HTTP 200)', async () => {
    stack.setFaults('insurance', { outage: true });
    try {
      traces.length = 0;
      const { status, body } = await stack.query<CitizenResult>({ query: CITIZEN_QUERY, variables: { id: citizen.personalId } });
      expect(status).toBe(200);
      expect(body.data?.citizen?.fullName).toBe(citizen.fullName);
      expect(body.data?.citizen?.landParcels?.length).toBeGreaterThan(0);
      expect(body.data?.citizen?.socialInsurance).toBeNull();
      const errors = body.errors ?? [];
      expect(errors.length).toBeGreaterThan(0);
      for (const e of errors) {
        expect(e.extensions?.code).toBe('REGISTRY_UNAVAILABLE');
        expect(e.extensions?.registry).toBe('insurance');
        expect(e.message).toMatch(/insurance/);
      }
      expect([...traces.at(-1)!.unavailableRegistries]).toEqual(['insurance']);
    } finally {
      stack.setFaults('insurance', { outage: false });
    }
    const again = await stack.query<CitizenResult>({ query: CITIZEN_QUERY, variables: { id: citizen.personalId } });
    expect(again.body.errors).toBeUndefined();
    expect(again.body.data?.citizen?.socialInsurance).not.toBeNull();
  });
});

describe('a subgraph that is down or hangs', () => {
  let hanging: Server;
  let hangingUrl: string;

  beforeAll(async () => {
    // Accepts connections and never answers: the gateway's timeout must cut it.
    hanging = createServer(() => undefined);
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
    hangingUrl = `http://127.0.0.1:${(hanging.address() as AddressInfo).port}/graphql`;
  });
  afterAll(async () => {
    hanging.closeAllConnections();
    await new Promise((resolve) => hanging.close(resolve));
  });

  it.each([
    ['refuses connections', () => deadUrl, /insurance registry .* is unavailable: connection refused/],
    ['never answers', () => hangingUrl, /insurance registry .* is unavailable: timeout after 500 ms/],
  ])('is named in a REGISTRY_UNAVAILABLE error when it %s', async (_what, url, message) => {
    const gw = await stack.startGateway({ subgraphTimeoutMs: 500, subgraphUrls: { insurance: url() } });
    try {
      const res = await fetch(gw.graphqlUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${stack.demoKey}` },
        body: JSON.stringify({ query: CITIZEN_QUERY, variables: { id: citizen.personalId } }),
      });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { data: CitizenResult; errors: Array<{ message: string; extensions: Record<string, unknown> }> };
      expect(body.data.citizen?.fullName).toBe(citizen.fullName);
      expect(body.data.citizen?.enterprises?.length).toBeGreaterThan(0);
      expect(body.data.citizen?.healthInsuranceCard).toBeNull();
      expect(body.errors[0]?.extensions).toMatchObject({ code: 'REGISTRY_UNAVAILABLE', registry: 'insurance' });
      expect(body.errors[0]?.message).toMatch(message);
      expect(body.errors[0]?.message).not.toMatch(/127\.0\.0\.1|http:/);
    } finally {
      await gw.close();
    }
  });
});

describe('health and readiness', () => {
  it('/health answers without a key and /ready checks every subgraph', async () => {
    const health = await fetch(`${stack.gatewayUrl}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok' });

    const ready = await fetch(`${stack.gatewayUrl}/ready`);
    const body = (await ready.json()) as { status: string; checks: Record<string, string> };
    expect(ready.status, JSON.stringify(body)).toBe(200);
    for (const r of ['population', 'enterprise', 'insurance', 'land']) expect(body.checks[`subgraph:${r}`]).toBe('ok');
  });

  it('/ready is 503 naming a subgraph that does not answer', async () => {
    const gw = await stack.startGateway({ subgraphUrls: { land: deadUrl } });
    try {
      const ready = await fetch(`${gw.url}/ready`);
      expect(ready.status).toBe(503);
      const body = (await ready.json()) as { notReady: string[] };
      expect(body.notReady).toContain('subgraph land: connection refused');
      expect(body.notReady.join(' ')).not.toMatch(/population|enterprise|insurance/);
    } finally {
      await gw.close();
    }
  });
});
