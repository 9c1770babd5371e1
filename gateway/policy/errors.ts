/**
 * GraphQL errors the policy and limit concerns throw from Apollo plugin hooks. Apollo
 * turns `extensions.http` into the HTTP status/headers of the response and strips it,
 * and the audit plugin sees these errors like any other (`didEncounterErrors`).
 */
import { HeaderMap } from '@apollo/server';
import { GraphQLError, type GraphQLErrorOptions } from 'graphql';

export type PolicyErrorCode =
  | 'FORBIDDEN' | 'UNAUTHENTICATED' | 'BAD_USER_INPUT' | 'NOT_FOUND' | 'RATE_LIMITED' | 'LIMIT_EXCEEDED' | 'BAD_REQUEST'
  | 'OPERATION_RESOLUTION_FAILURE' | 'GRAPHQL_VALIDATION_FAILED';

const STATUS: Record<PolicyErrorCode, number> = {
  FORBIDDEN: 403,
  UNAUTHENTICATED: 401,
  BAD_USER_INPUT: 400,
  NOT_FOUND: 404,
  RATE_LIMITED: 429,
  LIMIT_EXCEEDED: 400,
  BAD_REQUEST: 400,
  OPERATION_RESOLUTION_FAILURE: 400,
  GRAPHQL_VALIDATION_FAILED: 400,
};

export function policyError(
  code: PolicyErrorCode,
  message: string,
  extensions: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): GraphQLError {
  // Apollo reads `http.headers` as a Map (HeaderMap); typed loosely because other packages
  // (graphql-yoga, installed for the benchmark) augment GraphQLErrorExtensions differently.
  const ext: Record<string, unknown> = {
    ...extensions,
    code,
    http: { status: STATUS[code], headers: new HeaderMap(Object.entries(headers)) },
  };
  return new GraphQLError(message, { extensions: ext as unknown as GraphQLErrorOptions['extensions'] });
}

export const forbidden = (message: string, extensions?: Record<string, unknown>) => policyError('FORBIDDEN', message, extensions);

export function rateLimited(message: string, retryAfterSeconds: number, extensions: Record<string, unknown> = {}): GraphQLError {
  const retry = Math.max(1, Math.ceil(retryAfterSeconds));
  return policyError('RATE_LIMITED', message, { ...extensions, retryAfter: retry }, { 'retry-after': String(retry) });
}
