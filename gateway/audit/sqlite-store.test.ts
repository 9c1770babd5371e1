import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SqliteAuditStore } from './sqlite-store.js';
import { describeStoreConformance } from '../../test/support/audit-store-conformance.js';

for (const writer of ['worker', 'inline'] as const) describeStoreConformance(
  `SQLite (${writer} writer)`,
  async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'motlan-audit-'));
    const file = path.join(dir, 'audit.db');
    const store = new SqliteAuditStore({ file, pageSize: 7, writer });
    const reopened: SqliteAuditStore[] = [];
    return {
      store,
      table: (name) => name,
      reopen: async () => {
        const s = new SqliteAuditStore({ file, writer });
        await s.init();
        reopened.push(s);
        return s;
      },
      cleanup: async () => {
        for (const s of reopened) await s.close();
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
  null,
);
