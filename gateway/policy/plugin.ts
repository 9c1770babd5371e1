/**
 * Purpose binding and subject binding, as one Apollo Server plugin acting in
 * `didResolveOperation`: after parsing and validation, before the query planner calls
 * any subgraph. Every refusal is a GraphQLError (FORBIDDEN 403, BAD_USER_INPUT 400,
 * NOT_FOUND 404, UNAUTHENTICATED 401), so the audit plugin records it like any outcome.
 *
 * Rules, in order:
 * 1. Fields served by the catalog subgraph (`procedures`, `procedure`) need no purpose.
 * 2. `prefill(procedureId, subject)` needs a client allowed to run that procedure (and to
 *    reach its registries) and, for clients with `requireSubjectToken`, a subject token for
 *    that citizen and procedure. The operations prefill runs inside the same request are
 *    then held to that procedure's fields.
 * 3. Any other registry field needs `X-Purpose: <procedure id>` naming a procedure the client
 *    may run, and may only select the fields that procedure's catalog entry reads (plus
 *    entity keys and __typename); the rest is refused, naming the fields.
 * 4. The identifiers looked up are validated, bound to the subject token when the client
 *    requires one, and related to each other (enterprise, parcel, relative) like prefill's.
 * 5. `explore` (the developer sandbox) lifts rules 2-4, outside production only.
 *
 * The plugin records what it learnt in the request's context: `purpose` and `subject`.
 * Apollo Server hands plugins a shallow copy of the context object, so `subject` is
 * filled in place (the Fastify-level object sees it too) while `purpose` is visible to
 * the plugins and resolvers of the operation (the audit plugin reads it there).
 */
import type { ApolloServerPlugin, GraphQLRequestContextDidResolveOperation } from '@apollo/server';
import { GraphQLError, type GraphQLSchema } from 'graphql';
import type { ClientIdentity, MotlanContext, Subject } from '../context.js';
import { innerContext, isInternalExecution, type InnerExecutor } from '../procedures/executor.js';
import { RELATION_COORDINATES, assertRelated, checkSubjectRelations } from '../procedures/relations.js';
import { analyzeOperation, rootArguments, type OperationAnalysis } from './analyze.js';
import { forbidden, policyError } from './errors.js';
import { SUBJECT_TOKEN_HEADER, isProcedureId, purposeFromHeaders, singleHeader } from './purpose.js';
import { collectSubjects, toSubject } from './subjects.js';
import {
  SubjectTokenError,
  createSubjectTokenVerifier,
  type SubjectTokenOptions,
  type SubjectTokenVerifier,
} from './subject-token.js';
import { indexSupergraph, registriesOf, type SupergraphIndex } from './supergraph-index.js';

/**
 * Throws (FORBIDDEN, NOT_FOUND, REGISTRY_UNAVAILABLE) unless the subjects are related.
 */
export type RelationChecker = (subject: Subject, context: MotlanContext) => Promise<void>;

/**
 * Prefill's own relation checks (gateway/procedures/relations.ts), run through `execute`
 * (the gateway's pipeline) with an internal context carrying the request's purpose.
 */
export function prefillRelationChecks(execute: InnerExecutor): RelationChecker {
  return async (subject, context) => {
    const inner = innerContext(context, context.purpose!, subject);
    assertRelated(await checkSubjectRelations(subject, execute, inner), subject);
  };
}

/** Relation queries read identifiers only; inner operations may always select them. */
const RELATION_FIELDS: ReadonlySet<string> = new Set(Object.values(RELATION_COORDINATES).flat());

export interface PurposePolicyOptions {
  /**
   * Schema coordinates the procedure's compiled operation selects, or undefined for an
   * unknown procedure (gateway/procedures `procedureFieldCoordinates`). Required.
   */
  procedureFieldCoordinates: (procedureId: string) => ReadonlySet<string> | undefined;
  /**
   * Relation checks for plain queries naming several subjects (a citizen and a relative,
   * an enterprise or a parcel), usually `prefillRelationChecks(executor)`. Required: pass
   * `false` only in unit tests of the other rules.
   */
  checkRelations: RelationChecker | false;
  /** The subject token verifier, or options to build one. Default: from SUBJECT_TOKEN_* env. */
  subjectTokens?: SubjectTokenVerifier | SubjectTokenOptions;
  /** Production mode: no `explore`, no `*` procedures, no introspection. Default NODE_ENV === 'production'. */
  production?: boolean;
  /** Subgraphs whose fields are catalog metadata, readable without a purpose. Default ['procedures']. */
  catalogSubgraphs?: string[];
  /** Coordinate of the prefill root field. Default `Query.prefill`. */
  prefillCoordinate?: string;
  /**
   * Supergraph SDL to index (field owners, entity keys). Default: the SDL the gateway loads,
   * received through `schemaDidLoadOrUpdate` (and again on every hot reload).
   */
  supergraphSdl?: string;
}

