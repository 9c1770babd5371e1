/** "Today" as the registries mean it: the calendar date in Vietnam (UTC+7, no daylight saving). */
const VIETNAM_OFFSET_MS = 7 * 60 * 60 * 1000;

export function todayInVietnam(now: number = Date.now()): string {
  return new Date(now + VIETNAM_OFFSET_MS).toISOString().slice(0, 10);
}
