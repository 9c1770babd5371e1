/**
 * Strict configuration as an operator meets it: `motlan doctor` passes a complete production
 * environment and fails, with what to do, when any one item of the checklist is missing; and
 * `npm run client:add -- --help` prints its usage.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../cli/main.js';
import type { CliIo } from '../cli/io.js';
import { hashApiKey } from '../gateway/auth/keys.js';
import { generateSigningKey } from '../gateway/audit/keys.js';
import { loadCatalog } from '../gateway/procedures/catalog.js';
import { REPO_ROOT } from '../lib/repo-root.js';
import { DEMO_REGISTRY_KEY } from '../lib/demo.js';
import { trustedDocumentsOfCatalog } from '../scripts/generate-documents.js';

const run = promisify(execFile);
const TSX_CLI = path.join(path.dirname(createRequire(import.meta.url).resolve('tsx/package.json')), 'dist/cli.mjs');
const dir = mkdtempSync(path.join(tmpdir(), 'motlan-doctor-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const hex = (n: number) => n.toString(16).padStart(2, '0').repeat(32);

/** A complete production environment: every item passes. */
function productionEnv(): NodeJS.ProcessEnv {
  const secrets = path.join(dir, 'secrets');
  const signingKey = path.join(secrets, 'audit-signing-key.pem');
  mkdirSync(secrets, { recursive: true });
  try {
    generateSigningKey(signingKey);
  } catch {
    // made by an earlier call
  }
  const catalog = loadCatalog({ supergraphSdl: readFileSync(path.join(REPO_ROOT, 'schema/supergraph.graphql'), 'utf8') });
  writeFileSync(path.join(dir, 'trusted-documents.json'), JSON.stringify(trustedDocumentsOfCatalog(catalog)));
  const client = (id: string, extra: Record<string, unknown>) => ({
    id,
    agency: 'UBND Thành phố Hà Nội',
    name: `System ${id}`,
    procedures: ['lodging-notification'],
    keys: [{ id: `${id}-1`, sha256: hashApiKey(`key-of-${id}-0123456789abcdef`), createdAt: '2026-01-01T00:00:00Z' }],
    ...extra,
  });
  writeFileSync(path.join(dir, 'clients.json'), JSON.stringify({ clients: [client('hanoi-tthc', { trustedDocuments: 'trusted-documents.json' }), client('ops', { roles: ['operator'] })] }));
  return {
    NODE_ENV: 'production',
    CLIENTS_FILE: path.join(dir, 'clients.json'),
    DATA_DIR: path.join(dir, 'data'),
    AUDIT_DATABASE_URL: 'postgres://motlan@db.internal/motlan',
    AUDIT_SIGNING_KEY: signingKey,
    AUDIT_HMAC_KEY: hex(1),
    AUDIT_WITNESS_FILE: path.join(dir, 'witness-volume', 'audit-witness.jsonl'),
    SUBGRAPH_SIGNING_KEY_POPULATION: hex(2),
    SUBGRAPH_SIGNING_KEY_ENTERPRISE: hex(3),
    SUBGRAPH_SIGNING_KEY_INSURANCE: hex(4),
    SUBGRAPH_SIGNING_KEY_LAND: hex(5),
    SUBGRAPH_SIGNING_KEY_CIVIL: hex(10),
    REGISTRY_API_KEY: hex(6),
    METRICS_TOKEN: hex(7),
  };
}

async function doctor(env: NodeJS.ProcessEnv): Promise<{ code: number; out: string }> {
  let out = '';
  const io: CliIo = { out: (t) => (out += `${t}\n`), err: (t) => (out += `${t}\n`), env, cwd: dir };
  const code = await main(['doctor'], io);
  return { code, out };
}

