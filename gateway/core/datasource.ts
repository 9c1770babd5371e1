/**
 * How the gateway calls a subgraph: keep-alive connections (one undici Agent for
 * all subgraphs), a hard per-call timeout, and the request trace the audit trail
 * and metrics read (registries contacted, entities returned per registry,
 * registries unavailable, time spent per registry).
 *
 * A subgraph that fails (connection refused, timeout, non-GraphQL answer) never
 * fails the whole request: its part becomes a `REGISTRY_UNAVAILABLE` error
 * naming the registry, the other registries' data is still returned (HTTP 200).
 */
import { performance } from 'node:perf_hooks';
import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type { Fetcher } from '@apollo/utils.fetcher';
import type { GraphQLFormattedError } from 'graphql';
import { request, type Dispatcher } from 'undici';
import type { MotlanContext, RequestTrace } from './context.js';
import { isRegistryName, registryLabel } from '../../lib/registries.js';
import { newSubgraphRequestId, pathOf, signatureHeaders, SUBGRAPH_REQUEST_ID_HEADER } from '../../lib/subgraph-signature.js';
import { injectContext, inSpan, processTracing, SpanKind } from '../../lib/tracing.js';

type GatewayResponse = Awaited<ReturnType<RemoteGraphQLDataSource['process']>>;

export function registryUnavailableMessage(registry: string, reason: string): string {
  return isRegistryName(registry)
    ? `${registryLabel(registry)} is unavailable: ${reason}. The other registries' data is returned; retry later for this part.`
    : `${registryLabel(registry)} is unavailable: ${reason}. The other subgraphs' data is returned; retry later for this part.`;
}

export interface SubgraphDataSourceOptions {
  /** Subgraph (= registry) name, as in the supergraph. */
  name: string;
  url: string;
  /** Abort the call after this long. Default: 3000 ms. */
  timeoutMs?: number;
  /** The gateway's keep-alive agent (one per gateway, closed with it: the `httpAgent` service). Required. */
  agent: Dispatcher;
  /** Answers client fetches in place of the subgraph, or calls it (gateway/cache: cache, dedupe). Default: none. */
  intercept?: SubgraphFetchInterceptor;
  /**
   * The key shared with this subgraph: every request is signed with it (lib/subgraph-signature.ts),
   * and the subgraph refuses unsigned ones. Required (see `subgraphSigningKey` in gateway/options.ts).
   */
  signingKey: Buffer;
  /** Clock for signature timestamps (tests). Default: Date.now. */
  now?: () => number;
  /** Adds entity keys to each fetch and records the entities of its answer (gateway/disclosure). Default: none. */
  entities?: SubgraphEntityCollector;
}

type SubgraphRequest = GraphQLDataSourceProcessOptions<MotlanContext>['request'];

/**
 * Sees every client fetch to a remote subgraph and its answer (cached or fetched):
 * `prepare` may add selections the gateway needs (entity keys; the client's response is
 * built from the client's own selections, so they never reach it), `collect` records the
 * answer's entities into the request's trace. At most one concern provides it.
 */
export interface SubgraphEntityCollector {
  prepare<R extends SubgraphRequest>(request: R): R;
  collect(context: MotlanContext, request: SubgraphRequest, data: Record<string, unknown> | null | undefined): void;
}

/**
 * One client fetch to a subgraph as an interceptor sees it. `upstream` calls the
 * subgraph (keep-alive, timeout) with the given request, e.g. fewer `_entities`
 * representations; it throws on network failure. What the interceptor returns is
 * recorded in the request's trace (so a cached answer counts like a fetched one).
 */
export interface SubgraphFetch {
  subgraph: string;
  request: GraphQLDataSourceProcessOptions<MotlanContext>['request'];
  context: MotlanContext | null;
  upstream(request: GraphQLDataSourceProcessOptions<MotlanContext>['request']): Promise<GatewayResponse>;
}
export type SubgraphFetchInterceptor = (fetch: SubgraphFetch) => Promise<GatewayResponse>;

/**
 * Chains interceptors in list order: the first sees the fetch first and its `upstream` runs the
 * next one; the last one's `upstream` calls the subgraph. Undefined when there is none.
 */
export function chainInterceptors(interceptors: readonly SubgraphFetchInterceptor[]): SubgraphFetchInterceptor | undefined {
  if (interceptors.length === 0) return undefined;
  return interceptors.reduceRight<SubgraphFetchInterceptor>(
    (next, interceptor) => (fetch) => interceptor({ ...fetch, upstream: (request) => next({ ...fetch, request }) }),
    (fetch) => fetch.upstream(fetch.request),
  );
}

