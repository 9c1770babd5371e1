import { readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EnvError, EnvReader, unknownVariables } from './env-options.js';
import { REPO_ROOT } from './repo-root.js';

describe('EnvReader', () => {
  it('unset or empty is the default; a value is parsed strictly, the error names the variable', () => {
    const r = new EnvReader({ A: '', B: '12', C: '12abc', D: '-3', E: '1.5', F: ' 7 ' });
    expect(r.int('A')).toBeUndefined();
    expect(r.int('MISSING')).toBeUndefined();
    expect(r.int('B')).toBe(12);
    expect(r.int('F')).toBe(7);
    for (const name of ['C', 'D', 'E']) expect(() => r.int(name)).toThrow(new RegExp(`^${name}=`));
    expect(() => r.int('B', { max: 10 })).toThrow(EnvError);
    expect(r.number('E')).toBe(1.5);
    expect(() => r.number('D')).toThrow(/D="-3" is not a number >= 0/);
    expect(() => new EnvReader({ R: '0' }).number('R', { exclusiveMin: true })).toThrow(/R="0" is not a number > 0/);
  });

  it('accepts exactly the integers in range (generated)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.integer({ min: -1000, max: 100_000 }).map(String), fc.string()), (raw) => {
        const r = new EnvReader({ X: raw });
        const n = Number(raw.trim());
        const valid = raw.trim() !== '' && /^[+-]?\d+$/.test(raw.trim()) && n >= 1 && n <= 65535;
        if (raw === '') expect(r.int('X', { min: 1, max: 65535 })).toBeUndefined();
        else if (valid) expect(r.int('X', { min: 1, max: 65535 })).toBe(n);
        else expect(() => r.int('X', { min: 1, max: 65535 })).toThrow(/^X=/);
      }),
    );
  });

  it('flags are on/off words; anything else stops the start', () => {
    const r = new EnvReader({ A: 'off', B: 'TRUE', C: 'maybe' });
    expect([r.flag('A'), r.flag('B'), r.flag('UNSET')]).toEqual([false, true, undefined]);
    expect(() => r.flag('C')).toThrow(/C="maybe" is neither on nor off/);
  });

  it('reports set variables with a known prefix that nobody read, with the closest known name', () => {
    const r = new EnvReader({ LIMIT_MAX_DEPHT: '8', LIMIT_MAX_DEPTH: '9', SUBGRAPH_URL_POPULATION: 'http://x', CACHE_WHATEVER: '1', OTHER: '1' });
    r.int('LIMIT_MAX_DEPTH');
    r.named('SUBGRAPH_URL');
    expect(unknownVariables(r, ['LIMIT_', 'SUBGRAPH_', 'CACHE_']).map((u) => [u.name, u.suggestion])).toEqual([
      ['CACHE_WHATEVER', null],
      ['LIMIT_MAX_DEPHT', 'LIMIT_MAX_DEPTH'],
    ]);
  });
});

describe('the audit concern knows the variables its configuration reads', () => {
  it('every AUDIT_* read by gateway/audit/config.ts is in AUDIT_VARIABLES', async () => {
    const { AUDIT_VARIABLES } = await import('../gateway/audit/index.js');
    const text = readFileSync(path.join(REPO_ROOT, 'gateway/audit/config.ts'), 'utf8');
    const read = new Set([...text.matchAll(/env\.(AUDIT_[A-Z_]+)/g)].map((m) => m[1]!));
    expect([...read].filter((v) => !(AUDIT_VARIABLES as readonly string[]).includes(v))).toEqual([]);
  });
});
