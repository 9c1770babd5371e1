/**
 * Who may call a staff route (auditor API, statistics, console): the roles each reads, and the
 * guards that refuse a caller without them — 401 without a valid key, 403 without the role —
 * in the body shape of the error table (core/errors.ts).
 */
import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import type { ClientIdentity } from './context.js';
import { sendError } from './errors.js';
import type { ClientDirectory, ClientRole } from './services.js';

/** Roles that may read statistics: auditors, operators (console) and the monitoring system. */
export const STATS_ROLES: readonly ClientRole[] = ['auditor', 'operator', 'monitor'];
/** Roles that may open the console (the monitoring role reads the statistics API, not the console). */
export const CONSOLE_ROLES: readonly ClientRole[] = ['auditor', 'operator'];
/** Roles that may read the audit log through the auditor API. */
export const AUDIT_LOG_ROLES: readonly ClientRole[] = ['auditor'];

export interface StaffCaller {
  client: ClientIdentity;
  roles: ClientRole[];
}

/**
 * A preHandler for your own routes: refuses with 401/403 unless the caller's key
 * has `role`, and puts the client in `request.motlan.client`.
 */
export function requireRole(clients: ClientDirectory, role: ClientRole): preHandlerAsyncHookHandler {
  return async function (this: unknown, request: FastifyRequest, reply: FastifyReply) {
    const result = clients.authenticate(request.headers, { role });
    if (!result.ok) return sendError(request, reply, result.code, result.message, { status: result.status });
    request.motlan.client = result.client;
    return undefined;
  };
}

/**
 * Authenticates a staff caller holding ANY of `allowed`; on refusal sends 401/403 and
 * returns null (the handler then returns `reply`).
 */
export function requireAnyRole(
  clients: ClientDirectory,
  allowed: readonly ClientRole[],
  request: FastifyRequest,
  reply: FastifyReply,
): StaffCaller | null {
  const result = clients.authenticate(request.headers);
  if (!result.ok) {
    void sendError(request, reply, result.code, result.message, { status: result.status });
    return null;
  }
  if (!result.roles.some((r) => allowed.includes(r))) {
    void sendError(
      request,
      reply,
      'FORBIDDEN',
      `Client "${result.client.id}" lacks a role this endpoint requires (one of: ${allowed.join(', ')}; it has: ${result.roles.join(', ')}). Ask the gateway operator for a staff key.`,
    );
    return null;
  }
  if (request.motlan) request.motlan.client = result.client;
  return { client: result.client, roles: result.roles };
}
