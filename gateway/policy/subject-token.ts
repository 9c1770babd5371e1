/**
 * Subject binding: verifies the short-lived token the identity provider (the national
 * e-ID platform; `mocks/eid/` here) signs when a citizen asks for a procedure. A client
 * configured with `requireSubjectToken` must send it as `X-Subject-Token`; the gateway
 * then serves only that citizen, for that procedure.
 *
 * Verification is jose's: signature against the issuer's JWKS, `iss`, `aud`, `exp`,
 * `iat` (a token older than `maxTokenAgeSeconds` is refused even if its `exp` is far
 * away, so a mis-configured issuer cannot hand out long-lived proofs), then our claims.
 */
import { createLocalJWKSet, createRemoteJWKSet, errors as joseErrors, jwtVerify, type JSONWebKeySet, type JWTPayload } from 'jose';
import { DEFAULT_EID_AUDIENCE, DEFAULT_EID_ISSUER, SUBJECT_TOKEN_CLAIMS } from '../../lib/eid-claims.js';
import { EnvReader } from '../../lib/env-options.js';

export interface SubjectTokenOptions {
  /** URL of the issuer's JWKS. Default: env SUBJECT_TOKEN_JWKS_URL. One of jwksUrl/jwks is required. */
  jwksUrl?: string;
  /** A local key set instead of a URL (tests, air-gapped deployments with a pinned key). */
  jwks?: JSONWebKeySet;
  /** Expected `iss`. Default: env SUBJECT_TOKEN_ISSUER, else `urn:motlan:mock-eid`. */
  issuer?: string;
  /** Expected `aud`. Default: env SUBJECT_TOKEN_AUDIENCE, else `motlan-gateway`. */
  audience?: string;
  /** Oldest acceptable `iat`, in seconds. Default 900 (15 minutes). */
  maxTokenAgeSeconds?: number;
  /** Clock skew tolerated between issuer and gateway, in seconds. Default 30. */
  clockToleranceSeconds?: number;
  /** Accepted algorithms. Default EdDSA and ES256 (no RSA, never `none` or HMAC). */
  algorithms?: string[];
}

/** What the request must agree with. */
export interface SubjectExpectation {
  procedureId: string;
  /** The citizen the request is about; when undefined the token's subject becomes it. */
  personalId?: string;
  clientId: string;
  dossierId: string | null;
}

export interface VerifiedSubjectToken {
  personalId: string;
  procedureId: string;
  tokenId: string | null;
  expiresAt: number;
}

/** A token that does not bind this request; `reason` is safe to show to the client. */
export class SubjectTokenError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'SubjectTokenError';
  }
}

export type SubjectTokenVerifier = (token: string, expect: SubjectExpectation) => Promise<VerifiedSubjectToken>;

/** Compact JWS: three base64url parts; anything else is refused before any crypto. */
const JWT_SHAPE = /^[A-Za-z0-9_-]{1,2048}\.[A-Za-z0-9_-]{1,4096}\.[A-Za-z0-9_-]{1,1024}$/;

/** True when a key set is configured (option or SUBJECT_TOKEN_JWKS_URL). */
export function subjectTokensConfigured(opts: SubjectTokenOptions = {}, env: NodeJS.ProcessEnv | EnvReader = process.env): boolean {
  return Boolean(opts.jwks ?? opts.jwksUrl ?? readerOf(env).string('SUBJECT_TOKEN_JWKS_URL'));
}

function readerOf(env: NodeJS.ProcessEnv | EnvReader): EnvReader {
  return env instanceof EnvReader ? env : new EnvReader(env);
}

/** The options with their environment defaults applied (SUBJECT_TOKEN_JWKS_URL, _ISSUER, _AUDIENCE). */
export function resolveSubjectTokenOptions(opts: SubjectTokenOptions = {}, env: NodeJS.ProcessEnv | EnvReader = process.env): SubjectTokenOptions {
  const r = readerOf(env);
  const jwksUrl = opts.jwksUrl ?? r.string('SUBJECT_TOKEN_JWKS_URL');
  const issuer = opts.issuer ?? r.string('SUBJECT_TOKEN_ISSUER');
  const audience = opts.audience ?? r.string('SUBJECT_TOKEN_AUDIENCE');
  return { ...opts, ...(jwksUrl ? { jwksUrl } : {}), ...(issuer ? { issuer } : {}), ...(audience ? { audience } : {}) };
}