/** Whether the client may run the procedure (`*` counts only outside production). */
export function mayRun(client: ClientIdentity, procedureId: string, production: boolean): boolean {
  return client.procedures.includes(procedureId) || (!production && client.procedures.includes('*'));
}

interface PrefillArgs {
  procedureId: string;
  personalId: string | undefined;
  dossierId: string | null;
  subject: Subject;
}

export function purposePolicyPlugin(opts: PurposePolicyOptions): ApolloServerPlugin<MotlanContext> {
  const production = opts.production ?? process.env.NODE_ENV === 'production';
  const catalog = new Set(opts.catalogSubgraphs ?? ['procedures']);
  const prefillCoordinate = opts.prefillCoordinate ?? 'Query.prefill';
  const verify = typeof opts.subjectTokens === 'function'
    ? opts.subjectTokens
    : createSubjectTokenVerifier(opts.subjectTokens ?? {});
  let index: SupergraphIndex = opts.supergraphSdl
    ? indexSupergraph(opts.supergraphSdl)
    : { fieldOwners: new Map(), keyFields: new Set() };
  const checkRelations = opts.checkRelations === false ? null : opts.checkRelations;

  const isCatalog = (coordinate: string) => {
    const owners = index.fieldOwners.get(coordinate);
    return owners !== undefined && owners.length > 0 && owners.every((g) => catalog.has(g));
  };

  /** Registry fields of the operation not allowed for the procedure (memoised per operation). */
  const disallowedFor = (analysis: OperationAnalysis, procedureId: string, allowed: ReadonlySet<string>, internal = false) => {
    const key = `fields:${internal ? 'internal:' : ''}${procedureId}`;
    let hit = analysis.memo.get(key) as string[] | undefined;
    if (!hit) {
      hit = [...analysis.coordinates]
        .filter((c) => !isCatalog(c) && !allowed.has(c) && !index.keyFields.has(c) && !(internal && RELATION_FIELDS.has(c)))
        .sort();
      analysis.memo.set(key, hit);
    }
    return hit;
  };

  const checkRegistries = (client: ClientIdentity, coordinates: Iterable<string>, what: string) => {
    if (!client.registries) return;
    const needed = registriesOf(index, coordinates, catalog);
    const outside = [...needed].filter((r) => !client.registries!.includes(r)).sort();
    if (outside.length > 0) {
      throw forbidden(
        `${what} reads the ${outside.join(', ')} registr${outside.length > 1 ? 'ies' : 'y'}, which client ${client.id} may not reach (allowed: ${client.registries.join(', ') || 'none'}).`,
        { reason: 'REGISTRY_NOT_ALLOWED', registries: outside },
      );
    }
  };

  const requireToken = async (
    ctx: MotlanContext,
    client: ClientIdentity,
    procedureId: string,
    personalId: string | undefined,
    dossierId: string | null,
  ): Promise<string | undefined> => {
    if (!client.requireSubjectToken) return personalId;
    const token = singleHeader(ctx.headers, SUBJECT_TOKEN_HEADER);
    if (!token) {
      throw forbidden(
        `Client ${client.id} must prove the citizen asked for this procedure: send X-Subject-Token with the token the identity provider (e-ID) issued for this citizen and procedure "${procedureId}".`,
        { reason: 'SUBJECT_TOKEN_MISSING' },
      );
    }
    try {
      const verified = await verify(token, { procedureId, personalId, clientId: client.id, dossierId });
      return verified.personalId;
    } catch (err) {
      if (err instanceof SubjectTokenError) throw forbidden(`Subject token refused: ${err.reason}.`, { reason: 'SUBJECT_TOKEN_INVALID' });
      throw err;
    }
  };

  const procedureCoordinates = (procedureId: string) => {
    const coordinates = opts.procedureFieldCoordinates(procedureId);
    if (!coordinates) {
      throw policyError('NOT_FOUND', `Unknown procedure "${procedureId}": list the catalog with { procedures { id name } }.`, { reason: 'UNKNOWN_PROCEDURE' });
    }
    return coordinates;
  };

  const readPrefillArgs = (schema: GraphQLSchema, analysis: OperationAnalysis, variables: Record<string, unknown> | undefined): PrefillArgs[] | null => {
    const roots = rootArguments(schema, analysis, variables);
    if (!roots) return null;
    return roots.filter((r) => r.use.coordinate === prefillCoordinate).map(({ args }) => {
      const s = (args.subject ?? {}) as Record<string, unknown>;
      const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
      const subject: Subject = {};
      if (str(s.personalId)) subject.personalId = str(s.personalId);
      if (str(s.relatedPersonalId)) subject.relatedPersonalId = str(s.relatedPersonalId);
      if (str(s.enterpriseCode)) subject.enterpriseCode = str(s.enterpriseCode);
      if (str(s.parcelId)) subject.parcelId = str(s.parcelId);
      return { procedureId: String(args.procedureId ?? ''), personalId: subject.personalId, dossierId: str(args.dossierId) ?? null, subject };
    });
  };

  async function check(rc: GraphQLRequestContextDidResolveOperation<MotlanContext>): Promise<void> {
    const ctx = rc.contextValue;
    const analysis = analyzeOperation(rc.schema, rc.document, rc.request.operationName);
    // Graphql-js validation lets these through and the query planner would fail with a 500.
    if (!analysis) {
      const name = rc.request.operationName;
      throw policyError('OPERATION_RESOLUTION_FAILURE', name
        ? `Unknown operation named "${String(name).slice(0, 64)}": operationName must name an operation of the document.`
        : 'The document holds several operations (or none): send operationName to say which one to run.');
    }
    if (!rc.schema.getRootType(analysis.operation.operation)) {
      throw policyError('GRAPHQL_VALIDATION_FAILED', `This graph has no ${analysis.operation.operation} operations: it answers queries only (lookups by identifier).`);
    }
    const client = ctx.client;

    if (analysis.introspection && production) {
      throw forbidden('Introspection is disabled in production; the schema is published as schema/supergraph.graphql.', { reason: 'INTROSPECTION_DISABLED' });
    }
    const registryFields = [...analysis.coordinates].filter((c) => !isCatalog(c));
    const prefills = analysis.rootFields.filter((r) => r.coordinate === prefillCoordinate);

    // An operation the gateway runs on behalf of an authorised request (prefill's compiled
    // operation, relation checks): only server code builds such contexts. It may read what
    // its procedure declares plus the identifiers relation checks need, nothing else.
    if (isInternalExecution(ctx)) {
      const procedureId = ctx.purpose?.procedureId;
      if (!procedureId) throw forbidden('An internal operation ran without a purpose.', { reason: 'PURPOSE_MISSING' });
      const extra = disallowedFor(analysis, procedureId, procedureCoordinates(procedureId), true);
      if (extra.length > 0) throw forbidden(fieldsMessage(procedureId, extra), { reason: 'FIELDS_NOT_ALLOWED', fields: extra });
      return;
    }

    if (registryFields.length === 0 && prefills.length === 0) return; // catalog or introspection only
    if (!client) throw policyError('UNAUTHENTICATED', 'Registry data needs an authenticated client: send Authorization: Bearer <api key>.');

    if (prefills.length > 0) {
      if (prefills.length > 1) throw forbidden('One prefill per request: send each procedure and citizen as its own request.', { reason: 'TOO_MANY_SUBJECTS' });
      if (registryFields.length > 0) {
        throw forbidden('Send prefill and plain registry queries as separate requests: each carries its own purpose.', { reason: 'MIXED_PURPOSES' });
      }
      const args = readPrefillArgs(rc.schema, analysis, rc.request.variables)?.[0];
      if (!args) return; // invalid variables: execution refuses them before any subgraph call
      if (!isProcedureId(args.procedureId)) return; // prefill answers NOT_FOUND itself
      if (!mayRun(client, args.procedureId, production)) {
        throw forbidden(`Client ${client.id} may not run procedure "${args.procedureId}" (allowed: ${client.procedures.join(', ') || 'none'}).`, { reason: 'PROCEDURE_NOT_ALLOWED' });
      }
      const coordinates = opts.procedureFieldCoordinates(args.procedureId);
      if (coordinates) checkRegistries(client, coordinates, `Procedure "${args.procedureId}"`);
      await requireToken(ctx, client, args.procedureId, args.personalId, args.dossierId);
      // Recorded on the outer context for the audit; prefill builds its inner contexts itself.
      ctx.purpose = { procedureId: args.procedureId, dossierId: args.dossierId };
      Object.assign(ctx.subject, args.subject);
      return;
    }

    const purpose = purposeFromHeaders(ctx.headers);
    const exploring = !production && client.permissions.includes('explore');
    if (purpose) ctx.purpose = purpose;
    const roots = rootArguments(rc.schema, analysis, rc.request.variables);
    if (!roots) return; // invalid variables: execution refuses them before any subgraph call
    const named = collectSubjects(roots);

    if (exploring) {
      Object.assign(ctx.subject, toSubjectLenient(named));
      return;
    }
    if (!purpose) {
      const shown = registryFields.slice(0, 5).join(', ') + (registryFields.length > 5 ? ', …' : '');
      throw forbidden(
        `This query reads registry data (${shown}) without a declared purpose: send X-Purpose: <procedure id> (and X-Dossier-Id when there is a dossier), or use prefill.`,
        { reason: 'PURPOSE_MISSING' },
      );
    }
    if (!mayRun(client, purpose.procedureId, production)) {
      throw forbidden(`Client ${client.id} may not run procedure "${purpose.procedureId}" (allowed: ${client.procedures.join(', ') || 'none'}).`, { reason: 'PROCEDURE_NOT_ALLOWED' });
    }
    const extra = disallowedFor(analysis, purpose.procedureId, procedureCoordinates(purpose.procedureId));
    if (extra.length > 0) throw forbidden(fieldsMessage(purpose.procedureId, extra), { reason: 'FIELDS_NOT_ALLOWED', fields: extra });
    checkRegistries(client, registryFields, 'This query');

    const tokenSubject = await requireToken(ctx, client, purpose.procedureId, named.personalIds[0], purpose.dossierId);
    const subject = toSubject(named, client.requireSubjectToken ? tokenSubject : undefined);
    Object.assign(ctx.subject, subject);
    if (checkRelations && (subject.relatedPersonalId || subject.enterpriseCode || subject.parcelId)) {
      try {
        await checkRelations(subject, ctx);
      } catch (err) {
        throw withHttpStatus(err);
      }
    }
  }

  return {
    async serverWillStart() {
      return {
        schemaDidLoadOrUpdate({ coreSupergraphSdl }) {
          if (coreSupergraphSdl && !opts.supergraphSdl) index = indexSupergraph(coreSupergraphSdl);
        },
      };
    },
    async requestDidStart() {
      return { didResolveOperation: check };
    },
  };
}

