/**
 * Canonical JSON: the one byte sequence a record hashes to, whatever store or
 * export format carried it (SQLite text, PostgreSQL jsonb, CSV cells, JSONL).
 * Object keys are sorted, no whitespace, `undefined` members dropped; numbers use
 * JavaScript's shortest round-trip form, which every format above preserves.
 */
import { sha256 } from '../../lib/sha256.js';

export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) {
      throw new Error(`Cannot canonicalize the number ${value}: audit records hold finite numbers only.`);
    }
    return JSON.stringify(value) ?? 'null';
  }
  // Plain loops and string concatenation: this runs for every record the gateway writes.
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ',';
      const v: unknown = value[i];
      out += v === undefined ? 'null' : canonicalJson(v);
    }
    return `${out}]`;
  }
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj).sort();
  let out = '{';
  let first = true;
  for (const k of keys) {
    const v = obj[k];
    if (v === undefined) continue;
    if (!first) out += ',';
    first = false;
    out += `${JSON.stringify(k)}:${canonicalJson(v)}`;
  }
  return `${out}}`;
}

export function sha256Hex(data: string | Buffer): string {
  return sha256(data, 'hex');
}
