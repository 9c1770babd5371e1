/**
 * Error codes the gateway answers with, the JSON body used when a request is
 * refused before GraphQL runs (Fastify hooks), and the production error mask.
 */
import type { GraphQLFormattedError } from 'graphql';

/** Codes of ARCHITECTURE.md: their messages are written for clients and stay visible in production. */
export const PUBLIC_ERROR_CODES = new Set([
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'BAD_USER_INPUT',
  'NOT_FOUND',
  'RATE_LIMITED',
  'AUDIT_UNAVAILABLE',
  'REGISTRY_UNAVAILABLE',
  'LIMIT_EXCEEDED',
  // Apollo Server's own, about the client's document: useful and contain no internals.
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_REQUEST',
  'OPERATION_RESOLUTION_FAILURE',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
]);

/** Extension keys that may leave the gateway in production (others may hold URLs or stacks). */
const PUBLIC_EXTENSION_KEYS = new Set(['code', 'registry', 'registries', 'retryAfter', 'requestId', 'procedureId', 'field', 'fields', 'limit', 'coordinate', 'reason']);

/** A GraphQL response body carrying one error: what Fastify hooks send when they refuse a request. */
export function errorBody(code: string, message: string, extensions: Record<string, unknown> = {}): {
  errors: GraphQLFormattedError[];
} {
  return { errors: [{ message, extensions: { code, ...extensions } }] };
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
  return (formatted: GraphQLFormattedError, _error: unknown): GraphQLFormattedError => {
    if (!production) return formatted;
    const code = typeof formatted.extensions?.code === 'string' ? formatted.extensions.code : 'INTERNAL_SERVER_ERROR';
    const extensions: Record<string, unknown> = {};
    if (PUBLIC_ERROR_CODES.has(code)) {
      for (const [k, v] of Object.entries(formatted.extensions ?? {})) if (PUBLIC_EXTENSION_KEYS.has(k)) extensions[k] = v;
      return { message: scrubInternals(formatted.message), ...pathAndLocations(formatted), extensions };
    }
    return {
      message: 'Internal error in the gateway; the operator can find it in the logs by the X-Request-Id of this response.',
      ...pathAndLocations(formatted),
      extensions: { code: 'INTERNAL_SERVER_ERROR' },
    };
  };
}

function pathAndLocations(f: GraphQLFormattedError): Pick<GraphQLFormattedError, 'path' | 'locations'> {
  return { ...(f.path ? { path: f.path } : {}), ...(f.locations ? { locations: f.locations } : {}) };
}
