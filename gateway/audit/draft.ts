/**
 * The record of one HTTP request while it is being served.
 *
 * A draft is opened when a GraphQL request arrives (Fastify `onRequest`), enriched
 * by the Apollo plugin for every operation executed on its behalf — the client's
 * operation and, for prefill, the inner operations that share its request id —
 * and turned into ONE audit entry when the response is about to leave (`onSend`).
 */
import { Kind, valueFromASTUntyped, type DocumentNode } from 'graphql';
import type { ClientIdentity, MotlanContext } from '../core/context.js';
import type { SubjectHasher } from './keys.js';
import type { AuditEntry, OperationType, Outcome, PrefillNote } from './record.js';
import { SubjectCollector } from './subjects.js';
import { classifyOutcome } from '../core/outcome.js';

/** What one GraphQL execution contributed. */
export interface OperationCapture {
  /** An inner execution run by the gateway for this request (prefill), not the client's own operation. */
  internal: boolean;
  /**
   * An inner execution whose answer never leaves the gateway: a relation check
   * (`MotlanSubjectRelations`, gateway/core/relations.ts) reads the identifiers of the citizen's
   * parents, spouse, children and household to decide, and nothing of them is sent. Its data
   * names no subject of the record (docs/AUDIT.md: every entity that LEFT is listed).
   */
  identifiersOnly?: boolean;
  operationName: string | null;
  operationType: OperationType | null;
  documentHash: string | null;
  document?: DocumentNode;
  variables?: Record<string, unknown>;
  data?: unknown;
  errorCodes: string[];
  /** Machine-readable refusal reasons (`extensions.reason` of its errors), e.g. SUBJECT_TOKEN_MISSING. */
  reasons?: string[];
  /** True once the response of this execution was produced. */
  done: boolean;
}

export class AuditDraft {
  readonly ops: OperationCapture[] = [];
  /** The request's MotlanContext (the outer one for prefill). */
  context: MotlanContext | null = null;
  /** A client resolved by the audit hook itself when the request failed before authentication ran. */
  fallbackClient: ClientIdentity | null = null;
  /** Set once the entry was handed to the log: a request yields exactly one record. */
  sealed = false;
  /** No HTTP layer around it (Apollo `executeOperation` called directly): the plugin commits. */
  standalone = false;

  constructor(
    readonly requestId: string,
    /** ms since the epoch. */
    readonly receivedAt: number,
    /** performance.now() at arrival, for the duration. */
    readonly startedAt: number,
  ) {}

  primary(): OperationCapture | undefined {
    return this.ops.find((o) => !o.internal) ?? this.ops[0];
  }
}

/** True when at least one root field carries a value (something was shared). */
export function hasData(data: unknown): boolean {
  return data !== null && typeof data === 'object' && Object.values(data as Record<string, unknown>).some((v) => v !== null && v !== undefined);
}

/** The outcome of a recorded request (the rule is in gateway/core/outcome.ts, shared with the metrics). */
export function classify(input: {
  httpStatus: number;
  codes: ReadonlySet<string>;
  primary: OperationCapture | undefined;
  innerErrors: boolean;
  unavailableRegistries: number;
}): Outcome {
  const { primary } = input;
  return classifyOutcome({
    httpStatus: input.httpStatus,
    codes: input.codes,
    executed: primary?.done === true,
    troubled: (primary?.errorCodes.length ?? 0) > 0 || input.innerErrors || input.unavailableRegistries > 0,
    dataReturned: hasData(primary?.data),
    operationCodes: primary?.errorCodes ?? [],
  });
}

export interface HttpFacts {
  httpStatus: number;
  responseBytes: number | null;
  /** Error codes read from a body the gateway sent without executing GraphQL (401, 413, 429…). */
  bodyCodes: string[];
  /** `extensions.reason` values of such a body. */
  bodyReasons?: string[];
  /** Wall-clock end, ms since the epoch (for callers that need a fixed clock). */
  durationMs?: number;
}

/** Reads a prefill summary from the context when prefill set one (counts only). */
function prefillNote(ctx: MotlanContext | null): PrefillNote | null {
  const p = ctx?.prefill;
  if (!p || typeof p !== 'object') return null;
  const keys: (keyof PrefillNote)[] = ['fieldsTotal', 'fieldsPrefilled', 'fieldsForCitizen', 'componentsTotal', 'componentsCut', 'hoursSaved'];
  return keys.every((k) => typeof p[k] === 'number') ? p : null;
}

/** A prefill summary selected by the client in the response (`data.prefill.summary`), when the context has none. */
function prefillFromResponse(data: unknown): PrefillNote | null {
  const s = (data as { prefill?: { summary?: Record<string, unknown> } } | null)?.prefill?.summary;
  if (!s) return null;
  const keys: (keyof PrefillNote)[] = ['fieldsTotal', 'fieldsPrefilled', 'fieldsForCitizen', 'componentsTotal', 'componentsCut', 'hoursSaved'];
  return keys.every((k) => typeof s[k] === 'number') ? (Object.fromEntries(keys.map((k) => [k, s[k]])) as unknown as PrefillNote) : null;
}

/** The root fields that name their own purpose, and the argument that names it. */
const PREFILL_PURPOSE_ARG: Readonly<Record<string, string>> = { prefill: 'procedureId', prefillGroup: 'groupId' };

