/**
 * Red team: a subgraph's logs hold no personal data either (DESIGN: logs hold metadata).
 * Anyone who reaches a subgraph directly (unsigned) chooses the URL and the per-fetch id
 * header, and both used to be written in clear: the refusal line logged the whole URL
 * (`GET /graphql?variables={"personalId":"…"}`), and Fastify's own request lines logged
 * the URL and used the attacker's `X-Motlan-Subgraph-Request-Id` as `reqId`.
 */
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURE_IDS } from '../../mocks/fixtures/index.js';
import { SUBGRAPH_REQUEST_ID_HEADER, SUBGRAPH_SIGNATURE_HEADER, SUBGRAPH_TIMESTAMP_HEADER } from '../../lib/subgraph-signature.js';
import { startSignedSubgraph, type SignedSubgraph } from '../../test/support/signed-subgraph.js';

const KEY = Buffer.from('r'.repeat(64));
let text = '';
const logStream = new Writable({
  write(chunk: Buffer, _enc, done) {
    text += chunk.toString('utf8');
    done();
  },
});

let fixture: SignedSubgraph;
let sub: SignedSubgraph['sub'];
beforeAll(async () => {
  fixture = await startSignedSubgraph(KEY, logStream);
  ({ sub } = fixture);
});
afterAll(async () => {
  await fixture?.close();
});

describe('a subgraph reached directly by an attacker', () => {
  it('writes no personal ID to its log, whatever the URL or the request id header carry', async () => {
    const id = FIXTURE_IDS.an;
    const q = encodeURIComponent(`query($p: String!) { citizen(personalId: $p) { fullName } }`);
    const v = encodeURIComponent(JSON.stringify({ p: id }));
    const attempts: Array<[string, Record<string, string>]> = [
      [`${sub.url}?query=${q}&variables=${v}`, {}],
      [`${sub.url}?query=${q}&variables=${v}`, { [SUBGRAPH_REQUEST_ID_HEADER]: `req-${id}`, [SUBGRAPH_TIMESTAMP_HEADER]: String(Date.now()), [SUBGRAPH_SIGNATURE_HEADER]: `v1=${'0'.repeat(64)}` }],
      [`${sub.url}?${id}`, { [SUBGRAPH_REQUEST_ID_HEADER]: `x${id}x` }],
      [`${sub.url.replace('/graphql', `/nope/${id}`)}`, {}],
    ];
    for (const [url, headers] of attempts) {
      const res = await fetch(url, { headers: { 'apollo-require-preflight': '1', ...headers } });
      expect(res.status).toBeGreaterThanOrEqual(401);
    }
    await new Promise((r) => setImmediate(r));
    expect(text).toContain('refused a request not signed by the gateway');
    expect(text).not.toContain(id);
  });
});
