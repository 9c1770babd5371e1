/**
 * The web console for auditors and operators at `/console/`: statistics
 * dashboard, audit log browser, citizen access history. Served by the gateway
 * from files in this folder and npm packages only (closed networks: no CDN, no
 * external fonts), in Vietnamese with English available.
 *
 * Sign-in: the person enters the API key of a staff client (role `auditor` or
 * `operator`); the page keeps it in sessionStorage and sends it as a Bearer
 * token. Why not a session cookie: the key is then never sent automatically by
 * the browser, so there is no CSRF to defend against; nothing has to be stored
 * server-side (replicas stay stateless); closing the tab forgets it. The risk a
 * cookie would avoid — script reading the key — is closed by the strict CSP:
 * only this origin's own files run, no inline script at all.
 *
 * The page and its assets hold no data and are public; every API it calls
 * checks the key and the role.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ClientDirectory, ProcedureCatalog } from '../core/services.js';
import { AGENCY_TIER_LABELS, PROVINCIAL_UNITS } from '../../lib/provinces.js';
import { gzipSync } from 'node:zlib';
import { defineConcern } from '../core/concern.js';
import { AUDIT_LOG_ROLES, CONSOLE_ROLES, requireAnyRole, STATS_ROLES } from '../core/access.js';
import { sendError } from '../core/errors.js';
import { loadConsoleFiles, type ConsoleAsset } from './assets.js';
import { pageCsp } from '../core/csp.js';

export { AUDIT_LOG_ROLES, CONSOLE_ROLES } from '../core/access.js';

/**
 * Stricter than the gateway-wide policy: no inline styles either (Chart.js
 * styles its canvas through the CSSOM, which CSP does not restrict), no forms
 * posting anywhere, no framing.
 */
export const CONSOLE_CSP = pageCsp();

const PAGE_HEADERS = {
  'content-security-policy': CONSOLE_CSP,
  'cache-control': 'no-cache',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=(), payment=()',
};

export interface ConsoleOptions {
  /** URL prefix, ending with `/`. Default `/console/`. */
  path?: string;
}

const gzipCache = new WeakMap<ConsoleAsset, Buffer>();

function send(request: FastifyRequest, reply: FastifyReply, asset: ConsoleAsset, cacheControl: string): FastifyReply {
  void reply.headers({ ...PAGE_HEADERS, 'content-type': asset.contentType, 'cache-control': cacheControl, etag: asset.etag, vary: 'accept-encoding' });
  if (request.headers['if-none-match'] === asset.etag) return reply.code(304).send();
  const acceptsGzip = /\bgzip\b/.test(String(request.headers['accept-encoding'] ?? ''));
  if (acceptsGzip && asset.body.length > 1024) {
    let gz = gzipCache.get(asset);
    if (!gz) gzipCache.set(asset, (gz = gzipSync(asset.body, { level: 9 })));
    return reply.header('content-encoding', 'gzip').send(gz);
  }
  return reply.send(asset.body);
}

export const consoleConcern = defineConcern({
  name: 'console',
  slice: 'console',
  options: (own: ConsoleOptions | undefined) => {
    const prefix = own?.path ?? '/console/';
    if (!prefix.endsWith('/')) throw new Error(`Console path ${JSON.stringify(prefix)} must end with "/".`);
    return { prefix };
  },
  needs: ['clients'],
  // Procedure names for the log browser (read per request: the catalog may be reloaded).
  uses: ['procedures'],
  create: ({ own, app, services }) => ({ install: () => installConsole(app, services.need('clients'), () => services.use('procedures') ?? null, own.prefix) }),
});

/**
 * What the console shows instead of ids: client display names, procedure names (Vietnamese and
 * English), the 34 provincial units and the tiers. Nothing secret: names the clients file and
 * the catalog already publish to staff.
 */
export function consoleDirectory(clients: ClientDirectory, catalog: ProcedureCatalog | null) {
  return {
    clients: clients.clients.map((c) => ({ id: c.id, name: c.name, agency: c.agency, tier: c.tier ?? null, provinceCode: c.provinceCode ?? null })),
    procedures: (catalog?.ids() ?? []).sort().map((id) => ({ id, name: catalog!.name(id) ?? id, nameEn: catalog!.nameEn?.(id) ?? null })),
    provinces: PROVINCIAL_UNITS.map((u) => ({ code: u.code, name: u.name, nameEn: u.nameEn })),
    tiers: Object.entries(AGENCY_TIER_LABELS).map(([key, l]) => ({ key, label: l.label, labelEn: l.labelEn })),
  };
}

function installConsole(app: FastifyInstance, clients: ClientDirectory, catalog: () => ProcedureCatalog | null, prefix: string): void {
  // Read at startup so a broken install fails now, not on the first visit.
  const files = loadConsoleFiles();

  app.get(prefix.slice(0, -1), async (_request, reply) => reply.redirect(prefix, 301));
  app.get(prefix, async (request, reply) => send(request, reply, files.page, 'no-cache'));
  app.get(`${prefix}assets/:file`, async (request, reply) => {
    const { file } = request.params as { file: string };
    const asset = files.assets.get(file);
    if (!asset) return sendError(request, reply, 'NOT_FOUND', `No console asset named ${JSON.stringify(file)}.`);
    return send(request, reply, asset, 'public, max-age=31536000, immutable');
  });

  /** Who is signed in, and which parts of the console they may use. */
  app.get(`${prefix}api/session`, async (request, reply) => {
    const caller = requireAnyRole(clients, CONSOLE_ROLES, request, reply);
    if (!caller) return reply;
    return reply.header('cache-control', 'no-store').send({
      client: { id: caller.client.id, name: caller.client.name, agency: caller.client.agency },
      roles: caller.roles,
      can: {
        stats: caller.roles.some((r) => STATS_ROLES.includes(r)),
        auditLog: caller.roles.some((r) => AUDIT_LOG_ROLES.includes(r)),
      },
    });
  });

  /** Names for ids: clients, procedures, provinces, tiers (consoleDirectory). */
  app.get(`${prefix}api/directory`, async (request, reply) => {
    const caller = requireAnyRole(clients, CONSOLE_ROLES, request, reply);
    if (!caller) return reply;
    return reply.header('cache-control', 'no-store').send(consoleDirectory(clients, catalog()));
  });

}
