import { PostgresAuditStore } from './postgres-store.js';
import { describeStoreConformance } from '../../test/support/audit-store-conformance.js';
import { PG_TEST_URL, postgresUnavailable, uniqueSchema } from '../../test/support/audit-testing.js';

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
