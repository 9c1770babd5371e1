/**
 * The audit log: chains entries into records, commits them in groups, and signs
 * checkpoints.
 *
 * Group commit: `append()` queues an entry and returns a promise. One flush runs at
 * a time; everything queued while it runs (or within `commitWindowMs`) goes into
 * the next flush, committed in ONE transaction (one fsync), and all its waiters
 * are released together. Under load, batches grow by themselves; at rest a
 * record is committed on the next tick.
 *
 * The chain head moves only after a commit succeeds, so a failed commit leaves no
 * hole: its requests get `AuditUnavailableError` (→ 503, nothing shared) and the
 * next flush reuses the same sequence numbers.
 */
import { chainRecord, checkpointMessage, genesisHash, type AuditEntry, type AuditRecord, type Checkpoint } from './record.js';
import { AuditStoreLostError, ChainConflictError, type AuditStore, type ChainHead } from './store.js';
import type { Signer } from './keys.js';
import type { CheckpointWitness, WitnessedCheckpoint } from './witness.js';

export interface AuditLogOptions {
  store: AuditStore;
  /** This replica's chain. */
  instanceId: string;
  signer: Signer;
  /** Sign a checkpoint after this many records. Default: 1000. */
  checkpointEvery?: number;
  /** …or after this long when records were added since the last one. Default: 60 000 ms. */
  checkpointIntervalMs?: number;
  /** Wait this long before a flush to gather more records (0: next tick). Default: 0. */
  commitWindowMs?: number;
  /** Most records per transaction. Default: 1000. */
  maxBatch?: number;
  /** Called after each commit (metrics: latency and batch size). */
  onCommit?: (info: { records: number; checkpoints: number; ms: number }) => void;
  /** Called when a commit fails (logging). */
  onError?: (err: Error) => void;
  /** Called when checkpoints cannot be written to the witness (logging). */
  onWitnessError?: (err: Error) => void;
  /** Clock, for tests. Default: Date.now. */
  now?: () => number;
  /**
   * Where every signed checkpoint is also written, outside the store (witness.ts). At
   * start, a witness that knows this chain further than the store does stops the log
   * (`AuditChainLostError`). Default: none.
   */
  witness?: CheckpointWitness;
  /**
   * Also witness the latest checkpoints of the OTHER chains the store holds (replicas
   * sharing a PostgreSQL store), each time this log signs one: rewriting one replica's
   * chain then contradicts another replica's witness. Default: true.
   */
  witnessOtherChains?: boolean;
  /**
   * Between stored checkpoints, sign the chain head and write it to the witness (not the
   * store) at most this often after a commit, so the tail after the last checkpoint cannot
   * be cut unnoticed either. 0: after every commit. Default: 1000 ms.
   */
  witnessHeadIntervalMs?: number;
  /**
   * How long a successful readiness probe (a real write, see `probe()`) is trusted before
   * /ready writes again, so a load balancer polling every second does not write every second.
   * A failed commit forgets it at once. Default: 5000 ms (on the `now` clock).
   */
  probeCacheMs?: number;
}

/**
 * The witness knows this chain further than the store does: the store was lost,
 * replaced, truncated or rewritten. The log refuses to continue the chain silently.
 */
export class AuditChainLostError extends Error {
  readonly code = 'AUDIT_CHAIN_LOST';
  constructor(message: string) {
    super(message);
    this.name = 'AuditChainLostError';
  }
}

/** The audit store could not make the record durable: the request must not share data. */
export class AuditUnavailableError extends Error {
  readonly code = 'AUDIT_UNAVAILABLE';
  constructor(cause: unknown) {
    super(`The audit store could not commit the record: ${(cause as Error)?.message ?? String(cause)}`);
    this.name = 'AuditUnavailableError';
  }
}

interface Pending {
  entry: AuditEntry;
  resolve: (r: AuditRecord) => void;
  reject: (e: Error) => void;
}

export class AuditLog {
  readonly instanceId: string;
  readonly store: AuditStore;
  private readonly signer: Signer;
  private readonly every: number;
  private readonly intervalMs: number;
  private readonly windowMs: number;
  private readonly maxBatch: number;
  private readonly now: () => number;
  private readonly opts: AuditLogOptions;

