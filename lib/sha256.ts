/**
 * SHA-256 of a string (UTF-8) or bytes, as hex, base64 or base64url. Node's one-shot
 * `crypto.hash` (Node >= 20.12) skips the Hash object `createHash` builds: the gateway hashes
 * several short strings per request (documents, cache keys and tags, API keys, audit records).
 * Older Node 20 releases fall back to `createHash`; the digest is the same.
 */
import * as crypto from 'node:crypto';

type Encoding = 'hex' | 'base64' | 'base64url';

const oneShot: ((algorithm: string, data: string | Buffer, encoding: Encoding) => string) | undefined =
  typeof crypto.hash === 'function' ? (crypto.hash as (a: string, d: string | Buffer, e: Encoding) => string) : undefined;

export function sha256(data: string | Buffer, encoding: Encoding = 'hex'): string {
  return oneShot ? oneShot('sha256', data, encoding) : crypto.createHash('sha256').update(data).digest(encoding);
}
