/**
 * Generated tests of inputs that could make a check not run: the failure throttle's source
 * (any spelling of an IPv6 address in one /64 is one source; IPv4-mapped counts as IPv4),
 * its budgets whatever the mix of sources, and trusted-document admission over every mix of
 * documentId / persistedQuery / query text, well-formed or not.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FailureThrottle, throttleSource, type ThrottledBurst } from '../../gateway/audit/throttle.js';
import { admitOperation, documentHash, TrustedDocuments } from '../../gateway/auth/trusted-documents.js';

/** Eight 16-bit groups, zeros frequent (so `::` runs appear). */
const groups = fc.array(fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 0, max: 0xffff })), { minLength: 8, maxLength: 8 });

/** One spelling of an IPv6 address: padded or not, any case, one zero run compressed or not, a zone or not. */
const spelling = (g: number[]) =>
  fc.record({ pad: fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }), upper: fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }), compress: fc.nat(), zone: fc.constantFrom('', '%eth0', '%1') }).map(({ pad, upper, compress, zone }) => {
    const hex = g.map((n, i) => {
      const h = pad[i] ? n.toString(16).padStart(4, '0') : n.toString(16);
      return upper[i] ? h.toUpperCase() : h;
    });
    const runs: Array<[number, number]> = [];
    for (let i = 0; i < 8; i++) {
      if (g[i] !== 0) continue;
      let j = i;
      while (j < 8 && g[j] === 0) j++;
      for (let a = i; a < j; a++) for (let b = a + 1; b <= j; b++) runs.push([a, b]);
      i = j;
    }
    const pick = compress % (runs.length + 1);
    if (pick === runs.length) return hex.join(':') + zone;
    const [a, b] = runs[pick]!;
    return `${hex.slice(0, a).join(':')}::${hex.slice(b).join(':')}${zone}`;
  });

const net64 = (g: number[]) => `${g.slice(0, 4).map((n) => n.toString(16)).join(':')}::/64`;

describe('failure throttle source (generated)', () => {
  it('every spelling of an IPv6 address counts against its /64, and only addresses of one /64 share a source', () => {
    fc.assert(
      fc.property(groups, groups, fc.nat(), (a, b, seed) => {
        const sa = fc.sample(spelling(a), { numRuns: 3, seed });
        for (const s of sa) expect(throttleSource(s)).toBe(net64(a));
        const sb = fc.sample(spelling(b), { numRuns: 1, seed })[0]!;
        expect(throttleSource(sb) === throttleSource(sa[0]!)).toBe(a.slice(0, 4).every((n, i) => n === b[i]));
      }),
      { numRuns: 1000 },
    );
  });

  it('an IPv4-mapped address counts as the IPv4 address, whatever the case', () => {
    fc.assert(
      fc.property(fc.ipV4(), fc.constantFrom('::ffff:', '::FFFF:', '::Ffff:'), (v4, prefix) => {
        expect(throttleSource(prefix + v4)).toBe(v4);
        expect(throttleSource(v4)).toBe(v4);
      }),
    );
  });

  it('within one window: at most `failures` records per source, at most `maxFailures` in all, and every refused request is in a summary', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 1, max: 8 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 0xffff })), { maxLength: 120 }),
        (failures, maxFailures, maxSources, requests) => {
          const bursts: ThrottledBurst[] = [];
          const t = new FailureThrottle({ failures, maxFailures, windowMs: 60_000, maxSources, now: () => 1_000 }, (b) => bursts.push(b));
          const records = new Map<string, number>();
          let refused = 0;
          for (const [net, host] of requests) {
            // Six /64s, each host a different address inside its /64.
            const source = throttleSource(`2001:db8:0:${net.toString(16)}::${host.toString(16)}`);
            const as = t.throttledAs(source);
            if (as) {
              t.count(as);
              refused++;
            } else {
              t.failed(source);
              records.set(source, (records.get(source) ?? 0) + 1);
            }
          }
          t.flush();
          const total = [...records.values()].reduce((x, y) => x + y, 0);
          expect(total).toBeLessThanOrEqual(maxFailures);
          if (records.size + 1 <= maxSources) for (const n of records.values()) expect(n).toBeLessThanOrEqual(failures);
          expect(bursts.reduce((x, b) => x + b.covers, 0)).toBe(refused);
          expect(total + refused).toBe(requests.length);
        },
      ),
      { numRuns: 1000 },
    );
  });
});

