/**
 * The whole stack in-process on free ports, for whole-stack tests: the four mock
 * registries (over a generated world), the four subgraphs and the gateway with
 * every concern of gateway/app.ts.
 *
 *   const stack = await startStack({ citizens: 300 });
 *   const { status, body } = await stack.query({ query: '{ citizen(personalId: "…") { fullName } }' });
 *   await stack.close();
 *
 * `query` sends the first demo client's key unless told otherwise (`key: null`
 * sends no Authorization header at all).
 */
import { perRegistry } from '../../lib/registries.js';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startRegistries } from '../../mocks/registry/server.js';
import type { RegistryName, World } from '../../mocks/world/types.js';
import { REGISTRIES } from '../../mocks/world/types.js';
import { pickExampleSubjects } from '../../mocks/world/examples.js';
import { startSubgraph } from '../../subgraphs/index.js';
import { startGateway, type GatewayOptions, type RunningGateway } from '../../gateway/app.js';
import { startTracing, type Tracing, type TracingSettings } from '../../lib/tracing.js';

type Registries = Awaited<ReturnType<typeof startRegistries>>;
/** Fault settings of one mock registry (latency, error rate, outage…), as `setFaults` takes them. */
export type RegistryFaults = Parameters<Registries['setFaults']>[1];

export interface StackOptions {
  /** Citizens in the generated world. Default: 300 (fast; enough for every kind of record). */
  citizens?: number;
  /** Generator seed. Default: 20250701 (the mock registries' default). */
  seed?: number;
  /** Faults to set on registries right after start, e.g. `{ insurance: { outage: true } }`. Default: none. */
  faults?: Partial<Record<RegistryName, RegistryFaults>>;
  /** Registry timeout of the subgraphs. Default: 2000 ms (as in production). */
  registryTimeoutMs?: number;
  /** The subgraphs' "today" for date-dependent fields (expired cards, result statuses); `'asOf'` uses the world's asOf. Default: the real date in Vietnam. */
  today?: 'asOf';
  /**
   * Gateway options on top of the stack's: free port, 127.0.0.1, the stack's subgraph URLs,
   * silent logs, sandbox examples from the stack's world, and the audit trail in a
   * temporary directory removed by `close()`.
   */
  gateway?: Partial<GatewayOptions>;
  /**
   * Capture what the stack's gateways write to their log, at `info` (or the given level), in
   * `Stack.logLines` (tests scan it for personal data). Default: off (silent logs).
   */
  captureLog?: boolean | 'debug' | 'info' | 'warn';
  /**
   * OpenTelemetry tracing of all three tiers (lib/tracing.ts) with these settings, each tier
   * under its own service name (`motlan-registry`, `motlan-subgraph-<name>`, `motlan-gateway`);
   * every tier flushes its spans when the stack closes. Default: off.
   */
  tracing?: Omit<TracingSettings, 'serviceName'>;
}

export interface QueryOptions {
  /** API key; default the demo key; `null` sends no Authorization header. */
  key?: string | null;
  headers?: Record<string, string>;
}

export interface GraphQLResult<TData = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: {
    data?: TData | null;
    errors?: Array<{ message: string; path?: Array<string | number>; extensions?: Record<string, unknown> & { code?: string } }>;
    [k: string]: unknown;
  };
}

