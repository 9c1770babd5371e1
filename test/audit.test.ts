/**
 * The audit trail over the whole stack: one record per GraphQL request for every
 * outcome (including requests refused before GraphQL runs), prefill recorded once,
 * fail closed when the store cannot commit, the auditor-only API (search by
 * personal ID, citizen history, export → verify), and the PostgreSQL store.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type GatewayOptions, type RunningGateway } from '../gateway/app.js';
import type { AuditRecord } from '../gateway/audit/record.js';
import { SqliteAuditStore } from '../gateway/audit/sqlite-store.js';
import type { AuditStore } from '../gateway/audit/store.js';
import { verifyExportLines } from '../gateway/audit/sources.js';
import { PG_TEST_URL, postgresUnavailable, uniqueSchema } from './support/audit-testing.js';
import type { CitizenRecord } from '../mocks/world/types.js';
import { newTrace, type MotlanContext } from '../gateway/core/context.js';
import { QUIET_GATEWAY, startStack, type Stack } from './support/stack.js';
import { send, type Sent } from './support/send.js';

const CITIZEN_QUERY = `query Citizen($personalId: ID!) {
  citizen(personalId: $personalId) { fullName dateOfBirth permanentResidence { fullAddress } }
}`;
const INSURED_QUERY = `query Insured($personalId: ID!) {
  citizen(personalId: $personalId) { fullName socialInsurance { socialInsuranceNumber status } }
}`;
const PREFILL_QUERY = `query Prefill($procedureId: ID!, $subject: SubjectInput!, $dossierId: String) {
  prefill(procedureId: $procedureId, subject: $subject, dossierId: $dossierId) {
    fields { key value registry }
    summary { fieldsTotal fieldsPrefilled fieldsForCitizen componentsTotal componentsCut hoursSaved }
  }
}`;

let dataDir: string;
let stack: Stack;
let store: AuditStore;
let clientKey: string;
let clientId: string;
let auditorKey: string;
let operatorKey: string;
let citizen: CitizenRecord;
const extraGateways: RunningGateway[] = [];

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

/** The single record of a request, through the store the gateway writes. */
async function recordOf(requestId: string, s: AuditStore = store): Promise<AuditRecord> {
  expect(requestId).not.toBe('');
  const page = await s.search({ requestId }, { limit: 10 });
  expect(page.items, `exactly one audit record for request ${requestId}`).toHaveLength(1);
  return page.items[0]!;
}

async function auditApi(pathAndQuery: string, key: string | null, headers: Record<string, string> = {}) {
  const res = await fetch(`${stack.gatewayUrl}${pathAndQuery}`, { headers: { ...(key ? bearer(key) : {}), ...headers } });
  const text = await res.text();
  return { status: res.status, text, json: () => JSON.parse(text) as Record<string, unknown> & { items: AuditRecord[]; nextCursor: string | null } };
}

/** Another gateway over the same subgraphs (other audit settings). */
async function gatewayWith(opts: Partial<GatewayOptions>): Promise<RunningGateway> {
  const gw = await startGateway({
    port: 0,
    host: '127.0.0.1',
    logLevel: 'silent',
    sandbox: false,
    subgraphUrls: Object.fromEntries(Object.entries(stack.subgraphs).map(([n, s]) => [n, s.url])),
    // The stack's subgraphs accept only what is signed with their keys.
    subgraphSigningKeys: stack.subgraphSigningKeys,
    ...opts,
  });
  extraGateways.push(gw);
  return gw;
}

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'motlan-audit-stack-'));
  stack = await startStack({
    citizens: 300,
    gateway: { audit: { dataDir, checkpointEvery: 10, checkpointIntervalMs: 0 }, ...QUIET_GATEWAY },
  });
  store = stack.gateway.services.need('audit').store;
  const creds = stack.gateway.clients.demoCredentials();
  // A TTHC system bound by purpose: no subject token required, no sandbox `explore` permission.
  const client = creds.find((c) => {
    const identity = stack.gateway.clients.clients.find((x) => x.id === c.clientId);
    return c.roles.includes('client') && identity && !identity.requireSubjectToken && !identity.permissions.includes('explore');
  })!;
  clientKey = client.key;
  clientId = client.clientId;
  auditorKey = creds.find((c) => c.roles.includes('auditor'))!.key;
  operatorKey = creds.find((c) => c.roles.includes('operator') && !c.roles.includes('auditor'))!.key;
  citizen = stack.world.citizens.find((c) => c.dateOfBirth < '2000-01-01' && !c.dateOfDeath)!;
});

