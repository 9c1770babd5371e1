/**
 * Subscribes to a registry's change feed (`GET <registry>/api/v1/changes`, Server-Sent
 * Events, `X-API-Key`) and evicts the cache entries tagged with the changed records.
 *
 * Events (mocks/registry/changes.ts):
 *   event: change  data: {"registry","collection","key","keys":[…],"at"}  → evict tags of `keys`
 *   event: reset   data: {"registry","reason"}  → the feed cannot replay what was missed:
 *                                                  evict every entry of that registry (this replica)
 *   event: hello   data: {"registry","lastEventId"}  → subscribed
 * A dropped connection is reopened with `Last-Event-ID`, so changes made meanwhile are
 * replayed (or a `reset` says they cannot be). A silent connection (no heartbeat for
 * `idleTimeoutMs`) is treated as dropped.
 */
import { Agent, fetch } from 'undici';

export interface ChangeEvent {
  registry: string;
  collection: string;
  key: string;
  /** Every identifier the change touches (the record's key and related records'). */
  keys: string[];
  at: string;
}

export interface ChangeFeedOptions {
  registry: string;
  /** Registry base URL, e.g. http://127.0.0.1:4101. */
  url: string;
  apiKey: string | undefined;
  /** A change arrived: evict its keys. */
  onChange(event: ChangeEvent): void | Promise<void>;
  /** Changes may have been missed: evict everything of this registry. */
  onReset(reason: string): void | Promise<void>;
  /** Connection state changes and failures, for logs. Default: silent. */
  onStatus?: (message: string, level: 'info' | 'warn') => void;
  /** First reconnect delay, doubled up to 10 s. Default 500 ms. */
  reconnectMs?: number;
  /** No byte (heartbeats included) for this long = dropped. Default 45 s (the registries ping every 15 s). */
  idleTimeoutMs?: number;
}

const MAX_RECONNECT_MS = 10_000;

export class ChangeFeedSubscriber {
  private readonly aborter = new AbortController();
  private readonly agent: Agent;
  private lastEventId: string | null = null;
  private connectedOnce = false;
  private waiters: Array<() => void> = [];
  /** True while the stream is open and the registry said hello. */
  connected = false;
  /** Change events applied since start. */
  changes = 0;
  private loop: Promise<void> | null = null;

  constructor(private readonly opts: ChangeFeedOptions) {
    this.agent = new Agent({ bodyTimeout: opts.idleTimeoutMs ?? 45_000, headersTimeout: 10_000 });
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Resolves once subscribed (tests wait for it before changing a record). */
  whenConnected(): Promise<void> {
    if (this.connected) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private async run(): Promise<void> {
    let delay = this.opts.reconnectMs ?? 500;
    const signal = this.aborter.signal;
    while (!signal.aborted) {
      try {
        await this.connectOnce();
        delay = this.opts.reconnectMs ?? 500;
      } catch (err) {
        if (signal.aborted) break;
        this.opts.onStatus?.(`Change feed of the ${this.opts.registry} registry dropped (${(err as Error).message}); reconnecting in ${delay} ms. Until then its cached entries live at most their TTL.`, 'warn');
      }
      this.connected = false;
      if (signal.aborted) break;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, delay);
        signal.addEventListener('abort', () => {
          clearTimeout(t);
          resolve();
        }, { once: true });
      });
      delay = Math.min(delay * 2, MAX_RECONNECT_MS);
    }
  }

  private async connectOnce(): Promise<void> {
    const headers: Record<string, string> = { accept: 'text/event-stream' };
    if (this.opts.apiKey) headers['x-api-key'] = this.opts.apiKey;
    if (this.lastEventId) headers['last-event-id'] = this.lastEventId;
    const res = await fetch(new URL('/api/v1/changes', this.opts.url), { headers, dispatcher: this.agent, signal: this.aborter.signal });
    if (res.status !== 200 || !res.body) {
      const text = await res.text().catch(() => '');
      throw new Error(`HTTP ${res.status} ${text.slice(0, 200)}`);
    }
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of res.body) {
      buffer += decoder.decode(chunk as Uint8Array, { stream: true }).replace(/\r\n?/g, '\n');
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        await this.handle(block);
      }
    }
    throw new Error('the registry closed the stream');
  }

  /** One SSE message block: `id:`, `event:`, `data:` lines; `:` lines are heartbeats. */
  private async handle(block: string): Promise<void> {
    let event = 'message';
    let id: string | null = null;
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line === '' || line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
      else if (field === 'id') id = value;
    }
    if (data.length === 0) return;
    let payload: Record<string, unknown>;
    try {
      payload = JSON.parse(data.join('\n')) as Record<string, unknown>;
    } catch {
      return;
    }
    if (event === 'hello') {
      if (typeof payload.lastEventId === 'string' && !this.connectedOnce) this.lastEventId = payload.lastEventId;
      this.connectedOnce = true;
      this.connected = true;
      this.opts.onStatus?.(`Subscribed to the change feed of the ${this.opts.registry} registry.`, 'info');
      for (const w of this.waiters.splice(0)) w();
    } else if (event === 'reset') {
      await this.opts.onReset(typeof payload.reason === 'string' ? payload.reason : 'the feed cannot replay missed changes');
    } else if (event === 'change' && Array.isArray(payload.keys)) {
      await this.opts.onChange(payload as unknown as ChangeEvent);
      this.changes++;
    }
    if (id !== null) this.lastEventId = id;
  }

  async close(): Promise<void> {
    this.aborter.abort();
    await this.loop?.catch(() => undefined);
    await this.agent.close().catch(() => undefined);
  }
}
