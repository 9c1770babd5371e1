/**
 * The cache shared by two gateway replicas through the real Redis (REDIS_URL, default
 * redis://127.0.0.1:6379): a fill in one replica is a hit in the other, and a change
 * event received by one replica evicts the entry in both (Redis + pub/sub). Keys use a
 * prefix unique to this run and are deleted afterwards.
 *
 * Without a reachable Redis the tests are skipped with the reason, except under CI
 * (process.env.CI), where they fail.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningGateway } from '../gateway/app.js';
import { indexWorld } from '../mocks/world/index-world.js';
import { cacheHits, calls, eventually, gql, patchRecord } from './support/cache-support.js';
import { QUIET_GATEWAY, startStack, type Stack } from './support/stack.js';
import { deleteRedisKeys } from './support/security-fixtures.js';

const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';

async function redisReachable(): Promise<string | null> {
  const probe = new Redis(REDIS_URL, { lazyConnect: true, connectTimeout: 1000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    await probe.ping();
    return null;
  } catch (err) {
    return `Redis at ${REDIS_URL} is not reachable (${(err as Error).message})`;
  } finally {
    probe.disconnect();
  }
}

const unreachable = await redisReachable();
if (unreachable && process.env.CI) throw new Error(`${unreachable}: CI must run the Redis cache tests; start Redis or set REDIS_URL.`);
if (unreachable) console.warn(`Skipping the Redis cache tests: ${unreachable}.`);

const QUERY = /* GraphQL */ `
  query Citizen($id: ID!) {
    citizen(personalId: $id) { personalId fullName permanentResidence { detail } socialInsurance { socialInsuranceNumber } }
  }
`;

describe.skipIf(unreachable !== null)('cache shared through Redis by two gateways', () => {
  const prefix = `motlan:test:${randomUUID()}:`;
  let stack: Stack;
  let one: RunningGateway;
  let two: RunningGateway;

  beforeAll(async () => {
    stack = await startStack({ citizens: 200, gateway: QUIET_GATEWAY });
    // Replica one follows the change feeds; replica two has none and learns of changes only through Redis.
    one = await stack.startGateway({ cache: { redisUrl: REDIS_URL, redisKeyPrefix: prefix } });
    two = await stack.startGateway({ cache: { redisUrl: REDIS_URL, redisKeyPrefix: prefix, changeFeeds: {} } });
    await one.services.need('cache').feedsConnected();
    expect(two.services.need('cache').feeds.size).toBe(0);
    expect(one.services.need('cache').store.kind).toBe('redis');
  }, 120_000);

  afterAll(async () => {
    await stack?.close();
    await deleteRedisKeys(REDIS_URL, prefix);
  });

  it('a fill in one replica is a hit in the other; a change seen by one evicts in both', async () => {
    const ix = indexWorld(stack.world);
    const c = stack.world.citizens.find((x) => ix.socialInsurance.has(x.personalId) && !x.deceased)!;
    const q = { query: QUERY, variables: { id: c.personalId } };
    const before = { population: calls(stack, 'population', 'citizens'), insurance: calls(stack, 'insurance', 'social-insurance') };

    const filled = await gql(one, q, { key: stack.demoKey });
    expect(filled.body.data?.citizen.fullName).toBe(c.fullName);
    const hitsBefore = await cacheHits(two);
    const shared = await gql(two, q, { key: stack.demoKey });
    expect(shared.body).toEqual(filled.body);
    expect(calls(stack, 'population', 'citizens')).toBe(before.population + 1);
    expect(calls(stack, 'insurance', 'social-insurance')).toBe(before.insurance + 1);
    expect(await cacheHits(two)).toBeGreaterThan(hitsBefore);

    // Replica two now holds the entry in its local tier too; only Redis pub/sub can evict it there.
    await gql(two, q, { key: stack.demoKey });
    expect(calls(stack, 'population', 'citizens')).toBe(before.population + 1);
    await patchRecord(stack, 'population', 'citizens', c.personalId, { permanentResidence: { detail: 'Số 9 Đinh Tiên Hoàng' } });
    await eventually('replica two shows the change replica one was told of', async () =>
      (await gql(two, q, { key: stack.demoKey })).body.data?.citizen.permanentResidence?.detail === 'Số 9 Đinh Tiên Hoàng');
    const again = await gql(one, q, { key: stack.demoKey });
    expect(again.body.data?.citizen.permanentResidence?.detail).toBe('Số 9 Đinh Tiên Hoàng');
    // The insurance entity was not touched by a population change: still shared, not refetched.
    expect(calls(stack, 'insurance', 'social-insurance')).toBe(before.insurance + 1);
  });
});
