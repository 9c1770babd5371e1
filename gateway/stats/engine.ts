/**
 * Data-sharing statistics computed by SQL aggregation directly over the audit
 * store's `audit_records` table (SQLite or PostgreSQL), so every figure reconciles
 * exactly with the records an auditor can list and export: no second counter
 * that could drift, no sampling.
 *
 * Semantics (documented in docs/CONSOLE.md):
 * - A request counts in the period of its arrival time (`ts`), once.
 * - Grouping by registry puts a request in every registry it contacted, so those
 *   groups do not add up to the total; their `entitiesShared` counts only that
 *   registry's entities. Requests that contacted no registry are in no such group.
 * - Percentiles use the nearest-rank method on the recorded durations (the value
 *   of rank ⌈p·n/100⌉), so each is a duration some request really had.
 * - Hours saved are summed in hundredths (as stored), then valued in VND.
 */
import type Database from 'better-sqlite3';
import type pg from 'pg';
import { OUTCOMES, VN_OFFSET_MS, type GroupBy, type StatsFilter, type StatsQuery } from './params.js';

/** Where the records are: the audit store's own connection (see gateway/stats/source.ts). */
export type StatsDb =
  | { kind: 'sqlite'; db: Database.Database }
  /** A SQLite store whose connection lives in its writer thread (exclusive locking). */
  | { kind: 'sqlite'; all: (sql: string, params: unknown[]) => Promise<Record<string, unknown>[]> }
  | { kind: 'postgres'; pool: pg.Pool; schema: string };

export interface LatencyStats {
  p50: number | null;
  p95: number | null;
  p99: number | null;
  mean: number | null;
  max: number | null;
}

export interface StatsFigures {
  requests: { total: number; byOutcome: Record<string, number> };
  entitiesShared: { total: number; byRegistry: Record<string, number> };
  /** Schema coordinates returned, summed over requests (a field returned by 3 requests counts 3). */
  fieldsShared: number;
  /** Requests that ran a prefill (their record carries a prefill note). */
  prefills: number;
  /** Dossier components the prefills made unnecessary. */
  componentsCut: number;
  /** Citizen hours saved by those prefills (2 decimals). */
  hoursSaved: number;
  /** `hoursSaved` × the hourly rate, rounded to the dong. */
  valueVnd: number;
  latencyMs: LatencyStats;
}

export interface StatsGroup extends StatsFigures {
  /** Client id, agency, registry, procedure id (null: no purpose), outcome, `YYYY-MM-DD` or `YYYY-MM`. */
  key: string | null;
}

export interface StatsSummary {
  total: StatsFigures;
  groups: StatsGroup[];
  /** Number of groups before paging. */
  totalGroups: number;
}

export interface FieldCount {
  coordinate: string;
  /** Requests that returned this field. */
  requests: number;
}

const PERCENTILES = [50, 95, 99] as const;

