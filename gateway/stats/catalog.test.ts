import { describe, expect, it } from 'vitest';
import type { ProcedureCatalog } from '../core/services.js';
import { statsCatalogOf } from './index.js';

const catalog = (groups?: string[]): ProcedureCatalog => ({
  ids: () => ['birth-registration', 'death-registration'],
  name: (id) => (id === 'birth-registration-group' ? 'Liên thông khai sinh' : id),
  pathTree: () => null,
  fieldCoordinates: () => null,
  operation: () => null,
  groupProcedures: (id) => (groups?.includes(id) ? ['birth-registration'] : null),
  ...(groups ? { groupIds: () => groups } : {}),
});

describe('statsCatalogOf', () => {
  it('counts an interconnected group id as a known purpose, not `unknown` (a group request is one record keyed by the group)', () => {
    const ids = statsCatalogOf(catalog(['birth-registration-group']), undefined).procedureIds();
    expect(ids).toEqual(['birth-registration', 'death-registration', 'birth-registration-group']);
  });

  it('works with a catalog that has no groups', () => {
    expect(statsCatalogOf(catalog(), undefined).procedureIds()).toEqual(['birth-registration', 'death-registration']);
  });
});
