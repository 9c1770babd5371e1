/**
 * The records the national registries hold, exactly as their HTTP APIs return them
 * (JSON): the contract between the registries (mocked by `mocks/`, which generates
 * and serves them) and `subgraphs/` (whose upstream clients consume them).
 *
 * Dates are ISO `yyyy-MM-dd` strings, months `yyyy-MM`, money in VND.
 */

export type Gender = 'MALE' | 'FEMALE';

/** Two-level administrative address (province → commune/ward), in force since 1 July 2025. */
export interface AddressRecord {
  provinceCode: string; // 2 digits
  province: string;
  communeCode: string; // 5 digits
  commune: string;
  detail: string | null; // house number, street, hamlet
}

export interface IdentityCardRecord {
  number: string;
  issuedOn: string;
  expiresOn: string | null;
  issuedBy: string;
}

/** Population registry (CSDLQG về dân cư): collection `citizens`, key `personalId`. */
export interface CitizenRecord {
  personalId: string;
  fullName: string;
  gender: Gender;
  dateOfBirth: string;
  placeOfBirth: string; // province name at birth registration (old province, matches the ID's code)
  ethnicity: string;
  religion: string | null;
  nationality: string;
  hometown: AddressRecord;
  permanentResidence: AddressRecord | null;
  temporaryResidence: AddressRecord | null;
  currentResidence: AddressRecord | null;
  maritalStatus: 'SINGLE' | 'MARRIED' | 'DIVORCED' | 'WIDOWED';
  identityCard: IdentityCardRecord | null;
  deceased: boolean;
  dateOfDeath: string | null;
  fatherId: string | null;
  motherId: string | null;
  spouseId: string | null;
  childrenIds: string[];
  householdId: string | null;
  relationToHouseholdHead: string | null;
  /** Phone and e-mail registered with the VNeID account (Nghị định 69/2024/NĐ-CP); null when none. Absent in older fixtures. */
  phone?: string | null;
  email?: string | null;
}

/** Population registry: collection `households`, key `householdId`. */
export interface HouseholdRecord {
  householdId: string;
  headId: string;
  address: AddressRecord;
  members: Array<{ personalId: string; relationToHead: string }>;
}

export type EnterpriseStatus = 'ACTIVE' | 'SUSPENDED' | 'DISSOLVING' | 'DISSOLVED' | 'REVOKED';

/** Enterprise registry (CSDLQG về đăng ký doanh nghiệp): collection `enterprises`, key `enterpriseCode`. */
export interface EnterpriseRecord {
  enterpriseCode: string;
  name: string;
  foreignName: string | null;
  shortName: string | null;
  type: string;
  status: EnterpriseStatus;
  registeredOn: string;
  lastChangedOn: string | null;
  headOffice: AddressRecord;
  charterCapital: number;
  businessLines: Array<{ code: string; name: string; main: boolean }>;
  legalRepresentatives: Array<{ personalId: string; fullName: string; title: string }>;
  members: Array<{ personalId: string; fullName: string; capitalContribution: number; sharePercent: number }>;
  branches: Array<{ branchCode: string; name: string; address: AddressRecord }>;
}

/** Enterprise registry: collection `roles-by-person`, key `personalId` (empty list when none). */
export interface PersonEnterpriseRoles {
  personalId: string;
  roles: Array<{ enterpriseCode: string; role: 'LEGAL_REPRESENTATIVE' | 'MEMBER' }>;
}

/**
 * Insurance registry (CSDL bảo hiểm): collection `social-insurance` keyed by
 * `personalId`, and `social-insurance-by-number` keyed by `socialInsuranceNumber`.
 */
export interface SocialInsuranceRecord {
  socialInsuranceNumber: string;
  personalId: string;
  status: 'PARTICIPATING' | 'PAUSED' | 'LUMP_SUM_PAID' | 'RETIRED';
  totalContributionMonths: number;
  periods: Array<{
    from: string; // yyyy-MM
    to: string | null;
    employerCode: string | null; // enterprise code, null for voluntary participation
    employerName: string;
    salary: number;
    position: string;
  }>;
}

/** Insurance registry: collection `health-insurance` keyed by `personalId`, `health-insurance-by-card` keyed by `cardNumber`. */
export interface HealthInsuranceCardRecord {
  cardNumber: string;
  personalId: string;
  beneficiaryGroup: string;
  benefitLevel: number;
  provinceCode: string;
  registeredFacility: string;
  validFrom: string;
  validTo: string;
}

/** Land registry (CSDLQG về đất đai): collection `parcels`, key `parcelId`; `parcels-by-certificate` keyed by serial. */
export interface LandParcelRecord {
  parcelId: string; // <communeCode>-<mapSheet>-<parcelNumber>
  mapSheetNumber: number;
  parcelNumber: number;
  address: AddressRecord;
  area: number;
  landUseCode: string;
  landUsePurpose: string;
  usageTerm: string;
  origin: string;
  holders: Array<
    | { kind: 'CITIZEN'; personalId: string; name: string; sharePercent: number }
    | { kind: 'ENTERPRISE'; enterpriseCode: string; name: string; sharePercent: number }
  >;
  certificate: { serial: string; bookEntryNumber: string; issuedOn: string; issuedBy: string } | null;
  mortgages: Array<{ mortgagee: string; registeredOn: string; releasedOn: string | null }>;
}

