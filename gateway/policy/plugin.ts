/**
 * Purpose binding and subject binding, as one Apollo Server plugin acting in
 * `didResolveOperation`: after parsing and validation, before the query planner calls
 * any subgraph. Every refusal is a GraphQLError (FORBIDDEN 403, BAD_USER_INPUT 400,
 * NOT_FOUND 404, UNAUTHENTICATED 401), so the audit plugin records it like any outcome.
 *
 * Deny by default: whatever the analysis cannot decide (invalid variables, an identifier
 * that is null, absent or defaulted, a variable in a directive, an argument it does not
 * know, an operation it cannot resolve) is refused (UNDECIDABLE_REQUEST); no branch
 * returns early and lets execution proceed.
 *
 * Rules, in order:
 * 1. Fields served by the catalog subgraph (`procedures`, `procedure`) need no purpose.
 * 2. `prefill(procedureId, subject)` needs a client allowed to run that procedure (and to
 *    reach its registries) and, for clients with `requireSubjectToken`, a subject token for
 *    that citizen and procedure. The operations prefill runs inside the same request are
 *    then held to that procedure's path tree (plus the relation checks' identifiers).
 * 3. Any other registry field needs `X-Purpose: <procedure id>` naming a procedure the client
 *    may run, and may only select the PATHS that procedure's catalog entry reads, as deep as
 *    it reads them (plus entity keys and __typename at each of them); see allowed-paths.ts.
 *    Each root lookup enters the tree at the subject root its identifier plays.
 * 4. The identifiers looked up are validated, bound to the subject token when the client
 *    requires one, and related to each other (enterprise, parcel, relative) like prefill's;
 *    unknown and unrelated subjects get one refusal (SUBJECT_NOT_RELATED, no oracle), after
 *    the failed-lookup brake (gateway/ratelimit) has had its say.
 * 5. `explore` (the developer sandbox) lifts rules 2-4, outside production only.
 *
 * The plugin records what it learnt in the request's context: `purpose` and `subject`
 * (the latter only once verified). Apollo Server hands plugins a shallow copy of the
 * context object, so `subject` is filled in place (the Fastify-level object sees it too)
 * while `purpose` is visible to the plugins and resolvers of the operation (the audit
 * plugin reads it there).
 */
import { inSpan, processTracing } from '../../lib/tracing.js';
import type { RefusalReason } from '../core/reasons.js';
import type { ApolloServerPlugin, GraphQLRequestContextDidResolveOperation } from '@apollo/server';
import { GraphQLError, getNamedType, type GraphQLSchema } from 'graphql';
import { mayRunProcedure, type ClientIdentity, type MotlanContext, type Subject } from '../core/context.js';
import type { PathTree } from '../core/path-tree.js';
import { innerContext, isInternalExecution, type InnerExecutor } from '../core/inner-execution.js';
import { RELATION_PATHS, assertRelated, checkSubjectRelations, type RelatedSubject } from '../core/relations.js';
import { mergeTrees, pathsOutside, treeFromPaths } from './allowed-paths.js';
import { analyzeOperation, rootArguments, type OperationAnalysis, type RootArguments } from '../core/operation-analysis.js';
import { forbidden, policyError } from '../core/errors.js';
import { SUBJECT_TOKEN_HEADER, isProcedureId, purposeFromHeaders, singleHeader } from './purpose.js';
import { collectSubjects, rootsOfLookup, toSubject } from './subjects.js';
import {
  SubjectTokenError,
  createSubjectTokenVerifier,
  type SubjectTokenOptions,
  type SubjectTokenVerifier,
} from './subject-token.js';
import { indexSupergraph, registriesOf, type SupergraphIndex } from './supergraph-index.js';

/**
 * Throws (FORBIDDEN SUBJECT_NOT_RELATED, REGISTRY_UNAVAILABLE) unless the subjects are related.
 */
export type RelationChecker = (subject: Subject, context: MotlanContext) => Promise<void>;

