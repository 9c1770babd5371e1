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
 * 430 rollup rows (5 cubes × 2 to 7 grains × its registries and fields). At low load every record is
 * its own commit, so each paid all of them (measured 7.7 ms of CPU per record, batch of one);
 * rolled a second's records at a time, rows with the same key merge first.
 *
 * Exactness is kept where it is read: the statistics call `now()` before every figure, which
 * rolls whatever is committed, so a figure always reconciles with the records (test/stats-rollup).
 */

import { addRecords, emptyBatch, type RollupBatch, type RollupRecord } from '../core/stats-rollup.js';
import { rowToRecord } from './store.js';

/** Records rolled per chain and transaction (bounds a roll's memory and its transaction's length). */
export const ROLL_PAGE = 5000;
/** Records kept in memory per chain (RecentRecords): beyond, the chain's run is dropped (read back). */
export const RECENT_MAX = ROLL_PAGE * 2;

/**
 * Per chain, the records THIS process committed and has not rolled yet, as one run of
 * consecutive seqs: a roll takes them from here instead of reading them back (a SELECT, the
 * clone from the writer thread and the JSON parsing of each record cost more than summing it).
 *
 * Why it is exact: (instance, seq) is unique in the store and a record is remembered only once
 * its append committed, so the run IS the stored records of its seqs. A roll uses it only when,
 * after dropping what the mark already covers, it starts at mark + 1 — the very records the
 * SELECT would return (records after the run are left to the next roll) — and moves the mark
 * with the same guard (SQLite: the UPDATE's expected mark; PostgreSQL: the marks locked FOR
 * UPDATE). Anything else (a gap: an append it did not see, a failed or unknown commit, a run
 * dropped for its size, a crash: memory empty) reads the store as before; a run that does not
 * line up is dropped, never patched.
 */
export class RecentRecords {
  private readonly runs = new Map<string, RollupRecord[]>();
  /** Records rolled from memory and read back from the store (tests: the memory path is taken). */
  readonly counts = { memory: 0, store: 0 };

  /** `records` (consecutive seqs) of `instanceId` committed. */
  remember(instanceId: string, records: readonly RollupRecord[]): void {
    if (records.length === 0) return;
    let run = this.runs.get(instanceId);
    // Not following the run (another writer's records between, a failed append): start over.
    if (run && run.length > 0 && run[run.length - 1]!.seq + 1 !== records[0]!.seq) run = undefined;
    if (!run) this.runs.set(instanceId, (run = []));
    for (const r of records) {
      if (run.length > 0 && run[run.length - 1]!.seq + 1 !== r.seq) {
        this.runs.delete(instanceId);
        return;
      }
      run.push(r);
    }
    // Unrolled for long (the rolls fail, or another process keeps the mark elsewhere): read back.
    if (run.length > RECENT_MAX) this.runs.delete(instanceId);
  }

  /**
   * The chain's next `limit` records after `mark` from memory, or null (read them from the store).
   * Drops what the mark covers (rolled by this or another process, or by a rebuild).
   */
  take(instanceId: string, mark: number, limit: number): RollupRecord[] | null {
    const run = this.runs.get(instanceId);
    if (!run || run.length === 0) return null;
    let i = 0;
    while (i < run.length && run[i]!.seq <= mark) i++;
    if (i > 0) run.splice(0, i);
    if (run.length === 0) {
      this.runs.delete(instanceId);
      return null;
    }
    if (run[0]!.seq !== mark + 1) {
      // A gap before the run (records it did not see): the store has them; the run may line up
      // after a roll read them (records not after the mark are dropped above).
      return null;
    }
    return run.slice(0, limit);
  }

  /** A roll committed: the chain's records up to `to` are in the rollups. */
  rolled(instanceId: string, to: number): void {
    const run = this.runs.get(instanceId);
    if (!run) return;
    let i = 0;
    while (i < run.length && run[i]!.seq <= to) i++;
    if (i === run.length) this.runs.delete(instanceId);
    else if (i > 0) run.splice(0, i);
  }

  /** Forgets a chain, or every chain (a rebuild, an archive, raw SQL, a roll's guard tripped). */
  forget(instanceId?: string): void {
    if (instanceId === undefined) this.runs.clear();
    else this.runs.delete(instanceId);
  }

  /** Records held (tests). */
  size(): number {
    let n = 0;
    for (const run of this.runs.values()) n += run.length;
    return n;
  }
}

/** What one roll read: the contributions, and each chain's mark from → to. */
export interface TailRead {
  batch: RollupBatch;
  moved: Array<{ instanceId: string; from: number; to: number; fromMemory: boolean }>;
  /** A chain had a full page: roll again. */
  more: boolean;
}

/**
 * Reads every chain's records after its mark, ROLL_PAGE at most per chain, and sums them. `after`
 * runs the store's query: the chain's records with seq > `seq`, in seq order, `limit` at most.
 * `recent`: the records this process committed, taken instead of the query when they line up.
 */
export async function readTails(
  marks: Array<Record<string, unknown>>,
  after: (instanceId: string, seq: number, limit: number) => Promise<Array<Record<string, unknown>>>,
  recent?: RecentRecords,
): Promise<TailRead> {
  const out: TailRead = { batch: emptyBatch(), moved: [], more: false };
  for (const m of marks) {
    const instanceId = String(m.instance_id);
    const from = Number(m.seq);
    const mem = recent?.take(instanceId, from, ROLL_PAGE) ?? null;
    if (mem) {
      addRecords(out.batch, mem);
      recent!.counts.memory += mem.length;
      out.moved.push({ instanceId, from, to: mem[mem.length - 1]!.seq, fromMemory: true });
      if (mem.length === ROLL_PAGE) out.more = true;
      continue;
    }
    const rows = await after(instanceId, from, ROLL_PAGE);
    if (rows.length === 0) continue;
    addRecords(out.batch, rows.map((row) => rowToRecord(row)));
    if (recent) recent.counts.store += rows.length;
    out.moved.push({ instanceId, from, to: Number(rows[rows.length - 1]!.seq), fromMemory: false });
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

  /** The records this process committed and has not rolled (the roll takes them from here). */
  readonly recent = new RecentRecords();

  /** An append of `records` of `instanceId` committed (with its mark): roll them soon. */
  committed(instanceId: string, records: readonly RollupRecord[]): void {
    if (records.length === 0) return;
    this.marked.add(instanceId);
    this.recent.remember(instanceId, records);
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
