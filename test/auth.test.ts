/**
 * Client authentication on the running stack: `Authorization: Bearer <key>` is
 * required for /graphql; refusals are 401 JSON GraphQL errors that say what to
 * do; staff keys cannot read data; production mode masks internals, refuses
 * demo clients and introspection.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildGateway } from '../gateway/app.js';
import { REPO_ROOT } from '../lib/repo-root.js';
import { findFullProfileCitizen } from '../mocks/world/generate.js';
import { addClient } from '../scripts/add-client.js';
import { startStack, type Stack } from './support/stack.js';

let stack: Stack;
let personalId: string;
const dir = mkdtempSync(path.join(tmpdir(), 'motlan-auth-'));

beforeAll(async () => {
  stack = await startStack({ citizens: 200 });
  personalId = findFullProfileCitizen(stack.world).personalId;
});
afterAll(async () => {
  await stack?.close();
  rmSync(dir, { recursive: true, force: true });
});

const nameQuery = () => ({ query: `{ citizen(personalId: "${personalId}") { fullName } }` });

describe('/graphql authentication', () => {
  it('answers a client with a valid key', async () => {
    const { status, body } = await stack.query(nameQuery());
    expect(status).toBe(200);
    expect(body.data).toEqual({ citizen: { fullName: expect.any(String) } });
  });

  it('refuses a request without Authorization with 401 and how to fix it', async () => {
    const { status, headers, body } = await stack.query(nameQuery(), { key: null });
    expect(status).toBe(401);
    expect(headers.get('content-type')).toMatch(/application\/json/);
    expect(headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(body.data).toBeUndefined();
    expect(body.errors).toEqual([
      { message: 'Missing Authorization header: send Authorization: Bearer <api key>.', extensions: { code: 'UNAUTHENTICATED', reason: 'API_KEY_INVALID' } },
    ]);
  });

  it('refuses an unknown key and a malformed header with 401', async () => {
    const wrong = await stack.query(nameQuery(), { key: `${stack.demoKey}x` });
    expect(wrong.status).toBe(401);
    expect(wrong.body.errors?.[0]).toMatchObject({ message: 'Unknown or revoked API key.', extensions: { code: 'UNAUTHENTICATED' } });

    const basic = await stack.query(nameQuery(), { key: null, headers: { authorization: `Basic ${stack.demoKey}` } });
    expect(basic.status).toBe(401);
    expect(basic.body.errors?.[0]?.message).toMatch(/Bearer <api key>/);
  });

  it('refuses GET /graphql without a key too', async () => {
    const res = await fetch(`${stack.graphqlUrl}?query=${encodeURIComponent('{ __typename }')}`);
    expect(res.status).toBe(401);
  });

  it('refuses a staff key (auditor) on client data with 403', async () => {
    const auditor = stack.gateway.clients.demoCredentials().find((c) => c.roles.includes('auditor'))!;
    const { status, body } = await stack.query(nameQuery(), { key: auditor.key });
    expect(status).toBe(403);
    expect(body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it("generates the X-Request-Id itself (a caller's value never becomes it) and sets security headers", async () => {
    const { headers } = await stack.query(nameQuery(), { headers: { 'x-request-id': 'tthc-hn-42' } });
    expect(headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(headers.get('x-content-type-options')).toBe('nosniff');
    const { headers: h2 } = await stack.query(nameQuery(), { headers: { 'x-request-id': 'bad id with spaces' } });
    expect(h2.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('production mode', () => {
  it('refuses to start with demo clients', async () => {
    await expect(
      buildGateway({ production: true, clientsFile: path.join(REPO_ROOT, 'mocks/clients.demo.json'), logLevel: 'silent' }),
    ).rejects.toThrow(/Demo client ".*" is refused because NODE_ENV=production/);
  });

  it('masks internal addresses, refuses introspection, and still names the unavailable registry', async () => {
    const clientsFile = path.join(dir, 'clients.json');
    const { key } = addClient(clientsFile, { id: 'prod-test', agency: 'UBND tỉnh Thử nghiệm', name: 'TTHC thử nghiệm', procedures: ['*'] });
    const gw = await stack.startGateway({
      production: true,
      // The core's masking is under test; purpose policy (which would ask for X-Purpose) is tested in gateway/policy.
      coreOnly: true,
      clientsFile,
      subgraphTimeoutMs: 500,
      subgraphUrls: { land: 'http://127.0.0.1:1/graphql' },
    });
    try {
      const post = (query: string) =>
        fetch(gw.graphqlUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
          body: JSON.stringify({ query }),
        }).then(async (r) => ({ status: r.status, text: await r.text() }));

      const introspection = await post('{ __schema { types { name } } }');
      expect(introspection.text).toMatch(/introspection/i);
      expect(introspection.text).not.toContain('"types"');

      const partial = await post(`{ citizen(personalId: "${personalId}") { fullName landParcels { parcelId } } }`);
      expect(partial.text).toMatch(/REGISTRY_UNAVAILABLE/);
      expect(partial.text).toMatch(/land registry/);
      expect(partial.text).not.toMatch(/127\.0\.0\.1|localhost|http:\/\/|stacktrace|\.ts:\d/);
    } finally {
      await gw.close();
    }
  });
});
