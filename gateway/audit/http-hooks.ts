/**
 * The HTTP side of the audit trail: every request to the GraphQL endpoint gets a
 * draft on arrival and exactly one record just before its response leaves —
 * including those that never reach GraphQL execution (invalid JSON, 401, 413,
 * 429: the Fastify error paths all go through `onSend`).
 *
 * `onSend` awaits the group commit, so the response is sent only once its record
 * is durable. If the store cannot commit, the response is replaced by a 503
 * `AUDIT_UNAVAILABLE` error without any data (fail closed).
 */
import { performance } from 'node:perf_hooks';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ClientDirectory as ClientRegistry } from '../core/services.js';
import type { AuditDraft } from './draft.js';
import { AuditUnavailableError } from './log.js';
import type { AuditRecorder } from './recorder.js';
import { throttleSource, type FailureThrottle } from './throttle.js';
import { sendError } from '../core/errors.js';

export const AUDIT_UNAVAILABLE_MESSAGE =
  'The audit trail cannot record this request right now, so no data is shared (every data access must be recorded first). ' +
  'Retry in a moment; if it persists, the gateway operator must check the audit store.';

export function auditUnavailableBody(): { errors: Array<{ message: string; extensions: { code: string } }> } {
  return { errors: [{ message: AUDIT_UNAVAILABLE_MESSAGE, extensions: { code: 'AUDIT_UNAVAILABLE' } }] };
}

export interface AuditHookOptions {
  recorder: AuditRecorder;
  /** Which requests are GraphQL requests (one record each). */
  isGraphQLRequest: (request: FastifyRequest) => boolean;
  /** Resolves the client of a request refused before authentication ran (e.g. invalid JSON). */
  clients?: ClientRegistry;
  onAuditFailure?: (err: Error, request: FastifyRequest) => void;
  /** Throttling of failing sources (see throttle.ts); none: every request is recorded. */
  throttle?: FailureThrottle;
}

/** Error codes (and `extensions.reason`s) in a JSON error body the gateway produced without GraphQL. */
function codesOfBody(payload: unknown, status: number): { codes: string[]; reasons: string[] } {
  const none = { codes: [], reasons: [] };
  if (status < 400 || typeof payload !== 'string' || payload.length > 65_536) return none;
  try {
    const body = JSON.parse(payload) as { errors?: Array<{ extensions?: { code?: unknown; reason?: unknown } }>; error?: unknown; code?: unknown };
    const out: string[] = [];
    const reasons: string[] = [];
    for (const e of body.errors ?? []) {
      if (typeof e.extensions?.code === 'string') out.push(e.extensions.code);
      if (typeof e.extensions?.reason === 'string') reasons.push(e.extensions.reason);
    }
    if (out.length === 0 && typeof body.code === 'string') out.push(body.code);
    if (out.length === 0 && typeof body.error === 'string') out.push(body.error);
    return { codes: out, reasons };
  } catch {
    return none;
  }
}


function sizeOf(payload: unknown): number | null {
  if (payload === null || payload === undefined) return 0;
  if (typeof payload === 'string') return Buffer.byteLength(payload);
  if (Buffer.isBuffer(payload)) return payload.length;
  return null; // a stream: its size is not known here
}

export function registerAuditHooks(app: FastifyInstance, opts: AuditHookOptions): void {
  const { recorder } = opts;
  const drafts = new WeakMap<FastifyRequest, AuditDraft>();
  const recorded = new WeakSet<FastifyRequest>();
  const { throttle } = opts;

  app.addHook('onRequest', async (request, reply) => {
    if (!opts.isGraphQLRequest(request)) return;
    if (throttle && !(opts.clients?.authenticate(request.headers, { role: 'client' }).ok ?? true)) {
      // No valid key: this request fails whatever it asks (401, or 400 before auth ran). It is
      // counted against its address now, so a burst of concurrent ones is held to the limit.
      // A keyed request is never throttled here: a legitimate client may share the address.
      const source = throttleSource(request.ip);
      const bucket = throttle.throttledAs(source);
      if (bucket !== null) {
        throttle.count(bucket);
        recorded.add(request); // covered by the burst's summary record, not one of its own
        const retry = Math.max(1, Math.ceil(throttle.settings.windowMs / 1000));
        return sendError(
          request,
          reply,
          'RATE_LIMITED',
          `Too many failed requests from this address: requests without a valid API key are refused for up to ${retry} s. Send Authorization: Bearer <api key>.`,
          { extensions: { reason: 'SOURCE_THROTTLED', retryAfter: retry }, headers: { 'retry-after': String(retry) } },
        );
      }
      throttle.failed(source);
    }
    const d = recorder.open(request.id, request.motlan?.receivedAt ?? Date.now(), performance.now());
    d.context = request.motlan ?? null;
    drafts.set(request, d);
  });

  /** The draft of a request; opened late when an earlier hook answered before ours ran (e.g. a rate limit in onRequest). */
  const draftOf = (request: FastifyRequest, reply: FastifyReply): AuditDraft | undefined => {
    const d = drafts.get(request);
    if (d || recorded.has(request) || !opts.isGraphQLRequest(request)) return d;
    const late = recorder.open(request.id, request.motlan?.receivedAt ?? Date.now(), performance.now() - reply.elapsedTime);
    late.context = request.motlan ?? null;
    return late;
  };

  app.addHook('onSend', async (request: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    const draft = draftOf(request, reply);
    if (!draft || draft.sealed) return payload;
    drafts.delete(request);
    recorded.add(request);
    draft.context ??= request.motlan ?? null;
    const status = reply.statusCode;
    if (!draft.context?.client && status !== 401 && opts.clients) {
      // Refused before the auth hook ran (e.g. unparsable body): name the caller when its key is valid.
      const auth = opts.clients.authenticate(request.headers, { role: 'client' });
      if (auth.ok) draft.fallbackClient = auth.client;
    }
    try {
      const body = codesOfBody(payload, status);
      await recorder.record(draft, { httpStatus: status, responseBytes: sizeOf(payload), bodyCodes: body.codes, bodyReasons: body.reasons });
      void reply.header('x-request-id', request.id);
      return payload;
    } catch (err) {
      if (!(err instanceof AuditUnavailableError)) throw err;
      opts.onAuditFailure?.(err, request);
      void reply.code(503);
      void reply.header('content-type', 'application/json; charset=utf-8');
      void reply.header('retry-after', '5');
      void reply.header('x-request-id', request.id);
      reply.removeHeader('content-length');
      return JSON.stringify(auditUnavailableBody());
    }
  });

  // A client that disconnects before its response is sent still leaves a record of what ran.
  app.addHook('onRequestAbort', async (request) => {
    const draft = drafts.get(request);
    if (!draft || draft.sealed) return;
    drafts.delete(request);
    recorded.add(request);
    await recorder.record(draft, { httpStatus: 499, responseBytes: null, bodyCodes: ['CLIENT_CLOSED_REQUEST'] }).catch((err: Error) => {
      opts.onAuditFailure?.(err, request);
    });
  });

  app.addHook('onResponse', async (request) => {
    const draft = drafts.get(request);
    if (draft) recorder.forget(draft);
  });
}
