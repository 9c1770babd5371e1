import { decodeJwt, decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSubjectTokenVerifier } from '../../gateway/policy/subject-token.js';
import { startEidIssuer, type StartedEidIssuer } from './issuer.js';

describe('mock e-ID issuer', () => {
  let eid: StartedEidIssuer;
  beforeAll(async () => {
    eid = await startEidIssuer({ port: 0 });
  });
  afterAll(() => eid.close());

  it('serves its public keys only (no private parts) at /.well-known/jwks.json', async () => {
    const res = await fetch(eid.jwksUrl);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { keys: Array<Record<string, unknown>> };
    expect(body.keys).toHaveLength(1);
    expect(body.keys[0]).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', use: 'sig' });
    expect(body.keys[0]).not.toHaveProperty('d');
  });

  it('issues short-lived tokens naming the citizen and the procedure', async () => {
    const token = await eid.issueSubjectToken({ personalId: '001090000001', procedureId: 'lodging-notification' });
    const claims = decodeJwt(token);
    expect(claims).toMatchObject({ sub: '001090000001', procedure_id: 'lodging-notification', iss: eid.issuer, aud: eid.audience });
    expect(claims.exp! - claims.iat!).toBe(300);
    expect(decodeProtectedHeader(token).kid).toBe(eid.jwks.keys[0]!.kid);
  });

  it('tokens verify against the served JWKS over HTTP, and only for what they name', async () => {
    const verify = createSubjectTokenVerifier({ jwksUrl: eid.jwksUrl }, {});
    const res = await fetch(`${eid.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ personalId: '001090000001', procedureId: 'passport-issuance', ttl: 60 }),
    });
    const { token } = (await res.json()) as { token: string };
    const ok = await verify(token, { procedureId: 'passport-issuance', personalId: '001090000001', clientId: 'c', dossierId: null });
    expect(ok.personalId).toBe('001090000001');
    await expect(verify(token, { procedureId: 'lodging-notification', clientId: 'c', dossierId: null })).rejects.toThrow(/procedure/);
  });

  it('refuses to mint tokens from malformed requests', async () => {
    const res = await fetch(`${eid.url}/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"personalId": 1}' });
    expect(res.status).toBe(400);
  });
});
