/**
 * Client authentication for `/graphql`: a Fastify `preHandler`, so a request
 * without a valid key is refused before its GraphQL document is even parsed.
 * The client identity goes into the request's MotlanContext for the later
 * concerns (purpose policy, limits, audit, metrics).
 *
 * Other endpoints (auditor API, console, stats) call `env.clients.authenticate`
 * themselves with the role they need, or use `requireRole` below.
 */
import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import type { ConcernFactory } from '../core/concern.js';
import { isGraphQLRequest } from '../core/concern.js';
import { errorBody } from '../core/errors.js';
import type { ClientRegistry, ClientRole } from './clients.js';
import { admitRequest } from './trusted-documents.js';

/** Sends the refusal of `authenticate()` as a GraphQL-shaped JSON error. */
function refuse(reply: FastifyReply, status: 401 | 403, code: string, message: string): FastifyReply {
  if (status === 401) void reply.header('www-authenticate', 'Bearer realm="motlan"');
  return reply.code(status).type('application/json; charset=utf-8').send(errorBody(code, message));
}

/**
 * A preHandler for your own routes: refuses with 401/403 unless the caller's key
 * has `role`, and puts the client in `request.motlan.client`.
 */
export function requireRole(clients: ClientRegistry, role: ClientRole): preHandlerAsyncHookHandler {
  return async function (this: unknown, request: FastifyRequest, reply: FastifyReply) {
    const result = clients.authenticate(request.headers, { role });
    if (!result.ok) return refuse(reply, result.status, result.code, result.message);
    request.motlan.client = result.client;
    return undefined;
  };
}

/**
 * `/graphql` requires a key with the `client` role; a client restricted to trusted
 * documents may send only those (checked here, before any concern parses the document).
 */
export const authentication: ConcernFactory = ({ app, clients, options, logger }) => {
  const guard = requireRole(clients, 'client');
  if (options.production) {
    const free = clients.clients.filter((c) => c.roles?.includes('client') && !clients.trustedDocumentsOf(c.id)).map((c) => c.id);
    if (free.length > 0) {
      logger.warn(`Clients that may send free-form queries in production: ${free.join(', ')}. Restricting TTHC systems to trusted documents is recommended (docs/SECURITY.md).`);
    }
  }
  app.addHook('preHandler', async function (request, reply) {
    if (!isGraphQLRequest(request)) return undefined;
    const refused = await guard.call(this, request, reply);
    if (refused) return refused;
    const docs = request.motlan.client ? clients.trustedDocumentsOf(request.motlan.client.id) : null;
    if (!docs) return undefined;
    const verdict = admitRequest(request.method, request.body, request.query, docs);
    if (!verdict.ok) return refuse(reply, 403, 'DOCUMENT_NOT_TRUSTED', verdict.message);
    if (request.method === 'GET') {
      // Apollo reads a GET operation from the URL, not from the query string Fastify parsed
      // and admitRequest rewrote: rebuild the URL from the admitted parameters, so what runs
      // is exactly what was admitted (and no second parser reads the client's original URL).
      const params = new URLSearchParams();
      for (const [k, v] of Object.entries(request.query as Record<string, unknown>)) {
        for (const item of Array.isArray(v) ? v : [v]) if (typeof item === 'string') params.append(k, item);
      }
      request.raw.url = `${request.raw.url!.split('?')[0]}?${params.toString()}`;
    }
    return undefined;
  });
  return { name: 'auth' };
};
