/**
 * Insurance phases: social insurance (BHXH) participation histories with employers
 * drawn from the enterprises, then health insurance cards whose beneficiary group
 * follows from age, employment and retirement. One BHXH number per person is shared
 * by both (the health card number ends with it).
 */
import { addYears, ageOn, dayOf, formatDay, monthIndex, monthIndexToString, parseDay } from '../dates.js';
import type { Random } from '../random.js';
import type { AddressRecord, Gender, SocialInsuranceRecord } from '../types.js';
import { shortName } from './places.js';
import type { EnterpriseInfo, Person, WorldState } from './state.js';

/** Statutory retirement ages, simplified (the 2021-2035 roadmap raises them gradually). */
const RETIREMENT_AGE: Record<Gender, number> = { MALE: 61, FEMALE: 57 };
/** BHXH Việt Nam was founded in 1995: the first recorded contribution month. */
const FIRST_INSURANCE_MONTH = monthIndex(dayOf(1995, 1, 1));
/** Voluntary social insurance exists since 2008. */
const FIRST_VOLUNTARY_MONTH = monthIndex(dayOf(2008, 1, 1));

// --------------------------------------------------------- social insurance

/** One 10-digit BHXH number per person: 2-digit province of first registration + 8 digits. */
function insuranceNumberOf(s: WorldState, r: Random, p: Person): string {
  const existing = s.insuranceNumbers.get(p.rec.personalId);
  if (existing) return existing;
  const prefix = p.province.code;
  const last = s.insuranceSerials.get(prefix);
  const serial = last === undefined ? r.int(0, 99_999) : last + r.int(1, 61);
  if (serial > 99_999_999) throw new Error(`Social insurance numbers exhausted for province ${prefix}.`);
  s.insuranceSerials.set(prefix, serial);
  const number = `${prefix}${String(serial).padStart(8, '0')}`;
  s.insuranceNumbers.set(p.rec.personalId, number);
  return number;
}

export function buildSocialInsurance(s: WorldState, r: Random): void {
  const sorted = [...s.enterprises].sort((a, b) => a.registered - b.registered);
  const regMonths = sorted.map((e) => monthIndex(e.registered));
  const memberOf = new Set<string>();
  for (const e of s.enterprises) for (const m of e.rec.members) memberOf.add(m.personalId);
  const pickEmployer = (month: number): EnterpriseInfo | null => {
    // Enterprises registered before that month (binary search on the sorted list).
    let lo = 0;
    let hi = regMonths.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (regMonths[mid]! <= month) lo = mid + 1;
      else hi = mid;
    }
    for (let attempt = 0; attempt < 4 && lo > 0; attempt++) {
      const e = sorted[r.int(0, lo - 1)]!;
      if (e.endMonth === null || e.endMonth > month + 2) return e;
    }
    return null;
  };
  for (const p of s.people) {
    const end = p.death ?? s.asOf;
    const age = ageOn(p.birth, end);
    if (age < 18) continue;
    const retireAge = RETIREMENT_AGE[p.rec.gender];
    let rate: number;
    if (p.death !== null) rate = 0.35;
    else if (age <= 22) rate = 0.2;
    else if (age < retireAge) rate = p.urban ? 0.62 : 0.4;
    else rate = 0.45;
    if (memberOf.has(p.rec.personalId)) rate += 0.2;
    if (!r.chance(rate)) continue;

    const retirement = monthIndex(addYears(p.birth, retireAge));
    let target: 'PARTICIPATING' | 'PAUSED' | 'LUMP_SUM_PAID' | 'RETIRED';
    let stop: number; // first month not contributed
    if (p.death !== null) {
      target = 'PAUSED';
      stop = Math.min(monthIndex(p.death) - r.int(0, 24), retirement);
      if (stop === retirement) target = 'RETIRED';
    } else if (age >= retireAge) {
      target = 'RETIRED';
      stop = retirement;
    } else {
      const u = r.next();
      target = u < 0.78 ? 'PARTICIPATING' : u < 0.93 ? 'PAUSED' : 'LUMP_SUM_PAID';
      stop = target === 'PARTICIPATING' ? s.asOfMonth + 1
        : target === 'PAUSED' ? s.asOfMonth - r.int(2, 30) : s.asOfMonth - r.int(13, 72);
    }
    const start = Math.max(FIRST_INSURANCE_MONTH, monthIndex(addYears(p.birth, r.int(18, 27))));
    if (stop - start < 3) continue;

    const periods: SocialInsuranceRecord['periods'] = [];
    let cursor = start;
    let open = false;
    while (cursor < stop) {
      const employer = r.chance(0.9) ? pickEmployer(cursor) : null;
      if (!employer && cursor < FIRST_VOLUNTARY_MONTH) {
        cursor += r.int(6, 18);
        continue;
      }
      let last = Math.min(cursor + r.int(6, 96) - 1, stop - 1);
      if (employer?.endMonth != null) last = Math.min(last, employer.endMonth);
      const reachesToday = last >= s.asOfMonth && target === 'PARTICIPATING';
      const year = Math.floor(cursor / 12);
      const inflation = 1.07 ** (year - 2026);
      const base = employer ? r.int(5_300, 38_000) : r.int(1_500, 8_000);
      periods.push({
        from: monthIndexToString(cursor),
        to: reachesToday ? null : monthIndexToString(Math.min(last, s.asOfMonth)),
        employerCode: employer ? employer.rec.enterpriseCode : null,
        employerName: employer ? employer.rec.name : 'Tham gia BHXH tự nguyện',
        salary: Math.max(300_000, Math.round((base * inflation) ) * 1000),
        position: employer ? r.pick(employer.sector.positions) : 'Lao động tự do',
      });
      if (reachesToday) {
        open = true;
        break;
      }
      cursor = last + 1 + (r.chance(0.5) ? 0 : r.int(1, 10));
    }
    if (periods.length === 0) continue;
    let months = 0;
    for (const period of periods) {
      const from = monthFromString(period.from);
      const to = period.to === null ? s.asOfMonth : monthFromString(period.to);
      months += to - from + 1;
    }
    let status: SocialInsuranceRecord['status'];
    if (open) status = 'PARTICIPATING';
    else if (target === 'RETIRED') status = months >= 180 ? 'RETIRED' : 'LUMP_SUM_PAID';
    else if (target === 'LUMP_SUM_PAID') status = 'LUMP_SUM_PAID';
    else status = 'PAUSED';
    s.socialInsurance.push({
      socialInsuranceNumber: insuranceNumberOf(s, r, p),
      personalId: p.rec.personalId,
      status,
      totalContributionMonths: months,
      periods,
    });
  }
}

