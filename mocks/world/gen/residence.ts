/**
 * Residence phase: temporary residence of migrant workers and students (in the big
 * cities), no current residence for the deceased, and identity cards (CCCD, then
 * "thẻ căn cước") with their renewal milestones.
 */
import { PROVINCE_BY_CODE } from '../admin-units.js';
import { addYears, ageOn, dayOf, formatDay } from '../dates.js';
import type { Random } from '../random.js';
import { addressIn, streetDetail } from './places.js';
import type { WorldState } from './state.js';

/** Chip-based CCCD cards since 2021; since 1 July 2024 they are "thẻ căn cước" issued by the Ministry. */
const CCCD_START = dayOf(2021, 1, 1);
const CAN_CUOC_START = dayOf(2024, 7, 1);

/** Where migrants register a temporary residence: Hà Nội, Hồ Chí Minh City and the other big cities. */
const MIGRATION_TARGETS = ['01', '79', '24', '48', '75', '31'].map((c) => PROVINCE_BY_CODE.get(c)!);

/** Temporary residence for migrant workers and students, and identity cards (CCCD / thẻ căn cước). */
export function assignResidenceAndCards(s: WorldState, r: Random): void {
  for (const p of s.people) {
    const end = p.death ?? s.asOf;
    const age = ageOn(p.birth, end);
    if (p.death === null && p.rec.householdId !== null && age >= 18 && age <= 45 && r.chance(0.1)) {
      const province = r.pick(MIGRATION_TARGETS);
      const choices = province.communes.filter((c) => c.code !== p.commune.code && c.urban);
      const commune = r.pick(choices.length > 0 ? choices : province.communes);
      // Rented rooms are typical for migrant workers.
      const detail = r.chance(0.5) ? `Phòng ${r.int(1, 6)}0${r.int(1, 9)}, ${streetDetail(r)}` : streetDetail(r);
      p.rec.temporaryResidence = addressIn(commune, detail);
      p.rec.currentResidence = p.rec.temporaryResidence;
    }
    if (p.death !== null) p.rec.currentResidence = null;
    // Cards are compulsory from 14; a few children hold one since 2024, a few adults never renewed.
    const fourteen = addYears(p.birth, 14);
    const hasCard = age >= 14 ? r.chance(0.97) : age >= 6 && r.chance(0.08);
    if (!hasCard) continue;
    const earliest = Math.max(age >= 14 ? fourteen : CAN_CUOC_START, r.chance(0.25) ? dayOf(2016, 1, 1) : CCCD_START);
    const latest = end - 1;
    if (earliest > latest) continue;
    const issued = r.int(earliest, latest);
    const ageAtIssue = ageOn(p.birth, issued);
    // Cards must be renewed at 14, 25, 40 and 60; one issued within 2 years of a milestone lasts to the next.
    const milestone = ageAtIssue < 14 ? 14 : ageAtIssue < 23 ? 25 : ageAtIssue < 38 ? 40 : ageAtIssue < 58 ? 60 : null;
    p.rec.identityCard = {
      number: p.rec.personalId,
      issuedOn: formatDay(issued),
      expiresOn: milestone === null ? null : formatDay(addYears(p.birth, milestone)),
      issuedBy: issued >= CAN_CUOC_START ? 'Bộ Công an' : 'Cục Cảnh sát quản lý hành chính về trật tự xã hội',
    };
  }
}
