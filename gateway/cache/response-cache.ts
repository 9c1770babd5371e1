/**
 * The response cache: whole GraphQL responses of purpose-bound queries, so that a repeat
 * is answered without planning or executing (the Apollo plugin in response-plugin.ts).
 *
 * What a hit still goes through, every time: authentication, rate limits, document limits,
 * the failed-lookup brake and the purpose policy with its subject-token and relation checks
 * (all before `responseForOperation`), then the response check (gateway/disclosure, which
 * re-decides on the cached entity graph against THIS request's client, purpose and subject)
 * and the audit record (with the entities the cached response carried, `cache: hit`).
 *
 * Key: sha256 of the client id, the purpose's procedure and the version of its definition (a
 * catalog reload that changes it misses: a prefill's form is built by the resolver a hit skips), the subject the policy verified, the
 * document hash, the operation name and the canonical JSON of the variables. The data of a
 * response depends only on the document, the operation and the variables (the subgraphs get no
 * client identity); client, procedure and subject are what the response check decides on, and
 * are in the key so a response is only replayed in the situation it was checked in. What only
 * the policy's decision depends on (the API key, X-Dossier-Id, the subject token) is not: the
 * policy decides again on every request, hit or not, before the lookup (docs/CACHE.md).
 *
 * An entry is the response `data` plus the parts of the request trace the response check and
 * the audit read (registries, entity counts, returned entities, entity graph, prefill summary),
 * stored as ONE JSON string (its size is what the byte-bounded LRU counts, and what Redis
 * holds). In process it is decoded on its first hit and kept decoded: later local hits hand out
 * the decoded objects without parsing. Not at the store: holding the miss's object graph for
 * every entry, most never hit again, made the collector trace it (W1-uniform cost 0.55 ms more
 * CPU per request than with the cache off; 0.17 ms without). Those objects are shared between hits
 * and must never be mutated: the plugins after the cache only read the data, the trace's sets
 * and maps are copied into each request.
 *
 * Tags: every entity key returned, every identifier the verified subject holds (literal or
 * variable arguments alike), every string leaf of the variables, all registry-agnostic (a change
 * to a citizen evicts every response that carried that citizen, whichever registry it came
 * from); plus, in process only, one tag per registry touched (a feed `reset` evicts them).
 */
import type { EntityEdge, EntityGraph, MotlanContext, PrefillSummary, RequestTrace, ReturnedEntity } from '../core/context.js';
import { canonicalJson, collectLeaves, registryTag, tagOf } from './keys.js';
import { sha256 } from './policy.js';
import { Admission, type AdmissionRule } from './admission.js';
import type { CacheEntry, CacheStore } from './store.js';

/** A cached response, decoded: what a hit restores. Shared between hits: read only. */
export interface CachedResponse {
  data: Record<string, unknown>;
  registries: readonly string[];
  entities: Readonly<Record<string, number>>;
  returned: ReadonlyMap<string, ReturnedEntity>;
  graph: EntityGraph;
  prefill: PrefillSummary | null;
  /** Schema coordinates the response's execution read (the audit's and the statistics' `fields`). */
  fields: readonly string[];
}

/**
 * The JSON form (Redis, size): Maps and Sets as arrays. Written as `{"n":<length>,"d":<data>,…}`:
 * `n` is the length of the data's JSON, so a hit can slice the data's serialisation out of the
 * stored string (no copy) and the response is written without serialising the data again.
 */
interface Encoded {
  n?: number;
  d: Record<string, unknown>;
  r: string[];
  e: Record<string, number>;
  x: Array<[string, ReturnedEntity]>;
  g: { roots: Array<[string, string[]]>; edges: Array<[string, EntityEdge[]]>; unanchored: string[]; problems: string[] };
  p: PrefillSummary | null;
  f?: string[];
}

/** Scope of the registry-agnostic response tags (a registry is never named so). */
const RESPONSE_SCOPE = '\u0000responses';

/** Tag of one record identifier on cached responses (any registry's change naming it evicts them). */
export function responseTag(id: string): string {
  return tagOf(RESPONSE_SCOPE, id);
}

