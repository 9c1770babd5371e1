/**
 * The statistics API, for a monitoring system to pull and for the console:
 *
 *   GET /stats/v1/summary?from&to&groupBy&client&agency&procedure&registry&outcome&limit&cursor
 *   GET /stats/v1/fields?from&to&…&prefix&limit&cursor
 *
 * Readable by staff keys with the role `auditor`, `operator` or `monitor`;
 * TTHC clients get 403, anonymous callers 401. Figures come from SQL over the
 * audit store (gateway/stats/engine.ts), so they reconcile with the audit log.
 * Response shapes are versioned by the path (`/v1/`) and documented in
 * docs/CONSOLE.md: fields are only ever added.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { defineConcern } from '../core/concern.js';
import { requireAnyRole, STATS_ROLES } from '../core/access.js';
import { sendError } from '../core/errors.js';
import type { AuditReadPort } from '../core/services.js';
import type { EnvReader } from '../../lib/env-options.js';
import { StatsEngine } from './engine.js';
import { parseStatsQuery, VN_OFFSET, type StatsQuery } from './params.js';
import { statsDbOf } from './source.js';

export { StatsEngine } from './engine.js';
export type { StatsFigures, StatsGroup, StatsSummary, FieldCount, StatsDb } from './engine.js';

/**
 * Default value of one citizen hour, in VND: 37 000 ≈ the average monthly income
 * of employed workers in 2024, 7.7 million VND (General Statistics Office of
 * Viet Nam, labour and employment report for 2024), divided by 208 working
 * hours (26 days × 8 hours, the Labour Code's 48-hour week). Override with
 * STATS_HOURLY_RATE_VND for another valuation (e.g. a regional minimum wage).
 */
export const DEFAULT_HOURLY_RATE_VND = 37_000;

export { STATS_ROLES } from '../core/access.js';

export interface StatsOptions {
  /** VND per citizen hour saved. Default: `STATS_HOURLY_RATE_VND` env, else 37 000 (see DEFAULT_HOURLY_RATE_VND). */
  hourlyRateVnd?: number;
  /** The audit store to aggregate. Default: the audit concern's (the `auditStore` service). */
  store?: AuditReadPort | (() => AuditReadPort | null | undefined);
  /** URL prefix. Default `/stats/v1`. */
  prefix?: string;
}

/** The hourly rate: `given`, else STATS_HOURLY_RATE_VND (strict), else the default. */
export function hourlyRateFrom(env: EnvReader, given?: number): number {
  return given ?? env.number('STATS_HOURLY_RATE_VND') ?? DEFAULT_HOURLY_RATE_VND;
}

function iso(t: number): string {
  return new Date(t).toISOString();
}

/** The filter as echoed in responses (what the figures are about). */
function echo(q: StatsQuery) {
  return {
    period: { from: iso(q.from), to: iso(q.to), timezone: VN_OFFSET },
    filter: {
      client: q.client ?? null,
      agency: q.agency ?? null,
      procedure: q.procedure ?? null,
      registry: q.registry ?? null,
      outcome: q.outcome ?? null,
    },
  };
}

function nextCursor(q: StatsQuery, total: number): string | null {
  return q.offset + q.limit < total ? String(q.offset + q.limit) : null;
}

export const statsConcern = defineConcern({
  name: 'stats',
  slice: 'stats',
  options: (own: StatsOptions | undefined, { env }) => ({ ...own, hourlyRateVnd: hourlyRateFrom(env, own?.hourlyRateVnd), prefix: own?.prefix ?? '/stats/v1' }),
  needs: ['clients'],
  uses: ['auditStore'],
  create: ({ own, app, services }) => {
    const clients = services.need('clients');
    const given = own;
    const { hourlyRateVnd, prefix } = own;
    const port = services.use('auditStore');

  let engine: StatsEngine | null = null;
  let engineStore: AuditReadPort | null = null;
  const engineFor = (): StatsEngine => {
    const store = typeof given.store === 'function' ? given.store() : (given.store ?? port);
    if (!store) throw Object.assign(new Error('The statistics are unavailable: no audit store is configured in this gateway.'), { statusCode: 503 });
    if (!engine || engineStore !== store) {
      engine = new StatsEngine(statsDbOf(store), { hourlyRateVnd });
      engineStore = store;
    }
    return engine;
  };

  const handle =
    (run: (engine: StatsEngine, q: StatsQuery) => Promise<Record<string, unknown>>) =>
    async (request: FastifyRequest, reply: FastifyReply) => {
      if (!requireAnyRole(clients, STATS_ROLES, request, reply)) return reply;
      const parsed = parseStatsQuery(request.query as Record<string, unknown>);
      if (!parsed.ok) return sendError(request, reply, 'BAD_USER_INPUT', `Invalid statistics query: ${parsed.message}`);
      let e: StatsEngine;
      try {
        e = engineFor();
      } catch (err) {
        return sendError(request, reply, 'STATS_UNAVAILABLE', (err as Error).message);
      }
      const body = await run(e, parsed.query);
      return reply.header('cache-control', 'no-store').send({ apiVersion: 1, generatedAt: iso(Date.now()), ...body });
    };

  app.get(
    `${prefix}/summary`,
    handle(async (e, q) => {
      const s = await e.summary(q);
      return {
        ...echo(q),
        groupBy: q.groupBy,
        hourlyRateVnd: e.hourlyRateVnd,
        total: s.total,
        groups: s.groups,
        page: { limit: q.limit, nextCursor: nextCursor(q, s.totalGroups), totalGroups: s.totalGroups },
      };
    }),
  );

  app.get(
    `${prefix}/fields`,
    handle(async (e, q) => {
      const f = await e.fields(q);
      return {
        ...echo(q),
        prefix: q.prefix ?? null,
        items: f.items,
        page: { limit: q.limit, nextCursor: nextCursor(q, f.totalItems), totalItems: f.totalItems },
      };
    }),
  );

  return {};
  },
});
