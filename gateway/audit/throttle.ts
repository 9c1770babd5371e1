/**
 * Cheap refusals for failing sources, so a flood cannot exhaust the audit store.
 *
 * Every unauthenticated request (and every refused request of an anonymous caller) costs
 * one fsync'd record. Per source address (Fastify `request.ip`), after `failures` such
 * failures within a window of `windowMs`, further requests from that address WITHOUT a
 * valid API key are answered 429 before any work and without a record of their own; when
 * the window ends, ONE summary record says how many requests the burst covered
 * (`covers`, reason SOURCE_THROTTLED). A legitimate client behind the same address still
 * gets through with its key. State is bounded (`maxSources`); the oldest source is
 * summarised and dropped first.
 */

/**
 * The source a failure is counted against: an IPv4 address, or the /64 network of an IPv6
 * address. One IPv6 host usually holds a whole /64 (2^64 addresses): counted per address,
 * it could write `failures` records from each of as many addresses as it likes and never be
 * throttled. IPv4-mapped addresses (`::ffff:a.b.c.d`, dual-stack sockets) count as IPv4.
 */
export function throttleSource(ip: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(ip);
  if (mapped) return mapped[1]!;
  if (!ip.includes(':')) return ip;
  const zoneless = ip.split('%')[0]!.toLowerCase();
  const [head = '', tail = ''] = zoneless.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = zoneless.includes('::') ? (tail === '' ? [] : tail.split(':')) : [];
  const groups = zoneless.includes('::') ? [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right] : left;
  return `${groups.slice(0, 4).map((g) => (g === '' ? '0' : g.replace(/^0+(?=.)/, ''))).join(':')}::/64`;
}

export interface ThrottleSettings {
  /** Failures within a window before the source is throttled. */
  failures: number;
  /** Window length (ms). */
  windowMs: number;
  /** Most sources tracked at once. */
  maxSources: number;
  /**
   * Failures of ALL sources within a window before every key-less request is throttled, under
   * one summary (source `*`): many addresses (an IPv6 /48 holds 65 536 /64s, a botnet) must not
   * buy `failures` records each. Default: 50 × `failures`.
   */
  maxFailures?: number;
  /** Clock (ms). */
  now: () => number;
}

/** One throttled burst of one source, for its summary record. */
export interface ThrottledBurst {
  source: string;
  /** Requests answered 429 without a record of their own. */
  covers: number;
  /** First and last throttled request (ms since the epoch). */
  from: number;
  to: number;
}

interface SourceState {
  windowStart: number;
  failures: number;
  throttled: number;
  burstStart: number;
  lastAt: number;
}

/** The bucket of requests throttled by the global budget rather than their own source's. */
export const ALL_SOURCES = '*';

export class FailureThrottle {
  private readonly sources = new Map<string, SourceState>();
  private global = { windowStart: Number.NEGATIVE_INFINITY, failures: 0 };

  constructor(
    readonly settings: ThrottleSettings,
    /** Receives each finished burst (the audit concern writes its summary record). */
    private readonly onBurst: (burst: ThrottledBurst) => void,
  ) {}

  private state(source: string): SourceState {
    const now = this.settings.now();
    let s = this.sources.get(source);
    if (s && now - s.windowStart >= this.settings.windowMs) {
      this.end(source, s);
      s = undefined;
    }
    if (!s) {
      if (this.sources.size >= this.settings.maxSources) this.sweep();
      if (this.sources.size >= this.settings.maxSources) {
        const [oldest, st] = this.sources.entries().next().value as [string, SourceState];
        this.end(oldest, st);
      }
      s = { windowStart: now, failures: 0, throttled: 0, burstStart: 0, lastAt: 0 };
      this.sources.set(source, s);
    }
    return s;
  }

  private end(source: string, s: SourceState): void {
    this.sources.delete(source);
    if (s.throttled > 0) this.onBurst({ source, covers: s.throttled, from: s.burstStart, to: s.lastAt });
  }

  /** True while the source has used up its failures in the current window. */
  throttled(source: string): boolean {
    const s = this.sources.get(source);
    if (!s) return false;
    if (this.settings.now() - s.windowStart >= this.settings.windowMs) {
      this.end(source, s);
      return false;
    }
    return s.failures >= this.settings.failures;
  }

  /**
   * The bucket a key-less request of `source` is throttled under (its own source, or
   * ALL_SOURCES once every source together used the global budget), or null to let it through.
   */
  throttledAs(source: string): string | null {
    if (this.throttled(source)) return source;
    const now = this.settings.now();
    if (now - this.global.windowStart >= this.settings.windowMs) this.global = { windowStart: now, failures: 0 };
    return this.global.failures >= (this.settings.maxFailures ?? 50 * this.settings.failures) ? ALL_SOURCES : null;
  }

  /** Counts a request answered 429 by the throttle (it has no record of its own). */
  count(source: string): void {
    const s = this.state(source);
    const now = this.settings.now();
    if (s.throttled === 0) s.burstStart = now;
    s.throttled++;
    s.lastAt = now;
  }

  /** Counts a failed (recorded) request of the source. */
  failed(source: string): void {
    this.state(source).failures++;
    const now = this.settings.now();
    if (now - this.global.windowStart >= this.settings.windowMs) this.global = { windowStart: now, failures: 0 };
    this.global.failures++;
  }

  /** Ends the windows that are over (their bursts are summarised). */
  sweep(): void {
    const now = this.settings.now();
    for (const [source, s] of [...this.sources]) if (now - s.windowStart >= this.settings.windowMs) this.end(source, s);
  }

  /** Summarises every pending burst (shutdown). */
  flush(): void {
    for (const [source, s] of [...this.sources]) this.end(source, s);
  }

  /** Sources tracked (tests, metrics). */
  size(): number {
    return this.sources.size;
  }
}
