/**
 * A subgraph's side of the trust boundary: it logs the gateway's per-fetch id on
 * every line of an accepted request, logs each refusal with its reason and
 * without the body (which names a citizen), and refuses to run unsigned in production.
 */
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURE_IDS } from '../../mocks/fixtures/index.js';
import { newSubgraphRequestId, pathOf, signatureHeaders, SUBGRAPH_REQUEST_ID_HEADER } from '../../lib/subgraph-signature.js';
import { startSignedSubgraph, type SignedSubgraph } from '../../test/support/signed-subgraph.js';
import { startSubgraph } from '../index.js';

const KEY = Buffer.from('s'.repeat(64));
const lines: Array<Record<string, unknown>> = [];
const logStream = new Writable({
  write(chunk: Buffer, _enc, done) {
    for (const l of chunk.toString('utf8').split('\n')) if (l.trim()) lines.push(JSON.parse(l) as Record<string, unknown>);
    done();
  },
});

let fixture: SignedSubgraph;
let registry: SignedSubgraph['registry'];
let sub: SignedSubgraph['sub'];
beforeAll(async () => {
  fixture = await startSignedSubgraph(KEY, logStream);
  ({ registry, sub } = fixture);
});
afterAll(async () => {
  await fixture?.close();
});

const body = JSON.stringify({ query: `{ citizen(personalId: "${FIXTURE_IDS.an}") { fullName } }` });
const post = (headers: Record<string, string>) =>
  fetch(sub.url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body }).then(async (r) => ({ status: r.status, json: await r.json() }));

describe('a subgraph', () => {
  it("logs the gateway's fetch id on the lines of an accepted request", async () => {
    const id = newSubgraphRequestId(randomUUID(), 'population'); // the gateway's request ids are UUIDs
    const res = await post(signatureHeaders({ key: KEY, subgraph: 'population', method: 'POST', path: pathOf(sub.url), body, timestamp: Date.now(), requestId: id }));
    expect(res.status).toBe(200);
    const mine = lines.filter((l) => l.reqId === id);
    expect(mine.map((l) => l.msg)).toEqual(expect.arrayContaining(['incoming request', 'request completed']));
  });

  it('logs a refusal with its reason, and nothing of the body', async () => {
    lines.length = 0;
    const res = await post({ [SUBGRAPH_REQUEST_ID_HEADER]: 'forged-id-000' });
    expect(res.status).toBe(401);
    const refusal = lines.find((l) => l.reason !== undefined);
    expect(refusal).toMatchObject({ level: 40, reason: 'malformed', method: 'POST', url: '/graphql' });
    expect(JSON.stringify(lines)).not.toContain(FIXTURE_IDS.an);
  });

  it('refuses to start without a key in production', async () => {
    await expect(
      startSubgraph('population', { host: '127.0.0.1', port: 0, registryUrl: registry.url, apiKey: 'k', gatewayKey: null, production: true, logLevel: 'silent' }),
    ).rejects.toThrow(/refuses to run without GATEWAY_SIGNING_KEY in production/);
  });
});
