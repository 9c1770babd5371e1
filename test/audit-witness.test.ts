/**
 * Evidence that holds (issue 11), over the whole stack:
 * - observation 1: an entity that left in a response sees the access in its own
 *   citizen history, with the procedure's Vietnamese name;
 * - observation 2, exactly as written: on a copy of the gateway's SQLite store,
 *   delete every checkpoint row, relabel one record (another client, DENIED),
 *   recompute the chain with the published algorithm → `motlan audit verify`
 *   with the key pinned says "intact" without a witness, and fails with the
 *   gateway's witness file or the fetched `/audit/v1/checkpoints/latest`;
 * - observation 3 (chain side): a restart over a lost store refuses to start a
 *   new chain under the same id.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAuditCli } from '../cli/audit.js';
import { startGateway } from '../gateway/app.js';
import { chainHash, contentHash, genesisHash, type AuditRecord } from '../gateway/audit/record.js';
import { rowToRecord } from '../gateway/audit/store.js';
import { loadHmacKey, subjectHasher } from '../gateway/audit/keys.js';
import type { CitizenRecord } from '../mocks/world/types.js';
import { QUIET_GATEWAY, startStack, type Stack } from './support/stack.js';

let stack: Stack;
let dataDir: string;
let work: string;
let clientKey: string;
let auditorKey: string;
let citizen: CitizenRecord;
let father: CitizenRecord;
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

async function ask(query: string, variables: Record<string, unknown>, purpose: string) {
  const res = await fetch(stack.graphqlUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...bearer(clientKey), 'x-purpose': purpose },
    body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, requestId: res.headers.get('x-request-id') ?? '', body: (await res.json()) as { data?: Record<string, unknown> } };
}

async function api(p: string, key: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${stack.gatewayUrl}${p}`, { headers: { ...bearer(key), ...headers } });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function cli(...args: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const io = { out: (t: string) => void (out += `${t}\n`), err: (t: string) => void (out += `${t}\n`), env: { ...process.env, DATA_DIR: dataDir, MOTLAN_AUDITOR_KEY: auditorKey }, cwd: work };
  const code = await runAuditCli(args, io);
  return { code, out };
}

/** A consistent copy of the live store (SQLite online backup), as an insider would take to tamper with. */
async function copyStore(name: string): Promise<string> {
  const dest = path.join(work, name);
  const db = new Database(path.join(dataDir, 'audit.db'), { readonly: true });
  await db.backup(dest);
  db.close();
  return dest;
}

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'motlan-witness-stack-'));
  work = mkdtempSync(path.join(tmpdir(), 'motlan-witness-work-'));
  // Shared locking: the insider's online copy of the live file (copyStore) needs a second connection,
  // which the default exclusive locking refuses (docs/AUDIT.md, SQLite locking).
  stack = await startStack({ citizens: 300, gateway: { audit: { dataDir, checkpointEvery: 5, checkpointIntervalMs: 0, sqliteLocking: 'shared' }, ...QUIET_GATEWAY } });
  const creds = stack.gateway.clients.demoCredentials();
  clientKey = creds.find((c) => c.roles.includes('client') && !stack.gateway.clients.clients.find((x) => x.id === c.clientId)?.requireSubjectToken)!.key;
  auditorKey = creds.find((c) => c.roles.includes('auditor'))!.key;
  const byId = new Map(stack.world.citizens.map((c) => [c.personalId, c]));
  citizen = stack.world.citizens.find((c) => c.fatherId && byId.has(c.fatherId) && !c.dateOfDeath)!;
  father = byId.get(citizen.fatherId!)!;
});

afterAll(async () => {
  await stack?.close();
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});

describe('observation 1: the citizen history of an entity that left shows the access', () => {
  it("a father returned through a relation sees the request in his history, with the procedure's Vietnamese name", async () => {
    const r = await ask(
      'query J($p: ID!) { citizen(personalId: $p) { fullName father { personalId fullName } } }',
      { p: citizen.personalId },
      'judicial-record-certificate',
    );
    expect(r.status).toBe(200);
    expect(JSON.stringify(r.body.data)).toContain(father.fullName);
    const history = await api('/audit/v1/citizen-history?limit=100', auditorKey, { 'x-subject-personal-id': father.personalId });
    expect(history.status).toBe(200);
    const item = (history.body.items as Array<Record<string, unknown>>).find((i) => i.requestId === r.requestId);
    expect(item).toMatchObject({ relation: 'related', procedureId: 'judicial-record-certificate', procedureName: 'Cấp Phiếu lý lịch tư pháp cho công dân Việt Nam' });
    const own = await api('/audit/v1/citizen-history?limit=100', auditorKey, { 'x-subject-personal-id': citizen.personalId });
    expect((own.body.items as Array<Record<string, unknown>>).find((i) => i.requestId === r.requestId)).toMatchObject({ relation: 'subject' });
  });
});

