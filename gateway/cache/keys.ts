/**
 * Cache keys and invalidation tags.
 *
 * A key never lets one subject's data answer for another, nor one selection answer
 * another's: it hashes the subgraph, the exact query string (the selection) and the
 * canonical JSON of what identifies the data (the entity representation with its key
 * fields, or every variable of a root fetch). Keys and tags are sha256 digests, so a
 * listing of the store (Redis KEYS) shows no identifier in clear.
 *
 * Tags say which registry records an entry was built from: `tagOf(registry, id)` for
 * every identifier in the fetch's variables and every identifier field of the
 * response. A registry change event naming a record evicts the entries tagged with it.
 */
import { sha256 } from './policy.js';

/** JSON with object keys sorted, so `{a,b}` and `{b,a}` give the same key. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj).filter((k) => obj[k] !== undefined).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
}

/** Key of one entity fetched from `subgraph` with the selection `queryHash`. */
export function entityKey(subgraph: string, queryHash: string, representation: unknown): string {
  return sha256(`e\u0000${subgraph}\u0000${queryHash}\u0000${canonicalJson(representation)}`);
}

/** Key of a root-field fetch: subgraph, selection, and every variable. */
export function rootKey(subgraph: string, queryHash: string, variables: unknown): string {
  return sha256(`q\u0000${subgraph}\u0000${queryHash}\u0000${canonicalJson(variables ?? {})}`);
}

/** Tag of one registry record identifier (the change feed's `keys`). */
export function tagOf(registry: string, id: string): string {
  return sha256(`t\u0000${registry}\u0000${id}`);
}

/** Tag every entry of a registry carries (in process only): evicts all of them when its feed had a gap. */
export function registryTag(registry: string): string {
  return `registry:${registry}`;
}

/** Adds every string and number leaf of `value` (except `__typename`) to `out`. */
export function collectLeaves(value: unknown, out: Set<string>): void {
  if (typeof value === 'string') out.add(value);
  else if (typeof value === 'number') out.add(String(value));
  else if (Array.isArray(value)) for (const v of value) collectLeaves(v, out);
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) if (k !== '__typename') collectLeaves(v, out);
  }
}

/** Adds the values of the fields named in `fields`, at any depth of `value`, to `out`. */
export function collectIdentifiers(value: unknown, fields: ReadonlySet<string>, out: Set<string>): void {
  if (Array.isArray(value)) {
    for (const v of value) collectIdentifiers(v, fields, out);
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (fields.has(k) && (typeof v === 'string' || typeof v === 'number')) out.add(String(v));
      else if (v && typeof v === 'object') collectIdentifiers(v, fields, out);
    }
  }
}
