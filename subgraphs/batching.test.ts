/**
 * DataLoader batching: a gateway `_entities` fetch with N representations costs
 * exactly one upstream registry call per collection, whatever N (up to the
 * registry's 500-key batch limit), counted on a stub registry.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makePersonalId } from '../lib/identifiers.js';
import { FIXTURE_IDS } from '../mocks/fixtures/index.js';
import type { RegistryName } from '../lib/registries.js';
import { entitiesQuery, startSubgraphWithStub, type SubgraphUnderTest } from './test-support.js';

const N = 60;
/** The fixture citizens plus unknown but well-formed IDs, so the batch mixes hits and nulls. */
const personalIds = [
  FIXTURE_IDS.an,
  FIXTURE_IDS.binh,
  FIXTURE_IDS.dung,
  FIXTURE_IDS.chau,
  ...Array.from({ length: N - 4 }, (_, i) => makePersonalId('001', i % 2 ? 'FEMALE' : 'MALE', 1960 + (i % 40), 500000 + i)),
];
const citizenReps = (ids: string[]) => ids.map((personalId) => ({ __typename: 'Citizen', personalId }));

const cases: Array<{ registry: RegistryName; selection: string; collections: Record<string, number> }> = [
  { registry: 'population', selection: 'fullName household { householdId }', collections: { citizens: N, households: 1 } },
  {
    registry: 'enterprise',
    selection: 'enterprises { role enterprise { name } }',
    collections: { 'roles-by-person': N, enterprises: 2 },
  },
  {
    registry: 'insurance',
    selection: 'socialInsurance { status } healthInsuranceCard { expired }',
    collections: { 'social-insurance': N, 'health-insurance': N },
  },
  { registry: 'land', selection: 'landParcels { area }', collections: { 'parcels-by-holder': N, parcels: 1 } },
];

describe.each(cases)('$registry subgraph', ({ registry, selection, collections }) => {
  let sg: SubgraphUnderTest;
  beforeAll(async () => {
    sg = await startSubgraphWithStub(registry);
  });
  afterAll(async () => {
    await sg?.close();
  });

  it(`resolves ${N} Citizen entities with one upstream call per collection`, async () => {
    sg.registry.calls.length = 0;
    const res = await sg.query<{ _entities: unknown[] }>(entitiesQuery('Citizen', selection), {
      representations: citizenReps(personalIds),
    });
    expect(res.errors).toBeUndefined();
    expect(res.data!._entities).toHaveLength(N);
    const perCollection: Record<string, number> = {};
    for (const call of sg.registry.calls) perCollection[call.collection] = (perCollection[call.collection] ?? 0) + 1;
    expect(perCollection).toEqual(Object.fromEntries(Object.keys(collections).map((c) => [c, 1])));
    // Each call carries every distinct key of its collection.
    for (const call of sg.registry.calls) expect(call.keys).toHaveLength(collections[call.collection]!);
  });
});

describe('batch limit', () => {
  let sg: SubgraphUnderTest;
  beforeAll(async () => {
    sg = await startSubgraphWithStub('population');
  });
  afterAll(async () => {
    await sg?.close();
  });

  it('splits more than 500 keys into batches of at most 500', async () => {
    const ids = Array.from({ length: 620 }, (_, i) => makePersonalId('079', 'MALE', 1990, 100000 + i));
    sg.registry.calls.length = 0;
    const res = await sg.query<{ _entities: unknown[] }>(entitiesQuery('Citizen', 'fullName'), { representations: citizenReps(ids) });
    expect(res.errors).toBeUndefined();
    expect(res.data!._entities).toHaveLength(620);
    expect(sg.registry.calls.map((c) => c.keys.length).sort((a, b) => a - b)).toEqual([120, 500]);
  });
});
