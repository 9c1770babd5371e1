import { describe, expect, it } from 'vitest';
import { PROVINCES } from '../mocks/world/admin-units.js';
import { PROVINCIAL_UNITS } from '../lib/provinces.js';

describe('lib/provinces.ts', () => {
  it('lists exactly the 34 provincial units of the mocks (codes and names)', () => {
    expect(PROVINCIAL_UNITS).toHaveLength(34);
    expect(PROVINCIAL_UNITS.map((p) => [p.code, p.name])).toEqual(PROVINCES.map((p) => [p.code, p.name]));
    expect(new Set(PROVINCIAL_UNITS.map((p) => p.nameEn)).size).toBe(34);
  });
});
