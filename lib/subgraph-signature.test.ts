/** Gateway → subgraph request signatures: what a subgraph accepts and what it refuses. */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_MAX_SKEW_MS,
  ReplayGuard,
  SUBGRAPH_REQUEST_ID_HEADER,
  SUBGRAPH_SIGNATURE_HEADER,
  SUBGRAPH_TIMESTAMP_HEADER,
  signatureHeaders,
  verifySignature,
  type VerifyInput,
} from './subgraph-signature.js';

const KEY = Buffer.from('k'.repeat(64));
const T0 = 1_790_000_000_000;
const BODY = JSON.stringify({ query: 'query($id: ID!) { citizen(personalId: $id) { fullName } }', variables: { id: '001090000001' } });

function signed(over: Partial<{ subgraph: string; method: string; path: string; body: string; timestamp: number; requestId: string; key: Buffer }> = {}) {
  const input = { key: KEY, subgraph: 'population', method: 'POST', path: '/graphql', body: BODY, timestamp: T0, requestId: 'req-0000-0001', ...over };
  return signatureHeaders(input);
}

function verify(headers: Record<string, string>, over: Partial<VerifyInput> = {}) {
  return verifySignature({ key: KEY, subgraph: 'population', method: 'POST', path: '/graphql', body: BODY, headers, now: T0, ...over });
}

