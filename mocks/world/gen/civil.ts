/**
 * Civil phase: the electronic civil-status database (birth, marriage and death
 * registrations), health facilities' birth and death notices, and the store of
 * digitised TTHC results, all consistent with the population already built:
 * - a birth entry names the parents the population registry records;
 * - spouses share one marriage registration (survivors of a deceased spouse keep it);
 * - a deceased citizen's death entry and death notice carry the recorded date of death;
 * - a birth notice is of a newborn not yet registered (no personal ID yet), born to a
 *   living woman of child-bearing age whose last recorded child is old enough;
 * - results: extracts of those entries, marriage certificates, marital-status
 *   confirmations and judicial-record certificates (6 months' validity), some
 *   expired, some revoked.
 * Realistic gaps: older paper books are only partly digitised, so many older
 * citizens have no entry; most citizens hold no digitised result at all.
 */
import { COMMUNE_BY_CODE, FORMER_PROVINCE_BY_CODE, PROVINCE_BY_CODE, communesOfFormerProvince, type Commune } from '../admin-units.js';
import { MIN_BIRTH_SPACING_DAYS, PARENT_AGE } from '../check.js';
import { addYears, ageOn, dayOf, formatDay, parseDay, yearOf } from '../dates.js';
import { fullNameFor } from '../names.js';
import type { Random } from '../random.js';
import type {
  BirthNoticeRecord,
  CivilRegistrationBase,
  CivilStatusRecord,
  DigitisedResultKind,
  DigitisedResultRecord,
  Gender,
} from '../types.js';
import { lowerFirst, shortName } from './places.js';
import { MERGER_DAY, type Person, type WorldState } from './state.js';

/** The national electronic civil-status database went live in 2016 (Luật Hộ tịch 2014); older books are partly digitised. */
const E_CIVIL_DAY = dayOf(2016, 1, 1);
/** Results are issued as data (Kho kết quả số hóa) from 2020 on. */
const E_RESULT_DAY = dayOf(2020, 1, 1);
/** A birth must be registered within 60 days (Luật Hộ tịch, art. 15): notices older than that are registered. */
export const BIRTH_NOTICE_MAX_AGE_DAYS = 60;
/** Marital-status confirmations and judicial-record certificates are used within 6 months of issue. */
const SIX_MONTHS_DAYS = 182;

const CAUSES: ReadonlyArray<string | null> = ['Bệnh tật', 'Bệnh tật', 'Tuổi già', 'Tuổi già', 'Tai nạn giao thông', 'Tai nạn lao động', null];

export const TITLES: Record<DigitisedResultKind, { title: string; procedure: string }> = {
  BIRTH_EXTRACT: { title: 'Trích lục khai sinh', procedure: 'Đăng ký khai sinh' },
  MARRIAGE_CERTIFICATE: { title: 'Giấy chứng nhận kết hôn', procedure: 'Đăng ký kết hôn' },
  DEATH_EXTRACT: { title: 'Trích lục khai tử', procedure: 'Đăng ký khai tử' },
  MARITAL_STATUS_CONFIRMATION: { title: 'Giấy xác nhận tình trạng hôn nhân', procedure: 'Cấp Giấy xác nhận tình trạng hôn nhân' },
  JUDICIAL_RECORD_CERTIFICATE: { title: 'Phiếu lý lịch tư pháp số 1', procedure: 'Cấp Phiếu lý lịch tư pháp cho công dân Việt Nam' },
  // Issued by the driving phase (gen/driving.ts); listed here so every kind has its title.
  DRIVING_LICENCE: { title: 'Giấy phép lái xe', procedure: 'Cấp giấy phép lái xe' },
  DRIVER_HEALTH_CERTIFICATE: { title: 'Giấy khám sức khỏe của người lái xe', procedure: 'Khám sức khỏe cho người lái xe' },
};

const CODE_CHARS = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';

interface CivilCounters {
  extracts: number;
  notices: number;
  codes: Set<string>;
}

/** The people's committee of a commune, named by the province in force on `day`. */
function committeeOf(commune: Commune, day: number): string {
  const province = day >= MERGER_DAY ? PROVINCE_BY_CODE.get(commune.provinceCode)!.name : FORMER_PROVINCE_BY_CODE.get(commune.formerProvinceCode)!.name;
  return `UBND ${commune.name}, ${lowerFirst(province)}`;
}

function justiceDepartmentOf(commune: Commune, day: number): string {
  const province = day >= MERGER_DAY ? PROVINCE_BY_CODE.get(commune.provinceCode)!.name : FORMER_PROVINCE_BY_CODE.get(commune.formerProvinceCode)!.name;
  return `Sở Tư pháp ${lowerFirst(province)}`;
}

