/**
 * Per-request DataLoaders over a registry client: every `load(key)` made while one
 * GraphQL request executes is coalesced into one upstream call per collection
 * (`POST /batch`, or `GET one` when a single key was asked), and repeated keys
 * hit the request's cache. That is what keeps `_entities` with N representations
 * at one registry call instead of N.
 *
 * Loaders are created lazily per collection and live only as long as the request
 * context, so no record outlives the request that was allowed to see it.
 */
import DataLoader from 'dataloader';
import { registryUnavailable } from './errors.js';
import { RegistryClient, RegistryError } from './registry-client.js';

export interface RegistryLoadersOptions {
  /** Keys per upstream batch call; the mock registries accept 1..500. Default 500. */
  maxBatchSize?: number;
  /** Use `GET /<collection>/<key>` when a batch holds one key (cheaper for the registry). Default true. */
  singleKeyGet?: boolean;
}

/**
 * `M` maps each collection name of the registry to its record type, e.g.
 * `{ citizens: CitizenRecord; households: HouseholdRecord }`.
 */
export class RegistryLoaders<M extends object> {
  private readonly loaders = new Map<string, DataLoader<string, unknown>>();
  private readonly maxBatchSize: number;
  private readonly singleKeyGet: boolean;

  constructor(
    private readonly client: RegistryClient,
    opts: RegistryLoadersOptions = {},
  ) {
    this.maxBatchSize = opts.maxBatchSize ?? 500;
    this.singleKeyGet = opts.singleKeyGet ?? true;
  }

  /** The request's loader for `collection`; resolves `null` for unknown keys. */
  of<K extends keyof M & string>(collection: K): DataLoader<string, M[K] | null> {
    let loader = this.loaders.get(collection);
    if (!loader) {
      loader = new DataLoader<string, unknown>((keys) => this.fetch(collection, keys), {
        maxBatchSize: this.maxBatchSize,
      });
      this.loaders.set(collection, loader);
    }
    return loader as DataLoader<string, M[K] | null>;
  }

  /** Loads several keys and drops the unknown ones (for lists of linked records). */
  async loadExisting<K extends keyof M & string>(collection: K, keys: readonly string[]): Promise<Array<M[K]>> {
    if (keys.length === 0) return [];
    const loader = this.of(collection);
    const records = await Promise.all(keys.map((k) => loader.load(k)));
    return records.filter((r): r is Awaited<M[K]> => r !== null) as Array<M[K]>;
  }

  private async fetch(collection: string, keys: readonly string[]): Promise<unknown[]> {
    try {
      if (keys.length === 1 && this.singleKeyGet) return [await this.client.get(collection, keys[0]!)];
      return await this.client.batch(collection, keys);
    } catch (err) {
      // Rejecting the batch rejects every key's promise with a GraphQL error that
      // names the registry; graphql-js then attaches each field's own path.
      if (err instanceof RegistryError) throw registryUnavailable(err.registry, err.reason);
      throw err;
    }
  }
}
