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
import type { ConcernFactory } from '../concern.js';
import { isGraphQLRequest } from '../concern.js';
import { errorBody } from '../errors/index.js';
import type { ClientRegistry, ClientRole } from './clients.js';

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

/** `/graphql` requires a key with the `client` role. */
export const authentication: ConcernFactory = ({ app, clients }) => {
  const guard = requireRole(clients, 'client');
  app.addHook('preHandler', async function (request, reply) {
    if (!isGraphQLRequest(request)) return undefined;
    return guard.call(this, request, reply);
  });
  return { name: 'auth' };
};