describe('observation 2: checkpoints witnessed outside the store', () => {
  let pub: string;

  beforeAll(async () => {
    for (let i = 0; i < 12; i++) {
      const r = await ask('query C($p: ID!) { citizen(personalId: $p) { fullName } }', { p: citizen.personalId }, 'lodging-notification');
      expect(r.status).toBe(200);
    }
    const keys = (await api('/audit/v1/keys', auditorKey)).body.keys as Array<{ publicKeyPem: string }>;
    pub = path.join(work, 'pinned.pub.pem');
    writeFileSync(pub, keys[0]!.publicKeyPem);
  });

  it('publishes the newest signed checkpoint of every chain to auditors only, and writes each one to the witness file', async () => {
    expect((await api('/audit/v1/checkpoints/latest', clientKey)).status).toBe(403);
    const latest = await api('/audit/v1/checkpoints/latest', auditorKey);
    expect(latest.status).toBe(200);
    const cps = latest.body.checkpoints as Array<{ instanceId: string; seq: number }>;
    const own = cps.find((c) => c.instanceId === stack.gateway.services.need('audit').instanceId);
    expect(own?.seq).toBeGreaterThanOrEqual(10);
    expect(existsSync(path.join(dataDir, 'audit-witness.jsonl'))).toBe(true);
    writeFileSync(path.join(work, 'pinned-latest.json'), JSON.stringify(latest.body));
    const ok = await cli('verify', '--db', await copyStore('intact.db'), '--public-key', pub, '--witness', path.join(dataDir, 'audit-witness.jsonl'), '--witness', 'pinned-latest.json');
    expect(ok.out).toContain('Result: intact.');
    expect(ok.code).toBe(0);
  });

  it('delete every checkpoint, relabel a record, recompute the chain: intact without a witness, TAMPERED with one (file or URL)', async () => {
    const copy = await copyStore('tampered.db');
    const db = new Database(copy);
    const id = stack.gateway.services.need('audit').instanceId;
    db.prepare('DELETE FROM audit_checkpoints').run();
    db.prepare("UPDATE audit_records SET client_id = 'another-agency-system', outcome = 'DENIED' WHERE instance_id = ? AND seq = 3").run(id);
    // The published algorithm (docs/AUDIT.md, record.ts), applied by the insider.
    const rows = (db.prepare('SELECT * FROM audit_records WHERE instance_id = ? ORDER BY seq').all(id) as Record<string, unknown>[]).map(rowToRecord);
    let prev = genesisHash(id);
    const update = db.prepare('UPDATE audit_records SET prev_hash = ?, hash = ? WHERE instance_id = ? AND seq = ?');
    for (const r of rows as AuditRecord[]) {
      const hash = chainHash(prev, contentHash(r));
      update.run(prev, hash, id, r.seq);
      prev = hash;
    }
    db.close();

    const blind = await cli('verify', '--db', copy, '--public-key', pub);
    expect(blind.code).toBe(0); // the observation: nothing in the store contradicts the rewrite
    expect(blind.out).toContain('No witness given');

    const withFile = await cli('verify', '--db', copy, '--public-key', pub, '--witness', path.join(dataDir, 'audit-witness.jsonl'));
    expect(withFile.code).toBe(1);
    expect(withFile.out).toMatch(/TAMPERED chain .*\(rewritten\)/);

    const withPinned = await cli('verify', '--db', copy, '--public-key', pub, '--witness', 'pinned-latest.json');
    expect(withPinned.code).toBe(1);

    const withUrl = await cli('verify', '--db', copy, '--public-key', pub, '--witness', `${stack.gatewayUrl}/audit/v1/checkpoints/latest`);
    expect(withUrl.code).toBe(1);
    expect(withUrl.out).toContain('TAMPERING DETECTED');
  });

  it('proves one record is in the signed log without exporting the rest (motlan audit prove), verifiable offline', async () => {
    const r = await ask('query C($p: ID!) { citizen(personalId: $p) { fullName } }', { p: citizen.personalId }, 'lodging-notification');
    for (let i = 0; i < 5; i++) await ask('query C($p: ID!) { citizen(personalId: $p) { fullName } }', { p: citizen.personalId }, 'lodging-notification');
    const copy = await copyStore('prove.db');
    const made = await cli('prove', r.requestId, '--db', copy, '--out', 'proof.jsonl');
    expect(made.code).toBe(0);
    const lines = readFileSync(path.join(work, 'proof.jsonl'), 'utf8').trim().split('\n');
    const full = lines.filter((l) => l.startsWith('{"type":"record"'));
    expect(full).toHaveLength(1);
    expect(full[0]).toContain(r.requestId);
    expect(lines.filter((l) => l.startsWith('{"type":"redacted"')).length).toBeLessThan(5);
    const ok = await cli('verify', '--file', 'proof.jsonl', '--public-key', pub, '--witness', path.join(dataDir, 'audit-witness.jsonl'));
    expect(ok.out).toContain('Result: intact.');
    writeFileSync(path.join(work, 'forged.jsonl'), lines.map((l) => l.replace(/"outcome":"OK"/, '"outcome":"DENIED"')).join('\n'));
    expect((await cli('verify', '--file', 'forged.jsonl', '--public-key', pub)).code).toBe(1);
  });

  it("deleting a citizen's subject rows is reported by verify (the record's hashed subject list disagrees)", async () => {
    const copy = await copyStore('subjects.db');
    const db = new Database(copy);
    // The father of observation 1: every row that puts the access in his history.
    const hmac = subjectHasher(loadHmacKey({ dataDir, production: false }).key)('personal', father.personalId);
    const n = db.prepare('DELETE FROM audit_subjects WHERE hmac = ?').run(hmac).changes;
    db.close();
    expect(n).toBeGreaterThan(0);
    const r = await cli('verify', '--db', copy, '--public-key', pub, '--json');
    expect(r.code).toBe(1);
    expect(r.out).toContain('subject index');
  });

  it('the whole chain deleted from a copy: verify with the witness reports it', async () => {
    const copy = await copyStore('gone.db');
    const db = new Database(copy);
    for (const t of ['audit_records', 'audit_checkpoints', 'audit_subjects']) db.prepare(`DELETE FROM ${t}`).run();
    db.close();
    const r = await cli('verify', '--db', copy, '--public-key', pub, '--witness', path.join(dataDir, 'audit-witness.jsonl'));
    expect(r.code).toBe(1);
    expect(r.out).toContain('whole chain');
  });
});