/**
 * Prefill's own relation checks (gateway/core/relations.ts), run through `execute`
 * (the gateway's pipeline) with an internal context carrying the request's purpose.
 */
export function prefillRelationChecks(execute: InnerExecutor): RelationChecker {
  return async (subject, context) => {
    const inner = innerContext(context, context.purpose!, subject);
    assertRelated(await checkSubjectRelations(subject, execute, inner), subject);
  };
}

/** Which related subject each non-citizen root stands for (relation-check paths). */
const RELATED_OF_ROOT: Record<string, RelatedSubject | undefined> = {
  relatedCitizen: 'relatedPersonalId',
  enterprise: 'enterpriseCode',
  parcel: 'parcelId',
};

/** Reason codes this plugin refuses with (`extensions.reason`): a subset of core/reasons.ts, documented in docs/INTEGRATION.md. */
export const POLICY_REASONS = [
  'PURPOSE_MISSING', 'PROCEDURE_NOT_ALLOWED', 'UNKNOWN_PROCEDURE', 'FIELDS_NOT_ALLOWED', 'SUBJECT_NOT_DECLARED',
  'UNDECIDABLE_REQUEST', 'REGISTRY_NOT_ALLOWED', 'TOO_MANY_SUBJECTS', 'NO_SUBJECT', 'MIXED_PURPOSES',
  'SUBJECT_TOKEN_MISSING', 'SUBJECT_TOKEN_INVALID', 'SUBJECT_NOT_RELATED', 'INTROSPECTION_DISABLED', 'BATCHED_PURPOSE',
  'INVALID_IDENTIFIER', 'INVALID_HEADER',
] as const satisfies readonly RefusalReason[];

export interface PurposePolicyOptions {
  /**
   * The procedure's allowed path tree (gateway/procedures `procedurePathTree`), or
   * undefined for an unknown procedure. Required: it is what a purpose allows.
   */
  procedurePathTree: (procedureId: string) => PathTree | undefined;
  /**
   * Schema coordinates the procedure's compiled operation and relation checks select
   * (gateway/procedures `procedureFieldCoordinates`), for the registry allow-list of
   * prefill. Default: none (prefill's registries are then checked by its inner operations).
   */
  procedureFieldCoordinates?: (procedureId: string) => ReadonlySet<string> | undefined;
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
  /** Coordinate of the group prefill root field (argument `groupId`). Default `Query.prefillGroup`. */
  groupPrefillCoordinate?: string;
  /**
   * The procedures of an interconnected group (gateway/procedures `groupProcedures`), or
   * undefined when the id names no group. A group id is a purpose a client may run when it
   * lists the group id AND every procedure of the group. Default: no groups.
   */
  groupProcedures?: (id: string) => readonly string[] | null | undefined;
  /**
   * Supergraph SDL to index (field owners, entity keys). Default: the SDL the gateway loads,
   * received through `schemaDidLoadOrUpdate` (and again on every hot reload).
   */
  supergraphSdl?: string;
}


interface PrefillArgs {
  procedureId: string;
  personalId: string;
  dossierId: string | null;
  subject: Subject;
}

/** Outcome of the path check of one operation for one procedure and subject roles. */
interface PathVerdict {
  tree: PathTree;
  /** Paths outside the tree, e.g. `citizen.father.spouse`, sorted. */
  outside: string[];
  /** Subject roots the request enters at that the procedure does not declare. */
  undeclared: string[];
  /** Identifiers a lookup names that are not the request's subjects (internal operations only). */
  unmatched: boolean;
}

const undecidable = (message: string) => policyError('BAD_USER_INPUT', message, { reason: 'UNDECIDABLE_REQUEST' });

