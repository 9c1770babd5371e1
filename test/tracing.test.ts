/**
 * OpenTelemetry tracing across the three tiers (issue 14): a local OTLP/HTTP receiver (a
 * plain node http server reading the JSON the SDK's exporter sends) collects the spans of
 * the whole stack started with tracing on; one client request with a `traceparent` must
 * be ONE connected trace gateway → subgraphs → registries, with that trace id, which the
 * audit record keeps too. No span attribute may hold a personal ID or a value of the subject.
 * With tracing off, nothing of the SDK is loaded.
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter, once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildGateway } from '../gateway/app.js';
import { EnvReader } from '../lib/env-options.js';
import { processTracing, tracingSdkLoaded, tracingSettings } from '../lib/tracing.js';
import type { CitizenRecord } from '../mocks/world/types.js';
import { QUIET_GATEWAY, startStack, type Stack } from './support/stack.js';

/** One span as the receiver got it (OTLP/JSON: ids in hex, attributes as key/value lists). */
interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  attributes: Record<string, unknown>;
  events: Array<{ name: string; attributes: Record<string, unknown> }>;
}

type OtlpValue = { stringValue?: string; intValue?: string | number; boolValue?: boolean; doubleValue?: number; arrayValue?: { values?: OtlpValue[] } };
type OtlpAttributes = Array<{ key: string; value: OtlpValue }> | undefined;

function valueOf(v: OtlpValue): unknown {
  if (v.arrayValue) return (v.arrayValue.values ?? []).map(valueOf);
  return v.stringValue ?? v.intValue ?? v.boolValue ?? v.doubleValue ?? null;
}
function attributesOf(list: OtlpAttributes): Record<string, unknown> {
  return Object.fromEntries((list ?? []).map((a) => [a.key, valueOf(a.value)]));
}

