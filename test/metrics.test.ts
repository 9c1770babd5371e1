/**
 * `GET /metrics` over the whole stack after a mix of requests: the body parses as
 * Prometheus text, the expected families are there with the right types, request
 * counts agree with the audit records (one per request, same outcomes), registry
 * fetches show the outage, audit commit latency and queue depth are exported, and
 * no label value could be a personal ID or carry a request or dossier id.
 * Also the METRICS_TOKEN protection, on a second gateway.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecord } from '../gateway/audit/record.js';
import type { AuditStore } from '../gateway/audit/store.js';
import { QUIET_GATEWAY, startStack, type Stack } from './support/stack.js';
import { parsePrometheusText, type Family } from './support/metrics-parse.js';
import { statsCatalogOf } from '../gateway/stats/index.js';
import { allRecords } from './support/stats-recount.js';
import { sendMixedTraffic, staffKeys } from './support/stats-traffic.js';

describe('/metrics over the whole stack', () => {
  let stack: Stack;
  let dataDir: string;
  let families: Map<string, Family>;
  let records: AuditRecord[];
  let contentType: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'motlan-metrics-'));
    stack = await startStack({ gateway: { audit: { dataDir } } });
    await sendMixedTraffic(stack);
    // The API other concerns record through (the cache uses it too, with its own cache names).
    stack.gateway.services.need('metrics').cacheHit('metrics-probe');
    stack.gateway.services.need('metrics').cacheMiss('metrics-probe', 2);
    records = await allRecords(stack.gateway.services.need('audit').store);
    const res = await fetch(`${stack.gatewayUrl}/metrics`);
    expect(res.status).toBe(200);
    contentType = res.headers.get('content-type') ?? '';
    families = parsePrometheusText(await res.text());
  });

  afterAll(async () => {
    await stack?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  const family = (name: string, type: Family['type']): Family => {
    const f = families.get(name);
    expect(f, `family ${name}`).toBeDefined();
    expect(f!.type, `type of ${name}`).toBe(type);
    expect(f!.help.length, `help of ${name}`).toBeGreaterThan(10);
    return f!;
  };
  const sum = (f: Family, pred: (labels: Record<string, string>) => boolean = () => true, sample = f.name) =>
    f.samples.filter((s) => s.name === sample && pred(s.labels)).reduce((a, s) => a + s.value, 0);

  it('is Prometheus text format 0.0.4 with the expected families', () => {
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    family('motlan_requests_total', 'counter');
    family('motlan_request_duration_seconds', 'histogram');
    family('motlan_subgraph_fetch_duration_seconds', 'histogram');
    family('motlan_registry_fetches_total', 'counter');
    family('motlan_entities_shared_total', 'counter');
    family('motlan_cache_hits_total', 'counter');
    family('motlan_cache_misses_total', 'counter');
    family('motlan_audit_commit_duration_seconds', 'histogram');
    family('motlan_audit_commit_failures_total', 'counter');
    family('motlan_audit_queue_depth', 'gauge');
    family('motlan_gateway_info', 'gauge');
    family('process_cpu_seconds_total', 'counter');
  });

  it('counts one request per audit record, with the same client, procedure and outcome', () => {
    const requests = family('motlan_requests_total', 'counter');
    expect(sum(requests)).toBe(records.length);
    const fromMetrics = new Map<string, number>();
    for (const s of requests.samples) fromMetrics.set(`${s.labels.client}|${s.labels.procedure}|${s.labels.outcome}`, s.value);
    const fromAudit = new Map<string, number>();
    for (const r of records) {
      const k = `${r.clientId}|${r.procedureId ?? 'none'}|${r.outcome}`;
      fromAudit.set(k, (fromAudit.get(k) ?? 0) + 1);
    }
    expect(Object.fromEntries(fromMetrics)).toEqual(Object.fromEntries(fromAudit));
    expect(new Set(requests.samples.map((s) => s.labels.outcome)).size).toBeGreaterThanOrEqual(4);
    // Histogram count by outcome equals the counter by outcome.
    const duration = family('motlan_request_duration_seconds', 'histogram');
    for (const outcome of new Set(records.map((r) => r.outcome))) {
      expect(sum(duration, (l) => l.outcome === outcome, 'motlan_request_duration_seconds_count')).toBe(records.filter((r) => r.outcome === outcome).length);
    }
  });

  it('shows registry fetches, the insurance outage and entities shared per registry', () => {
    const fetches = family('motlan_registry_fetches_total', 'counter');
    expect(sum(fetches, (l) => l.registry === 'population' && l.result === 'ok')).toBeGreaterThan(0);
    expect(sum(fetches, (l) => l.registry === 'insurance' && l.result === 'error')).toBeGreaterThan(0);
    const subgraph = family('motlan_subgraph_fetch_duration_seconds', 'histogram');
    expect(sum(subgraph, (l) => l.registry === 'population', 'motlan_subgraph_fetch_duration_seconds_count')).toBeGreaterThan(0);
    const buckets = subgraph.samples.filter((s) => s.name.endsWith('_bucket') && s.labels.registry === 'population');
    expect(buckets.at(-1)!.labels.le).toBe('+Inf');
    expect(buckets.map((b) => b.value)).toEqual([...buckets.map((b) => b.value)].sort((a, b) => a - b)); // cumulative
    const entities = family('motlan_entities_shared_total', 'counter');
    const shared = records.filter((r) => r.outcome === 'OK' || r.outcome === 'PARTIAL').reduce((a, r) => a + (r.entities.population ?? 0), 0);
    expect(sum(entities, (l) => l.registry === 'population')).toBe(shared);
  });

  it('exports cache counters, audit commit latency and queue depth', () => {
    const hits = family('motlan_cache_hits_total', 'counter');
    const misses = family('motlan_cache_misses_total', 'counter');
    expect(sum(hits, (l) => l.cache === 'metrics-probe')).toBe(1);
    expect(sum(misses, (l) => l.cache === 'metrics-probe')).toBe(2);
    const commits = family('motlan_audit_commit_duration_seconds', 'histogram');
    expect(sum(commits, () => true, 'motlan_audit_commit_duration_seconds_count')).toBe(records.length);
    expect(family('motlan_audit_queue_depth', 'gauge').samples[0]!.value).toBeGreaterThanOrEqual(0);
  });

  it('no label value looks like a personal ID, a request id or a dossier id', () => {
    const ids = new Set(stack.world.citizens.map((c) => c.personalId));
    const requestIds = new Set(records.map((r) => r.requestId));
    const dossiers = new Set(records.map((r) => r.dossierId).filter(Boolean));
    for (const f of families.values()) {
      for (const s of f.samples) {
        for (const [name, value] of Object.entries(s.labels)) {
          expect(/\d{9,}/.test(value), `${s.name}{${name}="${value}"}`).toBe(false);
          expect(ids.has(value) || requestIds.has(value) || dossiers.has(value), `${s.name}{${name}="${value}"}`).toBe(false);
        }
      }
    }
  });
});

// One stack for the two describes below: no audit trail, rate limits off, a scrape token.
const SCRAPE_TOKEN = 'scrape-secret-0123456789';
describe('/metrics without an audit trail', () => {
  let stack: Stack;
  const scrape = async () => (await fetch(`${stack.gatewayUrl}/metrics`, { headers: { authorization: `Bearer ${SCRAPE_TOKEN}` } })).text();
  beforeAll(async () => {
    stack = await startStack({ gateway: { audit: false, ...QUIET_GATEWAY, metrics: { token: SCRAPE_TOKEN } } });
  });
  afterAll(async () => {
    await stack?.close();
  });

  describe('/metrics: purposes clients invent', () => {
    it('100 distinct purposes that name no procedure make one `unknown` series, never a label value of their own', async () => {
      const key = staffKeys(stack).clients[0]!;
      // A real citizen, so no lookup fails (failed lookups trip the enumeration guard).
      const query = `{ citizen(personalId: "${stack.world.citizens[0]!.personalId}") { fullName } }`;
      const bogus = Array.from({ length: 100 }, (_, i) => `made-up-purpose-${i}`);
      for (const purpose of bogus) {
        const res = await fetch(stack.graphqlUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, 'x-purpose': purpose },
          body: JSON.stringify({ query }),
        });
        expect(res.status, purpose).toBe(200);
        await res.arrayBuffer();
      }
      // A real procedure still has its own series.
      const ok = await fetch(stack.graphqlUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, 'x-purpose': 'lodging-notification' },
        body: JSON.stringify({ query }),
      });
      await ok.arrayBuffer();
      const requests = parsePrometheusText(await scrape()).get('motlan_requests_total')!;
      const procedures = new Set(requests.samples.map((s) => s.labels.procedure));
      for (const purpose of bogus) expect(procedures.has(purpose), purpose).toBe(false);
      const unknown = requests.samples.filter((s) => s.labels.procedure === 'unknown');
      // The demo client may run any procedure ('*', outside production), so all 100 were answered: one series.
      expect(unknown.map((s) => [s.labels.outcome, s.value])).toEqual([['OK', 100]]);
      expect(procedures.has('lodging-notification')).toBe(true);
      expect(procedures.size).toBe(2);
    });

    it('an interconnected group id is a known purpose: its own series, as in the statistics (core/known-purposes.ts)', async () => {
      const key = staffKeys(stack).clients[0]!;
      const group = stack.gateway.services.need('procedures').groupIds?.()[0];
      expect(group, 'the catalog has an interconnected group').toBeTruthy();
      const res = await fetch(stack.graphqlUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, 'x-purpose': group! },
        body: JSON.stringify({ query: `{ citizen(personalId: "${stack.world.citizens[0]!.personalId}") { fullName } }` }),
      });
      await res.arrayBuffer();
      const requests = parsePrometheusText(await scrape()).get('motlan_requests_total')!;
      expect(requests.samples.filter((s) => s.labels.procedure === group).reduce((n, s) => n + s.value, 0)).toBe(1);
      // The statistics key the same id as known (not `unknown`): the one list both read.
      expect(statsCatalogOf(stack.gateway.services.need('procedures'), undefined).procedureIds()).toContain(group);
    });
  });

  describe('/metrics with METRICS_TOKEN', () => {
    it('requires the bearer token', async () => {
      const none = await fetch(`${stack.gatewayUrl}/metrics`);
      expect(none.status).toBe(401);
      expect(none.headers.get('www-authenticate')).toMatch(/Bearer/);
      expect(((await none.json()) as { message: string }).message).toMatch(/METRICS_TOKEN/);
      const wrong = await fetch(`${stack.gatewayUrl}/metrics`, { headers: { authorization: 'Bearer scrape-secret-0123456788' } });
      expect(wrong.status).toBe(401);
      const client = await fetch(`${stack.gatewayUrl}/metrics`, { headers: { authorization: `Bearer ${stack.demoKey}` } });
      expect(client.status).toBe(401);
      const ok = await fetch(`${stack.gatewayUrl}/metrics`, { headers: { authorization: `Bearer ${SCRAPE_TOKEN}` } });
      expect(ok.status).toBe(200);
      expect(parsePrometheusText(await ok.text()).has('motlan_requests_total')).toBe(true);
    });
  });
});
