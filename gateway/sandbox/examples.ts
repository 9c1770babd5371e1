/**
 * The example operations preloaded as sandbox tabs. Their variables name real
 * records of the demo world, so running a tab as is returns data rather than null:
 * a newcomer's first query must show the four registries answering.
 */
import { findEnterprise, findFullProfileCitizen, findMortgagedParcel } from '../../mocks/world/find.js';
import { indexWorld } from '../../mocks/world/index-world.js';
import type { World } from '../../mocks/world/types.js';

/** One sandbox tab: an operation, its variables (JSON text) and an optional title for docs. */
export interface SandboxExample {
  title: string;
  query: string;
  /** Variables as an object; rendered as pretty JSON in the variables editor. */
  variables?: Record<string, unknown>;
}

/** The identifiers the examples use. */
export interface ExampleSubjects {
  personalId: string;
  enterpriseCode: string;
  parcelId: string;
}

export const CITIZEN_DOSSIER_QUERY = `# One citizen, four registries: identity and residence (population),
# enterprise roles (enterprise), social and health insurance (insurance),
# and land parcels held (land). Press Ctrl+Enter or the ▶ button to run.
query CitizenDossier($personalId: ID!) {
  citizen(personalId: $personalId) {
    personalId
    fullName
    gender
    dateOfBirth
    placeOfBirth
    ethnicity
    nationality
    maritalStatus
    permanentResidence { fullAddress }
    currentResidence { fullAddress }
    identityCard { number issuedOn expiresOn issuedBy }
    household {
      householdId
      head { personalId fullName }
    }
    enterprises {
      role
      enterprise { enterpriseCode name status }
    }
    socialInsurance {
      socialInsuranceNumber
      status
      totalContributionMonths
      currentEmployer { enterpriseCode name }
    }
    healthInsuranceCard {
      cardNumber
      beneficiaryGroup
      registeredFacility
      validTo
      expired
    }
    landParcels {
      parcelId
      address { fullAddress }
      area
      landUsePurpose
      certificate { serial issuedOn }
      mortgaged
    }
  }
}
`;

export const ENTERPRISE_QUERY = `# An enterprise by its enterprise code (mã số doanh nghiệp), with its
# legal representatives and members resolved in the population registry.
query Enterprise($enterpriseCode: ID!) {
  enterprise(enterpriseCode: $enterpriseCode) {
    enterpriseCode
    name
    type
    status
    registeredOn
    charterCapital
    headOffice { fullAddress }
    businessLines { code name main }
    legalRepresentatives {
      fullName
      title
      citizen { personalId dateOfBirth }
    }
    members { fullName sharePercent }
    branches { branchCode name }
    landParcels { parcelId area landUsePurpose }
  }
}
`;

export const LAND_PARCEL_QUERY = `# A land parcel by <commune code>-<map sheet>-<parcel number>, with its
# holders (citizens or enterprises), certificate and mortgages.
query LandParcel($parcelId: ID!) {
  landParcel(parcelId: $parcelId) {
    parcelId
    mapSheetNumber
    parcelNumber
    address { fullAddress }
    area
    landUseCode
    landUsePurpose
    usageTerm
    origin
    holders {
      kind
      name
      sharePercent
      citizen { personalId fullName }
      enterprise { enterpriseCode name }
    }
    certificate { serial bookEntryNumber issuedOn issuedBy }
    mortgaged
    mortgages { mortgagee registeredOn releasedOn }
  }
}
`;

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

  return {
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

/** The default tabs, in the order shown: the four-registry dossier first. */
export function buildExamples(subjects: ExampleSubjects): SandboxExample[] {
  return [
    { title: 'Citizen dossier (4 registries)', query: CITIZEN_DOSSIER_QUERY, variables: { personalId: subjects.personalId } },
    { title: 'Enterprise lookup', query: ENTERPRISE_QUERY, variables: { enterpriseCode: subjects.enterpriseCode } },
    { title: 'Land parcel lookup', query: LAND_PARCEL_QUERY, variables: { parcelId: subjects.parcelId } },
  ];
}

/**
 * Examples for a gateway in front of real registries (production): syntactically
 * valid placeholders the user replaces, since there is no demo world to draw from.
 */
export const PLACEHOLDER_SUBJECTS: ExampleSubjects = {
  personalId: '001090000001',
  enterpriseCode: '0100109106',
  parcelId: '00004-1-1',
};