  private head: ChainHead | null = null;
  private lastCheckpointSeq = 0;
  private needsResync = true;
  private queue: Pending[] = [];
  private flushing: Promise<void> | null = null;
  private scheduled = false;
  private checkpointDue = false;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private lastError: string | null = null;
  private committed = 0;
  /** The newest checkpoint this log signed and committed (published at /audit/v1/checkpoints/latest). */
  private lastSigned: WitnessedCheckpoint | null = null;
  /** Checkpoints committed to the store but not yet written to the witness (retried at the next one). */
  private unwitnessed: WitnessedCheckpoint[] = [];
  private lastHeadWitnessedAt = -Infinity;
  private witnessError: string | null = null;
  /** Set once the store's chain went back under this log: every later commit is refused. */
  private chainLost: string | null = null;
  /** Highest seq of other chains already witnessed by this log. */
  private readonly othersWitnessed = new Map<string, number>();
  /** Why the store is lost (sticky until restart): its file was removed or replaced while serving. */
  private lost: string | null = null;
  private lastProbe: { at: number; problem: string | null } | null = null;
  private probing: Promise<string | null> | null = null;
  private readonly probeCacheMs: number;

  constructor(opts: AuditLogOptions) {
    this.opts = opts;
    this.store = opts.store;
    this.instanceId = opts.instanceId;
    this.signer = opts.signer;
    this.every = opts.checkpointEvery ?? 1000;
    this.intervalMs = opts.checkpointIntervalMs ?? 60_000;
    this.windowMs = opts.commitWindowMs ?? 0;
    this.maxBatch = opts.maxBatch ?? 1000;
    this.now = opts.now ?? Date.now;
    this.probeCacheMs = opts.probeCacheMs ?? 5000;
  }

  /** Reads the chain head and registers the public key; starts the checkpoint timer. */
  async start(): Promise<void> {
    await this.store.registerKey({ keyId: this.signer.keyId, publicKeyPem: this.signer.publicKeyPem, createdAt: this.now() });
    await this.resync();
    await this.checkWitness();
    this.lastSigned = await this.store.lastCheckpoint(this.instanceId);
    if (this.intervalMs > 0) {
      this.timer = setInterval(() => {
        if (this.head && this.head.seq > this.lastCheckpointSeq) {
          this.checkpointDue = true;
          this.schedule();
        }
      }, this.intervalMs);
      this.timer.unref();
    }
  }

  private async resync(): Promise<void> {
    const known = this.head;
    const head = await this.store.head(this.instanceId);
    // The chain never moves back: records this log committed vanished from the store.
    if (known && (!head || head.seq < known.seq)) {
      const lost = `The audit chain "${this.instanceId}" went back from seq ${known.seq} to ${head ? `seq ${head.seq}` : 'empty'} in ${this.store.location}: committed records were deleted (store truncated, replaced or removed). Refusing to continue the chain; restore the store, or restart with a new chain id.`;
      // The last head this log committed goes to the witness, so verify and the next start see the loss.
      if (this.chainLost === null) await this.writeWitness([{ ...this.checkpoint(known.seq, known.hash), head: true }]);
      this.chainLost = lost;
      throw new AuditChainLostError(lost);
    }
    this.head = head;
    this.lastCheckpointSeq = (await this.store.lastCheckpoint(this.instanceId))?.seq ?? 0;
    this.needsResync = false;
  }

  /**
   * Refuses to continue a chain the witness knows further than the store: never restart
   * or fork a chain silently (issue 11). Checks the newest witnessed checkpoint of this
   * chain: the store must still hold that seq with that hash, and its signed checkpoint.
   */
  private async checkWitness(): Promise<void> {
    const w = this.opts.witness?.latest().get(this.instanceId);
    if (!w) return;
    const where = `the audit store ${this.store.location}`;
    const fix =
      'The gateway refuses to continue or restart this chain silently. Restore the store from a backup; or, if its records are lost for good, ' +
      'give this replica a NEW chain id (AUDIT_INSTANCE_ID, or with SQLite remove the generated DATA_DIR/audit-instance-id), ' +
      'record the incident, and expect `motlan audit verify --witness` to keep reporting the old chain as deleted.';
    const seen = `The witness ${this.opts.witness!.location} holds a signed checkpoint of chain "${this.instanceId}" at seq ${w.seq} (${new Date(w.ts).toISOString()})`;
    const head = this.head;
    if (!head || head.seq < w.seq) {
      throw new AuditChainLostError(`${seen}, but ${where} ${head ? `ends at seq ${head.seq}` : 'holds no record of it'}: the store was lost, replaced or truncated. ${fix}`);
    }
    const anchor = await this.store.anchor(this.instanceId);
    if (anchor && anchor.seq > w.seq) return; // archived since: the archive file holds that stretch
    const record = anchor?.seq === w.seq ? null : await this.store.get(this.instanceId, w.seq);
    const hash = anchor?.seq === w.seq ? anchor.hash : record?.hash;
    if (hash !== w.hash) {
      throw new AuditChainLostError(`${seen}, but ${where} holds ${hash ? 'a different record' : 'no record'} at that seq: the chain was rewritten. ${fix}`);
    }
    if (!w.head && anchor?.seq !== w.seq && !(await this.store.checkpoints(this.instanceId, { fromSeq: w.seq, toSeq: w.seq })).some((c) => c.hash === w.hash)) {
      throw new AuditChainLostError(`${seen}, but ${where} no longer holds that checkpoint: checkpoints were deleted. ${fix}`);
    }
  }

