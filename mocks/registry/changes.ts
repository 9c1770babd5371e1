/**
 * Change notifications of a mock registry, so consumers (the gateway's cache) can
 * evict what they hold about a record the moment it changes.
 *
 *   PATCH /__admin/<collection>/<key>   body: a JSON merge patch (RFC 7396) of the record,
 *        e.g. {"permanentResidence": {"detail": "12 Lý Thái Tổ"}} → 200 {record, event}.
 *        The record changes in place (every collection sharing it sees the change) and a
 *        change event is published. The record's own key cannot be patched.
 *   GET  /api/v1/changes                 Server-Sent Events (X-API-Key required like the API):
 *        event: hello   {"registry","lastEventId"}      on connect
 *        event: change  {"registry","collection","key","keys":[…],"at"}  with an `id:`
 *        event: reset   {"registry","reason"}           the Last-Event-ID sent cannot be replayed
 *        ": ping" comments every `heartbeatMs` keep idle connections (and their timeouts) alive.
 *   A client reconnecting with `Last-Event-ID` gets the events it missed, from a bounded history.
 *
 * `keys` lists every identifier in the record before and after the change (its key, the
 * people, enterprises, parcels and households it names), since cached answers about
 * those may embed it (a parent's `children`, an enterprise's members).
 */
import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { WorldIndex } from '../world/index-world.js';
import type { RegistryName } from '../world/types.js';
import type { Collection } from './collections.js';

export interface ChangeEvent {
  registry: RegistryName;
  collection: string;
  key: string;
  keys: string[];
  at: string;
}

export interface ChangeFeedOptions {
  registry: RegistryName;
  index: WorldIndex;
  collections: readonly Collection[];
  /** Heartbeat comment interval. Default 15 000 ms. */
  heartbeatMs?: number;
  /** Events kept for replay to reconnecting clients. Default 1000. */
  historySize?: number;
}

/** Fields whose values identify a registry record (the same names the gateway tags by). */
const IDENTIFIER_FIELDS = new Set([
  'personalId', 'enterpriseCode', 'parcelId', 'householdId', 'socialInsuranceNumber', 'cardNumber',
  'holderId', 'fatherId', 'motherId', 'spouseId', 'headId', 'employerCode',
]);

function collectIds(value: unknown, out: Set<string>): void {
  if (Array.isArray(value)) for (const v of value) collectIds(v, out);
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (IDENTIFIER_FIELDS.has(k) && typeof v === 'string') out.add(v);
      else if (v && typeof v === 'object') collectIds(v, out);
    }
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** RFC 7396 merge patch applied in place: objects merge, `null` removes, anything else replaces. */
export function applyMergePatch(target: Record<string, unknown>, patch: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete target[k];
    else if (isPlainObject(v) && isPlainObject(target[k])) applyMergePatch(target[k] as Record<string, unknown>, v);
    else target[k] = structuredClone(v);
  }
}

export class ChangeFeed {
  private readonly epoch = randomBytes(4).toString('hex');
  private seq = 0;
  private readonly history: Array<{ id: string; seq: number; event: ChangeEvent }> = [];
  private readonly subscribers = new Set<ServerResponse>();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly opts: ChangeFeedOptions) {
    this.timer = setInterval(() => this.broadcast(': ping\n\n'), opts.heartbeatMs ?? 15_000);
    this.timer.unref();
  }

  get lastEventId(): string {
    return `${this.epoch}-${this.seq}`;
  }

  /** Open SSE connections. */
  get subscriberCount(): number {
    return this.subscribers.size;
  }

  publish(event: ChangeEvent): string {
    this.seq++;
    const id = this.lastEventId;
    this.history.push({ id, seq: this.seq, event });
    if (this.history.length > (this.opts.historySize ?? 1000)) this.history.shift();
    this.broadcast(frame('change', event, id));
    return id;
  }

  private broadcast(text: string): void {
    for (const res of this.subscribers) res.write(text);
  }

  /** Takes over a hijacked response as an SSE stream, replaying what `lastEventId` missed. */
  subscribe(res: ServerResponse, lastEventId: string | undefined): void {
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache, no-store', connection: 'keep-alive' });
    res.write(frame('hello', { registry: this.opts.registry, lastEventId: this.lastEventId }));
    if (lastEventId) {
      const m = /^([0-9a-f]+)-(\d+)$/.exec(lastEventId);
      const seq = m && m[1] === this.epoch ? Number(m[2]) : NaN;
      const oldest = this.history[0]?.seq ?? this.seq + 1;
      if (!Number.isInteger(seq) || seq > this.seq || seq < oldest - 1) {
        res.write(frame('reset', { registry: this.opts.registry, reason: `events after ${lastEventId} cannot be replayed (registry restarted or history exceeded)` }));
      } else {
        for (const h of this.history) if (h.seq > seq) res.write(frame('change', h.event, h.id));
      }
    }
    this.subscribers.add(res);
    res.on('close', () => this.subscribers.delete(res));
  }

  /** Ends every stream (at shutdown: an open stream would keep the server from closing). */
  close(): void {
    clearInterval(this.timer);
    for (const res of this.subscribers) res.end();
    this.subscribers.clear();
  }
}

function frame(event: string, data: unknown, id?: string): string {
  return `${id ? `id: ${id}\n` : ''}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** Adds `PATCH /__admin/:collection/:key` and `GET /api/v1/changes` to a registry app. */
export function registerChangeFeed(app: FastifyInstance, opts: ChangeFeedOptions): ChangeFeed {
  const feed = new ChangeFeed(opts);
  const byName = new Map(opts.collections.map((c) => [c.name, c]));
  const send = (reply: { code(n: number): { send(b: unknown): unknown } }, status: number, error: string, message: string) =>
    reply.code(status).send({ error, message });

  app.get('/api/v1/changes', (request, reply) => {
    reply.hijack();
    const last = request.headers['last-event-id'];
    feed.subscribe(reply.raw, Array.isArray(last) ? last[0] : last);
  });

  app.patch<{ Params: { collection: string; key: string } }>('/__admin/:collection/:key', async (request, reply) => {
    const collection = byName.get(request.params.collection);
    if (!collection) {
      return send(reply, 404, 'unknown_collection', `No collection ${JSON.stringify(request.params.collection)}; this registry has: ${[...byName.keys()].join(', ')}.`);
    }
    const key = request.params.key;
    const invalid = collection.validate(key);
    if (invalid) return send(reply, 400, 'invalid_key', invalid);
    const patch = request.body;
    if (!isPlainObject(patch)) return send(reply, 400, 'invalid_body', 'Send a JSON object (a merge patch of the record), e.g. {"religion": null}.');
    const record = collection.lookup(opts.index, key);
    // Collections that answer a default for unknown keys build a fresh object each time: nothing to patch.
    if (!isPlainObject(record) || record !== collection.lookup(opts.index, key)) {
      return send(reply, 404, 'not_found', `This registry holds no ${collection.name} record for ${collection.keyName} ${JSON.stringify(key)} to change.`);
    }
    if (collection.keyName in patch && patch[collection.keyName] !== record[collection.keyName]) {
      return send(reply, 400, 'key_immutable', `The ${collection.keyName} of a record cannot change; patch the other fields.`);
    }
    const ids = new Set<string>([key]);
    collectIds(record, ids);
    applyMergePatch(record, patch);
    collectIds(record, ids);
    const event: ChangeEvent = { registry: opts.registry, collection: collection.name, key, keys: [...ids], at: new Date().toISOString() };
    const id = feed.publish(event);
    return { record, event: { id, ...event } };
  });

  app.addHook('preClose', async () => feed.close());
  return feed;
}
