/**
 * How a subgraph knows a request comes from the gateway (docs/SECURITY.md, "The
 * subgraph trust boundary"). The gateway signs every subgraph request with a key
 * shared with that one subgraph:
 *
 *   X-Motlan-Subgraph-Request-Id: <random id of this fetch>   (kept in the audit record)
 *   X-Motlan-Timestamp:           <unix time, ms>
 *   X-Motlan-Signature:           v2=<hex HMAC-SHA256(key, canonical)>
 *   canonical = "motlan-subgraph-v2\n" subgraph "\n" METHOD "\n" path?query "\n" timestamp "\n" id "\n" hex SHA-256(body)
 *
 * The subgraph's name is signed (v2): a request signed for `population` does not verify
 * at `insurance`, even if an operator gave both the same key. v1 signatures (no name)
 * are refused.
 *
 * Why an HMAC and not a short-lived JWT (jose): the signature must cover the body
 * (otherwise a captured header could be replayed with another query inside the
 * window), and a JWT would need the same body digest as a claim anyway. The HMAC
 * is one synchronous hash per call on the hot path, has no algorithm negotiation
 * ("alg": "none", key confusion) to get wrong, and needs no key-set distribution:
 * the key is a symmetric secret per subgraph, exactly like the registry service keys.
 *
 * Replays: a signature is valid for `maxSkewMs` around its timestamp, and a
 * subgraph remembers the ids it accepted for that long, so the same signed
 * request is accepted once.
 */
import { createHash, createHmac, randomUUID, timingSafeEqual } from 'node:crypto';

export const SUBGRAPH_REQUEST_ID_HEADER = 'x-motlan-subgraph-request-id';
export const SUBGRAPH_TIMESTAMP_HEADER = 'x-motlan-timestamp';
export const SUBGRAPH_SIGNATURE_HEADER = 'x-motlan-signature';
const VERSION = 'v2';
const DOMAIN = 'motlan-subgraph-v2';

/** Default tolerance between the gateway's clock and the subgraph's, either way. */
export const DEFAULT_MAX_SKEW_MS = 30_000;
/** Shortest key accepted (characters): as for the audit HMAC key. */
export const MIN_KEY_LENGTH = 32;
/** Development keys start with this; production refuses them. */
export const DEV_KEY_PREFIX = 'dev-';

export interface SignInput {
  key: Buffer;
  /** The subgraph the request is for (the gateway's data source name = the subgraph's own name). */
  subgraph: string;
  method: string;
  /** Path and query string, e.g. `/graphql`. */
  path: string;
  body: string | Buffer;
  /** Unix time in ms. */
  timestamp: number;
  requestId: string;
}

function sha256Hex(body: string | Buffer): string {
  return createHash('sha256').update(body).digest('hex');
}

/** The raw HMAC bytes: the verifier compares them as they are (no hex round trip per request). */
function mac(input: SignInput): Buffer {
  const canonical = [DOMAIN, input.subgraph, input.method.toUpperCase(), input.path, String(input.timestamp), input.requestId, sha256Hex(input.body)].join('\n');
  return createHmac('sha256', input.key).update(canonical).digest();
}

/** The three headers of a signed request. */
export function signatureHeaders(input: SignInput): Record<string, string> {
  return {
    [SUBGRAPH_REQUEST_ID_HEADER]: input.requestId,
    [SUBGRAPH_TIMESTAMP_HEADER]: String(input.timestamp),
    [SUBGRAPH_SIGNATURE_HEADER]: `${VERSION}=${mac(input).toString('hex')}`,
  };
}

/**
 * A fresh per-fetch id. With the client request's id (the audit record's `requestId`) and
 * the subgraph name it reads `<requestId>:<subgraph>:<12 random hex>`, so a registry owner
 * finds the gateway's audit record of any line of its own log by the prefix, and the
 * gateway's trace lists every id. Without them (schema loads, probes) a random UUID.
 */
export function newSubgraphRequestId(requestId?: string, subgraph?: string): string {
  if (requestId === undefined || subgraph === undefined) return randomUUID();
  // randomUUID draws from a cached entropy pool (randomBytes would cost a syscall per fetch);
  // its first 12 hex digits are all random.
  const u = randomUUID();
  return `${requestId}:${subgraph}:${u.slice(0, 8)}${u.slice(9, 13)}`;
}

/** `/graphql?x=1` of `http://host:4001/graphql?x=1`. */
export function pathOf(url: string): string {
  const u = new URL(url);
  return `${u.pathname}${u.search}`;
}

