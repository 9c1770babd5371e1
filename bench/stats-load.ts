/**
 * Synthetic audit traffic and a bulk loader for the statistics scale bench (bench/stats-scale.ts).
 *
 * The distribution is meant to look like national data-sharing traffic, so the rollups are
 * bounded by combinations of dimensions, not by records: 282 clients (34 provinces × 6
 * departments, 18 ministries × 4 units, 6 legacy clients without a tier), 30 procedures (each
 * client uses a Zipf-weighted handful) plus 4 % requests without a purpose and 1 % with an
 * invented one (50 values), each procedure's registries fixed (1–3 of the 5), outcomes mostly OK,
 * clients and procedures Zipf-weighted, and dossiers of several requests (mean ≈ 2.5; 20 % of
 * requests name none).
 *
 * The loader writes the records straight into the store's tables in big transactions (SQLite:
 * one prepared INSERT per record; PostgreSQL: INSERT … SELECT FROM unnest), bypassing `appendBatch` and
 * the roll; the bench then runs the store's own `rebuildStats` to fill the rollups.
 */
import Database from 'better-sqlite3';
import pg from 'pg';
import { chainRecord, genesisHash, type AuditEntry, type AuditRecord, type Outcome } from '../gateway/audit/record.js';
import { RECORD_COLUMNS, recordToRow } from '../gateway/audit/store.js';
import { PROVINCIAL_UNITS } from '../lib/provinces.js';
import { REGISTRIES } from '../lib/registries.js';
import { DAY_MS } from '../gateway/core/stats-rollup.js';

export const PROCEDURES = [
  'birth-residence-child-health-insurance', 'death-residence-removal-funeral-allowance', 'enterprise-legal-representative-change',
  'exam-registration', 'judicial-record-certificate', 'land-use-right-transfer', 'lodging-notification', 'passport-issuance',
  'permanent-residence-registration', 'social-insurance-lump-sum',
  ...Array.from({ length: 20 }, (_, i) => `procedure-${String(i + 11).padStart(2, '0')}`),
];
const OUTCOMES: Array<[Outcome, number]> = [['OK', 0.86], ['PARTIAL', 0.04], ['DENIED', 0.04], ['INVALID', 0.03], ['ERROR', 0.02], ['UNAUTHENTICATED', 0.01]];

/** A small deterministic PRNG (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Picks index i with weight 1/(i+1)^s. */
function zipf(n: number, s: number, r: () => number): () => number {
  const cum: number[] = [];
  let acc = 0;
  for (let i = 0; i < n; i++) cum.push((acc += 1 / (i + 1) ** s));
  return () => {
    const x = r() * acc;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cum[mid]! >= x) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  };
}

interface Client {
  id: string;
  agency: string;
  tier?: string;
  province?: string;
  procedures: string[];
  /** Open dossiers (id, procedure), the most recent last. */
  open: Array<[string, string | null]>;
  next: number;
}

function clients(r: () => number): Client[] {
  const proc = zipf(PROCEDURES.length, 1, r);
  const pick = (k: number) => {
    const s = new Set<string>();
    for (let i = 0; i < k * 3 && s.size < k; i++) s.add(PROCEDURES[proc()]!);
    return [...s];
  };
  const out: Client[] = [];
  const base = { open: [], next: 0 };
  for (const p of PROVINCIAL_UNITS) {
    for (let d = 0; d < 6; d++) out.push({ ...base, open: [], id: `tthc-${p.code}-${d}`, agency: `Sở ${d} ${p.name}`, tier: 'province', province: p.code, procedures: pick(4 + Math.floor(r() * 8)) });
  }
  for (let i = 0; i < 18; i++) for (let u = 0; u < 4; u++) out.push({ ...base, open: [], id: `bo-${i}-${u}`, agency: `Bộ ${i} / ${u}`, tier: 'ministry', procedures: pick(2 + Math.floor(r() * 5)) });
  for (let i = 0; i < 6; i++) out.push({ ...base, open: [], id: `legacy-${i}`, agency: `Đơn vị ${i}`, procedures: pick(3) });
  // Shuffle so the Zipf weights do not follow the province order.
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** The registries each procedure contacts: population always, plus 0–2 others, fixed per procedure. */
function registrySets(r: () => number): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const p of PROCEDURES) {
    const s = new Set<string>(['population']);
    const extra = Math.floor(r() * 3);
    for (let i = 0; i < extra; i++) s.add(REGISTRIES[1 + Math.floor(r() * (REGISTRIES.length - 1))]!);
    m.set(p, [...s].sort());
  }
  return m;
}

