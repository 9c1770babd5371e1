/**
 * Two-tier cache shared by replicas: the local LRU answers first, Redis second (a Redis
 * hit fills the local tier for the entry's remaining life). Writes go to both, Redis
 * with `PX` so entries expire there on their own.
 *
 * Invalidation reaches every replica: the replica that learns of a change deletes the
 * tagged entries in Redis (tag sets `<prefix>t:<tag>` list the keys) and publishes the
 * tags on `<prefix>invalidate`; every other replica evicts them from its local tier.
 *
 * Redis is a speed-up, never a dependency: a failing or slow Redis (over
 * `timeoutMs`) counts as a miss and the replica goes on with its local tier.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { redactUrl } from '../../lib/redact-url.js';
import type { CacheEntry, CacheStore, LocalStore } from './store.js';

export interface RedisStoreOptions {
  url: string;
  /** Prefix of every key and of the channel. Default `motlan:cache:`. */
  keyPrefix?: string;
  /** Command timeout in ms. Default 250. */
  timeoutMs?: number;
  /** How long a tag set lives (refreshed on every write): the longest entry life. Default 1 hour. */
  tagTtlMs?: number;
  /** Told once per failure streak, with a message naming what to check. Default: silent. */
  onError?: (message: string) => void;
  /** Clock. Default `Date.now`. */
  now?: () => number;
}

/** Deletes every key listed in the tag sets KEYS, then the sets; returns how many entries went. */
const INVALIDATE_SCRIPT = `
local n = 0
for _, tag in ipairs(KEYS) do
  local members = redis.call('SMEMBERS', tag)
  for _, key in ipairs(members) do n = n + redis.call('DEL', ARGV[1] .. key) end
  redis.call('DEL', tag)
end
return n`;

/** Never log a Redis password. */
const redact = (url: string): string => redactUrl(url, 'REDIS_URL');

function isEntry(v: unknown): v is CacheEntry {
  const e = v as CacheEntry;
  return !!e && typeof e.value === 'string' && typeof e.freshUntil === 'number' && typeof e.staleUntil === 'number' && Array.isArray(e.tags);
}

export class RedisStore implements CacheStore {
  readonly kind = 'redis' as const;
  private readonly client: Redis;
  private readonly subscriber: Redis;
  private readonly prefix: string;
  private readonly channel: string;
  private readonly origin = randomUUID();
  private readonly tagTtlMs: number;
  private readonly now: () => number;
  private failing = false;
  private lastError: string | null = null;

  constructor(private readonly local: LocalStore, private readonly opts: RedisStoreOptions) {
    this.prefix = opts.keyPrefix ?? 'motlan:cache:';
    this.channel = `${this.prefix}invalidate`;
    this.tagTtlMs = opts.tagTtlMs ?? 3_600_000;
    this.now = opts.now ?? Date.now;
    const common = { connectTimeout: 2000, commandTimeout: opts.timeoutMs ?? 250, maxRetriesPerRequest: 1, lazyConnect: true } as const;
    // Without an offline queue a command fails at once while Redis is away: a miss, not a wait.
    this.client = new Redis(opts.url, { ...common, enableOfflineQueue: false });
    this.subscriber = new Redis(opts.url, { ...common, commandTimeout: undefined, enableOfflineQueue: true });
    // ioredis emits 'error' on every failed reconnect; without listeners Node would crash.
    this.client.on('error', (err: Error) => this.fail(err));
    this.subscriber.on('error', () => undefined);
    this.client.on('ready', () => {
      this.failing = false;
      this.lastError = null;
    });
    this.subscriber.on('message', (channel: string, message: string) => {
      if (channel !== this.channel) return;
      try {
        const m = JSON.parse(message) as { origin?: string; tags?: unknown };
        if (m.origin !== this.origin && Array.isArray(m.tags)) this.local.invalidateSync(m.tags.filter((t): t is string => typeof t === 'string'));
      } catch {
        // Not ours: ignore.
      }
    });
  }

  /** Connects both connections; resolves to null, or to why Redis is unusable (the cache then stays local). */
  async connect(): Promise<string | null> {
    try {
      await Promise.all([this.client.connect(), this.subscriber.connect()]);
      await this.subscriber.subscribe(this.channel);
      return null;
    } catch (err) {
      this.fail(err as Error);
      return this.lastError;
    }
  }

  private fail(err: Error): void {
    this.lastError = `Redis at ${redact(this.opts.url)} is not usable (${err.message}); the cache works per replica until it is`;
    if (!this.failing) {
      this.failing = true;
      this.opts.onError?.(this.lastError);
    }
  }

  private entryKey(key: string): string {
    return `${this.prefix}e:${key}`;
  }

  private tagKey(tag: string): string {
    return `${this.prefix}t:${tag}`;
  }

  async getMany(keys: readonly string[]): Promise<Array<CacheEntry | undefined>> {
    const out = keys.map((k) => this.local.getSync(k));
    const missing: number[] = [];
    for (let i = 0; i < out.length; i++) if (!out[i]) missing.push(i);
    if (missing.length === 0 || this.client.status !== 'ready') return out;
    try {
      const values = await this.client.mget(missing.map((i) => this.entryKey(keys[i]!)));
      const now = this.now();
      values.forEach((raw, j) => {
        if (raw === null) return;
        const entry = JSON.parse(raw) as unknown;
        if (!isEntry(entry) || entry.staleUntil <= now) return;
        const i = missing[j]!;
        out[i] = entry;
        this.local.setSync(keys[i]!, entry);
      });
    } catch (err) {
      this.fail(err as Error);
    }
    return out;
  }

  async set(key: string, entry: CacheEntry): Promise<void> {
    this.local.setSync(key, entry);
    const px = Math.ceil(entry.staleUntil - this.now());
    if (px <= 0 || this.client.status !== 'ready') return;
    try {
      const multi = this.client.multi().set(this.entryKey(key), JSON.stringify(entry), 'PX', px);
      for (const tag of entry.tags) {
        // In-process bookkeeping tags (registry-wide) stay local: a Redis set of every key would be huge.
        if (tag.startsWith('registry:')) continue;
        multi.sadd(this.tagKey(tag), key).pexpire(this.tagKey(tag), Math.max(px, this.tagTtlMs));
      }
      await multi.exec();
    } catch (err) {
      this.fail(err as Error);
    }
  }

  async invalidate(tags: readonly string[]): Promise<number> {
    const evicted = this.local.invalidateSync(tags);
    const shared = tags.filter((t) => !t.startsWith('registry:'));
    if (shared.length === 0 || this.client.status !== 'ready') return evicted;
    try {
      await this.client.eval(INVALIDATE_SCRIPT, shared.length, ...shared.map((t) => this.tagKey(t)), `${this.prefix}e:`);
      await this.client.publish(this.channel, JSON.stringify({ origin: this.origin, tags: shared }));
    } catch (err) {
      this.fail(err as Error);
    }
    return evicted;
  }

  victimIfFull(): string | undefined {
    return this.local.victimIfFull();
  }

  stats(): { entries: number; bytes: number } {
    return this.local.stats();
  }

  async ready(): Promise<string | null> {
    if (this.client.status === 'ready') return null;
    return this.lastError ?? `Redis at ${redact(this.opts.url)} is ${this.client.status}; the cache works per replica until it is ready`;
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.client.quit(), this.subscriber.quit()]);
    this.client.disconnect();
    this.subscriber.disconnect();
    this.local.clear();
  }
}
