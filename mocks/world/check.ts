/**
 * Consistency rules of a world, as a list of problems (empty when consistent).
 * The generator's tests run it on generated worlds; anyone handing a hand-made or
 * edited world to `startRegistries({ world })` can run it too.
 */
import {
  parseHealthInsuranceCard,
  personalIdMatches,
  validateCertificateSerial,
  validateEnterpriseCode,
  validateHealthInsuranceCard,
  validateParcelId,
  validatePersonalId,
  validateSocialInsuranceNumber,
} from '../../lib/identifiers.js';
import { COMMUNE_BY_CODE, FORMER_PROVINCE_BY_CODE, PROVINCE_BY_CODE } from './admin-units.js';
import { ageOn, parseDay } from './dates.js';
import type { AddressRecord, CitizenRecord, World } from './types.js';

/** A recorded parent is 18 to 45 years older than the child (completed years at the birth), as the generator makes them. */
export const PARENT_AGE = { min: 18, max: 45 } as const;

function monthNumber(yyyyMM: string): number {
  return Number(yyyyMM.slice(0, 4)) * 12 + Number(yyyyMM.slice(5, 7)) - 1;
}

/** The generator makes no twins: a mother's children are born at least this many days apart. */
export const MIN_BIRTH_SPACING_DAYS = 300;

/** Whether two citizens share a recorded parent (siblings or half-siblings). */
function related(a: CitizenRecord, b: CitizenRecord): boolean {
  return (a.fatherId !== null && a.fatherId === b.fatherId) || (a.motherId !== null && a.motherId === b.motherId);
}

function near(a: number, b: number, tolerance: number): boolean {
  return Math.abs(a - b) <= tolerance;
}

