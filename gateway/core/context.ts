/**
 * The per-request context every gateway concern shares. Authentication fills
 * `client`, purpose policy fills `purpose` and `subject`, the subgraph data source
 * fills `trace`, and the audit trail reads all of it when the response is ready.
 *
 * Keep this the single place where the shape is defined: each concern owns the
 * fields it writes and only reads the others.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { AgencyTier } from '../../lib/provinces.js';

/** A TTHC system of a province or ministry, or a staff role (auditor, operator, monitor). */
export interface ClientIdentity {
  id: string;
  agency: string;
  name: string;
  /** Demo clients exist only for the mocked setup and are refused when NODE_ENV=production. */
  demo: boolean;
  /** Procedure ids this client may run; `['*']` means any (development only). */
  procedures: string[];
  /** Registries this client may reach; undefined means all the procedure needs. */
  registries?: string[];
  /** Extra permissions, e.g. `explore` (sandbox, development only). */
  permissions: string[];
  /** When true, a subject token (citizen consent from the e-ID platform) is required. */
  requireSubjectToken: boolean;
  /** `client` (TTHC system, may query data), `auditor`, `operator`, `monitor`; set by gateway/auth. */
  roles?: Array<'client' | 'auditor' | 'operator' | 'monitor'>;
  /** The agency's level (gateway/auth clients file); absent when the client declares none. */
  tier?: AgencyTier;
  /** With tier `province`: the 2-digit code of one of the 34 provincial units (lib/provinces.ts). */
  provinceCode?: string;
}

/** Whether the client may run the procedure (`*` counts only outside production): the one rule policy and response check share. */
export function mayRunProcedure(client: ClientIdentity, procedureId: string, production: boolean): boolean {
  return client.procedures.includes(procedureId) || (!production && client.procedures.includes('*'));
}

/** Why the data is requested: a procedure of the catalog, and the dossier when there is one. */
export interface Purpose {
  procedureId: string;
  dossierId: string | null;
}

/** Who the request is about, in clear only in memory; the audit trail stores HMACs. */
export interface Subject {
  personalId?: string;
  relatedPersonalId?: string;
  enterpriseCode?: string;
  parcelId?: string;
}

/** What the request touched, collected while it runs (metadata only, never values). */
export interface RequestTrace {
  /** Registries (subgraph names) the gateway contacted. */
  registries: Set<string>;
  /** Schema coordinates of the fields returned, e.g. `Citizen.permanentResidence`. */
  fields: Set<string>;
  /** Entities returned per registry. */
  entities: Record<string, number>;
  /** GraphQL error codes seen (ours and the subgraphs'). */
  errorCodes: Set<string>;
  /** Registries that failed or timed out. */
  unavailableRegistries: Set<string>;
  /** Subgraph fetch timings in ms, per registry. */
  subgraphMs: Record<string, number>;
  /**
   * Every entity (Citizen, Enterprise, LandParcel) the subgraphs returned for this
   * request, keyed `Type:key`, clear in memory only (the audit trail stores HMACs).
   * Filled by the subgraph data source from what the subgraphs answered, so the
   * client's aliases change nothing; read by the response check and the audit.
   */
  returnedEntities: Map<string, ReturnedEntity>;
  /**
   * The id of every request the gateway sent a subgraph for this client request
   * (header X-Motlan-Subgraph-Request-Id, which the subgraph logs), in order:
   * `<requestId>:<subgraph>:<random>`, so a registry owner can reconcile its log
   * with our audit records (by `requestId`) and with this list.
   */
  subgraphRequests: string[];
  /**
   * How the returned entities hang together, from the same subgraph answers (filled by
   * gateway/disclosure/collect.ts; read by the response check, gateway/disclosure).
   */
  entityGraph: EntityGraph;
  /** Set by the response check (gateway/disclosure) when it ran; `refused` explains a 403. */
  responseCheck?: ResponseCheckResult;
  /**
   * Set by the subgraph-fetch cache (gateway/cache) on every remote fetch: the epoch ms until
   * which every subgraph answer of this request stays fresh by cache policy, `0` as soon as one
   * answer may not be cached (no policy, served stale, errors). Undefined: no remote fetch.
   * The response cache stores a response only while this lies in the future.
   */
  freshUntil?: number;
  /** `hit` when the whole response came from the response cache (gateway/cache); the audit records it. */
  cache?: 'hit';
}

