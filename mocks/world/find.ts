/**
 * Finders for tests: pick a citizen, enterprise or parcel with a given profile out of
 * a generated world, so a test asserts against real generated values instead of
 * hard-coded ones. Each finder returns the first match in generation order
 * (deterministic for a seed) and throws, naming what was looked for, when none exists.
 */
import { digitisedResultStatus, newestResult, type DigitisedResultStatus } from '../../lib/digitised-result-status.js';
import { ageOn } from './dates.js';
import { indexWorld, type WorldIndex } from './index-world.js';
import type {
  CitizenRecord,
  DigitisedResultKind,
  DigitisedResultRecord,
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

/** The newest digitised result of a kind a citizen holds, or null. */
export function newestResultOf(index: WorldIndex, c: CitizenRecord, kind: DigitisedResultKind): DigitisedResultRecord | null {
  return newestResult(index.digitisedResults.get(c.personalId)?.results ?? [], kind);
}

/** A living citizen whose newest result of `kind` has `status` on the world's asOf (as the civil subgraph computes it). */
export function findCitizenWithResult(world: World, kind: DigitisedResultKind, status: DigitisedResultStatus): CitizenRecord {
  return findCitizen(world, (c, ix) => {
    const r = !c.deceased || kind === 'DEATH_EXTRACT' ? newestResultOf(ix, c, kind) : null;
    return r !== null && digitisedResultStatus(r, world.asOf) === status;
  }, `citizen whose newest ${kind} is ${status}`);
}

/** A living adult the civil-status database holds nothing for, with no digitised result either. */
export function findCitizenWithoutCivilRecord(world: World): CitizenRecord {
  return findCitizen(world, (c, ix) => isAdult(world, c) && !ix.civilStatus.has(c.personalId) && !ix.digitisedResults.has(c.personalId),
    'living adult without any civil-status entry or digitised result');
}

/** A mother holding a health facility's birth notice of a newborn not yet registered. */
export function findParentWithBirthNotice(world: World): CitizenRecord {
  return findCitizen(world, (c, ix) => c.gender === 'FEMALE' && (ix.birthNoticesByParent.get(c.personalId)?.notices.length ?? 0) > 0,
    'mother with a birth notice');
}

/** A deceased citizen with a registered death and a death notice. */
export function findDeceasedWithDeathNotice(world: World): CitizenRecord {
  return findCitizen(world, (c, ix) => c.deceased && ix.deathNotices.has(c.personalId) && ix.civilStatus.get(c.personalId)?.death != null,
    'deceased citizen with a death registration and a death notice');
}

/** A living citizen whose birth entry names both parents, the father married with a marriage registration. */
export function findChildOfRegisteredMarriage(world: World): CitizenRecord {
  return findCitizen(world, (c, ix) => {
    const birth = ix.civilStatus.get(c.personalId)?.birth;
    return !c.deceased && !!birth?.fatherId && !!birth.motherId && !!ix.civilStatus.get(birth.fatherId)?.marriage;
  }, "living citizen whose birth entry names both parents and whose father's marriage is registered");
}