/** A tiny SQL builder: the same query text for both dialects, parameters always bound. */
class Sql {
  readonly params: unknown[] = [];
  constructor(readonly dialect: 'sqlite' | 'postgres') {}
  p(v: unknown): string {
    this.params.push(v);
    return this.dialect === 'sqlite' ? '?' : `$${this.params.length}`;
  }
  in(values: readonly unknown[]): string {
    return values.map((v) => this.p(v)).join(', ');
  }
  /** The elements of a JSON array column as rows with a `value` column. */
  arrayElements(column: string, alias: string): string {
    return this.dialect === 'sqlite' ? `json_each(${column}) ${alias}` : `jsonb_array_elements_text(${column}) AS ${alias}(value)`;
  }
  /** The members of a JSON object column as rows with `key` and `value` (text in PostgreSQL). */
  objectMembers(column: string, alias: string): string {
    return this.dialect === 'sqlite' ? `json_each(${column}) ${alias}` : `jsonb_each_text(${column}) AS ${alias}(key, value)`;
  }
  arrayLength(column: string): string {
    return this.dialect === 'sqlite' ? `json_array_length(${column})` : `jsonb_array_length(${column})`;
  }
  /** An integer member of a JSON object column (NULL when absent). */
  jsonInt(column: string, member: string): string {
    return this.dialect === 'sqlite' ? `json_extract(${column}, '$.${member}')` : `((${column}->>'${member}')::bigint)`;
  }
  /** A decimal member, as integer hundredths (exact sums). */
  jsonCents(column: string, member: string): string {
    return this.dialect === 'sqlite'
      ? `CAST(ROUND(json_extract(${column}, '$.${member}') * 100) AS INTEGER)`
      : `(ROUND((${column}->>'${member}')::numeric * 100)::bigint)`;
  }
  /** `YYYY-MM-DD` (len 10) or `YYYY-MM` (len 7) of the Vietnamese day/month of `ts`. */
  vnDate(len: 10 | 7): string {
    return this.dialect === 'sqlite'
      ? `substr(strftime('%Y-%m-%d', (r.ts + ${VN_OFFSET_MS}) / 1000, 'unixepoch'), 1, ${len})`
      : `substr(to_char(to_timestamp((r.ts + ${VN_OFFSET_MS}) / 1000) AT TIME ZONE 'UTC', 'YYYY-MM-DD'), 1, ${len})`;
  }
  /** Integer (then numeric) value of an object member produced by `objectMembers`. */
  memberInt(alias: string): string {
    return this.dialect === 'sqlite' ? `${alias}.value` : `(${alias}.value)::bigint`;
  }
}

/** Group key expression and the extra FROM item it needs (registry: one row per registry contacted). */
function groupKey(sql: Sql, groupBy: GroupBy): { key: string; from: string } {
  switch (groupBy) {
    case 'none':
      return { key: `'*'`, from: '' };
    case 'client':
      return { key: 'r.client_id', from: '' };
    case 'agency':
      return { key: 'r.agency', from: '' };
    case 'procedure':
      return { key: 'r.procedure_id', from: '' };
    case 'outcome':
      return { key: 'r.outcome', from: '' };
    case 'day':
      return { key: sql.vnDate(10), from: '' };
    case 'month':
      return { key: sql.vnDate(7), from: '' };
    case 'registry':
      return { key: 'gr.value', from: `, ${sql.arrayElements('r.registries', 'gr')}` };
  }
}

function where(sql: Sql, f: StatsFilter): string {
  const parts = [`r.ts >= ${sql.p(f.from)}`, `r.ts < ${sql.p(f.to)}`];
  if (f.client) parts.push(`r.client_id IN (${sql.in(f.client)})`);
  if (f.agency) parts.push(`r.agency IN (${sql.in(f.agency)})`);
  if (f.procedure) parts.push(`r.procedure_id IN (${sql.in(f.procedure)})`);
  if (f.outcome) parts.push(`r.outcome IN (${sql.in(f.outcome)})`);
  if (f.registry) parts.push(`EXISTS (SELECT 1 FROM ${sql.arrayElements('r.registries', 'fr')} WHERE fr.value IN (${sql.in(f.registry)}))`);
  return parts.join(' AND ');
}

function num(v: unknown): number {
  return v === null || v === undefined ? 0 : Number(v);
}
function numOrNull(v: unknown): number | null {
  return v === null || v === undefined ? null : Number(v);
}
function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

export interface StatsEngineOptions {
  /** VND per citizen hour saved (see gateway/stats/index.ts for the default and its source). */
  hourlyRateVnd: number;
}

export class StatsEngine {
  private readonly table: string;
  private readonly dialect: 'sqlite' | 'postgres';

