/**
 * What leaves, whole stack: the gateway records every entity the subgraphs returned
 * for a request (from the subgraph answers, whatever the client's aliases, relation
 * checks excepted), and refuses a whole response that would disclose an entity outside
 * the request's subjects and the relations its purpose declares.
 */
import type { ApolloServerPlugin } from '@apollo/server';
import { getNamedType, isObjectType, type GraphQLSchema } from 'graphql';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MotlanContext, RequestTrace } from '../gateway/core/context.js';
import { isInternalExecution } from '../gateway/core/inner-execution.js';
import type { ProcedureService } from '../gateway/procedures/service.js';
import type { PathTree } from '../gateway/procedures/compile.js';
import { findCitizen, findFullProfileCitizen, isAdult } from '../mocks/world/find.js';
import { indexWorld } from '../mocks/world/index-world.js';
import type { CitizenRecord } from '../mocks/world/types.js';
import { postPrefill, worldValues } from './support/prefill-support.js';
import { startStack, type Stack } from './support/stack.js';

/** Client traces by request id (inner executions share them). */
const traces = new Map<string, RequestTrace>();
const traceCapture: ApolloServerPlugin<MotlanContext> = {
  async requestDidStart({ contextValue }) {
    if (contextValue && !isInternalExecution(contextValue)) traces.set(contextValue.requestId, contextValue.trace);
  },
};

/**
 * Test-only: a request with `x-test-subject` has its subject replaced after the purpose
 * policy decided, as a policy bug binding the wrong citizen would. The response check
 * must then find the returned citizen outside the request's subjects. Done at the end of
 * `didResolveOperation` (after the policy's single-subject check, which does no I/O), so
 * before the response cache's lookup too: the swapped request is never another's hit.
 */
const subjectSwap: ApolloServerPlugin<MotlanContext> = {
  async requestDidStart() {
    return {
      async didResolveOperation({ contextValue }) {
        const other = contextValue.headers['x-test-subject'];
        if (typeof other !== 'string' || isInternalExecution(contextValue)) return;
        await new Promise((resolve) => setImmediate(resolve));
        contextValue.subject.personalId = other;
      },
    };
  },
};

let stack: Stack;
let hcmKey: string; // a client without `explore`: checked
let exploreKey: string; // the sandbox's demo client: collected, not checked (development)
let auditorKey: string;
let full: CitizenRecord; // four registries, enterprises and land
let withParents: CitizenRecord;

const traceOf = (headers: Headers): RequestTrace => {
  const id = headers.get('x-request-id') ?? '';
  const t = traces.get(id);
  expect(t, `trace of request ${id}`).toBeDefined();
  return t!;
};
const ids = (t: RequestTrace) => [...t.returnedEntities.keys()].sort();
const purpose = (p: string) => ({ 'x-purpose': p, 'x-dossier-id': 'H01.01-TEST-0001' });

async function refusalsMetric(): Promise<number> {
  const text = await (await fetch(`${stack.gatewayUrl}/metrics`)).text();
  const m = /^motlan_response_refusals_total\{reason="RESPONSE_ENTITY_NOT_ALLOWED"\} (\d+)/m.exec(text);
  expect(m, 'motlan_response_refusals_total is exported').not.toBeNull();
  return Number(m![1]);
}

/**
 * The entities a procedure's compiled operation reaches in the world: every entity-typed
 * node of its path tree, read from the generated world (independent of the gateway).
 */
function expectedEntities(schema: GraphQLSchema, tree: PathTree, roots: Parameters<typeof worldValues>[1]): string[] {
  const keyOf: Record<string, string> = { Citizen: 'personalId', Enterprise: 'enterpriseCode', LandParcel: 'parcelId' };
  const query = schema.getQueryType()!;
  const rootField: Record<string, string> = { citizen: 'citizen', relatedCitizen: 'citizen', enterprise: 'enterprise', parcel: 'landParcel' };
  const out = new Set<string>();
  const walk = (node: PathTree, typeName: string, path: string) => {
    const key = keyOf[typeName];
    if (key) for (const v of worldValues(stack.world, roots, `${path}.${key}`).values) out.add(`${typeName}:${String(v)}`);
    const type = schema.getType(typeName);
    if (!type || !isObjectType(type)) return;
    for (const [name, child] of node.children) {
      const f = type.getFields()[name];
      if (f && child.children.size > 0) walk(child, getNamedType(f.type).name, `${path}.${name}`);
    }
  };
  for (const [root, node] of tree.children) {
    if (!roots[root as keyof typeof roots]) continue;
    walk(node, getNamedType(query.getFields()[rootField[root]!]!.type).name, root);
  }
  return [...out].sort();
}