describe('motlan doctor', () => {
  it('passes a complete production environment, one ✔ line per item', async () => {
    const { code, out } = await doctor(productionEnv());
    expect(out, out).not.toContain('✖');
    expect(code, out).toBe(0);
    for (const item of ['NODE_ENV=production', 'audit signing key', 'audit HMAC key', 'subgraph signing key (land)', 'keys distinct', 'clients file', 'telemetry off', 'audit witness', 'trusted documents', 'METRICS_TOKEN']) {
      expect(out).toContain(`✔ ${item}:`);
    }
    // Keys are compared, never printed.
    expect(out).not.toContain(hex(1));
  });

  const broken: Array<[string, (env: NodeJS.ProcessEnv) => void, string, RegExp]> = [
    ['development mode', (e) => delete e.NODE_ENV, 'NODE_ENV=production', /set NODE_ENV=production/],
    ['no audit signing key', (e) => delete e.AUDIT_SIGNING_KEY, 'audit signing key', /motlan audit keygen/],
    ['an unreadable audit signing key', (e) => (e.AUDIT_SIGNING_KEY = path.join(dir, 'trusted-documents.json')), 'audit signing key', /cannot be read as a private key/],
    ['no HMAC key', (e) => delete e.AUDIT_HMAC_KEY, 'audit HMAC key', /openssl rand -hex 32/],
    ['a short HMAC key', (e) => (e.AUDIT_HMAC_KEY = 'short'), 'audit HMAC key', /shorter than 32/],
    ['no subgraph signing key', (e) => delete e.SUBGRAPH_SIGNING_KEY_INSURANCE, 'subgraph signing key (insurance)', /GATEWAY_SIGNING_KEY/],
    ['a development subgraph key', (e) => (e.SUBGRAPH_SIGNING_KEY_LAND = `dev-${hex(9)}`), 'subgraph signing key (land)', /development key/],
    ['two subgraphs sharing a key', (e) => (e.SUBGRAPH_SIGNING_KEY_LAND = e.SUBGRAPH_SIGNING_KEY_POPULATION), 'keys distinct', /SUBGRAPH_SIGNING_KEY_POPULATION = SUBGRAPH_SIGNING_KEY_LAND/],
    ['the HMAC key reused as a subgraph key', (e) => (e.SUBGRAPH_SIGNING_KEY_ENTERPRISE = e.AUDIT_HMAC_KEY), 'keys distinct', /AUDIT_HMAC_KEY = SUBGRAPH_SIGNING_KEY_ENTERPRISE/],
    ['the demo clients', (e) => (e.CLIENTS_FILE = path.join(REPO_ROOT, 'mocks/clients.demo.json')), 'clients file', /Demo client .* is refused/],
    ['a missing clients file', (e) => (e.CLIENTS_FILE = path.join(dir, 'nope.json')), 'clients file', /npm run client:add/],
    ['the demo registry key', (e) => (e.REGISTRY_API_KEY = DEMO_REGISTRY_KEY), 'demo registry key refused', /service key your registries issued/],
    ['Apollo reporting variables', (e) => (e.APOLLO_KEY = 'service:x'), 'telemetry off', /APOLLO_KEY set/],
    ['audit off', (e) => (e.AUDIT = 'off'), 'audit on', /unset it/],
    ['no witness', (e) => delete e.AUDIT_WITNESS_FILE, 'audit witness', /another volume/],
    ['the witness in DATA_DIR', (e) => (e.AUDIT_WITNESS_FILE = path.join(String(e.DATA_DIR), 'w.jsonl')), 'audit witness', /inside DATA_DIR/],
    ['the witness beside a SQLite store', (e) => (delete e.AUDIT_DATABASE_URL, (e.AUDIT_SQLITE_FILE = path.join(dir, 'store', 'audit.db')), (e.AUDIT_WITNESS_FILE = path.join(dir, 'store', 'w.jsonl'))), 'audit witness', /store's folder/],
    ['a procedure client without trusted documents', (e) => (e.CLIENTS_FILE = writeClients([{ id: 'free', roles: ['client'] }])), 'trusted documents', /free may send any query/],
    ['no METRICS_TOKEN', (e) => delete e.METRICS_TOKEN, 'METRICS_TOKEN', /readable by anyone/],
  ];
  it.each(broken)('fails with what to do: %s', async (_label, breakIt, item, advice) => {
    const env = productionEnv();
    breakIt(env);
    const { code, out } = await doctor(env);
    expect(code, out).toBe(1);
    const line = out.split('\n').find((l) => l.startsWith(`✖ ${item}:`));
    expect(line, out).toBeDefined();
    expect(line).toMatch(advice);
    expect(out.split('\n').filter((l) => l.startsWith('✖')), out).toHaveLength(1);
  });

  it('runs as `motlan doctor` from bin/motlan.mjs and exits non-zero on a development environment', async () => {
    const env = { PATH: process.env.PATH, HOME: process.env.HOME, DATA_DIR: path.join(dir, 'dev-data') };
    const result = await run(process.execPath, [path.join(REPO_ROOT, 'bin/motlan.mjs'), 'doctor'], { env, cwd: dir }).then(
      () => ({ code: 0, out: '' }),
      (err: { code: number; stdout: string }) => ({ code: err.code, out: err.stdout }),
    );
    expect(result.code).toBe(1);
    expect(result.out).toMatch(/✖ NODE_ENV=production: NODE_ENV is unset: set NODE_ENV=production/);
  }, 60_000);
});

let clientsFiles = 0;
function writeClients(clients: Array<{ id: string; roles: string[] }>): string {
  const file = path.join(dir, `clients-${++clientsFiles}.json`);
  const full = clients.map((c) => ({
    ...c,
    agency: 'UBND',
    name: c.id,
    procedures: ['lodging-notification'],
    keys: [{ id: `${c.id}-1`, sha256: hashApiKey(`key-of-${c.id}-0123456789abcdef-${clientsFiles}`), createdAt: '2026-01-01T00:00:00Z' }],
  }));
  writeFileSync(file, JSON.stringify({ clients: full }));
  return file;
}

describe('npm run client:add -- --help', () => {
  it('prints the usage and exits 0; an unknown option points to --help', async () => {
    const { stdout } = await run(process.execPath, [TSX_CLI, path.join(REPO_ROOT, 'scripts/add-client.ts'), '--help'], { cwd: REPO_ROOT });
    expect(stdout).toMatch(/^npm run client:add -- \[options\]/);
    for (const option of ['--id', '--agency', '--name', '--procedures', '--tier ministry|province', '--province CODE', '--rotate', '--expires', '--file']) expect(stdout).toContain(option);
    const bad = await run(process.execPath, [TSX_CLI, path.join(REPO_ROOT, 'scripts/add-client.ts'), '--bogus'], { cwd: REPO_ROOT }).catch((e: { code: number; stderr: string }) => e);
    expect((bad as { code: number }).code).toBe(1);
    expect((bad as { stderr: string }).stderr).toMatch(/Unknown option '--bogus'.*npm run client:add -- --help/);
    // A province that is not one of the 34 units: exit 1, the valid codes listed, nothing written.
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'motlan-addclient-')), 'clients.json');
    const province = await run(
      process.execPath,
      [TSX_CLI, path.join(REPO_ROOT, 'scripts/add-client.ts'), '--file', file, '--id', 'x', '--agency', 'A', '--name', 'N', '--procedures', 'lodging-notification', '--tier', 'province', '--province', '99'],
      { cwd: REPO_ROOT },
    ).catch((e: { code: number; stderr: string }) => e);
    expect((province as { code: number }).code).toBe(1);
    expect((province as { stderr: string }).stderr).toMatch(/^client:add: --province 99 is not one of the 34 current provincial units.*79 Thành phố Hồ Chí Minh/);
    expect(existsSync(file)).toBe(false);
  }, 60_000);
});
