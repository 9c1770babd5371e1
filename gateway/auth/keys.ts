/**
 * API keys: generated with 256 bits of randomness, stored only as their SHA-256
 * (a fast hash is enough because the key itself is high-entropy: nothing to
 * brute-force), compared in constant time.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { sha256 } from '../../lib/sha256.js';

/** SHA-256 of the key, lowercase hex: what the clients file stores. */
export function hashApiKey(key: string): string {
  return sha256(key, 'hex');
}

/**
 * A new key `<prefix>_<43 base64url chars>`. The prefix (e.g. `mtl_hanoi`) only
 * helps people recognise a leaked key; it carries no authority.
 */
export function generateApiKey(prefix = 'mtl'): string {
  return `${prefix}_${randomBytes(32).toString('base64url')}`;
}

/** Constant-time equality of two digests (the stored ones are decoded once, at load). */
export function digestsEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