function registration(r: Random, c: CivilCounters, kind: 'KS' | 'KH' | 'KT', commune: Commune, day: number): CivilRegistrationBase {
  const year = yearOf(day);
  c.extracts++;
  return {
    registrationNumber: `${r.int(1, 480)}/${year}`,
    extractNumber: `TL${kind}-${commune.code}-${year}-${String(c.extracts).padStart(6, '0')}`,
    registeredOn: formatDay(day),
    registeringAgency: committeeOf(commune, day),
  };
}

function verificationCode(r: Random, c: CivilCounters): string {
  return uniqueVerificationCode(r, c.codes);
}

/** A QR verification code not yet in `codes` (added to it): 12 characters without look-alikes. */
export function uniqueVerificationCode(r: Random, codes: Set<string>): string {
  let code: string;
  do {
    code = '';
    for (let i = 0; i < 12; i++) code += CODE_CHARS[r.int(0, CODE_CHARS.length - 1)];
  } while (codes.has(code));
  codes.add(code);
  return code;
}

/** Oldest first, as the store lists a holder's results. */
export function byIssueDate(a: DigitisedResultRecord, b: DigitisedResultRecord): number {
  return a.issuedOn < b.issuedOn ? -1 : a.issuedOn > b.issuedOn ? 1 : 0;
}

function result(
  r: Random, c: CivilCounters, kind: DigitisedResultKind, number: string, agency: string, issued: number, validUntil: number | null,
): DigitisedResultRecord {
  return {
    kind,
    title: TITLES[kind].title,
    number,
    issuingAgency: agency,
    issuedOn: formatDay(issued),
    validUntil: validUntil === null ? null : formatDay(validUntil),
    revokedOn: null,
    verificationCode: verificationCode(r, c),
    procedureName: TITLES[kind].procedure,
  };
}

/** Where a birth was registered: the hometown commune when it lies in the birth province, else a commune there. */
function birthCommune(r: Random, p: Person): Commune {
  const code = p.rec.personalId.slice(0, 3);
  const home = COMMUNE_BY_CODE.get(p.rec.hometown.communeCode);
  return home && home.formerProvinceCode === code ? home : r.pick(communesOfFormerProvince(code));
}

/** Chance that an entry registered on `day` is in the electronic database. */
function digitised(r: Random, day: number, old: number): boolean {
  return r.chance(day >= E_CIVIL_DAY ? 0.97 : old);
}

