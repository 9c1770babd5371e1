/**
 * THE error table of the gateway: for every code it answers with, the HTTP status, whether its
 * message is written for clients (kept in production) or masked, and the audit/metrics outcome
 * class. Every place that refuses a request reads it: GraphQL errors thrown from Apollo plugins
 * (`gatewayError`), Fastify hooks and routes (`sendError`), the production mask (`makeFormatError`),
 * Fastify's error handler (`errorHandler`) and the outcome rule (core/outcome.ts).
 *
 * Body shape, one rule: on `/graphql` a GraphQL response `{ errors: [{ message, extensions: { code } }] }`
 * (what GraphQL clients parse); on every other route `{ error: <code>, message }`.
 */
import { HeaderMap } from '@apollo/server';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { GraphQLError, type GraphQLErrorOptions, type GraphQLFormattedError } from 'graphql';
import { isRefusalReason, REFUSAL_REASONS, type RefusalReason } from './reasons.js';

/** How a code counts in the audit record, the metrics and the statistics (core/outcome.ts). */
export type OutcomeClass = 'UNAUTHENTICATED' | 'DENIED' | 'INVALID' | 'ERROR';

export interface ErrorSpec {
  /** HTTP status when the code refuses the whole request. */
  status: number;
  /** True: the message is written for clients and stays visible in production; false: masked. */
  public: boolean;
  /** Outcome class of a request refused with this code. */
  outcome: OutcomeClass;
}

