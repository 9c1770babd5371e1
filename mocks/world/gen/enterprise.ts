/**
 * Enterprise phase: enterprises of every type and status whose members and legal
 * representatives are adults of the population (adults when the enterprise was
 * registered), with head office, business lines, branches and charter capital.
 */
import { enterpriseCheckDigit } from '../../../lib/identifiers.js';
import { FORMER_PROVINCE_BY_CODE, PROVINCES, type Commune } from '../admin-units.js';
import { BRAND_WORDS, ENTERPRISE_TYPES, HAMLET_NAMES, SECTORS } from '../catalogs.js';
import { addYears, ageOn, dayOf, formatDay, monthIndex } from '../dates.js';
import { ethnicityByName, toAscii } from '../names.js';
import { weighted, type Random } from '../random.js';
import type { EnterpriseRecord, EnterpriseStatus } from '../types.js';
import { addressIn, ruralDetail, shortName, streetDetail } from './places.js';
import type { EnterpriseInfo, Person, WorldState } from './state.js';

/** Where enterprises register: provinces weighted by population, cities 2.5 times more. */
const BUSINESS_TABLE = weighted(PROVINCES.map((p) => [p, p.populationMillions * (p.kind === 'CITY' ? 2.5 : 1)] as const));

const STATUSES = weighted<EnterpriseStatus>([
  ['ACTIVE', 77], ['SUSPENDED', 7], ['DISSOLVING', 4], ['DISSOLVED', 9], ['REVOKED', 3],
]);

export function buildEnterprises(s: WorldState, r: Random): void {
  const count = Math.max(1, Math.round(s.target / 20));
  const adults = s.people.filter((p) => p.death === null && ageOn(p.birth, s.asOf) >= 21 && ageOn(p.birth, s.asOf) <= 72);
  if (adults.length === 0) return;
  const adultsByProvince = new Map<string, Person[]>();
  for (const p of adults) {
    const list = adultsByProvince.get(p.province.code) ?? [];
    list.push(p);
    adultsByProvince.set(p.province.code, list);
  }
  const codes = new Set<string>();
  const names = new Set<string>();
  for (let i = 0; i < count; i++) {
    const status = r.pickWeighted(STATUSES);
    const e = newEnterprise(s, r, status, adults, adultsByProvince, codes, names);
    if (e) s.enterprises.push(e);
  }
  // Small worlds still show every status, so each one can be tested.
  const seen = new Set(s.enterprises.map((e) => e.rec.status));
  for (const status of ['SUSPENDED', 'DISSOLVING', 'DISSOLVED', 'REVOKED'] as const) {
    if (seen.has(status) || s.enterprises.length < 10) continue;
    const target = s.enterprises.find((e) => e.rec.status === 'ACTIVE' && e.registered <= s.asOf - 800);
    if (!target) continue;
    target.rec.status = status;
    const changed = r.int(Math.max(target.registered + 400, s.asOf - 700), s.asOf - 30);
    target.rec.lastChangedOn = formatDay(changed);
    target.endMonth = monthIndex(changed);
    seen.add(status);
  }
}