// ---------------------------------------------------------- health insurance

export function buildHealthInsurance(s: WorldState, r: Random): void {
  const participation = new Map(s.socialInsurance.map((s) => [s.personalId, s]));
  for (const p of s.people) {
    const age = ageOn(p.birth, p.death ?? s.asOf);
    const si = participation.get(p.rec.personalId);
    let group: string;
    let level: number;
    let validFrom: number;
    let validTo: number;
    if (p.death !== null) {
      if (!r.chance(0.5)) continue;
      group = si?.status === 'RETIRED' ? 'HT' : 'GD';
      level = group === 'HT' ? 3 : 4;
      validTo = p.death;
      validFrom = Math.max(p.birth, validTo - r.int(30, 330));
    } else if (age < 6) {
      // Children under 6 are covered free (TE) until the day before their 6th birthday; some newborns wait for the card.
      if (!r.chance(0.7)) continue;
      group = 'TE';
      level = 1;
      validFrom = p.birth + r.int(0, 60);
      if (validFrom > s.asOf) validFrom = p.birth;
      validTo = addYears(p.birth, 6) - 1;
    } else {
      const expired = r.chance(0.09);
      const employed = si?.status === 'PARTICIPATING' && si.periods[si.periods.length - 1]!.employerCode !== null;
      if (employed) [group, level] = ['DN', 4];
      else if (si?.status === 'RETIRED') [group, level] = ['HT', 3];
      else if (age < 18) [group, level] = ['HS', 4];
      else if (age <= 22 && r.chance(0.6)) [group, level] = ['SV', 4];
      else if (age >= 80) [group, level] = ['BT', 2];
      else if (p.ethnicity.name !== 'Kinh' && p.province.region !== 'RED_RIVER_DELTA' && r.chance(0.6)) [group, level] = ['DT', 2];
      else {
        const u = r.next();
        if (u < 0.14) continue; // no card: many self-employed adults do not buy household insurance
        [group, level] = u < 0.2 ? ['HN', 2] : u < 0.27 ? ['CN', 3] : ['GD', 4];
      }
      validTo = expired ? s.asOf - r.int(1, 500) : s.asOf + r.int(20, 400);
      validFrom = Math.max(p.birth, validTo - 364);
    }
    const number = insuranceNumberOf(s, r, p);
    const residence = p.rec.currentResidence ?? p.rec.permanentResidence;
    const provinceCode = residence?.provinceCode ?? p.province.code;
    s.healthInsurance.push({
      cardNumber: `${group}${level}${provinceCode}${number}`,
      personalId: p.rec.personalId,
      beneficiaryGroup: group,
      benefitLevel: level,
      provinceCode,
      registeredFacility: facility(r, residence, age),
      validFrom: formatDay(validFrom),
      validTo: formatDay(validTo),
    });
  }
  // A small world still has at least one expired card.
  if (!s.healthInsurance.some((c) => c.validTo < formatDay(s.asOf))) {
    const card = s.healthInsurance.find((c) => c.beneficiaryGroup === 'GD' || c.beneficiaryGroup === 'DN');
    if (card) {
      const validTo = s.asOf - r.int(10, 200);
      card.validTo = formatDay(validTo);
      card.validFrom = formatDay(Math.max(parseDay(s.byId.get(card.personalId)!.rec.dateOfBirth), validTo - 364));
    }
  }
}

function facility(r: Random, residence: AddressRecord | null, age: number): string {
  if (!residence) return 'Trạm Y tế';
  const commune = shortName(residence.commune);
  const province = shortName(residence.province);
  const u = r.next();
  if (u < (age < 18 ? 0.6 : 0.35)) return `Trạm Y tế ${residence.commune}`;
  if (u < 0.7) return `Trung tâm Y tế khu vực ${commune}`;
  return residence.province.startsWith('Thành phố') ? `Bệnh viện Đa khoa ${province}` : `Bệnh viện Đa khoa tỉnh ${province}`;
}

function monthFromString(yyyyMM: string): number {
  return Number(yyyyMM.slice(0, 4)) * 12 + Number(yyyyMM.slice(5, 7)) - 1;
}
