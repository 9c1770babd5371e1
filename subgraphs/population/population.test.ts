/** The population subgraph over the fixture registry: lookups, family links, households, errors. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURE_IDS, fixtureWorld } from '../../mocks/fixtures/index.js';
import { entitiesQuery, startSubgraphWithStub, type SubgraphUnderTest } from '../test-support.js';

let sg: SubgraphUnderTest;
beforeAll(async () => {
  sg = await startSubgraphWithStub('population');
});
afterAll(async () => {
  await sg?.close();
});

const an = fixtureWorld.citizens.find((c) => c.personalId === FIXTURE_IDS.an)!;

describe('population subgraph', () => {
  it('returns a citizen with identity, residence and family', async () => {
    const res = await sg.query<{ citizen: Record<string, any> }>(
      `query($id: ID!) { citizen(personalId: $id) {
        personalId fullName gender dateOfBirth maritalStatus
        permanentResidence { communeCode fullAddress } hometown { fullAddress }
        identityCard { number expiresOn }
        father { fullName deceased dateOfDeath }
        mother { fullName }
        spouse { fullName spouse { personalId } }
        children { personalId fullName }
        household { householdId head { personalId } members { relationToHead citizen { fullName } } }
        relationToHouseholdHead
      } }`,
      { id: FIXTURE_IDS.an },
    );
    expect(res.errors).toBeUndefined();
    const c = res.data!.citizen;
    expect(c.fullName).toBe(an.fullName);
    expect(c.gender).toBe('MALE');
    const pr = an.permanentResidence!;
    expect(c.permanentResidence.fullAddress).toBe(`${pr.detail}, ${pr.commune}, ${pr.province}`);
    // No house number recorded: the line starts with the commune.
    expect(c.hometown.fullAddress).toBe(`${an.hometown.commune}, ${an.hometown.province}`);
    expect(c.father).toMatchObject({ deceased: true, dateOfDeath: '2019-12-01' });
    expect(c.mother).toBeNull();
    expect(c.spouse.spouse.personalId).toBe(FIXTURE_IDS.an);
    expect(c.children.map((k: { personalId: string }) => k.personalId)).toEqual(an.childrenIds);
    expect(c.household.head.personalId).toBe(FIXTURE_IDS.an);
    expect(c.household.members).toHaveLength(4);
    expect(c.relationToHouseholdHead).toBe('Chủ hộ');
  });

  it('loads the family links of one request in one batch per collection', async () => {
    sg.registry.calls.length = 0;
    await sg.query(`{ citizen(personalId: "${FIXTURE_IDS.an}") { spouse { fullName } children { fullName } father { fullName } } }`);
    // The root lookup (one GET), then one batch for spouse + children + father.
    expect(sg.registry.calls.map((c) => `${c.method} ${c.collection} ${c.keys.length}`)).toEqual([
      'GET citizens 1',
      'POST citizens 4',
    ]);
  });

  it('answers null for an unknown personal ID', async () => {
    const res = await sg.query(`{ citizen(personalId: "${FIXTURE_IDS.unknownPersonalId}") { fullName } }`);
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({ citizen: null });
  });

  it('refuses a malformed personal ID with BAD_USER_INPUT naming the format, before calling the registry', async () => {
    sg.registry.calls.length = 0;
    const res = await sg.query(`{ citizen(personalId: "12345") { fullName } }`);
    expect(res.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(res.errors?.[0]?.message).toContain('12 digits');
    expect(sg.registry.calls).toHaveLength(0);
  });

  it('looks up several citizens at once, null at unknown positions', async () => {
    const ids = [FIXTURE_IDS.binh, FIXTURE_IDS.unknownPersonalId, FIXTURE_IDS.chau];
    const res = await sg.query<{ citizens: Array<{ personalId: string } | null> }>(
      `query($ids: [ID!]!) { citizens(personalIds: $ids) { personalId } }`,
      { ids },
    );
    expect(res.data!.citizens).toEqual([{ personalId: FIXTURE_IDS.binh }, null, { personalId: FIXTURE_IDS.chau }]);
  });

  it('refuses more than 100 personal IDs in one citizens query', async () => {
    const ids = Array.from({ length: 101 }, (_, i) => `0010850${String(i).padStart(5, '0')}`);
    const res = await sg.query(`query($ids: [ID!]!) { citizens(personalIds: $ids) { personalId } }`, { ids });
    expect(res.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(res.errors?.[0]?.message).toContain('at most 100');
  });

  it('looks up a household and refuses a malformed household ID', async () => {
    const ok = await sg.query<{ household: { head: { fullName: string }; address: { fullAddress: string } } }>(
      `{ household(householdId: "${FIXTURE_IDS.household}") { head { fullName } address { fullAddress } } }`,
    );
    expect(ok.data!.household.head.fullName).toBe(an.fullName);
    const bad = await sg.query(`{ household(householdId: "../etc/passwd") { householdId } }`);
    expect(bad.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('resolves Citizen entities for the gateway, null for unknown ones', async () => {
    const res = await sg.query<{ _entities: Array<{ fullName: string } | null> }>(entitiesQuery('Citizen', 'fullName'), {
      representations: [
        { __typename: 'Citizen', personalId: FIXTURE_IDS.dung },
        { __typename: 'Citizen', personalId: FIXTURE_IDS.unknownPersonalId },
      ],
    });
    expect(res.data!._entities).toEqual([{ fullName: 'Nguyễn Văn Dũng' }, null]);
  });

  it('names the registry when it is down, with REGISTRY_UNAVAILABLE', async () => {
    sg.registry.failWith = 503;
    try {
      const res = await sg.query(`{ citizen(personalId: "${FIXTURE_IDS.an}") { fullName } }`);
      expect(res.data).toEqual({ citizen: null });
      expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'REGISTRY_UNAVAILABLE', registry: 'population' });
      expect(res.errors?.[0]?.message).toContain('The population registry (CSDLQG về dân cư) is unavailable');
    } finally {
      sg.registry.failWith = null;
    }
  });

  it('times out a slow registry instead of hanging', async () => {
    const hurried = await startSubgraphWithStub('population', { timeoutMs: 500 });
    hurried.registry.delayMs = 5000;
    try {
      const res = await hurried.query(`{ citizen(personalId: "${FIXTURE_IDS.binh}") { fullName } }`);
      expect(res.errors?.[0]?.message).toContain('timeout after 500 ms');
    } finally {
      hurried.registry.delayMs = 0;
      await hurried.close();
    }
  });

  it('answers /health', async () => {
    const res = await fetch(sg.url.replace('/graphql', '/health'));
    expect(await res.json()).toMatchObject({ status: 'ok', subgraph: 'population' });
  });
});

describe('population subgraph in production mode', () => {
  let prod: SubgraphUnderTest;
  beforeAll(async () => {
    prod = await startSubgraphWithStub('population', { production: true });
  });
  afterAll(async () => {
    await prod?.close();
  });

  it('sends no stack traces', async () => {
    const res = await prod.query(`{ citizen(personalId: "bad") { fullName } }`);
    expect(res.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(JSON.stringify(res.errors)).not.toContain('stacktrace');
  });
});
