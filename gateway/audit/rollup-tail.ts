/**
 * When the statistics rollups catch up with the records (both stores).
 *
 * An append commits the records only, plus a mark that its chain exists (`stats_rolled`). The
 * rollups are added later, by `rollOnce` of the store: in ONE transaction it reads every chain's
 * records after its mark, upserts their contributions and moves the marks past them, so a record
 * is counted exactly once, and one that is committed is never lost to the statistics (the marks
 * are as durable as the records; a crash before the roll leaves them to the next one).
 *
 * Why not in the append's own transaction, as before: a 25-field prefill record touches about
 * 260 rollup rows (4 cubes × 6 grains × its registries and fields). At low load every record is
 * its own commit, so each paid all of them (measured 7.7 ms of CPU per record, batch of one);
 * rolled a second's records at a time, rows with the same key merge first.
 *
 * Exactness is kept where it is read: the statistics call `now()` before every figure, which
 * rolls whatever is committed, so a figure always reconciles with the records (test/stats-rollup).
 */

import { addRecords, emptyBatch, type RollupBatch } from '../core/stats-rollup.js';
import { rowToRecord } from './store.js';

/** Records rolled per chain and transaction (bounds a roll's memory and its transaction's length). */
export const ROLL_PAGE = 5000;

/** What one roll read: the contributions, and each chain's mark from → to. */
export interface TailRead {
  batch: RollupBatch;
  moved: Array<{ instanceId: string; from: number; to: number }>;
  /** A chain had a full page: roll again. */
  more: boolean;
}

/**
 * Reads every chain's records after its mark, ROLL_PAGE at most per chain, and sums them. `after`
 * runs the store's query: the chain's records with seq > `seq`, in seq order, `limit` at most.
 */
export async function readTails(
  marks: Array<Record<string, unknown>>,
  after: (instanceId: string, seq: number, limit: number) => Promise<Array<Record<string, unknown>>>,
): Promise<TailRead> {
  const out: TailRead = { batch: emptyBatch(), moved: [], more: false };
  for (const m of marks) {
    const instanceId = String(m.instance_id);
    const from = Number(m.seq);
    const rows = await after(instanceId, from, ROLL_PAGE);
    if (rows.length === 0) continue;
    addRecords(out.batch, rows.map((row) => rowToRecord(row)));
    out.moved.push({ instanceId, from, to: Number(rows[rows.length - 1]!.seq) });
    if (rows.length === ROLL_PAGE) out.more = true;
  }
  return out;
}

export interface RollupTailOptions {
  /** Rolls the next page of every chain's unrolled records; true when a chain has more. */
  rollOnce: () => Promise<boolean>;
  /** How long after an append the background roll runs. Default 1000 ms. */
  delayMs?: number;
  /** A failed background roll (the next one, or the next statistics read, retries). Default: ignored. */
  onError?: (err: unknown) => void;
}

export class RollupTail {
  private chain: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private readonly delayMs: number;

  constructor(private readonly opts: RollupTailOptions) {
    this.delayMs = opts.delayMs ?? 1000;
  }

  /** Chains whose statistics mark this process has seen committed (marks are never deleted). */
  private readonly marked = new Set<string>();

  /** Whether an append of `instanceId` must still insert its chain's mark. */
  needsMark(instanceId: string): boolean {
    return !this.marked.has(instanceId);
  }

  /** An append of `records` records of `instanceId` committed (with its mark): roll them soon. */
  committed(instanceId: string, records: number): void {
    if (records === 0) return;
    this.marked.add(instanceId);
    this.appended();
  }

  /** Records were committed: roll them within `delayMs` (one timer whatever the number of appends). */
  appended(): void {
    if (this.timer || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.now().catch((err) => this.opts.onError?.(err));
    }, this.delayMs);
    this.timer.unref();
  }

  /** A roll queued behind the running one and not started yet: later callers join it. */
  private queued: Promise<void> | null = null;

  /**
   * Rolls every record committed so far; rolls run one at a time. A roll that has not started
   * yet also covers whoever asks meanwhile (the dashboard's concurrent calls share one roll).
   */
  now(): Promise<void> {
    if (this.queued) return this.queued;
    const run = this.chain.then(async () => {
      this.queued = null;
      while (await this.opts.rollOnce());
    });
    this.queued = run;
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** Stops the timer and rolls what is left (a failure leaves it to the next start's first roll). */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.now().catch((err) => this.opts.onError?.(err));
  }
}
