/**
 * Population subgraph (CSDLQG về dân cư): owns Citizen identity, residence,
 * family links and households. Family links and household members are resolved
 * through the same per-request loaders, so a citizen with parents, spouse and
 * five children costs one `citizens` batch, not eight lookups.
 */
import type { CitizenRecord, HouseholdRecord } from '../../lib/registry-records.js';
import { addressResolvers } from '../shared/address.js';
import { assertIdentifier, badUserInput } from '../shared/errors.js';
import { loadSdl } from '../shared/sdl.js';
import type { SubgraphContext, SubgraphDefinition } from '../shared/server.js';

export interface PopulationCollections {
  citizens: CitizenRecord;
  households: HouseholdRecord;
}
type Ctx = SubgraphContext<PopulationCollections>;

/** Most personal IDs one `citizens(...)` query may ask for (the SDL says so). */
export const MAX_CITIZENS_PER_QUERY = 100;

/**
 * Household IDs have no national format in lib/identifiers.ts (the mocks use
 * HH-<commune code>-<serial>); accept what a registry key can be and refuse the
 * rest before it reaches the registry.
 */
const HOUSEHOLD_ID = /^[A-Za-z0-9][A-Za-z0-9-]{0,39}$/;
function assertHouseholdId(id: unknown): string {
  if (typeof id !== 'string' || !HOUSEHOLD_ID.test(id)) {
    const shown = typeof id === 'string' ? JSON.stringify(id.slice(0, 40)) : String(id);
    throw badUserInput(`Invalid householdId ${shown}: a household ID is 1 to 40 letters, digits or dashes, e.g. HH-00004-000123.`);
  }
  return id;
}

interface HouseholdMemberRef {
  personalId: string;
  relationToHead: string;
}

async function loadCitizen(ctx: Ctx, personalId: string | null): Promise<CitizenRecord | null> {
  return personalId ? ctx.loaders.of('citizens').load(personalId) : null;
}

async function requireCitizen(ctx: Ctx, personalId: string): Promise<CitizenRecord> {
  const c = await ctx.loaders.of('citizens').load(personalId);
  // A dangling link is a registry inconsistency: say so rather than return a wrong null.
  if (!c) throw new Error(`The population registry has no citizen for a linked personal ID`);
  return c;
}

export function populationSubgraph(): SubgraphDefinition<PopulationCollections> {
  return {
    name: 'population',
    typeDefs: loadSdl('population'),
    resolvers: {
      Query: {
        citizen: (_: unknown, args: { personalId: string }, ctx: Ctx) =>
          ctx.loaders.of('citizens').load(assertIdentifier('personalId', args.personalId)),
        citizens: (_: unknown, args: { personalIds: string[] }, ctx: Ctx) => {
          if (args.personalIds.length > MAX_CITIZENS_PER_QUERY) {
            throw badUserInput(`citizens(personalIds) accepts at most ${MAX_CITIZENS_PER_QUERY} personal IDs, got ${args.personalIds.length}; split the request.`);
          }
          // Validate all first so one bad ID fails the field before any registry call.
          const ids = args.personalIds.map((id) => assertIdentifier('personalId', id));
          const loader = ctx.loaders.of('citizens');
          return Promise.all(ids.map((id) => loader.load(id)));
        },
        household: (_: unknown, args: { householdId: string }, ctx: Ctx) =>
          ctx.loaders.of('households').load(assertHouseholdId(args.householdId)),
      },
      Citizen: {
        __resolveReference: (ref: { personalId: string }, ctx: Ctx) =>
          ctx.loaders.of('citizens').load(assertIdentifier('personalId', ref.personalId)),
        father: (c: CitizenRecord, _: unknown, ctx: Ctx) => loadCitizen(ctx, c.fatherId),
        mother: (c: CitizenRecord, _: unknown, ctx: Ctx) => loadCitizen(ctx, c.motherId),
        spouse: (c: CitizenRecord, _: unknown, ctx: Ctx) => loadCitizen(ctx, c.spouseId),
        children: (c: CitizenRecord, _: unknown, ctx: Ctx) => ctx.loaders.loadExisting('citizens', c.childrenIds),
        household: (c: CitizenRecord, _: unknown, ctx: Ctx) =>
          c.householdId ? ctx.loaders.of('households').load(c.householdId) : null,
      },
      Household: {
        head: (h: HouseholdRecord, _: unknown, ctx: Ctx) => requireCitizen(ctx, h.headId),
        members: (h: HouseholdRecord): HouseholdMemberRef[] => h.members,
      },
      HouseholdMember: {
        citizen: (m: HouseholdMemberRef, _: unknown, ctx: Ctx) => requireCitizen(ctx, m.personalId),
      },
      Address: addressResolvers,
    },
  };
}
