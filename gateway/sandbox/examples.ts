/**
 * The example operations preloaded as sandbox tabs. Their variables name real
 * records when the gateway is told which (`npm start` passes the demo world's, see
 * EXAMPLE_SUBJECT_ENV), so running a tab as is returns data rather than null: a
 * newcomer's first query must show the four registries answering. The gateway
 * never generates or reads the mock world itself.
 */
import { validateEnterpriseCode, validateParcelId, validatePersonalId } from '../../lib/identifiers.js';

/** One sandbox tab: an operation, its variables (JSON text) and an optional title for docs. */
export interface SandboxExample {
  title: string;
  query: string;
  /** Variables as an object; rendered as pretty JSON in the variables editor. */
  variables?: Record<string, unknown>;
}

/** The identifier slots set by environment (the group subjects are set in code only). */
type SubjectKey = 'personalId' | 'enterpriseCode' | 'parcelId';

/** The identifiers the examples use. */
export interface ExampleSubjects {
  personalId: string;
  enterpriseCode: string;
  parcelId: string;
  /**
   * Subjects of the group tabs, by group id (e.g. a mother holding a birth notice; a relative
   * and the deceased). Default: `personalId`, and a placeholder relative where one is needed.
   */
  groups?: Record<string, { personalId: string; relatedPersonalId?: string }>;
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

/** The procedure the prefill tab runs: one citizen, no other subject, population registry only. */
export const PREFILL_EXAMPLE_PROCEDURE = 'judicial-record-certificate';

export const PREFILL_QUERY = `# Provide-once prefill (cung cấp thông tin một lần): the e-form of a procedure
# filled from the registries, with where each value came from, and the dossier
# components (thành phần hồ sơ) the citizen no longer submits. The procedure id is
# the purpose: no X-Purpose header is needed. The catalog: { procedures { id name } }.
query Prefill($procedureId: ID!, $personalId: ID!, $dossierId: String) {
  prefill(procedureId: $procedureId, subject: { personalId: $personalId }, dossierId: $dossierId) {
    procedure { id name }
    summary { fieldsPrefilled fieldsForCitizen componentsCut hoursSaved }
    dossierComponents { name status reason }
    fields { label value registry }
  }
}
`;

export const GROUP_PREFILL_QUERY = `# Interconnected group (liên thông, Nghị định 63/2024/NĐ-CP): ONE request fills every
# form of the group. A value shared by several forms is filled once; each dossier
# component is decided once for the whole group. List the groups: { procedureGroups { id name } }.
query PrefillGroup($groupId: ID!, $subject: SubjectInput!, $dossierId: String) {
  prefillGroup(groupId: $groupId, subject: $subject, dossierId: $dossierId) {
    group { id name procedures { id name } }
    summary { forms fieldsShown fieldsTotal fieldsPrefilled componentsTotal componentsCut hoursSaved }
    dossierComponents { code name status reasonCode procedureIds provenance { registry number issuingAgency } }
    forms { procedure { id } fields { label value registry } }
  }
}
`;

/** One sandbox tab per interconnected group of the shipped catalog: id, title, whether it needs the relative. */
export const GROUP_TABS: ReadonlyArray<{ groupId: string; title: string; related: boolean }> = [
  { groupId: 'birth-registration-group', title: 'Group: birth registration (3 forms)', related: false },
  { groupId: 'death-registration-group', title: 'Group: death registration (3 forms)', related: true },
];

/** A well-formed personal ID the user replaces with the deceased relative's. */
const RELATIVE_PLACEHOLDER = '001090000002';

/** The default tabs, in the order shown: the four-registry dossier first. */
export function buildExamples(subjects: ExampleSubjects): SandboxExample[] {
  return [
    { title: 'Citizen dossier (4 registries)', query: CITIZEN_DOSSIER_QUERY, variables: { personalId: subjects.personalId } },
    { title: 'Enterprise lookup', query: ENTERPRISE_QUERY, variables: { enterpriseCode: subjects.enterpriseCode } },
    { title: 'Land parcel lookup', query: LAND_PARCEL_QUERY, variables: { parcelId: subjects.parcelId } },
    {
      title: 'Prefill: judicial record certificate',
      query: PREFILL_QUERY,
      variables: { procedureId: PREFILL_EXAMPLE_PROCEDURE, personalId: subjects.personalId, dossierId: 'HS-SANDBOX-1' },
    },
    ...GROUP_TABS.map((t) => {
      const given = subjects.groups?.[t.groupId];
      const subject = given ?? { personalId: subjects.personalId, ...(t.related ? { relatedPersonalId: RELATIVE_PLACEHOLDER } : {}) };
      return { title: t.title, query: GROUP_PREFILL_QUERY, variables: { groupId: t.groupId, subject, dossierId: 'HS-SANDBOX-1' } };
    }),
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

/** The environment variables naming the example records (development only; `npm start` sets them). */
export const EXAMPLE_SUBJECT_ENV: Readonly<Record<SubjectKey, string>> = {
  personalId: 'SANDBOX_EXAMPLE_PERSONAL_ID',
  enterpriseCode: 'SANDBOX_EXAMPLE_ENTERPRISE_CODE',
  parcelId: 'SANDBOX_EXAMPLE_PARCEL_ID',
};

const VALIDATORS: Readonly<Record<SubjectKey, (value: unknown) => string | null>> = {
  personalId: validatePersonalId,
  enterpriseCode: validateEnterpriseCode,
  parcelId: validateParcelId,
};

const SUBJECT_KEYS = Object.keys(EXAMPLE_SUBJECT_ENV) as SubjectKey[];

/** The environment that hands `subjects` to a gateway process (the inverse of exampleSubjectsFromEnv). */
export function exampleSubjectsToEnv(subjects: ExampleSubjects): Record<string, string> {
  return Object.fromEntries(SUBJECT_KEYS.map((k) => [EXAMPLE_SUBJECT_ENV[k], subjects[k]]));
}

/**
 * The example subjects the environment names, a placeholder for each one left
 * unset; null when none is set. A value that is not a valid identifier stops the
 * start with a message naming the variable (a typo would otherwise show as a tab
 * that answers a validation error).
 */
export function exampleSubjectsFromEnv(env: NodeJS.ProcessEnv): ExampleSubjects | null {
  if (SUBJECT_KEYS.every((k) => !env[EXAMPLE_SUBJECT_ENV[k]])) return null;
  const subjects = { ...PLACEHOLDER_SUBJECTS };
  for (const k of SUBJECT_KEYS) {
    const raw = env[EXAMPLE_SUBJECT_ENV[k]];
    if (!raw) continue;
    const problem = VALIDATORS[k](raw);
    if (problem) throw new Error(`${EXAMPLE_SUBJECT_ENV[k]} is wrong: ${problem} Fix or unset it.`);
    subjects[k] = raw;
  }
  return subjects;
}

/** Throws naming the field when a subject passed in code is not a valid identifier. */
export function checkExampleSubjects(subjects: ExampleSubjects): ExampleSubjects {
  for (const k of SUBJECT_KEYS) {
    const problem = VALIDATORS[k](subjects[k]);
    if (problem) throw new Error(`Sandbox option exampleSubjects.${k} is wrong: ${problem}`);
  }
  return subjects;
}
