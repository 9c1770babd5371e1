/**
 * Driving phase: car and truck driving licences (giấy phép lái xe, integrated into VNeID
 * and held in the store of digitised results) and the driver's health certificates
 * (giấy khám sức khỏe của người lái xe) that health facilities share as data, for the
 * licences due for renewal (Thông tư số 12/2025/TT-BCA, Điều 21; the certificate is
 * valid 12 months).
 *
 * Runs after the civil phase on its own stream, so every other phase's records stay as
 * they were; it adds results to the holders' lists in the store, oldest first.
 * Realistic gaps: most adults hold no car licence (motorbike licences of classes A1/A
 * need no health certificate and are left out); a quarter of the drivers due for renewal
 * have not been examined yet, some certificates are older than 12 months, a few revoked.
 */
import { FORMER_PROVINCE_BY_CODE, PROVINCE_BY_CODE } from '../admin-units.js';
import { addYears, dayOf, formatDay, parseDay } from '../dates.js';
import type { Random } from '../random.js';
import type { DigitisedResultRecord } from '../types.js';
import { TITLES, byIssueDate, uniqueVerificationCode } from './civil.js';
import { lowerFirst } from './places.js';
import { MERGER_DAY, type Person, type WorldState } from './state.js';

/** Licensing moved from the transport departments to the traffic police on 1 March 2025. */
const POLICE_LICENSING_DAY = dayOf(2025, 3, 1);
/** Class and years of validity (Luật TTATGTĐB 2024, Điều 57). */
const CLASSES: ReadonlyArray<readonly [string, number]> = [['B', 10], ['B', 10], ['B', 10], ['C1', 5], ['C', 5]];
/** A licence is due for renewal from 90 days before it expires; one expired up to a year ago is still renewed. */
export const RENEWAL_WINDOW = { beforeExpiry: 90, afterExpiry: 365 };
const HEALTH_CERT_DAYS = 365;

function provinceName(p: Person, day: number): string {
  return lowerFirst(day >= MERGER_DAY ? PROVINCE_BY_CODE.get(p.commune.provinceCode)!.name : FORMER_PROVINCE_BY_CODE.get(p.commune.formerProvinceCode)!.name);
}

function record(r: Random, codes: Set<string>, kind: DigitisedResultRecord['kind'], number: string, agency: string, issued: number, validUntil: number): DigitisedResultRecord {
  return {
    kind, title: TITLES[kind].title, number, issuingAgency: agency, issuedOn: formatDay(issued), validUntil: formatDay(validUntil),
    revokedOn: null, verificationCode: uniqueVerificationCode(r, codes), procedureName: TITLES[kind].procedure,
  };
}

export function buildDriving(s: WorldState, r: Random): void {
  const codes = new Set(s.digitisedResults.flatMap((h) => h.results.map((x) => x.verificationCode)));
  const holders = new Map(s.digitisedResults.map((h) => [h.personalId, h]));
  const lastDay = s.asOf - 1;
  const added = new Map<string, DigitisedResultRecord[]>();
  let serial = 0;
  for (const p of s.people) {
    const from = addYears(p.birth, 18);
    if (p.death !== null || from >= lastDay || !r.chance(p.urban ? 0.3 : 0.15)) continue;
    const [category, years] = r.pick(CLASSES);
    // The current licence: the first one, or the last renewal, issued at most `years` (plus a year of lateness) ago.
    const issued = r.int(Math.max(from, lastDay - (years + 1) * 365), lastDay);
    const validUntil = addYears(issued, years);
    const agency = issued >= POLICE_LICENSING_DAY ? `Phòng Cảnh sát giao thông Công an ${provinceName(p, issued)}` : `Sở Giao thông vận tải ${provinceName(p, issued)}`;
    const number = `${p.commune.formerProvinceCode}${String(++serial).padStart(9, '0')}`;
    const licence = record(r, codes, 'DRIVING_LICENCE', number, agency, issued, validUntil);
    licence.category = category;
    const mine = [licence];
    const due = validUntil - RENEWAL_WINDOW.beforeExpiry <= lastDay && validUntil + RENEWAL_WINDOW.afterExpiry > lastDay;
    if (r.chance(due ? 0.75 : 0.03)) {
      // Examined shortly before applying; a few waited longer than the certificate's 12 months.
      const examined = r.int(Math.max(issued + 1, lastDay - (r.chance(0.75) ? 300 : 540)), lastDay);
      const facility = r.chance(0.6) ? `Bệnh viện Đa khoa ${provinceName(p, examined)}` : `Trung tâm Y tế ${p.commune.name}`;
      const cert = record(r, codes, 'DRIVER_HEALTH_CERTIFICATE', `${String(++serial).padStart(6, '0')}/GKSKLX`, facility, examined, examined + HEALTH_CERT_DAYS - 1);
      if (r.chance(0.03) && examined + 5 < lastDay) cert.revokedOn = formatDay(r.int(examined + 5, lastDay));
      mine.push(cert);
    }
    added.set(p.rec.personalId, mine);
  }
  // A small world still shows a revoked certificate (a facility withdraws one found wrong).
  const certs = [...added.values()].flat().filter((x) => x.kind === 'DRIVER_HEALTH_CERTIFICATE');
  if (!certs.some((x) => x.revokedOn !== null)) {
    const target = certs.find((x) => parseDay(x.issuedOn) + 5 < lastDay);
    if (target) target.revokedOn = formatDay(parseDay(target.issuedOn) + 5);
  }
  // Keep the store in the population's order: merge into a holder's list, or add the holder in place.
  const merged = [];
  for (const p of s.people) {
    const id = p.rec.personalId;
    const old = holders.get(id);
    const more = added.get(id);
    if (!old && !more) continue;
    merged.push({ personalId: id, results: [...(old?.results ?? []), ...(more ?? [])].sort(byIssueDate) });
  }
  s.digitisedResults.splice(0, s.digitisedResults.length, ...merged);
}