afterAll(async () => {
  for (const gw of extraGateways) await gw.close().catch(() => {});
  await stack?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('one record per GraphQL request, for every outcome', () => {
  it('OK: who, why, about whom (HMAC only), which registries and fields, how much', async () => {
    const before = await store.count({});
    const r = await send(stack.graphqlUrl, { query: CITIZEN_QUERY, variables: { personalId: citizen.personalId } }, {
      ...bearer(clientKey),
      'x-purpose': 'lodging-notification',
      'x-dossier-id': 'HS-2025-0001',
    });
    expect(r.status).toBe(200);
    expect(r.body?.data?.citizen).toBeTruthy();
    const rec = await recordOf(r.requestId);
    expect(rec).toMatchObject({
      clientId,
      outcome: 'OK',
      operationName: 'Citizen',
      operationType: 'query',
      documentHash: createHash('sha256').update(CITIZEN_QUERY).digest('hex'),
      procedureId: 'lodging-notification',
      dossierId: 'HS-2025-0001',
      registries: ['population'],
      httpStatus: 200,
      responseBytes: Buffer.byteLength(r.text),
      errorCodes: [],
    });
    expect(rec.fields).toEqual(expect.arrayContaining(['Query.citizen', 'Citizen.fullName', 'Citizen.permanentResidence', 'Address.fullAddress']));
    expect(rec.entities.population).toBeGreaterThanOrEqual(1);
    expect(rec.subjects.some((s) => s.kind === 'personal' && s.role === 'subject')).toBe(true);
    // Never a value, never a clear personal ID.
    const stored = JSON.stringify(rec);
    expect(stored).not.toContain(citizen.personalId);
    expect(stored).not.toContain(citizen.fullName);
    expect(await store.count({})).toBe(before + 1);
  });

  it('PARTIAL: a registry down, the others answer', async () => {
    stack.setFaults('insurance', { outage: true });
    try {
      const r = await send(stack.graphqlUrl, { query: INSURED_QUERY, variables: { personalId: citizen.personalId } }, {
        ...bearer(clientKey),
        'x-purpose': 'social-insurance-lump-sum',
      });
      expect(r.status).toBe(200);
      const rec = await recordOf(r.requestId);
      expect(rec.outcome).toBe('PARTIAL');
      expect(rec.errorCodes).toContain('REGISTRY_UNAVAILABLE');
      expect(rec.registries).toEqual(expect.arrayContaining(['population', 'insurance']));
      expect(rec.fields).toContain('Citizen.fullName');
      expect(rec.fields).not.toContain('SocialInsuranceRecord.socialInsuranceNumber');
    } finally {
      stack.setFaults('insurance', { outage: false });
    }
  });

  it('ERROR: the only registry asked is down, nothing shared', async () => {
    stack.setFaults('population', { outage: true });
    try {
      const r = await send(stack.graphqlUrl, { query: CITIZEN_QUERY, variables: { personalId: citizen.personalId } }, {
        ...bearer(clientKey),
        'x-purpose': 'lodging-notification',
      });
      const rec = await recordOf(r.requestId);
      expect(rec.outcome).toBe('ERROR');
      expect(rec.fields).toEqual([]);
    } finally {
      stack.setFaults('population', { outage: false });
    }
  });

  it('DENIED: a query without a declared purpose is refused, and the refusal is on the record', async () => {
    const r = await send(stack.graphqlUrl, { query: CITIZEN_QUERY, variables: { personalId: citizen.personalId } }, bearer(clientKey));
    expect(r.body?.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const rec = await recordOf(r.requestId);
    expect(rec).toMatchObject({ outcome: 'DENIED', clientId, fields: [], entities: {} });
    expect(rec.errorCodes).toContain('FORBIDDEN');
    // The target is recorded (as an HMAC) even though nothing was shared.
    expect(rec.subjects.length).toBeGreaterThan(0);
  });

  it('INVALID: malformed JSON (never reaches GraphQL), a GraphQL syntax error, and a malformed personal ID', async () => {
    const bad = await send(stack.graphqlUrl, '{"query": "{ citizen(personalId: ', bearer(clientKey));
    expect(bad.status).toBe(400);
    expect(await recordOf(bad.requestId)).toMatchObject({ outcome: 'INVALID', httpStatus: 400, clientId, operationName: null });

    const syntax = await send(stack.graphqlUrl, { query: '{ citizen(personalId: "1") { ' }, { ...bearer(clientKey), 'x-purpose': 'lodging-notification' });
    expect(await recordOf(syntax.requestId)).toMatchObject({ outcome: 'INVALID' });

    const malformed = await send(stack.graphqlUrl, { query: CITIZEN_QUERY, variables: { personalId: '12' } }, { ...bearer(clientKey), 'x-purpose': 'lodging-notification' });
    const rec = await recordOf(malformed.requestId);
    expect(rec.outcome).toBe('INVALID');
  });

  it('INVALID: a body over the size limit is refused before it is read, and still recorded', async () => {
    const r = await send(stack.graphqlUrl, { query: CITIZEN_QUERY, variables: { personalId: 'x'.repeat(200_000) } }, bearer(clientKey));
    expect(r.status).toBe(413);
    expect(await recordOf(r.requestId)).toMatchObject({ outcome: 'INVALID', httpStatus: 413 });
  });

  it('UNAUTHENTICATED: no key, or a wrong key', async () => {
    const none = await send(stack.graphqlUrl, { query: CITIZEN_QUERY, variables: { personalId: citizen.personalId } });
    expect(none.status).toBe(401);
    expect(await recordOf(none.requestId)).toMatchObject({ outcome: 'UNAUTHENTICATED', clientId: 'anonymous', agency: 'anonymous', httpStatus: 401 });
    const wrong = await send(stack.graphqlUrl, { query: CITIZEN_QUERY, variables: { personalId: citizen.personalId } }, bearer('not-a-key-of-anyone-000000'));
    expect(await recordOf(wrong.requestId)).toMatchObject({ outcome: 'UNAUTHENTICATED', clientId: 'anonymous' });
  });

  it('DENIED: a rate-limited request (refused in a Fastify hook) is recorded too', async () => {
    const gw = await gatewayWith({ audit: { dataDir, store, instanceId: 'rate-limited' }, rateLimit: { ratePerSecond: 0.01, burst: 1 } });
    const statuses: Sent[] = [];
    for (let i = 0; i < 4; i++) {
      statuses.push(await send(gw.graphqlUrl, { query: CITIZEN_QUERY, variables: { personalId: citizen.personalId } }, { ...bearer(clientKey), 'x-purpose': 'lodging-notification' }));
    }
    const limited = statuses.find((s) => s.status === 429);
    expect(limited, 'a 429 after the burst').toBeDefined();
    expect(await recordOf(limited!.requestId)).toMatchObject({ outcome: 'DENIED', httpStatus: 429, clientId });
    for (const s of statuses) await recordOf(s.requestId);
  });

  it('prefill: ONE record for the outer request, with the fields its inner operation fetched and the prefill counts', async () => {
    const before = await store.count({});
    const r = await send(stack.graphqlUrl, {
      query: PREFILL_QUERY,
      variables: { procedureId: 'lodging-notification', subject: { personalId: citizen.personalId }, dossierId: 'HS-PF-1' },
    }, bearer(clientKey));
    expect(r.status).toBe(200);
    expect(r.body?.errors).toBeUndefined();
    expect(await store.count({})).toBe(before + 1);
    const rec = await recordOf(r.requestId);
    expect(rec).toMatchObject({ outcome: 'OK', operationName: 'Prefill', procedureId: 'lodging-notification', dossierId: 'HS-PF-1' });
    expect(rec.registries).toContain('population');
    expect(rec.fields.some((f) => f.startsWith('Citizen.'))).toBe(true);
    expect(rec.prefill).toMatchObject({ fieldsTotal: expect.any(Number), componentsCut: expect.any(Number) });
    expect(rec.subjects.filter((s) => s.role === 'subject')).toHaveLength(1);
  });

  it('every response carries X-Request-Id, and the chain of the store verifies', async () => {
    const v = await auditApi('/audit/v1/verify', auditorKey);
    expect(v.status).toBe(200);
    const body = v.json() as unknown as { ok: boolean; chains: Array<{ ok: boolean; records: number; firstBad: unknown }> };
    expect(body.ok).toBe(true);
    expect(body.chains.reduce((n, c) => n + c.records, 0)).toBe(await store.count({}));
  });
});

/** The context the gateway would build for an HTTP request of the test client. */
function contextFor(gw: RunningGateway, requestId: string): MotlanContext {
  return {
    requestId,
    receivedAt: Date.now(),
    client: gw.clients.clients.find((c) => c.id === clientId)!,
    purpose: { procedureId: 'lodging-notification', dossierId: null },
    subject: {},
    headers: { 'x-purpose': 'lodging-notification' },
    trace: newTrace(),
  };
}

describe('fail closed', () => {
  /** A store that can be switched to failing commits (disk full, database down). */
  class SwitchableStore extends SqliteAuditStore {
    failing = false;
    override async appendBatch(...args: Parameters<SqliteAuditStore['appendBatch']>): Promise<void> {
      if (this.failing) throw new Error('SQLITE_FULL: database or disk is full');
      return super.appendBatch(...args);
    }
  }

  it('answers 503 AUDIT_UNAVAILABLE and shares nothing when the store cannot commit; recovers without a hole in the chain', async () => {
    const failing = new SwitchableStore({ file: path.join(dataDir, 'failing.db') });
    const gw = await gatewayWith({ audit: { dataDir, store: failing, instanceId: 'fail-closed' }, ...QUIET_GATEWAY });
    const ask = () => send(gw.graphqlUrl, { query: CITIZEN_QUERY, variables: { personalId: citizen.personalId } }, { ...bearer(clientKey), 'x-purpose': 'lodging-notification' });

    const ok1 = await ask();
    expect(ok1.status).toBe(200);

    failing.failing = true;
    const refused = await ask();
    expect(refused.status).toBe(503);
    expect(refused.body?.errors?.[0]?.extensions?.code).toBe('AUDIT_UNAVAILABLE');
    expect(refused.body?.data).toBeUndefined();
    expect(refused.text).not.toContain(citizen.fullName);
    const prefill = await send(gw.graphqlUrl, { query: PREFILL_QUERY, variables: { procedureId: 'lodging-notification', subject: { personalId: citizen.personalId } } }, bearer(clientKey));
    expect(prefill.status).toBe(503);
    expect(prefill.text).not.toContain(citizen.fullName);
    const ready = await fetch(`${gw.url}/ready`);
    expect(ready.status).not.toBe(200);
    // Executed without HTTP (Apollo executeOperation): the plugin fails closed too.
    const direct = await gw.apollo.executeOperation(
      { query: CITIZEN_QUERY, variables: { personalId: citizen.personalId } },
      { contextValue: contextFor(gw, 'direct-refused') },
    );
    expect(direct.http.status).toBe(503);
    expect(direct.body.kind === 'single' && direct.body.singleResult.errors?.[0]?.extensions?.code).toBe('AUDIT_UNAVAILABLE');
    expect(direct.body.kind === 'single' && direct.body.singleResult.data).toBeFalsy();

    failing.failing = false;
    const ok2 = await ask();
    expect(ok2.status).toBe(200);
    const r1 = await recordOf(ok1.requestId, failing);
    const r2 = await recordOf(ok2.requestId, failing);
    expect(r2.seq).toBe(r1.seq + 1);
    expect(r2.prevHash).toBe(r1.hash);
    expect((await failing.search({ requestId: refused.requestId }, { limit: 1 })).items).toHaveLength(0);

    const directOk = await gw.apollo.executeOperation(
      { query: CITIZEN_QUERY, variables: { personalId: citizen.personalId } },
      { contextValue: contextFor(gw, 'direct-ok') },
    );
    expect(directOk.body.kind === 'single' && directOk.body.singleResult.data?.citizen).toBeTruthy();
    expect(await recordOf('direct-ok', failing)).toMatchObject({ outcome: 'OK', clientId, procedureId: 'lodging-notification', seq: r2.seq + 1 });
  });
});

describe('auditor API', () => {
  it('is for auditors only: 401 without a key, 403 for a TTHC client or an operator', async () => {
    expect((await auditApi('/audit/v1/records', null)).status).toBe(401);
    expect((await auditApi('/audit/v1/records', clientKey)).status).toBe(403);
    expect((await auditApi('/audit/v1/records', operatorKey)).status).toBe(403);
    expect((await auditApi('/audit/v1/export?format=jsonl', clientKey)).status).toBe(403);
    expect((await auditApi('/audit/v1/records', auditorKey)).status).toBe(200);
  });

  it('searches by personal ID (sent in a header, hashed by the gateway), with filters and cursor paging', async () => {
    const other = stack.world.citizens.find((c) => c.personalId !== citizen.personalId && c.dateOfBirth < '2000-01-01' && !c.dateOfDeath)!;
    for (const who of [citizen, other, citizen]) {
      await send(stack.graphqlUrl, { query: CITIZEN_QUERY, variables: { personalId: who.personalId } }, { ...bearer(clientKey), 'x-purpose': 'lodging-notification' });
    }
    const mine: AuditRecord[] = [];
    let cursor: string | null = null;
    do {
      const q: string = `/audit/v1/records?limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const page = (await auditApi(q, auditorKey, { 'x-subject-personal-id': citizen.personalId })).json();
      mine.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    const theirs = (await auditApi('/audit/v1/records?limit=500', auditorKey, { 'x-subject-personal-id': other.personalId })).json().items;
    expect(theirs.length).toBeGreaterThanOrEqual(1);
    expect(mine.length).toBeGreaterThanOrEqual(3);
    const overlap = mine.filter((r) => theirs.some((t) => t.requestId === r.requestId));
    expect(overlap).toEqual([]);
    expect(new Set(mine.map((r) => `${r.instanceId}/${r.seq}`)).size).toBe(mine.length);
    // Newest first.
    expect([...mine].sort((a, b) => b.ts - a.ts || b.seq - a.seq)).toEqual(mine);

    const denied = (await auditApi('/audit/v1/records?outcome=DENIED&limit=500', auditorKey, { 'x-subject-personal-id': citizen.personalId })).json().items;
    expect(denied.length).toBeGreaterThan(0);
    expect(denied.every((r) => r.outcome === 'DENIED')).toBe(true);
    const count = (await auditApi(`/audit/v1/count?clientId=${clientId}`, auditorKey)).json() as unknown as { count: number };
    expect(count.count).toBe(await store.count({ clientId }));

    const leak = await auditApi(`/audit/v1/records?personalId=${citizen.personalId}`, auditorKey);
    expect(leak.status).toBe(400);
    expect(leak.text).toContain('X-Subject-Personal-Id');
    expect((await auditApi('/audit/v1/records', auditorKey, { 'x-subject-personal-id': '123' })).status).toBe(400);
  });

  it('returns one record in full with its integrity, and a request by its X-Request-Id', async () => {
    const r = await send(stack.graphqlUrl, { query: CITIZEN_QUERY, variables: { personalId: citizen.personalId } }, { ...bearer(clientKey), 'x-purpose': 'lodging-notification' });
    const byId = (await auditApi(`/audit/v1/requests/${r.requestId}`, auditorKey)).json() as unknown as { record: AuditRecord };
    const one = (await auditApi(`/audit/v1/records/${byId.record.instanceId}/${byId.record.seq}`, auditorKey)).json() as unknown as {
      record: AuditRecord;
      integrity: { hashMatches: boolean; linksToPrevious: boolean };
    };
    expect(one.record).toEqual(byId.record);
    expect(one.integrity).toEqual({ hashMatches: true, linksToPrevious: true });
    expect((await auditApi(`/audit/v1/records/${byId.record.instanceId}/999999`, auditorKey)).status).toBe(404);
  });

  it('shows a citizen access history: when, which agency’s system, which procedure, which registries', async () => {
    const res = await auditApi('/audit/v1/citizen-history?limit=100', auditorKey, { 'x-subject-personal-id': citizen.personalId });
    expect(res.status).toBe(200);
    const items = res.json().items as unknown as Array<Record<string, unknown>>;
    expect(items.length).toBeGreaterThan(0);
    expect(items.every((i) => i.outcome === 'OK' || i.outcome === 'PARTIAL')).toBe(true);
    expect(items[0]).toMatchObject({ agency: expect.any(String), clientId, clientName: expect.any(String), procedureId: expect.any(String), registries: expect.any(Array) });
    expect(res.text).not.toContain(citizen.personalId);
    expect((await auditApi('/audit/v1/citizen-history', auditorKey)).status).toBe(400);
  });

  for (const format of ['jsonl', 'csv'] as const) {
    it(`exports ${format} that verifies offline (whole log, and one citizen's records)`, async () => {
      const whole = await auditApi(`/audit/v1/export?format=${format}`, auditorKey);
      expect(whole.status).toBe(200);
      const report = await verifyExportLines(whole.text.split('\n'));
      expect(report.ok).toBe(true);
      expect(report.chains.reduce((n, c) => n + c.records, 0)).toBe(await store.count({}));

      const one = await auditApi(`/audit/v1/export?format=${format}`, auditorKey, { 'x-subject-personal-id': citizen.personalId });
      const r2 = await verifyExportLines(one.text.split('\n'));
      expect(r2.ok).toBe(true);
      // Only that citizen's records are disclosed in full.
      const full = one.text.split('\n').filter((l) => (format === 'csv' ? l.startsWith('record,') : l.startsWith('{"type":"record"')));
      const expected = (await auditApi('/audit/v1/count', auditorKey, { 'x-subject-personal-id': citizen.personalId })).json() as unknown as { count: number };
      expect(full).toHaveLength(expected.count);
    });
  }
});

const pgSkip = await postgresUnavailable();
describe.skipIf(pgSkip !== null)(`PostgreSQL store behind the gateway${pgSkip ? ` (skipped: ${pgSkip})` : ''}`, () => {
  const schema = uniqueSchema('audit_stack');
  let gw: RunningGateway;
  afterAll(async () => {
    const { PostgresAuditStore } = await import('../gateway/audit/postgres-store.js');
    const s = new PostgresAuditStore({ url: PG_TEST_URL, schema });
    await s.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await s.close();
  });

  it('records every request in PostgreSQL, one chain per replica, and the chains verify', async () => {
    gw = await gatewayWith({ audit: { dataDir, databaseUrl: PG_TEST_URL, databaseSchema: schema, instanceId: 'replica-1' }, ...QUIET_GATEWAY });
    const gw2 = await gatewayWith({ audit: { dataDir, databaseUrl: PG_TEST_URL, databaseSchema: schema, instanceId: 'replica-2' }, ...QUIET_GATEWAY });
    const pgStore = gw.services.need('audit').store;
    expect(pgStore.kind).toBe('postgres');
    const sent = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        send((i % 2 ? gw2 : gw).graphqlUrl, { query: CITIZEN_QUERY, variables: { personalId: citizen.personalId } }, { ...bearer(clientKey), 'x-purpose': 'lodging-notification' }),
      ),
    );
    await send(gw.graphqlUrl, { query: CITIZEN_QUERY, variables: { personalId: citizen.personalId } });
    for (const s of sent) expect(s.status).toBe(200);
    for (const s of sent) await recordOf(s.requestId, pgStore);
    expect((await pgStore.head('replica-1'))?.seq).toBe(7);
    expect((await pgStore.head('replica-2'))?.seq).toBe(6);
    const res = await fetch(`${gw.url}/audit/v1/verify`, { headers: bearer(auditorKey) });
    const body = (await res.json()) as { ok: boolean; chains: Array<{ instanceId: string; ok: boolean }> };
    expect(body.ok).toBe(true);
    expect(body.chains.map((c) => c.instanceId).sort()).toEqual(['replica-1', 'replica-2']);
  });
});