beforeAll(async () => {
  stack = await startStack({ citizens: 400, gateway: { extraPlugins: [traceCapture, subjectSwap] } });
  const creds = stack.gateway.clients.demoCredentials();
  hcmKey = creds.find((c) => c.clientId === 'demo-hcm')!.key;
  exploreKey = creds.find((c) => c.clientId === 'demo-hanoi')!.key;
  auditorKey = creds.find((c) => c.roles.includes('auditor'))!.key;
  full = findFullProfileCitizen(stack.world);
  withParents = findCitizen(stack.world, (c) => isAdult(stack.world, c) && c.fatherId !== null && c.motherId !== null, 'adult with both parents recorded');
}, 120_000);

afterAll(async () => {
  await stack?.close();
});

describe('entities returned are recorded from the subgraph answers', () => {
  it('a purpose query records exactly the citizen and the father it returned, and passes the check', async () => {
    const r = await stack.query(
      { query: `query Q($id: ID!) { citizen(personalId: $id) { fullName father { fullName dateOfBirth } } }`, variables: { id: withParents.personalId } },
      { key: hcmKey, headers: purpose('judicial-record-certificate') },
    );
    expect(r.status).toBe(200);
    expect(r.body.errors).toBeUndefined();
    const t = traceOf(r.headers);
    expect(ids(t)).toEqual([`Citizen:${withParents.fatherId}`, `Citizen:${withParents.personalId}`].sort());
    expect(t.responseCheck?.outcome).toBe('checked');
    // The keys the gateway added to the subgraph operations never reach the client.
    expect(r.body.data).toEqual({ citizen: { fullName: expect.any(String), father: { fullName: expect.any(String), dateOfBirth: expect.any(String) } } });
  });

  it('aliases change nothing, also one that takes the key name for another field', async () => {
    const r = await stack.query(
      {
        query: `query Q($id: ID!) { who: citizen(personalId: $id) { personalId: fullName dad: father { personalId: dateOfBirth n: fullName } } }`,
        variables: { id: withParents.personalId },
      },
      { key: hcmKey, headers: purpose('judicial-record-certificate') },
    );
    expect(r.status).toBe(200);
    expect(r.body.errors).toBeUndefined();
    expect(ids(traceOf(r.headers))).toEqual([`Citizen:${withParents.fatherId}`, `Citizen:${withParents.personalId}`].sort());
    const ix = indexWorld(stack.world);
    // The client's `personalId` alias holds what it asked for, not the key the gateway added.
    expect(r.body.data).toEqual({
      who: { personalId: withParents.fullName, dad: { personalId: ix.citizens.get(withParents.fatherId!)!.dateOfBirth, n: ix.citizens.get(withParents.fatherId!)!.fullName } },
    });
  });

  it('enterprises and parcels are recorded with their keys even when the client does not select them', async () => {
    const r = await stack.query(
      {
        query: `query Q($id: ID!) { citizen(personalId: $id) { fullName father { fullName } enterprises { role enterprise { name } } landParcels { area } } }`,
        variables: { id: full.personalId },
      },
      { key: exploreKey },
    );
    expect(r.status).toBe(200);
    const ix = indexWorld(stack.world);
    const expected = [
      `Citizen:${full.personalId}`,
      ...(full.fatherId ? [`Citizen:${full.fatherId}`] : []),
      ...ix.rolesByPerson.get(full.personalId)!.roles.map((x) => `Enterprise:${x.enterpriseCode}`),
      ...ix.parcelsByHolder.get(full.personalId)!.parcelIds.map((p) => `LandParcel:${p}`),
    ];
    expect(ids(traceOf(r.headers))).toEqual([...new Set(expected)].sort());
    const citizen = (r.body.data as { citizen: { enterprises: Array<{ enterprise: Record<string, unknown> }>; landParcels: Array<Record<string, unknown>> } }).citizen;
    for (const e of citizen.enterprises) expect(Object.keys(e.enterprise)).toEqual(['name']);
    for (const p of citizen.landParcels) expect(Object.keys(p)).toEqual(['area']);
  });

  it('a prefill records the entities its compiled operation returned, and not the identifiers its relation check read', async () => {
    const deceasedParent = findCitizen(
      stack.world,
      (c, ix) => c.deceased && c.childrenIds.some((id) => isAdult(stack.world, ix.citizens.get(id)!)),
      'deceased citizen with a living adult child',
    );
    const child = indexWorld(stack.world).citizens.get(deceasedParent.childrenIds.find((id) => isAdult(stack.world, indexWorld(stack.world).citizens.get(id)!))!)!;
    const procedureId = 'death-residence-removal-funeral-allowance';
    const res = await fetch(stack.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${hcmKey}` },
      body: JSON.stringify({
        query: `query P($s: SubjectInput!) { prefill(procedureId: "${procedureId}", subject: $s, dossierId: "H01.01-TEST-0002") { fields { key value } } }`,
        variables: { s: { personalId: child.personalId, relatedPersonalId: deceasedParent.personalId } },
      }),
    });
    const body = (await res.json()) as { data?: unknown; errors?: unknown };
    expect(res.status, JSON.stringify(body.errors)).toBe(200);
    const t = traceOf(res.headers);
    const expected = expectedEntities(stack.gateway.supergraph.apiSchema()!, stack.gateway.services.need('procedures').pathTree(procedureId)!, { citizen: child, relatedCitizen: deceasedParent });
    expect(expected).toContain(`Citizen:${deceasedParent.personalId}`);
    expect(ids(t)).toEqual(expected);
    // The relation check read the child's family (father, mother, spouse, children, household): none of it left.
    expect(t.responseCheck?.outcome).toBe('checked');
  });

  it('a prefill of a procedure that reads the father and mother records them', async () => {
    const { status, body } = await postPrefill(stack.graphqlUrl, hcmKey, 'judicial-record-certificate', { personalId: withParents.personalId });
    expect(status, JSON.stringify(body.errors)).toBe(200);
    const t = [...traces.values()].at(-1)!;
    const expected = expectedEntities(stack.gateway.supergraph.apiSchema()!, stack.gateway.services.need('procedures').pathTree('judicial-record-certificate')!, { citizen: withParents });
    expect(expected).toEqual(expect.arrayContaining([`Citizen:${withParents.fatherId}`, `Citizen:${withParents.motherId}`]));
    expect(ids(t)).toEqual(expected);
  });
});

describe('every procedure of the catalog, prefilled by a checked client', () => {
  it('passes the response check and records exactly the entities its path tree reaches in the world', async () => {
    const ix = indexWorld(stack.world);
    const deceased = findCitizen(stack.world, (c) => c.deceased && c.childrenIds.some((id) => isAdult(stack.world, ix.citizens.get(id)!)), 'deceased citizen with a living adult child');
    const child = ix.citizens.get(deceased.childrenIds.find((id) => isAdult(stack.world, ix.citizens.get(id)!))!)!;
    const enterprise = ix.enterprises.get(ix.rolesByPerson.get(full.personalId)!.roles[0]!.enterpriseCode)!;
    const parcel = ix.parcels.get(ix.parcelsByHolder.get(full.personalId)!.parcelIds[0]!)!;
    const procedures = (stack.gateway.services.need('procedures') as ProcedureService).list();
    expect(procedures.length).toBeGreaterThanOrEqual(10);
    for (const p of procedures) {
      const subjects = new Set(p.def.subjects);
      const roots = subjects.has('relatedCitizen')
        ? { citizen: child, relatedCitizen: deceased }
        : { citizen: full, ...(subjects.has('enterprise') ? { enterprise } : {}), ...(subjects.has('parcel') ? { parcel } : {}) };
      const subject = {
        personalId: roots.citizen.personalId,
        ...('relatedCitizen' in roots ? { relatedPersonalId: roots.relatedCitizen!.personalId } : {}),
        ...('enterprise' in roots ? { enterpriseCode: roots.enterprise!.enterpriseCode } : {}),
        ...('parcel' in roots ? { parcelId: roots.parcel!.parcelId } : {}),
      };
      const res = await fetch(stack.graphqlUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${hcmKey}` },
        body: JSON.stringify({ query: `query P($id: ID!, $s: SubjectInput!) { prefill(procedureId: $id, subject: $s) { summary { fieldsPrefilled } } }`, variables: { id: p.def.id, s: subject } }),
      });
      const body = (await res.json()) as { errors?: unknown };
      expect(res.status, `${p.def.id}: ${JSON.stringify(body.errors)}`).toBe(200);
      const t = traceOf(res.headers);
      expect(t.responseCheck?.outcome, p.def.id).toBe('checked');
      expect(ids(t), p.def.id).toEqual(expectedEntities(stack.gateway.supergraph.apiSchema()!, p.pathTree, roots));
    }
  });
});