  /** The newest checkpoint this log signed (or found at start), or null. */
  latestCheckpoint(): WitnessedCheckpoint | null {
    return this.lastSigned;
  }

  /** Why checkpoints are not reaching the witness, or null (readiness). Retries the pending ones first. */
  async witnessProblem(): Promise<string | null> {
    if (this.witnessError !== null) await this.writeWitness([]);
    return this.witnessError;
  }

  /** Copies committed checkpoints (and, once per checkpoint, the other chains' latest) to the witness. */
  private async writeWitness(fresh: WitnessedCheckpoint[]): Promise<void> {
    const witness = this.opts.witness;
    if (!witness) return;
    this.unwitnessed.push(...fresh);
    if (fresh.some((c) => !c.head) && (this.opts.witnessOtherChains ?? true)) {
      try {
        for (const id of await this.store.instances()) {
          if (id === this.instanceId) continue;
          const cp = await this.store.lastCheckpoint(id);
          if (cp && cp.seq > (this.othersWitnessed.get(id) ?? 0)) this.unwitnessed.push(cp);
        }
      } catch {
        /* the other chains are witnessed at the next checkpoint; this one's must not wait */
      }
    }
    const pending = this.unwitnessed;
    this.unwitnessed = [];
    try {
      await witness.append(pending);
    } catch (err) {
      // The records are committed; the checkpoints stay pending (retried next time) and /ready reports the witness.
      this.unwitnessed = [...pending, ...this.unwitnessed];
      this.witnessError = `checkpoints cannot be written to the witness ${witness.location}: ${(err as Error).message}`;
      this.opts.onWitnessError?.(new Error(this.witnessError));
      return;
    }
    for (const cp of pending) {
      if (cp.instanceId !== this.instanceId) this.othersWitnessed.set(cp.instanceId, Math.max(cp.seq, this.othersWitnessed.get(cp.instanceId) ?? 0));
    }
    this.witnessError = null;
  }

  /** Queues an entry; resolves with its record once durable, rejects with `AuditUnavailableError`. */
  append(entry: AuditEntry): Promise<AuditRecord> {
    if (this.lost) return Promise.reject(new AuditUnavailableError(new AuditStoreLostError(this.lost)));
    if (this.closed) return Promise.reject(new AuditUnavailableError(new Error('the audit log is closed (gateway shutting down)')));
    return new Promise((resolve, reject) => {
      this.queue.push({ entry, resolve, reject });
      this.schedule();
    });
  }

  /** Records waiting for the next commit. */
  queueDepth(): number {
    return this.queue.length;
  }

  /** The last commit error, or null after a successful commit (readiness probe). */
  status(): { ok: boolean; lastError: string | null; head: ChainHead | null; committed: number; lost: string | null } {
    return { ok: this.lastError === null && this.lost === null, lastError: this.lastError, head: this.head, committed: this.committed, lost: this.lost };
  }

  /** Why the store is lost (nothing is shared until restart): file removed/replaced, or the chain went back. */
  lostReason(): string | null {
    return this.lost ?? this.chainLost;
  }

  /**
   * Readiness: can this replica commit a record right now? Resolves null when yes, else why
   * not. It writes (the store's `probe`, a real commit outside the chain; after a failed
   * commit also an empty transaction through the append path: lock, head check), because a
   * store that reads fine may be unable to commit (disk full, INSERT revoked). A success is
   * trusted for `probeCacheMs`; concurrent callers share one probe.
   */
  async probe(): Promise<string | null> {
    // A chain that went back stays refused until an operator restarts the gateway (see resync).
    if (this.chainLost !== null) return this.chainLost;
    if (this.lost) return this.lost;
    if (this.lastProbe && this.lastProbe.problem === null && this.lastError === null && this.now() - this.lastProbe.at < this.probeCacheMs) {
      return null;
    }
    this.probing ??= this.runProbe().finally(() => {
      this.probing = null;
    });
    return this.probing;
  }