export function createSubjectTokenVerifier(given: SubjectTokenOptions = {}, env: NodeJS.ProcessEnv | EnvReader = process.env): SubjectTokenVerifier {
  const opts = resolveSubjectTokenOptions(given, env);
  const jwksUrl = opts.jwksUrl;
  const keySet = opts.jwks
    ? createLocalJWKSet(opts.jwks)
    : jwksUrl
      ? createRemoteJWKSet(new URL(jwksUrl), { timeoutDuration: 2000, cooldownDuration: 30_000 })
      : null;
  const issuer = opts.issuer ?? DEFAULT_EID_ISSUER;
  const audience = opts.audience ?? DEFAULT_EID_AUDIENCE;
  const maxAge = opts.maxTokenAgeSeconds ?? 900;
  const tolerance = opts.clockToleranceSeconds ?? 30;
  const algorithms = opts.algorithms ?? ['EdDSA', 'Ed25519', 'ES256'];

  return async (token, expect) => {
    if (!keySet) {
      // A configuration problem, not the client's: say what the operator must set.
      throw new SubjectTokenError('subject tokens cannot be verified: the gateway has no e-ID key set (set SUBJECT_TOKEN_JWKS_URL)');
    }
    if (!JWT_SHAPE.test(token)) throw new SubjectTokenError('X-Subject-Token is not a compact JWS (header.payload.signature)');
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keySet, {
        issuer,
        audience,
        algorithms,
        maxTokenAge: maxAge,
        clockTolerance: tolerance,
        requiredClaims: ['sub', 'exp', 'iat', SUBJECT_TOKEN_CLAIMS.procedure],
      }));
    } catch (err) {
      throw new SubjectTokenError(explainJoseError(err, { issuer, audience, maxAge }));
    }
    const sub = payload.sub!;
    const procedureId = payload[SUBJECT_TOKEN_CLAIMS.procedure];
    if (typeof procedureId !== 'string') throw new SubjectTokenError(`the subject token's ${SUBJECT_TOKEN_CLAIMS.procedure} claim is not a string`);
    if (procedureId !== expect.procedureId) {
      throw new SubjectTokenError(`the subject token was issued for procedure "${procedureId.slice(0, 64)}", not "${expect.procedureId}"`);
    }
    if (expect.personalId !== undefined && sub !== expect.personalId) {
      // Never echo either identifier: the message may end up in a client's logs.
      throw new SubjectTokenError('the subject token was issued for another citizen than the one this request is about');
    }
    const client = payload[SUBJECT_TOKEN_CLAIMS.client];
    if (client !== undefined && client !== expect.clientId) {
      throw new SubjectTokenError('the subject token was issued to another client system');
    }
    const dossier = payload[SUBJECT_TOKEN_CLAIMS.dossier];
    if (dossier !== undefined && dossier !== expect.dossierId) {
      throw new SubjectTokenError('the subject token was issued for another dossier than X-Dossier-Id');
    }
    return { personalId: sub, procedureId, tokenId: typeof payload.jti === 'string' ? payload.jti : null, expiresAt: payload.exp! };
  };
}

function explainJoseError(err: unknown, o: { issuer: string; audience: string; maxAge: number }): string {
  if (err instanceof joseErrors.JWTExpired) {
    return err.claim === 'iat'
      ? `the subject token is too old (issued more than ${o.maxAge} s ago): ask the citizen to confirm the request again`
      : 'the subject token has expired: ask the citizen to confirm the request again';
  }
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    switch (err.claim) {
      case 'iss': return `the subject token was not issued by the trusted identity provider (expected issuer ${o.issuer})`;
      case 'aud': return `the subject token is not meant for this gateway (expected audience ${o.audience})`;
      case 'iat': return `the subject token is too old (older than ${o.maxAge} s) or issued in the future`;
      case 'nbf': return 'the subject token is not valid yet';
      default: return `the subject token lacks or has an invalid "${err.claim}" claim`;
    }
  }
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return 'the subject token signature is invalid';
  if (err instanceof joseErrors.JWKSNoMatchingKey) return 'the subject token was signed with a key the identity provider does not publish';
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return 'the subject token uses an algorithm that is not accepted';
  if (err instanceof joseErrors.JWKSTimeout || err instanceof joseErrors.JWKSInvalid) return 'the identity provider key set could not be fetched; retry later';
  if (err instanceof joseErrors.JOSEError) return `the subject token is invalid (${err.code})`;
  return 'the subject token could not be verified';
}