/** N synthetic audit entries, arrival times sorted over [fromTs, toTs). */
export function* syntheticEntries(n: number, fromTs: number, toTs: number, seed: number): Generator<AuditEntry> {
  const r = prng(seed);
  const cs = clients(r);
  const sets = registrySets(r);
  const client = zipf(cs.length, 0.8, r);
  const span = toTs - fromTs;
  for (let i = 0; i < n; i++) {
    const c = cs[client()]!;
    const x = r();
    let outcome: Outcome = 'OK';
    let acc = 0;
    for (const [o, p] of OUTCOMES) if (x < (acc += p)) { outcome = o; break; }
    // Dossier: 20 % none; else continue an open one (p = 0.6) or open a new one.
    let dossierId: string | null = null;
    let procedureId: string | null;
    const d = r();
    if (d < 0.2) {
      const y = r();
      procedureId = y < 0.2 ? null : y < 0.25 ? `bogus-${Math.floor(r() * 50)}` : c.procedures[Math.floor(r() * c.procedures.length)]!;
    } else if (d < 0.68 && c.open.length) {
      const k = Math.floor(r() * c.open.length);
      [dossierId, procedureId] = c.open[k]!;
      if (r() < 0.4) c.open.splice(k, 1); // closed after this request
    } else {
      const y = r();
      procedureId = y < 0.03 ? null : y < 0.04 ? `bogus-${Math.floor(r() * 50)}` : c.procedures[Math.floor(r() * c.procedures.length)]!;
      dossierId = `HS-${c.id}-${c.next++}`;
      c.open.push([dossierId, procedureId]);
      if (c.open.length > 8) c.open.shift();
    }
    const served = outcome === 'OK' || outcome === 'PARTIAL';
    const registries = served ? (sets.get(procedureId ?? '') ?? ['population']) : [];
    const entities: Record<string, number> = {};
    for (const g of registries) entities[g] = 1 + Math.floor(r() * 3);
    const prefill =
      served && procedureId && !procedureId.startsWith('bogus') && r() < 0.5
        ? { fieldsTotal: 23, fieldsPrefilled: 17, fieldsForCitizen: 6, componentsTotal: 4, componentsCut: Math.floor(r() * 3), hoursSaved: Math.round(r() * 300) / 100 }
        : null;
    yield {
      ts: fromTs + Math.floor((i / n) * span),
      requestId: `bench-${seed}-${i}`,
      clientId: c.id,
      agency: c.agency,
      operationName: 'Prefill',
      operationType: 'query',
      documentHash: 'ab'.repeat(32),
      procedureId,
      dossierId,
      subjects: [],
      registries,
      fields: served ? ['Citizen.fullName', 'Citizen.dateOfBirth', 'Citizen.permanentResidence', ...registries.map((g) => `Q.${g}`)] : [],
      entities,
      outcome,
      errorCodes: [],
      httpStatus: 200,
      durationMs: Math.round(Math.exp(2.5 + r() * 2.5) * 1000) / 1000,
      responseBytes: 1000,
      prefill,
      ...(c.tier ? { clientTier: c.tier } : {}),
      ...(c.province ? { clientProvince: c.province } : {}),
    };
  }
}

/** Correctly chained records (one chain, instance `bench`), in batches of `batch`. */
function* chainedBatches(n: number, fromTs: number, toTs: number, batch: number): Generator<AuditRecord[]> {
  let prev = genesisHash('bench');
  let seq = 0;
  let out: AuditRecord[] = [];
  for (const e of syntheticEntries(n, fromTs, toTs, 20250701)) {
    const rec = chainRecord('bench', ++seq, prev, e);
    prev = rec.hash;
    out.push(rec);
    if (out.length >= batch) {
      yield out;
      out = [];
    }
  }
  if (out.length) yield out;
}