  constructor(
    private readonly source: StatsDb,
    private readonly opts: StatsEngineOptions,
  ) {
    this.dialect = source.kind;
    this.table = source.kind === 'sqlite' ? 'audit_records' : `${source.schema}.audit_records`;
    if (source.kind === 'postgres' && !/^[a-z_][a-z0-9_]{0,62}$/.test(source.schema)) {
      throw new Error(`Audit schema name ${JSON.stringify(source.schema)} is invalid: use lowercase letters, digits and _.`);
    }
  }

  get hourlyRateVnd(): number {
    return this.opts.hourlyRateVnd;
  }

  private async rows(sql: Sql, text: string): Promise<Record<string, unknown>[]> {
    if (this.source.kind === 'sqlite') {
      if ('all' in this.source) return this.source.all(text, sql.params);
      return this.source.db.prepare(text).all(...sql.params) as Record<string, unknown>[];
    }
    return (await this.source.pool.query(text, sql.params)).rows as Record<string, unknown>[];
  }

  /** `WITH base AS (…)`: the filtered records with their group key `g`. */
  private base(sql: Sql, q: StatsFilter, groupBy: GroupBy): string {
    const g = groupKey(sql, groupBy);
    return `WITH base AS (SELECT ${g.key} AS g, r.outcome, r.fields, r.entities, r.prefill, r.duration_ms FROM ${this.table} r${g.from} WHERE ${where(sql, q)})`;
  }

  /** Every figure per group (`'*'` is the single group of `none`). */
  private async figures(q: StatsFilter, groupBy: GroupBy): Promise<Map<string | null, StatsFigures>> {
    const byGroup = new Map<string | null, StatsFigures>();
    const figuresOf = (g: unknown): StatsFigures => {
      const key = g === null || g === undefined ? null : String(g);
      let f = byGroup.get(key);
      if (!f) {
        f = this.emptyFigures();
        byGroup.set(key, f);
      }
      return f;
    };

    // 1. Counts, sums, mean and max.
    {
      const sql = new Sql(this.dialect);
      const base = this.base(sql, q, groupBy);
      const outcomeCols = OUTCOMES.map((o, i) => `SUM(CASE WHEN outcome = ${sql.p(o)} THEN 1 ELSE 0 END) AS o${i}`).join(', ');
      const rows = await this.rows(
        sql,
        `${base}
         SELECT g, COUNT(*) AS requests, ${outcomeCols},
           SUM(${sql.arrayLength('fields')}) AS fields,
           SUM(CASE WHEN prefill IS NOT NULL THEN 1 ELSE 0 END) AS prefills,
           SUM(COALESCE(${sql.jsonInt('prefill', 'componentsCut')}, 0)) AS components_cut,
           SUM(COALESCE(${sql.jsonCents('prefill', 'hoursSaved')}, 0)) AS hours_cents,
           AVG(duration_ms) AS mean_ms, MAX(duration_ms) AS max_ms
         FROM base GROUP BY g`,
      );
      for (const row of rows) {
        const f = figuresOf(row.g);
        f.requests.total = num(row.requests);
        OUTCOMES.forEach((o, i) => (f.requests.byOutcome[o] = num(row[`o${i}`])));
        f.fieldsShared = num(row.fields);
        f.prefills = num(row.prefills);
        f.componentsCut = num(row.components_cut);
        const cents = num(row.hours_cents);
        f.hoursSaved = cents / 100;
        f.valueVnd = Math.round((cents * this.opts.hourlyRateVnd) / 100);
        f.latencyMs.mean = row.mean_ms === null ? null : round(Number(row.mean_ms), 3);
        f.latencyMs.max = numOrNull(row.max_ms);
      }
    }

    // 2. Entities per registry (only the group's own registry when grouping by registry).
    {
      const sql = new Sql(this.dialect);
      const base = this.base(sql, q, groupBy);
      const own = groupBy === 'registry' ? 'WHERE e.key = base.g' : '';
      const rows = await this.rows(
        sql,
        `${base}
         SELECT base.g AS g, e.key AS registry, SUM(${sql.memberInt('e')}) AS n
         FROM base, ${sql.objectMembers('base.entities', 'e')} ${own}
         GROUP BY base.g, e.key`,
      );
      for (const row of rows) {
        const f = figuresOf(row.g);
        const n = num(row.n);
        f.entitiesShared.byRegistry[String(row.registry)] = n;
        f.entitiesShared.total += n;
      }
    }

    // 3. Nearest-rank percentiles with window functions (both engines have them).
    {
      const sql = new Sql(this.dialect);
      const base = this.base(sql, q, groupBy);
      const cols = PERCENTILES.map((p) => `MAX(CASE WHEN rn = (n * ${p} + 99) / 100 THEN d END) AS p${p}`).join(', ');
      const rows = await this.rows(
        sql,
        `${base}, ranked AS (
           SELECT g, duration_ms AS d,
             ROW_NUMBER() OVER (PARTITION BY g ORDER BY duration_ms) AS rn,
             COUNT(*) OVER (PARTITION BY g) AS n
           FROM base)
         SELECT g, ${cols} FROM ranked GROUP BY g`,
      );
      for (const row of rows) {
        const f = figuresOf(row.g);
        for (const p of PERCENTILES) f.latencyMs[`p${p}`] = numOrNull(row[`p${p}`]);
      }
    }
    return byGroup;
  }

