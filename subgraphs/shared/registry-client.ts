/**
 * The HTTP client a subgraph uses to reach its upstream registry
 * (docs/ARCHITECTURE.md, "Mock registry HTTP API"): `GET /api/v1/<collection>/<key>`
 * and `POST /api/v1/<collection>/batch`, authenticated with `X-API-Key`.
 *
 * Built on `node:http(s)` with a keep-alive agent rather than undici: nock 15
 * (our upstream test double) intercepts both, but an aborted undici request under
 * nock's socket interceptor trips an internal undici assertion, so the timeout path
 * could not be tested. node:http keeps sockets open just as well.
 *
 * Every failure (connection, timeout, 5xx, bad key, invalid JSON, misaligned batch)
 * becomes a `RegistryError` naming the registry, with a reason safe to show clients
 * (no URLs). Calls never hang: one deadline covers connect, headers and body.
 */
import http from 'node:http';
import https from 'node:https';
import type { RegistryName } from '../../lib/registries.js';
import { registryLabel } from './registries.js';
import { injectContext, inSpan, SpanKind, type Tracing } from '../../lib/tracing.js';

export interface RegistryClientOptions {
  registry: RegistryName;
  /** Base URL of the registry service, e.g. `http://localhost:4101` (the client adds `/api/v1/...`). */
  url: string;
  /** Service-account key sent as `X-API-Key`. */
  apiKey: string;
  /** Deadline of one upstream call, connection and body included. Default 2000 ms. */
  timeoutMs?: number;
  /** Most concurrent sockets to the registry; further calls queue on the agent. Default 64. */
  maxSockets?: number;
  /** Largest batch the registry accepts; longer key lists are split. Default 500 (the registry's limit). */
  maxBatchSize?: number;
  /** OpenTelemetry tracing (lib/tracing.ts): a CLIENT span per call, whose `traceparent` the registry receives. Default: none (off). */
  tracing?: Tracing | null;
}

/** An upstream call failed; `reason` is short and safe to show a client. */
export class RegistryError extends Error {
  override readonly name = 'RegistryError';
  constructor(
    readonly registry: RegistryName,
    readonly reason: string,
    /** HTTP status when the registry answered, undefined for network failures and timeouts. */
    readonly status?: number,
  ) {
    super(`${registryLabel(registry)} is unavailable: ${reason}`);
  }
}

interface RawResponse {
  status: number;
  body: unknown;
}

/** Errors Node raises when a kept-alive socket was closed by the server just as we reused it. */
const STALE_SOCKET_CODES = new Set(['ECONNRESET', 'EPIPE']);

export class RegistryClient {
  readonly registry: RegistryName;
  readonly timeoutMs: number;
  private readonly maxBatchSize: number;
  private readonly apiKey: string;
  private readonly transport: typeof http | typeof https;
  private readonly agent: http.Agent;
  private readonly hostname: string;
  private readonly port: number | undefined;
  private readonly basePath: string;
  private readonly tracing: Tracing | null;