/** The purpose (`procedureId`, or a group's `groupId`) and `dossierId` arguments of a `prefill`/`prefillGroup` root field of the operation, if any. */
function prefillArgsOf(op: OperationCapture | undefined): { procedureId: string | null; dossierId: string | null } | null {
  if (!op?.document) return null;
  const def = op.document.definitions.find(
    (d) => d.kind === Kind.OPERATION_DEFINITION && (!op.operationName || d.name?.value === op.operationName),
  );
  if (!def || def.kind !== Kind.OPERATION_DEFINITION) return null;
  for (const sel of def.selectionSet.selections) {
    // prefillGroup names its purpose (a group id) with groupId.
    const idArg = sel.kind === Kind.FIELD ? PREFILL_PURPOSE_ARG[sel.name.value] : undefined;
    if (sel.kind !== Kind.FIELD || !idArg) continue;
    const arg = (name: string): string | null => {
      const node = sel.arguments?.find((a) => a.name.value === name);
      if (!node) return null;
      try {
        const v = valueFromASTUntyped(node.value, op.variables ?? {});
        return typeof v === 'string' ? v : null;
      } catch {
        return null;
      }
    };
    return { procedureId: arg(idArg), dossierId: arg('dossierId') };
  }
  return null;
}

/** The X-Purpose header as sent (the record keeps it only when it is a well-formed procedure id). */
function purposeHeader(ctx: MotlanContext | null): string | null {
  const v = ctx?.headers?.['x-purpose'];
  return typeof v === 'string' ? v.trim() : null;
}

/** The caller's X-Request-Id header (validated by the record's normalisation). */
function clientRequestIdOf(ctx: MotlanContext | null): string | undefined {
  const v = ctx?.headers?.['x-request-id'];
  return typeof v === 'string' ? v : undefined;
}

export function buildEntry(draft: AuditDraft, http: HttpFacts, hasher: SubjectHasher): AuditEntry {
  const ctx = draft.context;
  const trace = ctx?.trace;
  const primary = draft.primary();
  const client = ctx?.client ?? draft.fallbackClient;

  const codes = new Set<string>(http.bodyCodes);
  for (const op of draft.ops) for (const c of op.errorCodes) codes.add(c);
  if (trace) for (const c of trace.errorCodes) codes.add(c);

  const subjects = new SubjectCollector();
  subjects.fromContext(ctx?.subject);
  for (const op of draft.ops) {
    subjects.fromOperation(op.document, op.operationName, op.variables);
  }
  // Every entity that left, from what the subgraphs returned (aliases change nothing)…
  subjects.fromReturned(trace?.returnedEntities);
  // …and, as a fallback, keys the client's response shows under their schema names. Relation
  // checks are not responses: the family identifiers they read stay in the gateway.
  for (const op of draft.ops) if (!op.identifiersOnly) subjects.fromResponse(op.data);

  const outcome = classify({
    httpStatus: http.httpStatus,
    codes,
    primary,
    innerErrors: draft.ops.some((o) => o.internal && o.errorCodes.length > 0),
    unavailableRegistries: trace?.unavailableRegistries.size ?? 0,
  });
  // Nothing was shared when the request was refused or failed: no field, no entity counts.
  const shared = outcome === 'OK' || outcome === 'PARTIAL';
  // A refusal keeps its context: the procedure asked for even when the policy refused before
  // recording a purpose (prefill without a valid subject token), and the reason code.
  const asked = ctx?.purpose ? null : prefillArgsOf(primary);
  // The response check (gateway/disclosure) replaces the body of a response it refuses: its
  // reason is taken from the trace, whatever order the plugins read the body in.
  const check = trace?.responseCheck;
  const checkReason = check?.outcome === 'refused' && check.reason ? [check.reason] : [];
  const reasons = [...checkReason, ...(primary?.reasons ?? []), ...draft.ops.filter((o) => o !== primary).flatMap((o) => o.reasons ?? []), ...(http.bodyReasons ?? [])];
  const reasonCode = shared ? undefined : reasons[0];
  const clientRequestId = clientRequestIdOf(ctx);

  return {
    ts: draft.receivedAt,
    requestId: draft.requestId,
    clientId: client?.id ?? 'anonymous',
    agency: client?.agency ?? 'anonymous',
    operationName: primary?.operationName ?? null,
    operationType: primary?.operationType ?? null,
    documentHash: primary?.documentHash ?? null,
    procedureId: ctx?.purpose?.procedureId ?? asked?.procedureId ?? purposeHeader(ctx),
    dossierId: ctx?.purpose?.dossierId ?? asked?.dossierId ?? null,
    subjects: subjects.refs(hasher),
    registries: trace ? [...trace.registries] : [],
    fields: shared && trace ? [...trace.fields] : [],
    entities: shared && trace ? { ...trace.entities } : {},
    outcome,
    errorCodes: [...codes],
    httpStatus: http.httpStatus,
    durationMs: http.durationMs ?? performance.now() - draft.startedAt,
    responseBytes: http.responseBytes,
    prefill: shared ? (prefillNote(ctx) ?? prefillFromResponse(primary?.data)) : null,
    ...(clientRequestId ? { clientRequestId } : {}),
    ...(reasonCode ? { reasonCode } : {}),
    ...(trace && trace.subgraphRequests.length > 0 ? { subgraphRequests: [...trace.subgraphRequests] } : {}),
    ...(client?.tier ? { clientTier: client.tier } : {}),
    ...(client?.provinceCode ? { clientProvince: client.provinceCode } : {}),
    ...(trace?.cache === 'hit' ? { cache: 'hit' as const } : {}),
    ...(ctx?.traceId ? { traceId: ctx.traceId } : {}),
  };
}
