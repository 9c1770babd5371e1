/**
 * The gateway's Prometheus metrics, one registry per gateway instance (tests run
 * several gateways in one process; prom-client's global registry would mix them).
 *
 * Other concerns record through the small methods of `MotlanMetrics`, obtained
 * through the `metrics` service (MetricsPort, gateway/core/services.ts): the cache calls
 * `cacheHit(type)` / `cacheMiss(type)`, the audit trail `auditCommit(seconds)` and
 * `setAuditQueueDepthSource(fn)`. Requests and subgraph fetches are recorded by the
 * metrics concern itself from the MotlanContext trace, so nobody else has to.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { LabelGuard, type LabelGuardOptions } from './labels.js';

export interface MetricsOptions extends LabelGuardOptions {
  /** Value of the `instance_id` label of `motlan_gateway_info`. Default: `unknown`. */
  instanceId?: string;
  /** Also export Node.js process metrics (CPU, memory, event loop lag, GC). Default: true. */
  processMetrics?: boolean;
  /** Request duration buckets in seconds. Default: 5 ms … 10 s. */
  requestBuckets?: number[];
  /** Subgraph fetch duration buckets in seconds. Default: 2.5 ms … 5 s. */
  subgraphBuckets?: number[];
  /** Audit commit latency buckets in seconds. Default: 0.25 ms … 1 s (fsync-bound). */
  auditBuckets?: number[];
}

/** What the metrics concern knows about one finished GraphQL request. */
export interface RequestObservation {
  /** Client id from the clients file, or null when unauthenticated. */
  clientId: string | null;
  /** Procedure id of the declared purpose, or null. */
  procedureId: string | null;
  /**
   * Whether `procedureId` names a procedure of the catalog. False: the label is `unknown`, so a
   * purpose a client invents never becomes a series of its own. Default: true (the caller checked).
   */
  procedureKnown?: boolean;
  /** Audit outcome: OK, PARTIAL, DENIED, INVALID, ERROR, UNAUTHENTICATED (or RATE_LIMITED). */
  outcome: string;
  durationSeconds: number;
  /** Per registry contacted: fetch time in seconds and whether it failed. */
  subgraphs?: Array<{ registry: string; seconds: number | null; failed: boolean }>;
  /** Entities returned per registry. */
  entities?: Record<string, number>;
}

/** Label value of requests whose X-Purpose names no catalog procedure. */
export const UNKNOWN_PROCEDURE = 'unknown';

