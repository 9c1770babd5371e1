/**
 * Audit settings and where their defaults come from (the environment, read once
 * here). Used by the gateway concern and by the `motlan audit` CLI, so both open
 * the same store with the same keys.
 */
import { EnvReader } from '../../lib/env-options.js';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { AuditStore } from './store.js';
import { SqliteAuditStore } from './sqlite-store.js';
import { PostgresAuditStore } from './postgres-store.js';

export interface AuditOptions {
  /** Data directory (SQLite file, development keys). Default: `DATA_DIR` env, else `./data`. */
  dataDir?: string;
  /** SQLite file. Default: `AUDIT_SQLITE_FILE` env, else `<dataDir>/audit.db`. */
  sqliteFile?: string;
  /** PostgreSQL URL; when set, records go there instead of SQLite. Default: `AUDIT_DATABASE_URL` env. */
  databaseUrl?: string;
  /** PostgreSQL schema of the audit tables. Default: `AUDIT_DATABASE_SCHEMA` env, else `motlan_audit`. */
  databaseSchema?: string;
  /**
   * This replica's chain. Default: `AUDIT_INSTANCE_ID` env; else the gateway's `INSTANCE_ID` when set;
   * else, with SQLite, an id generated once and kept in `<dataDir>/audit-instance-id` (so a restart
   * continues the same chain), and with PostgreSQL the host name.
   */
  instanceId?: string;
  /** Ed25519 private key (PEM) signing checkpoints. Default: `AUDIT_SIGNING_KEY` env; none → dev key (refused in production). */
  signingKeyPath?: string;
  /** HMAC key for subject pseudonyms. Default: `AUDIT_HMAC_KEY` env (or `AUDIT_HMAC_KEY_FILE`); none → dev key (refused in production). */
  hmacKey?: string;
  hmacKeyFile?: string;
  /** Checkpoint every N records. Default: `AUDIT_CHECKPOINT_EVERY` env, else 1000. */
  checkpointEvery?: number;
  /** …or every T ms when records were added. Default: `AUDIT_CHECKPOINT_INTERVAL_MS` env, else 60 000. */
  checkpointIntervalMs?: number;
  /** Extra wait before a group commit, to gather more records. Default: `AUDIT_COMMIT_WINDOW_MS` env, else 0 (next tick). */
  commitWindowMs?: number;
  /**
   * Append-only file where every signed checkpoint is also written, outside the store
   * (witness.ts); keep it on another disk than the store in production. Default:
   * `AUDIT_WITNESS_FILE` env, else `<dataDir>/audit-witness.jsonl`. `false` (or the env
   * value `off`) disables it, refused in production.
   */
  witnessFile?: string | false;
  /**
   * Between stored checkpoints, sign the chain head and append it to the witness at most this
   * often, after the commit whose responses already left (0: after every commit). The records
   * of the last interval before a crash are covered by no witness (docs/AUDIT.md, threat model).
   * Default: `AUDIT_WITNESS_HEAD_INTERVAL_MS` env, else 1000.
   */
  witnessHeadIntervalMs?: number;
  /**
   * Start although the witness holds nothing of a chain the store has records of (the
   * witness is configured for the first time on an existing store). Otherwise the gateway
   * refuses: the witness file was removed or replaced. A number is the store's current head
   * seq, which the start must find (so a value left set stops matching after the next
   * commits: adoption happens once); `true` adopts whatever the head is, outside production
   * only. Default: `AUDIT_WITNESS_ADOPT` env (`true` or a seq), else false.
   */
  adoptWitness?: boolean | number;
  /** Use this store instead of opening one (tests: a failing store). The concern does not close it. */
  store?: AuditStore;
  /** Display name of a procedure id in the citizen history. Default: none (the id is shown). */
  procedureName?: (procedureId: string) => string | null;
  /**
   * How long /ready trusts a successful write probe of the store before writing again.
   * Default: `AUDIT_READY_PROBE_CACHE_MS` env, else 5000. A failed commit forgets it at once.
   */
  readyProbeCacheMs?: number;
  /**
   * Throttling of failing sources (per source address): after `failures` unauthenticated or
   * refused anonymous requests within `windowMs`, further ones from that address are answered
   * 429 without a record each, and one summary record per burst says how many there were.
   * Default: `{ failures: AUDIT_THROTTLE_FAILURES ?? 20, windowMs: AUDIT_THROTTLE_WINDOW_MS ?? 60000 }`;
   * `false` turns it off.
   */
  throttle?: { failures?: number; windowMs?: number; maxSources?: number; maxFailures?: number } | false;
  /**
   * SQLite locking: `exclusive` (one connection in the writer thread, no memory-mapped `-shm`:
   * a fault on it is a 503, never a SIGBUS; no other process can open the file meanwhile) or
   * `shared` (other processes, e.g. `motlan audit verify --db`, may read the live file).
   * Default: `AUDIT_SQLITE_LOCKING` env, else `exclusive`.
   */
  sqliteLocking?: 'exclusive' | 'shared';
  /** Clock for the readiness probe cache and the throttle windows (tests). Default: Date.now. */
  now?: () => number;
}

