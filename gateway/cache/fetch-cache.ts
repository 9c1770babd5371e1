/**
 * The subgraph-fetch cache: the interceptor `SubgraphDataSource` calls for every
 * client fetch (gateway/core/datasource.ts). It runs inside query-plan execution, so only
 * after authentication and the purpose policy have let the request through.
 *
 * - `_entities` fetches are split: each representation is looked up on its own (key =
 *   subgraph + selection + representation), only the misses go upstream, in one call,
 *   and the answers are merged back in order (error paths renumbered).
 * - Root-field fetches are cached whole (key = subgraph + selection + variables).
 * - Only answers without errors are stored. A stale entry inside its `stale` window is
 *   served while ONE background refresh runs (coalesced per key).
 * - Identical fetches under way are shared (`InFlight`), cached or not.
 */
import type { GraphQLFormattedError } from 'graphql';
import type { SubgraphFetch, SubgraphFetchInterceptor } from '../core/datasource.js';
import { Admission } from './admission.js';
import { InFlight } from './inflight.js';
import { collectIdentifiers, collectLeaves, entityKey, registryTag, rootKey, tagOf } from './keys.js';
import { FetchClassifier, type FetchShape } from './policy.js';
import type { CacheSettings } from './settings.js';
import type { CacheEntry, CacheStore } from './store.js';

type Response = Awaited<ReturnType<SubgraphFetchInterceptor>>;
type Request = SubgraphFetch['request'];

/** Where hits and misses are counted (gateway/metrics `cacheHit`/`cacheMiss`). */
export interface CacheCounters {
  hit(cache: 'entity' | 'root', n: number): void;
  miss(cache: 'entity' | 'root', n: number): void;
}

export interface FetchCacheOptions {
  settings: Pick<CacheSettings, 'enabled' | 'policies' | 'tagFields' | 'dedupe'>;
  store: CacheStore;
  /** Default: none. */
  counters?: CacheCounters;
  /** Background refresh failures (never a client's error). Default: ignored. */
  onRefreshError?: (subgraph: string, err: unknown) => void;
  /** Clock. Default `Date.now`. */
  now?: () => number;
  /** Which missed answers are stored (a background refresh of a held entry always is). Default `new Admission('first')`: every miss. */
  admission?: Admission;
}

/** Tells the request's trace until when this answer stays fresh (0: not cacheable); the response cache reads the minimum. */
function fresh(fetch: SubgraphFetch, until: number): void {
  const trace = fetch.context?.trace;
  if (trace) trace.freshUntil = Math.min(trace.freshUntil ?? Infinity, until);
}

function hasErrors(r: Response): boolean {
  return (r.errors?.length ?? 0) > 0;
}

export class FetchCache {
  private readonly classifier: FetchClassifier;
  private readonly inflight = new InFlight();
  /** Keys whose background refresh is under way (one refresh per key at a time). */
  private readonly refreshing = new Set<string>();
  private readonly tagFields: ReadonlySet<string>;
  private readonly now: () => number;
  private readonly admission: Admission;

  constructor(private readonly opts: FetchCacheOptions) {
    this.classifier = new FetchClassifier(opts.settings.policies);
    this.tagFields = new Set(opts.settings.tagFields);
    this.now = opts.now ?? Date.now;
    this.admission = opts.admission ?? new Admission('first');
  }

  /** The interceptor to give `SubgraphDataSource`. */
  readonly intercept: SubgraphFetchInterceptor = (fetch) => {
    if (!this.opts.settings.enabled) return this.uncached(fetch);
    const shape = this.classifier.classify(fetch.request.query ?? '');
    if (shape.kind === 'entities') return this.entities(fetch, shape);
    if (shape.kind === 'root') return this.root(fetch, shape);
    return this.uncached(fetch);
  };

  /** A fetch no policy covers: shared while under way, never stored; the request's response may not be cached either. */
  private uncached(fetch: SubgraphFetch): Promise<Response> {
    fresh(fetch, 0);
    return this.shared(fetch, fetch.request);
  }

  /** Background refreshes under way (tests wait for them to settle). */
  get refreshesInFlight(): number {
    return this.refreshing.size;
  }

