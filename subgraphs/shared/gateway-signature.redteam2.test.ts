/**
 * Red team, round 2: the subgraph side of the trust boundary.
 * 1. A v1 signature did not name its subgraph: a request signed for `population` was
 *    accepted by `insurance` when both shared a key (within ±30 s). v2 signs the name.
 * 2. A UUID-shaped request id header (`00000000-0000-0000-0000-<12-digit personal ID>`) was
 *    adopted as `reqId` before the signature was checked, and escaped the log mask.
 * 3. One warning per unsigned request let an unauthenticated flood fill the log disk.
 */
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURE_IDS } from '../../mocks/fixtures/index.js';
import { startStubRegistry, type StubRegistry } from '../../mocks/fixtures/stub-registry.js';
import { newSubgraphRequestId, pathOf, signatureHeaders, SUBGRAPH_REQUEST_ID_HEADER } from '../../lib/subgraph-signature.js';
import { startSubgraph, subgraphDefinition, RegistryClient } from '../index.js';
import { startSubgraphServer, type RunningSubgraph } from './server.js';

const SHARED = Buffer.from('q'.repeat(64));

function lineSink() {
  const lines: Array<Record<string, unknown>> = [];
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      text += chunk.toString('utf8');
      for (const l of chunk.toString('utf8').split('\n')) if (l.trim()) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return { lines, stream, text: () => text };
}

let population: StubRegistry;
let insurance: StubRegistry;
const popLog = lineSink();
let pop: Awaited<ReturnType<typeof startSubgraph>>;
let ins: Awaited<ReturnType<typeof startSubgraph>>;
beforeAll(async () => {
  population = await startStubRegistry('population', { apiKey: 'k' });
  insurance = await startStubRegistry('insurance', { apiKey: 'k' });
  // An operator's mistake the gateway refuses at start, but a subgraph cannot see: one key for two subgraphs.
  pop = await startSubgraph('population', { host: '127.0.0.1', port: 0, registryUrl: population.url, apiKey: 'k', gatewayKey: SHARED, logLevel: 'info', logStream: popLog.stream });
  ins = await startSubgraph('insurance', { host: '127.0.0.1', port: 0, registryUrl: insurance.url, apiKey: 'k', gatewayKey: SHARED, logLevel: 'silent' });
});
afterAll(async () => {
  await pop?.close();
  await ins?.close();
  await population?.close();
  await insurance?.close();
});

const post = (url: string, body: string, headers: Record<string, string>) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body }).then(async (r) => ({ status: r.status, json: (await r.json()) as { errors?: Array<{ extensions?: { reason?: string } }> } }));

describe('the signature names its subgraph', () => {
  it('a request signed for population is refused by insurance under the same key, within the window', async () => {
    const body = JSON.stringify({ query: '{ __typename }' });
    // Same path on both (`/graphql`): only the subgraph's name tells the two apart.
    expect(pathOf(pop.url)).toBe(pathOf(ins.url));
    const forPop = signatureHeaders({ key: SHARED, subgraph: 'population', method: 'POST', path: pathOf(pop.url), body, timestamp: Date.now(), requestId: newSubgraphRequestId(randomUUID(), 'population') });
    const atIns = await post(ins.url, body, forPop);
    expect([atIns.status, atIns.json.errors?.[0]?.extensions?.reason]).toEqual([401, 'bad-signature']);
    expect((await post(pop.url, body, forPop)).status).toBe(200);
  });
});

