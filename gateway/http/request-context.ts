/**
 * First concern of the chain: request id and security headers, and the
 * `MotlanContext` every later concern shares. The context is created in
 * `onRequest`, so Fastify hooks (auth, limits, audit of refused requests) see it;
 * the Apollo context function returns it, and Apollo Server shallow-copies it per
 * operation, so its nested objects (trace, subject) stay shared with the hooks.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { newTrace, type MotlanContext } from '../core/context.js';
import { defineConcern } from '../core/concern.js';
import { applySecurityHeaders, securityHeaders } from './security-headers.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The request's MotlanContext (see gateway/core/context.ts). */
    motlan: MotlanContext;
  }
}

/**
 * Fastify `genReqId`: always a random UUID, generated here. The request id is the audit
 * record's id and is returned as X-Request-Id; a caller's own X-Request-Id never becomes it
 * (two clients could choose the same one, and one record would hide the other). The audit
 * trail keeps a well-formed caller value as the record's `clientRequestId`.
 */
export function genRequestId(_req: IncomingMessage): string {
  return randomUUID();
}

export function createContext(request: FastifyRequest): MotlanContext {
  return {
    requestId: request.id,
    receivedAt: Date.now(),
    client: null,
    purpose: null,
    subject: {},
    headers: request.headers,
    trace: newTrace(),
  };
}

/**
 * Security headers (helmet) with a strict same-origin CSP: the sandbox and the
 * console load only their own assets (closed government networks, no CDN).
 * GraphiQL and Chart.js set inline styles, hence `style-src 'unsafe-inline'`.
 * Computed once at start (security-headers.ts: @fastify/helmet rebuilds them per request).
 */
const SECURITY_HEADERS = securityHeaders({
  contentSecurityPolicy: {
    useDefaults: false,
    directives: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'", "'unsafe-inline'"],
      imgSrc: ["'self'", 'data:'],
      fontSrc: ["'self'", 'data:'],
      connectSrc: ["'self'"],
      workerSrc: ["'self'", 'blob:'],
      objectSrc: ["'none'"],
      baseUri: ["'self'"],
      frameAncestors: ["'none'"],
      formAction: ["'self'"],
    },
  },
  // The API is called cross-origin by TTHC systems' back ends, not browsers; keep CORP permissive for JSON.
  crossOriginResourcePolicy: { policy: 'same-site' },
});

async function installRequestContext(app: FastifyInstance): Promise<void> {
  app.decorateRequest('motlan', null as unknown as MotlanContext);
  app.addHook('onRequest', async (request, reply) => {
    applySecurityHeaders(reply.raw, SECURITY_HEADERS);
    request.motlan = createContext(request);
    void reply.header('x-request-id', request.id);
  });
}

export const requestContext = defineConcern({ name: 'request-context', create: ({ app }) => ({ install: () => installRequestContext(app) }) });
