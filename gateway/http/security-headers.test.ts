import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { securityHeaders } from './security-headers.js';

const options = {
  contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'self'"], styleSrc: ["'self'", "'unsafe-inline'"], objectSrc: ["'none'"] } },
  crossOriginResourcePolicy: { policy: 'same-site' },
};

describe('security headers computed once', () => {
  it('are the headers helmet sets on a response, in its order', () => {
    const helmet = createRequire(createRequire(import.meta.url).resolve('@fastify/helmet'))('helmet') as (o: object) => (req: unknown, res: unknown, next: () => void) => void;
    const seen: Array<[string, string]> = [];
    helmet(options)({ headers: {} }, { setHeader: (k: string, v: string) => seen.push([k.toLowerCase(), v]), removeHeader: () => undefined, getHeader: () => undefined }, () => undefined);
    const computed = securityHeaders(options);
    expect(computed.set).toEqual(seen);
    expect(Object.fromEntries(computed.set)).toMatchObject({
      'content-security-policy': "default-src 'self';style-src 'self' 'unsafe-inline';object-src 'none'",
      'cross-origin-resource-policy': 'same-site',
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'SAMEORIGIN',
    });
    expect(computed.remove).toEqual(['x-powered-by']);
  });

  it('refuses a directive computed per request (it cannot be computed once)', () => {
    expect(() => securityHeaders({ contentSecurityPolicy: { directives: { scriptSrc: ["'self'", () => "'nonce-x'"] } } })).toThrow(/scriptSrc is a function/);
  });
});