/** Land registry: collection `parcels-by-holder`, key a personalId or an enterpriseCode (empty list when none). */
export interface HolderParcels {
  holderId: string;
  parcelIds: string[];
}

/** The registration fields every civil-status entry (khai sinh, kết hôn, khai tử) carries. */
export interface CivilRegistrationBase {
  /** Số đăng ký in the register book, e.g. `123/2020`. */
  registrationNumber: string;
  /** Number of the extract (trích lục) issued from the entry. */
  extractNumber: string;
  registeredOn: string;
  /** The people's committee (UBND) or mission that registered it. */
  registeringAgency: string;
}

/**
 * Civil-status registry (CSDL hộ tịch điện tử): collection `civil-status`, key `personalId`;
 * null when the database holds nothing for the person. Parents and spouse are personal IDs
 * (null when the entry names none, e.g. a father not declared).
 */
export interface CivilStatusRecord {
  personalId: string;
  birth: (CivilRegistrationBase & { placeOfBirth: string; fatherId: string | null; motherId: string | null }) | null;
  marriage: (CivilRegistrationBase & { spouseId: string }) | null;
  death: (CivilRegistrationBase & { dateOfDeath: string; placeOfDeath: string }) | null;
}

/** A health facility's birth notice (giấy chứng sinh) of a child whose birth is not yet registered. */
export interface BirthNoticeRecord {
  number: string;
  issuedOn: string;
  facility: string;
  /** The name the parents chose, when they gave one to the facility. */
  childFullName: string | null;
  childDateOfBirth: string;
  /** MALE or FEMALE, as Citizen.gender. */
  childSex: 'MALE' | 'FEMALE';
  placeOfBirth: string;
  motherId: string | null;
  fatherId: string | null;
}

/** Civil-status registry: collection `birth-notices-by-parent`, key a parent's personalId (empty list when none). */
export interface ParentBirthNotices {
  personalId: string;
  /** Oldest first. */
  notices: BirthNoticeRecord[];
}

/** Civil-status registry: collection `death-notices`, key the deceased's personalId (giấy báo tử). */
export interface DeathNoticeRecord {
  personalId: string;
  number: string;
  issuedOn: string;
  /** The hospital, or the commune police / people's committee that notified the death. */
  issuer: string;
  dateOfDeath: string;
  placeOfDeath: string;
  /** Broad category (e.g. Bệnh tật, Tai nạn, Tuổi già); null when not stated. */
  causeCategory: string | null;
}

export type DigitisedResultKind =
  | 'BIRTH_EXTRACT'
  | 'MARRIAGE_CERTIFICATE'
  | 'DEATH_EXTRACT'
  | 'MARITAL_STATUS_CONFIRMATION'
  | 'JUDICIAL_RECORD_CERTIFICATE'
  | 'DRIVING_LICENCE'
  | 'DRIVER_HEALTH_CERTIFICATE';

/** A digitised result of an administrative procedure (kết quả giải quyết TTHC số hóa) as the store holds it. */
export interface DigitisedResultRecord {
  kind: DigitisedResultKind;
  title: string;
  number: string;
  issuingAgency: string;
  issuedOn: string;
  /** Last day it may be used; null when it does not expire. */
  validUntil: string | null;
  /** Day it was revoked (thu hồi / hủy); null when never. The status is computed from both at read time. */
  revokedOn: string | null;
  /** The code printed in the result's QR, to check it against the store. */
  verificationCode: string;
  procedureName: string;
  /** Hạng of a driving licence (e.g. B); absent for other kinds. */
  category?: string | null;
}

/** Civil-status registry: collection `digitised-results`, key the holder's personalId (empty list when none). */
export interface CitizenDigitisedResults {
  personalId: string;
  /** Oldest first. */
  results: DigitisedResultRecord[];
}

/** Everything the generator produces; each registry serves its own slice. */
export interface World {
  seed: number;
  /** The date the data describes ("today" for statuses such as expired cards). */
  asOf: string;
  citizens: CitizenRecord[];
  households: HouseholdRecord[];
  enterprises: EnterpriseRecord[];
  socialInsurance: SocialInsuranceRecord[];
  healthInsurance: HealthInsuranceCardRecord[];
  parcels: LandParcelRecord[];
  /** Civil-status registry: registrations, health facilities' notices and digitised results. */
  civilStatus: CivilStatusRecord[];
  birthNotices: ParentBirthNotices[];
  deathNotices: DeathNoticeRecord[];
  digitisedResults: CitizenDigitisedResults[];
}

/** The registries, named as their subgraphs are (one list, in lib/registries.ts). */
export { REGISTRIES, type RegistryName } from './registries.js';