describe('a response with an entity outside the purpose is refused whole', () => {
  it('refuses with 403 RESPONSE_ENTITY_NOT_ALLOWED, no data, counted, and recorded', async () => {
    const before = await refusalsMetric();
    const r = await stack.query(
      { query: `query Q($id: ID!) { citizen(personalId: $id) { fullName father { fullName } } }`, variables: { id: withParents.personalId } },
      // The policy bound the request to this citizen; the swap makes the subject the father instead.
      { key: hcmKey, headers: { ...purpose('judicial-record-certificate'), 'x-test-subject': withParents.fatherId! } },
    );
    expect(r.status).toBe(403);
    expect(r.body.data).toBeUndefined();
    expect(r.body.errors).toHaveLength(1);
    expect(r.body.errors![0]!.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'RESPONSE_ENTITY_NOT_ALLOWED' });
    expect(JSON.stringify(r.body)).not.toContain(withParents.fullName);
    const t = traceOf(r.headers);
    expect(t.responseCheck).toEqual({ outcome: 'refused', reason: 'RESPONSE_ENTITY_NOT_ALLOWED', outside: { Citizen: 1 } });
    expect(await refusalsMetric()).toBe(before + 1);

    const rec = await fetch(`${stack.gatewayUrl}/audit/v1/requests/${r.headers.get('x-request-id')}`, { headers: { authorization: `Bearer ${auditorKey}` } });
    expect(rec.status).toBe(200);
    const record = ((await rec.json()) as { record: { httpStatus: number; errorCodes: string[]; outcome: string; reasonCode?: string } }).record;
    expect(record.httpStatus).toBe(403);
    expect(record.errorCodes).toContain('FORBIDDEN');
    expect(record.outcome).toBe('DENIED');
    // The record says why, like the policy's refusals (issue 11: refusals keep their context).
    expect(record.reasonCode).toBe('RESPONSE_ENTITY_NOT_ALLOWED');
  });

  it('nested relations beyond the purpose (the father\'s father) never come back', async () => {
    const grand = findCitizen(stack.world, (c, ix) => c.fatherId !== null && ix.citizens.get(c.fatherId)?.fatherId != null, 'citizen with a recorded paternal grandfather');
    const r = await stack.query(
      { query: `query Q($id: ID!) { citizen(personalId: $id) { fullName father { fullName father { fullName } } } }`, variables: { id: grand.personalId } },
      { key: hcmKey, headers: purpose('judicial-record-certificate') },
    );
    // Refused by the purpose policy (paths) or by the response check: either way, whole and 403.
    expect(r.status).toBe(403);
    expect(r.body.data ?? null).toBeNull();
  });

  it('the same request within the purpose is answered (the refusal is about the entity, not the query)', async () => {
    const r = await stack.query(
      { query: `query Q($id: ID!) { citizen(personalId: $id) { fullName father { fullName } } }`, variables: { id: withParents.personalId } },
      { key: hcmKey, headers: purpose('judicial-record-certificate') },
    );
    expect(r.status).toBe(200);
    expect(traceOf(r.headers).responseCheck?.outcome).toBe('checked');
  });
});

