/**
 * The audit concern: every GraphQL request on the record, durable before its
 * response leaves, hash-chained with signed checkpoints, readable by auditors.
 *
 * Slot 8 of gateway/app.ts (after execution, before metrics). It opens the store
 * (SQLite by default, PostgreSQL with AUDIT_DATABASE_URL), loads the keys,
 * registers the Fastify hooks (one record per request, fail closed), the Apollo
 * plugin (operation details, prefill's inner executions) and the auditor API,
 * and provides the store's read side (`auditStore`) to the statistics and the whole
 * trail (`audit`) to tools and tests, as services of this gateway.
 *
 * `GatewayOptions.audit = false` (or `AUDIT=off`) turns the whole trail off, for
 * benchmarks that compare throughput with and without it; refused in production.
 */
import { defineConcern, type ConcernEnv, type ConcernParts } from '../core/concern.js';
import { isGraphQLRequest } from '../core/errors.js';
import { NO_METRICS, type ClientDirectory, type MetricsPort } from '../core/services.js';
import { auditReadPort } from './read-port.js';
import { resolveAuditConfig, openStore, type AuditOptions, type ResolvedAuditConfig } from './config.js';
import { registerAuditHooks } from './http-hooks.js';
import { loadHmacKey, loadSigner, subjectHasher } from './keys.js';
import { AuditChainLostError, AuditLog } from './log.js';
import { FileWitness, latestByChain } from './witness.js';
import type { Checkpoint } from './record.js';
import path from 'node:path';
import { auditPlugin } from './plugin.js';
import { AuditRecorder } from './recorder.js';
import { registerAuditRoutes } from './routes.js';
import type { AuditStore } from './store.js';
import { randomUUID } from 'node:crypto';
import { FailureThrottle, type ThrottledBurst } from './throttle.js';

export type { AuditOptions } from './config.js';
export type { AuditRecord, AuditEntry, Checkpoint, Outcome } from './record.js';
export type { AuditStore, AuditFilter } from './store.js';

/** The audit trail of one gateway: the `audit` service (tools and tests). */
export interface AuditTrail {
  store: AuditStore;
  log: AuditLog;
  recorder: AuditRecorder;
  instanceId: string;
  /** Throttling of failing sources; null when off. `sweep()` ends finished bursts (their summary records). */
  throttle: FailureThrottle | null;
}

/** The environment variables resolveAuditConfig (config.ts) reads: known at start, so a typo among AUDIT_* is reported. */
export const AUDIT_VARIABLES = [
  'AUDIT', 'DATA_DIR', 'AUDIT_DATABASE_URL', 'AUDIT_DATABASE_SCHEMA', 'AUDIT_INSTANCE_ID', 'AUDIT_SQLITE_FILE', 'AUDIT_SQLITE_LOCKING',
  'AUDIT_CHECKPOINT_EVERY', 'AUDIT_CHECKPOINT_INTERVAL_MS', 'AUDIT_COMMIT_WINDOW_MS', 'AUDIT_WITNESS_FILE', 'AUDIT_WITNESS_HEAD_INTERVAL_MS', 'AUDIT_WITNESS_ADOPT',
  'AUDIT_READY_PROBE_CACHE_MS', 'AUDIT_THROTTLE_FAILURES', 'AUDIT_THROTTLE_WINDOW_MS',
  'AUDIT_SIGNING_KEY', 'AUDIT_HMAC_KEY', 'AUDIT_HMAC_KEY_FILE',
] as const;

declare module '../core/services.js' {
  interface ServiceMap {
    /** The whole audit trail of this gateway (gateway/audit): tools and tests read records through it. */
    audit: AuditTrail;
  }
}

/** `GatewayOptions.audit`: the trail's options, or `false` to turn it off (benchmarks only). */
export type AuditSetting = AuditOptions | false;

export const auditConcern = defineConcern({
  name: 'audit',
  slice: 'audit',
  options: (own: AuditSetting | undefined, { env, core }) => {
    const off = own === false || (own === undefined && env.flag('AUDIT') === false);
    if (off && core.production) {
      throw new Error('The audit trail cannot be turned off in production (no data may leave unrecorded): remove AUDIT=off / audit: false.');
    }
    return off ? false : (own ?? {});
  },
  // Read by resolveAuditConfig (config.ts) when the trail starts.
  variables: AUDIT_VARIABLES,
  provides: ['auditStore', 'audit'],
  needs: ['clients'],
  uses: ['metrics', 'procedures'],
  create: async (env): Promise<ConcernParts> => {
    if (env.own === false) {
      env.logger.warn('Audit trail is OFF (AUDIT=off or GatewayOptions.audit = false): requests are not recorded. Use only for benchmarks.');
      return {};
    }
    const opts = env.own;
    const cfg = resolveAuditConfig(opts, { env: env.core.env, production: env.core.production, gatewayInstanceId: env.core.instanceIdGiven });
    const catalog = env.services.use('procedures');
    try {
      return await startAudit(env, opts, cfg, {
        metrics: env.services.use('metrics') ?? NO_METRICS,
        clients: env.services.need('clients'),
        // The catalog's Vietnamese name, shown in the citizen history.
        procedureName: opts.procedureName ?? ((id) => catalog?.name(id) ?? null),
      });
    } catch (err) {
      cfg.releaseInstanceId();
      throw err;
    }
  },
});