  constructor(opts: RegistryClientOptions) {
    this.registry = opts.registry;
    this.timeoutMs = opts.timeoutMs ?? 2000;
    this.maxBatchSize = opts.maxBatchSize ?? 500;
    this.apiKey = opts.apiKey;
    this.tracing = opts.tracing ?? null;
    let url: URL;
    try {
      url = new URL(opts.url);
    } catch {
      throw new Error(`Invalid registry URL for ${opts.registry}: ${JSON.stringify(opts.url)}; expected e.g. http://localhost:4101`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new Error(`Registry URL for ${opts.registry} must be http(s), got ${url.protocol}`);
    }
    const secure = url.protocol === 'https:';
    this.transport = secure ? https : http;
    // Parsed once: building request options per call is the hot path.
    this.hostname = url.hostname.replace(/^\[|\]$/g, '');
    this.port = url.port ? Number(url.port) : undefined;
    this.basePath = `${url.pathname.replace(/\/+$/, '')}/api/v1/`;
    const agentOpts = { keepAlive: true, maxSockets: opts.maxSockets ?? 64, scheduling: 'lifo' as const };
    this.agent = secure ? new https.Agent(agentOpts) : new http.Agent(agentOpts);
  }

  /** One record by key; `null` when the registry answers 404. */
  async get<T>(collection: string, key: string): Promise<T | null> {
    // The span names the collection, never the key (a personal ID).
    const res = await this.traced('GET', collection, 1, () => this.request('GET', `${collection}/${encodeURIComponent(key)}`));
    if (res.status === 404) return null;
    if (res.status !== 200) throw this.statusError(res);
    if (res.body === null || typeof res.body !== 'object') {
      throw new RegistryError(this.registry, `unexpected response for one ${collection} record`, res.status);
    }
    return res.body as T;
  }

  /** Records aligned with `keys`, `null` for unknown keys. Splits lists longer than the registry's limit. */
  async batch<T>(collection: string, keys: readonly string[]): Promise<Array<T | null>> {
    if (keys.length === 0) return [];
    if (keys.length > this.maxBatchSize) {
      const chunks: Array<Promise<Array<T | null>>> = [];
      for (let i = 0; i < keys.length; i += this.maxBatchSize) {
        chunks.push(this.batch<T>(collection, keys.slice(i, i + this.maxBatchSize)));
      }
      return (await Promise.all(chunks)).flat();
    }
    const res = await this.traced('POST', collection, keys.length, () => this.request('POST', `${collection}/batch`, JSON.stringify({ keys })));
    if (res.status !== 200) throw this.statusError(res);
    const items = (res.body as { items?: unknown } | null)?.items;
    if (!Array.isArray(items) || items.length !== keys.length) {
      const got = Array.isArray(items) ? `${items.length} items` : 'no items array';
      throw new RegistryError(this.registry, `batch answer for ${collection} has ${got} for ${keys.length} keys`, res.status);
    }
    return items as Array<T | null>;
  }

  /** Closes the kept-alive sockets (at shutdown). */
  close(): void {
    this.agent.destroy();
  }

  private statusError(res: RawResponse): RegistryError {
    const body = (res.body ?? {}) as { error?: unknown; message?: unknown };
    const code = typeof body.error === 'string' ? ` ${body.error}` : '';
    if (res.status === 401 || res.status === 403) {
      return new RegistryError(this.registry, `it refused the service key (HTTP ${res.status}); check REGISTRY_API_KEY`, res.status);
    }
    if (res.status === 400) {
      const detail = typeof body.message === 'string' ? `: ${body.message}` : '';
      return new RegistryError(this.registry, `it rejected the request (HTTP 400${code}${detail})`, res.status);
    }
    return new RegistryError(this.registry, `HTTP ${res.status}${code}`, res.status);
  }

  /** One registry call inside a CLIENT span (tracing on): registry, collection, key count, status; never a key. */
  private traced(method: 'GET' | 'POST', collection: string, keys: number, call: () => Promise<RawResponse>): Promise<RawResponse> {
    if (!this.tracing) return call();
    const route = method === 'GET' ? `/api/v1/${collection}/{key}` : `/api/v1/${collection}/batch`;
    return inSpan(
      this.tracing,
      `${method} registry ${this.registry} ${collection}`,
      { 'http.request.method': method, 'url.template': route, 'motlan.registry': this.registry, 'motlan.registry.collection': collection, 'motlan.registry.keys': keys },
      async (span) => {
        const res = await call();
        span?.setAttribute('http.response.status_code', res.status);
        return res;
      },
      SpanKind.CLIENT,
    );
  }

  private async request(method: 'GET' | 'POST', path: string, body?: string): Promise<RawResponse> {
    try {
      return await this.once(method, path, body);
    } catch (err) {
      // Both calls are reads, so one retry is safe when the server closed an idle
      // kept-alive socket under us; everything else fails at once.
      if (!(err instanceof StaleSocketError)) throw err;
    }
    try {
      return await this.once(method, path, body);
    } catch (err) {
      if (err instanceof StaleSocketError) throw new RegistryError(this.registry, `connection reset (${err.message})`);
      throw err;
    }
  }

  private once(method: 'GET' | 'POST', path: string, body?: string): Promise<RawResponse> {
    return new Promise<RawResponse>((resolve, reject) => {
      const headers: http.OutgoingHttpHeaders = { 'x-api-key': this.apiKey, accept: 'application/json' };
      if (this.tracing) injectContext(headers);
      if (body !== undefined) {
        headers['content-type'] = 'application/json';
        headers['content-length'] = Buffer.byteLength(body);
      }
      let settled = false;
      const finish = (fn: () => void): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        fn();
      };
      const req = this.transport.request(
        { method, hostname: this.hostname, port: this.port, path: this.basePath + path, headers, agent: this.agent },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', (e) => finish(() => reject(this.networkError(e, req.reusedSocket))));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown;
            try {
              parsed = text === '' ? null : JSON.parse(text);
            } catch {
              finish(() => reject(new RegistryError(this.registry, `invalid JSON in the response (HTTP ${res.statusCode})`, res.statusCode)));
              return;
            }
            finish(() => resolve({ status: res.statusCode ?? 0, body: parsed }));
          });
        },
      );
      const timer = setTimeout(() => {
        finish(() => reject(new RegistryError(this.registry, `timeout after ${this.timeoutMs} ms`)));
        req.destroy();
      }, this.timeoutMs);
      req.on('error', (e) => finish(() => reject(this.networkError(e, req.reusedSocket))));
      req.end(body);
    });
  }

  private networkError(err: Error, reusedSocket: boolean): Error {
    const code = (err as NodeJS.ErrnoException).code;
    if (reusedSocket && code !== undefined && STALE_SOCKET_CODES.has(code)) return new StaleSocketError(code);
    return new RegistryError(this.registry, code ? `cannot reach it (${code})` : `connection failed (${err.message})`);
  }
}

/** Internal marker: the call may be retried once on a fresh socket. */
class StaleSocketError extends Error {}