  private async runProbe(): Promise<string | null> {
    await this.flush();
    if (this.chainLost !== null) return this.chainLost;
    if (this.lost) return this.lost;
    const at = this.now();
    let problem: string | null = null;
    try {
      if (this.lastError !== null) await this.store.appendBatch(this.instanceId, await this.store.head(this.instanceId), [], []);
      await this.store.probe?.(this.instanceId);
      if (this.lastError !== null) {
        this.lastError = null;
        this.needsResync = true;
      }
    } catch (err) {
      if (err instanceof AuditStoreLostError) this.lost = err.message;
      problem = this.lost ?? (err as Error).message;
      this.lastError = problem;
    }
    this.lastProbe = { at, problem };
    return problem;
  }

  private schedule(): void {
    if (this.scheduled || this.flushing) return;
    this.scheduled = true;
    const run = () => {
      this.scheduled = false;
      this.flushing = this.drain().finally(() => {
        this.flushing = null;
        if (this.queue.length > 0 || this.checkpointDue) this.schedule();
      });
    };
    if (this.windowMs > 0) setTimeout(run, this.windowMs);
    else setImmediate(run);
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0 || this.checkpointDue) {
      const batch = this.queue.splice(0, this.maxBatch);
      await this.commit(batch);
    }
  }

  private checkpoint(seq: number, hash: string): Checkpoint {
    const unsigned = { instanceId: this.instanceId, seq, hash, ts: this.now(), keyId: this.signer.keyId };
    return { ...unsigned, signature: this.signer.sign(checkpointMessage(unsigned)) };
  }

  private async commit(batch: Pending[]): Promise<void> {
    const started = performance.now();
    for (let attempt = 0; ; attempt++) {
      try {
        if (this.needsResync) await this.resync();
        const expected = this.head;
        let seq = expected?.seq ?? 0;
        let prev = expected?.hash ?? genesisHash(this.instanceId);
        let lastCp = this.lastCheckpointSeq;
        const records: AuditRecord[] = [];
        const checkpoints: Checkpoint[] = [];
        for (const p of batch) {
          const r = chainRecord(this.instanceId, ++seq, prev, p.entry);
          records.push(r);
          prev = r.hash;
          if (seq - lastCp >= this.every) {
            checkpoints.push(this.checkpoint(seq, r.hash));
            lastCp = seq;
          }
        }
        const wantTimed = this.checkpointDue && seq > lastCp;
        if (wantTimed) {
          checkpoints.push(this.checkpoint(seq, prev));
          lastCp = seq;
        }
        if (records.length === 0 && checkpoints.length === 0) {
          this.checkpointDue = false;
          return;
        }
        await this.store.appendBatch(this.instanceId, expected, records, checkpoints);
        this.head = records.length ? { seq, hash: prev } : expected;
        this.lastCheckpointSeq = lastCp;
        if (wantTimed || this.checkpointDue) this.checkpointDue = false;
        this.lastError = null;
        this.committed += records.length;
        this.opts.onCommit?.({ records: records.length, checkpoints: checkpoints.length, ms: performance.now() - started });
        records.forEach((r, i) => batch[i]!.resolve(r));
        if (checkpoints.length > 0) {
          this.lastSigned = checkpoints[checkpoints.length - 1]!;
          this.lastHeadWitnessedAt = this.now();
          await this.writeWitness(checkpoints);
        } else if (records.length > 0 && this.opts.witness && this.now() - this.lastHeadWitnessedAt >= (this.opts.witnessHeadIntervalMs ?? 1000)) {
          this.lastHeadWitnessedAt = this.now();
          const head: WitnessedCheckpoint = { ...this.checkpoint(seq, prev), head: true };
          this.lastSigned = head;
          await this.writeWitness([head]);
        }
        return;
      } catch (err) {
        this.needsResync = true;
        // Another writer moved the head (same instance id elsewhere): re-read it and chain the batch again.
        if (err instanceof ChainConflictError && attempt < 4) continue;
        if (err instanceof AuditStoreLostError) this.lost = err.message;
        this.lastError = (err as Error).message;
        this.lastProbe = null;
        this.opts.onError?.(err as Error);
        this.checkpointDue = false;
        const failure = new AuditUnavailableError(err);
        for (const p of batch) p.reject(failure);
        return;
      }
    }
  }

  /** Waits until everything queued so far is committed (or failed). */
  async flush(): Promise<void> {
    while (this.flushing || this.scheduled || this.queue.length > 0) {
      if (this.flushing) await this.flushing;
      else await new Promise((r) => setImmediate(r));
    }
  }

  /** Commits what is queued, signs a final checkpoint, stops the timer. Does not close the store. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.flush();
    if (this.head && this.head.seq > this.lastCheckpointSeq && !this.needsResync) {
      this.checkpointDue = true;
      this.schedule();
      await this.flush();
    }
    this.closed = true;
  }
}
