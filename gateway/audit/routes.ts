/**
 * The auditor API, under `/audit/v1` (role `auditor`; TTHC clients get 403,
 * callers without a key 401). Personal IDs never travel in URLs, where proxies
 * and access logs would keep them: they go in the `X-Subject-Personal-Id` header
 * (`X-Subject-Enterprise-Code`, `X-Subject-Parcel-Id` for the other subjects) and
 * the gateway turns them into the HMAC the records hold.
 *
 *   GET /audit/v1/records            search (filters, `limit`, `cursor`) → {items, nextCursor}
 *   GET /audit/v1/count              how many records match → {count}
 *   GET /audit/v1/records/:instance/:seq   one record in full, with its hash check
 *   GET /audit/v1/requests/:requestId      the record of an X-Request-Id
 *   GET /audit/v1/verify             chain and signature verification of the whole store
 *   GET /audit/v1/export?format=csv|jsonl   export (verifiable with `motlan audit verify`)
 *   GET /audit/v1/citizen-history    what a citizen portal (VNeID) would show for a personal ID
 *   GET /audit/v1/keys               public keys of the checkpoint signatures
 *   GET /audit/v1/checkpoints/latest the newest signed checkpoint of every chain, for auditors to
 *                                    fetch and pin (`motlan audit verify --witness <url|saved file>`)
 */
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { ClientDirectory as ClientRegistry } from '../core/services.js';
import { requireRole } from '../core/access.js';
import { refusalBody } from '../core/errors.js';
import { validateEnterpriseCode, validateParcelId, validatePersonalId } from '../../lib/identifiers.js';
import { csvHeader, toCsvRow, toJsonLine } from './export-format.js';
import { exportLines } from './export.js';
import type { SubjectHasher } from './keys.js';
import { chainHash, contentHash, genesisHash, OUTCOMES, type AuditRecord, type Checkpoint, type Outcome } from './record.js';
import { WITNESS_FORMAT, type WitnessedCheckpoint } from './witness.js';
import { verifyStore } from './sources.js';
import type { AuditFilter, AuditStore, SearchCursor } from './store.js';
import type { VerifyReport } from './verify.js';

export interface AuditRoutesOptions {
  store: AuditStore;
  hasher: SubjectHasher;
  clients: ClientRegistry;
  /** URL prefix. Default: `/audit/v1`. */
  prefix?: string;
  procedureName?: (procedureId: string) => string | null;
  /** The newest signed checkpoint of every chain. Default: the store's `lastCheckpoint` of each chain. */
  latestCheckpoints?: () => Promise<Checkpoint[]>;
  /** Witnessed checkpoints `/verify` holds the store against (the gateway's witness file). Default: none. */
  witness?: () => Promise<WitnessedCheckpoint[]>;
}

class BadRequest extends Error {}

const timeParam = z
  .string()
  .transform((s, ctx) => {
    const n = /^\d+$/.test(s) ? Number(s) : Date.parse(s);
    if (!Number.isFinite(n)) {
      ctx.addIssue({ code: 'custom', message: 'must be ms since the epoch or an ISO date-time (e.g. 2025-07-01T00:00:00+07:00)' });
      return z.NEVER;
    }
    return n;
  })
  .optional();

const filterQuery = z.object({
  from: timeParam,
  to: timeParam,
  clientId: z.string().min(1).max(128).optional(),
  agency: z.string().min(1).max(256).optional(),
  procedureId: z.string().min(1).max(128).optional(),
  registry: z.string().min(1).max(64).optional(),
  instanceId: z.string().min(1).max(100).optional(),
  requestId: z.string().min(1).max(128).optional(),
  clientRequestId: z
    .string()
    .regex(/^[A-Za-z0-9._:-]{1,64}$/, 'must be the X-Request-Id a client sent: 1-64 letters, digits, ".", "_", ":" or "-"')
    .optional(),
  outcome: z
    .string()
    .transform((s, ctx) => {
      const list = s.split(',').map((x) => x.trim().toUpperCase()).filter(Boolean);
      const bad = list.filter((o) => !(OUTCOMES as readonly string[]).includes(o));
      if (bad.length) {
        ctx.addIssue({ code: 'custom', message: `unknown outcome ${bad.join(', ')}: use ${OUTCOMES.join(', ')} (comma-separated)` });
        return z.NEVER;
      }
      return list as Outcome[];
    })
    .optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().max(400).optional(),
  format: z.enum(['csv', 'jsonl']).optional(),
});

const FORBIDDEN_IN_URL = ['personalId', 'personal_id', 'relatedPersonalId', 'subject', 'cccd'];

export function encodeCursor(c: SearchCursor): string {
  return Buffer.from(JSON.stringify([c.ts, c.instanceId, c.seq])).toString('base64url');
}

