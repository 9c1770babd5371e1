/**
 * The per-gateway service registry: what concerns share, by name, instead of module globals
 * or Fastify decorations. A concern declares the services it `provides`, `needs` (required:
 * the gateway refuses to start without a provider, naming both) and `uses` (optional); the
 * gateway builds providers before their users, whatever the order of the concern list.
 *
 * `ServiceMap` holds the shared PORTS (interfaces defined here, in core): a concern that
 * provides one implements it; a concern that reads one sees only the port, never the
 * provider's files. A concern may add a service of its own to the map by declaration
 * merging (`declare module '../core/services.js' { interface ServiceMap { cache: … } }`).
 */
import type { ApolloGateway } from '@apollo/gateway';
import type { FastifyBaseLogger } from 'fastify';
import type { IncomingHttpHeaders } from 'node:http';
import type { Registry } from 'prom-client';
import type { Dispatcher } from 'undici';
import type { ClientIdentity } from './context.js';
import type { SubgraphEntityCollector } from './datasource.js';
import type { InnerExecutor } from './inner-execution.js';
import type { PathTree } from './path-tree.js';

/** Roles of the clients file (gateway/auth). */
export const CLIENT_ROLES = ['client', 'auditor', 'operator', 'monitor'] as const;
export type ClientRole = (typeof CLIENT_ROLES)[number];

export type AuthResult =
  | { ok: true; client: ClientIdentity; roles: ClientRole[] }
  | { ok: false; status: 401 | 403; code: 'UNAUTHENTICATED' | 'FORBIDDEN'; message: string };

/** A demo client's clear key (never in production). */
export interface DemoCredential {
  clientId: string;
  name: string;
  roles: ClientRole[];
  key: string;
}

/** Who is calling: the clients file, as the other concerns see it (provided by gateway/auth). */
export interface ClientDirectory {
  /** `Authorization: Bearer <key>` → the client, or why not (401/403) when it lacks `role`. */
  authenticate(headers: IncomingHttpHeaders, opts?: { role?: ClientRole; now?: number }): AuthResult;
  /** Clear keys of the demo clients loaded (empty in production). */
  demoCredentials(): DemoCredential[];
  /** The entries of the clients files. */
  readonly clients: ReadonlyArray<ClientIdentity>;
}

/** The metrics registry other concerns record into (provided by gateway/metrics). */
export interface MetricsPort {
  /** prom-client registry: a concern registers its own metrics with `registers: [metrics.registry]`. */
  readonly registry: Registry;
  cacheHit(cache: string, n?: number): void;
  cacheMiss(cache: string, n?: number): void;
  auditCommit(seconds: number): void;
  auditCommitFailed(n?: number): void;
  setAuditQueueDepthSource(source: (() => number) | null): void;
}

/** Metrics that go nowhere: for a concern that `uses` metrics when no metrics concern runs. */
export const NO_METRICS: MetricsPort = {
  get registry(): Registry {
    throw new Error('No metrics concern runs in this gateway: there is no registry to register into.');
  },
  cacheHit: () => undefined,
  cacheMiss: () => undefined,
  auditCommit: () => undefined,
  auditCommitFailed: () => undefined,
  setAuditQueueDepthSource: () => undefined,
};

/** The procedure catalog, read side (provided by gateway/procedures; swapped atomically on reload). */
export interface ProcedureCatalog {
  /** Ids of the procedures currently served. */
  ids(): string[];
  /** The procedure's allowed path tree; null for an unknown procedure. */
  pathTree(procedureId: string): PathTree | null;
  /** Schema coordinates (`Type.field`) its operation and relation checks select; null when unknown. */
  fieldCoordinates(procedureId: string): ReadonlySet<string> | null;
  /** Its display name (Vietnamese); null when unknown. */
  name(procedureId: string): string | null;
  /** Its compiled operation; null when unknown. */
  operation(procedureId: string): { query: string; operationName: string } | null;
  /**
   * The procedures of an interconnected group, in order; null when the id names no group.
   * A group id is a purpose of its own (pathTree, fieldCoordinates and name answer for it).
   */
  groupProcedures(id: string): string[] | null;
  /**
   * Optional (response cache key): a fingerprint of the purpose's current definition (a procedure's,
   * or a group's with its procedures'); changes when a reload changes what the purpose may read or
   * how its forms are built, so cached responses of the old definition are never served. Null when unknown.
   */
  version?(purposeId: string): string | null;
  /** Optional: ids of the current groups, each a known purpose (metrics labels and statistics: core/known-purposes.ts). */
  groupIds?(): string[];
  /** Optional (statistics labels and report): its English name (C2 `nameEn`); null when none. */
  nameEn?(procedureId: string): string | null;
  /** Optional (statistics report): its national procedure code (`nationalCode`, e.g. 1.001757); null when none. */
  nationalCode?(procedureId: string): string | null;
  /** Optional (statistics): out-of-pocket cost of one of its cut components, VND; null for the default. */
  componentCostVnd?(procedureId: string): number | null;
}

