/**
 * Clients for the security tests: a clients file written to a temp folder, each client
 * with its own clear key (the file stores only SHA-256 digests, like production).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { hashApiKey } from '../../gateway/auth/keys.js';

export interface TestClient {
  id: string;
  procedures: string[];
  registries?: string[];
  permissions?: string[];
  requireSubjectToken?: boolean;
}

export interface ClientsFixture {
  file: string;
  keys: Record<string, string>;
  cleanup(): void;
}

export function writeClientsFile(clients: TestClient[]): ClientsFixture {
  const dir = mkdtempSync(path.join(tmpdir(), 'motlan-security-'));
  const file = path.join(dir, 'clients.json');
  const keys: Record<string, string> = {};
  const entries = clients.map((c) => {
    const key = `test-${c.id}-key-${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;
    keys[c.id] = key;
    return {
      id: c.id,
      agency: `Test agency ${c.id}`,
      name: `Test TTHC system ${c.id}`,
      procedures: c.procedures,
      ...(c.registries ? { registries: c.registries } : {}),
      permissions: c.permissions ?? [],
      requireSubjectToken: c.requireSubjectToken ?? false,
      roles: ['client'],
      keys: [{ id: `${c.id}-1`, sha256: hashApiKey(key), createdAt: '2025-07-01T00:00:00Z' }],
    };
  });
  writeFileSync(file, JSON.stringify({ clients: entries }, null, 2));
  return { file, keys, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** True when Redis answers PING at `url` (tests skip with a visible reason otherwise, unless CI). */
export async function redisAnswers(url: string): Promise<boolean> {
  const { Redis } = await import('ioredis');
  const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, connectTimeout: 1000, retryStrategy: () => null });
  r.on('error', () => undefined);
  try {
    await r.connect();
    return (await r.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    r.disconnect();
  }
}

/** Deletes every key under `prefix` (a test's own namespace) from the Redis at `url`. */
export async function deleteRedisKeys(url: string, prefix: string): Promise<void> {
  const { Redis } = await import('ioredis');
  const redis = new Redis(url);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