export const ERROR_TABLE = {
  UNAUTHENTICATED: { status: 401, public: true, outcome: 'UNAUTHENTICATED' },
  FORBIDDEN: { status: 403, public: true, outcome: 'DENIED' },
  DOCUMENT_NOT_TRUSTED: { status: 403, public: true, outcome: 'DENIED' },
  RATE_LIMITED: { status: 429, public: true, outcome: 'DENIED' },
  BAD_USER_INPUT: { status: 400, public: true, outcome: 'INVALID' },
  NOT_FOUND: { status: 404, public: true, outcome: 'INVALID' },
  LIMIT_EXCEEDED: { status: 400, public: true, outcome: 'INVALID' },
  // Apollo Server's own, about the client's document: useful and contain no internals.
  GRAPHQL_PARSE_FAILED: { status: 400, public: true, outcome: 'INVALID' },
  GRAPHQL_VALIDATION_FAILED: { status: 400, public: true, outcome: 'INVALID' },
  BAD_REQUEST: { status: 400, public: true, outcome: 'INVALID' },
  OPERATION_RESOLUTION_FAILURE: { status: 400, public: true, outcome: 'INVALID' },
  PERSISTED_QUERY_NOT_FOUND: { status: 400, public: true, outcome: 'INVALID' },
  PERSISTED_QUERY_NOT_SUPPORTED: { status: 400, public: true, outcome: 'INVALID' },
  AUDIT_UNAVAILABLE: { status: 503, public: true, outcome: 'ERROR' },
  // Next to the other registries' data: the response is a partial 200.
  REGISTRY_UNAVAILABLE: { status: 200, public: true, outcome: 'ERROR' },
  STATS_UNAVAILABLE: { status: 503, public: true, outcome: 'ERROR' },
  INTERNAL_SERVER_ERROR: { status: 500, public: false, outcome: 'ERROR' },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERROR_TABLE;

/** The reason of an error whose refusal named none, per code (each maps back to its code in REFUSAL_REASONS). */
export const DEFAULT_REASONS = {
  UNAUTHENTICATED: 'API_KEY_INVALID',
  FORBIDDEN: 'NOT_PERMITTED',
  DOCUMENT_NOT_TRUSTED: 'DOCUMENT_NOT_TRUSTED',
  RATE_LIMITED: 'REQUEST_RATE_EXCEEDED',
  BAD_USER_INPUT: 'INVALID_ARGUMENT',
  NOT_FOUND: 'RESOURCE_NOT_FOUND',
  LIMIT_EXCEEDED: 'REQUEST_LIMIT_EXCEEDED',
  GRAPHQL_PARSE_FAILED: 'SYNTAX_ERROR',
  GRAPHQL_VALIDATION_FAILED: 'INVALID_DOCUMENT',
  BAD_REQUEST: 'MALFORMED_REQUEST',
  OPERATION_RESOLUTION_FAILURE: 'OPERATION_NOT_RESOLVED',
  PERSISTED_QUERY_NOT_FOUND: 'PERSISTED_QUERY_UNKNOWN',
  PERSISTED_QUERY_NOT_SUPPORTED: 'PERSISTED_QUERY_UNSUPPORTED',
  AUDIT_UNAVAILABLE: 'AUDIT_STORE_UNAVAILABLE',
  REGISTRY_UNAVAILABLE: 'REGISTRY_UNAVAILABLE',
  STATS_UNAVAILABLE: 'STATS_STORE_UNAVAILABLE',
  INTERNAL_SERVER_ERROR: 'INTERNAL_ERROR',
} as const satisfies Record<ErrorCode, RefusalReason>;

/**
 * The `extensions.reason` an error with `code` answers: `given` when it is a documented reason,
 * else the code's default (an unknown code is an internal error's).
 */
export function reasonOf(code: unknown, given: unknown): RefusalReason {
  if (isRefusalReason(given)) return given;
  return typeof code === 'string' && Object.hasOwn(DEFAULT_REASONS, code) ? DEFAULT_REASONS[code as ErrorCode] : 'INTERNAL_ERROR';
}

// Compile-time: every reason of the enum refines a code of this table.
const _reasonsNameCodes: Readonly<Record<RefusalReason, ErrorCode>> = REFUSAL_REASONS;
void _reasonsNameCodes;

/** The spec of a code; unknown codes are internal (masked, 500). */
export function errorSpec(code: string): ErrorSpec {
  return (ERROR_TABLE as Record<string, ErrorSpec>)[code] ?? ERROR_TABLE.INTERNAL_SERVER_ERROR;
}

/** Codes whose messages are written for clients and stay visible in production. */
export const PUBLIC_ERROR_CODES: ReadonlySet<string> = new Set(Object.entries(ERROR_TABLE).filter(([, s]) => s.public).map(([c]) => c));

/** Codes of the given outcome class (core/outcome.ts). */
export function codesOfOutcome(outcome: OutcomeClass): ReadonlySet<string> {
  return new Set(Object.entries(ERROR_TABLE).filter(([, s]) => s.outcome === outcome).map(([c]) => c));
}

/** Extension keys that may leave the gateway in production (others may hold URLs or stacks). */
const PUBLIC_EXTENSION_KEYS = new Set(['code', 'registry', 'registries', 'retryAfter', 'requestId', 'procedureId', 'field', 'fields', 'limit', 'coordinate', 'reason']);

/** A GraphQL response body carrying one error: what Fastify hooks send when they refuse a /graphql request. */
export function errorBody(code: string, message: string, extensions: Record<string, unknown> = {}): {
  errors: GraphQLFormattedError[];
} {
  return { errors: [{ message, extensions: { code, ...extensions, reason: reasonOf(code, extensions.reason) } }] };
}

const URL_RE = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>)]+/gi;
const HOST_PORT_RE = /(?:\[[0-9a-f:]+\]|\b(?:localhost|\d{1,3}(?:\.\d{1,3}){3}|[a-z0-9-]+(?:\.[a-z0-9-]+)+)):\d{2,5}\b/gi;
const PATH_RE = /(?:\/[\w.-]+){2,}\.(?:[cm]?[jt]s)\b(?::\d+(?::\d+)?)?/g;

/** Removes URLs, host:port pairs and source paths from a message. */
export function scrubInternals(message: string): string {
  return message.replace(URL_RE, '[internal address]').replace(HOST_PORT_RE, '[internal address]').replace(PATH_RE, '[internal path]');
}

