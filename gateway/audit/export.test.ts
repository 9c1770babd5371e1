import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { archiveOlderThan } from './archive.js';
import { csvHeader, toCsvRow, toJsonLine } from './export-format.js';
import { exportLines } from './export.js';
import { AuditLog } from './log.js';
import type { AuditRecord } from './record.js';
import { verifyExportFile, verifyExportLines, verifyStore } from './sources.js';
import { SqliteAuditStore } from './sqlite-store.js';
import { sampleEntry, testSigner } from '../../test/support/audit-testing.js';

const DAY = 86_400_000;
const signer = testSigner();
const hmacX = 'c3'.repeat(32);
let dir: string;
let store: SqliteAuditStore;
let records: AuditRecord[];
const now = Date.UTC(2025, 8, 1);

async function toText(format: 'jsonl' | 'csv', filter = {}): Promise<string> {
  let out = format === 'csv' ? csvHeader() : '';
  for await (const line of exportLines(store, filter, now)) out += format === 'csv' ? toCsvRow(line) : toJsonLine(line);
  return out;
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'motlan-export-'));
  store = new SqliteAuditStore({ file: path.join(dir, 'audit.db') });
  await store.init();
  const log = new AuditLog({ store, instanceId: 'gw-1', signer, checkpointEvery: 5, checkpointIntervalMs: 0 });
  await log.start();
  records = [];
  for (let i = 0; i < 23; i++) {
    records.push(
      await log.append(
        sampleEntry({
          // 30 days ago up to today, one day apart.
          ts: now - (30 - i) * DAY,
          clientId: i % 3 === 0 ? 'hn-dvc' : 'hcm-dvc',
          operationName: i === 4 ? 'Tên "lạ", với dấu phẩy' : 'Prefill',
          dossierId: i === 4 ? 'HS-001,2' : null,
          ...(i % 4 === 1 ? { subgraphRequests: [`req-${i}:population:0a${i}`, `req-${i}:land:1b${i}`] } : {}),
          subjects: i % 7 === 0 ? [{ kind: 'personal', role: 'subject', hmac: hmacX }] : [],
          entities: { population: 1, land: i % 2 },
          prefill: i === 2 ? { fieldsTotal: 23, fieldsPrefilled: 17, fieldsForCitizen: 6, componentsTotal: 3, componentsCut: 2, hoursSaved: 2.5 } : null,
        }),
      ),
    );
  }
  // A second replica's chain in the same store.
  const log2 = new AuditLog({ store, instanceId: 'gw-2', signer, checkpointEvery: 5, checkpointIntervalMs: 0 });
  await log2.start();
  for (let i = 0; i < 3; i++) await log2.append(sampleEntry({ ts: now - i * DAY }));
  await log.close();
  await log2.close();
});

afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('export → verify round trip', () => {
  for (const format of ['jsonl', 'csv'] as const) {
    it(`a whole ${format} export verifies with the pinned key and holds every record`, async () => {
      const text = await toText(format);
      const report = await verifyExportLines(text.split('\n'), { publicKeyPems: [signer.publicKeyPem] });
      expect(report.ok).toBe(true);
      expect(report.chains.map((c) => [c.instanceId, c.records, c.lastSeq])).toEqual([
        ['gw-1', 23, 23],
        ['gw-2', 3, 3],
      ]);
      expect(report.warnings.some((w) => w.includes('--public-key'))).toBe(false);
    });

    it(`a filtered ${format} export discloses only the matching records and still verifies end to end`, async () => {
      const text = await toText(format, { subjectHmac: hmacX });
      const report = await verifyExportLines(text.split('\n'), { publicKeyPems: [signer.publicKeyPem] });
      expect(report.ok).toBe(true);
      const matching = records.filter((r) => r.subjects.some((s) => s.hmac === hmacX));
      const lines = text.split('\n');
      const full = lines.filter((l) => l.startsWith(format === 'csv' ? 'record,' : '{"type":"record"'));
      expect(full).toHaveLength(matching.length);
      for (const r of matching) expect(full.some((l) => l.includes(r.requestId))).toBe(true);
      const others = records.filter((r) => !matching.includes(r));
      for (const r of others) expect(text.includes(r.requestId)).toBe(false);
      // Runs from genesis (first match is seq 1) to the checkpoint after the last match (seq 22 → 25 absent → head 23).
      expect(report.chains[0]).toMatchObject({ instanceId: 'gw-1', firstSeq: 1 });
    });
  }

  it('without a pinned key, warns that the stored keys were trusted', async () => {
    const report = await verifyExportLines((await toText('jsonl')).split('\n'));
    expect(report.ok).toBe(true);
    expect(report.warnings.join('\n')).toContain('--public-key');
    // The same warnings, structured for readers that translate them (the console), in the same order.
    expect(report.notices).toHaveLength(report.warnings.length);
    const i = report.notices.findIndex((n) => n.code === 'KEYS_NOT_PINNED');
    expect(report.warnings[i]).toContain('--public-key');
  });

  it('with a different pinned key, reports the checkpoints as signed by an unknown key', async () => {
    const report = await verifyExportLines((await toText('jsonl')).split('\n'), { publicKeyPems: [testSigner().publicKeyPem] });
    expect(report.ok).toBe(false);
    expect(report.chains[0]!.problem).toMatchObject({ kind: 'unknown-key', seq: 5 });
  });
});

