/**
 * Query parameters of the statistics API, validated once so the SQL builders only
 * ever see well-formed values (the group key picks a column from a fixed list,
 * never from user text).
 *
 * Periods are half-open, `from` ≤ time < `to`. Days and months are Vietnam's
 * civil days (UTC+07:00, no daylight saving), the ones the ministry's monthly
 * figures use; a bare date `2025-07-01` means midnight in Vietnam.
 */
import { z } from 'zod';

export const GROUP_BYS = ['none', 'client', 'agency', 'registry', 'procedure', 'outcome', 'day', 'month', 'tier', 'province'] as const;
export type GroupBy = (typeof GROUP_BYS)[number];

export const OUTCOMES = ['OK', 'PARTIAL', 'DENIED', 'INVALID', 'ERROR', 'UNAUTHENTICATED'] as const;

/** Vietnam time: UTC+07:00 all year. */
export const VN_OFFSET_MS = 7 * 3600_000;
export const VN_OFFSET = '+07:00';

const DAY_MS = 86_400_000;
/** The longest period one request may cover, so a typo cannot scan years of records by accident. */
export const MAX_PERIOD_DAYS = 3660;
export const DEFAULT_PERIOD_DAYS = 30;
export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 1000;

/** Parses `2025-07-01`, `2025-07-01T08:00:00+07:00`, `…Z` or epoch milliseconds. */
export function parseInstant(raw: string): number | null {
  if (/^\d{4}-\d{2}-\d{2}$/.test(raw)) {
    const t = Date.parse(`${raw}T00:00:00${VN_OFFSET}`);
    return Number.isNaN(t) ? null : t;
  }
  if (/^\d{1,15}$/.test(raw)) return Number(raw);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(raw)) return null;
  const t = Date.parse(raw);
  return Number.isNaN(t) ? null : t;
}

/** Start of the Vietnamese day containing `t`. */
export function vnDayStart(t: number): number {
  return Math.floor((t + VN_OFFSET_MS) / DAY_MS) * DAY_MS - VN_OFFSET_MS;
}

/** `YYYY-MM-DD` of the Vietnamese day containing `t`. */
export function vnDay(t: number): string {
  return new Date(t + VN_OFFSET_MS).toISOString().slice(0, 10);
}

/** `YYYY-MM` of the Vietnamese month containing `t`. */
export function vnMonth(t: number): string {
  return vnDay(t).slice(0, 7);
}

const instant = (name: string) =>
  z
    .string()
    .transform((raw, ctx) => {
      const t = parseInstant(raw);
      if (t === null) {
        ctx.addIssue({ code: 'custom', message: `${name}=${JSON.stringify(raw)} is not a date: use 2025-07-01, 2025-07-01T08:00:00+07:00 or epoch milliseconds` });
        return z.NEVER;
      }
      return t;
    })
    .optional();

const list = z
  .string()
  .transform((s) => s.split(',').map((v) => v.trim()).filter((v) => v !== ''))
  .optional();

const querySchema = z.strictObject({
  from: instant('from'),
  to: instant('to'),
  groupBy: z.enum(GROUP_BYS).default('none'),
  client: list,
  agency: list,
  procedure: list,
  registry: list,
  /** Agency tier: `ministry`, `province` or `unspecified`. */
  tier: z
    .string()
    .transform((s) => s.split(',').map((v) => v.trim()))
    .pipe(z.array(z.enum(['ministry', 'province', 'unspecified'])))
    .optional(),
  /** 2-digit province codes. */
  province: z
    .string()
    .transform((s) => s.split(',').map((v) => v.trim()))
    .pipe(z.array(z.string().regex(/^[0-9]{2}$/, 'province codes are 2 digits, e.g. 79')))
    .optional(),
  outcome: z
    .string()
    .transform((s) => s.split(',').map((v) => v.trim().toUpperCase()))
    .pipe(z.array(z.enum(OUTCOMES)))
    .optional(),
  limit: z.coerce.number().int().min(1).max(MAX_LIMIT).default(DEFAULT_LIMIT),
  cursor: z.string().regex(/^\d{1,9}$/, 'cursor must be the nextCursor of a previous page').optional(),
  /** Only for /stats/v1/fields: the coordinate prefix, e.g. `Citizen.`. */
  prefix: z.string().max(100).optional(),
  /** Only for /stats/v1/ranking: what provinces are ranked by. */
  by: z.enum(['dossiers', 'cutShare']).default('dossiers'),
  /** Only for /stats/v1/report. */
  format: z.enum(['json', 'csv']).default('json'),
});

export interface StatsFilter {
  from: number;
  to: number;
  client?: string[];
  agency?: string[];
  procedure?: string[];
  registry?: string[];
  outcome?: string[];
  tier?: string[];
  province?: string[];
}

export interface StatsQuery extends StatsFilter {
  groupBy: GroupBy;
  limit: number;
  /** Offset into the ordered groups (opaque to callers: they pass back `nextCursor`). */
  offset: number;
  prefix?: string;
  by: 'dossiers' | 'cutShare';
  format: 'json' | 'csv';
  /** Whether `limit` was given (the ranking's default differs). */
  limitGiven: boolean;
}

export type ParseResult = { ok: true; query: StatsQuery } | { ok: false; message: string };

/** Validates the query string; the message names each bad parameter and what is accepted. */
export function parseStatsQuery(raw: Record<string, unknown>, now = Date.now()): ParseResult {
  const parsed = querySchema.safeParse(raw);
  if (!parsed.success) {
    return { ok: false, message: parsed.error.issues.map((i) => `${i.path.join('.') || 'query'}: ${i.message}`).join('; ') };
  }
  const q = parsed.data;
  const to = q.to ?? now;
  const from = q.from ?? vnDayStart(to - (DEFAULT_PERIOD_DAYS - 1) * DAY_MS);
  if (from >= to) return { ok: false, message: `from (${new Date(from).toISOString()}) must be before to (${new Date(to).toISOString()}).` };
  if (to - from > MAX_PERIOD_DAYS * DAY_MS) {
    return { ok: false, message: `The period is longer than ${MAX_PERIOD_DAYS} days: split it into several requests.` };
  }
  const query: StatsQuery = {
    from,
    to,
    groupBy: q.groupBy,
    limit: q.limit,
    offset: q.cursor ? Number(q.cursor) : 0,
    by: q.by,
    format: q.format,
    limitGiven: raw.limit !== undefined,
  };
  if (q.client?.length) query.client = q.client;
  if (q.agency?.length) query.agency = q.agency;
  if (q.procedure?.length) query.procedure = q.procedure;
  if (q.registry?.length) query.registry = q.registry;
  if (q.outcome?.length) query.outcome = q.outcome;
  if (q.tier?.length) query.tier = q.tier;
  if (q.province?.length) query.province = q.province;
  if (q.prefix) query.prefix = q.prefix;
  return { ok: true, query };
}