export function decodeCursor(s: string): SearchCursor {
  try {
    const [ts, instanceId, seq] = JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as [number, string, number];
    if (typeof ts === 'number' && typeof instanceId === 'string' && typeof seq === 'number') return { ts, instanceId, seq };
  } catch {
    /* fall through */
  }
  throw new BadRequest('cursor is not one this API returned: pass nextCursor from the previous page unchanged.');
}

function header(request: FastifyRequest, name: string): string | undefined {
  const v = request.headers[name];
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;
}

/** The subject HMAC named by the X-Subject-* headers, validated. */
function subjectFilter(request: FastifyRequest, hasher: SubjectHasher): string | undefined {
  for (const key of Object.keys(request.query as object)) {
    if (FORBIDDEN_IN_URL.includes(key)) {
      throw new BadRequest(
        `"${key}" must not be sent in the URL, where proxies and access logs keep it: send the personal ID in the X-Subject-Personal-Id header.`,
      );
    }
  }
  const given = [
    ['personal', header(request, 'x-subject-personal-id'), validatePersonalId],
    ['enterprise', header(request, 'x-subject-enterprise-code'), validateEnterpriseCode],
    ['parcel', header(request, 'x-subject-parcel-id'), validateParcelId],
  ] as const;
  const present = given.filter(([, v]) => v !== undefined);
  if (present.length > 1) throw new BadRequest('Search by one subject at a time: send only one X-Subject-* header.');
  const [kind, value, validate] = present[0] ?? [];
  if (!kind || value === undefined) return undefined;
  const problem = validate(value);
  if (problem) throw new BadRequest(problem);
  return hasher(kind, value);
}

