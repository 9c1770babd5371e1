/**
 * OpenTelemetry tracing shared by the three tiers (gateway, subgraphs, mock registries):
 * one piece of code that turns the standard OTEL_* variables into a tracer, opens the
 * server span of each incoming request (W3C `traceparent` accepted), and injects
 * `traceparent` into outgoing calls, so one client request is one connected trace
 * gateway → subgraph → registry.
 *
 * OFF by default (a closed network has no collector): without an OTLP endpoint nothing of
 * the SDK is loaded (`startTracing` returns null before any import) and every helper below
 * is a plain function call. On: NodeTracerProvider with a Resource built by hand (service
 * name and version only: no resource detector, nothing probes cloud metadata), the OTLP/HTTP
 * JSON exporter behind a batch processor, flushed on shutdown.
 *
 * What a span may hold: routes (`/api/v1/:collection/:key`, never the URL), methods, status
 * codes, registry, subgraph and collection names, counts, procedure ids. Never an identifier,
 * a key, a query text or a value: `SafeAttributes` below also masks identifier-shaped digit
 * runs in every string attribute before export, as the logs do (lib/redact-url.ts).
 */
import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { EnvError, EnvReader } from './env-options.js';
import { REPO_ROOT } from './repo-root.js';

/**
 * The variables tracing reads (reported as known at start). OTEL_SDK_DISABLED is listed as known
 * but not read: lib/no-egress.ts forces it to `true` in every process against any auto-configured
 * SDK; this tracing is configured explicitly and is on only with an endpoint the operator set.
 */
export const TRACING_VARIABLES = [
  'OTEL_SDK_DISABLED',
  'OTEL_TRACES_EXPORTER',
  'OTEL_EXPORTER_OTLP_ENDPOINT',
  'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
  'OTEL_EXPORTER_OTLP_PROTOCOL',
  'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL',
  'OTEL_EXPORTER_OTLP_HEADERS',
  'OTEL_EXPORTER_OTLP_TRACES_HEADERS',
  'OTEL_EXPORTER_OTLP_TIMEOUT',
  'OTEL_EXPORTER_OTLP_TRACES_TIMEOUT',
  'OTEL_SERVICE_NAME',
  'OTEL_TRACES_SAMPLER',
  'OTEL_TRACES_SAMPLER_ARG',
  'OTEL_BSP_SCHEDULE_DELAY',
  'OTEL_BSP_MAX_EXPORT_BATCH_SIZE',
  'OTEL_BSP_MAX_QUEUE_SIZE',
] as const;

export const SAMPLERS = ['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'] as const;
export type SamplerName = (typeof SAMPLERS)[number];

/** Tracing settings of one process, from the OTEL_* variables. */
export interface TracingSettings {
  /** Where spans are sent: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as is, else OTEL_EXPORTER_OTLP_ENDPOINT + `/v1/traces`. */
  url: string;
  /** `service.name`: OTEL_SERVICE_NAME for the gateway, else the tier's default (see `tracingSettings`). */
  serviceName: string;
  /** OTEL_TRACES_SAMPLER (default `parentbased_always_on`) and its ratio OTEL_TRACES_SAMPLER_ARG (default 1). */
  sampler: SamplerName;
  samplerRatio: number;
  /** Extra exporter headers (OTEL_EXPORTER_OTLP_[TRACES_]HEADERS, `k=v,k2=v2`), e.g. a collector token. Default none. */
  headers: Record<string, string>;
  /** Export timeout (OTEL_EXPORTER_OTLP_[TRACES_]TIMEOUT). Default 10 000 ms. */
  timeoutMs: number;
  /** Batch processor: delay between exports (OTEL_BSP_SCHEDULE_DELAY, default 5000 ms), batch and queue sizes (512, 2048). */
  scheduleDelayMs: number;
  maxExportBatchSize: number;
  maxQueueSize: number;
}