export function buildCivil(s: WorldState, r: Random): void {
  const counters: CivilCounters = { extracts: 0, notices: 0, codes: new Set() };
  const entries = new Map<string, CivilStatusRecord>();
  const results = new Map<string, DigitisedResultRecord[]>();
  const entry = (p: Person): CivilStatusRecord => {
    let e = entries.get(p.rec.personalId);
    if (!e) entries.set(p.rec.personalId, (e = { personalId: p.rec.personalId, birth: null, marriage: null, death: null }));
    return e;
  };
  const give = (p: Person, res: DigitisedResultRecord): void => {
    const list = results.get(p.rec.personalId);
    if (list) list.push(res);
    else results.set(p.rec.personalId, [res]);
  };
  const lastDay = s.asOf - 1;

  for (const p of s.people) {
    // --------------------------------------------------------------- birth
    const registered = Math.min(lastDay, p.birth + r.int(1, 45));
    const oldRate = p.birthYear >= 1990 ? 0.8 : p.birthYear >= 1960 ? 0.5 : 0.25;
    if (registered >= p.birth && digitised(r, registered, oldRate)) {
      const commune = birthCommune(r, p);
      const base = registration(r, counters, 'KS', commune, registered);
      entry(p).birth = { ...base, placeOfBirth: p.rec.placeOfBirth, fatherId: p.rec.fatherId, motherId: p.rec.motherId };
      // Registered since results are data: the extract is in the store; before, a copy was sometimes asked for.
      const issued = registered >= E_RESULT_DAY ? (r.chance(0.9) ? registered : null)
        : r.chance(p.death === null ? 0.3 : 0) ? r.int(Math.max(E_RESULT_DAY, registered), lastDay) : null;
      if (issued !== null) {
        const extract = result(r, counters, 'BIRTH_EXTRACT', base.extractNumber, base.registeringAgency, issued, null);
        if (issued !== registered) extract.procedureName = 'Cấp bản sao trích lục hộ tịch';
        give(p, extract);
      }
    }

    // ------------------------------------------------------------ marriage (once per couple)
    const spouse = p.spouse;
    if (spouse && p.rec.gender === 'MALE' && spouse.rec.spouseId === p.rec.personalId) {
      const husband = p;
      const wife = spouse;
      const earliest = Math.max(addYears(husband.birth, 20), addYears(wife.birth, 18));
      const firstChild = Math.min(...[...husband.children, ...wife.children].filter((ch) => ch.father === husband && ch.mother === wife).map((ch) => ch.birth));
      const bothAlive = Math.min(lastDay, husband.death ?? Infinity, wife.death ?? Infinity);
      // Married before the first child where the ages allow, else any time they were both alive.
      const hasChild = Number.isFinite(firstChild) && firstChild - 200 >= earliest;
      const hi = hasChild ? Math.min(bothAlive, firstChild - 200) : Math.min(bothAlive, addYears(earliest, 8));
      const lo = hasChild ? Math.max(earliest, firstChild - 900) : earliest;
      if (hi >= earliest) {
        const day = r.int(Math.min(lo, hi), hi);
        if (digitised(r, day, 0.55)) {
          const commune = husband.death === null ? husband.commune : wife.commune;
          const base = registration(r, counters, 'KH', commune, day);
          entry(husband).marriage = { ...base, spouseId: wife.rec.personalId };
          const wifeExtract = `TLKH-${commune.code}-${yearOf(day)}-${String(++counters.extracts).padStart(6, '0')}`;
          entry(wife).marriage = { ...base, extractNumber: wifeExtract, spouseId: husband.rec.personalId };
          if (day >= E_RESULT_DAY || r.chance(0.3)) {
            const issued = day >= E_RESULT_DAY ? day : r.int(Math.max(E_RESULT_DAY, day), lastDay);
            // Each spouse holds the certificate (bản chính) in the personal store.
            for (const person of [husband, wife]) {
              if (person.death === null) give(person, result(r, counters, 'MARRIAGE_CERTIFICATE', base.registrationNumber, base.registeringAgency, issued, null));
            }
          }
          // Confirmations of being single, asked for shortly before registering the marriage.
          for (const person of [husband, wife]) {
            const asked = day - r.int(15, 120);
            if (asked >= E_RESULT_DAY && asked >= addYears(person.birth, 18) && r.chance(0.6)) {
              give(person, result(r, counters, 'MARITAL_STATUS_CONFIRMATION', `${r.int(1, 3000)}/${yearOf(asked)}/XNTTHN`, committeeOf(person.commune, asked), asked, asked + SIX_MONTHS_DAYS - 1));
            }
          }
        }
      }
    }

    // --------------------------------------------------------------- death
    if (p.death !== null) {
      const day = Math.min(lastDay, p.death + r.int(1, 14));
      if (day >= p.death && digitised(r, day, 0.45)) {
        const base = registration(r, counters, 'KT', p.commune, day);
        const hospital = r.chance(0.55);
        const province = PROVINCE_BY_CODE.get(p.commune.provinceCode)!;
        const placeOfDeath = hospital ? `Bệnh viện Đa khoa ${p.death >= MERGER_DAY ? lowerFirst(province.name) : lowerFirst(FORMER_PROVINCE_BY_CODE.get(p.commune.formerProvinceCode)!.name)}`
          : `${p.commune.name}, ${province.name}`;
        entry(p).death = { ...base, dateOfDeath: p.rec.dateOfDeath!, placeOfDeath };
        if (day >= E_RESULT_DAY && r.chance(0.9)) give(p, result(r, counters, 'DEATH_EXTRACT', base.extractNumber, base.registeringAgency, day, null));
        if (p.death >= E_CIVIL_DAY && r.chance(0.85)) {
          counters.notices++;
          s.deathNotices.push({
            personalId: p.rec.personalId,
            number: `GBT-${province.code}-${yearOf(p.death)}-${String(counters.notices).padStart(6, '0')}`,
            issuedOn: formatDay(Math.min(lastDay, p.death + r.int(0, 1))),
            issuer: hospital ? placeOfDeath : `Công an ${lowerFirst(p.commune.name)}`,
            dateOfDeath: p.rec.dateOfDeath!,
            placeOfDeath,
            causeCategory: r.pick(CAUSES),
          });
        }
      }
    }

    // ----------------------------------------------- certificates asked by adults
    if (p.death === null && addYears(p.birth, 18) < lastDay) {
      const from = Math.max(E_RESULT_DAY, addYears(p.birth, 18));
      const n = r.chance(0.14) ? r.int(1, 2) : 0;
      for (let i = 0; i < n; i++) {
        // Asked for a procedure at hand: many within the last six months, the rest in the last three years.
        const issued = r.int(Math.max(from, s.asOf - (r.chance(0.4) ? 170 : 3 * 365)), lastDay);
        const res = result(r, counters, 'JUDICIAL_RECORD_CERTIFICATE', `${r.int(1, 25_000)}/${yearOf(issued)}/LLTP`, justiceDepartmentOf(p.commune, issued), issued, issued + SIX_MONTHS_DAYS - 1);
        // A certificate is revoked when a conviction recorded later makes it wrong.
        if (r.chance(0.08) && issued + 5 < lastDay) res.revokedOn = formatDay(r.int(issued + 5, Math.min(lastDay, issued + 90)));
        give(p, res);
      }
      if (p.rec.maritalStatus !== 'MARRIED' && r.chance(0.1)) {
        const issued = r.int(Math.max(from, s.asOf - (r.chance(0.4) ? 170 : 2 * 365)), lastDay);
        const res = result(r, counters, 'MARITAL_STATUS_CONFIRMATION', `${r.int(1, 3000)}/${yearOf(issued)}/XNTTHN`, committeeOf(p.commune, issued), issued, issued + SIX_MONTHS_DAYS - 1);
        if (r.chance(0.05) && issued + 5 < lastDay) res.revokedOn = formatDay(r.int(issued + 5, lastDay));
        give(p, res);
      }
    }

    // -------------------------------------------------------- birth notices
    if (p.rec.gender === 'FEMALE' && p.death === null && r.chance(0.02)) {
      const born = s.asOf - r.int(1, BIRTH_NOTICE_MAX_AGE_DAYS - 5);
      const husband = p.spouse && p.spouse.death === null ? p.spouse : null;
      const ageOk = born >= addYears(p.birth, 19) && born <= addYears(p.birth, 42)
        && (husband === null || ageOn(husband.birth, born) <= PARENT_AGE.max);
      const spacingOk = p.children.every((ch) => born - ch.birth >= MIN_BIRTH_SPACING_DAYS);
      if (ageOk && spacingOk) addBirthNotice(s, r, counters, p, born);
    }
  }

  // A small world still shows every status of a judicial-record certificate.
  const all = [...results.values()].flat().filter((x) => x.kind === 'JUDICIAL_RECORD_CERTIFICATE');
  if (!all.some((x) => x.revokedOn !== null)) {
    const target = all.find((x) => parseDay(x.issuedOn) + 5 < lastDay);
    if (target) target.revokedOn = formatDay(parseDay(target.issuedOn) + 5);
  }

  for (const p of s.people) {
    const e = entries.get(p.rec.personalId);
    if (e) s.civilStatus.push(e);
    const list = results.get(p.rec.personalId);
    if (list) s.digitisedResults.push({ personalId: p.rec.personalId, results: list.sort(byIssueDate) });
  }
}

