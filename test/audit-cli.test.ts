/**
 * `motlan audit …` as an operator or auditor runs it (the real npm bin, in a child
 * process): verify a SQLite file, a PostgreSQL database and exported files, with
 * the documented exit codes (0 intact, 1 tampered, 2 usage error); export and
 * archive round trips; key generation and pinning.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../lib/repo-root.js';
import { AuditLog } from '../gateway/audit/log.js';
import { PostgresAuditStore } from '../gateway/audit/postgres-store.js';
import { SqliteAuditStore } from '../gateway/audit/sqlite-store.js';
import type { AuditStore } from '../gateway/audit/store.js';
import { PG_TEST_URL, postgresUnavailable, sampleEntry, testSigner, uniqueSchema } from './support/audit-testing.js';

const run = promisify(execFile);
const BIN = path.join(REPO_ROOT, 'bin', 'motlan.mjs');
const DAY = 86_400_000;
const signer = testSigner();
let dir: string;

async function motlan(...args: string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { cwd: dir, env: { ...process.env, DATA_DIR: path.join(dir, 'data') } });
    return { code: 0, out: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

async function fill(store: AuditStore, instanceId: string, n: number, now = Date.now()): Promise<void> {
  await store.init();
  const log = new AuditLog({ store, instanceId, signer, checkpointEvery: 5, checkpointIntervalMs: 0 });
  await log.start();
  for (let i = 0; i < n; i++) await log.append(sampleEntry({ ts: now - (n - i) * DAY }));
  await log.close();
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'motlan-cli-'));
  writeFileSync(path.join(dir, 'key.pub.pem'), signer.publicKeyPem);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('motlan audit verify over a SQLite file', () => {
  it('exits 0 for an intact chain and 1 with the first bad record once a row is altered', async () => {
    const file = path.join(dir, 'a.db');
    const store = new SqliteAuditStore({ file });
    await fill(store, 'gw-a', 12);
    const ok = await motlan('audit', 'verify', '--db', file, '--public-key', 'key.pub.pem');
    expect(ok.code).toBe(0);
    expect(ok.out).toContain('Result: intact.');
    expect(ok.out).toMatch(/chain gw-a: 12 records \(seq 1\.\.12\)/);

    store.exec(`UPDATE audit_records SET outcome = 'OK', client_id = 'other' WHERE seq = 7`);
    await store.close();
    const bad = await motlan('audit', 'verify', file);
    expect(bad.code).toBe(1);
    expect(bad.out).toContain('first bad record seq 7 (modified)');
    const json = await motlan('audit', 'verify', file, '--json');
    expect(JSON.parse(json.out).chains[0].problem).toMatchObject({ kind: 'modified', seq: 7 });
  });

  it('exits 2 on usage errors', async () => {
    expect((await motlan('audit', 'verify', '--db', path.join(dir, 'missing.db'))).code).toBe(2);
    expect((await motlan('audit', 'verify', '--no-such-option')).code).toBe(2);
    expect((await motlan('audit', 'frobnicate')).code).toBe(2);
    expect((await motlan('audit', 'archive', '--db', path.join(dir, 'a.db'))).code).toBe(2);
  });
});

describe('export → verify and archive → verify with the CLI', () => {
  it('exports JSON Lines and CSV that verify, and detects a deleted line', async () => {
    const file = path.join(dir, 'b.db');
    await fill(new SqliteAuditStore({ file }), 'gw-b', 11);
    expect((await motlan('audit', 'export', '--db', file, '--out', 'b.jsonl')).code).toBe(0);
    expect((await motlan('audit', 'export', '--db', file, '--out', 'b.csv')).code).toBe(0);
    expect((await motlan('audit', 'verify', '--file', 'b.jsonl', '--public-key', 'key.pub.pem')).code).toBe(0);
    const csv = await motlan('audit', 'verify', 'b.csv', '--public-key', 'key.pub.pem');
    expect(csv.code).toBe(0);
    expect(csv.out).toMatch(/11 records/);

    const lines = readFileSync(path.join(dir, 'b.jsonl'), 'utf8').split('\n');
    const i = lines.findIndex((l) => l.includes('"type":"record"') && JSON.parse(l).seq === 4);
    lines.splice(i, 1);
    writeFileSync(path.join(dir, 'b-cut.jsonl'), lines.join('\n'));
    const cut = await motlan('audit', 'verify', 'b-cut.jsonl');
    expect(cut.code).toBe(1);
    expect(cut.out).toContain('first bad record seq 4 (deleted)');
  });

  it('a checkpoint signed by another key fails when the auditor pins the real key', async () => {
    expect((await motlan('audit', 'keygen', '--out', 'other.pem')).code).toBe(0);
    const r = await motlan('audit', 'verify', 'b.jsonl', '--public-key', 'other.pub.pem');
    expect(r.code).toBe(1);
    expect(r.out).toContain('unknown-key');
  });

  it('archives records older than N days; the archive and the remaining store both verify', async () => {
    const file = path.join(dir, 'c.db');
    await fill(new SqliteAuditStore({ file }), 'gw-c', 20);
    const a = await motlan('audit', 'archive', '--db', file, '--older-than-days', '8', '--out', 'c-archive.jsonl', '--public-key', 'key.pub.pem');
    expect(a.code).toBe(0);
    expect(a.out).toContain('the remaining chain verifies');
    const archive = await motlan('audit', 'verify', 'c-archive.jsonl', '--public-key', 'key.pub.pem', '--json');
    const rest = await motlan('audit', 'verify', '--db', file, '--public-key', 'key.pub.pem', '--json');
    expect(archive.code).toBe(0);
    expect(rest.code).toBe(0);
    const archived = JSON.parse(archive.out).chains[0];
    const remaining = JSON.parse(rest.out).chains[0];
    // Records 1..12 are more than 8 days old; the newest checkpoint among them is seq 10.
    expect(archived).toMatchObject({ firstSeq: 1, lastSeq: 10 });
    expect(remaining).toMatchObject({ anchoredAt: 10, firstSeq: 11, lastSeq: 20 });
    expect(remaining.anchoredAt).toBe(archived.lastSeq);
    expect((await motlan('audit', 'archive', '--db', file, '--older-than-days', '8', '--out', 'c-archive.jsonl')).code).toBe(2);
    // The archived periods' statistics live only in the rollups now: a rebuild would drop them.
    const refused = await motlan('stats', 'rebuild', '--db', file);
    expect(refused.code).toBe(1);
    expect(refused.out).toContain('--drop-archived');
    const forced = await motlan('stats', 'rebuild', '--db', file, '--drop-archived');
    expect(forced.code).toBe(0);
    expect(forced.out).toContain('from 10 record(s)');
  });
});

const pgSkip = await postgresUnavailable();
describe.skipIf(pgSkip !== null)(`motlan audit verify over PostgreSQL${pgSkip ? ` (skipped: ${pgSkip})` : ''}`, () => {
  const schema = uniqueSchema('audit_cli');
  const store = new PostgresAuditStore({ url: PG_TEST_URL, schema });
  afterAll(async () => {
    await store.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await store.close();
  });

  it('verifies a database URL, and reports a deleted record', async () => {
    await fill(store, 'replica-x', 9);
    const ok = await motlan('audit', 'verify', '--url', PG_TEST_URL, '--schema', schema, '--public-key', 'key.pub.pem');
    expect(ok.code).toBe(0);
    await store.exec(`DELETE FROM ${schema}.audit_records WHERE seq = 2`);
    const bad = await motlan('audit', 'verify', PG_TEST_URL, '--schema', schema);
    expect(bad.code).toBe(1);
    expect(bad.out).toContain('first bad record seq 2 (deleted)');
  });
});
