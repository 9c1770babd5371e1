import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { addClient, catalogProcedureIds } from '../../scripts/add-client.js';
import { REPO_ROOT } from '../../lib/repo-root.js';
import { ClientRegistry, type ClientEntry } from './clients.js';
import { generateApiKey, hashApiKey } from './keys.js';

const dir = mkdtempSync(path.join(tmpdir(), 'motlan-clients-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const DEMO_FILE = path.join(REPO_ROOT, 'mocks/clients.demo.json');

function entry(id: string, keys: Array<{ key: string; expiresAt?: string }>, extra: Partial<ClientEntry> = {}): ClientEntry {
  return {
    id,
    agency: 'UBND tỉnh Thử nghiệm',
    name: `Hệ thống ${id}`,
    demo: false,
    procedures: ['lodging-notification'],
    permissions: [],
    requireSubjectToken: false,
    roles: ['client'],
    keys: keys.map((k, i) => ({ id: `${id}-${i}`, sha256: hashApiKey(k.key), createdAt: '2025-07-01T00:00:00Z', ...(k.expiresAt ? { expiresAt: k.expiresAt } : {}) })),
    ...extra,
  };
}

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

describe('ClientRegistry.authenticate', () => {
  const oldKey = generateApiKey();
  const newKey = generateApiKey();
  const auditorKey = generateApiKey();
  const expiredKey = generateApiKey();
  const registry = new ClientRegistry(
    [
      entry('hcm', [{ key: oldKey }, { key: newKey }]),
      entry('dpo', [{ key: auditorKey }], { roles: ['auditor'] }),
      entry('old', [{ key: expiredKey, expiresAt: '2025-01-01T00:00:00Z' }]),
    ],
    { production: true },
  );

  it('resolves every key of a client to that client (rotation)', () => {
    for (const key of [oldKey, newKey]) {
      const r = registry.authenticate(bearer(key));
      expect(r.ok && r.client.id).toBe('hcm');
    }
    const r = registry.authenticate({ authorization: `bearer   ${newKey}` });
    expect(r.ok && r.keyId).toBe('hcm-1');
  });

  it('explains a missing, malformed or unknown key', () => {
    expect(registry.authenticate({})).toMatchObject({ ok: false, status: 401, code: 'UNAUTHENTICATED', message: expect.stringMatching(/Missing Authorization header.*Bearer <api key>/) });
    expect(registry.authenticate({ authorization: `Basic ${newKey}` })).toMatchObject({ status: 401, message: expect.stringMatching(/Bearer <api key>/) });
    expect(registry.authenticate(bearer(generateApiKey()))).toMatchObject({ status: 401, message: 'Unknown or revoked API key.' });
    expect(registry.authenticate(bearer(newKey.slice(0, -1)))).toMatchObject({ status: 401 });
  });

  it('refuses an expired key, saying so', () => {
    expect(registry.authenticate(bearer(expiredKey))).toMatchObject({ status: 401, message: expect.stringMatching(/expired on 2025-01-01/) });
    expect(registry.authenticate(bearer(expiredKey), { now: Date.parse('2024-12-31T00:00:00Z') }).ok).toBe(true);
  });

  it('checks the role an endpoint requires', () => {
    expect(registry.authenticate(bearer(auditorKey), { role: 'client' })).toMatchObject({ ok: false, status: 403, code: 'FORBIDDEN', message: expect.stringMatching(/lacks the role "client"/) });
    expect(registry.authenticate(bearer(auditorKey), { role: 'auditor' }).ok).toBe(true);
    expect(registry.authenticate(bearer(newKey), { role: 'auditor' })).toMatchObject({ status: 403 });
  });
});

describe('clients file', () => {
  it('loads the demo clients outside production and prints their keys', () => {
    const reg = ClientRegistry.load({ clientsFile: path.join(dir, 'absent.json'), demoClientsFile: DEMO_FILE, production: false });
    const creds = reg.demoCredentials();
    expect(creds.length).toBeGreaterThan(0);
    for (const c of creds) {
      const r = reg.authenticate(bearer(c.key));
      expect(r.ok && r.client.id).toBe(c.clientId);
      expect(r.ok && r.client.demo).toBe(true);
    }
  });

  it('refuses demo clients in production, with what to do', () => {
    expect(() => ClientRegistry.load({ clientsFile: DEMO_FILE, demoClientsFile: false, production: true })).toThrow(/Demo client ".*" is refused because NODE_ENV=production.*npm run client:add/);
  });

  it('requires a clients file in production', () => {
    expect(() => ClientRegistry.load({ clientsFile: path.join(dir, 'absent.json'), demoClientsFile: false, production: true })).toThrow(/No clients file at .*npm run client:add/);
    // Asked for by name (CLIENTS_FILE), a missing file stops the start in development too: no silent fallback to the demo clients.
    expect(() =>
      ClientRegistry.load({ clientsFile: path.join(dir, 'absent.json'), clientsFileGiven: 'CLIENTS_FILE=absent.json', demoClientsFile: DEMO_FILE, production: false }),
    ).toThrow(/No clients file at .*absent\.json \(CLIENTS_FILE=absent\.json\): fix the path, create the file with "npm run client:add -- --file/);
  });

  it('rejects clear keys on real clients, wrong hashes, duplicates and bad fields', () => {
    const key = generateApiKey();
    const base = entry('a', [{ key }]);
    expect(() => new ClientRegistry([{ ...base, keys: [{ ...base.keys[0]!, key }] }], { production: false })).toThrow(/stores a clear key/);
    expect(() => new ClientRegistry([{ ...base, demo: true, keys: [{ ...base.keys[0]!, key: `${key}x` }] }], { production: false })).toThrow(/sha256 is not the SHA-256/);
    expect(() => new ClientRegistry([base, { ...base }], { production: false })).toThrow(/defined twice/);
    expect(() => new ClientRegistry([base, { ...entry('b', [{ key }]) }], { production: false })).toThrow(/every key must be distinct/);
    expect(() => ClientRegistry.parse({ clients: [{ ...base, keys: [{ id: 'k', sha256: 'abc', createdAt: 'x' }] }] }, 'f.json')).toThrow(/Invalid clients file f.json[\s\S]*SHA-256[\s\S]*ISO date/);
    expect(() => ClientRegistry.parse({ clients: [{ ...base, extra: 1 }] }, 'f.json')).toThrow(/extra/);
  });

  it('the example file is a valid clients file', () => {
    const entries = ClientRegistry.readFile(path.join(REPO_ROOT, 'config/clients.example.json'));
    expect(entries.map((e) => e.id)).toContain('hcm-tthc');
  });
});

describe('npm run client:add', () => {
  it('creates a client whose printed key authenticates and whose file stores only the hash', () => {
    const file = path.join(dir, 'clients.json');
    const { key, created } = addClient(file, { id: 'hue-tthc', agency: 'UBND Thành phố Huế', name: 'Hệ thống TTHC Huế', procedures: ['lodging-notification'] });
    expect(created).toBe(true);
    expect(readFileSync(file, 'utf8')).not.toContain(key);
    expect(readFileSync(file, 'utf8')).toContain(hashApiKey(key));
    const reg = ClientRegistry.load({ clientsFile: file, demoClientsFile: false, production: true });
    const r = reg.authenticate(bearer(key));
    expect(r.ok && r.client).toMatchObject({ id: 'hue-tthc', agency: 'UBND Thành phố Huế', demo: false, procedures: ['lodging-notification'] });

    const rotated = addClient(file, { id: 'hue-tthc', rotate: true });
    const reg2 = ClientRegistry.load({ clientsFile: file, demoClientsFile: false, production: true });
    expect(reg2.authenticate(bearer(key)).ok).toBe(true);
    expect(reg2.authenticate(bearer(rotated.key)).ok).toBe(true);

    expect(() => addClient(file, { id: 'hue-tthc', agency: 'x', name: 'y', procedures: [] })).toThrow(/already exists.*--rotate/);
    expect(() => addClient(file, { id: 'nobody', rotate: true })).toThrow(/not in/);
    expect(() => addClient(file, { id: 'new-one' })).toThrow(/--agency, --name, --procedures/);
  });

  it('validates procedure ids against the catalog, naming the nearest id and the valid ones', () => {
    const file = path.join(dir, 'procs.json');
    const typo = () => addClient(file, { id: 'typo', agency: 'A', name: 'N', procedures: ['lodging-notification', 'pasport-issuance'] });
    expect(typo).toThrow(/Unknown procedure id\(s\) "pasport-issuance" \(did you mean passport-issuance\?\)/);
    expect(typo).toThrow(/Valid ids: .*judicial-record-certificate.*lodging-notification/);
    expect(() => addClient(file, { id: 'far', agency: 'A', name: 'N', procedures: ['xyz'] })).toThrow(/Unknown procedure id\(s\) "xyz": not in the catalog/);
    expect(existsSync(file)).toBe(false); // nothing written
    // The catalog's real ids (and the development wildcard) pass; an extra folder's ids count too.
    expect(catalogProcedureIds()).toContain('passport-issuance');
    expect(addClient(file, { id: 'ok', agency: 'A', name: 'N', procedures: ['passport-issuance', '*'] }).created).toBe(true);
    expect(addClient(file, { id: 'extra', agency: 'A', name: 'N', procedures: ['my-own'], knownProcedures: ['my-own'] }).created).toBe(true);
  });

  it('validates --tier and --province (one of the 34 current provincial units) and stores them', () => {
    const file = path.join(dir, 'tiers.json');
    const add = (id: string, tier?: string, provinceCode?: string) => addClient(file, { id, agency: 'A', name: 'N', procedures: ['lodging-notification'], tier, provinceCode });
    add('hcm', 'province', '79');
    add('implied', undefined, '01');
    add('bca', 'ministry');
    add('plain');
    const stored = ClientRegistry.readFile(file);
    expect(stored.map((c) => [c.id, c.tier, c.provinceCode])).toEqual([
      ['hcm', 'province', '79'],
      ['implied', 'province', '01'],
      ['bca', 'ministry', undefined],
      ['plain', undefined, undefined],
    ]);
    expect(() => add('x1', 'commune')).toThrow(/--tier commune is not a tier: use --tier ministry .* or --tier province/);
    expect(() => add('x2', 'province')).toThrow(/--tier province needs --province <code>.*79 Thành phố Hồ Chí Minh/);
    expect(() => add('x3', 'ministry', '79')).toThrow(/--province is for --tier province only/);
    // A pre-2025 province code (Bình Dương, merged into Hồ Chí Minh) and a name instead of a code.
    expect(() => add('x4', 'province', '74')).toThrow(/--province 74 is not one of the 34 current provincial units.*Valid codes: 01 Thành phố Hà Nội/);
    expect(() => add('x5', 'province', 'Huế')).toThrow(/"Huế" is Thành phố Huế: use --province 46/);
    expect(() => add('x6', 'province', 'ho chi minh')).toThrow(/use --province 79/);
    expect(() => addClient(file, { id: 'hcm', rotate: true, tier: 'ministry' })).toThrow(/--rotate only adds a key/);
    expect(ClientRegistry.readFile(file)).toHaveLength(4);
  });

  it('refuses to edit an invalid file', () => {
    const file = path.join(dir, 'broken.json');
    writeFileSync(file, JSON.stringify({ clients: [{ id: 'x' }] }));
    expect(() => addClient(file, { id: 'y', agency: 'a', name: 'b', procedures: [] })).toThrow(/Invalid clients file/);
  });
});

describe('clients file: tier and provinceCode (issue 16)', () => {
  const base = (extra: Record<string, unknown>) => ({
    clients: [{ id: 'x', agency: 'A', name: 'N', procedures: [], keys: [{ id: 'k', sha256: 'a'.repeat(64), createdAt: '2025-07-01T00:00:00Z' }], ...extra }],
  });
  it('accepts a ministry, a province with one of the 34 codes, and neither', () => {
    expect(ClientRegistry.parse(base({ tier: 'ministry' }), 'f')[0]).toMatchObject({ tier: 'ministry' });
    expect(ClientRegistry.parse(base({ tier: 'province', provinceCode: '79' }), 'f')[0]).toMatchObject({ tier: 'province', provinceCode: '79' });
    const none = ClientRegistry.parse(base({}), 'f')[0]!;
    expect(none.tier).toBeUndefined();
    const reg = new ClientRegistry([ClientRegistry.parse(base({ tier: 'province', provinceCode: '01' }), 'f')[0]!], { production: false });
    expect(reg.clients[0]).toMatchObject({ tier: 'province', provinceCode: '01' });
  });
  it('refuses an unknown tier, a province without a code, a code that is not a current unit, a code without tier province', () => {
    expect(() => ClientRegistry.parse(base({ tier: 'commune' }), 'f')).toThrow(/tier/);
    expect(() => ClientRegistry.parse(base({ tier: 'province' }), 'f')).toThrow(/needs provinceCode/);
    expect(() => ClientRegistry.parse(base({ tier: 'province', provinceCode: '02' }), 'f')).toThrow(/not one of the 34 provincial units/);
    expect(() => ClientRegistry.parse(base({ tier: 'ministry', provinceCode: '79' }), 'f')).toThrow(/only allowed with tier "province"/);
  });
});