describe("the subgraph's log adopts only the gateway's verified fetch ids", () => {
  const body = JSON.stringify({ query: '{ __typename }' });
  const signed = (requestId: string, subgraph = 'population') =>
    signatureHeaders({ key: SHARED, subgraph, method: 'POST', path: pathOf(pop.url), body, timestamp: Date.now(), requestId });

  it('never adopts a UUID-shaped id carrying a personal ID, signed or not', async () => {
    const injected = `00000000-0000-0000-0000-${FIXTURE_IDS.an}`;
    popLog.lines.length = 0;
    expect((await post(pop.url, body, signed(injected))).status).toBe(200);
    expect((await post(pop.url, body, { [SUBGRAPH_REQUEST_ID_HEADER]: injected })).status).toBe(401);
    await new Promise((r) => setImmediate(r));
    expect(popLog.text()).not.toContain(FIXTURE_IDS.an);
    expect(popLog.lines.some((l) => l.reqId === injected)).toBe(false);
  });

  it("adopts `<uuid v4>:<this subgraph>:<12 hex>` only once it verified, and not another subgraph's", async () => {
    const mine = newSubgraphRequestId(randomUUID(), 'population');
    const unsignedButShaped = newSubgraphRequestId(randomUUID(), 'population');
    const otherSubgraph = newSubgraphRequestId(randomUUID(), 'insurance');
    const notV4 = `00000000-0000-0000-0000-000000000000:population:${'a'.repeat(12)}`;
    popLog.lines.length = 0;
    expect((await post(pop.url, body, signed(mine))).status).toBe(200);
    expect((await post(pop.url, body, { [SUBGRAPH_REQUEST_ID_HEADER]: unsignedButShaped })).status).toBe(401);
    expect((await post(pop.url, body, signed(otherSubgraph))).status).toBe(200);
    expect((await post(pop.url, body, signed(notV4))).status).toBe(200);
    await new Promise((r) => setImmediate(r));
    const ids = new Set(popLog.lines.map((l) => l.reqId));
    expect(popLog.lines.filter((l) => l.reqId === mine).map((l) => l.msg)).toEqual(['incoming request', 'request completed']);
    expect(ids.has(unsignedButShaped) || ids.has(otherSubgraph) || ids.has(notV4)).toBe(false);
  });
});

describe('refusal log lines are bounded (log flooding)', () => {
  let registry: StubRegistry;
  let sub: RunningSubgraph;
  const log = lineSink();
  let clock = 1_800_000_000_000;
  beforeAll(async () => {
    registry = await startStubRegistry('population', { apiKey: 'k' });
    const client = new RegistryClient({ registry: 'population', url: registry.url, apiKey: 'k' });
    sub = await startSubgraphServer(subgraphDefinition('population'), {
      client,
      host: '127.0.0.1',
      gatewayKey: SHARED,
      logLevel: 'info',
      logStream: log.stream,
      now: () => clock,
      refusalLog: { perWindow: 5, windowMs: 60_000 },
    });
  });
  afterAll(async () => {
    await sub?.close();
    await registry?.close();
  });

  it('writes at most N lines per reason per minute, then one summary line', async () => {
    const body = JSON.stringify({ query: '{ __typename }' });
    log.lines.length = 0; // the start-up lines
    for (let i = 0; i < 40; i++) expect((await post(sub.url, body, {})).status).toBe(401);
    for (let i = 0; i < 12; i++) expect((await post(sub.url, body, { [SUBGRAPH_REQUEST_ID_HEADER]: 'x' })).status).toBe(401);
    // Unknown routes are refused by the same check (the hook runs on the 404 handler too).
    for (let i = 0; i < 12; i++) expect((await fetch(sub.url.replace('/graphql', `/nope${i}`))).status).toBe(401);
    await new Promise((r) => setImmediate(r));
    // 5 per reason (missing, malformed), nothing else per request (no "incoming request"/"request completed").
    expect(log.lines.filter((l) => l.reason === 'missing')).toHaveLength(5);
    expect(log.lines.filter((l) => l.reason === 'malformed')).toHaveLength(5);
    expect(log.lines.length).toBe(10);

    clock += 60_000;
    expect((await post(sub.url, body, {})).status).toBe(401);
    await new Promise((r) => setImmediate(r));
    const summaries = log.lines.filter((l) => typeof l.suppressed === 'number').map((l) => [l.reason, l.suppressed, l.msg]);
    expect(summaries).toEqual(
      expect.arrayContaining([
        ['missing', 47, 'population subgraph: 47 more refusals suppressed (reason missing)'],
        ['malformed', 7, 'population subgraph: 7 more refusals suppressed (reason malformed)'],
      ]),
    );
    expect(summaries).toHaveLength(2);
    // A new window: the refusal is written again.
    expect(log.lines.filter((l) => l.reason === 'missing' && l.suppressed === undefined)).toHaveLength(6);
  });
});