describe('observation 3, chain side: a lost store never restarts the chain silently', () => {
  it('refuses to start over a removed audit.db while the witness knows the chain', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'motlan-lost-'));
    try {
      const opts = {
        port: 0,
        host: '127.0.0.1',
        logLevel: 'silent' as const,
        sandbox: false as const,
        ...QUIET_GATEWAY,
        subgraphUrls: Object.fromEntries(Object.entries(stack.subgraphs).map(([n, s]) => [n, s.url])),
        subgraphSigningKeys: stack.subgraphSigningKeys,
        audit: { dataDir: dir, instanceId: 'lost-chain', checkpointIntervalMs: 0 },
      };
      const gw = await startGateway(opts);
      const res = await fetch(gw.graphqlUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...bearer(clientKey), 'x-purpose': 'lodging-notification' },
        body: JSON.stringify({ query: 'query C($p: ID!) { citizen(personalId: $p) { fullName } }', variables: { p: citizen.personalId } }),
      });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { data?: { citizen?: { fullName?: string } } }).data?.citizen?.fullName).toBe(citizen.fullName);
      await gw.close(); // signs and witnesses the final checkpoint
      for (const f of ['audit.db', 'audit.db-wal', 'audit.db-shm']) rmSync(path.join(dir, f), { force: true });
      await expect(startGateway(opts)).rejects.toThrow(/chain "lost-chain".*holds no record of it.*refuses to continue or restart this chain silently/s);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
