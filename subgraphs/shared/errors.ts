/**
 * The GraphQL errors the subgraphs raise. Codes are part of the contract with the
 * gateway (docs/ARCHITECTURE.md): it counts them, audits them and decides from
 * REGISTRY_UNAVAILABLE that a partial result is still worth returning.
 */
import { GraphQLError } from 'graphql';
import { VALIDATORS, type IdentifierKind } from '../../lib/identifiers.js';
import type { RegistryName } from '../../lib/registries.js';
import { registryLabel } from './registries.js';

/** A malformed argument; the message must say what the expected format is. */
export function badUserInput(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT' } });
}

/**
 * The upstream registry failed, timed out or answered nonsense. `cause` is a short
 * reason without internal URLs (clients see it), e.g. "timeout after 2000 ms".
 */
export function registryUnavailable(registry: RegistryName, cause: string): GraphQLError {
  return new GraphQLError(`${registryLabel(registry)} is unavailable: ${cause}`, {
    extensions: { code: 'REGISTRY_UNAVAILABLE', registry },
  });
}

/** Throws BAD_USER_INPUT naming the format unless `value` is a valid identifier of `kind`. */
export function assertIdentifier(kind: IdentifierKind, value: unknown): string {
  const problem = VALIDATORS[kind](value);
  if (problem !== null) throw badUserInput(problem);
  return value as string;
}