export interface Stack {
  /** Gateway origin, e.g. http://127.0.0.1:40123 */
  gatewayUrl: string;
  /** `${gatewayUrl}/graphql` */
  graphqlUrl: string;
  world: World;
  registries: Registries;
  subgraphs: Record<RegistryName, { url: string; close(): Promise<void> }>;
  /** The key each subgraph accepts the gateway's signatures with (the gateways of this stack sign with them). */
  subgraphKeys: Record<RegistryName, Buffer>;
  /**
   * The same keys as `GatewayOptions.subgraphSigningKeys` (plus `procedures`): give them to any other
   * gateway you start over this stack's subgraphs, which refuse what is not signed with them.
   */
  subgraphSigningKeys: Record<string, string>;
  gateway: RunningGateway;
  /** A demo key with the `client` role (the one the sandbox prefills). */
  demoKey: string;
  query<TData = Record<string, unknown>>(
    body: string | { query: string; variables?: Record<string, unknown>; operationName?: string },
    opts?: QueryOptions,
  ): Promise<GraphQLResult<TData>>;
  setFaults(registry: RegistryName, faults: RegistryFaults): void;
  /** Every line the stack's gateways logged, when started with `captureLog` (else empty). */
  logLines: string[];
  /**
   * Another gateway over the same subgraphs (own port, own temporary audit directory),
   * e.g. with one subgraph URL pointing nowhere. Closed by `close()` if not before.
   */
  startGateway(overrides?: Partial<GatewayOptions>): Promise<RunningGateway>;
  close(): Promise<void>;
}

/**
 * Gateway options for a test whose own traffic is not what it tests: the rate limits off, so
 * its bursts (hundreds of requests from one client, failed lookups sent on purpose) are
 * answered, never throttled. Spread it into a stack's or a gateway's options:
 * `startStack({ gateway: QUIET_GATEWAY })`, `stack.startGateway({ audit, ...QUIET_GATEWAY })`.
 * Tests of the limits set their own (test/security.ratelimit.test.ts, GENEROUS_RATE_LIMIT).
 */
export const QUIET_GATEWAY = { rateLimit: false } as const satisfies Partial<GatewayOptions>;

const REGISTRY_KEY = 'stack-registry-key';
const HOST = '127.0.0.1';