/**
 * Reads the OTEL_* variables: null when tracing is off (no endpoint, or OTEL_TRACES_EXPORTER=none).
 * OTEL_SDK_DISABLED is not read (see TRACING_VARIABLES). A value that does not parse stops the start (EnvError).
 * `defaultService` names the tier; `serviceNameFromEnv` lets OTEL_SERVICE_NAME override it (the
 * gateway only: `npm start` gives every process the same environment, and three tiers under one
 * name would be one service).
 */
export function tracingSettings(env: EnvReader, defaultService: string, serviceNameFromEnv = false): TracingSettings | null {
  for (const v of TRACING_VARIABLES) env.know(v);
  const exporter = env.string('OTEL_TRACES_EXPORTER')?.trim().toLowerCase();
  if (exporter !== undefined && exporter !== 'otlp' && exporter !== 'none') {
    throw new EnvError('OTEL_TRACES_EXPORTER', `OTEL_TRACES_EXPORTER=${JSON.stringify(exporter)} is not supported: use otlp (the default) or none.`);
  }
  if (exporter === 'none') return null;
  const signal = env.string('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT');
  const base = env.string('OTEL_EXPORTER_OTLP_ENDPOINT');
  if (signal === undefined && base === undefined) return null;
  const url = signal ?? `${base!.replace(/\/+$/, '')}/v1/traces`;
  const name = signal !== undefined ? 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT' : 'OTEL_EXPORTER_OTLP_ENDPOINT';
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new EnvError(name, `${name}=${JSON.stringify(signal ?? base)} is not a URL: give the collector's OTLP/HTTP address, e.g. http://otel-collector:4318.`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new EnvError(name, `${name}=${JSON.stringify(signal ?? base)} must be http(s): the exporter speaks OTLP over HTTP.`);
  }
  for (const p of ['OTEL_EXPORTER_OTLP_TRACES_PROTOCOL', 'OTEL_EXPORTER_OTLP_PROTOCOL']) {
    const protocol = env.string(p);
    if (protocol !== undefined && protocol !== 'http/json') {
      throw new EnvError(p, `${p}=${JSON.stringify(protocol)} is not supported: the gateway exports OTLP/HTTP with JSON bodies (http/json); every OpenTelemetry collector accepts it on :4318.`);
    }
  }
  const samplerRaw = (env.string('OTEL_TRACES_SAMPLER') ?? 'parentbased_always_on').trim().toLowerCase();
  if (!(SAMPLERS as readonly string[]).includes(samplerRaw)) {
    throw new EnvError('OTEL_TRACES_SAMPLER', `OTEL_TRACES_SAMPLER=${JSON.stringify(samplerRaw)} is not a sampler: use one of ${SAMPLERS.join(', ')}.`);
  }
  const ratio = env.number('OTEL_TRACES_SAMPLER_ARG') ?? 1;
  if (ratio > 1) throw new EnvError('OTEL_TRACES_SAMPLER_ARG', `OTEL_TRACES_SAMPLER_ARG=${ratio} is not a ratio between 0 and 1.`);
  const timeoutMs = env.int('OTEL_EXPORTER_OTLP_TRACES_TIMEOUT', { min: 1 }) ?? env.int('OTEL_EXPORTER_OTLP_TIMEOUT', { min: 1 }) ?? 10_000;
  return {
    url,
    serviceName: (serviceNameFromEnv ? env.string('OTEL_SERVICE_NAME') : undefined) ?? defaultService,
    sampler: samplerRaw as SamplerName,
    samplerRatio: ratio,
    headers: { ...parseHeaders(env, 'OTEL_EXPORTER_OTLP_HEADERS'), ...parseHeaders(env, 'OTEL_EXPORTER_OTLP_TRACES_HEADERS') },
    timeoutMs,
    scheduleDelayMs: env.int('OTEL_BSP_SCHEDULE_DELAY') ?? 5000,
    maxExportBatchSize: env.int('OTEL_BSP_MAX_EXPORT_BATCH_SIZE', { min: 1 }) ?? 512,
    maxQueueSize: env.int('OTEL_BSP_MAX_QUEUE_SIZE', { min: 1 }) ?? 2048,
  };
}