interface AuditDeps {
  metrics: MetricsPort;
  clients: ClientDirectory;
  procedureName: (procedureId: string) => string | null;
}

async function startAudit(env: ConcernEnv<unknown>, opts: AuditOptions, cfg: ResolvedAuditConfig, deps: AuditDeps): Promise<ConcernParts> {
  const keyOpts = {
    dataDir: cfg.dataDir,
    production: cfg.production,
    ...(cfg.signingKeyPath ? { signingKeyPath: cfg.signingKeyPath } : {}),
    ...(cfg.hmacKey ? { hmacKey: cfg.hmacKey } : {}),
    ...(cfg.hmacKeyFile ? { hmacKeyFile: cfg.hmacKeyFile } : {}),
  };
  const signing = loadSigner(keyOpts);
  const hmac = loadHmacKey(keyOpts);
  if (signing.generated) env.logger.warn(`Audit: generated a DEVELOPMENT signing key at ${signing.file} (refused in production; set AUDIT_SIGNING_KEY).`);
  if (hmac.generated) env.logger.warn(`Audit: generated a DEVELOPMENT HMAC key at ${hmac.source} (refused in production; set AUDIT_HMAC_KEY).`);

  const ownStore = !opts.store;
  const store = opts.store ?? openStore(cfg);
  try {
    await store.init();
  } catch (err) {
    if (ownStore) await store.close().catch(() => {});
    throw new Error(`The audit store (${store.location}) cannot be opened: ${(err as Error).message}`);
  }
  const metrics = deps.metrics;
  const witness = cfg.witnessFile ? new FileWitness(cfg.witnessFile, cfg.instanceId) : null;
  if (witness && store.kind === 'sqlite' && path.dirname(store.location) === path.dirname(witness.location)) {
    (cfg.production ? env.logger.warn.bind(env.logger) : env.logger.debug.bind(env.logger))(
      `Audit: the witness file ${witness.location} is in the same directory as the audit database; keep it on another disk (AUDIT_WITNESS_FILE) so losing one does not lose both.`,
    );
  }
  const log = new AuditLog({
    store,
    instanceId: cfg.instanceId,
    signer: signing.signer,
    checkpointEvery: cfg.checkpointEvery,
    checkpointIntervalMs: cfg.checkpointIntervalMs,
    commitWindowMs: cfg.commitWindowMs,
    ...(witness ? { witness, witnessHeadIntervalMs: cfg.witnessHeadIntervalMs } : {}),
    onWitnessError: (err) => env.logger.error({ err }, 'Audit witness write failed: /ready fails until checkpoints reach the witness again'),
    probeCacheMs: cfg.readyProbeCacheMs,
    ...(opts.now ? { now: opts.now } : {}),
    onError: (err) => {
      metrics.auditCommitFailed();
      env.logger.error({ err }, 'Audit commit failed: requests are refused with 503 AUDIT_UNAVAILABLE until the store recovers');
    },
    // Prometheus: commit latency per record (its group's transaction) and queue depth (gateway/metrics).
    onCommit: ({ records, ms }) => {
      for (let i = 0; i < records; i++) metrics.auditCommit(ms / 1000);
    },
  });
  metrics.setAuditQueueDepthSource(() => log.queueDepth());
  try {
    // The mirror of a lost store: a witness that holds nothing of a chain the store has
    // records of was removed, emptied or replaced. Continuing would sign new checkpoints over
    // whatever the store now holds (a rewritten chain included) and witness those instead.
    if (witness && !cfg.adoptWitness && !witness.latest().has(cfg.instanceId)) {
      const head = await store.head(cfg.instanceId);
      if (head && head.seq > 0) {
        throw new AuditChainLostError(
          `The witness ${witness.location} holds no checkpoint of chain "${cfg.instanceId}", but the audit store ${store.location} holds it up to seq ${head.seq}: ` +
            'the witness file was removed, emptied or replaced. The gateway refuses to continue the chain unwitnessed. Restore the witness file from its backup; ' +
            `or, if this store never had a witness (first configuration), start once with AUDIT_WITNESS_ADOPT=${head.seq} and record why.`,
        );
      }
    }
    if (witness && typeof cfg.adoptWitness === 'number' && !witness.latest().has(cfg.instanceId)) {
      // Adoption names the head it adopts: a value left set no longer matches once the chain moves on.
      const head = await store.head(cfg.instanceId);
      if ((head?.seq ?? 0) !== cfg.adoptWitness) {
        throw new AuditChainLostError(
          `AUDIT_WITNESS_ADOPT=${cfg.adoptWitness} names seq ${cfg.adoptWitness}, but the audit store ${store.location} holds chain "${cfg.instanceId}" up to seq ${head?.seq ?? 0}: ` +
            'adoption is for the store as it is now, once. Unset it, or set the current head after checking why the witness holds nothing of this chain.',
        );
      }
    }
    await log.start();
    if (witness && cfg.adoptWitness && !witness.latest().has(cfg.instanceId)) {
      // Adopted: the store's newest signed checkpoint is witnessed now, so the next start checks against it.
      const cp = await store.lastCheckpoint(cfg.instanceId);
      if (cp) await witness.append([cp]);
      env.logger.warn(`Audit: AUDIT_WITNESS_ADOPT: the witness ${witness.location} now starts at seq ${cp?.seq ?? 0} of chain "${cfg.instanceId}"; nothing before it was witnessed.`);
    }
  } catch (err) {
    if (ownStore) await store.close().catch(() => {});
    if (err instanceof AuditChainLostError) throw err;
    throw new Error(`The audit store (${store.location}) cannot be read: ${(err as Error).message}`);
  }
  const hasher = subjectHasher(hmac.key);
  const recorder = new AuditRecorder(log, hasher);
  env.logger.info(`Audit trail: ${store.kind} at ${store.location}, chain "${cfg.instanceId}", signing key ${signing.signer.keyId}`);

  // One summary record per throttled burst: how many requests it stands for (none shared data).
  const summarise = (burst: ThrottledBurst) => {
    env.logger.warn(`Audit: throttled ${burst.covers} request(s) from ${burst.source} without a valid API key (one summary record).`);
    log
      .append({
        ts: burst.from,
        requestId: randomUUID(),
        clientId: 'anonymous',
        agency: 'anonymous',
        operationName: null,
        operationType: null,
        documentHash: null,
        procedureId: null,
        dossierId: null,
        subjects: [],
        registries: [],
        fields: [],
        entities: {},
        outcome: 'DENIED',
        errorCodes: ['RATE_LIMITED'],
        httpStatus: 429,
        durationMs: burst.to - burst.from,
        responseBytes: null,
        prefill: null,
        reasonCode: 'SOURCE_THROTTLED',
        covers: burst.covers,
      })
      .catch((err: Error) => env.logger.error({ err }, 'Audit: the summary record of a throttled burst could not be committed'));
  };
  const throttle = cfg.throttle ? new FailureThrottle({ ...cfg.throttle, now: opts.now ?? Date.now }, summarise) : null;
  const sweeper = throttle ? setInterval(() => throttle.sweep(), Math.min(cfg.throttle!.windowMs, 60_000)) : null;
  sweeper?.unref();

  const trail: AuditTrail = { store, log, recorder, instanceId: cfg.instanceId, throttle };
  const install = () => {
  registerAuditHooks(env.app, {
    recorder,
    isGraphQLRequest,
    clients: deps.clients,
    ...(throttle ? { throttle } : {}),
    onAuditFailure: (err, request) => request.log.error({ err }, 'Response replaced by 503 AUDIT_UNAVAILABLE: the audit record could not be committed'),
  });
  registerAuditRoutes(env.app, {
    store,
    hasher,
    clients: deps.clients,
    // The catalog's Vietnamese name, shown in the citizen history.
    procedureName: deps.procedureName,
    ...(witness
      ? {
          // This replica's chain and the chains the store holds (other stores may share the witness file).
          witness: async () => {
            const chains = new Set([cfg.instanceId, ...(await store.instances())]);
            return witness.readAll().filter((w) => chains.has(w.instanceId));
          },
        }
      : {}),
    latestCheckpoints: async () => {
      // The store's view, completed by what this replica signed and witnessed itself:
      // checkpoints deleted from the store still show here.
      const all: Checkpoint[] = [];
      for (const id of await store.instances()) {
        const cp = await store.lastCheckpoint(id);
        if (cp) all.push(cp);
      }
      const own = log.latestCheckpoint();
      if (own) all.push(own);
      if (witness) all.push(...witness.latest().values());
      return [...latestByChain(all).values()].sort((a, b) => a.instanceId.localeCompare(b.instanceId));
    },
  });

  };

  return {
    services: { auditStore: auditReadPort(store), audit: trail },
    install,
    plugins: [auditPlugin(recorder)],
    ready: async () => {
      const problem = await log.probe();
      if (problem !== null) {
        if (log.lostReason()) {
          return `the audit store is lost (${problem}); no data is shared until an operator restarts the gateway with the store back (docs/AUDIT.md, "When the store is lost")`;
        }
        return `the audit store cannot commit (${problem}); requests are refused with 503 AUDIT_UNAVAILABLE`;
      }
      return log.witnessProblem();
    },
    close: async () => {
      try {
        if (sweeper) clearInterval(sweeper);
        throttle?.flush();
        await log.close();
        if (ownStore) await store.close();
      } finally {
        cfg.releaseInstanceId();
      }
    },
  };
}
