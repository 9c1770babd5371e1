/**
 * Generated tests for the dossier- and procedure-id rule (lib/purpose-ids.ts): every id it
 * admits is a harmless spreadsheet cell and a plain log token; anything outside the alphabet
 * or over the length is refused.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isDossierId, isProcedureId } from './purpose-ids.js';

const DOSSIER_ALPHABET = /^[A-Za-z0-9._\-/]$/;

describe('dossier id rule (generated)', () => {
  it('an admitted dossier id never starts a formula and holds no CSV or log delimiter', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (s) => {
        if (!isDossierId(s)) return;
        expect(s.length).toBeGreaterThanOrEqual(1);
        expect(s.length).toBeLessThanOrEqual(64);
        expect('=+-@\t\r'.includes(s[0]!)).toBe(false);
        expect(s).not.toMatch(/[",;\r\n\t '`=+@%<>\\]/);
      }),
      { numRuns: 2000 },
    );
  });

  it('one character outside the alphabet anywhere, or a 65th character, is refused', () => {
    const ok = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._\-/]{0,40}$/);
    const bad = fc.string({ minLength: 1, maxLength: 1 }).filter((c) => !DOSSIER_ALPHABET.test(c));
    fc.assert(
      fc.property(ok, bad, fc.nat(), (id, c, at) => {
        expect(isDossierId(id)).toBe(true);
        const i = at % (id.length + 1);
        expect(isDossierId(id.slice(0, i) + c + id.slice(i))).toBe(false);
        expect(isDossierId(id.padEnd(65, 'a'))).toBe(false);
      }),
      { numRuns: 1000 },
    );
  });

  it('a leading formula character is refused whatever follows', () => {
    fc.assert(
      fc.property(fc.constantFrom('=', '+', '-', '@', '.', '/', '_'), fc.stringMatching(/^[A-Za-z0-9]{0,20}$/), (lead, rest) => {
        expect(isDossierId(lead + rest)).toBe(false);
      }),
    );
  });
});

describe('procedure id rule (generated)', () => {
  it('an admitted procedure id is a lowercase slug of at most 80 characters', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 100 }), (s) => {
        if (!isProcedureId(s)) return;
        expect(s).toMatch(/^[a-z0-9][a-z0-9-]*$/);
        expect(s.length).toBeLessThanOrEqual(80);
      }),
      { numRuns: 2000 },
    );
  });
});