function parseHeaders(env: EnvReader, name: string): Record<string, string> {
  const raw = env.string(name);
  if (raw === undefined) return {};
  const out: Record<string, string> = {};
  for (const part of raw.split(',')) {
    const at = part.indexOf('=');
    if (at <= 0) throw new EnvError(name, `${name} must be a list of key=value pairs separated by commas (W3C baggage format); one entry has no "=": fix or unset it.`);
    out[decodeURIComponent(part.slice(0, at).trim())] = decodeURIComponent(part.slice(at + 1).trim());
  }
  return out;
}

/** The tracing of one tier of one process. */
export interface Tracing {
  /** Its tracer; every span of the tier comes from it. */
  readonly tracer: Tracer;
  readonly settings: TracingSettings;
  /** Exports what is buffered now. */
  forceFlush(): Promise<void>;
  /** Flushes and stops (at shutdown; idempotent). */
  shutdown(): Promise<void>;
}

let sdkLoaded = false;
/** True once the SDK (provider, exporter) was loaded in this process: never while tracing is off. */
export function tracingSdkLoaded(): boolean {
  return sdkLoaded;
}

/**
 * Starts the tracing of a tier, or returns null when it is off (nothing loaded). `global: true`
 * registers its provider as the process's (the gateway: @apollo/gateway's own spans, `gateway.plan`,
 * `gateway.fetch`, … go there); other tiers keep theirs to themselves, so a whole stack in one
 * process (tests) still names each tier. The context manager (AsyncLocalStorage) and the W3C
 * propagator are registered once per process by whichever tier starts first.
 */