function addBirthNotice(s: WorldState, r: Random, c: CivilCounters, mother: Person, born: number): void {
  const father = mother.spouse && mother.spouse.death === null && mother.spouse.rec.gender === 'MALE' ? mother.spouse : null;
  const sex: Gender = r.chance(0.512) ? 'MALE' : 'FEMALE';
  const province = PROVINCE_BY_CODE.get(mother.commune.provinceCode)!;
  const facility = r.chance(0.5) ? `Bệnh viện Phụ sản ${shortName(province.name)}` : r.chance(0.6) ? `Bệnh viện Đa khoa ${lowerFirst(province.name)}` : `Trạm Y tế ${mother.commune.name}`;
  const namer = father ?? mother;
  c.notices++;
  const notice: BirthNoticeRecord = {
    number: `GCS-${province.code}-${yearOf(born)}-${String(c.notices).padStart(6, '0')}`,
    issuedOn: formatDay(Math.min(s.asOf - 1, born + r.int(0, 3))),
    facility,
    childFullName: r.chance(0.45) ? fullNameFor(r, sex, yearOf(born), namer.familyName, namer.ethnicity) : null,
    childDateOfBirth: formatDay(born),
    childSex: sex,
    placeOfBirth: `${facility}, ${mother.commune.name}, ${province.name}`,
    motherId: mother.rec.personalId,
    fatherId: father?.rec.personalId ?? null,
  };
  for (const parent of father ? [mother, father] : [mother]) {
    s.birthNotices.push({ personalId: parent.rec.personalId, notices: [notice] });
  }
}
