/**
 * Contacts phase: the phone number and e-mail a citizen registered with the VNeID
 * electronic identification account (Nghị định số 69/2024/NĐ-CP: a level-2 account is
 * opened with the citizen's own mobile number; the e-mail is optional). The population
 * registry serves them as Citizen.phone and Citizen.email, so forms' "số điện thoại
 * liên hệ" need not be typed again.
 *
 * Runs last, on its own stream, so every other phase's records stay as they were.
 * Realistic gaps: minors under 14 have no account of their own, and not every adult
 * has activated one (no phone then); most accounts carry no e-mail.
 */
import { ageOn } from '../dates.js';
import { toAscii } from '../names.js';
import type { Random } from '../random.js';
import type { WorldState } from './state.js';

/** Mobile prefixes in use (Viettel, Vinaphone, Mobifone, Vietnamobile). */
const PREFIXES = ['032', '033', '034', '035', '036', '037', '038', '039', '086', '096', '097', '098', '081', '082', '083', '084', '085', '088', '091', '094', '070', '076', '077', '078', '079', '089', '090', '093', '052', '056', '058', '092'];
const MAIL_DOMAINS = ['gmail.com', 'gmail.com', 'gmail.com', 'yahoo.com', 'outlook.com'];
/** Minimum age for an own VNeID account (children under 14 are integrated into a parent's). */
const OWN_ACCOUNT_AGE = 14;
/** Share of those old enough who activated an account. */
const ACTIVATED = 0.85;
const WITH_EMAIL = 0.35;

export function buildContacts(s: WorldState, r: Random): void {
  const phones = new Set<string>();
  const mails = new Set<string>();
  for (const p of s.people) {
    p.rec.phone = null;
    p.rec.email = null;
    if (p.death !== null || ageOn(p.birth, s.asOf) < OWN_ACCOUNT_AGE || !r.chance(ACTIVATED)) continue;
    let phone: string;
    do phone = `${r.pick(PREFIXES)}${String(r.int(0, 9_999_999)).padStart(7, '0')}`;
    while (phones.has(phone));
    phones.add(phone);
    p.rec.phone = phone;
    if (!r.chance(WITH_EMAIL)) continue;
    // e.g. nguyenvanan1990@gmail.com: name without diacritics, a birth year or a number when taken.
    const base = toAscii(p.rec.fullName).toLowerCase().replace(/[^a-z]/g, '');
    let mail = `${base}${p.rec.dateOfBirth.slice(0, 4)}@${r.pick(MAIL_DOMAINS)}`;
    while (mails.has(mail)) mail = `${base}${r.int(1, 9999)}@${r.pick(MAIL_DOMAINS)}`;
    mails.add(mail);
    p.rec.email = mail;
  }
}
