/**
 * Request and document limits as a gateway concern, enforced in Fastify hooks before
 * Apollo Server parses or validates anything (validation of an alias bomb is itself the
 * expensive part, so limits must come first):
 *
 *  - onRequest: a declared Content-Length above maxBodyBytes → 413, body never read;
 *  - preParsing: a streamed body is counted and cut at maxBodyBytes → 413;
 *  - preHandler: batched arrays above maxBatchedOperations, then each document's size,
 *    tokens, depth, aliases, root fields, directives and cost → 400 LIMIT_EXCEEDED.
 *
 * Every refusal names the limit and its value, e.g.
 * `Query depth limit exceeded: maxDepth is 12, this request has 40.`
 * Verdicts are cached per document text (most clients send the same few operations).
 */
import { sha256 } from '../../lib/sha256.js';
import { Transform } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { SupergraphSource } from '../core/supergraph.js';
import { LRUCache } from 'lru-cache';
import { defineConcern } from '../core/concern.js';
import { errorBody, isGraphQLRequest, sendError } from '../core/errors.js';
import { checkDocument, parseWithinLimits, type LimitViolation } from './document-limits.js';
import { loadLimits, type DocumentLimits } from './options.js';

const GRAPHQL_PATH = '/graphql';

function refuse(request: FastifyRequest, reply: FastifyReply, status: 400 | 413, v: Pick<LimitViolation, 'limit' | 'max' | 'message'> & { actual?: number }) {
  return sendError(request, reply, 'LIMIT_EXCEEDED', v.message, { status, extensions: { limit: { name: v.limit, max: v.max, ...(v.actual !== undefined ? { actual: v.actual } : {}) } } });
}

/** `GatewayOptions.limits`: overrides of the defaults of gateway/limits/options.ts. */
export type LimitsSetting = Partial<DocumentLimits>;

function bodyTooLarge(max: number, actual?: number) {
  return {
    limit: 'maxBodyBytes' as const,
    max,
    actual,
    message: `Request body too large: maxBodyBytes is ${max} bytes${actual !== undefined ? `, this request declares ${actual}` : ''}. Send one operation with its variables; large payloads do not belong in a lookup.`,
  };
}

/** Checks document texts against the limits, caching verdicts by text. */
export class DocumentLimiter {
  private readonly verdicts = new LRUCache<string, LimitViolation | 'ok'>({ max: 2000 });
  constructor(
    readonly limits: DocumentLimits,
    private readonly schema: () => import('graphql').GraphQLSchema | null | undefined = () => null,
  ) {}

  /** Forget cached verdicts (the schema changed, so costs may differ). */
  reset(): void {
    this.verdicts.clear();
  }

  check(query: string): LimitViolation | null {
    if (query.length > this.limits.maxDocumentChars) {
      // Not cached: an attacker could otherwise fill the cache with huge keys.
      const parsed = parseWithinLimits(query, this.limits);
      return parsed && 'violation' in parsed ? parsed.violation : null;
    }
    const key = query.length > 256 ? sha256(query, 'base64') : query;
    const hit = this.verdicts.get(key);
    if (hit) return hit === 'ok' ? null : hit;
    const parsed = parseWithinLimits(query, this.limits);
    // Syntax errors are Apollo's to report (GRAPHQL_PARSE_FAILED); only limits are ours.
    const verdict = parsed === null ? null : 'violation' in parsed ? parsed.violation : checkDocument(parsed.document, this.limits, this.schema() ?? undefined);
    this.verdicts.set(key, verdict ?? 'ok');
    return verdict;
  }
}

export const documentLimits = defineConcern({
  name: 'document-limits',
  slice: 'limits',
  options: (own: LimitsSetting | undefined, { env }) => loadLimits(own ?? {}, env),
  create: ({ own: limits, app, supergraph }) => ({
    // Arrays of operations only when the operator raised limits.maxBatchedOperations.
    apolloSettings: { allowBatchedHttpRequests: limits.maxBatchedOperations > 1 },
    install: () => installLimits(app, supergraph, limits),
  }),
});

function installLimits(app: FastifyInstance, supergraph: SupergraphSource, limits: DocumentLimits): void {
  const limiter = new DocumentLimiter(limits, () => supergraph.apiSchema());
  supergraph.onChange(() => limiter.reset());

  // The GraphQL route is registered after every concern: give it our body limit.
  app.addHook('onRoute', (route) => {
    if (route.url === GRAPHQL_PATH) route.bodyLimit = limits.maxBodyBytes;
  });

  app.addHook('onRequest', async (request, reply) => {
    if (!isGraphQLRequest(request)) return undefined;
    const declared = Number(request.headers['content-length']);
    if (Number.isFinite(declared) && declared > limits.maxBodyBytes) {
      // Do not read the rest of a body we refuse.
      void reply.header('connection', 'close');
      return refuse(request, reply, 413, bodyTooLarge(limits.maxBodyBytes, declared));
    }
    return undefined;
  });

  app.addHook('preParsing', async (request, _reply, payload) => {
    if (!isGraphQLRequest(request)) return payload;
    let seen = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        seen += chunk.length;
        if (seen > limits.maxBodyBytes) {
          const v = bodyTooLarge(limits.maxBodyBytes);
          done(Object.assign(new Error(v.message), { statusCode: 413, code: 'LIMIT_EXCEEDED' }));
        } else done(null, chunk);
      },
    });
    payload.on('error', (err) => counter.destroy(err));
    return payload.pipe(counter);
  });

  app.addHook('preHandler', async (request, reply) => {
    if (!isGraphQLRequest(request)) return undefined;
    const queries: unknown[] = [];
    if (request.method === 'GET') {
      const q = (request.query as Record<string, unknown> | undefined)?.query;
      if (Array.isArray(q)) {
        return sendError(request, reply, 'BAD_REQUEST', 'Send the query parameter once.');
      }
      queries.push(q);
    } else if (Array.isArray(request.body)) {
      if (request.body.length > limits.maxBatchedOperations) {
        return refuse(request, reply, 400, {
          limit: 'maxBatchedOperations',
          max: limits.maxBatchedOperations,
          actual: request.body.length,
          message: limits.maxBatchedOperations === 1
            ? `Batched requests are refused: maxBatchedOperations is 1, this request has ${request.body.length} operations. Send one operation per request.`
            : `Too many operations in one batch: maxBatchedOperations is ${limits.maxBatchedOperations}, this request has ${request.body.length}.`,
        });
      }
      for (const op of request.body) queries.push((op as { query?: unknown } | null)?.query);
    } else if (request.body && typeof request.body === 'object') {
      queries.push((request.body as { query?: unknown }).query);
    }
    for (const q of queries) {
      if (typeof q !== 'string') continue; // Apollo Server explains a missing or non-string query
      const v = limiter.check(q);
      if (v) return refuse(request, reply, 400, v);
    }
    return undefined;
  });
}
