/**
 * Calendar arithmetic on day numbers (days since 1970-01-01, UTC), so the
 * generator never depends on the local time zone or on the current date.
 */

/*
 * Conversions use Howard Hinnant's civil-date algorithms: pure integer arithmetic,
 * no Date objects, because the generator converts millions of dates.
 */

/** Day number → [year, month 1-12, day 1-31]. */
function civil(day: number): [number, number, number] {
  const z = day + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return [yoe + era * 400 + (m <= 2 ? 1 : 0), m, d];
}

/** [year, month 1-12, day 1-31] → day number. */
export function dayOf(year: number, month: number, dayOfMonth: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + dayOfMonth - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

const pad2 = (n: number): string => (n < 10 ? `0${n}` : String(n));
// Few distinct days occur (a century or so), so formatted strings are memoised.
const formatted = new Map<number, string>();

/** `yyyy-MM-dd` → day number. Throws on anything else, naming the expected format. */
export function parseDay(iso: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso);
  if (!m) throw new Error(`Invalid date ${JSON.stringify(iso)}: expected yyyy-MM-dd, e.g. 2026-11-01.`);
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo)) {
    throw new Error(`Invalid date ${JSON.stringify(iso)}: no such day in the calendar.`);
  }
  return dayOf(y, mo, d);
}

export function formatDay(day: number): string {
  let s = formatted.get(day);
  if (s === undefined) {
    const [y, m, d] = civil(day);
    s = `${String(y).padStart(4, '0')}-${pad2(m)}-${pad2(d)}`;
    formatted.set(day, s);
  }
  return s;
}

/** `yyyy-MM` of a day number. */
export function formatMonth(day: number): string {
  return formatDay(day).slice(0, 7);
}

export function yearOf(day: number): number {
  return civil(day)[0];
}

/** Same calendar day `years` later (29 Feb → 28 Feb in common years). */
export function addYears(day: number, years: number): number {
  const [y, m, d] = civil(day);
  return dayOf(y + years, m, Math.min(d, daysInMonth(y + years, m)));
}

/** Completed years between a date of birth and a given day. */
export function ageOn(dateOfBirth: string | number, on: string | number): number {
  const [by, bm, bd] = civil(typeof dateOfBirth === 'string' ? parseDay(dateOfBirth) : dateOfBirth);
  const [y, m, d] = civil(typeof on === 'string' ? parseDay(on) : on);
  return y - by - (m < bm || (m === bm && d < bd) ? 1 : 0);
}

/** Months (as `year*12 + month0`) of a day, for counting contribution months. */
export function monthIndex(day: number): number {
  const [y, m] = civil(day);
  return y * 12 + m - 1;
}

export function monthIndexToString(index: number): string {
  const y = Math.floor(index / 12);
  return `${y}-${pad2((index % 12) + 1)}`;
}

/** First day of a month index. */
export function monthIndexToDay(index: number): number {
  return dayOf(Math.floor(index / 12), (index % 12) + 1, 1);
}