/** Exploring developers get their subject recorded for the audit, without the limits. */
function toSubjectLenient(named: ReturnType<typeof collectSubjects>): Subject {
  const s: Subject = {};
  if (named.personalIds[0]) s.personalId = named.personalIds[0];
  if (named.personalIds[1]) s.relatedPersonalId = named.personalIds[1];
  if (named.enterpriseCodes[0]) s.enterpriseCode = named.enterpriseCodes[0];
  if (named.parcelIds[0]) s.parcelId = named.parcelIds[0];
  return s;
}

const STATUS_OF_CODE: Record<string, number> = { FORBIDDEN: 403, NOT_FOUND: 404, BAD_USER_INPUT: 400, REGISTRY_UNAVAILABLE: 503, UNAUTHENTICATED: 401 };

/** Errors of the relation checks carry a code but no HTTP status; refusals must not be 500s. */
function withHttpStatus(err: unknown): unknown {
  if (!(err instanceof GraphQLError)) return err;
  const code = String(err.extensions.code ?? '');
  if ((err.extensions.http as { status?: number } | undefined)?.status) return err;
  return new GraphQLError(err.message, {
    extensions: { ...err.extensions, http: { status: STATUS_OF_CODE[code] ?? 403 } },
  });
}

function fieldsMessage(procedureId: string, fields: string[]): string {
  const shown = fields.slice(0, 20).join(', ') + (fields.length > 20 ? ` and ${fields.length - 20} more` : '');
  return `Fields not allowed for purpose "${procedureId}": ${shown}. The procedure's catalog entry does not need them (data minimisation); select only the fields it declares.`;
}