/**
 * Apollo Server `formatError`. In production: no stack traces, no internal URLs
 * or hostnames; errors whose code is not public become a generic internal error
 * (the full error is logged by Apollo Server / Fastify, with the request id).
 * In development errors pass through unchanged, to help debugging.
 */
export function makeFormatError(production: boolean) {
  return (given: GraphQLFormattedError, _error: unknown): GraphQLFormattedError => {
    // Every error carries a reason from the enum (core/reasons.ts): the refusal's own, else its code's default.
    const formatted: GraphQLFormattedError = { ...given, extensions: { ...given.extensions, reason: reasonOf(given.extensions?.code, given.extensions?.reason) } };
    if (!production) return formatted;
    const code = typeof formatted.extensions?.code === 'string' ? formatted.extensions.code : 'INTERNAL_SERVER_ERROR';
    const extensions: Record<string, unknown> = {};
    if (PUBLIC_ERROR_CODES.has(code)) {
      for (const [k, v] of Object.entries(formatted.extensions ?? {})) if (PUBLIC_EXTENSION_KEYS.has(k)) extensions[k] = v;
      return { message: scrubInternals(formatted.message), ...pathAndLocations(formatted), extensions };
    }
    return {
      message: MASKED_MESSAGE,
      ...pathAndLocations(formatted),
      extensions: { code: 'INTERNAL_SERVER_ERROR', reason: 'INTERNAL_ERROR' },
    };
  };
}

function pathAndLocations(f: GraphQLFormattedError): Pick<GraphQLFormattedError, 'path' | 'locations'> {
  return { ...(f.path ? { path: f.path } : {}), ...(f.locations ? { locations: f.locations } : {}) };
}

/** True when the request targets the GraphQL endpoint (where client auth applies). */
export function isGraphQLRequest(request: FastifyRequest): boolean {
  return request.routeOptions.url === '/graphql';
}

/** The body of a refusal, in the route's shape (see the header of this file). */
export function refusalBody(request: FastifyRequest, code: string, message: string, extensions: Record<string, unknown> = {}): object {
  return isGraphQLRequest(request) ? errorBody(code, message, extensions) : { error: code, message, ...extensions };
}

/**
 * Refuses a request from a Fastify hook or route with the code's status (or `status`, for the
 * few codes whose status depends on the case, e.g. 413 LIMIT_EXCEEDED) and the route's body shape.
 */
export function sendError(
  request: FastifyRequest,
  reply: FastifyReply,
  code: ErrorCode,
  message: string,
  opts: { extensions?: Record<string, unknown>; status?: number; headers?: Record<string, string> } = {},
): FastifyReply {
  if (code === 'UNAUTHENTICATED') void reply.header('www-authenticate', 'Bearer realm="motlan"');
  for (const [k, v] of Object.entries(opts.headers ?? {})) void reply.header(k, v);
  return reply
    .code(opts.status ?? ERROR_TABLE[code].status)
    .type(isGraphQLRequest(request) ? graphqlResponseType(request.headers.accept) : 'application/json; charset=utf-8')
    .send(refusalBody(request, code, message, opts.extensions));
}

const GRAPHQL_RESPONSE_JSON = 'application/graphql-response+json';

/**
 * The media type of a GraphQL response for this Accept header, chosen as Apollo Server
 * chooses it for the responses it writes itself (negotiator: higher q wins, then the
 * client's order), so a refusal made before Apollo (401, 413, 429 …) is typed like one
 * made inside it: `application/graphql-response+json` when the client prefers it (GraphQL
 * over HTTP: it tells a client that a 4xx body is a GraphQL response), else
 * `application/json`, also when there is no Accept header (legacy clients) or only a wildcard.
 */
