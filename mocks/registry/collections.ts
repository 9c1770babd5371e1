/**
 * The collections each mock registry serves (docs/ARCHITECTURE.md, "Mock registry
 * HTTP API"): how a key is validated and how a record is looked up in the world.
 */
import {
  FORMATS,
  validateCertificateSerial,
  validateEnterpriseCode,
  validateHealthInsuranceCard,
  validateParcelId,
  validatePersonalId,
  validateSocialInsuranceNumber,
} from '../../lib/identifiers.js';
import type { WorldIndex } from '../world/index-world.js';
import type { RegistryName } from '../world/types.js';

export interface Collection {
  name: string;
  /** What the key is, for messages. */
  keyName: string;
  /** Null when the key is well formed, else a message naming the expected format. */
  validate(key: string): string | null;
  /** The record, or null when the registry holds none for that key. */
  lookup(index: WorldIndex, key: string): unknown;
}

const HOUSEHOLD_ID = /^HH-\d{5}-\d{6}$/;

function validateHouseholdId(key: string): string | null {
  return HOUSEHOLD_ID.test(key)
    ? null
    : `Invalid householdId ${JSON.stringify(key.slice(0, 40))}: a household id is HH-<5-digit commune code>-<6 digits>, e.g. HH-00004-000123.`;
}

/** A land holder is a citizen (12-digit personal ID) or an enterprise (enterprise code). */
function validateHolderId(key: string): string | null {
  if (/^\d{12}$/.test(key)) return validatePersonalId(key);
  if (validateEnterpriseCode(key) === null) return null;
  return `Invalid holder id ${JSON.stringify(key.slice(0, 40))}: expected ${FORMATS.personalId}; or ${FORMATS.enterpriseCode}.`;
}

export const COLLECTIONS: Record<RegistryName, readonly Collection[]> = {
  population: [
    { name: 'citizens', keyName: 'personalId', validate: validatePersonalId, lookup: (ix, k) => ix.citizens.get(k) ?? null },
    { name: 'households', keyName: 'householdId', validate: validateHouseholdId, lookup: (ix, k) => ix.households.get(k) ?? null },
  ],
  enterprise: [
    { name: 'enterprises', keyName: 'enterpriseCode', validate: validateEnterpriseCode, lookup: (ix, k) => ix.enterprises.get(k) ?? null },
    {
      // Always answered: the enterprise registry cannot tell whether a person exists, only which roles it records.
      name: 'roles-by-person', keyName: 'personalId', validate: validatePersonalId,
      lookup: (ix, k) => ix.rolesByPerson.get(k) ?? { personalId: k, roles: [] },
    },
  ],
  insurance: [
    { name: 'social-insurance', keyName: 'personalId', validate: validatePersonalId, lookup: (ix, k) => ix.socialInsurance.get(k) ?? null },
    {
      name: 'social-insurance-by-number', keyName: 'socialInsuranceNumber', validate: validateSocialInsuranceNumber,
      lookup: (ix, k) => ix.socialInsuranceByNumber.get(k) ?? null,
    },
    { name: 'health-insurance', keyName: 'personalId', validate: validatePersonalId, lookup: (ix, k) => ix.healthInsurance.get(k) ?? null },
    {
      name: 'health-insurance-by-card', keyName: 'cardNumber', validate: validateHealthInsuranceCard,
      lookup: (ix, k) => ix.healthInsuranceByCard.get(k) ?? null,
    },
  ],
  land: [
    { name: 'parcels', keyName: 'parcelId', validate: validateParcelId, lookup: (ix, k) => ix.parcels.get(k) ?? null },
    {
      name: 'parcels-by-certificate', keyName: 'certificate serial', validate: validateCertificateSerial,
      lookup: (ix, k) => ix.parcelsByCertificate.get(k) ?? null,
    },
    {
      name: 'parcels-by-holder', keyName: 'holder id (personalId or enterpriseCode)', validate: validateHolderId,
      lookup: (ix, k) => ix.parcelsByHolder.get(k) ?? { holderId: k, parcelIds: [] },
    },
  ],
  civil: [
    { name: 'civil-status', keyName: 'personalId', validate: validatePersonalId, lookup: (ix, k) => ix.civilStatus.get(k) ?? null },
    {
      // Always answered: a parent without pending notices is the common case, not an unknown key.
      name: 'birth-notices-by-parent', keyName: 'personalId', validate: validatePersonalId,
      lookup: (ix, k) => ix.birthNoticesByParent.get(k) ?? { personalId: k, notices: [] },
    },
    { name: 'death-notices', keyName: 'personalId', validate: validatePersonalId, lookup: (ix, k) => ix.deathNotices.get(k) ?? null },
    {
      name: 'digitised-results', keyName: 'personalId', validate: validatePersonalId,
      lookup: (ix, k) => ix.digitisedResults.get(k) ?? { personalId: k, results: [] },
    },
  ],
};

/** The Vietnamese name of each registry, for messages (one table: lib/registries.ts). */
export { REGISTRY_TITLES } from '../../lib/registries.js';
