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
import { ChainConflictError, type AuditStore, type ChainHead } from './store.js';
import type { Signer } from './keys.js';

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
  /** Clock, for tests. Default: Date.now. */
  now?: () => number;
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
  }

  /** Reads the chain head and registers the public key; starts the checkpoint timer. */
  async start(): Promise<void> {
    await this.store.registerKey({ keyId: this.signer.keyId, publicKeyPem: this.signer.publicKeyPem, createdAt: this.now() });
    await this.resync();
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
    this.head = await this.store.head(this.instanceId);
    this.lastCheckpointSeq = (await this.store.lastCheckpoint(this.instanceId))?.seq ?? 0;
    this.needsResync = false;
  }

  /** Queues an entry; resolves with its record once durable, rejects with `AuditUnavailableError`. */
  append(entry: AuditEntry): Promise<AuditRecord> {
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
  status(): { ok: boolean; lastError: string | null; head: ChainHead | null; committed: number } {
    return { ok: this.lastError === null, lastError: this.lastError, head: this.head, committed: this.committed };
  }

  /**
   * Readiness after a failed commit: tries an empty transaction through the same
   * write path (lock, head check, commit). Resolves null when writes work again.
   */
  async probe(): Promise<string | null> {
    if (this.lastError === null) return null;
    await this.flush();
    if (this.lastError === null) return null;
    try {
      await this.store.appendBatch(this.instanceId, await this.store.head(this.instanceId), [], []);
      this.lastError = null;
      this.needsResync = true;
      return null;
    } catch (err) {
      this.lastError = (err as Error).message;
      return this.lastError;
    }
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
        return;
      } catch (err) {
        this.needsResync = true;
        // Another writer moved the head (same instance id elsewhere): re-read it and chain the batch again.
        if (err instanceof ChainConflictError && attempt < 4) continue;
        this.lastError = (err as Error).message;
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