/** A SQL connection to the committed audit records, for read-only aggregation. */
export type AuditSql =
  | { kind: 'sqlite'; db: import('better-sqlite3').Database }
  /** A SQLite store whose connection lives in its writer thread (exclusive locking). */
  | { kind: 'sqlite'; all: (sql: string, params: unknown[]) => Promise<Record<string, unknown>[]> }
  | { kind: 'postgres'; pool: import('pg').Pool; schema: string };
/** Brings the statistics rollups up to every committed record; the statistics await it before each figure. */
export type AuditSqlWithCatchUp = AuditSql & { catchUp?: () => Promise<void> };

/** The audit store, read side (provided by gateway/audit): what the statistics aggregate. */
export interface AuditReadPort {
  readonly kind: string;
  /** Where it is (file or database URL without secrets), for messages. */
  readonly location: string;
  /** The store's SQL connection, or null when it has none (the statistics then answer 503). */
  sql(): AuditSqlWithCatchUp | null;
}

export interface ServiceMap {
  /** Core: the gateway's logger. */
  logger: FastifyBaseLogger;
  /** Core: one keep-alive HTTP agent for the subgraph fetches and probes of this gateway (closed with it). */
  httpAgent: Dispatcher;
  /** Core: runs an operation through this gateway's own pipeline (policy, cache, audit) with a given context. */
  executor: InnerExecutor;
  /** Core: the @apollo/gateway instance, at request time (throws while the concerns are being built). */
  planner: () => ApolloGateway;
  clients: ClientDirectory;
  metrics: MetricsPort;
  procedures: ProcedureCatalog;
  auditStore: AuditReadPort;
  /** Adds entity keys to subgraph fetches and records the entities returned (gateway/disclosure). */
  entityCollector: SubgraphEntityCollector;
}

export type ServiceName = keyof ServiceMap;

/** Services the gateway itself provides to every concern. */
export const CORE_SERVICES: readonly ServiceName[] = ['logger', 'httpAgent', 'executor', 'planner'];

export class ServiceRegistry {
  private readonly values = new Map<ServiceName, unknown>();
  private readonly providers = new Map<ServiceName, string>();

  /** Registers `value` as `name`, provided by `by`; a second provider is a start error naming both. */
  provide<K extends ServiceName>(name: K, value: ServiceMap[K], by: string): void {
    const first = this.providers.get(name);
    if (first !== undefined) throw new Error(`Service "${name}" is provided twice, by ${first} and by ${by}: remove one of them from the concern list.`);
    this.providers.set(name, by);
    this.values.set(name, value);
  }

  /** The service, or undefined when no concern provides it. */
  get<K extends ServiceName>(name: K): ServiceMap[K] | undefined {
    return this.values.get(name) as ServiceMap[K] | undefined;
  }

  /** The service; throws, naming who asked, when nobody provides it. */
  need<K extends ServiceName>(name: K, by = 'the caller'): ServiceMap[K] {
    if (!this.values.has(name)) throw new Error(`${by} needs the "${name}" service, which no concern of this gateway provides (or its provider is turned off).`);
    return this.values.get(name) as ServiceMap[K];
  }

  has(name: ServiceName): boolean {
    return this.values.has(name);
  }

  /** Which concern provides `name` (undefined when none). */
  providerOf(name: ServiceName): string | undefined {
    return this.providers.get(name);
  }
}

/**
 * What one concern sees of the registry: only what it declared. Reading an undeclared
 * service throws, so the declarations stay the truth the start-up check relies on.
 */
export class ServiceView<N extends ServiceName = ServiceName, U extends ServiceName = ServiceName> {
  constructor(
    private readonly registry: ServiceRegistry,
    private readonly concern: string,
    private readonly needs: ReadonlySet<ServiceName>,
    private readonly uses: ReadonlySet<ServiceName>,
  ) {}

  /** A service the concern `needs` (present: checked at start). */
  need<K extends N>(name: K): ServiceMap[K] {
    if (!this.needs.has(name) && !CORE_SERVICES.includes(name)) {
      throw new Error(`Concern "${this.concern}" reads the "${name}" service without declaring it: add it to its \`needs\`.`);
    }
    return this.registry.need(name, `Concern "${this.concern}"`);
  }

  /** A service the concern `uses` if present (undefined when no concern provides it). */
  use<K extends U>(name: K): ServiceMap[K] | undefined {
    if (!this.uses.has(name) && !this.needs.has(name) && !CORE_SERVICES.includes(name)) {
      throw new Error(`Concern "${this.concern}" reads the "${name}" service without declaring it: add it to its \`uses\`.`);
    }
    return this.registry.get(name);
  }
}