export interface ResolvedAuditConfig {
  dataDir: string;
  sqliteFile: string;
  databaseUrl: string | null;
  databaseSchema: string;
  instanceId: string;
  signingKeyPath: string | undefined;
  hmacKey: string | undefined;
  hmacKeyFile: string | undefined;
  checkpointEvery: number;
  checkpointIntervalMs: number;
  commitWindowMs: number;
  /** Witness file (absolute), or null when turned off. */
  witnessFile: string | null;
  witnessHeadIntervalMs: number;
  adoptWitness: boolean | number;
  readyProbeCacheMs: number;
  sqliteLocking: 'exclusive' | 'shared';
  /** null: throttling off. */
  throttle: { failures: number; windowMs: number; maxSources: number; maxFailures?: number } | null;
  production: boolean;
  /** Gives back a generated chain id claimed for this process (call on shutdown). */
  releaseInstanceId: () => void;
}

/** The strict parser shared by every setting (lib/env-options.ts). */
function int(value: string | undefined, name: string, min: number): number | undefined {
  return new EnvReader({ [name]: value }).int(name, { min });
}

/** Chain ids claimed by gateways of this process (tests run several in one process). */
const claimedHere = new Set<string>();

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Stable chain id for an embedded (SQLite) gateway: generated once and kept next to the
 * database, so a restart (even after a crash) continues the same chain. A second live
 * gateway on the same data directory gets a chain of its own (`<id>-p<pid>`) instead of
 * contending for the first one's head.
 */
function claimPersistentInstanceId(dataDir: string): { id: string; release: () => void } {
  const file = path.join(dataDir, 'audit-instance-id');
  mkdirSync(dataDir, { recursive: true });
  let base = existsSync(file) ? readFileSync(file, 'utf8').trim() : '';
  if (!base) {
    base = `${hostname().replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 40)}-${randomBytes(3).toString('hex')}`;
    writeFileSync(file, `${base}\n`);
  }
  const lock = path.join(dataDir, 'audit-instance-id.lock');
  const holder = existsSync(lock) ? Number(readFileSync(lock, 'utf8').trim()) : NaN;
  const takenElsewhere = Number.isInteger(holder) && holder !== process.pid && alive(holder);
  if (takenElsewhere || claimedHere.has(`${dataDir}|${base}`)) {
    let id = `${base}-p${process.pid}`;
    for (let n = 2; claimedHere.has(`${dataDir}|${id}`); n++) id = `${base}-p${process.pid}-${n}`;
    claimedHere.add(`${dataDir}|${id}`);
    return { id, release: () => claimedHere.delete(`${dataDir}|${id}`) };
  }
  writeFileSync(lock, `${process.pid}\n`);
  claimedHere.add(`${dataDir}|${base}`);
  return {
    id: base,
    release: () => {
      claimedHere.delete(`${dataDir}|${base}`);
      try {
        if (Number(readFileSync(lock, 'utf8').trim()) === process.pid) rmSync(lock, { force: true });
      } catch {
        /* already gone */
      }
    },
  };
}