/** Returns at most `limit` problems, each naming the record and the broken rule. */
export function checkWorldConsistency(world: World, limit = 50): string[] {
  const problems: string[] = [];
  const problem = (text: string): void => {
    if (problems.length < limit) problems.push(text);
  };
  const citizens = new Map(world.citizens.map((c) => [c.personalId, c]));
  const enterprises = new Map(world.enterprises.map((e) => [e.enterpriseCode, e]));
  const households = new Map(world.households.map((h) => [h.householdId, h]));
  if (citizens.size !== world.citizens.length) problem('personal IDs are not unique');
  if (enterprises.size !== world.enterprises.length) problem('enterprise codes are not unique');
  if (households.size !== world.households.length) problem('household IDs are not unique');

  const checkAddress = (where: string, a: AddressRecord | null): void => {
    if (!a) return;
    const commune = COMMUNE_BY_CODE.get(a.communeCode);
    const province = PROVINCE_BY_CODE.get(a.provinceCode);
    if (!commune || !province || commune.provinceCode !== a.provinceCode || commune.name !== a.commune || province.name !== a.province) {
      problem(`${where}: address ${JSON.stringify(a)} does not match the administrative units`);
    }
  };

  // ------------------------------------------------------------ population
  const phones = new Set<string>();
  for (const c of world.citizens) {
    const id = c.personalId;
    // VNeID contacts: one account per phone, none for the deceased (older fixtures carry none at all).
    if (c.phone) {
      if (!/^0\d{9}$/.test(c.phone)) problem(`citizen ${id}: phone ${c.phone} is not a 10-digit mobile number`);
      if (phones.has(c.phone)) problem(`citizen ${id}: phone not unique`);
      phones.add(c.phone);
      if (c.deceased) problem(`citizen ${id}: deceased but with a VNeID contact`);
    } else if (c.email) problem(`citizen ${id}: e-mail without a phone (a VNeID account is opened with a phone)`);
    if (validatePersonalId(id)) problem(`citizen ${id}: invalid personal ID`);
    const birthYear = Number(c.dateOfBirth.slice(0, 4));
    if (!personalIdMatches(id, c.gender, birthYear)) problem(`citizen ${id}: ID disagrees with gender ${c.gender} / birth year ${birthYear}`);
    if (FORMER_PROVINCE_BY_CODE.get(id.slice(0, 3))?.name !== c.placeOfBirth) problem(`citizen ${id}: placeOfBirth ${c.placeOfBirth} is not the ID's province`);
    if (c.dateOfBirth > world.asOf) problem(`citizen ${id}: born after asOf`);
    if (c.deceased !== (c.dateOfDeath !== null)) problem(`citizen ${id}: deceased and dateOfDeath disagree`);
    if (c.dateOfDeath !== null && (c.dateOfDeath < c.dateOfBirth || c.dateOfDeath > world.asOf)) problem(`citizen ${id}: dateOfDeath out of range`);
    if (c.deceased && (c.householdId !== null || c.currentResidence !== null)) problem(`citizen ${id}: deceased but still in a household or residence`);
    if (!c.deceased && c.householdId === null) problem(`citizen ${id}: living citizen without a household`);
    if (c.identityCard && c.identityCard.number !== id) problem(`citizen ${id}: identity card number differs from the personal ID`);
    for (const a of [c.hometown, c.permanentResidence, c.temporaryResidence, c.currentResidence]) checkAddress(`citizen ${id}`, a);
    for (const [kind, parentId, gender] of [['father', c.fatherId, 'MALE'], ['mother', c.motherId, 'FEMALE']] as const) {
      if (parentId === null) continue;
      const parent = citizens.get(parentId);
      if (!parent) problem(`citizen ${id}: ${kind} ${parentId} does not exist`);
      else {
        if (parent.gender !== gender) problem(`citizen ${id}: ${kind} has gender ${parent.gender}`);
        if (!parent.childrenIds.includes(id)) problem(`citizen ${id}: ${kind} ${parentId} does not list the child`);
        // Parents are born before their children, so the parent links cannot form a cycle.
        const age = parent.dateOfBirth < c.dateOfBirth ? ageOn(parent.dateOfBirth, c.dateOfBirth) : -1;
        if (age < PARENT_AGE.min || age > PARENT_AGE.max) {
          problem(`citizen ${id}: ${kind} ${parentId} was ${age < 0 ? 'not yet born' : `aged ${age}`} at the birth, expected ${PARENT_AGE.min} to ${PARENT_AGE.max}`);
        }
        if (parent.dateOfDeath !== null && parent.dateOfDeath < c.dateOfBirth) problem(`citizen ${id}: ${kind} ${parentId} died before the birth`);
        if (parentId === c.spouseId) problem(`citizen ${id}: ${kind} ${parentId} is also the spouse`);
      }
    }
    const father = c.fatherId === null ? undefined : citizens.get(c.fatherId);
    const mother = c.motherId === null ? undefined : citizens.get(c.motherId);
    if (father && mother && (related(father, mother) || [father.fatherId, father.motherId].includes(mother.personalId)
      || [mother.fatherId, mother.motherId].includes(father.personalId))) {
      problem(`citizen ${id}: the father and the mother are siblings, or parent and child`);
    }
    if (new Set(c.childrenIds).size !== c.childrenIds.length) problem(`citizen ${id}: a child is listed twice`);
    const births: string[] = [];
    for (const childId of c.childrenIds) {
      const child = citizens.get(childId);
      if (!child) problem(`citizen ${id}: child ${childId} does not exist`);
      else if ((c.gender === 'MALE' ? child.fatherId : child.motherId) !== id) problem(`citizen ${id}: child ${childId} does not point back`);
      else births.push(child.dateOfBirth);
    }
    if (c.gender === 'FEMALE') {
      births.sort();
      for (let i = 1; i < births.length; i++) {
        if (parseDay(births[i]!) - parseDay(births[i - 1]!) < MIN_BIRTH_SPACING_DAYS) problem(`citizen ${id}: two children born less than ${MIN_BIRTH_SPACING_DAYS} days apart`);
      }
    }
    if (c.spouseId !== null) {
      const spouse = citizens.get(c.spouseId);
      if (!spouse) problem(`citizen ${id}: spouse ${c.spouseId} does not exist`);
      else {
        if (spouse.spouseId !== id) problem(`citizen ${id}: spouse ${c.spouseId} does not point back`);
        if (spouse.gender === c.gender) problem(`citizen ${id}: spouse has the same gender`);
        if (related(c, spouse)) problem(`citizen ${id}: spouse ${c.spouseId} is a sibling`);
      }
      if (!c.deceased && c.maritalStatus !== 'MARRIED' && c.maritalStatus !== 'WIDOWED') problem(`citizen ${id}: has a spouse but is ${c.maritalStatus}`);
      if (c.maritalStatus === 'WIDOWED' && !spouse?.deceased) problem(`citizen ${id}: widowed but the spouse is alive`);
    } else if (!c.deceased && (c.maritalStatus === 'MARRIED' || c.maritalStatus === 'WIDOWED')) {
      problem(`citizen ${id}: ${c.maritalStatus} without a spouse`);
    }
    if (c.householdId !== null) {
      const h = households.get(c.householdId);
      const member = h?.members.find((m) => m.personalId === id);
      if (!member) problem(`citizen ${id}: household ${c.householdId} does not list the citizen`);
      else if (member.relationToHead !== c.relationToHouseholdHead) problem(`citizen ${id}: relation to head differs from the household's`);
      if (h && c.permanentResidence !== null && c.permanentResidence.communeCode !== h.address.communeCode) problem(`citizen ${id}: permanent residence is not the household's address`);
    }
  }
  for (const h of world.households) {
    checkAddress(`household ${h.householdId}`, h.address);
    if (!h.householdId.includes(`-${h.address.communeCode}-`)) problem(`household ${h.householdId}: id does not carry its commune code`);
    const heads = h.members.filter((m) => m.relationToHead === 'Chủ hộ');
    if (heads.length !== 1 || heads[0]!.personalId !== h.headId) problem(`household ${h.householdId}: needs exactly one head, the headId`);
    for (const m of h.members) {
      if (citizens.get(m.personalId)?.householdId !== h.householdId) problem(`household ${h.householdId}: member ${m.personalId} does not point back`);
    }
  }

  // ----------------------------------------------------------- enterprises
  for (const e of world.enterprises) {
    const code = e.enterpriseCode;
    if (validateEnterpriseCode(code) || code.includes('-')) problem(`enterprise ${code}: invalid enterprise code`);
    checkAddress(`enterprise ${code}`, e.headOffice);
    if (e.lastChangedOn !== null && e.lastChangedOn < e.registeredOn) problem(`enterprise ${code}: changed before registration`);
    if (e.status !== 'ACTIVE' && e.lastChangedOn === null) problem(`enterprise ${code}: status ${e.status} without a change date`);
    if (e.legalRepresentatives.length === 0 || e.members.length === 0) problem(`enterprise ${code}: no representative or member`);
    if (e.businessLines.filter((l) => l.main).length !== 1) problem(`enterprise ${code}: needs exactly one main business line`);
    for (const b of e.branches) {
      if (!b.branchCode.startsWith(`${code}-`) || validateEnterpriseCode(b.branchCode)) problem(`enterprise ${code}: bad branch code ${b.branchCode}`);
      checkAddress(`branch ${b.branchCode}`, b.address);
    }
    for (const p of [...e.legalRepresentatives, ...e.members]) {
      const c = citizens.get(p.personalId);
      if (!c) problem(`enterprise ${code}: person ${p.personalId} does not exist`);
      else {
        if (c.fullName !== p.fullName) problem(`enterprise ${code}: name of ${p.personalId} differs from the population registry`);
        if (ageOn(c.dateOfBirth, e.registeredOn) < 18) problem(`enterprise ${code}: ${p.personalId} was a minor at registration`);
      }
    }
    const shares = e.members.reduce((s, m) => s + m.sharePercent, 0);
    if (!near(shares, 100, 0.001)) problem(`enterprise ${code}: member shares sum to ${shares}`);
    const capital = e.members.reduce((s, m) => s + m.capitalContribution, 0);
    if (!near(capital, e.charterCapital, e.members.length)) problem(`enterprise ${code}: contributions ${capital} differ from the charter capital`);
  }

  // ------------------------------------------------------------- insurance
  const numbers = new Map<string, string>(); // BHXH number → personalId
  const claim = (number: string, personalId: string, where: string): void => {
    const owner = numbers.get(number);
    if (owner !== undefined && owner !== personalId) problem(`${where}: BHXH number ${number} also belongs to ${owner}`);
    numbers.set(number, personalId);
  };
  const asOfMonth = monthNumber(world.asOf.slice(0, 7));
  const siByPerson = new Map<string, string>();
  for (const s of world.socialInsurance) {
    const where = `social insurance ${s.socialInsuranceNumber}`;
    if (validateSocialInsuranceNumber(s.socialInsuranceNumber)) problem(`${where}: invalid number`);
    if (siByPerson.has(s.personalId)) problem(`${where}: second record for ${s.personalId}`);
    siByPerson.set(s.personalId, s.socialInsuranceNumber);
    claim(s.socialInsuranceNumber, s.personalId, where);
    const c = citizens.get(s.personalId);
    if (!c) problem(`${where}: person ${s.personalId} does not exist`);
    let months = 0;
    let previousEnd = -Infinity;
    s.periods.forEach((p, i) => {
      const from = monthNumber(p.from);
      const to = p.to === null ? asOfMonth : monthNumber(p.to);
      if (p.to === null && i !== s.periods.length - 1) problem(`${where}: open period before the last`);
      if (to < from || from <= previousEnd) problem(`${where}: periods overlap or run backwards at ${p.from}`);
      if (c && from < monthNumber(c.dateOfBirth.slice(0, 7)) + 12 * 15) problem(`${where}: period ${p.from} before age 15`);
      if (c?.dateOfDeath && to > monthNumber(c.dateOfDeath.slice(0, 7))) problem(`${where}: period after death`);
      if (p.employerCode !== null) {
        const employer = enterprises.get(p.employerCode);
        if (!employer) problem(`${where}: employer ${p.employerCode} does not exist`);
        else {
          if (employer.name !== p.employerName) problem(`${where}: employer name differs from the enterprise registry`);
          if (from < monthNumber(employer.registeredOn.slice(0, 7))) problem(`${where}: employed before ${p.employerCode} was registered`);
        }
      }
      if (!(p.salary > 0)) problem(`${where}: salary must be positive`);
      months += to - from + 1;
      previousEnd = to;
    });
    if (months !== s.totalContributionMonths) problem(`${where}: totalContributionMonths ${s.totalContributionMonths}, periods give ${months}`);
    const open = s.periods.at(-1)?.to === null;
    if (open !== (s.status === 'PARTICIPATING')) problem(`${where}: status ${s.status} disagrees with the periods`);
  }
  const cards = new Set<string>();
  const cardPeople = new Set<string>();
  for (const h of world.healthInsurance) {
    const where = `health card ${h.cardNumber}`;
    if (validateHealthInsuranceCard(h.cardNumber)) problem(`${where}: invalid card number`);
    if (cards.has(h.cardNumber)) problem(`${where}: duplicate card number`);
    if (cardPeople.has(h.personalId)) problem(`${where}: second card for ${h.personalId}`);
    cards.add(h.cardNumber);
    cardPeople.add(h.personalId);
    const parts = parseHealthInsuranceCard(h.cardNumber);
    if (parts && (parts.beneficiaryGroup !== h.beneficiaryGroup || parts.benefitLevel !== h.benefitLevel || parts.provinceCode !== h.provinceCode)) {
      problem(`${where}: card number disagrees with its fields`);
    }
    if (!PROVINCE_BY_CODE.has(h.provinceCode)) problem(`${where}: unknown province ${h.provinceCode}`);
    if (parts) {
      claim(parts.socialInsuranceNumber, h.personalId, where);
      const si = siByPerson.get(h.personalId);
      if (si !== undefined && si !== parts.socialInsuranceNumber) problem(`${where}: embeds ${parts.socialInsuranceNumber}, the citizen's BHXH number is ${si}`);
    }
    const c = citizens.get(h.personalId);
    if (!c) problem(`${where}: person ${h.personalId} does not exist`);
    if (h.validFrom > h.validTo) problem(`${where}: validFrom after validTo`);
    if (c && h.validFrom < c.dateOfBirth) problem(`${where}: valid before birth`);
    if (c && h.beneficiaryGroup === 'TE' && ageOn(c.dateOfBirth, h.validFrom) >= 6) problem(`${where}: TE card for a child over 6`);
  }

  // ------------------------------------------------------------------ land
  const parcelIds = new Set<string>();
  const serials = new Set<string>();
  for (const p of world.parcels) {
    const where = `parcel ${p.parcelId}`;
    if (validateParcelId(p.parcelId)) problem(`${where}: invalid parcel id`);
    if (p.parcelId !== `${p.address.communeCode}-${p.mapSheetNumber}-${p.parcelNumber}`) problem(`${where}: id disagrees with commune/sheet/number`);
    if (parcelIds.has(p.parcelId)) problem(`${where}: duplicate parcel id`);
    parcelIds.add(p.parcelId);
    checkAddress(where, p.address);
    if (!(p.area > 0)) problem(`${where}: area must be positive`);
    if (p.certificate) {
      if (validateCertificateSerial(p.certificate.serial)) problem(`${where}: invalid certificate serial`);
      if (serials.has(p.certificate.serial)) problem(`${where}: duplicate certificate serial`);
      serials.add(p.certificate.serial);
      if (p.certificate.issuedOn > world.asOf) problem(`${where}: certificate issued after asOf`);
    }
    for (const m of p.mortgages) {
      if (!p.certificate || m.registeredOn < p.certificate.issuedOn) problem(`${where}: mortgage registered before the certificate`);
      if (m.releasedOn !== null && (m.releasedOn < m.registeredOn || m.releasedOn > world.asOf)) problem(`${where}: mortgage released out of range`);
    }
    const shares = p.holders.reduce((s, h) => s + h.sharePercent, 0);
    if (p.holders.length === 0 || !near(shares, 100, 0.001)) problem(`${where}: holder shares sum to ${shares}`);
    for (const h of p.holders) {
      if (h.kind === 'CITIZEN') {
        const c = citizens.get(h.personalId);
        if (!c) problem(`${where}: holder ${h.personalId} does not exist`);
        else if (c.fullName !== h.name) problem(`${where}: holder name differs from the population registry`);
      } else {
        const e = enterprises.get(h.enterpriseCode);
        if (!e) problem(`${where}: holder ${h.enterpriseCode} does not exist`);
        else if (e.name !== h.name) problem(`${where}: holder name differs from the enterprise registry`);
      }
    }
  }
  // ----------------------------------------------------------------- civil
  checkCivil(world, citizens, problem);
  return problems;
}