function parseQuery(request: FastifyRequest) {
  const parsed = filterQuery.safeParse(request.query);
  if (!parsed.success) throw new BadRequest(`Invalid query: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

function toFilter(q: z.infer<typeof filterQuery>, subjectHmac: string | undefined): AuditFilter {
  const f: AuditFilter = {};
  if (q.from !== undefined) f.from = q.from;
  if (q.to !== undefined) f.to = q.to;
  if (q.clientId) f.clientId = q.clientId;
  if (q.agency) f.agency = q.agency;
  if (q.procedureId) f.procedureId = q.procedureId;
  if (q.registry) f.registry = q.registry;
  if (q.instanceId) f.instanceId = q.instanceId;
  if (q.requestId) f.requestId = q.requestId;
  if (q.clientRequestId) f.clientRequestId = q.clientRequestId;
  if (q.outcome?.length) f.outcomes = q.outcome;
  if (subjectHmac) f.subjectHmac = subjectHmac;
  return f;
}

/** Integrity of one record on its own: its hash, and its link to the previous record. */
async function integrityOf(store: AuditStore, r: AuditRecord) {
  const hashMatches = chainHash(r.prevHash, contentHash(r)) === r.hash;
  const prev = r.seq > 1 ? await store.get(r.instanceId, r.seq - 1) : null;
  const anchor = await store.anchor(r.instanceId);
  const expectedPrev = r.seq === 1 ? genesisHash(r.instanceId) : prev ? prev.hash : anchor?.seq === r.seq - 1 ? anchor.hash : null;
  return { hashMatches, linksToPrevious: expectedPrev === null ? null : expectedPrev === r.prevHash };
}

/** The verification report in the shape the console shows. */
function verificationBody(report: VerifyReport, at: number) {
  return {
    ok: report.ok,
    verifiedAt: new Date(at).toISOString(),
    chains: report.chains.map((c) => ({
      ...c,
      firstBad: c.problem ? { seq: c.problem.seq, kind: c.problem.kind, reason: c.problem.message } : null,
    })),
    warnings: report.warnings,
    /** The warnings structured, so the console can say them in the reader's language. */
    notices: report.notices,
  };
}

export function registerAuditRoutes(app: FastifyInstance, opts: AuditRoutesOptions): void {
  const prefix = opts.prefix ?? '/audit/v1';
  const { store, hasher } = opts;
  const guard = requireRole(opts.clients, 'auditor');
  const names = () => new Map(opts.clients.clients.map((c) => [c.id, c.name]));
  let verifying: Promise<ReturnType<typeof verificationBody>> | null = null;

  const handle =
    (fn: (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>) =>
    async (request: FastifyRequest, reply: FastifyReply) => {
      void reply.header('cache-control', 'no-store');
      try {
        return await fn(request, reply);
      } catch (err) {
        if (err instanceof BadRequest) return reply.code(400).send(refusalBody(request, 'BAD_USER_INPUT', err.message));
        throw err;
      }
    };
  const route = (url: string, fn: (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>) =>
    app.get(`${prefix}${url}`, { preHandler: guard }, handle(fn));

  route('/records', async (request) => {
    const q = parseQuery(request);
    const page = await store.search(toFilter(q, subjectFilter(request, hasher)), { limit: q.limit, after: q.cursor ? decodeCursor(q.cursor) : null });
    request.log.info({ auditor: request.motlan.client?.id, action: 'audit.search' }, 'audit log read');
    return { items: page.items, nextCursor: page.next ? encodeCursor(page.next) : null };
  });

  route('/count', async (request) => {
    const q = parseQuery(request);
    return { count: await store.count(toFilter(q, subjectFilter(request, hasher))) };
  });

  route('/records/:instanceId/:seq', async (request, reply) => {
    const { instanceId, seq } = request.params as { instanceId: string; seq: string };
    const n = Number(seq);
    if (!Number.isInteger(n) || n < 1) throw new BadRequest(`seq ${JSON.stringify(seq)} must be a positive integer.`);
    const record = await store.get(instanceId, n);
    if (!record) return reply.code(404).send(refusalBody(request, 'NOT_FOUND', `No audit record ${instanceId}/${n} (it may have been archived).`));
    request.log.info({ auditor: request.motlan.client?.id, action: 'audit.record', instanceId, seq: n }, 'audit log read');
    return { record, integrity: await integrityOf(store, record) };
  });

  route('/requests/:requestId', async (request, reply) => {
    const { requestId } = request.params as { requestId: string };
    const record = await store.byRequestId(requestId);
    if (!record) return reply.code(404).send(refusalBody(request, 'NOT_FOUND', `No audit record for request id ${JSON.stringify(requestId.slice(0, 64))}.`));
    return { record, integrity: await integrityOf(store, record) };
  });

  route('/verify', async (request) => {
    // Concurrent calls share one run: verification reads the whole store.
    verifying ??= (async () => verifyStore(store, opts.witness ? { witness: await opts.witness() } : {}))()
      .then((r) => verificationBody(r, Date.now()))
      .finally(() => {
        verifying = null;
      });
    request.log.info({ auditor: request.motlan.client?.id, action: 'audit.verify' }, 'audit log verified');
    return verifying;
  });

  route('/keys', async () => ({ keys: await store.publicKeys() }));

  route('/checkpoints/latest', async (request) => {
    const checkpoints = opts.latestCheckpoints
      ? await opts.latestCheckpoints()
      : (await Promise.all((await store.instances()).map((id) => store.lastCheckpoint(id)))).filter((c): c is Checkpoint => c !== null);
    request.log.info({ auditor: request.motlan.client?.id, action: 'audit.checkpoints' }, 'audit checkpoints read');
    return { format: WITNESS_FORMAT, fetchedAt: new Date().toISOString(), checkpoints };
  });

  route('/export', async (request, reply) => {
    const q = parseQuery(request);
    const format = q.format ?? (String(request.headers.accept ?? '').includes('text/csv') ? 'csv' : 'jsonl');
    const filter = toFilter(q, subjectFilter(request, hasher));
    request.log.info({ auditor: request.motlan.client?.id, action: 'audit.export', format }, 'audit log exported');
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    async function* body() {
      if (format === 'csv') yield csvHeader();
      for await (const line of exportLines(store, filter)) yield format === 'csv' ? toCsvRow(line) : toJsonLine(line);
    }
    return reply
      .type(format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8')
      .header('content-disposition', `attachment; filename="motlan-audit-${stamp}.${format}"`)
      .send(Readable.from(body()));
  });

  route('/citizen-history', async (request) => {
    const q = parseQuery(request);
    const personal = header(request, 'x-subject-personal-id');
    if (!personal) throw new BadRequest('Send the citizen\'s personal ID in the X-Subject-Personal-Id header (never in the URL).');
    const problem = validatePersonalId(personal);
    if (problem) throw new BadRequest(problem);
    const filter: AuditFilter = { subjectHmac: hasher('personal', personal), outcomes: ['OK', 'PARTIAL'] };
    if (q.from !== undefined) filter.from = q.from;
    if (q.to !== undefined) filter.to = q.to;
    const page = await store.search(filter, { limit: q.limit, after: q.cursor ? decodeCursor(q.cursor) : null });
    const clientNames = names();
    request.log.info({ auditor: request.motlan.client?.id, action: 'audit.citizen-history' }, 'citizen access history read');
    return {
      items: page.items.map((r) => ({
        ts: r.ts,
        time: new Date(r.ts).toISOString(),
        agency: r.agency,
        clientId: r.clientId,
        clientName: clientNames.get(r.clientId) ?? null,
        procedureId: r.procedureId,
        procedureName: r.procedureId ? (opts.procedureName?.(r.procedureId) ?? null) : null,
        dossierId: r.dossierId,
        registries: r.registries,
        /** Whether the citizen was the one asked about, or appeared as a relative / related party. */
        relation: r.subjects.some((s) => s.role === 'subject' && s.hmac === filter.subjectHmac) ? 'subject' : 'related',
        outcome: r.outcome,
        requestId: r.requestId,
      })),
      nextCursor: page.next ? encodeCursor(page.next) : null,
    };
  });
}
