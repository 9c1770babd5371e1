/**
 * The embedded audit store: one SQLite file (WAL, `synchronous=FULL`, so a commit
 * is on disk when it returns). better-sqlite3 is synchronous, so commits run in a
 * writer thread (sqlite-writer.worker.mjs) with its own connection: the fsync of
 * a group commit no longer holds the gateway's event loop.
 *
 * Locking (`locking`):
 * - `exclusive` (what the gateway opens): ONE connection, in the writer thread, with
 *   `locking_mode=EXCLUSIVE` set before WAL is entered, so SQLite keeps the WAL index in
 *   its heap and never memory-maps a `-shm` file: a fault on that file (truncated,
 *   unwritable, unmappable) cannot kill the gateway with SIGBUS. Reads (auditor API,
 *   statistics) go through that thread too, between commits; no other process can open
 *   the database while the gateway runs (use the auditor API or an export, see docs/AUDIT.md).
 * - `shared` (the default of this class: CLI, tools, tests): reads use this thread's
 *   connection beside the writer's; WAL lets them run concurrently.
 */
import { mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import type { AuditRecord, Checkpoint } from './record.js';
import {
  ADDED_RECORD_COLUMNS,
  AuditStoreLostError,
  ChainConflictError,
  RECORD_COLUMNS,
  recordToRow,
  rowToCheckpoint,
  rowToRecord,
  sameHead,
  subjectHmacs,
  type AuditFilter,
  type AuditStore,
  type ChainHead,
  type PublicKeyEntry,
  type SearchCursor,
  type SearchPage,
} from './store.js';
import { buildWhere, NEWEST_FIRST } from './sql-filter.js';
import {
  addRecord,
  addRecords,
  dossierTriggerSql,
  drollFromDossiersSql,
  dropDossierTriggersSql,
  emptyBatch,
  deriveMissingCubes,
  LEGACY_STATS_TABLES,
  rolledSchemaSql,
  ROLLED_TABLE,
  rollupSchemaSql,
  rollupStatements,
  sqliteUpsertSql,
  SUB_GRAIN,
  STATS_TABLES,
  type RollupBatch,
} from '../core/stats-rollup.js';
import { readTails, RollupTail } from './rollup-tail.js';

export interface SqliteStoreOptions {
  /** Database file; its directory is created. */
  file: string;
  /** Open read-only (the verifier, the archive dry run). Default: false. */
  readonly?: boolean;
  /** Records read per query when walking a chain. Default: 2000. */
  pageSize?: number;
  /**
   * Where commits run: `worker` (a writer thread, so the fsync of a group commit does not
   * block the gateway's event loop) or `inline` (this thread; the CLI). Default: `worker`.
   */
  writer?: 'worker' | 'inline';
  /**
   * `exclusive`: one connection in the writer thread holds the database (no `-shm` mapping, no
   * other process); `shared`: a reader connection on this thread too. Exclusive needs the
   * worker writer. Default: `shared` (the gateway's openStore asks for `exclusive`).
   */
  locking?: 'exclusive' | 'shared';
  /** How long after an append its records are rolled into the statistics (gateway/audit/rollup-tail.ts). Default 1000 ms. */
  rollupDelayMs?: number;
}

/** A guard statement changed another number of rows than expected: the transaction rolled back. */
class ExpectationError extends Error {
  /** `message`, or the same text as the writer thread's expectationMessage. */
  constructor(message: string, expected?: number, actual?: number) {
    super(expected === undefined ? message : `The audit store changed under this write (${actual} rows changed where ${expected} were expected by: ${message.slice(0, 80)}); nothing was written, try again.`);
  }
}

/** A write: statements run in ONE immediate transaction, after an optional chain-head check. */
interface WriteJob {
  /** `expect`: the changes the statement must make over its rows, else the transaction rolls back (a conflict). */
  statements: Array<{ sql: string; rows: unknown[][]; expect?: number }>;
  check?: { headSql: string; anchorSql: string; instanceId: string; expected: ChainHead | null };
}
type WriteResult =
  | { ok: true; changes: number[] }
  | { ok: false; conflict: boolean; lost?: boolean; actual?: ChainHead | null; message: string };
/** What the writer thread answers: a write's result, or a read's rows (or its error). */
type WorkerReply = { id: number; rows?: unknown } & (WriteResult | { ok: false; read: true; message: string });

/** dev:ino of a file, or null when it does not exist. */
function identityOf(file: string): string | null {
  try {
    const st = statSync(file);
    return `${st.dev}:${st.ino}`;
  } catch {
    return null;
  }
}

const HEAD_SQL = 'SELECT seq, hash FROM audit_records WHERE instance_id = ? ORDER BY seq DESC LIMIT 1';
const ANCHOR_HEAD_SQL = 'SELECT seq, hash FROM audit_anchors WHERE instance_id = ?';
const INSERT_RECORD_SQL = `INSERT INTO audit_records (${RECORD_COLUMNS.join(', ')}) VALUES (${RECORD_COLUMNS.map(() => '?').join(', ')})`;
const INSERT_SUBJECT_SQL = 'INSERT OR IGNORE INTO audit_subjects (hmac, instance_id, seq) VALUES (?, ?, ?)';
const INSERT_CHECKPOINT_SQL = 'INSERT INTO audit_checkpoints (instance_id, seq, hash, ts, key_id, signature) VALUES (?, ?, ?, ?, ?, ?)';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS audit_records (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  instance_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  ts INTEGER NOT NULL,
  request_id TEXT NOT NULL,
  client_id TEXT NOT NULL,
  agency TEXT NOT NULL,
  operation_name TEXT,
  operation_type TEXT,
  document_hash TEXT,
  procedure_id TEXT,
  dossier_id TEXT,
  subjects TEXT NOT NULL,
  registries TEXT NOT NULL,
  fields TEXT NOT NULL,
  entities TEXT NOT NULL,
  outcome TEXT NOT NULL,
  error_codes TEXT NOT NULL,
  http_status INTEGER NOT NULL,
  duration_ms REAL NOT NULL,
  response_bytes INTEGER,
  prefill TEXT,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL,
  client_request_id TEXT,
  reason_code TEXT,
  covers INTEGER,
  subgraph_requests TEXT,
  trace_id TEXT,
  UNIQUE (instance_id, seq)
);
CREATE INDEX IF NOT EXISTS audit_records_ts ON audit_records (ts, instance_id, seq);
CREATE INDEX IF NOT EXISTS audit_records_client ON audit_records (client_id, ts);
CREATE INDEX IF NOT EXISTS audit_records_procedure ON audit_records (procedure_id, ts);
CREATE INDEX IF NOT EXISTS audit_records_request ON audit_records (request_id);
CREATE TABLE IF NOT EXISTS audit_subjects (
  hmac TEXT NOT NULL,
  instance_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  PRIMARY KEY (hmac, instance_id, seq)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS audit_subjects_chain ON audit_subjects (instance_id, seq);
CREATE TABLE IF NOT EXISTS audit_checkpoints (
  instance_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  hash TEXT NOT NULL,
  ts INTEGER NOT NULL,
  key_id TEXT NOT NULL,
  signature TEXT NOT NULL,
  PRIMARY KEY (instance_id, seq)
);
CREATE TABLE IF NOT EXISTS audit_anchors (
  instance_id TEXT PRIMARY KEY,
  seq INTEGER NOT NULL,
  hash TEXT NOT NULL,
  ts INTEGER NOT NULL,
  key_id TEXT NOT NULL,
  signature TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS audit_keys (
  key_id TEXT PRIMARY KEY,
  public_key_pem TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS audit_probes (
  instance_id TEXT PRIMARY KEY,
  ts INTEGER NOT NULL
);
`;
/** Indexes on columns an older table gets only after ADDED_RECORD_COLUMNS ran. */
const LATE_INDEXES = 'CREATE INDEX IF NOT EXISTS audit_records_client_request ON audit_records (client_request_id);';
/**
 * The chain ids. The records' ids are found by a skip scan of the (instance_id, seq) index, one
 * search per chain: a plain UNION reads every record, and this runs at every checkpoint (other
 * chains are witnessed) on the writer thread (measured: 42 ms per million records, 0.1 ms so).
 */
const INSTANCES_SQL = `
WITH RECURSIVE chains(id) AS (
  SELECT (SELECT MIN(instance_id) FROM audit_records)
  UNION ALL SELECT (SELECT MIN(instance_id) FROM audit_records WHERE instance_id > chains.id) FROM chains WHERE chains.id IS NOT NULL
)
SELECT id AS instance_id FROM chains WHERE id IS NOT NULL
UNION SELECT instance_id FROM audit_anchors UNION SELECT instance_id FROM audit_checkpoints ORDER BY 1`;
/** A chain's statistics mark, set once, before its first record (gateway/audit/rollup-tail.ts). */
const MARK_CHAIN_SQL = `INSERT INTO ${ROLLED_TABLE} (instance_id, seq) VALUES (?, ?) ON CONFLICT (instance_id) DO NOTHING`;
/** Every chain with records: its mark at its head (all its records are in the rollups); other marks stay. */
const MARK_HEADS_SQL = `INSERT INTO ${ROLLED_TABLE} (instance_id, seq) SELECT instance_id, MAX(seq) FROM audit_records GROUP BY instance_id
  ON CONFLICT (instance_id) DO UPDATE SET seq = excluded.seq`;
/** A page of records after (ts, instance_id, seq), in that order (the rebuild's and a derivation's read). */
const recordPageSql = (page: number) => `SELECT * FROM audit_records WHERE (ts, instance_id, seq) > (?, ?, ?) ORDER BY ts, instance_id, seq LIMIT ${Math.trunc(page)}`;
const RECORD_PAGE_SQL = recordPageSql(20_000);
const PROBE_SQL = 'INSERT INTO audit_probes (instance_id, ts) VALUES (?, ?) ON CONFLICT (instance_id) DO UPDATE SET ts = excluded.ts';

type Row = Record<string, unknown>;

export class SqliteAuditStore implements AuditStore {
  readonly kind = 'sqlite' as const;
  readonly location: string;
  /** This thread's connection; null when the writer thread holds the database exclusively. */
  private readonly db: Database.Database | null;
  private readonly pageSize: number;
  private readonly readonlyMode: boolean;
  private readonly writerMode: 'worker' | 'inline';
  readonly locking: 'exclusive' | 'shared';
  private readonly tail: RollupTail;

  constructor(opts: SqliteStoreOptions) {
    this.tail = new RollupTail({ rollOnce: () => this.rollOnce(), delayMs: opts.rollupDelayMs });
    this.location = path.resolve(opts.file);
    this.readonlyMode = opts.readonly ?? false;
    this.pageSize = opts.pageSize ?? 2000;
    this.writerMode = opts.writer ?? 'worker';
    this.locking = opts.locking === 'exclusive' && this.writerMode === 'worker' && !this.readonlyMode ? 'exclusive' : 'shared';
    if (!this.readonlyMode) mkdirSync(path.dirname(this.location), { recursive: true });
    if (this.locking === 'exclusive') {
      this.db = null;
      return;
    }
    try {
      this.db = new Database(this.location, { readonly: this.readonlyMode, fileMustExist: this.readonlyMode });
    } catch (err) {
      throw new Error(`Cannot open the audit database ${this.location}: ${(err as Error).message}`);
    }
    if (!this.readonlyMode) {
      // WAL: readers (auditor API, verifier) never block the writer. FULL: fsync the WAL on every commit.
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = FULL');
    }
    this.db.pragma('busy_timeout = 5000');
  }

  async init(): Promise<void> {
    if (this.readonlyMode) return;
    await this.execute(SCHEMA);
    const have = new Set((await this.all('PRAGMA table_info(audit_records)')).map((r) => String(r.name)));
    for (const c of ADDED_RECORD_COLUMNS) if (!have.has(c.name)) await this.execute(`ALTER TABLE audit_records ADD COLUMN ${c.name} ${c.sqlite}`);
    await this.execute(LATE_INDEXES);
    // Statistics rollups (gateway/core/stats-rollup.ts), kept in step in every append's transaction.
    // A store written with the first rollup layout: its tables are dropped and the new ones
    // rebuilt from the records (once; the figures would be wrong otherwise).
    const legacy = (await this.all(`SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'stats_latency'`)).length > 0;
    if (legacy) await this.execute([...dropDossierTriggersSql('sqlite', (n) => n), ...LEGACY_STATS_TABLES.map((t) => `DROP TABLE IF EXISTS ${t}`)].join(';\n'));
    await this.execute(rollupSchemaSql('sqlite', (n) => n).join(';\n'));
    // A store whose rollups were written in each append's transaction (before the marks): every
    // committed record is in them, so each chain's mark starts at its head.
    const marked = (await this.all(`SELECT name FROM sqlite_master WHERE type = 'table' AND name = '${ROLLED_TABLE}'`)).length > 0;
    await this.execute(rolledSchemaSql('sqlite', (n) => n));
    if (!marked && !legacy) await this.execute(MARK_HEADS_SQL);
    // Rollups written before a cube existed: it is derived from a wider cube (no roll runs yet:
    // the tail starts below). The statements and the 5-minute rows are gathered first, then
    // written in one transaction: a derivation cut short must not leave the cube half there (it
    // would not be derived again).
    const derive: string[] = [];
    const sub = emptyBatch();
    const derived =
      legacy ||
      (await deriveMissingCubes((n) => n, async (sql) => (await this.one(sql)) !== undefined, async (sql) => void derive.push(sql), async (cube) => {
        for (let after: unknown[] = [-Infinity, '', 0]; ; ) {
          const rows = await this.all(RECORD_PAGE_SQL, after);
          if (rows.length === 0) break;
          for (const row of rows) addRecord(sub, rowToRecord(row), { cube, grain: SUB_GRAIN });
          const last = rows[rows.length - 1]!;
          after = [Number(last.ts), String(last.instance_id), Number(last.seq)];
        }
      }));
    if (derived && derive.length) {
      await this.write({
        statements: [
          ...derive.map((sql) => ({ sql, rows: [[]] })),
          ...rollupStatements(sub, 'sqlite').map((st) => ({ sql: sqliteUpsertSql(st), rows: st.rows })),
        ],
      });
    }
    if (legacy || !derived) await this.rebuildStats({ dropArchived: true });
    // Records a previous run committed but did not roll.
    this.tail.appended();
    // The identity of the file this gateway opened: a removed or replaced file is a lost store.
    this.identity = identityOf(this.location);
  }

  /** This thread's connection (shared locking only). */
  private conn(): Database.Database {
    if (!this.db) throw new Error('internal: no reader connection on this thread (exclusive locking)');
    return this.db;
  }

  /** Runs a read: on this thread's connection, or in the writer thread when it holds the database. */
  async all(sql: string, params: unknown[] = []): Promise<Row[]> {
    if (this.db) return this.locked(() => this.db!.prepare(sql).all(...params) as Row[]);
    return (await this.call({ type: 'read', kind: 'all', sql, params })).rows as Row[];
  }

  /** Says who holds the file when a read finds it locked (a gateway with exclusive locking). */
  private locked<T>(read: () => T): T {
    try {
      return read();
    } catch (err) {
      if ((err as { code?: string }).code !== 'SQLITE_BUSY') throw err;
      throw new Error(
        `The audit database ${this.location} is locked: a running gateway holds it (AUDIT_SQLITE_LOCKING=exclusive, the default). ` +
          'Verify or export through the gateway (GET /audit/v1/verify, /audit/v1/export), or stop the gateway first.',
      );
    }
  }

  private async one(sql: string, params: unknown[] = []): Promise<Row | undefined> {
    if (this.db) return this.locked(() => this.db!.prepare(sql).get(...params) as Row | undefined);
    return (await this.call({ type: 'read', kind: 'get', sql, params })).rows as Row | undefined;
  }

  /** Runs SQL statements without results (schema). */
  private async execute(sql: string): Promise<void> {
    if (this.db) this.db.exec(sql);
    else await this.call({ type: 'exec', sql });
  }

  /** dev:ino of the database file at init (the worker keeps its own, with the -wal's). */
  private identity: string | null = null;
  /** Why the store is lost (sticky): set when the file was removed or replaced while serving. */
  private lostReason: string | null = null;

  /** Inline writes: the database file must still be the one opened (the worker checks its -wal too). */
  private checkIdentity(): string | null {
    if (this.identity === null) return null;
    const now = identityOf(this.location);
    if (now === this.identity) return null;
    return now === null
      ? `the audit database file ${this.location} was removed while the gateway was using it`
      : `the audit database file ${this.location} was replaced by another file while the gateway was using it`;
  }

  async head(instanceId: string): Promise<ChainHead | null> {
    const row = await this.one(HEAD_SQL, [instanceId]);
    if (row) return { seq: Number(row.seq), hash: String(row.hash) };
    // An archived-then-empty chain continues from its anchor.
    const anchor = await this.one(ANCHOR_HEAD_SQL, [instanceId]);
    return anchor ? { seq: Number(anchor.seq), hash: String(anchor.hash) } : null;
  }

  /** The head read on this thread's connection inside a transaction (inline writes). */
  private headSync(instanceId: string): ChainHead | null {
    const db = this.conn();
    const row = db.prepare(HEAD_SQL).get(instanceId) as Row | undefined;
    if (row) return { seq: Number(row.seq), hash: String(row.hash) };
    const anchor = db.prepare(ANCHOR_HEAD_SQL).get(instanceId) as Row | undefined;
    return anchor ? { seq: Number(anchor.seq), hash: String(anchor.hash) } : null;
  }

  async lastCheckpoint(instanceId: string): Promise<Checkpoint | null> {
    const row = await this.one('SELECT * FROM audit_checkpoints WHERE instance_id = ? ORDER BY seq DESC LIMIT 1', [instanceId]);
    if (row) return rowToCheckpoint(row);
    return this.anchor(instanceId);
  }

  private worker: Worker | null = null;
  private nextJob = 1;
  private readonly jobs = new Map<number, { resolve: (r: WorkerReply) => void; reject: (e: Error) => void }>();

  /** The writer thread, started on first use (and again if it died). */
  private writerThread(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(new URL('./sqlite-writer.worker.mjs', import.meta.url), {
      workerData: { file: this.location, identity: this.identity, exclusive: this.locking === 'exclusive' },
    });
    w.unref();
    w.on('message', (m: WorkerReply) => {
      const job = this.jobs.get(m.id);
      this.jobs.delete(m.id);
      job?.resolve(m);
    });
    const fail = (err: Error) => {
      if (this.worker === w) this.worker = null;
      for (const [id, job] of this.jobs) {
        this.jobs.delete(id);
        job.reject(new Error(`The audit writer thread stopped: ${err.message}`));
      }
    };
    w.on('error', fail);
    w.on('exit', (code) => fail(new Error(`exit code ${code}`)));
    this.worker = w;
    return w;
  }

  /** Sends a message to the writer thread; resolves with its reply. */
  private call(msg: Record<string, unknown>): Promise<WorkerReply> {
    return new Promise<WorkerReply>((resolve, reject) => {
      const id = this.nextJob++;
      this.jobs.set(id, { resolve, reject });
      this.writerThread().postMessage({ id, ...msg });
    }).then((r) => {
      if (!r.ok && 'read' in r) throw new Error(r.message);
      return r;
    });
  }

  /** Runs a write job on this thread (CLI, read-mostly tools). Same semantics as the worker. */
  private runInline(job: WriteJob): WriteResult {
    const before = this.checkIdentity();
    if (before) return { ok: false, conflict: false, lost: true, message: before };
    try {
      const changes: number[] = [];
      const db = this.conn();
      const tx = db.transaction(() => {
        if (job.check) {
          const actual = this.headSync(job.check.instanceId);
          if (!sameHead(actual, job.check.expected)) throw new ChainConflictError(job.check.instanceId, job.check.expected, actual);
        }
        for (const st of job.statements) {
          const stmt = db.prepare(st.sql);
          let n = 0;
          for (const row of st.rows) n += stmt.run(...row).changes;
          if (st.expect !== undefined && n !== st.expect) throw new ExpectationError(st.sql, st.expect, n);
          changes.push(n);
        }
      });
      // IMMEDIATE: take the write lock before reading the head, so the check and the insert are atomic.
      tx.immediate();
      const after = this.checkIdentity();
      if (after) return { ok: false, conflict: false, lost: true, message: after };
      return { ok: true, changes };
    } catch (err) {
      if (err instanceof ChainConflictError) return { ok: false, conflict: true, actual: this.headSync(job.check!.instanceId), message: err.message };
      if (err instanceof ExpectationError) return { ok: false, conflict: true, message: err.message };
      return { ok: false, conflict: false, message: (err as Error).message };
    }
  }

  private async write(job: WriteJob): Promise<number[]> {
    if (this.readonlyMode) throw new Error(`The audit database ${this.location} is open read-only.`);
    if (this.lostReason) throw new AuditStoreLostError(this.lostReason);
    const result = this.writerMode === 'inline' ? this.runInline(job) : ((await this.call({ ...job })) as WriteResult);
    if (result.ok) return result.changes;
    if (result.lost) {
      this.lostReason = result.message;
      throw new AuditStoreLostError(result.message);
    }
    if (result.conflict && job.check) throw new ChainConflictError(job.check.instanceId, job.check.expected, result.actual ?? null);
    if (result.conflict) throw new ExpectationError(result.message);
    throw new Error(result.message);
  }

  async appendBatch(instanceId: string, expected: ChainHead | null, records: AuditRecord[], checkpoints: Checkpoint[]): Promise<void> {
    const recordRows: unknown[][] = [];
    const subjectRows: unknown[][] = [];
    for (const r of records) {
      const row = recordToRow(r);
      recordRows.push(RECORD_COLUMNS.map((c) => row[c]));
      for (const h of subjectHmacs(r)) subjectRows.push([h, r.instanceId, r.seq]);
    }
    await this.write({
      statements: [
        { sql: INSERT_RECORD_SQL, rows: recordRows },
        { sql: INSERT_SUBJECT_SQL, rows: subjectRows },
        { sql: INSERT_CHECKPOINT_SQL, rows: checkpoints.map((c) => [c.instanceId, c.seq, c.hash, c.ts, c.keyId, c.signature]) },
        // The chain's statistics mark, before its first record: the roll finds these records from it.
        // Once per chain and process: marks are never deleted.
        { sql: MARK_CHAIN_SQL, rows: records.length && this.tail.needsMark(instanceId) ? [[instanceId, records[0]!.seq - 1]] : [] },
      ],
      check: { headSql: HEAD_SQL, anchorSql: ANCHOR_HEAD_SQL, instanceId, expected },
    });
    // Only now: a record the roll takes from memory must be committed (a failed write throws above).
    this.tail.committed(instanceId, records);
  }

  /** Rolls every committed record into the statistics (the statistics call it before reading). */
  rollUp(): Promise<void> {
    return this.tail.now();
  }

  /** One roll: every chain's records after its mark (a page each), upserted with the marks moved, in one transaction. */
  private async rollOnce(): Promise<boolean> {
    if (this.readonlyMode) return false;
    const marks = await this.all(`SELECT instance_id, seq FROM ${ROLLED_TABLE} ORDER BY instance_id`);
    const recent = this.tail.recent;
    const { batch, moved, more } = await readTails(marks, (id, seq, limit) =>
      this.all(`SELECT * FROM audit_records WHERE instance_id = ? AND seq > ? ORDER BY seq LIMIT ${limit}`, [id, seq]), recent);
    if (moved.length === 0) return false;
    try {
      await this.write({
        statements: [
          ...rollupStatements(batch, 'sqlite').map((st) => ({ sql: sqliteUpsertSql(st), rows: st.rows })),
          // Every mark still where this roll read it, else nothing is upserted (another process
          // sharing the file rolled or rebuilt in between): read them again.
          { sql: `UPDATE ${ROLLED_TABLE} SET seq = ? WHERE instance_id = ? AND seq = ?`, rows: moved.map((m) => [m.to, m.instanceId, m.from]), expect: moved.length },
        ],
      });
    } catch (err) {
      if (err instanceof ExpectationError) {
        // Another process moved a mark: the chains taken from memory are read back next time.
        for (const m of moved) if (m.fromMemory) recent.forget(m.instanceId);
        return true;
      }
      throw err;
    }
    for (const m of moved) recent.rolled(m.instanceId, m.to);
    return more;
  }

  /**
   * Recomputes the statistics rollups from the stored records, in ONE transaction (readers see
   * the old rollups or the new ones). Reads the records in pages of `pageSize`, in (ts, instance,
   * seq) order. Returns the number of records read.
   */
  async rebuildStats(opts: { pageSize?: number; flushRows?: number; dropArchived?: boolean } = {}): Promise<number> {
    const page = opts.pageSize ?? 20_000;
    // Contributions are summed in memory over many pages (fewer, fuller upserts), flushed when
    // this many rollup rows are pending (bounds the memory).
    const flushRows = opts.flushRows ?? 200_000;
    const sql = recordPageSql(page);
    const run = (db: { exec(s: string): unknown; prepare(s: string): { all(...p: unknown[]): unknown[]; run(...p: unknown[]): unknown } }) => {
      let n = 0;
      for (const t of STATS_TABLES) db.exec(`DELETE FROM ${t}`);
      // The dossier rollups are computed set-based at the end, not row by row by the triggers.
      for (const s of dropDossierTriggersSql('sqlite', (x) => x)) db.exec(s);
      const flush = (batch: RollupBatch) => {
        for (const s of rollupStatements(batch, 'sqlite')) {
          const stmt = db.prepare(sqliteUpsertSql(s));
          for (const r of s.rows) stmt.run(...r);
        }
      };
      let after: [number, string, number] = [-Infinity, '', 0];
      let batch = emptyBatch();
      for (;;) {
        const rows = db.prepare(sql).all(...after) as Row[];
        if (rows.length === 0) break;
        addRecords(batch, rows.map((row) => rowToRecord(row)));
        if (batch.roll.size + batch.entities.size + batch.fields.size >= flushRows) {
          flush(batch);
          batch = emptyBatch();
        }
        n += rows.length;
        const last = rows[rows.length - 1]!;
        after = [Number(last.ts), String(last.instance_id), Number(last.seq)];
      }
      flush(batch);
      db.exec(drollFromDossiersSql((x) => x));
      for (const s of dossierTriggerSql('sqlite', (x) => x)) db.exec(s);
      // Every record is in the rollups now (no append can commit during this transaction).
      db.exec(MARK_HEADS_SQL);
      return n;
    };
    if (this.readonlyMode) throw new Error(`The audit database ${this.location} is open read-only: open it writable to rebuild the statistics.`);
    const db = this.conn();
    let count = 0;
    // The marks move to the heads: what this process remembers is covered (or read back).
    this.tail.recent.forget();
    db.transaction(() => {
      // Archived records are gone from the table, their figures only in the rollups.
      const n = Number((db.prepare('SELECT COUNT(*) AS n FROM audit_anchors').get() as { n: number }).n);
      if (n > 0 && !opts.dropArchived) throw new Error(`${n} chain(s) were archived (records moved out by \`motlan audit archive\`): a rebuild from the remaining records would drop the archived periods from the statistics, which the rollups still hold. Rebuild anyway with --drop-archived (the statistics then start at the earliest remaining record), or restore the archived records first.`);
      count = run(db as never);
    }).immediate();
    this.tail.recent.forget();
    return count;
  }

  async probe(instanceId: string): Promise<void> {
    await this.write({ statements: [{ sql: PROBE_SQL, rows: [[instanceId, Date.now()]] }] });
  }

  async registerKey(key: PublicKeyEntry): Promise<void> {
    await this.write({
      statements: [{ sql: 'INSERT OR IGNORE INTO audit_keys (key_id, public_key_pem, created_at) VALUES (?, ?, ?)', rows: [[key.keyId, key.publicKeyPem, key.createdAt]] }],
    });
  }

  async publicKeys(): Promise<PublicKeyEntry[]> {
    return (await this.all('SELECT * FROM audit_keys ORDER BY created_at')).map((r) => ({
      keyId: String(r.key_id),
      publicKeyPem: String(r.public_key_pem),
      createdAt: Number(r.created_at),
    }));
  }

  async instances(): Promise<string[]> {
    const rows = await this.all(INSTANCES_SQL);
    return rows.map((r) => String(r.instance_id));
  }

  async search(filter: AuditFilter, page: { limit: number; after?: SearchCursor | null }): Promise<SearchPage> {
    const w = buildWhere(filter, 'sqlite', page.after, 'audit_subjects');
    const rows = await this.all(`SELECT r.* FROM audit_records r ${w.sql} ${NEWEST_FIRST} LIMIT ?`, [...w.params, page.limit + 1]);
    const items = rows.slice(0, page.limit).map(rowToRecord);
    const last = items[items.length - 1];
    return { items, next: rows.length > page.limit && last ? { ts: last.ts, instanceId: last.instanceId, seq: last.seq } : null };
  }

  async count(filter: AuditFilter): Promise<number> {
    const w = buildWhere(filter, 'sqlite', null, 'audit_subjects');
    const row = await this.one(`SELECT COUNT(*) AS n FROM audit_records r ${w.sql}`, w.params);
    return Number(row?.n ?? 0);
  }

  async get(instanceId: string, seq: number): Promise<AuditRecord | null> {
    const row = await this.one('SELECT * FROM audit_records WHERE instance_id = ? AND seq = ?', [instanceId, seq]);
    return row ? rowToRecord(row) : null;
  }

  async byRequestId(requestId: string): Promise<AuditRecord | null> {
    const row = await this.one('SELECT * FROM audit_records WHERE request_id = ? ORDER BY ts DESC, id DESC LIMIT 1', [requestId]);
    return row ? rowToRecord(row) : null;
  }

  async *chain(instanceId: string, range: { fromSeq?: number; toSeq?: number } = {}): AsyncIterable<AuditRecord> {
    // Paged by seq, never holding a statement open across an await: the writer shares the connection.
    const sql = 'SELECT * FROM audit_records WHERE instance_id = ? AND seq >= ? AND seq <= ? ORDER BY seq, id LIMIT ?';
    let from = range.fromSeq ?? 0;
    const to = range.toSeq ?? Number.MAX_SAFE_INTEGER;
    for (;;) {
      const rows = await this.all(sql, [instanceId, from, to, this.pageSize]);
      for (const row of rows) yield rowToRecord(row);
      if (rows.length < this.pageSize) return;
      from = Number(rows[rows.length - 1]!.seq) + 1;
    }
  }

  async checkpoints(instanceId: string, range: { fromSeq?: number; toSeq?: number } = {}): Promise<Checkpoint[]> {
    return (
      await this.all('SELECT * FROM audit_checkpoints WHERE instance_id = ? AND seq >= ? AND seq <= ? ORDER BY seq', [
        instanceId,
        range.fromSeq ?? 0,
        range.toSeq ?? Number.MAX_SAFE_INTEGER,
      ])
    ).map(rowToCheckpoint);
  }

  async subjectIndex(instanceId: string, range: { fromSeq: number; toSeq: number }): Promise<Array<{ seq: number; hmac: string }>> {
    return (
      await this.all('SELECT seq, hmac FROM audit_subjects WHERE instance_id = ? AND seq >= ? AND seq <= ? ORDER BY seq, hmac', [
        instanceId,
        range.fromSeq,
        range.toSeq,
      ])
    ).map((r) => ({ seq: Number(r.seq), hmac: String(r.hmac) }));
  }

  async anchor(instanceId: string): Promise<Checkpoint | null> {
    const row = await this.one('SELECT * FROM audit_anchors WHERE instance_id = ?', [instanceId]);
    return row ? rowToCheckpoint(row) : null;
  }

  async prune(instanceId: string, cp: Checkpoint): Promise<number> {
    // The statistics keep what is archived: its records must be in the rollups before they go.
    await this.rollUp();
    this.tail.recent.forget(instanceId);
    const changes = await this.write({
      statements: [
        { sql: 'DELETE FROM audit_records WHERE instance_id = ? AND seq <= ?', rows: [[instanceId, cp.seq]] },
        { sql: 'DELETE FROM audit_subjects WHERE instance_id = ? AND seq <= ?', rows: [[instanceId, cp.seq]] },
        { sql: 'DELETE FROM audit_checkpoints WHERE instance_id = ? AND seq <= ?', rows: [[instanceId, cp.seq]] },
        {
          sql: `INSERT INTO audit_anchors (instance_id, seq, hash, ts, key_id, signature) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT (instance_id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, ts = excluded.ts,
                  key_id = excluded.key_id, signature = excluded.signature`,
          rows: [[instanceId, cp.seq, cp.hash, cp.ts, cp.keyId, cp.signature]],
        },
        // Refused (rolled back) unless the mark is at or past the checkpoint: else records would go unrolled.
        { sql: `UPDATE ${ROLLED_TABLE} SET seq = seq WHERE instance_id = ? AND seq >= ?`, rows: [[instanceId, cp.seq]], expect: 1 },
      ],
    });
    return changes[0] ?? 0;
  }

  /**
   * Runs raw SQL (tests simulate tampering with it). Synchronous with shared locking; with
   * exclusive locking it runs in the writer thread (await it).
   */
  exec(sql: string): void | Promise<void> {
    // Raw SQL may move marks or records: roll from the store until the memory lines up again.
    this.tail.recent.forget();
    if (this.db) {
      this.db.exec(sql);
      return;
    }
    return this.call({ type: 'exec', sql }).then(() => undefined);
  }

  async close(): Promise<void> {
    if (!this.readonlyMode && !this.lostReason) await this.tail.close();
    const w = this.worker;
    this.worker = null;
    if (w) {
      // Let queued commits finish, then close the writer's connection.
      await new Promise<void>((resolve) => {
        const id = this.nextJob++;
        this.jobs.set(id, { resolve: () => resolve(), reject: () => resolve() });
        w.postMessage({ id, type: 'close' });
      });
      await w.terminate();
    }
    if (this.db?.open) this.db.close();
  }
}
