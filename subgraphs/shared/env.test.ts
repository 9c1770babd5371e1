/** Running one subgraph alone: configuration from the environment. */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { subgraphConfigFromEnv } from './env.js';

/** A fresh data directory, so development keys never land in the repository's data/. */
const dataDir = () => mkdtempSync(path.join(tmpdir(), 'motlan-subgraph-env-'));
const PROD = { NODE_ENV: 'production', REGISTRY_URL: 'https://x.gov.vn', REGISTRY_API_KEY: 'registry-service-key' };

describe('subgraphConfigFromEnv', () => {
  it('defaults to the documented port and registry URL with the demo key in development', () => {
    expect(subgraphConfigFromEnv('insurance', { DATA_DIR: dataDir() })).toMatchObject({
      name: 'insurance',
      port: 4003,
      registryUrl: 'http://localhost:4103',
      apiKey: 'demo-registry-key',
      timeoutMs: 2000,
    });
  });

  it('takes PORT, REGISTRY_URL, REGISTRY_API_KEY and REGISTRY_TIMEOUT_MS from the environment', () => {
    const env = { DATA_DIR: dataDir(), PORT: '5001', REGISTRY_URL: 'https://dancu.example.gov.vn', REGISTRY_API_KEY: 'k-123', REGISTRY_TIMEOUT_MS: '750' };
    expect(subgraphConfigFromEnv('population', env)).toMatchObject({
      port: 5001,
      registryUrl: 'https://dancu.example.gov.vn',
      apiKey: 'k-123',
      timeoutMs: 750,
    });
    expect(subgraphConfigFromEnv('insurance', { DATA_DIR: dataDir(), TODAY: '2026-11-01' }).today?.()).toBe('2026-11-01');
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

  it('takes the gateway signing key from GATEWAY_SIGNING_KEY, and generates a development key under DATA_DIR otherwise', () => {
    const key = 'a'.repeat(64);
    expect(subgraphConfigFromEnv('land', { DATA_DIR: dataDir(), GATEWAY_SIGNING_KEY: key }).gatewayKey).toEqual(Buffer.from(key));
    const dir = dataDir();
    const dev = subgraphConfigFromEnv('land', { DATA_DIR: dir }).gatewayKey!;
    expect(dev.toString()).toBe(readFileSync(path.join(dir, 'subgraph-signing-land.dev.key'), 'utf8').trim());
    expect(dev.toString()).toMatch(/^dev-[0-9a-f]{64}$/);
    // The same key on the next start (the gateway, on the same DATA_DIR, reads the same file).
    expect(subgraphConfigFromEnv('land', { DATA_DIR: dir }).gatewayKey).toEqual(dev);
    expect(() => subgraphConfigFromEnv('land', { DATA_DIR: dir, GATEWAY_SIGNING_KEY: 'short' })).toThrow(/GATEWAY_SIGNING_KEY is shorter than 32/);
  });

  it('refuses to start in production without a gateway signing key, with a development key, or unsigned', () => {
    expect(() => subgraphConfigFromEnv('land', { ...PROD, DATA_DIR: dataDir() })).toThrow(/GATEWAY_SIGNING_KEY must be set when NODE_ENV=production/);
    expect(() => subgraphConfigFromEnv('land', { ...PROD, GATEWAY_SIGNING_KEY: `dev-${'0'.repeat(64)}` })).toThrow(/development key/);
    expect(() => subgraphConfigFromEnv('land', { ...PROD, GATEWAY_SIGNING_KEY: 'b'.repeat(64), GATEWAY_SIGNATURE: 'off' })).toThrow(/GATEWAY_SIGNATURE=off is refused/);
    expect(subgraphConfigFromEnv('land', { ...PROD, GATEWAY_SIGNING_KEY: 'b'.repeat(64) }).gatewayKey).toEqual(Buffer.from('b'.repeat(64)));
    expect(() => subgraphConfigFromEnv('land', { DATA_DIR: dataDir(), GATEWAY_SIGNATURE: 'no' })).toThrow(/only value is "off"/);
  });
});