  /** One upstream call per identical request under way. */
  private shared(fetch: SubgraphFetch, request: Request): Promise<Response> {
    if (!this.opts.settings.dedupe) return fetch.upstream(request);
    // The memoised query hash: no hashing of the whole query string per fetch.
    const queryHash = this.classifier.classify(request.query ?? '').queryHash;
    return this.inflight.run(rootKey(fetch.subgraph, queryHash, request.variables), () => fetch.upstream(request));
  }

  private entry(value: unknown, policy: { ttl: number; stale: number }, tags: Set<string>): CacheEntry {
    const now = this.now();
    const freshUntil = now + policy.ttl * 1000;
    return { value: JSON.stringify(value ?? null), freshUntil, staleUntil: freshUntil + policy.stale * 1000, tags: [...tags] };
  }

  private tags(subgraph: string, variablesPart: unknown, data: unknown): Set<string> {
    const ids = new Set<string>();
    collectLeaves(variablesPart, ids);
    collectIdentifiers(data, this.tagFields, ids);
    const tags = new Set<string>([registryTag(subgraph)]);
    for (const id of ids) tags.add(tagOf(subgraph, id));
    return tags;
  }

  // ── root fields ─────────────────────────────────────────────────────────────

  private async root(fetch: SubgraphFetch, shape: Extract<FetchShape, { kind: 'root' }>): Promise<Response> {
    const key = rootKey(fetch.subgraph, shape.queryHash, fetch.request.variables);
    this.admission.seen(key);
    const [entry] = await this.opts.store.getMany([key]);
    if (entry) {
      this.opts.counters?.hit('root', 1);
      const stale = entry.freshUntil <= this.now();
      fresh(fetch, stale ? 0 : entry.freshUntil);
      if (stale) this.refreshInBackground(fetch.subgraph, [key], () => this.fillRoot(fetch, shape, key, fetch.request, true));
      return { data: JSON.parse(entry.value) as Record<string, unknown> };
    }
    this.opts.counters?.miss('root', 1);
    const response = await this.fillRoot(fetch, shape, key, fetch.request, false);
    fresh(fetch, !hasErrors(response) && response.data ? this.now() + shape.policy.ttl * 1000 : 0);
    return response;
  }

  private async fillRoot(fetch: SubgraphFetch, shape: Extract<FetchShape, { kind: 'root' }>, key: string, request: Request, refresh: boolean): Promise<Response> {
    const response = await this.shared(fetch, request);
    if (!hasErrors(response) && response.data && this.admits(key, refresh)) {
      await this.opts.store.set(key, this.entry(response.data, shape.policy, this.tags(fetch.subgraph, request.variables, response.data)));
    }
    return response;
  }

  // ── _entities ───────────────────────────────────────────────────────────────