export async function startTracing(settings: TracingSettings | null, opts: { serviceVersion?: string; global?: boolean } = {}): Promise<Tracing | null> {
  if (!settings) return null;
  const serviceVersion = opts.serviceVersion ?? packageVersion();
  const [{ NodeTracerProvider }, base, { OTLPTraceExporter }, { resourceFromAttributes }, semconv, core, { AsyncLocalStorageContextManager }] = await Promise.all([
    import('@opentelemetry/sdk-trace-node'),
    import('@opentelemetry/sdk-trace-base'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/semantic-conventions'),
    import('@opentelemetry/core'),
    import('@opentelemetry/context-async-hooks'),
  ]);
  sdkLoaded = true;
  const ratio = new base.TraceIdRatioBasedSampler(settings.samplerRatio);
  const sampler = {
    always_on: new base.AlwaysOnSampler(),
    always_off: new base.AlwaysOffSampler(),
    traceidratio: ratio,
    parentbased_always_on: new base.ParentBasedSampler({ root: new base.AlwaysOnSampler() }),
    parentbased_always_off: new base.ParentBasedSampler({ root: new base.AlwaysOffSampler() }),
    parentbased_traceidratio: new base.ParentBasedSampler({ root: ratio }),
  }[settings.sampler];
  const exporter = new OTLPTraceExporter({ url: settings.url, headers: settings.headers, timeoutMillis: settings.timeoutMs });
  const provider = new NodeTracerProvider({
    // By hand: only what we know. No detector (host, process, cloud metadata endpoints).
    resource: resourceFromAttributes({ [semconv.ATTR_SERVICE_NAME]: settings.serviceName, [semconv.ATTR_SERVICE_VERSION]: serviceVersion }),
    sampler,
    spanProcessors: [
      new SafeAttributes(),
      new base.BatchSpanProcessor(exporter, {
        scheduledDelayMillis: settings.scheduleDelayMs,
        maxExportBatchSize: settings.maxExportBatchSize,
        maxQueueSize: Math.max(settings.maxQueueSize, settings.maxExportBatchSize),
      }),
    ],
  });
  // Once per process; later calls are refused by the API and leave the first in place (same kinds).
  if (!contextManagerSet) {
    contextManagerSet = context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    propagation.setGlobalPropagator(new core.W3CTraceContextPropagator());
  }
  let stopped: Promise<void> | null = null;
  const tracing: Tracing = {
    tracer: provider.getTracer(settings.serviceName, serviceVersion),
    settings,
    forceFlush: () => provider.forceFlush(),
    shutdown: () =>
      (stopped ??= provider.shutdown().catch(() => undefined).then(() => {
        if (processTracingRef === tracing) processTracingRef = null;
      })),
  };
  if (opts.global && !globalProviderSet) {
    globalProviderSet = trace.setGlobalTracerProvider(provider);
    if (globalProviderSet) processTracingRef = tracing;
  }
  return tracing;
}
/** `service.version`: the repository's package.json version. */
function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/**
 * Starts a tier's tracing from the environment (tracingSettings + startTracing): null when off.
 * `serviceNameFromEnv`: see tracingSettings.
 */
export async function tracingFromEnv(env: NodeJS.ProcessEnv | EnvReader, defaultService: string, opts: { global?: boolean; serviceNameFromEnv?: boolean } = {}): Promise<Tracing | null> {
  const reader = env instanceof EnvReader ? env : new EnvReader(env);
  return startTracing(tracingSettings(reader, defaultService, opts.serviceNameFromEnv), { global: opts.global });
}

let contextManagerSet = false;
let globalProviderSet = false;
let processTracingRef: Tracing | null = null;

/**
 * The tracing registered for the whole process (the gateway's), or null when off: what the
 * gateway's shared code (subgraph data source, policy) spans with. One variable read when off.
 */
export function processTracing(): Tracing | null {
  return processTracingRef;
}

/** Identifier-shaped digit runs: 12 digits (CCCD), 10 or 10-3 (tax codes), as lib/redact-url.ts masks them in logs. */
const IDENTIFIER_LIKE = /(?<![0-9])(?:[0-9]{12}|[0-9]{10}(?:-[0-9]{3})?)(?![0-9])/g;

/**
 * Last line of defence: masks identifier-shaped digit runs in every string attribute (and event
 * attribute) before the exporter sees the span. Spans are built without personal data; this
 * catches what a library adds (an operation name a client chose, an exception message).
 */
class SafeAttributes {
  onStart(): void {}
  onEnd(span: { attributes: Attributes; events: ReadonlyArray<{ attributes?: Attributes }> }): void {
    mask(span.attributes);
    for (const e of span.events) if (e.attributes) mask(e.attributes);
  }
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

function mask(attributes: Attributes): void {
  for (const [k, v] of Object.entries(attributes)) {
    if (typeof v === 'string' && IDENTIFIER_LIKE.test(v)) (attributes as Record<string, unknown>)[k] = v.replace(IDENTIFIER_LIKE, '[id]');
    IDENTIFIER_LIKE.lastIndex = 0;
  }
}

// ─────────────────────────────────────────────────────────────────────────────
// Spans: every helper takes the tier's tracing (null when off: the work runs as is).

/** The context of an incoming request's `traceparent`/`tracestate` headers (the root context when absent or malformed). */
export function extractContext(headers: IncomingHttpHeaders): Context {
  return propagation.extract(ROOT_CONTEXT, headers, {
    get: (carrier, key) => carrier[key],
    keys: (carrier) => Object.keys(carrier),
  });
}

/** Adds `traceparent` (and `tracestate`) of `ctx` (default: the active context) to outgoing headers. */
export function injectContext(headers: Record<string, string> | OutgoingHttpHeaders, ctx: Context = context.active()): void {
  propagation.inject(ctx, headers, { set: (carrier, key, value) => void ((carrier as Record<string, string>)[key] = value) });
}

/** The trace id of the active span, or undefined when none (tracing off, or no span). */
export function activeTraceId(ctx: Context = context.active()): string | undefined {
  const sc = trace.getSpanContext(ctx);
  return sc && trace.isSpanContextValid(sc) ? sc.traceId : undefined;
}

/** The server span of one HTTP request: its child context is what the request's work runs in. */
export interface ServerSpan {
  span: Span;
  context: Context;
}

/**
 * Opens the SERVER span of an incoming request, child of its `traceparent` when it has one.
 * Name `<METHOD> <route>` (the route pattern, never the URL: it may carry a key).
 */
export function startServerSpan(tracing: Tracing, method: string, route: string, headers: IncomingHttpHeaders, attributes: Attributes = {}): ServerSpan {
  const parent = extractContext(headers);
  const span = tracing.tracer.startSpan(
    `${method} ${route}`,
    { kind: SpanKind.SERVER, attributes: { 'http.request.method': method, 'http.route': route, ...attributes } },
    parent,
  );
  return { span, context: trace.setSpan(parent, span) };
}

/** Ends a server span with the response status (5xx marks it an error, as the HTTP conventions say). */
export function endServerSpan(s: ServerSpan, status: number): void {
  s.span.setAttribute('http.response.status_code', status);
  if (status >= 500) s.span.setStatus({ code: SpanStatusCode.ERROR });
  s.span.end();
}

/**
 * Runs `fn` inside a span (child of the active one); records failure as the span's status, with
 * the error's class name only (messages may name a citizen). Off: just `fn()`.
 */
export async function inSpan<T>(
  tracing: Tracing | null,
  name: string,
  attributes: Attributes,
  fn: (span: Span | null) => Promise<T>,
  kind: SpanKind = SpanKind.INTERNAL,
): Promise<T> {
  if (!tracing) return fn(null);
  return tracing.tracer.startActiveSpan(name, { kind, attributes }, async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.name : 'error' });
      throw err;
    } finally {
      span.end();
    }
  });
}