describe('subgraph request signatures', () => {
  it('accepts what the gateway signed, within the clock skew either way', () => {
    expect(verify(signed())).toEqual({ ok: true, requestId: 'req-0000-0001' });
    expect(verify(signed(), { now: T0 + DEFAULT_MAX_SKEW_MS }).ok).toBe(true);
    expect(verify(signed(), { now: T0 - DEFAULT_MAX_SKEW_MS }).ok).toBe(true);
  });

  it('refuses an unsigned request, and malformed headers', () => {
    expect(verify({})).toEqual({ ok: false, reason: 'missing' });
    const h = signed();
    expect(verify({ ...h, [SUBGRAPH_SIGNATURE_HEADER]: h[SUBGRAPH_SIGNATURE_HEADER]!.replace('v2=', 'v3=') })).toEqual({ ok: false, reason: 'unsupported-version' });
    expect(verify({ ...h, [SUBGRAPH_SIGNATURE_HEADER]: h[SUBGRAPH_SIGNATURE_HEADER]!.replace('v2=', 'x=') })).toEqual({ ok: false, reason: 'malformed' });
    expect(verify({ ...h, [SUBGRAPH_TIMESTAMP_HEADER]: 'yesterday' })).toEqual({ ok: false, reason: 'malformed' });
    expect(verify({ [SUBGRAPH_SIGNATURE_HEADER]: h[SUBGRAPH_SIGNATURE_HEADER]! })).toEqual({ ok: false, reason: 'malformed' });
    expect(verify({ ...h, [SUBGRAPH_REQUEST_ID_HEADER]: 'a b' })).toEqual({ ok: false, reason: 'malformed' });
  });

  it('refuses a stale or future signature', () => {
    expect(verify(signed(), { now: T0 + DEFAULT_MAX_SKEW_MS + 1 })).toEqual({ ok: false, reason: 'stale' });
    expect(verify(signed(), { now: T0 - DEFAULT_MAX_SKEW_MS - 1 })).toEqual({ ok: false, reason: 'stale' });
    expect(verify(signed(), { now: T0 + 2000, maxSkewMs: 1000 })).toEqual({ ok: false, reason: 'stale' });
  });

  it('refuses a tampered body, path or method, a changed timestamp or id, and another key', () => {
    const h = signed();
    expect(verify(h, { body: BODY.replace('001090000001', '001090000002') })).toEqual({ ok: false, reason: 'bad-signature' });
    expect(verify(h, { path: '/graphql?x=1' })).toEqual({ ok: false, reason: 'bad-signature' });
    expect(verify(h, { method: 'GET' })).toEqual({ ok: false, reason: 'bad-signature' });
    expect(verify({ ...h, [SUBGRAPH_TIMESTAMP_HEADER]: String(T0 + 1) })).toEqual({ ok: false, reason: 'bad-signature' });
    expect(verify({ ...h, [SUBGRAPH_REQUEST_ID_HEADER]: 'req-0000-0002' })).toEqual({ ok: false, reason: 'bad-signature' });
    expect(verify(signed({ key: randomBytes(32) }))).toEqual({ ok: false, reason: 'bad-signature' });
    // Another subgraph's key: one key per subgraph, a signature for one is not valid at another.
    expect(verify(h, { key: Buffer.from('p'.repeat(64)) })).toEqual({ ok: false, reason: 'bad-signature' });
  });

  it('refuses a request signed for another subgraph, even under the same key (red team round 2)', () => {
    // One key shared by two subgraphs (an operator's mistake): what the gateway signed for
    // `population` must not be accepted by `insurance` within the window.
    const h = signed({ subgraph: 'population' });
    expect(verify(h, { subgraph: 'population' }).ok).toBe(true);
    expect(verify(h, { subgraph: 'insurance' })).toEqual({ ok: false, reason: 'bad-signature' });
    expect(verify(signed({ subgraph: 'insurance' }), { subgraph: 'insurance' }).ok).toBe(true);
  });

  it('refuses a v1 signature (which did not name the subgraph), even a correct one', () => {
    const ts = String(T0);
    const id = 'req-0000-0001';
    const canonical = ['motlan-subgraph-v1', 'POST', '/graphql', ts, id, createHash('sha256').update(BODY).digest('hex')].join('\n');
    const v1 = `v1=${createHmac('sha256', KEY).update(canonical).digest('hex')}`;
    const headers = { [SUBGRAPH_REQUEST_ID_HEADER]: id, [SUBGRAPH_TIMESTAMP_HEADER]: ts, [SUBGRAPH_SIGNATURE_HEADER]: v1 };
    expect(verify(headers)).toEqual({ ok: false, reason: 'unsupported-version' });
  });

  it('accepts a signed request once: the same id again within the window is a replay', () => {
    const replay = new ReplayGuard(2 * DEFAULT_MAX_SKEW_MS);
    const h = signed();
    expect(verify(h, { replay }).ok).toBe(true);
    expect(verify(h, { replay, now: T0 + 1000 })).toEqual({ ok: false, reason: 'replayed' });
    // A new fetch (new id, new signature) is fine.
    expect(verify(signed({ requestId: 'req-0000-0003' }), { replay }).ok).toBe(true);
    // After the window the id is forgotten, but then the timestamp is stale: never accepted again.
    expect(verify(h, { replay, now: T0 + 2 * DEFAULT_MAX_SKEW_MS + 1 })).toEqual({ ok: false, reason: 'stale' });
  });

  it('a replay guard that is full refuses new ids rather than forgetting live ones', () => {
    const replay = new ReplayGuard(60_000, 2);
    expect(replay.accept('a', 0)).toBe(true);
    expect(replay.accept('b', 0)).toBe(true);
    expect(replay.accept('c', 0)).toBe(false);
    expect(replay.accept('c', 60_001)).toBe(true);
  });

  it('any change to method, path, body, timestamp or id breaks the signature (generated)', () => {
    const part = fc.record({
      subgraph: fc.constantFrom('population', 'insurance', 'land'),
      method: fc.constantFrom('POST', 'GET', 'PUT'),
      path: fc.string({ minLength: 1, maxLength: 30 }).map((s) => `/${s}`),
      body: fc.string({ maxLength: 200 }),
      timestamp: fc.integer({ min: T0 - 10_000, max: T0 + 10_000 }),
      requestId: fc.stringMatching(/^[A-Za-z0-9-]{8,40}$/),
    });
    fc.assert(
      fc.property(part, part, (a, b) => {
        const headers = signatureHeaders({ key: KEY, ...a });
        const same = verifySignature({ key: KEY, subgraph: a.subgraph, method: a.method, path: a.path, body: a.body, headers, now: T0 });
        if (!same.ok) return false;
        const changed = { ...a, ...b };
        const differs = (Object.keys(a) as (keyof typeof a)[]).some((k) => a[k] !== changed[k]);
        const moved = {
          ...headers,
          [SUBGRAPH_TIMESTAMP_HEADER]: String(changed.timestamp),
          [SUBGRAPH_REQUEST_ID_HEADER]: changed.requestId,
        };
        const other = verifySignature({ key: KEY, subgraph: changed.subgraph, method: changed.method, path: changed.path, body: changed.body, headers: moved, now: T0 });
        return other.ok === !differs;
      }),
      { numRuns: 500 },
    );
  });
});