  private emptyFigures(): StatsFigures {
    return {
      requests: { total: 0, byOutcome: Object.fromEntries(OUTCOMES.map((o) => [o, 0])) },
      entitiesShared: { total: 0, byRegistry: {} },
      fieldsShared: 0,
      prefills: 0,
      componentsCut: 0,
      hoursSaved: 0,
      valueVnd: 0,
      latencyMs: { p50: null, p95: null, p99: null, mean: null, max: null },
    };
  }

  /** Totals for the period and, unless `groupBy` is `none`, one page of groups. */
  async summary(q: StatsQuery): Promise<StatsSummary> {
    const total = (await this.figures(q, 'none')).get('*') ?? this.emptyFigures();
    if (q.groupBy === 'none') return { total, groups: [], totalGroups: 0 };
    const groups: StatsGroup[] = [...(await this.figures(q, q.groupBy)).entries()].map(([key, f]) => ({ key, ...f }));
    // Time groups read chronologically; the others largest first (ties by key, so pages are stable).
    const chronological = q.groupBy === 'day' || q.groupBy === 'month';
    groups.sort((a, b) => {
      if (!chronological && a.requests.total !== b.requests.total) return b.requests.total - a.requests.total;
      return (a.key ?? '') < (b.key ?? '') ? -1 : (a.key ?? '') > (b.key ?? '') ? 1 : 0;
    });
    return { total, groups: groups.slice(q.offset, q.offset + q.limit), totalGroups: groups.length };
  }

  /** Fields shared by schema coordinate, most requested first, one page. */
  async fields(q: StatsQuery): Promise<{ items: FieldCount[]; totalItems: number }> {
    const sql = new Sql(this.dialect);
    const base = this.base(sql, q, 'none');
    const prefix = q.prefix ? `WHERE f.value LIKE ${sql.p(q.prefix.replace(/[\\%_]/g, (c) => `\\${c}`) + '%')} ESCAPE '\\'` : '';
    const rows = await this.rows(
      sql,
      `${base}
       SELECT f.value AS coordinate, COUNT(*) AS n
       FROM base, ${sql.arrayElements('base.fields', 'f')} ${prefix}
       GROUP BY f.value`,
    );
    const items = rows
      .map((r) => ({ coordinate: String(r.coordinate), requests: num(r.n) }))
      .sort((a, b) => b.requests - a.requests || (a.coordinate < b.coordinate ? -1 : 1));
    return { items: items.slice(q.offset, q.offset + q.limit), totalItems: items.length };
  }
}