export function purposePolicyPlugin(opts: PurposePolicyOptions): ApolloServerPlugin<MotlanContext> {
  const production = opts.production ?? process.env.NODE_ENV === 'production';
  const catalog = new Set(opts.catalogSubgraphs ?? ['procedures']);
  const prefillCoordinate = opts.prefillCoordinate ?? 'Query.prefill';
  const groupCoordinate = opts.groupPrefillCoordinate ?? 'Query.prefillGroup';
  const isPrefill = (coordinate: string) => coordinate === prefillCoordinate || coordinate === groupCoordinate;
  /** A procedure the client may run; for a group id, the group and every procedure of it. */
  const mayRun = (client: ClientIdentity, id: string): boolean =>
    mayRunProcedure(client, id, production) && (opts.groupProcedures?.(id) ?? []).every((p) => mayRunProcedure(client, p, production));
  const verify = typeof opts.subjectTokens === 'function'
    ? opts.subjectTokens
    : createSubjectTokenVerifier(opts.subjectTokens ?? {});
  let index: SupergraphIndex = opts.supergraphSdl
    ? indexSupergraph(opts.supergraphSdl)
    : { fieldOwners: new Map(), keyFields: new Set() };
  const checkRelations = opts.checkRelations === false ? null : opts.checkRelations;
  // Per plugin instance (two gateways in one process do not share it); keyed by the tree
  // object, so a catalog reload (new trees) never reuses a stale merge.
  const internalTrees = new WeakMap<PathTree, PathTree>();

  const isCatalog = (coordinate: string) => {
    const owners = index.fieldOwners.get(coordinate);
    return owners !== undefined && owners.length > 0 && owners.every((g) => catalog.has(g));
  };
  const isKey = (typeName: string, field: string) => index.keyFields.has(`${typeName}.${field}`);

  /** The procedure's tree plus the identifier paths its relation checks read (internal operations). */
  const internalTree = (tree: PathTree): PathTree => {
    let hit = internalTrees.get(tree);
    if (!hit) {
      const paths = [...RELATION_PATHS.citizen];
      for (const root of tree.children.keys()) {
        const rel = RELATED_OF_ROOT[root];
        if (rel) paths.push(...RELATION_PATHS[rel]);
      }
      hit = mergeTrees(tree, treeFromPaths(paths));
      internalTrees.set(tree, hit);
    }
    return hit;
  };

  /**
   * The path check, memoised per document, operation, procedure (tree object) and the
   * subject roots each root field enters at: repeated requests cost one Map lookup.
   */
  const checkPaths = (
    schema: GraphQLSchema,
    analysis: OperationAnalysis,
    roots: RootArguments[],
    subject: Subject,
    procedureId: string,
    tree: PathTree,
    internal: boolean,
  ): PathVerdict => {
    const entries = roots.map(({ use, args }) => ({ use, at: isCatalog(use.coordinate) ? undefined : rootsOfLookup(use.coordinate, args, subject) }));
    const signature = entries.map((e) => (e.at === undefined ? 'c' : e.at === null ? 'x' : `${e.at.roots.join('+')}${e.at.unmatched.length ? '!' : ''}`)).join(';');
    const key = `paths:${internal ? 'i' : 'p'}:${procedureId}:${signature}`;
    const hit = analysis.memo.get(key) as PathVerdict | undefined;
    if (hit && hit.tree === tree) return hit;
    const allowed = internal ? internalTree(tree) : tree;
    const outside = new Set<string>();
    const undeclared = new Set<string>();
    let unmatched = false;
    const input = { schema, fragments: analysis.fragments, isKey };
    for (const { use, at } of entries) {
      if (at === undefined) continue; // catalog metadata (procedures, procedure)
      if (at === null || !use.node.selectionSet) {
        // household, socialInsurance, healthInsuranceCard, landParcelByCertificate, …: no
        // purpose tree reaches them (a tree would have to name the root to allow one).
        outside.add(use.name);
        continue;
      }
      if (at.unmatched.length > 0) unmatched = true;
      for (const root of at.roots) {
        const node = allowed.children.get(root);
        if (!node) {
          undeclared.add(root);
          continue;
        }
        pathsOutside(input, use.node.selectionSet, getNamedType(use.field.type), root, node, outside);
      }
    }
    const verdict: PathVerdict = { tree, outside: [...outside].sort(), undeclared: [...undeclared].sort(), unmatched };
    analysis.memo.set(key, verdict);
    return verdict;
  };

  const enforcePaths = (verdict: PathVerdict, procedureId: string) => {
    if (verdict.unmatched) {
      throw forbidden(`A lookup names an identifier that is not a subject of this request (purpose "${procedureId}").`, { reason: 'SUBJECT_NOT_DECLARED' });
    }
    if (verdict.undeclared.length > 0) {
      throw forbidden(
        `Purpose "${procedureId}" does not concern ${verdict.undeclared.map(describeRoot).join(' or ')}: its procedure reads nothing of them, so the request may not look them up (data minimisation).`,
        { reason: 'SUBJECT_NOT_DECLARED', roots: verdict.undeclared },
      );
    }
    if (verdict.outside.length > 0) {
      throw forbidden(fieldsMessage(procedureId, verdict.outside), { reason: 'FIELDS_NOT_ALLOWED', fields: verdict.outside });
    }
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

  const notAllowed = (id: string) => {
    const members = opts.groupProcedures?.(id);
    return members ? `group "${id}" (it needs the group id and each of ${members.join(', ')})` : `procedure "${id}"`;
  };

  const unknownProcedure = (procedureId: string) =>
    policyError('NOT_FOUND', `Unknown procedure "${procedureId.slice(0, 80)}": list the catalog with { procedures { id name } }.`, { reason: 'UNKNOWN_PROCEDURE' });

  const procedureTree = (procedureId: string): PathTree => {
    const tree = isProcedureId(procedureId) ? opts.procedurePathTree(procedureId) : undefined;
    if (!tree) throw unknownProcedure(procedureId);
    return tree;
  };

  /** Prefill's arguments, decided strictly (anything else is refused, never skipped). */
  const readPrefillArgs = (roots: RootArguments[]): PrefillArgs => {
    const root = roots.find((r) => isPrefill(r.use.coordinate))!;
    const { args, use } = root;
    // prefillGroup names its purpose with groupId (a group id is a purpose of its own).
    const idArg = use.coordinate === groupCoordinate ? 'groupId' : 'procedureId';
    const known = new Set([idArg, 'subject', 'dossierId']);
    const unknown = (use.node.arguments ?? []).map((a) => a.name.value).filter((a) => !known.has(a));
    if (unknown.length > 0) throw undecidable(`prefill: argument ${unknown.join(', ')} is not recognised.`);
    const procedureId = args[idArg];
    if (typeof procedureId !== 'string') throw undecidable(`prefill: ${idArg} is missing or not a string.`);
    const s = args.subject;
    if (s === null || typeof s !== 'object' || Array.isArray(s)) throw undecidable('prefill: subject is missing or null.');
    const input = s as Record<string, unknown>;
    const slots = ['personalId', 'relatedPersonalId', 'enterpriseCode', 'parcelId'] as const;
    const subject: Subject = {};
    for (const slot of slots) {
      const v = input[slot];
      if (v === null || v === undefined) continue;
      if (typeof v !== 'string') throw undecidable(`prefill: subject.${slot} must be a string.`);
      subject[slot] = v;
    }
    if (!subject.personalId) throw undecidable('prefill: subject.personalId is missing or null; name the citizen who files.');
    const dossierId = args.dossierId === undefined || args.dossierId === null ? null : args.dossierId;
    if (dossierId !== null && typeof dossierId !== 'string') throw undecidable('prefill: dossierId must be a string.');
    return { procedureId, personalId: subject.personalId, dossierId, subject };
  };

  /** Waits for the failed-lookup brake's verdict (gateway/ratelimit) before any registry call. */
  const brakeFirst = async (ctx: MotlanContext) => {
    // Apollo invokes every plugin's didResolveOperation synchronously before awaiting any:
    // after this await, the brake (an earlier concern) has put its pending verdict here.
    await Promise.resolve();
    if (ctx.lookupBrake) await ctx.lookupBrake;
  };

  /**
   * The check inside a `motlan.policy` span when tracing is on (gateway/tracing): the procedure and,
   * on refusal, the reason (enum values; never a subject). Started synchronously, like `check`.
   */
  function tracedCheck(rc: GraphQLRequestContextDidResolveOperation<MotlanContext>): Promise<void> {
    const tracing = processTracing();
    if (!tracing) return check(rc);
    return inSpan(tracing, 'motlan.policy', {}, async (span) => {
      try {
        await check(rc);
      } catch (err) {
        const reason = (err as { extensions?: { reason?: unknown } }).extensions?.reason;
        if (typeof reason === 'string' && span) span.setAttribute('motlan.refusal_reason', reason);
        throw err;
      } finally {
        const procedureId = rc.contextValue.purpose?.procedureId;
        if (procedureId && span) span.setAttribute('motlan.procedure_id', procedureId);
      }
    });
  }

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
    if (analysis.operation.operation !== 'query' || !rc.schema.getRootType(analysis.operation.operation)) {
      throw policyError('GRAPHQL_VALIDATION_FAILED', `This graph has no ${analysis.operation.operation} operations: it answers queries only (lookups by identifier).`);
    }
    const client = ctx.client;

    if (analysis.introspection && production) {
      throw forbidden('Introspection is disabled in production; the schema is published as schema/supergraph.graphql.', { reason: 'INTROSPECTION_DISABLED' });
    }
    if (analysis.undecidableDirectives.length > 0) {
      // Which selections run would depend on values the policy does not decide on: refuse.
      throw undecidable(
        `Directives the gateway cannot decide before execution: ${[...new Set(analysis.undecidableDirectives)].slice(0, 5).join(', ')}. ` +
          'Use @include/@skip with literal true/false only, or send one query per case.',
      );
    }
    const registryFields = [...analysis.coordinates].filter((c) => !isCatalog(c));
    const prefills = analysis.rootFields.filter((r) => isPrefill(r.coordinate));
    const lookups = analysis.rootFields.filter((r) => !isCatalog(r.coordinate));

    // An operation the gateway runs on behalf of an authorised request (prefill's compiled
    // operation, relation checks): only server code builds such contexts. It may read its
    // procedure's path tree plus the identifiers relation checks need, for the subjects the
    // server put in its context, nothing else.
    if (isInternalExecution(ctx)) {
      const procedureId = ctx.purpose?.procedureId;
      if (!procedureId) throw forbidden('An internal operation ran without a purpose.', { reason: 'PURPOSE_MISSING' });
      const tree = procedureTree(procedureId);
      const roots = rootArguments(rc.schema, analysis, rc.request.variables);
      collectSubjects(roots);
      enforcePaths(checkPaths(rc.schema, analysis, roots, ctx.subject, procedureId, tree, true), procedureId);
      return;
    }

    if (registryFields.length === 0 && lookups.length === 0 && prefills.length === 0) {
      // Catalog or introspection only: no purpose needed, but arguments the subgraph could not
      // take (a null sent for a non-null argument through a defaulted variable) are the client's
      // error, refused here (400) rather than failing in the subgraph. Defaults are fine here.
      rootArguments(rc.schema, analysis, rc.request.variables, () => false);
      return;
    }
    if (!client) throw policyError('UNAUTHENTICATED', 'Registry data needs an authenticated client: send Authorization: Bearer <api key>.');
    // Batched operations share one subject and one trace (Apollo shallow-copies the context):
    // each one's response check and audit record would be decided on the others' subjects
    // and entities. Registry reads and prefill go one per request; catalog reads may batch.
    if ((ctx.batchSize ?? 1) > 1) {
      throw forbidden('Operations that read registry data cannot be batched: send each as its own request, with its own purpose and subject.', { reason: 'BATCHED_PURPOSE' });
    }

    if (prefills.length > 0) {
      if (prefills.length > 1) throw forbidden('One prefill per request: send each procedure and citizen as its own request.', { reason: 'TOO_MANY_SUBJECTS' });
      if (registryFields.length > 0 || lookups.some((r) => !isPrefill(r.coordinate))) {
        throw forbidden('Send prefill and plain registry queries as separate requests: each carries its own purpose.', { reason: 'MIXED_PURPOSES' });
      }
      const args = readPrefillArgs(rootArguments(rc.schema, analysis, rc.request.variables));
      if (!isProcedureId(args.procedureId)) throw unknownProcedure(args.procedureId);
      if (!mayRun(client, args.procedureId)) {
        throw forbidden(`Client ${client.id} may not run ${notAllowed(args.procedureId)} (allowed: ${client.procedures.join(', ') || 'none'}).`, { reason: 'PROCEDURE_NOT_ALLOWED' });
      }
      procedureTree(args.procedureId); // unknown → NOT_FOUND UNKNOWN_PROCEDURE
      const coordinates = opts.procedureFieldCoordinates?.(args.procedureId);
      if (coordinates) checkRegistries(client, coordinates, `Procedure "${args.procedureId}"`);
      await requireToken(ctx, client, args.procedureId, args.personalId, args.dossierId);
      // Recorded on the outer context for the audit; prefill validates the subjects against
      // the procedure and checks their relations itself before reading any of their data.
      ctx.purpose = { procedureId: args.procedureId, dossierId: args.dossierId };
      Object.assign(ctx.subject, args.subject);
      return;
    }

    const purpose = purposeFromHeaders(ctx.headers);
    const exploring = !production && client.permissions.includes('explore');
    if (purpose) ctx.purpose = purpose;
    // Every root field's arguments, strictly: invalid variables, a null or defaulted
    // identifier, an argument that cannot be computed → refused here, not at execution.
    const roots = rootArguments(rc.schema, analysis, rc.request.variables, (use) => !isCatalog(use.coordinate));
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
    if (!mayRun(client, purpose.procedureId)) {
      throw forbidden(`Client ${client.id} may not run ${notAllowed(purpose.procedureId)} (allowed: ${client.procedures.join(', ') || 'none'}).`, { reason: 'PROCEDURE_NOT_ALLOWED' });
    }
    const tree = procedureTree(purpose.procedureId);

    const tokenSubject = await requireToken(ctx, client, purpose.procedureId, named.personalIds[0], purpose.dossierId);
    const subject = toSubject(named, client.requireSubjectToken ? tokenSubject : undefined);
    enforcePaths(checkPaths(rc.schema, analysis, roots, subject, purpose.procedureId, tree, false), purpose.procedureId);
    checkRegistries(client, registryFields, 'This query');

    if (subject.relatedPersonalId || subject.enterpriseCode || subject.parcelId) {
      if (!checkRelations) throw forbidden('This gateway cannot check relations between subjects; send one subject per request.', { reason: 'TOO_MANY_SUBJECTS' });
      await brakeFirst(ctx);
      try {
        await checkRelations(subject, ctx);
      } catch (err) {
        throw withHttpStatus(err);
      }
    }
    // Only now, verified (format, token, declared roots, registry relations): the response
    // check (gateway/disclosure) and the audit rely on ctx.subject holding nothing else.
    Object.assign(ctx.subject, subject);
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
      return { didResolveOperation: tracedCheck };
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

const ROOT_WORDS: Record<string, string> = {
  citizen: 'the citizen',
  relatedCitizen: 'a related citizen (a second personal ID)',
  enterprise: 'an enterprise',
  parcel: 'a land parcel',
};
function describeRoot(root: string): string {
  return ROOT_WORDS[root] ?? root;
}

function fieldsMessage(procedureId: string, fields: string[]): string {
  const shown = fields.slice(0, 20).join(', ') + (fields.length > 20 ? ` and ${fields.length - 20} more` : '');
  return `Paths not allowed for purpose "${procedureId}": ${shown}. The procedure's catalog entry does not read them (data minimisation): select only the paths it declares, as deep as it declares them (entity keys and __typename are allowed at each of them).`;
}
