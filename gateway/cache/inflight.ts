/**
 * Deduplication of identical in-flight subgraph fetches: while a fetch for a key is
 * under way, later callers with the same key wait for it instead of calling the
 * subgraph again (a burst of requests for the same citizen costs one upstream call).
 *
 * The first caller gets the response object itself; the others each get their own
 * parsed copy (the gateway merges later fetches into the objects it receives, so a
 * shared object would carry one request's data into another's). A failure reaches
 * every waiter. Nothing is kept once the fetch settles: this is not a cache.
 */
export class InFlight {
  private readonly pending = new Map<string, { joiners: number; shared: Promise<string> }>();

  /** Fetches currently shared. */
  get size(): number {
    return this.pending.size;
  }

  async run<T>(key: string, fetch: () => Promise<T>): Promise<T> {
    const existing = this.pending.get(key);
    if (existing) {
      existing.joiners++;
      return JSON.parse(await existing.shared) as T;
    }
    let resolve!: (json: string) => void;
    let reject!: (err: unknown) => void;
    const entry = {
      joiners: 0,
      shared: new Promise<string>((res, rej) => {
        resolve = res;
        reject = rej;
      }),
    };
    // Nobody may be waiting on `shared`; a rejection without waiters is not an error.
    entry.shared.catch(() => undefined);
    this.pending.set(key, entry);
    let result: T;
    try {
      result = await fetch();
    } catch (err) {
      this.pending.delete(key);
      reject(err);
      throw err;
    }
    // Same synchronous block: nobody can join between the check and the delete.
    this.pending.delete(key);
    if (entry.joiners > 0) resolve(JSON.stringify(result));
    return result;
  }
}