const A = 'query A($personalId: ID!) { citizen(personalId: $personalId) { fullName } }';
const B = 'query B($personalId: ID!) { citizen(personalId: $personalId) { dateOfBirth } }';
const UNLISTED = 'query C($personalId: ID!) { citizen(personalId: $personalId) { fullName identityCard { number } } }';
const docs = new TrustedDocuments(
  [A, B].map((query, i) => ({ sha256: documentHash(query), name: `d${i}`, kind: 'query', query })) as never,
  'test',
);

type Part = { well: boolean; names: string | null } | undefined;
/** A hash field: absent, a well-formed hash of A/B/unlisted text, or a malformed variant of one. */
const hashOf = (names: string) => documentHash(names === 'A' ? A : names === 'B' ? B : UNLISTED);
const hashField = fc.option(
  fc.oneof(
    fc.constantFrom('A', 'B', 'C').chain((n) => fc.constantFrom(`sha256:${hashOf(n)}`, hashOf(n)).map((v) => ({ v: v as unknown, part: { well: true, names: n } as Part }))),
    fc.constantFrom('A', 'B').chain((n) =>
      fc.constantFrom<unknown>(`sha256:${hashOf(n).toUpperCase()}`, hashOf(n).toUpperCase(), ` ${hashOf(n)}`, `${hashOf(n)}\n`, `SHA256:${hashOf(n)}`, `sha256:${hashOf(n)}0`, hashOf(n).slice(1), `md5:${hashOf(n)}`, 42, null, [hashOf(n)], { h: hashOf(n) }, '').map((v) => ({ v, part: { well: false, names: null } as Part })),
    ),
  ),
  { nil: undefined },
);
const queryField = fc.option(
  fc.constantFrom<[unknown, Part]>([A, { well: true, names: 'A' }], [B, { well: true, names: 'B' }], [UNLISTED, { well: true, names: 'C' }], [`${A} `, { well: true, names: 'A ' }], [A.replace('fullName', 'fullName ') , { well: true, names: 'A2' }], [42, { well: false, names: null }], [[A], { well: false, names: null }]),
  { nil: undefined },
);

describe('trusted-document admission (generated)', () => {
  it('admits exactly one registered document named consistently by every field sent, and runs its registered text', () => {
    fc.assert(
      fc.property(hashField, hashField, fc.boolean(), queryField, fc.boolean(), (documentId, persisted, persistedAsText, query, nullQuery) => {
        const op: Record<string, unknown> = { variables: { personalId: '001090000001' } };
        if (documentId) op.documentId = documentId.v;
        if (persisted) {
          const ext = { persistedQuery: { version: 1, sha256Hash: persisted.v } };
          op.extensions = persistedAsText ? JSON.stringify(ext) : ext;
        }
        if (query) op.query = query[0];
        else if (nullQuery) op.query = null;
        const parts = [documentId?.part, persisted?.part, query?.[1]].filter((p): p is NonNullable<Part> => p !== undefined);
        const names = new Set(parts.map((p) => p.names));
        const expected = parts.length > 0 && parts.every((p) => p.well) && names.size === 1 && (names.has('A') || names.has('B')) ? [...names][0] : null;
        const v = admitOperation(op as never, docs);
        expect(v.ok ? v.document.name : null).toBe(expected === 'A' ? 'd0' : expected === 'B' ? 'd1' : null);
        if (v.ok) {
          expect(op.query).toBe(v.document.query);
          expect('documentId' in op).toBe(false);
          expect(typeof op.extensions === 'object' && op.extensions !== null && 'persistedQuery' in op.extensions).toBe(false);
        }
      }),
      { numRuns: 3000 },
    );
  });
});