describe('tampering with an exported file is detected at the first bad record', () => {
  async function linesOf(format: 'jsonl' | 'csv'): Promise<string[]> {
    return (await toText(format)).split('\n');
  }
  const isRecord = (l: string, seq: number, format: 'jsonl' | 'csv') =>
    format === 'jsonl' ? l.startsWith('{"type":"record"') && JSON.parse(l).seq === seq && JSON.parse(l).instanceId === 'gw-1' : l.startsWith(`record,gw-1,${seq},`);
  const verify = async (lines: string[]) => (await verifyExportLines(lines, { publicKeyPems: [signer.publicKeyPem] })).chains.find((c) => !c.ok)?.problem;

  for (const format of ['jsonl', 'csv'] as const) {
    it(`${format}: modification`, async () => {
      const lines = await linesOf(format);
      const i = lines.findIndex((l) => isRecord(l, 9, format));
      lines[i] = lines[i]!.replace('hcm-dvc', 'hn-dvc');
      expect(await verify(lines)).toMatchObject({ kind: 'modified', seq: 9, line: i + 1 });
    });
    it(`${format}: deletion`, async () => {
      const lines = await linesOf(format);
      lines.splice(lines.findIndex((l) => isRecord(l, 12, format)), 1);
      expect(await verify(lines)).toMatchObject({ kind: 'deleted', seq: 12 });
    });
    it(`${format}: insertion of a copied record`, async () => {
      const lines = await linesOf(format);
      const i = lines.findIndex((l) => isRecord(l, 7, format));
      lines.splice(i + 3, 0, lines[i]!);
      expect(await verify(lines)).toMatchObject({ kind: 'inserted', seq: 7 });
    });
    it(`${format}: reordering`, async () => {
      const lines = await linesOf(format);
      const i = lines.findIndex((l) => isRecord(l, 13, format));
      const j = lines.findIndex((l) => isRecord(l, 14, format));
      [lines[i], lines[j]] = [lines[j]!, lines[i]!];
      expect(await verify(lines)).toMatchObject({ kind: 'reordered', seq: 13 });
    });
  }

  it('an unreadable line is reported with its number', async () => {
    const lines = await linesOf('jsonl');
    lines[3] = '{"type":"record", broken';
    expect(await verify(lines)).toMatchObject({ kind: 'malformed', line: 4 });
  });
});

