import { describe, expect, it } from 'vitest';
import { AuditLog } from './log.js';
import { PostgresAuditStore } from './postgres-store.js';
import { describeStoreConformance } from '../../test/support/audit-store-conformance.js';
import { PG_TEST_URL, postgresUnavailable, sampleEntry, testSigner, uniqueSchema } from '../../test/support/audit-testing.js';

const skip = await postgresUnavailable();
const schema = uniqueSchema();

describeStoreConformance(
  'PostgreSQL',
  async () => {
    const store = new PostgresAuditStore({ url: PG_TEST_URL, schema, pageSize: 7 });
    const reopened: PostgresAuditStore[] = [];
    return {
      store,
      table: (name) => `${schema}.${name}`,
      reopen: async () => {
        const s = new PostgresAuditStore({ url: PG_TEST_URL, schema });
        await s.init();
        reopened.push(s);
        return s;
      },
      cleanup: async () => {
        for (const s of reopened) await s.close().catch(() => {});
        await store.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
        await store.close();
      },
    };
  },
  skip,
);

describe.skipIf(skip !== null)(`PostgreSQL store: a replica starting beside a running one${skip ? ` (skipped: ${skip})` : ''}`, () => {
  it('starts while the other appends and rolls, every time (its DDL never deadlocks with a roll)', async () => {
    const s = uniqueSchema();
    const running = new PostgresAuditStore({ url: PG_TEST_URL, schema: s });
    await running.init();
    const log = new AuditLog({ store: running, instanceId: 'running', signer: testSigner(), checkpointEvery: 10_000, checkpointIntervalMs: 0 });
    await log.start();
    let stop = false;
    let appended = 0;
    // Appends and rolls without pause, as a busy replica's writer and roller do.
    const traffic = (async () => {
      while (!stop) {
        await Promise.all(Array.from({ length: 20 }, () => log.append(sampleEntry({ ts: Date.UTC(2025, 6, 1) + appended++ }))));
        await running.rollUp();
      }
    })();
    try {
      for (let i = 0; i < 15; i++) {
        const starting = new PostgresAuditStore({ url: PG_TEST_URL, schema: s });
        try {
          await starting.init();
        } finally {
          await starting.close();
        }
      }
    } finally {
      stop = true;
      await traffic;
      await log.close();
      await running.exec(`DROP SCHEMA ${s} CASCADE`);
      await running.close();
    }
    expect(appended).toBeGreaterThan(0);
  });
});