/** A local OTLP/HTTP receiver on a free loopback port: `spans` grows and `events` emits 'spans' per export. */
async function startReceiver() {
  const spans: ReceivedSpan[] = [];
  const events = new EventEmitter();
  const contentTypes = new Set<string>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      contentTypes.add(String(req.headers['content-type']));
      if (req.method !== 'POST' || req.url !== '/v1/traces') {
        res.writeHead(404).end();
        return;
      }
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        resourceSpans: Array<{
          resource: { attributes: OtlpAttributes };
          scopeSpans: Array<{ spans: Array<{ traceId: string; spanId: string; parentSpanId?: string; name: string; kind: number; attributes: OtlpAttributes; events?: Array<{ name: string; attributes: OtlpAttributes }> }> }>;
        }>;
      };
      for (const rs of body.resourceSpans) {
        const service = String(attributesOf(rs.resource.attributes)['service.name']);
        for (const ss of rs.scopeSpans) {
          for (const s of ss.spans) {
            spans.push({
              service,
              traceId: s.traceId,
              spanId: s.spanId,
              parentSpanId: s.parentSpanId ?? '',
              name: s.name,
              kind: s.kind,
              attributes: attributesOf(s.attributes),
              events: (s.events ?? []).map((e) => ({ name: e.name, attributes: attributesOf(e.attributes) })),
            });
          }
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      events.emit('spans');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`;
  /** Resolves once `done(spans)` holds, re-checked on every export (no sleeps). */
  const until = async (done: (s: ReceivedSpan[]) => boolean): Promise<void> => {
    while (!done(spans)) await once(events, 'spans');
  };
  return { url, spans, until, contentTypes, close: () => new Promise<void>((r) => server.close(() => r())) };
}

describe('tracing off (the default)', () => {
  it('no endpoint: no settings, and a gateway starts without loading the SDK or registering a provider', async () => {
    expect(tracingSettings(new EnvReader({}), 'motlan-gateway')).toBeNull();
    expect(tracingSettings(new EnvReader({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_TRACES_EXPORTER: 'none' }), 'x')).toBeNull();
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OTEL_')));
    const gw = await buildGateway({ env, logLevel: 'silent', audit: false, sandbox: false, ...QUIET_GATEWAY });
    try {
      expect(gw.concerns.map((c) => c.name)).toContain('tracing');
      expect(tracingSdkLoaded()).toBe(false);
      expect(processTracing()).toBeNull();
      // A request still works, and no span context appears.
      const res = await gw.app.inject({ method: 'GET', url: '/health' });
      expect(res.statusCode).toBe(200);
    } finally {
      await gw.close();
    }
    expect(tracingSdkLoaded()).toBe(false);
  });

  it('settings: endpoints, sampler and protocol are read strictly', () => {
    // lib/no-egress.ts forces OTEL_SDK_DISABLED=true in every process (against auto-configured SDKs):
    // the explicit endpoint still turns this tracing on.
    expect(process.env.OTEL_SDK_DISABLED).toBe('true');
    expect(tracingSettings(new EnvReader({ ...process.env, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' }), 'x')).toMatchObject({ url: 'http://127.0.0.1:4318/v1/traces' });
    const s = tracingSettings(new EnvReader({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/', OTEL_SERVICE_NAME: 'gw-hcm', OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.25' }), 'motlan-gateway', true);
    expect(s).toMatchObject({ url: 'http://collector:4318/v1/traces', serviceName: 'gw-hcm', sampler: 'parentbased_traceidratio', samplerRatio: 0.25 });
    // The signal-specific endpoint is used as is; only the gateway takes OTEL_SERVICE_NAME.
    expect(tracingSettings(new EnvReader({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4318/x', OTEL_SERVICE_NAME: 'gw' }), 'motlan-registry')).toMatchObject({ url: 'http://c:4318/x', serviceName: 'motlan-registry' });
    const bad = (env: Record<string, string>) => () => tracingSettings(new EnvReader({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', ...env }), 'x');
    expect(bad({ OTEL_TRACES_SAMPLER: 'sometimes' })).toThrow(/OTEL_TRACES_SAMPLER="sometimes" is not a sampler/);
    expect(bad({ OTEL_TRACES_SAMPLER_ARG: '2' })).toThrow(/not a ratio/);
    expect(bad({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).toThrow(/http\/json/);
    expect(bad({ OTEL_EXPORTER_OTLP_ENDPOINT: 'not a url' })).toThrow(/is not a URL/);
    expect(bad({ OTEL_EXPORTER_OTLP_HEADERS: 'token' })).toThrow(/key=value/);
  });
});

describe('tracing on: one connected trace across gateway, subgraphs and registries', () => {
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let stack: Stack | undefined;

  beforeAll(async () => {
    receiver = await startReceiver();
  });
  afterAll(async () => {
    await stack?.close();
    await receiver?.close();
  });

  it('spans of every tier, linked parent to child, under the caller\'s trace id, which the audit record keeps', async () => {
    stack = await startStack({
      citizens: 300,
      // The gateway's tracing from its environment, as an operator sets it (the other tiers get the same settings).
      gateway: {
        ...QUIET_GATEWAY,
        tracing: undefined,
        env: { ...process.env, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: '3600000', OTEL_TRACES_SAMPLER: 'parentbased_always_on' },
      },
      tracing: {
        url: receiver.url,
        sampler: 'parentbased_always_on',
        samplerRatio: 1,
        headers: {},
        timeoutMs: 10_000,
        // Exports happen when the stack closes (each tier flushes on shutdown): no timing involved.
        scheduleDelayMs: 3_600_000,
        maxExportBatchSize: 512,
        maxQueueSize: 2048,
      },
    });
    const creds = stack.gateway.clients.demoCredentials();
    const client = creds.find((c) => {
      const identity = stack!.gateway.clients.clients.find((x) => x.id === c.clientId);
      return c.roles.includes('client') && identity && !identity.requireSubjectToken && !identity.permissions.includes('explore');
    })!;
    const citizen: CitizenRecord = stack.world.citizens.find((c) => c.dateOfBirth < '2000-01-01' && !c.dateOfDeath)!;
    const traceId = randomBytes(16).toString('hex');
    const callerSpanId = randomBytes(8).toString('hex');
    const res = await fetch(stack.graphqlUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${client.key}`,
        'x-purpose': 'social-insurance-lump-sum',
        traceparent: `00-${traceId}-${callerSpanId}-01`,
      },
      body: JSON.stringify({
        query: 'query Insured($personalId: ID!) { citizen(personalId: $personalId) { fullName dateOfBirth permanentResidence { fullAddress } socialInsurance { socialInsuranceNumber status } } }',
        variables: { personalId: citizen.personalId },
      }),
    });
    const body = (await res.json()) as { data?: { citizen?: { fullName: string; socialInsurance?: { socialInsuranceNumber: string } | null } }; errors?: unknown };
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body.data?.citizen?.fullName).toBe(citizen.fullName);
    const requestId = res.headers.get('x-request-id')!;

    // The audit record carries the trace id (and the chain still verifies: see test/audit tests for old records).
    const page = await stack.gateway.services.need('audit').store.search({ requestId }, { limit: 2 });
    expect(page.items).toHaveLength(1);
    expect(page.items[0]!.traceId).toBe(traceId);

    // Every tier flushes when it stops.
    await stack.close();
    stack = undefined;
    const services = (s: ReceivedSpan[]) => new Set(s.filter((x) => x.traceId === traceId).map((x) => x.service));
    await receiver.until((s) => ['motlan-gateway', 'motlan-subgraph-population', 'motlan-subgraph-insurance', 'motlan-registry'].every((n) => services(s).has(n)));
    expect(receiver.contentTypes).toEqual(new Set(['application/json']));

    const trace = receiver.spans.filter((s) => s.traceId === traceId);
    const byId = new Map(trace.map((s) => [s.spanId, s]));
    const named = (service: string, name: string | RegExp) => trace.filter((s) => s.service === service && (typeof name === 'string' ? s.name === name : name.test(s.name)));
    const ancestors = (s: ReceivedSpan): ReceivedSpan[] => {
      const out: ReceivedSpan[] = [];
      for (let p = byId.get(s.parentSpanId); p; p = byId.get(p.parentSpanId)) out.push(p);
      return out;
    };

    // The gateway's server span is the child of the caller's span: the trace is the caller's.
    const [root] = named('motlan-gateway', 'POST /graphql');
    expect(root, trace.map((s) => `${s.service} ${s.name}`).join('\n')).toBeDefined();
    expect(root!.parentSpanId).toBe(callerSpanId);
    expect(root!.kind).toBe(2); // SERVER
    expect(root!.attributes).toMatchObject({ 'http.request.method': 'POST', 'http.route': '/graphql', 'http.response.status_code': 200 });

    // Policy, plan and one fetch per subgraph, all below the request span.
    const policy = named('motlan-gateway', 'motlan.policy');
    expect(policy).toHaveLength(1);
    expect(policy[0]!.attributes['motlan.procedure_id']).toBe('social-insurance-lump-sum');
    expect(named('motlan-gateway', 'gateway.plan')).toHaveLength(1);
    for (const s of [...policy, ...named('motlan-gateway', /^gateway\./)]) expect(ancestors(s)).toContain(root);
    for (const subgraph of ['population', 'insurance']) {
      const fetches = named('motlan-gateway', `POST subgraph ${subgraph}`);
      expect(fetches.length, subgraph).toBeGreaterThanOrEqual(1);
      for (const f of fetches) {
        expect(f.kind).toBe(3); // CLIENT
        expect(byId.get(f.parentSpanId)?.name).toBe('gateway.fetch');
        expect(ancestors(f)).toContain(root);
      }
      // The subgraph's server span is the child of the gateway's call.
      const served = named(`motlan-subgraph-${subgraph}`, 'POST /graphql');
      expect(served.length, subgraph).toBe(fetches.length);
      for (const s of served) expect(fetches.map((f) => f.spanId)).toContain(s.parentSpanId);
      // Its registry calls are its children, and each registry's server span the child of a call.
      const calls = trace.filter((s) => s.service === `motlan-subgraph-${subgraph}` && /^(GET|POST) registry /.test(s.name));
      expect(calls.length, `${subgraph} registry calls`).toBeGreaterThanOrEqual(1);
      for (const c of calls) {
        expect(c.kind).toBe(3);
        expect(served.map((s) => s.spanId)).toContain(c.parentSpanId);
        expect(c.attributes).toMatchObject({ 'motlan.registry': subgraph, 'motlan.registry.keys': expect.anything() });
        const registrySide = trace.filter((s) => s.service === 'motlan-registry' && s.parentSpanId === c.spanId);
        expect(registrySide, c.name).toHaveLength(1);
        expect(registrySide[0]!.attributes).toMatchObject({ 'motlan.registry': subgraph, 'http.response.status_code': 200 });
        expect(String(registrySide[0]!.attributes['http.route'])).toMatch(/^\/api\/v1\/:collection(\/:key|\/batch)$/);
      }
    }
    // One connected trace: every span but the root has its parent in the trace.
    for (const s of trace) if (s !== root) expect(byId.has(s.parentSpanId), `${s.service} ${s.name} has its parent in the trace`).toBe(true);

    // No personal ID or subject value in any attribute (span, event or resource).
    const citizenValues = [citizen.personalId, citizen.fullName, citizen.dateOfBirth, body.data!.citizen!.socialInsurance?.socialInsuranceNumber].filter((v): v is string => typeof v === 'string' && v.length > 0);
    for (const s of trace) {
      const texts = [s.name, ...Object.values(s.attributes), ...s.events.flatMap((e) => [e.name, ...Object.values(e.attributes)])].map((v) => JSON.stringify(v));
      for (const t of texts) {
        expect(t, `${s.service} ${s.name}`).not.toMatch(/(?<![0-9])(?:[0-9]{12}|[0-9]{10})(?![0-9])/);
        for (const v of citizenValues) expect(t, `${s.service} ${s.name}`).not.toContain(v);
      }
    }
  });
});
