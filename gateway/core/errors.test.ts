import { describe, expect, it } from 'vitest';
import { countEntities, describeFailure } from './datasource.js';
import { graphqlResponseType, makeFormatError, scrubInternals } from './errors.js';

describe('production error mask', () => {
  const prod = makeFormatError(true);
  const dev = makeFormatError(false);

  it('keeps public codes with a scrubbed message and only safe extensions', () => {
    const out = prod(
      {
        message: 'The land registry (CSDLQG về đất đai) is unavailable: upstream http://10.0.0.7:4104/api/v1/parcels said 503 via land-db.internal:5432',
        path: ['citizen', 'landParcels'],
        extensions: { code: 'REGISTRY_UNAVAILABLE', registry: 'land', serviceName: 'land', stacktrace: ['Error: x', '    at /work/main/gateway/core/datasource.ts:12:3'], response: { url: 'http://10.0.0.7:4104' } },
      },
      null,
    );
    expect(out).toEqual({
      message: 'The land registry (CSDLQG về đất đai) is unavailable: upstream [internal address] said 503 via [internal address]',
      path: ['citizen', 'landParcels'],
      extensions: { code: 'REGISTRY_UNAVAILABLE', registry: 'land', reason: 'REGISTRY_UNAVAILABLE' },
    });
  });

  it('replaces errors with non-public codes by a generic message', () => {
    const out = prod({ message: 'Cannot read properties of undefined (reading x) at /srv/motlan/gateway/app.ts:10', extensions: { code: 'INTERNAL_SERVER_ERROR' } }, null);
    expect(out.message).not.toMatch(/undefined|\/srv/);
    expect(out.extensions).toEqual({ code: 'INTERNAL_SERVER_ERROR', reason: 'INTERNAL_ERROR' });
    expect(prod({ message: 'boom' }, null).extensions).toEqual({ code: 'INTERNAL_SERVER_ERROR', reason: 'INTERNAL_ERROR' });
  });

  it('leaves errors untouched in development, but for the reason every error carries', () => {
    const e = { message: 'x at http://localhost:4001/graphql', extensions: { code: 'DOWNSTREAM_SERVICE_ERROR', serviceName: 'population' } };
    expect(dev(e, null)).toEqual({ ...e, extensions: { ...e.extensions, reason: 'INTERNAL_ERROR' } });
    // A refusal's own reason is kept; a code without one gets the code's default.
    expect(dev({ message: 'm', extensions: { code: 'FORBIDDEN', reason: 'PURPOSE_MISSING' } }, null).extensions).toEqual({ code: 'FORBIDDEN', reason: 'PURPOSE_MISSING' });
    expect(dev({ message: 'm', extensions: { code: 'GRAPHQL_PARSE_FAILED' } }, null).extensions).toEqual({ code: 'GRAPHQL_PARSE_FAILED', reason: 'SYNTAX_ERROR' });
  });

  it('scrubs URLs, host:port pairs and source paths', () => {
    expect(scrubInternals('GET https://registry.gov.vn/a?b=1 and [::1]:4101 and localhost:4000, /a/b/c.ts:3:4')).toBe(
      'GET [internal address] and [internal address] and [internal address], [internal path]',
    );
    expect(scrubInternals('Invalid personalId "12345": 12 digits.')).toBe('Invalid personalId "12345": 12 digits.');
  });
});

describe('subgraph data source helpers', () => {
  it('counts entities of _entities answers and of root fields', () => {
    expect(countEntities({ _entities: [{ a: 1 }, null, { a: 2 }] })).toBe(2);
    expect(countEntities({ citizen: { a: 1 }, household: null, citizens: [{}, null, {}] })).toBe(3);
    expect(countEntities(null)).toBe(0);
  });

  it('describes failures without addresses', () => {
    expect(describeFailure(Object.assign(new Error('t'), { name: 'TimeoutError' }), 250)).toBe('timeout after 250 ms');
    expect(describeFailure(new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:4003'), { code: 'ECONNREFUSED' }) }), 1)).toBe('connection refused');
    expect(describeFailure(new Error('503: Service Unavailable'), 1)).toBe('HTTP 503');
    expect(describeFailure(new Error('connect to http://10.1.1.1 weird'), 1)).toBe('unexpected answer');
  });
});

describe('graphqlResponseType: the media type of refusals made before Apollo Server', () => {
  const GQL = 'application/graphql-response+json; charset=utf-8';
  const JSON_T = 'application/json; charset=utf-8';
  it('follows the client\'s preference as Apollo Server does (q first, then order), json by default', () => {
    expect(graphqlResponseType(undefined)).toBe(JSON_T);
    expect(graphqlResponseType('*/*')).toBe(JSON_T);
    expect(graphqlResponseType('application/graphql-response+json')).toBe(GQL);
    expect(graphqlResponseType('application/graphql-response+json, application/json')).toBe(GQL);
    expect(graphqlResponseType('application/json, application/graphql-response+json')).toBe(JSON_T);
    expect(graphqlResponseType('application/json;q=0.9, application/graphql-response+json')).toBe(GQL);
    expect(graphqlResponseType('application/graphql-response+json;q=0.5, application/json')).toBe(JSON_T);
    expect(graphqlResponseType('application/graphql-response+json;q=0')).toBe(JSON_T);
    expect(graphqlResponseType('Application/GraphQL-Response+JSON ; q=1')).toBe(GQL);
  });
});
