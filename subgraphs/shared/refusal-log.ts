/**
 * A bounded log of refusals. Anyone who reaches a subgraph can send unsigned requests,
 * and one warning per refusal let an unauthenticated flood fill the registry owner's log
 * disk. Per reason, at most `perWindow` lines per window are written; the rest are
 * counted, and one summary line per reason ("M more refusals suppressed") is written at
 * the first refusal after the window ends, or by `flush()` (called on close).
 */
export interface RefusalLogOptions {
  /** Lines written per reason per window. Default 20. */
  perWindow?: number;
  /** Window length in ms. Default 60 000 (one minute). */
  windowMs?: number;
  /** Clock, ms since the epoch (tests). Default: Date.now. */
  now?: () => number;
}

/** Writes one line; `fields` never hold the request body. */
export type RefusalLine = (fields: Record<string, unknown>, msg: string) => void;

interface Bucket {
  windowStart: number;
  written: number;
  suppressed: number;
}

export class RefusalLog {
  private readonly perWindow: number;
  private readonly windowMs: number;
  private readonly now: () => number;
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly summary: RefusalLine,
    opts: RefusalLogOptions = {},
  ) {
    this.perWindow = opts.perWindow ?? 20;
    this.windowMs = opts.windowMs ?? 60_000;
    this.now = opts.now ?? Date.now;
  }

  /** Calls `write` if `reason` still has lines left in this window, else counts the refusal. */
  refuse(reason: string, write: () => void): void {
    const now = this.now();
    this.flushExpired(now);
    let b = this.buckets.get(reason);
    if (!b) {
      b = { windowStart: now, written: 0, suppressed: 0 };
      this.buckets.set(reason, b);
    }
    if (b.written < this.perWindow) {
      b.written++;
      write();
    } else {
      b.suppressed++;
    }
  }

  /** Writes the summaries of every window that has ended (all of them when `all`). */
  flush(all = true): void {
    this.flushExpired(all ? Number.POSITIVE_INFINITY : this.now());
  }

  private flushExpired(now: number): void {
    // The number of reasons is small and fixed (the refusal codes): a scan is cheap.
    for (const [reason, b] of this.buckets) {
      if (now - b.windowStart < this.windowMs) continue;
      if (b.suppressed > 0) {
        this.summary({ reason, suppressed: b.suppressed, windowMs: this.windowMs }, `${b.suppressed} more refusals suppressed (reason ${reason})`);
      }
      this.buckets.delete(reason);
    }
  }
}