  private async entities(fetch: SubgraphFetch, shape: Extract<FetchShape, { kind: 'entities' }>): Promise<Response> {
    const variables = fetch.request.variables ?? {};
    const reps = variables.representations;
    if (!Array.isArray(reps) || reps.length === 0) return this.uncached(fetch);

    const keys: Array<string | null> = reps.map((rep: unknown) => {
      const type = (rep as { __typename?: unknown } | null)?.__typename;
      return typeof type === 'string' && shape.byType.has(type) ? entityKey(fetch.subgraph, shape.queryHash, rep) : null;
    });
    const cacheable = keys.filter((k): k is string => k !== null);
    for (const k of cacheable) this.admission.seen(k);
    const found = cacheable.length > 0 ? await this.opts.store.getMany(cacheable) : [];
    const byKey = new Map<string, CacheEntry>();
    cacheable.forEach((k, i) => {
      const e = found[i];
      if (e) byKey.set(k, e);
    });

    const now = this.now();
    const out: unknown[] = new Array(reps.length);
    const missAt: number[] = [];
    const staleAt: number[] = [];
    for (let i = 0; i < reps.length; i++) {
      const key = keys[i];
      const e = key ? byKey.get(key) : undefined;
      if (e) {
        out[i] = JSON.parse(e.value);
        if (e.freshUntil <= now) staleAt.push(i);
        fresh(fetch, e.freshUntil <= now ? 0 : e.freshUntil);
      } else {
        missAt.push(i);
        const type = (reps[i] as { __typename: string }).__typename;
        // No policy for this type (key null): the answer is not stored, nor may the response be.
        fresh(fetch, key ? now + shape.byType.get(type)!.ttl * 1000 : 0);
      }
    }
    const hits = reps.length - missAt.length;
    if (hits > 0) this.opts.counters?.hit('entity', hits);
    if (missAt.length > 0) this.opts.counters?.miss('entity', missAt.length);

    if (staleAt.length > 0) {
      const staleKeys = staleAt.map((i) => keys[i]!);
      this.refreshInBackground(fetch.subgraph, staleKeys, () => this.fillEntities(fetch, shape, staleAt, keys, true));
    }
    if (missAt.length === 0) return { data: { _entities: out } };

    const response = await this.fillEntities(fetch, shape, missAt, keys, false);
    if (hasErrors(response) || !response.data) fresh(fetch, 0);
    const fetched = response.data?._entities;
    const list = Array.isArray(fetched) && fetched.length === missAt.length ? fetched : null;
    missAt.forEach((i, j) => {
      out[i] = list ? list[j] : null;
    });
    const result: Response = { data: { _entities: out } };
    if (response.errors?.length) result.errors = response.errors.map((err) => renumber(err, missAt));
    if (response.extensions) result.extensions = response.extensions;
    // A whole-fetch failure with nothing cached stays what it was (data null), as without a cache.
    if (hits === 0 && !response.data) return response;
    return result;
  }

  /** Fetches the representations at `indexes` (one upstream call) and stores each answer. */
  private async fillEntities(fetch: SubgraphFetch, shape: Extract<FetchShape, { kind: 'entities' }>, indexes: number[], keys: ReadonlyArray<string | null>, refresh: boolean): Promise<Response> {
    const reps = fetch.request.variables!.representations as unknown[];
    const all = indexes.length === reps.length;
    const request: Request = all ? fetch.request : { ...fetch.request, variables: { ...fetch.request.variables, representations: indexes.map((i) => reps[i]) } };
    const response = await this.shared(fetch, request);
    const list = response.data?._entities;
    if (!hasErrors(response) && Array.isArray(list) && list.length === indexes.length) {
      const writes: Array<Promise<void>> = [];
      indexes.forEach((i, j) => {
        const key = keys[i];
        const rep = reps[i] as { __typename: string };
        const policy = key ? shape.byType.get(rep.__typename) : undefined;
        if (!key || !policy || !this.admits(key, refresh)) return;
        writes.push(this.opts.store.set(key, this.entry(list[j], policy, this.tags(fetch.subgraph, rep, list[j]))));
      });
      await Promise.all(writes);
    }
    return response;
  }

  /** Whether to store the answer under `key`: a refresh replaces its held entry; a miss asks the admission rule. */
  private admits(key: string, refresh: boolean): boolean {
    return refresh || this.admission.admit(key, () => this.opts.store.victimIfFull());
  }

  // ── stale-while-revalidate ──────────────────────────────────────────────────

  private refreshInBackground(subgraph: string, keys: readonly string[], refresh: () => Promise<unknown>): void {
    if (keys.some((k) => this.refreshing.has(k))) return;
    for (const k of keys) this.refreshing.add(k);
    refresh()
      .catch((err: unknown) => this.opts.onRefreshError?.(subgraph, err))
      .finally(() => {
        for (const k of keys) this.refreshing.delete(k);
      });
  }
}

/** `_entities[j]` of the upstream call is `_entities[missAt[j]]` of the merged answer. */
function renumber(err: GraphQLFormattedError, missAt: readonly number[]): GraphQLFormattedError {
  const path = err.path;
  if (!path || path[0] !== '_entities' || typeof path[1] !== 'number') return err;
  const original = missAt[path[1]];
  return original === undefined ? err : { ...err, path: ['_entities', original, ...path.slice(2)] };
}