describe('requests the purpose policy could not decide (issue 10, observation 1)', () => {
  it('a nullable variable sent as null next to other root fields: nothing leaves', async () => {
    const [b, c] = stack.world.citizens.slice(1, 3).map((x) => x.personalId);
    const r = await stack.query(
      {
        query: `query Q($a: ID = "001200000001", $b: ID!, $c: ID!) { a: citizen(personalId: $a) { fullName } b: citizen(personalId: $b) { fullName identityCard { number } } c: citizen(personalId: $c) { fullName } }`,
        variables: { a: null, b, c },
      },
      { key: hcmKey },
    );
    // Refused by the policy (400 UNDECIDABLE_REQUEST) or, were it let through, by the response
    // check (403: no purpose was established): either way whole, without data.
    expect([400, 403]).toContain(r.status);
    expect(r.body.data ?? null).toBeNull();
    expect(JSON.stringify(r.body)).not.toContain(stack.world.citizens[1]!.fullName);
  });
});

describe('with the cache on', () => {
  it('answers served from the cache are recorded and checked like fetched ones', async () => {
    const gw = await stack.startGateway({ cache: {}, extraPlugins: [traceCapture, subjectSwap] });
    const send = (extra: Record<string, string> = {}) =>
      fetch(gw.graphqlUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${hcmKey}`, ...purpose('judicial-record-certificate'), ...extra },
        body: JSON.stringify({ query: `query Q($id: ID!) { citizen(personalId: $id) { fullName father { fullName } } }`, variables: { id: withParents.personalId } }),
      });
    const first = await send();
    const second = await send();
    expect([first.status, second.status]).toEqual([200, 200]);
    const expected = [`Citizen:${withParents.fatherId}`, `Citizen:${withParents.personalId}`].sort();
    expect(ids(traceOf(first.headers))).toEqual(expected);
    expect(ids(traceOf(second.headers))).toEqual(expected);
    const refused = await send({ 'x-test-subject': withParents.fatherId! });
    expect(refused.status).toBe(403);
  });
});

/**
 * A pass-through in front of one subgraph that notes the X-Motlan-Subgraph-Request-Id of every
 * request it forwards: what the registry owner's log would hold, observed outside the gateway.
 */
async function recordingProxy(target: string, seen: string[]): Promise<{ url: string; server: Server }> {
  const to = new URL(target);
  const server = createServer((req, res) => {
    const id = req.headers['x-motlan-subgraph-request-id'];
    seen.push(typeof id === 'string' ? id : '(none)');
    const up = httpRequest({ host: to.hostname, port: to.port, path: req.url, method: req.method, headers: { ...req.headers, host: to.host } }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}${to.pathname}`, server };
}

describe('the record keeps the gateway→subgraph request ids (issue 10: a registry owner reconciles its log)', () => {
  it('a purpose query lists one id per subgraph fetch, each starting with the record id and naming the subgraph', async () => {
    const seen: Record<string, string[]> = {};
    const proxies: Server[] = [];
    const urls: Record<string, string> = {};
    for (const [name, sg] of Object.entries(stack.subgraphs)) {
      seen[name] = [];
      const p = await recordingProxy(sg.url, seen[name]!);
      proxies.push(p.server);
      urls[name] = p.url;
    }
    try {
      const gw = await stack.startGateway({ subgraphUrls: urls });
      const creds = gw.clients.demoCredentials();
      const key = creds.find((c) => c.clientId === 'demo-hcm')!.key;
      const auditor = creds.find((c) => c.roles.includes('auditor'))!.key;
      const res = await fetch(gw.graphqlUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, ...purpose('judicial-record-certificate') },
        body: JSON.stringify({ query: `query Q($id: ID!) { citizen(personalId: $id) { fullName father { fullName } } }`, variables: { id: withParents.personalId } }),
      });
      expect(res.status).toBe(200);
      const recordId = res.headers.get('x-request-id')!;
      const rec = await fetch(`${gw.url}/audit/v1/requests/${recordId}`, { headers: { authorization: `Bearer ${auditor}` } });
      expect(rec.status).toBe(200);
      const record = ((await rec.json()) as { record: { requestId: string; subgraphRequests?: string[] } }).record;
      expect(record.requestId).toBe(recordId);

      // Fetches of this request (health probes of the gateway, if any, carry other ids or none).
      const fetched = Object.entries(seen).flatMap(([name, ids]) => ids.filter((id) => id.startsWith(`${recordId}:`)).map((id) => ({ name, id })));
      expect(fetched.length, 'the query reached a subgraph').toBeGreaterThan(0);
      expect([...(record.subgraphRequests ?? [])].sort()).toEqual(fetched.map((f) => f.id).sort());
      for (const { name, id } of fetched) expect(id.startsWith(`${recordId}:${name}:`), id).toBe(true);
    } finally {
      for (const p of proxies) p.closeAllConnections();
      await Promise.all(proxies.map((p) => new Promise((resolve) => p.close(resolve))));
    }
  });
});
