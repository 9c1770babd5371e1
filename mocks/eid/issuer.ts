/**
 * Mock e-ID issuer: stands in for the national identity platform (VNeID) that, in
 * production, hands a TTHC system a short-lived signed token proving that the
 * citizen asked for this procedure. The gateway verifies such tokens against the
 * issuer's JWKS (`/.well-known/jwks.json`), exactly as it would the real platform's.
 *
 * MOCK ONLY: the key pair is generated in memory at start and dies with the process;
 * `POST /token` (mint a token for anyone) exists for developers and is refused when
 * NODE_ENV=production.
 */
import { assertUsablePort } from '../../lib/bad-ports.js';
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import { SignJWT, exportJWK, generateKeyPair, type JWK, type CryptoKey } from 'jose';

import { DEFAULT_EID_AUDIENCE, DEFAULT_EID_ISSUER, SUBJECT_TOKEN_CLAIMS } from '../../lib/eid-claims.js';

export { DEFAULT_EID_AUDIENCE, DEFAULT_EID_ISSUER, SUBJECT_TOKEN_CLAIMS } from '../../lib/eid-claims.js';

export interface EidIssuerOptions {
  /** `iss` claim of every token. Default `urn:motlan:mock-eid`. */
  issuer?: string;
  /** `aud` claim of every token. Default `motlan-gateway`. */
  audience?: string;
  /** JWS algorithm of the generated key pair. Default `EdDSA` (Ed25519). */
  algorithm?: 'EdDSA' | 'ES256';
}

export interface SubjectTokenRequest {
  personalId: string;
  procedureId: string;
  /** Lifetime in seconds. Default 300 (five minutes: the token proves a request, not a session). */
  ttl?: number;
  /** Binds the token to one client id (`client_id` claim). */
  clientId?: string;
  /** Binds the token to one dossier (`dossier_id` claim). */
  dossierId?: string;
  /** Overrides for tests: issue "in the past" or for another issuer/audience. */
  issuedAt?: number;
  issuer?: string;
  audience?: string;
}

export interface EidIssuer {
  issuer: string;
  audience: string;
  algorithm: 'EdDSA' | 'ES256';
  /** The public key set, as served at `/.well-known/jwks.json`. */
  jwks: { keys: JWK[] };
  issueSubjectToken(req: SubjectTokenRequest): Promise<string>;
}

/** Creates an issuer with a fresh key pair, without any HTTP server (unit tests, local JWKS). */
export async function createEidIssuer(opts: EidIssuerOptions = {}): Promise<EidIssuer> {
  const algorithm = opts.algorithm ?? 'EdDSA';
  const issuer = opts.issuer ?? DEFAULT_EID_ISSUER;
  const audience = opts.audience ?? DEFAULT_EID_AUDIENCE;
  const { publicKey, privateKey } = await generateKeyPair(algorithm, { crv: algorithm === 'EdDSA' ? 'Ed25519' : undefined });
  const kid = `mock-eid-${randomUUID().slice(0, 8)}`;
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: algorithm, use: 'sig' };
  return {
    issuer,
    audience,
    algorithm,
    jwks: { keys: [publicJwk] },
    issueSubjectToken: (req) => sign(privateKey as CryptoKey, kid, algorithm, { issuer, audience }, req),
  };
}

async function sign(
  key: CryptoKey,
  kid: string,
  alg: string,
  defaults: { issuer: string; audience: string },
  req: SubjectTokenRequest,
): Promise<string> {
  const iat = req.issuedAt ?? Math.floor(Date.now() / 1000);
  const claims: Record<string, string> = { [SUBJECT_TOKEN_CLAIMS.procedure]: req.procedureId };
  if (req.clientId) claims[SUBJECT_TOKEN_CLAIMS.client] = req.clientId;
  if (req.dossierId) claims[SUBJECT_TOKEN_CLAIMS.dossier] = req.dossierId;
  return new SignJWT(claims)
    .setProtectedHeader({ alg, kid, typ: 'JWT' })
    .setIssuer(req.issuer ?? defaults.issuer)
    .setAudience(req.audience ?? defaults.audience)
    .setSubject(req.personalId)
    .setJti(randomUUID())
    .setIssuedAt(iat)
    .setExpirationTime(iat + (req.ttl ?? 300))
    .sign(key);
}

export interface StartedEidIssuer extends EidIssuer {
  url: string;
  jwksUrl: string;
  app: FastifyInstance;
  close(): Promise<void>;
}

/**
 * Starts the mock issuer over HTTP: `GET /.well-known/jwks.json` (public keys) and, outside
 * production, `POST /token` with `{personalId, procedureId, ttl?, clientId?, dossierId?}`.
 */
export async function startEidIssuer(
  opts: EidIssuerOptions & { port?: number; host?: string } = {},
): Promise<StartedEidIssuer> {
  assertUsablePort(opts.port ?? 0, "The mock e-ID platform's port");
  const issuer = await createEidIssuer(opts);
  const app = Fastify({ logger: false });
  app.get('/.well-known/jwks.json', async (_req, reply) => {
    reply.header('cache-control', 'public, max-age=300');
    return issuer.jwks;
  });
  app.get('/health', async () => ({ status: 'ok', service: 'mock-eid' }));
  app.post('/token', async (req, reply) => {
    if (process.env.NODE_ENV === 'production') {
      return reply.code(403).send({ error: 'forbidden', message: 'The mock e-ID issuer does not mint tokens in production.' });
    }
    const body = (req.body ?? {}) as Partial<SubjectTokenRequest>;
    if (typeof body.personalId !== 'string' || typeof body.procedureId !== 'string') {
      return reply.code(400).send({ error: 'bad_request', message: 'Send JSON {"personalId": "...", "procedureId": "..."} (ttl, clientId, dossierId optional).' });
    }
    const ttl = typeof body.ttl === 'number' && body.ttl > 0 && body.ttl <= 3600 ? body.ttl : undefined;
    const token = await issuer.issueSubjectToken({
      personalId: body.personalId,
      procedureId: body.procedureId,
      ttl,
      clientId: typeof body.clientId === 'string' ? body.clientId : undefined,
      dossierId: typeof body.dossierId === 'string' ? body.dossierId : undefined,
    });
    return { token, expiresIn: ttl ?? 300 };
  });
  const address = await app.listen({ port: opts.port ?? 0, host: opts.host ?? '127.0.0.1' });
  const url = address.replace('[::1]', 'localhost');
  return {
    ...issuer,
    url,
    jwksUrl: `${url}/.well-known/jwks.json`,
    app,
    close: () => app.close(),
  };
}