export type VerifyFailure = 'missing' | 'malformed' | 'unsupported-version' | 'stale' | 'bad-signature' | 'replayed';

export type VerifyResult = { ok: true; requestId: string } | { ok: false; reason: VerifyFailure };

/** Remembers accepted request ids until their timestamp leaves the window. One per subgraph server. */
export class ReplayGuard {
  private readonly seen = new Map<string, number>();
  private lastSweep = 0;

  /**
   * @param windowMs how long an id is remembered (the signature's validity: 2 × skew).
   * @param maxEntries refuse new ids when this many are remembered (memory bound under a flood). Default 1 000 000.
   */
  constructor(
    private readonly windowMs: number,
    private readonly maxEntries = 1_000_000,
  ) {}

  /** True when `id` was not seen in the window (and remembers it); false for a replay. */
  accept(id: string, now: number): boolean {
    if (now - this.lastSweep > this.windowMs / 4) this.sweep(now);
    if (this.seen.has(id)) return false;
    // Full of live ids: refusing is safer than forgetting one (that would let it be replayed).
    if (this.seen.size >= this.maxEntries) return false;
    this.seen.set(id, now + this.windowMs);
    return true;
  }

  private sweep(now: number): void {
    this.lastSweep = now;
    for (const [id, expires] of this.seen) if (expires <= now) this.seen.delete(id);
  }
}

export interface VerifyInput {
  key: Buffer;
  /** This subgraph's own name: a request signed for another subgraph does not verify. */
  subgraph: string;
  method: string;
  path: string;
  body: string | Buffer;
  headers: Record<string, string | string[] | undefined>;
  now: number;
  /** Default DEFAULT_MAX_SKEW_MS. */
  maxSkewMs?: number;
  /** When given, an id already accepted is refused. */
  replay?: ReplayGuard;
}

function single(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? (v.length === 1 ? v[0] : undefined) : v;
}

const ID_PATTERN = /^[A-Za-z0-9_.:-]{8,128}$/;

/** Checks the signature headers of a request; never throws. */
export function verifySignature(input: VerifyInput): VerifyResult {
  const id = single(input.headers[SUBGRAPH_REQUEST_ID_HEADER]);
  const ts = single(input.headers[SUBGRAPH_TIMESTAMP_HEADER]);
  const sig = single(input.headers[SUBGRAPH_SIGNATURE_HEADER]);
  if (id === undefined && ts === undefined && sig === undefined) return { ok: false, reason: 'missing' };
  if (!id || !ts || !sig || !ID_PATTERN.test(id) || !/^\d{1,16}$/.test(ts)) return { ok: false, reason: 'malformed' };
  // v1 did not name the subgraph (replayable to another subgraph sharing the key): refused.
  if (!sig.startsWith(`${VERSION}=`)) return { ok: false, reason: /^v\d+=/.test(sig) ? 'unsupported-version' : 'malformed' };
  const timestamp = Number(ts);
  const skew = input.maxSkewMs ?? DEFAULT_MAX_SKEW_MS;
  if (Math.abs(input.now - timestamp) > skew) return { ok: false, reason: 'stale' };
  const expected = mac({ key: input.key, subgraph: input.subgraph, method: input.method, path: input.path, body: input.body, timestamp, requestId: id });
  const given = Buffer.from(sig.slice(VERSION.length + 1), 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'bad-signature' };
  if (input.replay && !input.replay.accept(id, input.now)) return { ok: false, reason: 'replayed' };
  return { ok: true, requestId: id };
}

/** What each refusal tells the caller (no secret, nothing about the expected value). */
export const VERIFY_FAILURE_MESSAGES: Record<VerifyFailure, string> = {
  missing: 'This subgraph answers only the Motlan gateway: the request carries no gateway signature (X-Motlan-Signature).',
  malformed: 'The gateway signature headers are malformed (X-Motlan-Subgraph-Request-Id, X-Motlan-Timestamp, X-Motlan-Signature: v2=<hex>).',
  'unsupported-version': 'The gateway signature has an unsupported version: this subgraph accepts only v2 (which names the subgraph); upgrade the gateway.',
  stale: 'The gateway signature is outside the accepted time window: check that the gateway and subgraph clocks agree.',
  'bad-signature': 'The gateway signature does not match: the gateway and this subgraph do not share the same key, or the request was altered.',
  replayed: 'This signed request was already accepted once: replays are refused.',
};