export function graphqlResponseType(accept: string | undefined): string {
  const JSON_TYPE = 'application/json; charset=utf-8';
  if (!accept) return JSON_TYPE;
  const best = { graphql: { q: 0, at: Infinity }, json: { q: 0, at: Infinity } };
  accept.split(',').forEach((part, at) => {
    const [type = '', ...params] = part.split(';').map((p) => p.trim().toLowerCase());
    const qParam = params.find((p) => p.startsWith('q='));
    const q = qParam ? Number(qParam.slice(2)) : 1;
    if (!Number.isFinite(q)) return;
    const slot = type === GRAPHQL_RESPONSE_JSON ? best.graphql : type === 'application/json' ? best.json : undefined;
    if (slot && (q > slot.q || (q === slot.q && at < slot.at))) Object.assign(slot, { q, at });
  });
  const { graphql, json } = best;
  return graphql.q > 0 && (graphql.q > json.q || (graphql.q === json.q && graphql.at < json.at)) ? `${GRAPHQL_RESPONSE_JSON}; charset=utf-8` : JSON_TYPE;
}

/**
 * A GraphQL error for Apollo plugin hooks, carrying the code's HTTP status. Apollo turns
 * `extensions.http` into the status/headers of the response and strips it; the audit plugin
 * sees it like any other error (`didEncounterErrors`).
 */
export function gatewayError(code: ErrorCode, message: string, extensions: Record<string, unknown> = {}, headers: Record<string, string> = {}): GraphQLError {
  // Apollo reads `http.headers` as a Map (HeaderMap); typed loosely because other packages
  // (graphql-yoga, installed for the benchmark) augment GraphQLErrorExtensions differently.
  const ext: Record<string, unknown> = {
    ...extensions,
    code,
    http: { status: ERROR_TABLE[code].status, headers: new HeaderMap(Object.entries(headers)) },
  };
  return new GraphQLError(message, { extensions: ext as unknown as GraphQLErrorOptions['extensions'] });
}

/** Codes the purpose policy and the limits throw from Apollo plugins. */
export type PolicyErrorCode =
  | 'FORBIDDEN' | 'UNAUTHENTICATED' | 'BAD_USER_INPUT' | 'NOT_FOUND' | 'RATE_LIMITED' | 'LIMIT_EXCEEDED' | 'BAD_REQUEST'
  | 'OPERATION_RESOLUTION_FAILURE' | 'GRAPHQL_VALIDATION_FAILED';

export const policyError = (code: PolicyErrorCode, message: string, extensions: Record<string, unknown> = {}, headers: Record<string, string> = {}): GraphQLError =>
  gatewayError(code, message, extensions, headers);

export const forbidden = (message: string, extensions?: Record<string, unknown>) => gatewayError('FORBIDDEN', message, extensions);

export function rateLimited(message: string, retryAfterSeconds: number, extensions: Record<string, unknown> = {}): GraphQLError {
  const retry = Math.max(1, Math.ceil(retryAfterSeconds));
  return gatewayError('RATE_LIMITED', message, { ...extensions, retryAfter: retry }, { 'retry-after': String(retry) });
}

const MASKED_MESSAGE = 'Internal error in the gateway; the operator can find it in the logs by the X-Request-Id of this response.';

/** Fastify's error handler (errors thrown by routes and body parsing), in the table's terms. */
export function errorHandler(production: boolean) {
  return (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const status = error.statusCode && error.statusCode >= 400 ? error.statusCode : 500;
    if (status >= 500) request.log.error({ err: error }, 'Request failed');
    const message = status >= 500 && production ? MASKED_MESSAGE : production ? scrubInternals(error.message) : error.message;
    const code = status === 413 ? 'LIMIT_EXCEEDED' : status >= 500 ? 'INTERNAL_SERVER_ERROR' : 'BAD_REQUEST';
    if (isGraphQLRequest(request)) void reply.type(graphqlResponseType(request.headers.accept));
    return reply.code(status).send(refusalBody(request, code, message));
  };
}
