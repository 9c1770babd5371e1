/**
 * The records the gateway's sandbox tabs name in a demo world. The mocks pick them
 * and `npm start` hands them to the gateway (SANDBOX_EXAMPLE_* variables, see
 * gateway/sandbox/examples.ts): the gateway never loads the generator.
 */
import { PLACEHOLDER_SUBJECTS, type ExampleSubjects } from '../../gateway/sandbox/examples.js';
import { findDeceasedWithDeathNotice, findEnterprise, findFullProfileCitizen, findMortgagedParcel, findParentWithBirthNotice } from './find.js';
import { indexWorld } from './index-world.js';
import type { World } from './types.js';

/**
 * Picks the most telling records with the world's own finders: a living adult
 * known to all four registries, an enterprise where that citizen has a role
 * (else the first active one), and a parcel the citizen holds (else a mortgaged
 * one). Deterministic for a world, so docs and tests see the same subjects; a tiny
 * world without such a citizen falls back to the first living one.
 */
export function pickExampleSubjects(world: World): ExampleSubjects {
  const index = indexWorld(world);
  const citizen = orNull(() => findFullProfileCitizen(world)) ?? world.citizens.find((c) => !c.deceased) ?? world.citizens[0];
  if (!citizen) throw new Error('The demo world has no citizens: cannot build sandbox examples (check MOCK_CITIZENS).');

  const roles = index.rolesByPerson.get(citizen.personalId)?.roles ?? [];
  const enterpriseCode =
    roles.find((r) => r.role === 'LEGAL_REPRESENTATIVE')?.enterpriseCode ??
    roles[0]?.enterpriseCode ??
    orNull(() => findEnterprise(world, 'ACTIVE'))?.enterpriseCode ??
    world.enterprises[0]?.enterpriseCode;
  const parcelId =
    index.parcelsByHolder.get(citizen.personalId)?.parcelIds[0] ?? orNull(() => findMortgagedParcel(world))?.parcelId ?? world.parcels[0]?.parcelId;

  // Group tabs: a parent holding a birth notice; a living relative of a deceased citizen with a death notice.
  const groups: NonNullable<ExampleSubjects['groups']> = {};
  const parent = orNull(() => findParentWithBirthNotice(world));
  if (parent) groups['birth-registration-group'] = { personalId: parent.personalId };
  const deceased = orNull(() => findDeceasedWithDeathNotice(world));
  const relative = deceased
    ? world.citizens.find((c) => !c.deceased && (c.fatherId === deceased.personalId || c.motherId === deceased.personalId || c.spouseId === deceased.personalId))
    : undefined;
  if (deceased && relative) groups['death-registration-group'] = { personalId: relative.personalId, relatedPersonalId: deceased.personalId };

  return {
    groups,
    personalId: citizen.personalId,
    // Placeholders that pass format validation keep the tabs runnable (→ null) in a world without enterprises or parcels.
    enterpriseCode: enterpriseCode ?? PLACEHOLDER_SUBJECTS.enterpriseCode,
    parcelId: parcelId ?? PLACEHOLDER_SUBJECTS.parcelId,
  };
}

/** The finders throw when nothing matches; here a missing profile only means a plainer example. */
function orNull<T>(find: () => T): T | null {
  try {
    return find();
  } catch {
    return null;
  }
}