/**
 * Signs each call for the subgraph: the per-fetch id set by `willSendRequest`
 * (or a fresh one for schema loads and health checks), a timestamp, and an HMAC
 * over method, path, body digest, timestamp and id. Signing here, not in
 * `willSendRequest`, because only the fetcher sees the exact body bytes sent.
 */
export function signingFetcher(inner: Fetcher, subgraph: string, key: Buffer, now: () => number = Date.now): Fetcher {
  const signed = async (url: string, init?: { method?: string; headers?: Record<string, string>; body?: string }) => {
    const headers: Record<string, string> = { ...init?.headers };
    const requestId = headers[SUBGRAPH_REQUEST_ID_HEADER] ?? newSubgraphRequestId();
    Object.assign(headers, signatureHeaders({ key, subgraph, method: init?.method ?? 'POST', path: pathOf(url), body: init?.body ?? '', timestamp: now(), requestId }));
    return inner(url, { ...init, headers } as Parameters<Fetcher>[1]);
  };
  return signed as unknown as Fetcher;
}

/**
 * One CLIENT span per call to the subgraph (child of @apollo/gateway's `gateway.fetch`), whose
 * `traceparent` goes with the call: the subgraph's spans join the client's trace. Only the
 * subgraph's name, the method and the status are recorded (never the body: it names subjects).
 * Tracing off (gateway/tracing): the call as is.
 */
export function tracingFetcher(inner: Fetcher, subgraph: string): Fetcher {
  const traced = async (url: string, init?: { method?: string; headers?: Record<string, string>; body?: string }) => {
    const tracing = processTracing();
    if (!tracing) return inner(url, init as Parameters<Fetcher>[1]);
    const method = init?.method ?? 'POST';
    return inSpan(
      tracing,
      `${method} subgraph ${subgraph}`,
      { 'http.request.method': method, 'motlan.subgraph': subgraph },
      async (span) => {
        const headers: Record<string, string> = { ...init?.headers };
        injectContext(headers);
        const res = await inner(url, { ...init, headers } as Parameters<Fetcher>[1]);
        span?.setAttribute('http.response.status_code', res.status);
        return res;
      },
      SpanKind.CLIENT,
    );
  };
  return traced as unknown as Fetcher;
}

/**
 * Apollo's Fetcher contract over undici's `request()`: the subgraph hot path. undici's
 * WHATWG `fetch` costs several times more CPU per call (web streams, Request/Response
 * and AbortSignal objects) and that showed in gateway profiles; this answers only
 * what RemoteGraphQLDataSource reads: ok, status, statusText, headers.get, json, text.
 */