/** Civil-status entries agree with the population registry; notices and results with the entries. */
function checkCivil(world: World, citizens: ReadonlyMap<string, CitizenRecord>, problem: (text: string) => void): void {
  const entries = new Map(world.civilStatus.map((e) => [e.personalId, e]));
  if (entries.size !== world.civilStatus.length) problem('civil-status entries are not unique per citizen');
  for (const e of world.civilStatus) {
    const where = `civil status ${e.personalId}`;
    const c = citizens.get(e.personalId);
    if (!c) {
      problem(`${where}: citizen does not exist`);
      continue;
    }
    if (!e.birth && !e.marriage && !e.death) problem(`${where}: an entry holding nothing (the registry answers null instead)`);
    for (const reg of [e.birth, e.marriage, e.death]) {
      if (reg && reg.registeredOn > world.asOf) problem(`${where}: registered after asOf`);
    }
    if (e.birth) {
      if (e.birth.fatherId !== c.fatherId || e.birth.motherId !== c.motherId) problem(`${where}: birth entry names other parents than the population registry`);
      if (e.birth.registeredOn < c.dateOfBirth) problem(`${where}: birth registered before the birth`);
      if (e.birth.placeOfBirth !== c.placeOfBirth) problem(`${where}: place of birth differs from the population registry`);
    }
    if (e.marriage) {
      if (e.marriage.spouseId !== c.spouseId) problem(`${where}: marriage entry names another spouse than the population registry`);
      const other = entries.get(e.marriage.spouseId)?.marriage;
      if (!other || other.spouseId !== e.personalId || other.registrationNumber !== e.marriage.registrationNumber || other.registeredOn !== e.marriage.registeredOn) {
        problem(`${where}: the spouse does not hold the same marriage registration`);
      }
      if (ageOn(c.dateOfBirth, e.marriage.registeredOn) < 18) problem(`${where}: married under 18`);
      if (c.dateOfDeath !== null && e.marriage.registeredOn > c.dateOfDeath) problem(`${where}: married after death`);
    }
    if (e.death) {
      if (e.death.dateOfDeath !== c.dateOfDeath) problem(`${where}: death entry's date differs from the population registry`);
      if (e.death.registeredOn < e.death.dateOfDeath) problem(`${where}: death registered before the death`);
    }
  }
  for (const n of world.deathNotices) {
    const where = `death notice ${n.number}`;
    const c = citizens.get(n.personalId);
    if (!c?.deceased) problem(`${where}: ${n.personalId} is not a deceased citizen`);
    else if (n.dateOfDeath !== c.dateOfDeath) problem(`${where}: date of death differs from the population registry`);
    if (n.issuedOn < n.dateOfDeath || n.issuedOn > world.asOf) problem(`${where}: issued out of range`);
  }
  const noticeHolders = new Set<string>();
  for (const entry of world.birthNotices) {
    if (noticeHolders.has(entry.personalId)) problem(`birth notices of ${entry.personalId}: listed twice`);
    noticeHolders.add(entry.personalId);
    for (const n of entry.notices) {
      const where = `birth notice ${n.number}`;
      if (n.motherId !== entry.personalId && n.fatherId !== entry.personalId) problem(`${where}: filed under ${entry.personalId}, who is neither parent`);
      const mother = n.motherId === null ? undefined : citizens.get(n.motherId);
      if (n.motherId !== null && (!mother || mother.gender !== 'FEMALE')) problem(`${where}: mother ${n.motherId} is not a woman of the population`);
      const father = n.fatherId === null ? undefined : citizens.get(n.fatherId);
      if (n.fatherId !== null && (!father || father.gender !== 'MALE')) problem(`${where}: father ${n.fatherId} is not a man of the population`);
      // Not yet registered: within the registration deadline, so the child has no personal ID yet.
      const days = parseDay(world.asOf) - parseDay(n.childDateOfBirth);
      if (days < 0 || days > 60) problem(`${where}: child born ${n.childDateOfBirth}, not within the 60 days before asOf`);
      if (n.issuedOn < n.childDateOfBirth || n.issuedOn > world.asOf) problem(`${where}: issued out of range`);
      for (const parent of [mother, father]) {
        if (!parent) continue;
        if (parent.deceased) problem(`${where}: parent ${parent.personalId} is deceased`);
        const age = ageOn(parent.dateOfBirth, n.childDateOfBirth);
        if (age < PARENT_AGE.min || age > PARENT_AGE.max) problem(`${where}: parent ${parent.personalId} aged ${age} at the birth`);
      }
      for (const childId of mother?.childrenIds ?? []) {
        const sibling = citizens.get(childId);
        if (sibling && parseDay(n.childDateOfBirth) - parseDay(sibling.dateOfBirth) < MIN_BIRTH_SPACING_DAYS) problem(`${where}: born less than ${MIN_BIRTH_SPACING_DAYS} days after a sibling`);
      }
    }
  }
  const codes = new Set<string>();
  for (const holder of world.digitisedResults) {
    const c = citizens.get(holder.personalId);
    const e = entries.get(holder.personalId);
    if (!c) problem(`digitised results of ${holder.personalId}: citizen does not exist`);
    let previous = '';
    for (const res of holder.results) {
      const where = `digitised result ${res.verificationCode} of ${holder.personalId}`;
      if (codes.has(res.verificationCode)) problem(`${where}: verification code not unique`);
      codes.add(res.verificationCode);
      if (res.issuedOn < previous) problem(`${where}: results not ordered oldest first`);
      previous = res.issuedOn;
      if (res.issuedOn > world.asOf || (c && res.issuedOn < c.dateOfBirth)) problem(`${where}: issued out of range`);
      if (res.validUntil !== null && res.validUntil < res.issuedOn) problem(`${where}: valid until before issue`);
      if (res.revokedOn !== null && (res.revokedOn < res.issuedOn || res.revokedOn > world.asOf)) problem(`${where}: revoked out of range`);
      if (res.kind === 'DRIVER_HEALTH_CERTIFICATE' && !holder.results.some((x) => x.kind === 'DRIVING_LICENCE' && x.issuedOn < res.issuedOn)) problem(`${where}: driver's health certificate without an earlier driving licence`);
      if ((res.kind === 'DRIVING_LICENCE') !== (res.category != null)) problem(`${where}: only a driving licence has a category`);
      const reg = res.kind === 'BIRTH_EXTRACT' ? e?.birth : res.kind === 'MARRIAGE_CERTIFICATE' ? e?.marriage : res.kind === 'DEATH_EXTRACT' ? e?.death : undefined;
      if (['BIRTH_EXTRACT', 'MARRIAGE_CERTIFICATE', 'DEATH_EXTRACT'].includes(res.kind)) {
        if (!reg) problem(`${where}: ${res.kind} without the registration it extracts`);
        else if (res.number !== (res.kind === 'MARRIAGE_CERTIFICATE' ? reg.registrationNumber : reg.extractNumber)) problem(`${where}: number differs from the registration's`);
        else if (res.issuedOn < reg.registeredOn) problem(`${where}: issued before the registration`);
      }
    }
  }
}
