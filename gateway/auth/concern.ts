/**
 * Client authentication for `/graphql`: a Fastify `preHandler`, so a request
 * without a valid key is refused before its GraphQL document is even parsed.
 * The client identity goes into the request's MotlanContext for the later
 * concerns (purpose policy, limits, audit, metrics).
 *
 * Other endpoints (auditor API, console, stats) call `env.clients.authenticate`
 * themselves with the role they need, or use `requireRole` (gateway/core/access.ts).
 */
import { defineConcern } from '../core/concern.js';
import { isGraphQLRequest, sendError } from '../core/errors.js';
import { requireRole } from '../core/access.js';
import { ClientRegistry } from './clients.js';
import { admitRequest } from './trusted-documents.js';

/**
 * `/graphql` requires a key with the `client` role; a client restricted to trusted
 * documents may send only those (checked here, before any concern parses the document).
 * Loads the clients files (GatewayOptions.clientsFile, demoClientsFile) and provides them
 * to the other concerns as the `clients` service.
 */
export const authentication = defineConcern({
  name: 'auth',
  provides: ['clients'],
  create: ({ app, core, logger }) => {
    const clients = ClientRegistry.load(core);
    return {
      services: { clients },
      install: () => {
        const guard = requireRole(clients, 'client');
        if (core.production) {
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
          if (!verdict.ok) return sendError(request, reply, 'DOCUMENT_NOT_TRUSTED', verdict.message);
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
      },
    };
  },
});
