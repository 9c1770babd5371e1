/**
 * Vietnamese national identifiers: format checks shared by the mock registries,
 * the subgraphs (input validation) and the gateway (subject binding, audit HMAC).
 *
 * Each validator returns `null` when the value is valid, or a message naming the
 * expected format, so callers can turn it into a `BAD_USER_INPUT` error as is.
 */

/** Gender + century digit of a personal ID (4th digit): even male, odd female. */
export type Gender = 'MALE' | 'FEMALE';

const PERSONAL_ID = /^\d{12}$/;
const ENTERPRISE_CODE = /^(\d{10})(?:-(\d{3}))?$/;
const SOCIAL_INSURANCE_NUMBER = /^\d{10}$/;
const HEALTH_CARD = /^([A-Z]{2})([1-5])(\d{2})(\d{10})$/;
const PARCEL_ID = /^(\d{5})-(\d{1,3})-(\d{1,5})$/;
const CERTIFICATE_SERIAL = /^[A-Z]{2} \d{6}$/;

export const FORMATS = {
  personalId: 'a personal ID (số định danh cá nhân) is 12 digits: 3-digit province code, gender/century digit, 2-digit birth year, 6 digits',
  enterpriseCode: 'an enterprise code (mã số doanh nghiệp) is 10 digits with a valid check digit, optionally followed by -NNN for a branch',
  socialInsuranceNumber: 'a social insurance number (mã số BHXH) is 10 digits',
  healthInsuranceCard: 'a health insurance card number (mã thẻ BHYT) is 15 characters: 2 capital letters, benefit level 1-5, 2-digit province code, 10-digit BHXH number',
  parcelId: 'a land parcel id is <5-digit commune code>-<map sheet number>-<parcel number>, e.g. 00004-12-345',
  certificateSerial: 'a land certificate serial is 2 capital letters, a space and 6 digits, e.g. DA 123456',
} as const;

export type IdentifierKind = keyof typeof FORMATS;

function invalid(kind: IdentifierKind, value: unknown): string {
  const shown = typeof value === 'string' ? JSON.stringify(value.slice(0, 40)) : String(value);
  return `Invalid ${kind} ${shown}: ${FORMATS[kind]}.`;
}

/** Century digit (0-9) → first year of its century. 0/1 = 1900s, 2/3 = 2000s, ... */
function centuryStart(digit: number): number {
  return 1900 + Math.floor(digit / 2) * 100;
}

export interface PersonalIdParts {
  provinceCode: string;
  gender: Gender;
  birthYear: number;
  serial: string;
}

/** Splits a syntactically valid personal ID; returns null when the format is wrong. */
export function parsePersonalId(id: string): PersonalIdParts | null {
  if (!PERSONAL_ID.test(id)) return null;
  const centuryDigit = Number(id[3]);
  return {
    provinceCode: id.slice(0, 3),
    gender: centuryDigit % 2 === 0 ? 'MALE' : 'FEMALE',
    birthYear: centuryStart(centuryDigit) + Number(id.slice(4, 6)),
    serial: id.slice(6),
  };
}

export function validatePersonalId(id: unknown): string | null {
  if (typeof id !== 'string' || !PERSONAL_ID.test(id)) return invalid('personalId', id);
  const province = Number(id.slice(0, 3));
  if (province < 1 || province > 96) return invalid('personalId', id);
  // Digits 4-9 of the century code would mean births after 2099: not issued yet.
  if (Number(id[3]) > 3) return invalid('personalId', id);
  return null;
}

/** Checks that a personal ID agrees with the recorded gender and year of birth. */
export function personalIdMatches(id: string, gender: Gender, birthYear: number): boolean {
  const parts = parsePersonalId(id);
  return parts !== null && parts.gender === gender && parts.birthYear === birthYear;
}

/** Builds a personal ID from its parts (used by the generator). */
export function makePersonalId(provinceCode: string, gender: Gender, birthYear: number, serial: number): string {
  const century = Math.floor((birthYear - 1900) / 100);
  const digit = century * 2 + (gender === 'FEMALE' ? 1 : 0);
  return `${provinceCode.padStart(3, '0')}${digit}${String(birthYear % 100).padStart(2, '0')}${String(serial).padStart(6, '0')}`;
}

const TAX_WEIGHTS = [31, 29, 23, 19, 17, 13, 7, 5, 3];

/**
 * Check digit of an enterprise code (mã số thuế) from its first 9 digits, or null
 * when the 9 digits cannot carry one (10 − (sum mod 11) = 10 is never issued).
 */
export function enterpriseCheckDigit(first9: string): number | null {
  let sum = 0;
  for (let i = 0; i < 9; i++) sum += Number(first9[i]) * TAX_WEIGHTS[i]!;
  const check = 10 - (sum % 11);
  if (check === 10) return null;
  return check === 11 ? 0 : check;
}

export function validateEnterpriseCode(code: unknown): string | null {
  if (typeof code !== 'string') return invalid('enterpriseCode', code);
  const m = ENTERPRISE_CODE.exec(code);
  if (!m) return invalid('enterpriseCode', code);
  const base = m[1]!;
  if (m[2] === '000') return invalid('enterpriseCode', code);
  const check = enterpriseCheckDigit(base.slice(0, 9));
  if (check === null || check !== Number(base[9])) {
    return `Invalid enterpriseCode ${JSON.stringify(code)}: the check digit does not match (${FORMATS.enterpriseCode}).`;
  }
  return null;
}

export function validateSocialInsuranceNumber(n: unknown): string | null {
  return typeof n === 'string' && SOCIAL_INSURANCE_NUMBER.test(n) ? null : invalid('socialInsuranceNumber', n);
}

export interface HealthCardParts {
  beneficiaryGroup: string;
  benefitLevel: number;
  provinceCode: string;
  socialInsuranceNumber: string;
}

export function parseHealthInsuranceCard(card: string): HealthCardParts | null {
  const m = HEALTH_CARD.exec(card);
  if (!m) return null;
  return { beneficiaryGroup: m[1]!, benefitLevel: Number(m[2]), provinceCode: m[3]!, socialInsuranceNumber: m[4]! };
}

export function validateHealthInsuranceCard(card: unknown): string | null {
  return typeof card === 'string' && HEALTH_CARD.test(card) ? null : invalid('healthInsuranceCard', card);
}

export function validateParcelId(id: unknown): string | null {
  return typeof id === 'string' && PARCEL_ID.test(id) ? null : invalid('parcelId', id);
}

export function validateCertificateSerial(serial: unknown): string | null {
  return typeof serial === 'string' && CERTIFICATE_SERIAL.test(serial) ? null : invalid('certificateSerial', serial);
}

export const VALIDATORS: Record<IdentifierKind, (v: unknown) => string | null> = {
  personalId: validatePersonalId,
  enterpriseCode: validateEnterpriseCode,
  socialInsuranceNumber: validateSocialInsuranceNumber,
  healthInsuranceCard: validateHealthInsuranceCard,
  parcelId: validateParcelId,
  certificateSerial: validateCertificateSerial,
};
