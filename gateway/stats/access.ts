/**
 * Staff access for the statistics API and the console: a valid API key whose
 * client has at least one of the allowed roles. TTHC clients (role `client`
 * only) get 403, callers without a valid key 401.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ClientRegistry, ClientRole } from '../auth/clients.js';
import type { ClientIdentity } from '../core/context.js';

export interface StaffCaller {
  client: ClientIdentity;
  roles: ClientRole[];
}

/**
 * Authenticates the request; on failure sends the 401/403 JSON error and returns
 * null (the handler must then return the reply).
 */
export function requireAnyRole(
  clients: ClientRegistry,
  allowed: readonly ClientRole[],
  request: FastifyRequest,
  reply: FastifyReply,
): StaffCaller | null {
  const result = clients.authenticate(request.headers);
  if (!result.ok) {
    if (result.status === 401) void reply.header('www-authenticate', 'Bearer realm="motlan"');
    void reply.code(result.status).send({ error: result.code, message: result.message });
    return null;
  }
  if (!result.roles.some((r) => allowed.includes(r))) {
    void reply.code(403).send({
      error: 'FORBIDDEN',
      message: `Client "${result.client.id}" lacks a role this endpoint requires (one of: ${allowed.join(', ')}; it has: ${result.roles.join(', ')}). Ask the gateway operator for a staff key.`,
    });
    return null;
  }
  if (request.motlan) request.motlan.client = result.client;
  return { client: result.client, roles: result.roles };
}
