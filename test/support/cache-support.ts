/**
 * Helpers of the cache's whole-stack tests (test/cache*.test.ts): queries against any
 * gateway of a stack, registry call counts, cache hit counts from /metrics, record
 * changes through the registries' admin API, and polling until a value shows.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { RunningGateway } from '../../gateway/app.js';
import { newTrace, type MotlanContext } from '../../gateway/core/context.js';
import type { RegistryName } from '../../mocks/world/types.js';
import type { Stack } from './stack.js';

export const REGISTRY_KEY = 'stack-registry-key';

/** A request context with no client or purpose, for the cache's unit tests (ResponseCache.set reads its trace and subject). */
export function bareContext(): MotlanContext {
  return { requestId: 'r', receivedAt: 0, client: null, purpose: null, subject: { personalId: '001' }, headers: {}, trace: newTrace() } as MotlanContext;
}

export interface Answer {
  status: number;
  body: { data?: Record<string, any> | null; errors?: Array<{ message: string; extensions?: { code?: string } }> };
}

export async function gql(
  gw: RunningGateway,
  body: { query: string; variables?: Record<string, unknown> },
  opts: { key?: string | null; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const res = await fetch(gw.graphqlUrl, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(opts.key ? { authorization: `Bearer ${opts.key}` } : {}),
      ...opts.headers,
    },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Answer['body'] };
}

/** API calls the registry received for one collection so far. */
export function calls(stack: Stack, registry: RegistryName, collection: string): number {
  return stack.registries.stats(registry).requests[collection] ?? 0;
}

/** Sum of `motlan_cache_hits_total` (every cache label) on this gateway's /metrics. */
export async function cacheHits(gw: RunningGateway): Promise<number> {
  const text = await (await fetch(`${gw.url}/metrics`)).text();
  // Only this family's samples: the process collectors may print `Nan` right after start.
  let hits = 0;
  for (const m of text.matchAll(/^motlan_cache_hits_total(?:\{[^}]*\})? (\S+)$/gm)) hits += Number(m[1]);
  return hits;
}

/** Changes a record through the registry's admin API (which publishes a change event). */
export async function patchRecord(stack: Stack, registry: RegistryName, collection: string, key: string, patch: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${stack.registries.urls[registry]}/__admin/${collection}/${encodeURIComponent(key)}`, {
    method: 'PATCH',
    headers: { 'x-api-key': REGISTRY_KEY, 'content-type': 'application/json' },
    body: JSON.stringify(patch),
  });
  if (res.status !== 200) throw new Error(`PATCH ${registry}/${collection}/${key} answered ${res.status}: ${await res.text()}`);
}

/** Polls `probe` until it returns true; throws after `timeoutMs` naming `what`. Resolves to the ms it took. */
export async function eventually(what: string, probe: () => Promise<boolean>, timeoutMs = 20_000): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await probe()) return Date.now() - started;
    if (Date.now() - started > timeoutMs) throw new Error(`Not within ${timeoutMs} ms: ${what}`);
    await sleep(25);
  }
}