/** The key of a response: who asked, for what, about whom, and the exact operation. */
export function responseKey(ctx: MotlanContext, queryHash: string, operationName: string | null | undefined, variables: unknown, purposeVersion = ''): string {
  return sha256([
    'r',
    ctx.client?.id ?? '',
    ctx.purpose?.procedureId ?? '',
    purposeVersion,
    canonicalJson(ctx.subject),
    queryHash,
    operationName ?? '',
    canonicalJson(variables ?? {}),
  ].join('\u0000'));
}

/**
 * The JSON of each cached `data` object, by identity: a slice of its entry's stored string.
 * Only objects the cache holds are here, and they are never mutated (see the file comment), so
 * the string stays their exact `JSON.stringify`.
 */
const dataJson = new WeakMap<object, string>();

/** `JSON.stringify(data)` when `data` is a response the cache holds (a hit's, or one just stored); else undefined. */
export function cachedDataJson(data: unknown): string | undefined {
  return typeof data === 'object' && data !== null ? dataJson.get(data) : undefined;
}

/** Prefix of an encoded entry before its data's JSON. */
function dataPrefix(length: number): string {
  return `{"n":${length},"d":`;
}

/** Remembers where `data`'s JSON sits in `value` (when the value has that layout). */
function rememberDataJson(data: object, value: string, length: number | undefined): void {
  if (typeof length !== 'number' || !Number.isInteger(length) || length < 2) return;
  const start = dataPrefix(length).length;
  if (!value.startsWith(dataPrefix(length)) || value[start + length] !== ',') return;
  dataJson.set(data, value.slice(start, start + length));
}

/** What `encode` reads: a cached response's parts, in whatever collections the request's trace holds them. */
interface Encodable {
  data: Record<string, unknown>;
  registries: Iterable<string>;
  entities: Readonly<Record<string, number>>;
  returned: Iterable<[string, ReturnedEntity]>;
  graph: EntityGraph;
  prefill: PrefillSummary | null;
  fields: Iterable<string>;
}

function encode(c: Encodable): { value: string; dataLength: number } {
  const data = JSON.stringify(c.data);
  const e: Omit<Encoded, 'd' | 'n'> = {
    r: [...c.registries],
    e: { ...c.entities },
    x: [...c.returned],
    g: {
      roots: [...c.graph.roots].map(([id, paths]) => [id, [...paths]]),
      edges: [...c.graph.edges],
      unanchored: [...c.graph.unanchored],
      problems: [...c.graph.problems],
    },
    p: c.prefill,
    f: [...c.fields],
  };
  // `{"n":…,"d":<data>,` then the rest's members (JSON.stringify(e) always starts with `{"r":`).
  return { value: `${dataPrefix(data.length)}${data},${JSON.stringify(e).slice(1)}`, dataLength: data.length };
}

function decode(value: string): CachedResponse | undefined {
  try {
    const e = JSON.parse(value) as Encoded;
    if (!e || typeof e.d !== 'object' || e.d === null || !Array.isArray(e.r) || !Array.isArray(e.x) || !e.g) return undefined;
    const edges = new Map(e.g.edges);
    const edgeKeys = new Set<string>();
    for (const [from, list] of edges) for (const edge of list) edgeKeys.add(`${from}\n${edge.path.join('.')}\n${edge.to}`);
    rememberDataJson(e.d, value, e.n);
    return {
      data: e.d,
      registries: e.r,
      entities: e.e ?? {},
      returned: new Map(e.x),
      graph: { roots: new Map(e.g.roots.map(([id, paths]) => [id, new Set(paths)])), edges, edgeKeys, unanchored: new Set(e.g.unanchored), problems: e.g.problems },
      prefill: e.p ?? null,
      fields: Array.isArray(e.f) ? e.f : [],
    };
  } catch {
    return undefined;
  }
}

export interface ResponseCacheOptions {
  /** Local LRU (bounded in bytes, `sizeFactor` 2), or Redis in front of one. Required. */
  store: CacheStore;
  /** Clock. Default `Date.now`. */
  now?: () => number;
  /**
   * `first`: a response is stored on its key's first miss. `second`: on its second miss within the
   * Doorkeeper's window. `frequency`: as `second`, and once the LRU is full, only when the key was
   * asked more often recently than the response the LRU would push out (TinyLFU, FrequencySketch).
   * Default `frequency`.
   */
  admission?: AdmissionRule;
  /** Misses a Doorkeeper generation holds. Default 65,536 (two generations of 43-character keys: about 10 MiB at most). */
  admissionWindow?: number;
}

