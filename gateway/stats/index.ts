/**
 * The statistics API, for a monitoring system to pull and for the console:
 *
 *   GET /stats/v1/summary?from&to&groupBy&client&agency&procedure&registry&outcome&limit&cursor
 *   GET /stats/v1/fields?from&to&…&prefix&limit&cursor
 *   GET /stats/v1/ranking?from&to&by=dossiers|cutShare&limit    (provinces, top and bottom)
 *   GET /stats/v1/report?from&to&format=json|csv               (schema/stats-report.v1.schema.json)
 *
 * Readable by staff keys with the role `auditor`, `operator` or `monitor`;
 * TTHC clients get 403, anonymous callers 401. Figures come from the rollups the
 * audit store keeps in the records' own transactions (gateway/stats/engine.ts), so
 * they reconcile with the audit log and cost the same whatever its volume.
 * Response shapes are versioned by the path (`/v1/`) and documented in
 * docs/CONSOLE.md: fields are only ever added.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { defineConcern } from '../core/concern.js';
import { requireAnyRole, STATS_ROLES } from '../core/access.js';
import { sendError } from '../core/errors.js';
import type { AuditReadPort } from '../core/services.js';
import type { EnvReader } from '../../lib/env-options.js';
import { StatsEngine, DEFAULT_COMPONENT_COST_VND, type StatsCatalog } from './engine.js';
import { rankingOf } from './ranking.js';
import { reportOf, reportCsv } from './report.js';
import type { ClientDirectory, ProcedureCatalog } from '../core/services.js';
import { knownPurposeIds } from '../core/known-purposes.js';
import { parseStatsQuery, VN_OFFSET, type StatsQuery } from './params.js';
import { statsDbOf } from './source.js';

export { StatsEngine } from './engine.js';
export type { StatsFigures, StatsGroup, StatsSummary, FieldCount, StatsDb, StatsCatalog } from './engine.js';
export { DEFAULT_COMPONENT_COST_VND } from './engine.js';

/**
 * Default value of one citizen hour, in VND: 37 000 (kept since the first release; the 2024
 * scheme the monitoring system cites values an hour at about 35 000 VND — set
 * STATS_HOURLY_RATE_VND=35000 to report with that figure). 37 000 ≈ the average monthly income
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
  /** Out-of-pocket cost of one cut component when the catalog declares none, VND. Default: DEFAULT_COMPONENT_COST_VND (10 000). */
  componentCostVnd?: number;
}

/** What the engine reads of the catalog and the clients (labels, `unknown`, costs). */
export function statsCatalogOf(procedures: ProcedureCatalog | undefined, clients: ClientDirectory | undefined, defaultCostVnd = DEFAULT_COMPONENT_COST_VND): StatsCatalog {
  return {
    // Procedures and groups (a group id is a purpose of its own): the same answer as the metrics labels.
    procedureIds: () => (procedures ? knownPurposeIds(procedures) : null),
    procedureName: (id) => procedures?.name(id) ?? null,
    procedureNameEn: (id) => procedures?.nameEn?.(id) ?? null,
    nationalCode: (id) => procedures?.nationalCode?.(id) ?? null,
    componentCostVnd: (id) => (id ? procedures?.componentCostVnd?.(id) : null) ?? defaultCostVnd,
    clientName: (id) => clients?.clients.find((c) => c.id === id)?.name ?? null,
  };
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
      tier: q.tier ?? null,
      province: q.province ?? null,
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
  uses: ['auditStore', 'procedures'],
  create: ({ own, app, services }) => {
    const clients = services.need('clients');
    const given = own;
    const { hourlyRateVnd, prefix } = own;
    const port = services.use('auditStore');
    const catalog = statsCatalogOf(services.use('procedures'), clients, own.componentCostVnd);

  let engine: StatsEngine | null = null;
  let engineStore: AuditReadPort | null = null;
  const engineFor = (): StatsEngine => {
    const store = typeof given.store === 'function' ? given.store() : (given.store ?? port);
    if (!store) throw Object.assign(new Error('The statistics are unavailable: no audit store is configured in this gateway.'), { statusCode: 503 });
    if (!engine || engineStore !== store) {
      engine = new StatsEngine(statsDbOf(store), { hourlyRateVnd, catalog });
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
      if (typeof body.csv === 'string') {
        return reply
          .header('cache-control', 'no-store')
          .header('content-type', 'text/csv; charset=utf-8')
          .header('content-disposition', `attachment; filename="motlan-stats-${String(body.name)}.csv"`)
          .send(body.csv);
      }
      if (body.report) return reply.header('cache-control', 'no-store').send(body.report);
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

  app.get(
    `${prefix}/ranking`,
    handle(async (e, q) => {
      const r = await rankingOf(e, q);
      return { by: q.by, ...echo(q), top: r.top, bottom: r.bottom, ranked: r.ranked };
    }),
  );

  app.get(
    `${prefix}/report`,
    handle(async (e, q) => {
      const report = await reportOf(e, q, catalog);
      if (q.format === 'csv') return { csv: reportCsv(report), name: `${report.period.from.slice(0, 10)}_${report.period.to.slice(0, 10)}` };
      // The report is its own document (schema/stats-report.v1.schema.json): no envelope fields mixed in.
      return { report };
    }),
  );

  return {};
  },
});
