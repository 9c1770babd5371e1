/** Running one subgraph alone: configuration from the environment. */
import { describe, expect, it } from 'vitest';
import { subgraphConfigFromEnv } from './env.js';

describe('subgraphConfigFromEnv', () => {
  it('defaults to the documented port and registry URL with the demo key in development', () => {
    expect(subgraphConfigFromEnv('insurance', {})).toMatchObject({
      name: 'insurance',
      port: 4003,
      registryUrl: 'http://localhost:4103',
      apiKey: 'demo-registry-key',
      timeoutMs: 2000,
    });
  });

  it('takes PORT, REGISTRY_URL, REGISTRY_API_KEY and REGISTRY_TIMEOUT_MS from the environment', () => {
    const env = { PORT: '5001', REGISTRY_URL: 'https://dancu.example.gov.vn', REGISTRY_API_KEY: 'k-123', REGISTRY_TIMEOUT_MS: '750' };
    expect(subgraphConfigFromEnv('population', env)).toMatchObject({
      port: 5001,
      registryUrl: 'https://dancu.example.gov.vn',
      apiKey: 'k-123',
      timeoutMs: 750,
    });
    expect(subgraphConfigFromEnv('insurance', { TODAY: '2026-11-01' }).today?.()).toBe('2026-11-01');
  });

  it('refuses the demo registry key in production', () => {
    expect(() => subgraphConfigFromEnv('land', { NODE_ENV: 'production', REGISTRY_URL: 'https://x.gov.vn' })).toThrow(/REGISTRY_API_KEY/);
    expect(() =>
      subgraphConfigFromEnv('land', { NODE_ENV: 'production', REGISTRY_URL: 'https://x.gov.vn', REGISTRY_API_KEY: 'demo-registry-key' }),
    ).toThrow(/demo key is refused/);
  });

  it('says what is wrong with a bad name or number', () => {
    expect(() => subgraphConfigFromEnv('tax', {})).toThrow(/population, enterprise, insurance, land/);
    expect(() => subgraphConfigFromEnv('land', { PORT: 'eighty' })).toThrow(/PORT/);
    expect(() => subgraphConfigFromEnv('land', { REGISTRY_TIMEOUT_MS: '-1' })).toThrow(/REGISTRY_TIMEOUT_MS/);
    expect(() => subgraphConfigFromEnv('land', { TODAY: '1/11/2026' })).toThrow(/TODAY/);
  });
});
