/**
 * The statistics API over the whole stack: a mix of requests (prefills, plain
 * queries, refusals, malformed and unauthenticated requests, a registry outage)
 * goes through the gateway; then every grouping of `GET /stats/v1/summary` must
 * equal a recount of the audit records the requests left (read back through the
 * store's search) and plain SQL counts on the audit database. Also: who may read.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecord } from '../gateway/audit/record.js';
import type { AuditStore } from '../gateway/audit/store.js';
import { DEFAULT_HOURLY_RATE_VND } from '../gateway/stats/index.js';
import { GROUP_BYS, type StatsFilter } from '../gateway/stats/params.js';
import type { StatsFigures, StatsGroup } from '../gateway/stats/engine.js';
import { startStack, type Stack } from './support/stack.js';
import { allRecords, exact, recount, recountFields } from './support/stats-recount.js';
import { sendMixedTraffic, staffKeys, writeHistory, type StaffKeys } from './support/stats-traffic.js';

interface SummaryBody {
  apiVersion: number;
  groupBy: string;
  hourlyRateVnd: number;
  period: { from: string; to: string; timezone: string };
  total: StatsFigures;
  groups: StatsGroup[];
  page: { limit: number; nextCursor: string | null; totalGroups: number };
}

describe('statistics API over the whole stack', () => {
  let stack: Stack;
  let keys: StaffKeys;
  let dataDir: string;
  let records: AuditRecord[];
  let filter: StatsFilter;
  /** The catalog the gateway groups purposes by (any other purpose is `unknown`). */
  let catalog: { procedures: string[] };
  const started = Date.now();

  const get = async (url: string, key: string | null) => {
    const res = await fetch(`${stack.gatewayUrl}${url}`, { headers: key ? { authorization: `Bearer ${key}` } : {} });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'motlan-stats-stack-'));
    stack = await startStack({ gateway: { audit: { dataDir } } });
    keys = staffKeys(stack);
    await sendMixedTraffic(stack);
    await writeHistory(stack, dataDir, { days: 40, perDay: 15 }); // earlier days, a second chain
    const store = stack.gateway.services.need('audit').store;
    records = await allRecords(store);
    catalog = { procedures: stack.gateway.services.need('procedures').ids() };
    filter = { from: started - 45 * 86_400_000, to: Date.now() + 60_000 };
  });

  afterAll(async () => {
    await stack?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('the generated traffic left records of several outcomes, purposes and prefills', () => {
    const live = records.filter((r) => r.instanceId !== 'history');
    expect(new Set(live.map((r) => r.procedureId).filter(Boolean)).size).toBeGreaterThanOrEqual(3);
    expect(live.some((r) => r.prefill)).toBe(true);
    expect(new Set(records.map((r) => new Date(r.ts + 7 * 3600_000).toISOString().slice(0, 10))).size).toBeGreaterThan(20);
    const outcomes = new Set(records.map((r) => r.outcome));
    expect(outcomes.size).toBeGreaterThanOrEqual(4);
    expect(records.some((r) => r.prefill && r.prefill.componentsCut >= 0)).toBe(true);
    expect(records.some((r) => r.outcome === 'PARTIAL')).toBe(true);
  });

  for (const groupBy of GROUP_BYS) {
    it(`summary grouped by ${groupBy} equals the recount of the audit records`, async () => {
      const { status, body } = await get(`/stats/v1/summary?from=${filter.from}&to=${filter.to}&groupBy=${groupBy}&limit=1000`, keys.auditor);
      expect(status).toBe(200);
      const s = body as unknown as SummaryBody;
      expect(s.apiVersion).toBe(1);
      expect(s.hourlyRateVnd).toBe(DEFAULT_HOURLY_RATE_VND);
      const total = recount(records, filter, 'none', s.hourlyRateVnd, catalog).get('*')!;
      expect(exact(s.total)).toEqual(exact(total));
      expect(s.total.requests.total).toBe(records.length);
      if (groupBy === 'none') return;
      const expected = recount(records, filter, groupBy, s.hourlyRateVnd, catalog);
      expect(s.page.totalGroups).toBe(expected.size);
      expect(s.groups.map((g) => g.key).sort()).toEqual([...expected.keys()].sort());
      for (const { key, label: _l, labelEn: _le, ...figures } of s.groups) expect(exact(figures), `group ${key}`).toEqual(exact(expected.get(key)!));
    });
  }

  it('the totals match plain SQL counts on the audit database', async () => {
    const { body } = await get(`/stats/v1/summary?from=${filter.from}&to=${filter.to}&groupBy=outcome`, keys.auditor);
    // Plain SQL on the gateway's own database connection: with exclusive locking (the default) the
    // writer thread holds the file and no second connection may open it while the gateway runs.
    const db = stack.gateway.services.need('audit').store as unknown as { all: (sql: string, params?: unknown[]) => Promise<Array<Record<string, unknown>>> };
    const rows = (await db.all('SELECT outcome, COUNT(*) AS n FROM audit_records GROUP BY outcome')) as Array<{ outcome: string; n: number }>;
    const byOutcome = Object.fromEntries(rows.map((r) => [r.outcome, r.n]));
    const s = body as unknown as SummaryBody;
    expect(Object.fromEntries(s.groups.map((g) => [g.key, g.requests.total]))).toEqual(byOutcome);
    const [prefill] = (await db.all("SELECT COUNT(*) AS n, SUM(json_extract(prefill, '$.componentsCut')) AS cut FROM audit_records WHERE prefill IS NOT NULL")) as Array<{
      n: number;
      cut: number | null;
    }>;
    expect(s.total.prefills).toBe(prefill!.n);
    expect(s.total.componentsCut).toBe(prefill!.cut ?? 0);
  });

  it('filters and the fields listing reconcile too', async () => {
    const client = records.find((r) => r.prefill)!.clientId;
    const url = `/stats/v1/summary?from=${filter.from}&to=${filter.to}&groupBy=procedure&client=${client}&outcome=OK,PARTIAL`;
    const s = (await get(url, keys.auditor)).body as unknown as SummaryBody;
    const f: StatsFilter = { ...filter, client: [client], outcome: ['OK', 'PARTIAL'] };
    const expected = recount(records, f, 'procedure', s.hourlyRateVnd, catalog);
    expect(s.groups.length).toBe(expected.size);
    for (const { key, label: _l, labelEn: _le, ...figures } of s.groups) expect(exact(figures)).toEqual(exact(expected.get(key)!));

    const fields = (await get(`/stats/v1/fields?from=${filter.from}&to=${filter.to}&limit=1000`, keys.auditor)).body as {
      items: Array<{ coordinate: string; requests: number }>;
    };
    expect(Object.fromEntries(fields.items.map((i) => [i.coordinate, i.requests]))).toEqual(Object.fromEntries(recountFields(records, filter)));
    expect(fields.items.length).toBeGreaterThan(3);
  });

  it('pages the groups with nextCursor', async () => {
    const seen: Array<string | null> = [];
    let url = `/stats/v1/summary?from=${filter.from}&to=${filter.to}&groupBy=procedure&limit=2`;
    for (let i = 0; i < 20; i++) {
      const s = (await get(url, keys.auditor)).body as unknown as SummaryBody;
      seen.push(...s.groups.map((g) => g.key));
      if (!s.page.nextCursor) break;
      url = `/stats/v1/summary?from=${filter.from}&to=${filter.to}&groupBy=procedure&limit=2&cursor=${s.page.nextCursor}`;
    }
    const all = (await get(`/stats/v1/summary?from=${filter.from}&to=${filter.to}&groupBy=procedure&limit=1000`, keys.auditor)).body as unknown as SummaryBody;
    expect(seen).toEqual(all.groups.map((g) => g.key));
    expect(seen.length).toBeGreaterThan(2);
  });

  it('auditors, operators and the monitoring role may read; clients get 403, anonymous 401', async () => {
    expect((await get('/stats/v1/summary', keys.auditor)).status).toBe(200);
    expect((await get('/stats/v1/summary', keys.operator)).status).toBe(200);
    const client = await get('/stats/v1/summary', keys.clients[0]!);
    expect(client.status).toBe(403);
    expect(String(client.body.message)).toMatch(/role/);
    expect((await get('/stats/v1/fields', keys.clients[1]!)).status).toBe(403);
    expect((await get('/stats/v1/summary', null)).status).toBe(401);
    expect((await get('/stats/v1/summary', 'not-a-real-key-0000000000')).status).toBe(401);
  });

  it('refuses a bad query with 400 naming the parameter', async () => {
    const r = await get('/stats/v1/summary?groupBy=citizen', keys.auditor);
    expect(r.status).toBe(400);
    expect(String(r.body.message)).toMatch(/groupBy/);
  });
});