function newEnterprise(
  s: WorldState, r: Random, status: EnterpriseStatus, adults: Person[], adultsByProvince: Map<string, Person[]>,
  codes: Set<string>, names: Set<string>,
): EnterpriseInfo | null {
  const type = r.pickWeighted(ENTERPRISE_TYPES);
  const sector = r.pick(SECTORS);
  const province = r.pickWeighted(BUSINESS_TABLE);
  const pool = adultsByProvince.get(province.code) ?? adults;
  const ended = status === 'DISSOLVED' || status === 'REVOKED';
  // Registration years lean recent, as most enterprises alive in the register are young.
  const latestRegistration = s.asOf - (status === 'ACTIVE' ? 30 : 400);
  const registered = Math.max(dayOf(1995, 1, 1), latestRegistration - Math.floor(r.next() ** 1.7 * 30 * 365));
  // Owners were adults when they registered the enterprise.
  const eligible = (p: Person): boolean => addYears(p.birth, 18) <= registered;
  const pickPerson = (taken: Set<Person>): Person | null => {
    for (let attempt = 0; attempt < 30; attempt++) {
      const p = r.pick(attempt < 20 ? pool : adults);
      if (eligible(p) && !taken.has(p)) return p;
    }
    return null;
  };
  const taken = new Set<Person>();
  const memberCount = r.int(type.members[0], type.members[1]);
  const members: Person[] = [];
  for (let i = 0; i < memberCount; i++) {
    const p = pickPerson(taken);
    if (!p) break;
    taken.add(p);
    members.push(p);
  }
  if (members.length === 0) return null;
  // The representative is usually an owner; a single-member company may hire a director.
  const reps: Person[] = [members[0]!];
  if (type.members[1] === 1 && type.prefix !== 'DOANH NGHIỆP TƯ NHÂN' && r.chance(0.2)) {
    const hired = pickPerson(taken);
    if (hired) reps[0] = hired;
  }
  if (type.prefix === 'CÔNG TY CỔ PHẦN' && r.chance(0.25) && members.length > 1) reps.push(members[1]!);
  if (type.prefix === 'CÔNG TY HỢP DANH') reps.splice(0, reps.length, ...members);

  const commune = r.chance(0.5) && reps[0]!.province.code === province.code ? reps[0]!.commune : r.pick(province.communes);
  const code = enterpriseCode(r, commune, codes);
  const brand = r.pick(BRAND_WORDS);
  let core = `${sector.vi} ${brand}`;
  if (names.has(`${type.prefix} ${core}`)) core = `${core} ${shortName(province.name).toUpperCase()}`;
  if (names.has(`${type.prefix} ${core}`)) core = `${core} ${names.size + 1}`;
  const name = `${type.prefix} ${core}`;
  names.add(name);
  const asciiBrand = toAscii(brand);

  const charterCapital = roundCapital(type.capital[0] * (type.capital[1] / type.capital[0]) ** r.next());
  const shares = splitShares(r, members.length);
  const lineCount = Math.min(sector.lines.length, r.int(1, 4));
  const lineStart = r.int(0, sector.lines.length - 1);
  const businessLines = Array.from({ length: lineCount }, (_, i) => {
    const line = sector.lines[(lineStart + i) % sector.lines.length]!;
    return { code: line.code, name: line.name, main: i === 0 };
  });
  let lastChanged: number | null = null;
  if (status === 'ACTIVE') lastChanged = r.chance(0.5) && registered < s.asOf - 60 ? r.int(registered + 30, s.asOf - 1) : null;
  else if (ended) lastChanged = r.int(registered + 365, s.asOf - 30);
  else lastChanged = r.int(Math.max(registered + 180, s.asOf - 730), s.asOf - 1);
  if (lastChanged !== null && lastChanged <= registered) lastChanged = null;
  const branches: EnterpriseRecord['branches'] = [];
  if (status === 'ACTIVE' && r.chance(0.15)) {
    const n = r.int(1, 3);
    for (let i = 1; i <= n; i++) {
      const where = r.pickWeighted(BUSINESS_TABLE);
      const branchCommune = r.pick(where.communes);
      branches.push({
        branchCode: `${code}-${String(i).padStart(3, '0')}`,
        name: `CHI NHÁNH ${shortName(where.name).toUpperCase()} - ${name}`,
        address: addressIn(branchCommune, branchCommune.urban ? streetDetail(r) : `Cụm công nghiệp ${r.pick(HAMLET_NAMES)}`),
      });
    }
  }
  const rec: EnterpriseRecord = {
    enterpriseCode: code,
    name,
    foreignName: type.foreignSuffix ? `${asciiBrand} ${sector.en} ${type.foreignSuffix}` : null,
    shortName: type.shortSuffix ? `${asciiBrand} ${type.shortSuffix}` : null,
    type: type.name,
    status,
    registeredOn: formatDay(registered),
    lastChangedOn: lastChanged === null ? null : formatDay(lastChanged),
    headOffice: addressIn(commune, commune.urban ? streetDetail(r) : `${ruralDetail(r, province.region, ethnicityByName('Kinh'))}`),
    charterCapital,
    businessLines,
    legalRepresentatives: reps.map((p, i) => ({
      personalId: p.rec.personalId,
      fullName: p.rec.fullName,
      title: type.representativeTitles[Math.min(i, type.representativeTitles.length - 1)]!,
    })),
    members: members.map((p, i) => ({
      personalId: p.rec.personalId,
      fullName: p.rec.fullName,
      capitalContribution: Math.round((charterCapital * shares[i]!) / 10_000),
      sharePercent: shares[i]! / 100,
    })),
    branches,
  };
  return { rec, sector, registered, endMonth: status === 'ACTIVE' || lastChanged === null ? null : monthIndex(lastChanged) };
}

/** 10-digit code: tax-office prefix of the province, 7 digits, check digit; unique. */
function enterpriseCode(r: Random, commune: Commune, codes: Set<string>): string {
  const prefix = FORMER_PROVINCE_BY_CODE.get(commune.formerProvinceCode)!.taxPrefix;
  for (;;) {
    const first9 = `${prefix}${String(r.int(0, 9_999_999)).padStart(7, '0')}`;
    const check = enterpriseCheckDigit(first9);
    if (check === null) continue;
    const code = `${first9}${check}`;
    if (codes.has(code)) continue;
    codes.add(code);
    return code;
  }
}

/** Random shares in basis points (1/100 of a percent) summing to exactly 10,000. */
function splitShares(r: Random, n: number): number[] {
  if (n <= 1) return [10_000];
  const weights = Array.from({ length: n }, (_, i) => (i === 0 ? 2 : 1) * (0.3 + r.next()));
  const total = weights.reduce((a, b) => a + b, 0);
  const shares = weights.map((w) => Math.floor((w / total) * 10_000));
  shares[0]! += 10_000 - shares.reduce((a, b) => a + b, 0);
  return shares;
}

/** Charter capital rounded to two significant digits, as registered amounts usually are. */
function roundCapital(amount: number): number {
  const unit = 10 ** Math.max(6, Math.floor(Math.log10(amount)) - 1);
  return Math.round(amount / unit) * unit;
}
