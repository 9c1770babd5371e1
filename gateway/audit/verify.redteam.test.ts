/**
 * Red team (issue 11): `motlan audit verify --witness` must say so when a chain was checked
 * against no witnessed checkpoint at all. An insider who controls the witness file's disk
 * can drop one chain's lines and keep the others' (replicas cross-witness each other's
 * heads, so the file is rarely empty): verify then said "intact" for the rewritten chain
 * with no note at all, exactly as if the witness had vouched for it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from './log.js';
import { verifyStore } from './sources.js';
import { SqliteAuditStore } from './sqlite-store.js';
import { sampleEntry, testSigner } from '../../test/support/audit-testing.js';

const dir = mkdtempSync(path.join(tmpdir(), 'motlan-verify-redteam-'));
const signer = testSigner();
let store: SqliteAuditStore;

beforeAll(async () => {
  store = new SqliteAuditStore({ file: path.join(dir, 'audit.db'), writer: 'inline' });
  await store.init();
  for (const instanceId of ['gw-1', 'gw-2']) {
    const log = new AuditLog({ store, instanceId, signer, checkpointEvery: 3, checkpointIntervalMs: 0 });
    await log.start();
    for (let i = 0; i < 7; i++) await log.append(sampleEntry({ ts: 1_750_000_000_000 + i }));
    await log.close();
  }
});
afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('verify with a witness that holds nothing of a chain', () => {
  it('names the chain the witness did not vouch for', async () => {
    const onlyOther = await store.checkpoints('gw-2');
    expect(onlyOther.length).toBeGreaterThan(0);
    const report = await verifyStore(store, { publicKeyPems: [signer.publicKeyPem], witness: onlyOther });
    expect(report.chains.find((c) => c.instanceId === 'gw-2')).toMatchObject({ ok: true, witnessVerified: onlyOther.length });
    expect(report.chains.find((c) => c.instanceId === 'gw-1')).toMatchObject({ ok: true, witnessVerified: 0 });
    expect(report.warnings.filter((w) => w.startsWith('gw-1:') && /no witnessed checkpoint/.test(w))).toHaveLength(1);
    expect(report.warnings.some((w) => w.startsWith('gw-2:') && /no witnessed checkpoint/.test(w))).toBe(false);
  });
});