const REQUEST_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const SUBGRAPH_BUCKETS = [0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const AUDIT_BUCKETS = [0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

export class MotlanMetrics {
  readonly registry = new Registry();
  private readonly guard: LabelGuard;
  private readonly info: Gauge<'instance_id'>;
  private readonly requests: Counter<'client' | 'procedure' | 'outcome'>;
  private readonly requestDuration: Histogram<'outcome'>;
  private readonly subgraphDuration: Histogram<'registry'>;
  private readonly registryFetches: Counter<'registry' | 'result'>;
  private readonly entitiesShared: Counter<'registry'>;
  private readonly cacheHits: Counter<'cache'>;
  private readonly cacheMisses: Counter<'cache'>;
  private readonly auditCommitDuration: Histogram;
  private readonly auditCommitFailures: Counter;
  private auditQueueDepthSource: (() => number) | null = null;
  private auditQueueDepthValue = 0;

  constructor(opts: MetricsOptions = {}) {
    this.guard = new LabelGuard(opts);
    const registers = [this.registry];
    if (opts.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });

    this.info = new Gauge({
      name: 'motlan_gateway_info',
      help: 'Always 1; labels name this gateway replica.',
      labelNames: ['instance_id'],
      registers,
    });
    this.setInstanceId(opts.instanceId ?? 'unknown');

    this.requests = new Counter({
      name: 'motlan_requests_total',
      help: 'GraphQL requests by client, procedure (purpose) and audit outcome.',
      labelNames: ['client', 'procedure', 'outcome'],
      registers,
    });
    this.requestDuration = new Histogram({
      name: 'motlan_request_duration_seconds',
      help: 'Time from request arrival to response sent, by outcome (audit commit included).',
      labelNames: ['outcome'],
      buckets: opts.requestBuckets ?? REQUEST_BUCKETS,
      registers,
    });
    this.subgraphDuration = new Histogram({
      name: 'motlan_subgraph_fetch_duration_seconds',
      help: 'Time spent fetching from one registry subgraph within a request.',
      labelNames: ['registry'],
      buckets: opts.subgraphBuckets ?? SUBGRAPH_BUCKETS,
      registers,
    });
    this.registryFetches = new Counter({
      name: 'motlan_registry_fetches_total',
      help: 'Requests that contacted a registry subgraph, by result (ok, error).',
      labelNames: ['registry', 'result'],
      registers,
    });
    this.entitiesShared = new Counter({
      name: 'motlan_entities_shared_total',
      help: 'Entities returned to clients, by registry.',
      labelNames: ['registry'],
      registers,
    });
    this.cacheHits = new Counter({
      name: 'motlan_cache_hits_total',
      help: 'Cache hits by cache (e.g. entity, document, policy).',
      labelNames: ['cache'],
      registers,
    });
    this.cacheMisses = new Counter({
      name: 'motlan_cache_misses_total',
      help: 'Cache misses by cache (e.g. entity, document, policy).',
      labelNames: ['cache'],
      registers,
    });
    this.auditCommitDuration = new Histogram({
      name: 'motlan_audit_commit_duration_seconds',
      help: 'Duration of the group commit (one transaction, one fsync) each audit record was part of.',
      buckets: opts.auditBuckets ?? AUDIT_BUCKETS,
      registers,
    });
    this.auditCommitFailures = new Counter({
      name: 'motlan_audit_commit_failures_total',
      help: 'Audit group commits that failed (their requests got 503 AUDIT_UNAVAILABLE and nothing was shared).',
      registers,
    });
    // A gauge read at scrape time, so the audit trail need not push every change.
    const self = this;
    new Gauge({
      name: 'motlan_audit_queue_depth',
      help: 'Audit records waiting for the next group commit.',
      registers,
      collect() {
        this.set(self.auditQueueDepthSource ? self.auditQueueDepthSource() : self.auditQueueDepthValue);
      },
    });
  }

  /** Names this replica (the metrics concern sets it, whoever created the registry first). */
  setInstanceId(instanceId: string): void {
    this.info.reset();
    this.info.set({ instance_id: this.guard.value('instance_id', instanceId, 'unknown') }, 1);
  }

  /** Records one finished GraphQL request (called by the metrics concern). */
  recordRequest(o: RequestObservation): void {
    const outcome = this.guard.value('outcome', o.outcome, 'unknown');
    this.requests.inc({
      client: this.guard.value('client', o.clientId, 'anonymous'),
      // A purpose that names no procedure is not a category: `unknown`, as in the statistics.
      procedure: o.procedureId !== null && o.procedureKnown === false ? UNKNOWN_PROCEDURE : this.guard.value('procedure', o.procedureId, 'none'),
      outcome,
    });
    this.requestDuration.observe({ outcome }, Math.max(0, o.durationSeconds));
    for (const s of o.subgraphs ?? []) {
      const registry = this.guard.value('registry', s.registry, 'unknown');
      this.registryFetches.inc({ registry, result: s.failed ? 'error' : 'ok' });
      if (s.seconds !== null) this.subgraphDuration.observe({ registry }, Math.max(0, s.seconds));
    }
    for (const [name, count] of Object.entries(o.entities ?? {})) {
      if (count > 0) this.entitiesShared.inc({ registry: this.guard.value('registry', name, 'unknown') }, count);
    }
  }

  /** A cache answered from memory/Redis. `cache` names the cache, e.g. `entity`. */
  cacheHit(cache: string, n = 1): void {
    this.cacheHits.inc({ cache: this.guard.value('cache', cache, 'unknown') }, n);
  }

  /** A cache had to ask upstream. */
  cacheMiss(cache: string, n = 1): void {
    this.cacheMisses.inc({ cache: this.guard.value('cache', cache, 'unknown') }, n);
  }

  /** One audit record became durable in a group commit that took `seconds`. */
  auditCommit(seconds: number): void {
    this.auditCommitDuration.observe(Math.max(0, seconds));
  }

  /** An audit group commit failed (fail closed). */
  auditCommitFailed(n = 1): void {
    this.auditCommitFailures.inc(n);
  }

  /** Where the queue depth gauge reads from at scrape time (e.g. `() => store.pending`). */
  setAuditQueueDepthSource(source: (() => number) | null): void {
    this.auditQueueDepthSource = source;
  }

  /** Sets the queue depth directly, for stores that prefer pushing. */
  setAuditQueueDepth(depth: number): void {
    this.auditQueueDepthValue = depth;
  }

  /** The Prometheus text exposition. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
