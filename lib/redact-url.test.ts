/**
 * Generated tests for the log redaction (lib/redact-url.ts): whatever a caller puts in a
 * query value or a path, no personal identifier reaches a log line.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { maskIdentifiers, redactQueryString } from './redact-url.js';

const personalId = fc.stringMatching(/^[0-9]{12}$/);
const enterpriseCode = fc.oneof(fc.stringMatching(/^[0-9]{10}$/), fc.stringMatching(/^[0-9]{10}-[0-9]{3}$/));
const identifier = fc.oneof(personalId, enterpriseCode);
/** Text around an identifier in a query value: raw, percent-escaped, JSON-quoted. */
const filler = fc.string({ unit: fc.constantFrom('a', 'Z', '%22', '%3A', '"', ':', '{', '}', ' ', '+', '=', '/', '0'), maxLength: 8 });
const name = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,10}$/);

describe('redactQueryString (generated)', () => {
  it('never keeps a query value, whatever it holds', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^\/[a-z/]{0,20}$/),
        fc.array(fc.tuple(name, filler, identifier, filler), { minLength: 1, maxLength: 5 }),
        (path, params) => {
          const url = `${path}?${params.map(([n, a, id, b]) => `${n}=${a}${id}${b}`).join('&')}`;
          const out = redactQueryString(url);
          for (const [, , id] of params) expect(out).not.toContain(id);
          expect(out.slice(out.indexOf('?') + 1).split('&').every((p) => p === '…' || p.endsWith('=…'))).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('keeps no identifier smuggled into a parameter name either', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(name, identifier, fc.stringMatching(/^[A-Za-z0-9_]{0,4}$/)), { minLength: 1, maxLength: 4 }), (params) => {
        const out = redactQueryString(`/graphql?${params.map(([n, id, tail]) => `${n}${id}${tail}=1`).join('&')}`);
        for (const [, id] of params) expect(out).not.toContain(id);
        expect(out).not.toMatch(/[0-9]{10,}/);
      }),
      { numRuns: 500 },
    );
  });

  it('drops every run of 10 or more digits from the path', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(identifier, fc.string({ unit: fc.constantFrom('a', '/', '-', '.', '_', '%2F'), maxLength: 4 })), { maxLength: 6 }), (parts) => {
        const out = redactQueryString(`/${parts.join('')}`);
        expect(out).not.toMatch(/[0-9]{10,}/);
      }),
      { numRuns: 500 },
    );
  });
});

describe('maskIdentifiers (generated)', () => {
  /** What stands before / after an identifier in JSON log lines, messages and URLs. */
  const before = fc.constantFrom('', ' ', '"', ':', '=', '/', '(', '[', ',', '%22', '%3A', '\n');
  const after = fc.constantFrom('', ' ', '"', ',', ')', ']', '}', '/', '%', '\n', ';');

  it('masks an identifier standing alone, in any surrounding text', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(before, identifier, after), { minLength: 1, maxLength: 4 }), fc.string({ unit: fc.constantFrom('a', ' ', '.', '-'), maxLength: 6 }), (items, gap) => {
        const text = items.map(([b, id, a]) => `${b}${id}${a}`).join(` ${gap} `);
        const out = maskIdentifiers(text);
        for (const [, id] of items) expect(out).not.toContain(id);
        expect(out.split('[id]').length - 1).toBe(items.length);
      }),
      { numRuns: 1000 },
    );
  });

  it('leaves 13-digit millisecond timestamps and longer numbers alone', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[1-9][0-9]{12,15}$/), (n) => {
        expect(maskIdentifiers(`{"time":${n}}`)).toBe(`{"time":${n}}`);
      }),
    );
  });
});
