import { describe, expect, it } from 'vitest';
import type { ProcedureCatalog } from './services.js';
import { isKnownPurpose, knownPurposeIds } from './known-purposes.js';

/** A catalog whose `name` answers for anything: membership must not be read from names. */
const catalog = (groups?: string[]): ProcedureCatalog => ({
  ids: () => ['birth-registration', 'death-registration'],
  name: (id) => `name of ${id}`,
  pathTree: () => null,
  fieldCoordinates: () => null,
  operation: () => null,
  groupProcedures: (id) => (groups?.includes(id) ? ['birth-registration'] : null),
  ...(groups ? { groupIds: () => groups } : {}),
});

const PROBES = ['birth-registration', 'death-registration', 'birth-registration-group', 'made-up-purpose', ''];

describe('known purposes (metrics labels and statistics groups)', () => {
  it('are the procedures and the interconnected groups; an id the client made up is not one', () => {
    const c = catalog(['birth-registration-group']);
    expect(knownPurposeIds(c)).toEqual(['birth-registration', 'death-registration', 'birth-registration-group']);
    expect(PROBES.filter((id) => isKnownPurpose(c, id))).toEqual(['birth-registration', 'death-registration', 'birth-registration-group']);
  });

  it('the list and the check agree, with groups and without', () => {
    for (const c of [catalog(['birth-registration-group']), catalog()]) {
      for (const id of PROBES) expect(isKnownPurpose(c, id), id).toBe(knownPurposeIds(c).includes(id));
    }
    expect(knownPurposeIds(catalog())).toEqual(['birth-registration', 'death-registration']);
  });
});