const progress = (done: number, t0: number) => process.stdout.write(`  loaded ${done} records, ${((performance.now() - t0) / 1000).toFixed(0)} s\n`);

/** SQLite: prepared INSERTs, 50 000 records per transaction, no fsync until the end. */
export function bulkLoadSqlite(file: string, n: number, fromTs: number, toTs: number): void {
  const db = new Database(file);
  db.pragma('synchronous = OFF');
  const ins = db.prepare(`INSERT INTO audit_records (${RECORD_COLUMNS.join(', ')}) VALUES (${RECORD_COLUMNS.map(() => '?').join(', ')})`);
  const tx = db.transaction((rs: AuditRecord[]) => {
    for (const r of rs) {
      const row = recordToRow(r);
      ins.run(...RECORD_COLUMNS.map((c) => row[c]));
    }
  });
  const t0 = performance.now();
  let done = 0;
  for (const rs of chainedBatches(n, fromTs, toTs, 50_000)) {
    tx.immediate(rs);
    done += rs.length;
    if (done % 200_000 === 0) progress(done, t0);
  }
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
}

/**
 * PostgreSQL: one set-based INSERT … SELECT FROM unnest(one array per column) per 10 000 records
 * (no per-statement parameter limit, one parse), 50 000 records per transaction.
 */
export async function bulkLoadPostgres(url: string, schema: string, n: number, fromTs: number, toTs: number): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query('SET synchronous_commit = off');
    const types = new Map<string, string>(
      (await c.query(`SELECT column_name, udt_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'audit_records'`, [schema])).rows.map(
        (r: { column_name: string; udt_name: string }) => [r.column_name, r.udt_name],
      ),
    );
    const insert = `INSERT INTO ${schema}.audit_records (${RECORD_COLUMNS.join(', ')})
      SELECT * FROM unnest(${RECORD_COLUMNS.map((col, i) => `$${i + 1}::${types.get(col) ?? 'text'}[]`).join(', ')})`;
    const t0 = performance.now();
    let done = 0;
    for (const rs of chainedBatches(n, fromTs, toTs, 50_000)) {
      await c.query('BEGIN');
      for (let i = 0; i < rs.length; i += 10_000) {
        const rows = rs.slice(i, i + 10_000).map(recordToRow);
        await c.query(insert, RECORD_COLUMNS.map((col) => rows.map((row) => row[col] ?? null)));
      }
      await c.query('COMMIT');
      done += rs.length;
      if (done % 200_000 === 0) progress(done, t0);
    }
    await c.query(`ANALYZE ${schema}.audit_records`);
  } finally {
    await c.end();
  }
}

/**
 * PostgreSQL, for tens of millions of records: the first of `days` days is generated and chained
 * as `bulkLoadPostgres` does (n / days records), then copied inside the database onto each later
 * day (timestamps + k days, sequence numbers, request and dossier ids made unique per copy). The
 * copies are not re-chained (their hashes are the first day's; the statistics never read hashes),
 * so `motlan audit verify` fails on such a store: it is a statistics bench, nothing else.
 */
export async function replicateLoadPostgres(url: string, schema: string, n: number, fromTs: number, days: number): Promise<void> {
  const perDay = Math.ceil(n / days);
  await bulkLoadPostgres(url, schema, perDay, fromTs, fromTs + DAY_MS);
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query('SET synchronous_commit = off');
    const t0 = performance.now();
    const copy = (k: number) => {
      const v: Record<string, string> = {
        seq: `seq + ${k * perDay}`,
        ts: `ts + ${k * DAY_MS}`,
        request_id: `request_id || '~${k}'`,
        dossier_id: `CASE WHEN dossier_id IS NULL THEN NULL ELSE dossier_id || '~${k}' END`,
      };
      return `INSERT INTO ${schema}.audit_records (${RECORD_COLUMNS.join(', ')})
        SELECT ${RECORD_COLUMNS.map((col) => v[col] ?? col).join(', ')} FROM ${schema}.audit_records WHERE seq <= ${perDay}`;
    };
    for (let k = 1; k < days; k++) {
      await c.query(copy(k));
      progress((k + 1) * perDay, t0);
    }
    await c.query(`ANALYZE ${schema}.audit_records`);
  } finally {
    await c.end();
  }
}
