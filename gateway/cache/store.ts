/**
 * Where cached subgraph data lives. `LocalStore` is the in-process tier: an
 * `lru-cache` bounded by size (least recently used entries go first), with a tag
 * index so a registry change evicts exactly the entries built from that record.
 * `redis-store.ts` puts Redis behind it to share entries between replicas.
 *
 * Values are JSON strings, never objects: the gateway merges later fetches into the
 * objects it receives, so handing out a shared object would let one request's data
 * leak into the next. Each hit parses its own copy.
 */
import { LRUCache } from 'lru-cache';

export interface CacheEntry {
  /** JSON of the cached value (an entity, or the `data` of a root fetch). */
  value: string;
  /** Epoch ms until which the entry is fresh. */
  freshUntil: number;
  /** Epoch ms until which the entry may be served stale (while one refresh runs); gone after. */
  staleUntil: number;
  /** Invalidation tags (see keys.ts). */
  tags: string[];
}

export interface CacheStore {
  /** 'memory' or 'redis' (local LRU in front of Redis). */
  readonly kind: 'memory' | 'redis';
  /** Entries for `keys`, in order; undefined for misses and expired entries. */
  getMany(keys: readonly string[]): Promise<Array<CacheEntry | undefined>>;
  set(key: string, entry: CacheEntry): Promise<void>;
  /** Evicts every entry carrying one of `tags` (on every replica, with Redis). Resolves to the local evictions. */
  invalidate(tags: readonly string[]): Promise<number>;
  /** Entries held in process and their approximate size in bytes. */
  stats(): { entries: number; bytes: number };
  /**
   * When the in-process LRU is full (storing one more entry of the average size would push one
   * out): the key it would push out first. Otherwise undefined. The frequency admission rule
   * (admission.ts) compares a new entry with it.
   */
  victimIfFull(): string | undefined;
  /** Readiness: null, or why the shared tier is unusable (the cache then works per replica). */
  ready(): Promise<string | null>;
  close(): Promise<void>;
}

export interface LocalStoreOptions {
  /** Bound of the LRU in bytes (2 bytes per character of key and JSON, plus measured per-entry and per-tag overhead). Required. */
  maxSizeBytes: number;
  /** Entries larger than this are not kept. Default: a quarter of `maxSizeBytes`. */
  maxEntryBytes?: number;
  /** Clock. Default `Date.now`. */
  now?: () => number;
  /** Told of every invalidation, local or received from another replica (the response cache drops stores that raced one). Default: none. */
  onInvalidate?: () => void;
  /** Multiplier on each entry's computed size: 2 when entries are also held decoded beside their JSON (the response cache). Default 1. */
  sizeFactor?: number;
}

/**
 * Heap an entry costs beyond its strings (entry object, LRU slots, tag-index Set
 * entries), and per tag (its string and index entry). Measured with heapUsed on
 * Node 20 (about 1.4 KB for a 240-character citizen with two tags), so that
 * `maxSizeBytes` bounds the real memory, not only the JSON.
 */
const ENTRY_OVERHEAD_BYTES = 500;
const TAG_OVERHEAD_BYTES = 150;

export class LocalStore implements CacheStore {
  readonly kind = 'memory' as const;
  private readonly lru: LRUCache<string, CacheEntry>;
  /**
   * Keys per tag: one key as a plain string, a Set from the second on. Most tags name one record
   * of one entry (a citizen looked up once): a Set for each was most of a miss's allocations.
   */
  private readonly byTag = new Map<string, string | Set<string>>();
  private readonly now: () => number;
  private readonly onInvalidate: (() => void) | undefined;

  constructor(opts: LocalStoreOptions) {
    this.now = opts.now ?? Date.now;
    this.onInvalidate = opts.onInvalidate;
    const factor = opts.sizeFactor ?? 1;
    this.lru = new LRUCache<string, CacheEntry>({
      maxSize: opts.maxSizeBytes,
      maxEntrySize: Math.min(opts.maxEntryBytes ?? Math.floor(opts.maxSizeBytes / 4), opts.maxSizeBytes),
      sizeCalculation: (e, key) => Math.ceil(((e.value.length + key.length) * 2 + e.tags.length * TAG_OVERHEAD_BYTES + ENTRY_OVERHEAD_BYTES) * factor),
      // Expired entries stay visible to `peek` and `rkeys` (victimIfFull: pushing one out costs
      // nothing); reads check expiry themselves (getSync).
      allowStale: true,
      // Keep the tag index in step with every way an entry leaves (eviction, expiry, overwrite, delete).
      dispose: (entry, key) => this.untag(key, entry.tags),
      // Expiry by the store's clock, not the machine's: a test's clock decides alone when an entry ages.
      ...(opts.now ? { perf: { now: opts.now } } : {}),
    });
  }

  private untag(key: string, tags: readonly string[]): void {
    for (const tag of tags) {
      const keys = this.byTag.get(tag);
      if (keys === undefined) continue;
      if (typeof keys === 'string') {
        if (keys === key) this.byTag.delete(tag);
        continue;
      }
      keys.delete(key);
      if (keys.size === 0) this.byTag.delete(tag);
    }
  }

  private tag(tag: string, key: string): void {
    const keys = this.byTag.get(tag);
    if (keys === undefined || keys === key) this.byTag.set(tag, key);
    else if (typeof keys === 'string') this.byTag.set(tag, new Set([keys, key]));
    else keys.add(key);
  }

  /** Synchronous read for the hot path (no promise per entity). */
  getSync(key: string): CacheEntry | undefined {
    const entry = this.lru.get(key);
    if (entry && entry.staleUntil <= this.now()) {
      this.lru.delete(key);
      return undefined;
    }
    return entry;
  }

  async getMany(keys: readonly string[]): Promise<Array<CacheEntry | undefined>> {
    return keys.map((k) => this.getSync(k));
  }

  setSync(key: string, entry: CacheEntry): void {
    const ttl = entry.staleUntil - this.now();
    if (ttl <= 0) return;
    this.lru.set(key, entry, { ttl: Math.ceil(ttl) });
    // lru-cache refuses entries above maxEntrySize silently: index only what it kept.
    if (this.lru.peek(key) !== entry) return;
    for (const tag of entry.tags) this.tag(tag, key);
  }

  async set(key: string, entry: CacheEntry): Promise<void> {
    this.setSync(key, entry);
  }

  invalidateSync(tags: readonly string[]): number {
    this.onInvalidate?.();
    let evicted = 0;
    for (const tag of tags) {
      const keys = this.byTag.get(tag);
      if (keys === undefined) continue;
      for (const key of typeof keys === 'string' ? [keys] : [...keys]) if (this.lru.delete(key)) evicted++;
      this.byTag.delete(tag);
    }
    return evicted;
  }

  async invalidate(tags: readonly string[]): Promise<number> {
    return this.invalidateSync(tags);
  }

  stats(): { entries: number; bytes: number } {
    return { entries: this.lru.size, bytes: this.lru.calculatedSize };
  }

  victimIfFull(): string | undefined {
    const { size, calculatedSize, maxSize } = this.lru;
    if (size === 0 || maxSize - calculatedSize >= calculatedSize / size) return undefined;
    // The least recently used entry goes first; when it has expired, making room costs nothing.
    for (const key of this.lru.rkeys()) return (this.lru.peek(key)?.staleUntil ?? 0) <= this.now() ? undefined : key;
    return undefined;
  }

  async ready(): Promise<string | null> {
    return null;
  }

  clear(): void {
    this.lru.clear();
    this.byTag.clear();
  }

  async close(): Promise<void> {
    this.clear();
  }
}