export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  const closers: Array<() => Promise<void>> = [];
  const closeAll = async () => {
    // Reverse start order: gateway, then subgraphs, then registries.
    for (const close of closers.reverse()) await close().catch(() => undefined);
  };
  // Tier tracings are shut down (flushed) after every server closed: closers run in reverse order.
  const tierTracing = async (serviceName: string): Promise<Tracing | null> => {
    if (!opts.tracing) return null;
    const t = await startTracing({ ...opts.tracing, serviceName });
    closers.push(async () => t?.shutdown());
    return t;
  };
  try {
    const registries = await startRegistries({
      tracing: await tierTracing('motlan-registry'),
      seed: opts.seed ?? 20250701,
      citizens: opts.citizens ?? 300,
      host: HOST,
      apiKey: REGISTRY_KEY,
      ports: perRegistry(() => 0),
      // Not the developer's MOCK_* variables: tests set faults explicitly.
      env: {},
    });
    closers.push(() => registries.close());
    for (const [name, f] of Object.entries(opts.faults ?? {})) if (f) registries.setFaults(name as RegistryName, f);

    // A fresh key per subgraph per stack: the subgraphs refuse what the stack's gateways did not sign.
    const subgraphKeys = Object.fromEntries(REGISTRIES.map((r) => [r, Buffer.from(randomBytes(32).toString('hex'), 'utf8')])) as Record<RegistryName, Buffer>;
    const started = await Promise.all(
      REGISTRIES.map(async (name) => {
        const s = await startSubgraph(name, {
          port: 0,
          host: HOST,
          registryUrl: registries.urls[name],
          apiKey: REGISTRY_KEY,
          timeoutMs: opts.registryTimeoutMs ?? 2000,
          logLevel: 'silent',
          gatewayKey: subgraphKeys[name],
          tracing: await tierTracing(`motlan-subgraph-${name}`),
          ...(opts.today === 'asOf' ? { today: () => registries.world.asOf } : {}),
        });
        closers.push(() => s.close());
        return [name, s] as const;
      }),
    );
    const subgraphs = Object.fromEntries(started) as unknown as Stack['subgraphs'];

    const subgraphUrls = Object.fromEntries(started.map(([n, s]) => [n, s.url]));
    const subgraphSigningKeys: Record<string, string> = {
      ...Object.fromEntries(REGISTRIES.map((r) => [r, subgraphKeys[r].toString('utf8')])),
      // `procedures` runs in the gateway, unless a test turns its concern off (coreOnly): then it is
      // a remote subgraph like the others and needs a key (production refuses to start without).
      procedures: randomBytes(32).toString('hex'),
    };
    const logLines: string[] = [];
    const capture = opts.captureLog
      ? { logLevel: opts.captureLog === true ? 'info' : opts.captureLog, logDestination: { write: (line: string) => logLines.push(line) } }
      : {};
    const launch = async (overrides: Partial<GatewayOptions> = {}): Promise<RunningGateway> => {
      // Each gateway gets its own audit directory: tests never write to the repository's data/.
      const dataDir = mkdtempSync(path.join(tmpdir(), 'motlan-stack-'));
      closers.push(async () => rmSync(dataDir, { recursive: true, force: true }));
      const gw = await startGateway({
        port: 0,
        host: HOST,
        logLevel: 'silent',
        audit: { dataDir },
        ...capture,
        ...(opts.tracing ? { tracing: { settings: { ...opts.tracing, serviceName: 'motlan-gateway' } } } : {}),
        ...overrides,
        // The sandbox's example tabs must name records of this stack's world.
        sandbox: overrides.sandbox === false ? false : { exampleSubjects: pickExampleSubjects(registries.world), ...overrides.sandbox },
        // Caching (gateway/cache) is OFF in stacks unless a test asks for it (`cache: {}` or settings): other
        // concerns' tests (outages, counts of upstream calls) must not be answered from an earlier test's
        // cache. When on, it evicts on this stack's registries' change feeds, and stores a response on its
        // first miss (the product stores it on the second: test/response-cache.test.ts tests that
        // admission; the other cache tests need a repeat to hit).
        cache: !overrides.cache ? false : { changeFeeds: registries.urls, changeFeedApiKey: REGISTRY_KEY, responseAdmission: 'first', ...overrides.cache },
        subgraphUrls: { ...subgraphUrls, ...overrides.subgraphUrls },
        subgraphSigningKeys: { ...subgraphSigningKeys, ...overrides.subgraphSigningKeys },
      });
      let closed = false;
      const close = gw.close;
      gw.close = async () => {
        if (closed) return;
        closed = true;
        await close();
      };
      closers.push(() => gw.close());
      return gw;
    };
    const gateway = await launch(opts.gateway);

    const demo = gateway.clients.demoCredentials().find((c) => c.roles.includes('client'));
    const demoKey = demo?.key ?? '';

    const query: Stack['query'] = async (body, qopts = {}) => {
      const key = qopts.key === undefined ? demoKey : qopts.key;
      const res = await fetch(gateway.graphqlUrl, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(key !== null ? { authorization: `Bearer ${key}` } : {}),
          ...qopts.headers,
        },
        body: JSON.stringify(typeof body === 'string' ? { query: body } : body),
      });
      const text = await res.text();
      let parsed: GraphQLResult['body'];
      try {
        parsed = JSON.parse(text) as GraphQLResult['body'];
      } catch {
        throw new Error(`The gateway answered HTTP ${res.status} with a non-JSON body: ${text.slice(0, 300)}`);
      }
      return { status: res.status, headers: res.headers, body: parsed as GraphQLResult<never>['body'] };
    };

    return {
      gatewayUrl: gateway.url,
      graphqlUrl: gateway.graphqlUrl,
      world: registries.world,
      registries,
      subgraphs,
      subgraphKeys,
      subgraphSigningKeys,
      gateway,
      demoKey,
      query,
      setFaults: (registry, f) => registries.setFaults(registry, f),
      logLines,
      startGateway: (overrides) => launch({ ...opts.gateway, ...overrides }),
      close: closeAll,
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}
