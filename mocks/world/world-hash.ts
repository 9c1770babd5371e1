/**
 * A fingerprint of a generated world: SHA-256 of its canonical JSON (object keys
 * sorted, no whitespace), so two worlds hash equal exactly when they are deep-equal
 * plain data, whatever order the generator happened to set fields in.
 */
import { createHash } from 'node:crypto';
import type { World } from './types.js';

/** JSON with object keys sorted at every level; refuses values JSON would drop or alter silently. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`canonicalJson: ${value} has no JSON form; the world must hold finite numbers only.`);
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const entries = Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`);
    return `{${entries.join(',')}}`;
  }
  throw new Error(`canonicalJson: ${typeof value} values are not plain data; the world must be JSON-serialisable as is.`);
}

/** Hex SHA-256 of the world's canonical JSON. */
export function worldHash(world: World): string {
  return createHash('sha256').update(canonicalJson(world)).digest('hex');
}
