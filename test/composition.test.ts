/**
 * The composition (gateway/app.ts, gateway/core/): what a newcomer relies on when adding a
 * concern or running several gateways in one process.
 *
 * - Two or more gateways built and closed in one process, in any order, keep serving:
 *   procedures (prefill), purpose policy, audit and metrics all belong to ONE gateway.
 * - Every concern's options take effect whatever the order of the concern list
 *   (GatewayOptions.metrics used to be ignored when audit came first).
 * - A needed service without provider, a service provided twice, or a bad environment value
 *   stop the start with a message naming the concern, the service or the variable; an unknown
 *   variable with a known prefix is a warning.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildGateway, checkDeclarations, creationOrder, defineConcern, type AnyConcern, type GatewayOptions, type RunningGateway } from '../gateway/app.js';
import { auditConcern } from '../gateway/audit/index.js';
import { cacheConcern } from '../gateway/cache/concern.js';
import { consoleConcern } from '../gateway/console/index.js';
import { disclosureCheck } from '../gateway/disclosure/concern.js';
import { documentLimits } from '../gateway/limits/concern.js';
import { metricsConcern } from '../gateway/metrics/index.js';
import { purposePolicy } from '../gateway/policy/concern.js';
import { procedures } from '../gateway/procedures/concern.js';
import { rateLimits } from '../gateway/ratelimit/concern.js';
import { sandbox } from '../gateway/sandbox/concern.js';
import { statsConcern } from '../gateway/stats/index.js';
import { PREFILL_QUERY } from './support/prefill-support.js';
import { startStack, type Stack } from './support/stack.js';

const tmpDirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(path.join(tmpdir(), 'motlan-composition-'));
  tmpDirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of tmpDirs) rmSync(d, { recursive: true, force: true });
});

describe('several gateways in one process', () => {
  let stack: Stack;
  let personalId: string;
  /** A TTHC system bound by purpose (no sandbox `explore`, no subject token). */
  let clientKey: string;

  beforeAll(async () => {
    stack = await startStack({ citizens: 200 });
    personalId = stack.world.citizens.find((c) => !c.deceased)!.personalId;
    const clients = stack.gateway.clients;
    clientKey = clients.demoCredentials().find((c) => {
      const identity = clients.clients.find((x) => x.id === c.clientId);
      return c.roles.includes('client') && identity && !identity.requireSubjectToken && !identity.permissions.includes('explore');
    })!.key;
  });
  afterAll(async () => {
    await stack?.close();
  });

  /** Everything ONE gateway owns still works on it: catalog + inner execution, policy, audit, metrics. */
  async function servesCorrectly(gw: RunningGateway, label: string): Promise<void> {
    const dossierId = `H01-COMPOSE-${label}`;
    const post = (body: object, headers: Record<string, string> = {}) =>
      fetch(gw.graphqlUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${clientKey}`, ...headers },
        body: JSON.stringify(body),
      });
    const prefill = await post({ query: PREFILL_QUERY, variables: { procedureId: 'judicial-record-certificate', subject: { personalId }, dossierId } });
    const prefillBody = (await prefill.json()) as { data?: { prefill: { fields: unknown[] } }; errors?: unknown };
    expect(prefill.status, `${label}: ${JSON.stringify(prefillBody).slice(0, 300)}`).toBe(200);
    expect(prefillBody.errors, label).toBeUndefined();
    expect(prefillBody.data?.prefill.fields.length, label).toBeGreaterThan(0);

    // Policy: under this purpose, a field outside its path tree is refused (the catalog is this gateway's).
    const refused = await post({ query: `{ citizen(personalId: "${personalId}") { landParcels { parcelId } } }` }, { 'x-purpose': 'judicial-record-certificate', 'x-dossier-id': dossierId });
    const refusal = (await refused.json()) as { errors?: Array<{ extensions?: { code?: string } }> };
    expect(refused.status, `${label}: ${JSON.stringify(refusal)}`).toBe(403);
    expect(refusal.errors?.[0]?.extensions?.code, label).toBe('FORBIDDEN');

    // Audit: this gateway's own store holds both, with their outcomes.
    // The audit record's id is the X-Request-Id the gateway answered with.
    const prefillId = prefill.headers.get('x-request-id')!;
    const refusedId = refused.headers.get('x-request-id')!;
    const store = gw.services.need('audit').store;
    expect((await store.byRequestId(prefillId))?.outcome, label).toBe('OK');
    expect((await store.byRequestId(refusedId))?.outcome, label).toBe('DENIED');

    // Metrics: this gateway's registry counted it.
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    expect(metrics, label).toMatch(/motlan_requests_total\{[^}]*procedure="judicial-record-certificate"[^}]*\} [1-9]/);
  }

  it('closing the second keeps the first serving; closing the first of two keeps the second serving', async () => {
    const b = await stack.startGateway();
    await servesCorrectly(stack.gateway, 'A1');
    await servesCorrectly(b, 'B1');
    expect(b.services.need('procedures')).not.toBe(stack.gateway.services.need('procedures'));
    expect(b.services.need('metrics')).not.toBe(stack.gateway.services.need('metrics'));
    await b.close();
    await servesCorrectly(stack.gateway, 'A2');

    const c = await stack.startGateway();
    const d = await stack.startGateway();
    await c.close();
    await servesCorrectly(d, 'D1');
    await servesCorrectly(stack.gateway, 'A3');
    await d.close();
    await servesCorrectly(stack.gateway, 'A4');
  });
});

/** The built-in concerns after request-context and auth (which `coreOnly` keeps first). */
const REST: AnyConcern[] = [rateLimits, documentLimits, purposePolicy, cacheConcern, disclosureCheck, auditConcern, metricsConcern, procedures, sandbox, statsConcern, consoleConcern];

describe('options take effect whatever the list order', () => {
  const options = (): GatewayOptions => ({
    logLevel: 'silent',
    watchSupergraph: false,
    // Development subgraph keys go to this directory, not the repository's data/.
    env: { DATA_DIR: tmp() },
    audit: { dataDir: tmp() },
    cache: false,
    metrics: { processMetrics: false },
    limits: { maxDepth: 3 },
    console: { path: '/staff-console/' },
    stats: { prefix: '/figures/v9' },
    sandbox: false,
  });

  for (const [name, list] of [
    ['built-in order', REST],
    ['reversed', [...REST].reverse()],
    ['audit before metrics, metrics last', [...REST.filter((c) => c !== metricsConcern), metricsConcern]],
  ] as const) {
    it(name, async () => {
      const gw = await buildGateway({ ...options(), coreOnly: true, concerns: [...list] });
      try {
        // metrics.processMetrics: false is honoured (no process_* families), and the audit trail records into the same registry.
        const metrics = await gw.app.inject({ method: 'GET', url: '/metrics' });
        expect(metrics.statusCode).toBe(200);
        expect(metrics.body).not.toMatch(/^process_cpu/m);
        expect(metrics.body).toMatch(/^# TYPE motlan_audit_queue_depth gauge/m);
        expect(gw.services.need('metrics')).toBeDefined();
        // limits.maxDepth: 3 is honoured.
        const key = gw.clients.demoCredentials().find((c) => c.roles.includes('client'))!.key;
        const deep = await gw.app.inject({
          method: 'POST',
          url: '/graphql',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          payload: { query: '{ citizen(personalId: "001090000001") { father { father { father { fullName } } } } }' },
        });
        expect(deep.statusCode).toBe(400);
        expect(deep.json().errors[0].extensions).toMatchObject({ code: 'LIMIT_EXCEEDED', limit: { name: 'maxDepth', max: 3 } });
        // console.path and stats.prefix are honoured (the routes exist: 401 without a key, not 404).
        expect((await gw.app.inject({ method: 'GET', url: '/staff-console/api/session' })).statusCode).toBe(401);
        expect((await gw.app.inject({ method: 'GET', url: '/console/api/session' })).statusCode).toBe(404);
        const stats = await gw.app.inject({ method: 'GET', url: '/figures/v9/summary' });
        expect(stats.statusCode).toBe(401);
        // One body shape for refusals outside /graphql: statistics, auditor API, unknown routes.
        expect(stats.json()).toMatchObject({ error: 'UNAUTHENTICATED', message: expect.any(String) });
        const audit = await gw.app.inject({ method: 'GET', url: '/audit/v1/records' });
        expect([audit.statusCode, Object.keys(audit.json()).sort()]).toEqual([401, ['error', 'message']]);
        const unknown = await gw.app.inject({ method: 'GET', url: '/no-such-route' });
        expect([unknown.statusCode, unknown.json()]).toEqual([404, { error: 'NOT_FOUND', message: expect.stringMatching(/No route GET \/no-such-route/) }]);
      } finally {
        await gw.close();
      }
    });
  }
});

describe('start-time checks', () => {
  const base = (): GatewayOptions => ({ logLevel: 'silent', watchSupergraph: false, env: { DATA_DIR: tmp() }, coreOnly: true });
  const env = (vars: NodeJS.ProcessEnv): NodeJS.ProcessEnv => ({ DATA_DIR: tmp(), ...vars });

  it('a needed service without provider names the concern and the service', async () => {
    const needy = defineConcern({ name: 'needy', needs: ['auditStore'], create: () => ({}) });
    await expect(buildGateway({ ...base(), concerns: [needy] })).rejects.toThrow(/Concern "needy" needs the "auditStore" service, which no concern of this gateway provides/);
  });

  it('a service provided twice names both providers', () => {
    const one = defineConcern({ name: 'one', provides: ['metrics'], create: () => ({}) });
    const two = defineConcern({ name: 'two', provides: ['metrics'], create: () => ({}) });
    expect(() => checkDeclarations([one, two])).toThrow(/"metrics" is provided twice, by concern "one" and by concern "two"/);
  });

  it('providers are created before their users, whatever the list order', () => {
    const user = defineConcern({ name: 'user', needs: ['metrics'], create: () => ({}) });
    const provider = defineConcern({ name: 'provider', provides: ['metrics'], create: () => ({}) });
    const other = defineConcern({ name: 'other', create: () => ({}) });
    expect(creationOrder([user, other, provider]).map((c) => c.name)).toEqual(['provider', 'user', 'other']);
    expect(creationOrder([provider, user, other]).map((c) => c.name)).toEqual(['provider', 'user', 'other']);
  });

  it('reading an undeclared service is refused', async () => {
    const sneaky = defineConcern({ name: 'sneaky', create: ({ services }) => ({ services: (services as unknown as { need(n: string): unknown }).need('clients') as never }) });
    await expect(buildGateway({ ...base(), concerns: [sneaky] })).rejects.toThrow(/Concern "sneaky" reads the "clients" service without declaring it/);
  });

  it('two subgraph-fetch interceptors form a chain, in list order', async () => {
    const { chainInterceptors } = await import('../gateway/core/datasource.js');
    const seen: string[] = [];
    const chain = chainInterceptors([
      async (f) => (seen.push('first'), f.upstream(f.request)),
      async (f) => (seen.push('second'), f.upstream(f.request)),
    ])!;
    const answer = await chain({ subgraph: 's', request: {} as never, context: null, upstream: async () => (seen.push('subgraph'), { data: { ok: true } }) });
    expect(seen).toEqual(['first', 'second', 'subgraph']);
    expect(answer).toEqual({ data: { ok: true } });
  });

  it('a bad environment value stops the start naming the variable; an unknown one with a known prefix is a warning', async () => {
    await expect(buildGateway({ ...base(), coreOnly: false, env: env({ LIMIT_MAX_DEPTH: 'twelve' }), audit: false, cache: false, sandbox: false })).rejects.toThrow(
      /LIMIT_MAX_DEPTH="twelve" is not an integer/,
    );
    await expect(buildGateway({ ...base(), env: env({ PORT: '-1' }) })).rejects.toThrow(/PORT="-1"/);
    const gw = await buildGateway({ ...base(), env: env({ LIMIT_MAX_DEPHT: '8', RATE_LIMIT_BRUST: '5', CACHE: 'off' }), concerns: [documentLimits, rateLimits] });
    try {
      expect(gw.warnings).toEqual([
        'LIMIT_MAX_DEPHT is set but nothing in the gateway reads it: did you mean LIMIT_MAX_DEPTH?',
        'RATE_LIMIT_BRUST is set but nothing in the gateway reads it: did you mean RATE_LIMIT_BURST?',
      ]);
    } finally {
      await gw.close();
    }
  });

  it('a CLIENTS_FILE that does not exist stops the start (no fallback to the demo clients); unknown CLIENTS_, REGISTRY_, EID_, MOCK_ variables are warnings', async () => {
    await expect(buildGateway({ ...base(), env: env({ CLIENTS_FILE: '/nonexistent/motlan-clients.json' }) })).rejects.toThrow(
      /No clients file at \/nonexistent\/motlan-clients\.json \(CLIENTS_FILE=\/nonexistent\/motlan-clients\.json\)/,
    );
    const known = { REGISTRY_API_KEY: 'k', REGISTRY_TIMEOUT_MS: '2000', EID_PORT: '4105', MOCK_SEED: '1', MOCK_CITIZENS: '10' };
    const gw = await buildGateway({ ...base(), env: env({ ...known, CLIENTS_FIEL: 'x.json', REGISTRY_TIMOUT_MS: '5', EID_PROT: '1', MOCK_SEDD: '2' }) });
    try {
      expect(gw.warnings).toEqual([
        'CLIENTS_FIEL is set but nothing in the gateway reads it: did you mean CLIENTS_FILE?',
        'EID_PROT is set but nothing in the gateway reads it: did you mean EID_PORT?',
        'MOCK_SEDD is set but nothing in the gateway reads it: did you mean MOCK_SEED?',
        'REGISTRY_TIMOUT_MS is set but nothing in the gateway reads it: did you mean REGISTRY_TIMEOUT_MS?',
      ]);
    } finally {
      await gw.close();
    }
  });
});