export { SpanKind };

/** The part of a Fastify app `traceRequests` needs (kept structural: lib/ does not depend on fastify's types). */
interface HookableApp<R> {
  addHook(name: 'onRequest' | 'preHandler', fn: (request: R, reply: unknown, done: () => void) => void): unknown;
  addHook(name: 'onResponse', fn: (request: R, reply: { statusCode: number }, done: () => void) => void): unknown;
  addHook(name: 'onRequestAbort', fn: (request: R, done: () => void) => void): unknown;
}
interface TracedRequest {
  method: string;
  headers: IncomingHttpHeaders;
  routeOptions: { url?: string };
}

/** What a tier adds to its request spans (all optional). */
export interface TraceRequestsOptions<R> {
  /** Added to every span (e.g. the registry's name). */
  attributes?: Attributes;
  /** When the span opens, e.g. to stamp its trace id on the request's context (the gateway's audit). */
  onStart?: (request: R, span: ServerSpan) => void;
  /** Just before the span ends, e.g. to name the client authentication found. */
  onEnd?: (request: R, span: ServerSpan) => void;
}

/**
 * A SERVER span per request of a Fastify app (gateway, subgraphs, mock registries), child of the
 * caller's `traceparent`: opened in `onRequest` (so later onRequest hooks, and the 401/429 they may
 * send, already see it), made active for the handler in `preHandler` (register this before other
 * preHandlers), ended in `onResponse` with the status, or 499 when the caller aborts. Named after
 * the route pattern. No-op when off.
 */
export function traceRequests<R extends TracedRequest>(app: HookableApp<R>, tracing: Tracing | null, opts: TraceRequestsOptions<R> = {}): void {
  if (!tracing) return;
  const spans = new WeakMap<R, ServerSpan>();
  const end = (request: R, status: number) => {
    const s = spans.get(request);
    if (!s) return;
    spans.delete(request);
    opts.onEnd?.(request, s);
    endServerSpan(s, status);
  };
  app.addHook('onRequest', (request, _reply, done) => {
    const s = startServerSpan(tracing, request.method, request.routeOptions.url ?? 'unknown route', request.headers, opts.attributes ?? {});
    spans.set(request, s);
    opts.onStart?.(request, s);
    context.with(s.context, done);
  });
  app.addHook('preHandler', (request, _reply, done) => {
    const s = spans.get(request);
    if (!s) return done();
    context.with(s.context, done);
  });
  app.addHook('onResponse', (request, reply, done) => {
    end(request, reply.statusCode);
    done();
  });
  app.addHook('onRequestAbort', (request, done) => {
    end(request, 499);
    done();
  });
}