export class ResponseCache {
  /** Decoded form of each entry that has been hit (by entry object: decoded once, on its first local hit, whether stored here or filled in from Redis). */
  private readonly decoded = new WeakMap<CacheEntry, CachedResponse>();
  private readonly now: () => number;
  private epoch = 0;
  private readonly admission: Admission;

  constructor(private readonly opts: ResponseCacheOptions) {
    this.now = opts.now ?? Date.now;
    this.admission = new Admission(opts.admission ?? 'frequency', opts.admissionWindow);
  }

  get store(): CacheStore {
    return this.opts.store;
  }

  /**
   * Invalidations seen so far on this replica (fetch or response entries, local or through Redis).
   * A response whose execution began before one may have read data the change made stale:
   * `set` drops it rather than caching it for a whole TTL.
   */
  get generation(): number {
    return this.epoch;
  }

  /** Counts an invalidation (see `generation`). */
  invalidated(): void {
    this.epoch++;
  }

  /** The cached response under `key`, if fresh. */
  async get(key: string): Promise<CachedResponse | undefined> {
    this.admission.seen(key);
    const [entry] = await this.opts.store.getMany([key]);
    if (!entry || entry.freshUntil <= this.now()) return undefined;
    let hit = this.decoded.get(entry);
    if (!hit) {
      hit = decode(entry.value);
      if (!hit) return undefined;
      this.decoded.set(entry, hit);
    }
    return hit;
  }

  /**
   * Stores the finished response of `ctx` (checked, without errors) until `freshUntil`.
   * One JSON serialisation: it sizes the entry and is what Redis holds.
   */
  async set(key: string, ctx: MotlanContext, data: Record<string, unknown>, variables: unknown, freshUntil: number, generation: number): Promise<boolean> {
    if (generation !== this.epoch) return false;
    // Decided before any encoding: a refused response costs nothing.
    if (!this.admission.admit(key, () => this.opts.store.victimIfFull())) return false;
    const trace = ctx.trace;
    const ids = new Set<string>();
    for (const e of trace.returnedEntities.values()) ids.add(e.key);
    for (const v of Object.values(ctx.subject)) if (typeof v === 'string') ids.add(v);
    collectLeaves(variables, ids);
    const tags = new Set<string>();
    for (const id of ids) tags.add(responseTag(id));
    for (const r of trace.registries) tags.add(registryTag(r));
    // Encoded straight from the trace (encode copies what it serialises): nothing of the miss is kept.
    const { value, dataLength } = encode({
      data,
      registries: trace.registries,
      entities: trace.entities,
      returned: trace.returnedEntities,
      graph: trace.entityGraph,
      prefill: ctx.prefill ?? null,
      fields: trace.fields,
    });
    const entry: CacheEntry = { value, freshUntil, staleUntil: freshUntil, tags: [...tags] };
    rememberDataJson(data, value, dataLength);
    await this.opts.store.set(key, entry);
    return true;
  }

  /** Evicts the responses that carried any of these record identifiers (on every replica, with Redis). Resolves to the local evictions. */
  invalidate(ids: readonly string[]): Promise<number> {
    return this.opts.store.invalidate(ids.map(responseTag));
  }
}

/**
 * Puts a cached response's trace into this request's trace, replacing what is there (the
 * policy's relation checks of this request fetched the same records the cached request's
 * did, and the cached trace already counts them). Subgraph request ids stay: they were sent.
 */
export function restoreTrace(trace: RequestTrace, hit: CachedResponse): void {
  trace.registries.clear();
  for (const r of hit.registries) trace.registries.add(r);
  trace.entities = { ...hit.entities };
  // The miss's fields include what the execution read beyond the client's selection (a prefill's registry fields).
  trace.fields.clear();
  for (const f of hit.fields) trace.fields.add(f);
  trace.returnedEntities = new Map(hit.returned);
  // Read only from here on (the response check and the audit): no fetch follows a hit.
  trace.entityGraph = hit.graph;
  trace.cache = 'hit';
}
