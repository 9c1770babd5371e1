/**
 * Finders for tests: pick a citizen, enterprise or parcel with a given profile out of
 * a generated world, so a test asserts against real generated values instead of
 * hard-coded ones. Each finder returns the first match in generation order
 * (deterministic for a seed) and throws, naming what was looked for, when none exists.
 */
import { ageOn } from './dates.js';
import { indexWorld, type WorldIndex } from './index-world.js';
import type {
  CitizenRecord,
  EnterpriseRecord,
  EnterpriseStatus,
  HealthInsuranceCardRecord,
  LandParcelRecord,
  World,
} from './types.js';

export { ageOn } from './dates.js';

export type CitizenPredicate = (citizen: CitizenRecord, index: WorldIndex, world: World) => boolean;

function notFound(world: World, what: string): Error {
  return new Error(
    `No ${what} in the generated world (seed ${world.seed}, ${world.citizens.length} citizens): use a larger world or another seed.`,
  );
}

/** First citizen matching the predicate; throws naming `what` when there is none. */
export function findCitizen(world: World, predicate: CitizenPredicate, what = 'citizen matching the predicate'): CitizenRecord {
  const index = indexWorld(world);
  const found = world.citizens.find((c) => predicate(c, index, world));
  if (!found) throw notFound(world, what);
  return found;
}

/** All citizens matching the predicate, in generation order. */
export function findCitizens(world: World, predicate: CitizenPredicate, limit = Infinity): CitizenRecord[] {
  const index = indexWorld(world);
  const out: CitizenRecord[] = [];
  for (const c of world.citizens) {
    if (out.length >= limit) break;
    if (predicate(c, index, world)) out.push(c);
  }
  return out;
}

/** Age in completed years on the world's asOf date (or at death). */
export function ageOf(world: World, citizen: CitizenRecord): number {
  return ageOn(citizen.dateOfBirth, citizen.dateOfDeath ?? world.asOf);
}

export function isAdult(world: World, c: CitizenRecord): boolean {
  return !c.deceased && ageOf(world, c) >= 18;
}

export function hasEnterpriseRole(index: WorldIndex, c: CitizenRecord): boolean {
  return (index.rolesByPerson.get(c.personalId)?.roles.length ?? 0) > 0;
}

export function holdsLand(index: WorldIndex, c: CitizenRecord): boolean {
  return (index.parcelsByHolder.get(c.personalId)?.parcelIds.length ?? 0) > 0;
}

/** A living adult found in all four registries: enterprise role, social insurance, health card and land. */
export function findFullProfileCitizen(world: World): CitizenRecord {
  return findCitizen(
    world,
    (c, ix) => isAdult(world, c) && hasEnterpriseRole(ix, c) && ix.socialInsurance.has(c.personalId)
      && ix.healthInsurance.has(c.personalId) && holdsLand(ix, c),
    'living adult with an enterprise role, social insurance, a health card and land',
  );
}

export function findDeceasedCitizen(world: World): CitizenRecord {
  return findCitizen(world, (c) => c.deceased, 'deceased citizen');
}

/** A living child under 6; `withCard` selects children who have (true) or still lack (false) a health card. */
export function findChildUnder6(world: World, opts: { withCard?: boolean } = {}): CitizenRecord {
  return findCitizen(
    world,
    (c, ix) => !c.deceased && ageOf(world, c) < 6 && (opts.withCard === undefined || ix.healthInsurance.has(c.personalId) === opts.withCard),
    `child under 6${opts.withCard === undefined ? '' : opts.withCard ? ' with a health card' : ' without a health card'}`,
  );
}

/** A living married citizen whose spouse is alive and who has children. */
export function findMarriedWithChildren(world: World): CitizenRecord {
  return findCitizen(
    world,
    (c, ix) => !c.deceased && c.maritalStatus === 'MARRIED' && c.spouseId !== null && !ix.citizens.get(c.spouseId)?.deceased
      && c.childrenIds.length > 0,
    'married citizen with children',
  );
}

export function findCitizenWithoutInsurance(world: World): CitizenRecord {
  return findCitizen(
    world,
    (c, ix) => isAdult(world, c) && !ix.socialInsurance.has(c.personalId) && !ix.healthInsurance.has(c.personalId),
    'living adult without social or health insurance',
  );
}

export function findCitizenWithoutLand(world: World): CitizenRecord {
  return findCitizen(world, (c, ix) => isAdult(world, c) && !holdsLand(ix, c), 'living adult without land');
}

export function findTemporaryResident(world: World): CitizenRecord {
  return findCitizen(world, (c) => !c.deceased && c.temporaryResidence !== null, 'citizen with a temporary residence');
}

export function findEnterprise(world: World, status: EnterpriseStatus = 'ACTIVE'): EnterpriseRecord {
  const found = world.enterprises.find((e) => e.status === status);
  if (!found) throw notFound(world, `enterprise with status ${status}`);
  return found;
}

export function findEnterpriseWithBranches(world: World): EnterpriseRecord {
  const found = world.enterprises.find((e) => e.branches.length > 0);
  if (!found) throw notFound(world, 'enterprise with branches');
  return found;
}

export function isExpired(world: World, card: HealthInsuranceCardRecord): boolean {
  return card.validTo < world.asOf;
}

export function findExpiredHealthCard(world: World): HealthInsuranceCardRecord {
  const found = world.healthInsurance.find((c) => isExpired(world, c) && !indexWorld(world).citizens.get(c.personalId)?.deceased);
  if (!found) throw notFound(world, 'expired health insurance card of a living citizen');
  return found;
}

export function isMortgaged(parcel: LandParcelRecord): boolean {
  return parcel.mortgages.some((m) => m.releasedOn === null);
}

export function findMortgagedParcel(world: World): LandParcelRecord {
  const found = world.parcels.find(isMortgaged);
  if (!found) throw notFound(world, 'parcel under a mortgage in force');
  return found;
}

/** A parcel held jointly by two citizens (spouses). */
export function findJointParcel(world: World): LandParcelRecord {
  const found = world.parcels.find((p) => p.holders.length > 1);
  if (!found) throw notFound(world, 'parcel held jointly');
  return found;
}

export function findEnterpriseParcel(world: World): LandParcelRecord {
  const found = world.parcels.find((p) => p.holders.some((h) => h.kind === 'ENTERPRISE'));
  if (!found) throw notFound(world, 'parcel held by an enterprise');
  return found;
}