/**
 * The entities of the subgraph answers as a graph: an edge goes from an entity to an
 * entity found below it, labelled by the FIELD NAMES between them (never aliases), e.g.
 * `Citizen:S —[enterprises, enterprise]→ Enterprise:E`, `Citizen:S —[father]→ Citizen:F`.
 * An `_entities` item is the entity of its representation, so edges from several
 * subgraphs meet on one node. Identifiers in clear: in memory only.
 */
export interface EntityGraph {
  /** Entities found at the top of an answer (under no other entity) → root field paths (`citizen`, `citizens`). */
  roots: Map<string, Set<string>>;
  /** Parent entity id (`Type:key`) → edges to the entities below it. */
  edges: Map<string, EntityEdge[]>;
  /** `from\nfield.path\nto` of every edge, to add each one once. */
  edgeKeys: Set<string>;
  /** Root fields that returned registry data which is no entity (e.g. `household`): outside every purpose. */
  unanchored: Set<string>;
  /** Why part of an answer could not be read (an entity without its key, an unknown type…): the check refuses. */
  problems: string[];
}

export interface EntityEdge {
  /** Field names from the parent entity to the child (no aliases, no list indexes). */
  path: readonly string[];
  /** `Type:key` of the child. */
  to: string;
}

/** What the response check decided for this request. */
export interface ResponseCheckResult {
  /** `checked` (all entities within the purpose), `skipped` (no entities, explore), `refused`. */
  outcome: 'checked' | 'skipped' | 'refused';
  /** Machine-readable reason of a refusal, e.g. `RESPONSE_ENTITY_NOT_ALLOWED`. */
  reason?: string;
  /** Entities outside the purpose, counted per type (no identifiers: they are personal data). */
  outside?: Record<string, number>;
}

/** An entity that left the registries in a response. */
export interface ReturnedEntity {
  /** `Citizen`, `Enterprise` or `LandParcel`. */
  type: string;
  /** Its key: personalId, enterpriseCode or parcelId. */
  key: string;
}

export interface MotlanContext {
  requestId: string;
  /** Milliseconds since the epoch when the request arrived. */
  receivedAt: number;
  client: ClientIdentity | null;
  purpose: Purpose | null;
  subject: Subject;
  headers: IncomingHttpHeaders;
  trace: RequestTrace;
  /**
   * Operations in this HTTP request (a batched array; 1 otherwise). Apollo shallow-copies the
   * context per operation, so batched operations share `subject` and `trace`: the policy
   * refuses purpose-bound operations in a batch (each would be checked and recorded with the
   * others' subjects and entities). Set by the Apollo context function; absent means 1.
   */
  batchSize?: number;
  /**
   * Set by prefill on the OUTER context: the summary counts of the form it returned
   * (no values), kept in the audit record for the data-sharing statistics.
   */
  prefill?: PrefillSummary;
  /**
   * The failed-lookup brake's pending verdict for this request (gateway/ratelimit), set
   * synchronously when its plugin starts checking; rejects with 429 when the brake is on.
   * The purpose policy awaits it before any registry call of its own (relation checks).
   */
  lookupBrake?: Promise<void>;
  /**
   * The W3C trace id (32 hex) of this request's span when tracing is on (gateway/tracing): the
   * caller's `traceparent` trace id when it sent one. The audit record keeps it.
   */
  traceId?: string;
}

/** The counts of a prefilled form (the API's PrefillSummary): what the statistics add up. */
export interface PrefillSummary {
  fieldsTotal: number;
  fieldsPrefilled: number;
  fieldsForCitizen: number;
  componentsTotal: number;
  componentsCut: number;
  hoursSaved: number;
  /** prefillGroup only: the group, and its procedures in order (the counts are the group's). */
  groupId?: string;
  procedureIds?: string[];
}

export function newTrace(): RequestTrace {
  return {
    registries: new Set(),
    fields: new Set(),
    entities: {},
    errorCodes: new Set(),
    unavailableRegistries: new Set(),
    subgraphMs: {},
    returnedEntities: new Map(),
    subgraphRequests: [],
    entityGraph: newEntityGraph(),
  };
}

export function newEntityGraph(): EntityGraph {
  return { roots: new Map(), edges: new Map(), edgeKeys: new Set(), unanchored: new Set(), problems: [] };
}