describe('archive → verify', () => {
  it('moves records older than N days to a file that verifies, prunes them, and the rest still verifies from the archive’s last hash', async () => {
    const out = path.join(dir, 'archive-1.jsonl');
    const before = (await verifyStore(store, { publicKeyPems: [signer.publicKeyPem] })).ok;
    expect(before).toBe(true);
    const result = await archiveOlderThan(store, { olderThanDays: 12, out, now, publicKeyPems: [signer.publicKeyPem] });
    // Records 1..18 are older than 12 days; the newest checkpoint among them is seq 15.
    expect(result.chains).toEqual([{ instanceId: 'gw-1', cutAtSeq: 15, archivedHash: records[14]!.hash, records: 15 }]);
    expect(result.storeReport?.ok).toBe(true);

    const archived = await verifyExportFile(out, { publicKeyPems: [signer.publicKeyPem] });
    expect(archived.ok).toBe(true);
    expect(archived.chains[0]).toMatchObject({ instanceId: 'gw-1', firstSeq: 1, lastSeq: 15, headHash: records[14]!.hash });

    const remaining = await verifyStore(store, { publicKeyPems: [signer.publicKeyPem] });
    expect(remaining.ok).toBe(true);
    expect(remaining.chains.find((c) => c.instanceId === 'gw-1')).toMatchObject({ anchoredAt: 15, firstSeq: 16, lastSeq: 23 });
    expect(await store.get('gw-1', 15)).toBeNull();
    expect((await store.get('gw-1', 16))?.prevHash).toBe(records[14]!.hash);

    // A second archive continues from the first one's anchor and verifies on its own too.
    const out2 = path.join(dir, 'archive-2.jsonl');
    const second = await archiveOlderThan(store, { olderThanDays: 0, out: out2, now: now + DAY, publicKeyPems: [signer.publicKeyPem] });
    expect(second.chains.find((c) => c.instanceId === 'gw-1')).toMatchObject({ cutAtSeq: 23, records: 8 });
    const archived2 = await verifyExportFile(out2, { publicKeyPems: [signer.publicKeyPem] });
    expect(archived2.ok).toBe(true);
    expect(archived2.chains.find((c) => c.instanceId === 'gw-1')).toMatchObject({ anchoredAt: 15, firstSeq: 16, lastSeq: 23 });
  });

  it('refuses to archive (and deletes nothing) when the records to archive do not verify', async () => {
    const d = mkdtempSync(path.join(tmpdir(), 'motlan-archive-'));
    const s = new SqliteAuditStore({ file: path.join(d, 'a.db') });
    await s.init();
    const log = new AuditLog({ store: s, instanceId: 'x', signer, checkpointEvery: 3, checkpointIntervalMs: 0 });
    await log.start();
    for (let i = 0; i < 6; i++) await log.append(sampleEntry({ ts: now - 100 * DAY }));
    await log.close();
    s.exec(`UPDATE audit_records SET agency = 'x' WHERE seq = 2`);
    await expect(archiveOlderThan(s, { olderThanDays: 1, out: path.join(d, 'a.jsonl'), now })).rejects.toThrow(/nothing deleted/);
    expect((await s.head('x'))?.seq).toBe(6);
    expect(await s.get('x', 1)).not.toBeNull();
    await s.close();
    rmSync(d, { recursive: true, force: true });
  });
});

describe('file input', () => {
  it('verifies a file on disk', async () => {
    const f = path.join(dir, 'export.csv');
    writeFileSync(f, await toText('csv'));
    expect(readFileSync(f, 'utf8').startsWith('type,instanceId,seq')).toBe(true);
    expect((await verifyExportFile(f, { publicKeyPems: [signer.publicKeyPem] })).ok).toBe(true);
  });
});

describe('exports against a witness', () => {
  it('a whole export is held to the witness end to end; a filtered one only over the stretch it covers', async () => {
    // What the gateway's witness holds: the final checkpoint of each chain.
    const witness = [(await store.lastCheckpoint('gw-1'))!, (await store.lastCheckpoint('gw-2'))!];
    expect(witness.map((c) => c.seq)).toEqual([23, 3]);
    const whole = (await toText('jsonl')).split('\n');
    expect((await verifyExportLines(whole, { publicKeyPems: [signer.publicKeyPem], witness })).ok).toBe(true);
    // The export stops before the witnessed end of gw-1 (its last records and checkpoint cut).
    const cut = whole.filter((l) => !/"instanceId":"gw-1","seq":(2[1-3])\b/.test(l) && !/"type":"checkpoint".*"seq":(2[0-3])/.test(l));
    const cutReport = await verifyExportLines(cut, { publicKeyPems: [signer.publicKeyPem], witness });
    expect(cutReport.chains.find((c) => c.instanceId === 'gw-1')?.problem).toMatchObject({ kind: 'deleted' });
    // A whole export without gw-2: the witness knows that chain.
    const noGw2 = whole.filter((l) => !l.includes('"instanceId":"gw-2"'));
    expect((await verifyExportLines(noGw2, { publicKeyPems: [signer.publicKeyPem], witness })).chains.some((c) => c.problem?.message.includes('whole chain "gw-2"'))).toBe(true);
    // One citizen's records: a stretch of gw-1 only, which the witness does not contradict.
    const one = (await toText('jsonl', { subjectHmac: hmacX })).split('\n');
    expect((await verifyExportLines(one, { publicKeyPems: [signer.publicKeyPem], witness })).ok).toBe(true);
  });
});
