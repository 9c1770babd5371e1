/**
 * How the procedure layer runs its operations: through the gateway's own request
 * pipeline (Apollo Server `executeOperation`) with the caller's context, so
 * authentication, purpose policy, caching and audit apply to the fetched data like
 * to any client query.
 *
 * The inner execution gets a context derived from the outer one: the same client,
 * headers, request id and `trace` objects (so the registries and field coordinates
 * it touches land in the outer request's single audit record), the purpose and
 * subject of the prefill, and `internalOf` pointing back at the outer context so the
 * audit plugin skips writing a second record for it (see `isInternalExecution`).
 */
import type { ApolloServer, GraphQLRequest } from '@apollo/server';
import type { MotlanContext, Purpose, Subject } from './context.js';

/** One GraphQL error as the executor reports it (formatted, JSON-like). */
export interface ExecutionError {
  message: string;
  path?: ReadonlyArray<string | number>;
  extensions?: Record<string, unknown>;
}

export interface ExecutionResult {
  data?: Record<string, unknown> | null;
  errors?: ReadonlyArray<ExecutionError>;
}

export interface InnerRequest {
  query: string;
  operationName?: string;
  variables?: Record<string, unknown>;
}

/** Runs an operation through the gateway pipeline with the given context. */
export type InnerExecutor = (request: InnerRequest, context: MotlanContext) => Promise<ExecutionResult>;

/** Marks an inner execution: the context it runs with points at the outer request's context. */
export interface InternalContext extends MotlanContext {
  internalOf: MotlanContext;
  /**
   * True for relation checks (`MotlanSubjectRelations`): what they read are identifiers
   * the gateway compares and drops, never part of the response, so they are not counted
   * as returned entities (gateway/disclosure). Set only by `identifierLookupContext`.
   */
  identifiersOnly?: true;
}

/** True for operations the gateway runs on behalf of a request (prefill's inner queries). */
export function isInternalExecution(context: MotlanContext): context is InternalContext {
  return (context as Partial<InternalContext>).internalOf !== undefined;
}

/** The outer request of an inner execution (the context itself for a client request). */
export function outerContext(context: MotlanContext): MotlanContext {
  return isInternalExecution(context) ? context.internalOf : context;
}

/**
 * The context of an inner execution: shares every object of the outer one (client,
 * headers, trace), with the prefill's purpose and subject.
 */
export function innerContext(outer: MotlanContext, purpose: Purpose, subject: Subject): InternalContext {
  const root = outerContext(outer);
  // Object.assign, not a spread followed by properties: the latter is a slow path in V8.
  return Object.assign({}, root, { purpose, subject, internalOf: root });
}

/**
 * The context of a relation check: the inner context, marked as reading identifiers that
 * do not leave the gateway. An outer (client) context is returned as is: only inner
 * executions, which server code alone builds, can be exempted from the entity record.
 */
export function identifierLookupContext(context: MotlanContext): MotlanContext {
  return isInternalExecution(context) ? Object.assign({}, context, { identifiersOnly: true as const }) : context;
}

/** True for an inner execution whose answer does not leave the gateway (relation checks). */
export function readsIdentifiersOnly(context: MotlanContext): boolean {
  return isInternalExecution(context) && context.identifiersOnly === true;
}

/** An executor over an Apollo Server (the gateway's): `executeOperation` with our context. */
export function apolloExecutor(server: () => ApolloServer<MotlanContext>): InnerExecutor {
  return async (request, context) => {
    const response = await server().executeOperation(request as GraphQLRequest, { contextValue: context });
    if (response.body.kind !== 'single') {
      throw new Error('An inner operation returned an incremental (@defer/@stream) result, which prefill does not use.');
    }
    const r = response.body.singleResult;
    return {
      data: (r.data ?? null) as Record<string, unknown> | null,
      errors: r.errors?.map((e) => ({
        message: e.message,
        path: e.path as ReadonlyArray<string | number> | undefined,
        extensions: e.extensions as Record<string, unknown> | undefined,
      })),
    };
  };
}