export function requestFetcher(agent: Dispatcher, timeoutMs: number): Fetcher {
  const fetcher = async (url: string, init?: { method?: string; headers?: Record<string, string>; body?: string }) => {
    const res = await request(url, {
      method: (init?.method ?? 'POST') as 'POST',
      headers: init?.headers,
      body: init?.body,
      dispatcher: agent,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    const text = await res.body.text();
    const headers = res.headers;
    return {
      ok: res.statusCode >= 200 && res.statusCode < 300,
      status: res.statusCode,
      statusText: '',
      url,
      headers: {
        get: (name: string) => {
          const v = headers[name.toLowerCase()];
          return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v;
        },
      },
      text: async () => text,
      json: async () => JSON.parse(text) as unknown,
    };
  };
  // The contract's Response type is nominal; the object above has every member Apollo reads.
  return fetcher as unknown as Fetcher;
}

/** Human reason for a failed call, without URLs or hostnames (they may reach clients). */
export function describeFailure(err: unknown, timeoutMs: number): string {
  const e = err as { name?: string; message?: string; code?: string; cause?: { code?: string; name?: string } };
  if (e?.name === 'TimeoutError' || e?.cause?.name === 'TimeoutError' || e?.name === 'AbortError') return `timeout after ${timeoutMs} ms`;
  if (e?.code === 'UND_ERR_HEADERS_TIMEOUT' || e?.code === 'UND_ERR_BODY_TIMEOUT') return `timeout after ${timeoutMs} ms`;
  const code = e?.cause?.code ?? e?.code;
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') return 'connection reset';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'host not found';
  const status = /^(\d{3}): /.exec(e?.message ?? '');
  if (status) return `HTTP ${status[1]}`;
  return 'unexpected answer';
}

function isMotlanContext(ctx: unknown): ctx is MotlanContext {
  return typeof ctx === 'object' && ctx !== null && 'trace' in ctx && typeof (ctx as MotlanContext).trace?.registries === 'object';
}

/** Entities returned: `_entities` items, else the root fields' objects (lists count their items). */
export function countEntities(data: Record<string, unknown> | null | undefined): number {
  if (!data) return 0;
  const count = (v: unknown): number => (Array.isArray(v) ? v.filter((x) => x !== null && x !== undefined).length : v === null || v === undefined ? 0 : 1);
  if ('_entities' in data) return count(data._entities);
  return Object.values(data).reduce<number>((n, v) => n + count(v), 0);
}

export function recordResponse(trace: RequestTrace, registry: string, response: GatewayResponse): void {
  trace.entities[registry] = (trace.entities[registry] ?? 0) + countEntities(response.data);
  for (const err of response.errors ?? []) {
    const code = err.extensions?.code;
    if (typeof code === 'string') trace.errorCodes.add(code);
    if (code === 'REGISTRY_UNAVAILABLE') {
      const named = err.extensions?.registry;
      trace.unavailableRegistries.add(typeof named === 'string' ? named : registry);
    }
  }
}

export class SubgraphDataSource extends RemoteGraphQLDataSource<MotlanContext> {
  readonly name: string;
  readonly timeoutMs: number;
  private readonly intercept: SubgraphFetchInterceptor | undefined;
  private readonly entities: SubgraphEntityCollector | undefined;

  constructor(opts: SubgraphDataSourceOptions) {
    super({ url: opts.url });
    this.name = opts.name;
    this.timeoutMs = opts.timeoutMs ?? 3000;
    this.intercept = opts.intercept;
    this.entities = opts.entities;
    const agent = opts.agent;
    const timeoutMs = this.timeoutMs;
    if (!Buffer.isBuffer(opts.signingKey) || opts.signingKey.length === 0) {
      throw new Error(`The ${opts.name} subgraph has no signing key: set ${`SUBGRAPH_SIGNING_KEY_${opts.name.toUpperCase()}`} (it refuses unsigned requests).`);
    }
    this.fetcher = tracingFetcher(signingFetcher(requestFetcher(agent, timeoutMs), opts.name, opts.signingKey, opts.now), opts.name);
  }

  override willSendRequest(options: GraphQLDataSourceProcessOptions<MotlanContext>): void {
    // Lets the subgraph logs be correlated with the gateway's.
    if (isMotlanContext(options.context)) {
      options.request.http?.headers.set('x-request-id', options.context.requestId);
      // One id per fetch (`<requestId>:<subgraph>:<random>`), signed, logged by the subgraph,
      // listed in the trace: the audit record's requestId finds it in the registry's log.
      const id = newSubgraphRequestId(options.context.requestId, this.name);
      options.request.http?.headers.set(SUBGRAPH_REQUEST_ID_HEADER, id);
      options.context.trace.subgraphRequests?.push(id);
    }
  }

  override async process(options: GraphQLDataSourceProcessOptions<MotlanContext>): Promise<GatewayResponse> {
    // Health checks and schema loading are not client requests: let their errors surface as is.
    if (!('incomingRequestContext' in options)) return super.process(options);
    const trace = isMotlanContext(options.context) ? options.context.trace : null;
    trace?.registries.add(this.name);
    const started = performance.now();
    let request = options.request;
    try {
      // Entity keys added to the subgraph operation (memoised), so every entity returned can be identified.
      // Inside the try: if that fails, the fetch fails (closed), it is not sent without the keys.
      if (this.entities) request = this.entities.prepare(options.request);
      const response = this.intercept
        ? await this.intercept({
            subgraph: this.name,
            request,
            context: trace ? options.context : null,
            upstream: (req) => super.process({ ...options, request: req }),
          })
        : await super.process(request === options.request ? options : { ...options, request });
      if (trace) {
        recordResponse(trace, this.name, response);
        this.entities?.collect(options.context, request, response.data);
      }
      return response;
    } catch (err) {
      const error: GraphQLFormattedError = {
        message: registryUnavailableMessage(this.name, describeFailure(err, this.timeoutMs)),
        extensions: { code: 'REGISTRY_UNAVAILABLE', registry: this.name },
      };
      if (trace) {
        trace.unavailableRegistries.add(this.name);
        trace.errorCodes.add('REGISTRY_UNAVAILABLE');
      }
      return { errors: [error] };
    } finally {
      if (trace) trace.subgraphMs[this.name] = (trace.subgraphMs[this.name] ?? 0) + (performance.now() - started);
    }
  }
}