export function resolveAuditConfig(
  opts: AuditOptions,
  ctx: { env: NodeJS.ProcessEnv; production: boolean; gatewayInstanceId?: string | undefined; cwd?: string },
): ResolvedAuditConfig {
  const env = ctx.env;
  const cwd = ctx.cwd ?? process.cwd();
  const dataDir = path.resolve(cwd, opts.dataDir ?? env.DATA_DIR ?? 'data');
  const databaseUrl = opts.databaseUrl ?? (env.AUDIT_DATABASE_URL || null);
  const explicitId = opts.instanceId ?? (env.AUDIT_INSTANCE_ID || undefined) ?? ctx.gatewayInstanceId;
  // Numbers first: a bad value must fail before a chain id is claimed.
  const checkpointEvery = opts.checkpointEvery ?? int(env.AUDIT_CHECKPOINT_EVERY, 'AUDIT_CHECKPOINT_EVERY', 1) ?? 1000;
  const checkpointIntervalMs = opts.checkpointIntervalMs ?? int(env.AUDIT_CHECKPOINT_INTERVAL_MS, 'AUDIT_CHECKPOINT_INTERVAL_MS', 0) ?? 60_000;
  const commitWindowMs = opts.commitWindowMs ?? int(env.AUDIT_COMMIT_WINDOW_MS, 'AUDIT_COMMIT_WINDOW_MS', 0) ?? 0;
  const locking = opts.sqliteLocking ?? (env.AUDIT_SQLITE_LOCKING || 'exclusive');
  if (locking !== 'exclusive' && locking !== 'shared') {
    throw new Error(`AUDIT_SQLITE_LOCKING=${JSON.stringify(locking)} must be "exclusive" or "shared": fix or unset it.`);
  }
  const witnessHeadIntervalMs = opts.witnessHeadIntervalMs ?? int(env.AUDIT_WITNESS_HEAD_INTERVAL_MS, 'AUDIT_WITNESS_HEAD_INTERVAL_MS', 0) ?? 1000;
  const readyProbeCacheMs = opts.readyProbeCacheMs ?? int(env.AUDIT_READY_PROBE_CACHE_MS, 'AUDIT_READY_PROBE_CACHE_MS', 0) ?? 5000;
  const throttle =
    opts.throttle === false
      ? null
      : {
          failures: opts.throttle?.failures ?? int(env.AUDIT_THROTTLE_FAILURES, 'AUDIT_THROTTLE_FAILURES', 1) ?? 20,
          windowMs: opts.throttle?.windowMs ?? int(env.AUDIT_THROTTLE_WINDOW_MS, 'AUDIT_THROTTLE_WINDOW_MS', 1) ?? 60_000,
          maxSources: opts.throttle?.maxSources ?? 10_000,
          ...(opts.throttle?.maxFailures !== undefined ? { maxFailures: opts.throttle.maxFailures } : {}),
        };
  const claimed = explicitId === undefined && !databaseUrl ? claimPersistentInstanceId(dataDir) : null;
  const instanceId = explicitId ?? claimed?.id ?? hostname();
  if (!/^[A-Za-z0-9._:-]{1,100}$/.test(instanceId)) {
    claimed?.release();
    throw new Error(`Audit instance id ${JSON.stringify(instanceId)} is invalid: use 1-100 letters, digits, ".", "_", ":" or "-" (AUDIT_INSTANCE_ID).`);
  }
  const witnessGiven = opts.witnessFile ?? (env.AUDIT_WITNESS_FILE || undefined);
  const witnessOff = witnessGiven === false || witnessGiven === 'off';
  if (witnessOff && ctx.production) {
    claimed?.release();
    throw new Error('The audit witness cannot be turned off in production (signed checkpoints must also live outside the store): set AUDIT_WITNESS_FILE to a path on another disk.');
  }
  const witnessFile = witnessOff ? null : path.resolve(cwd, typeof witnessGiven === 'string' ? witnessGiven : path.join(dataDir, 'audit-witness.jsonl'));
  return {
    dataDir,
    witnessFile,
    witnessHeadIntervalMs,
    adoptWitness: adoptWitnessOf(opts.adoptWitness ?? env.AUDIT_WITNESS_ADOPT, ctx.production),
    sqliteFile: path.resolve(cwd, opts.sqliteFile ?? env.AUDIT_SQLITE_FILE ?? path.join(dataDir, 'audit.db')),
    databaseUrl,
    databaseSchema: opts.databaseSchema ?? env.AUDIT_DATABASE_SCHEMA ?? 'motlan_audit',
    instanceId,
    signingKeyPath: opts.signingKeyPath ?? (env.AUDIT_SIGNING_KEY || undefined),
    hmacKey: opts.hmacKey ?? (env.AUDIT_HMAC_KEY || undefined),
    hmacKeyFile: opts.hmacKeyFile ?? (env.AUDIT_HMAC_KEY_FILE || undefined),
    checkpointEvery,
    checkpointIntervalMs,
    commitWindowMs,
    readyProbeCacheMs,
    sqliteLocking: locking,
    throttle,
    production: ctx.production,
    releaseInstanceId: claimed?.release ?? (() => {}),
  };
}

/** Opens (without `init`) the store the configuration names. */
export function openStore(
  cfg: Pick<ResolvedAuditConfig, 'databaseUrl' | 'databaseSchema' | 'sqliteFile'> & { sqliteLocking?: 'exclusive' | 'shared' },
  opts: { readonly?: boolean; sqliteWriter?: 'worker' | 'inline' } = {},
): AuditStore {
  return cfg.databaseUrl
    ? new PostgresAuditStore({ url: cfg.databaseUrl, schema: cfg.databaseSchema, readonly: opts.readonly ?? false })
    : new SqliteAuditStore({
        file: cfg.sqliteFile,
        readonly: opts.readonly ?? false,
        writer: opts.sqliteWriter ?? 'worker',
        ...(cfg.sqliteLocking ? { locking: cfg.sqliteLocking } : {}),
      });
}

/** `AUDIT_WITNESS_ADOPT`: `true` (development only) or the store's head seq to adopt at. */
function adoptWitnessOf(given: boolean | number | string | undefined, production: boolean): boolean | number {
  if (given === undefined || given === false || given === '' || given === 'false') return false;
  if (given === true || given === 'true') {
    if (production) {
      throw new Error('AUDIT_WITNESS_ADOPT=true is refused in production (left set, it would adopt a store whose witness an insider removed): set it to the store\'s current head seq, which the refusal message names, for one start.');
    }
    return true;
  }
  const seq = typeof given === 'number' ? given : /^[0-9]{1,15}$/.test(given) ? Number(given) : NaN;
  if (!Number.isSafeInteger(seq)) throw new Error(`AUDIT_WITNESS_ADOPT must be true (development only) or the store's head seq (a whole number), not "${String(given)}".`);
  return seq;
}
