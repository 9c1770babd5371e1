/**
 * The audit store at scale: PostgreSQL (`AUDIT_DATABASE_URL`), shared by every
 * gateway replica. Each replica appends to its own chain (its instance id); a
 * transaction-scoped advisory lock per chain plus a head check make appends
 * safe even if two processes were misconfigured with the same instance id.
 * Commits are durable with PostgreSQL's default `synchronous_commit = on`.
 */
import pg from 'pg';
import type { AuditRecord, Checkpoint } from './record.js';
import {
  ADDED_RECORD_COLUMNS,
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
import {
  drollFromDossiersSql,
  dropDossierTriggersSql,
  deriveMissingCubes,
  LEGACY_STATS_TABLES,
  postgresUpsertQueries,
  rolledSchemaSql,
  ROLLED_TABLE,
  rollupSchemaSql,
  rollupStatements,
  STATS_TABLES,
  type RollupBatch,
} from '../core/stats-rollup.js';
import { postgresRebuildSql, REBUILT_RECORDS_SQL, subGrainSql } from '../core/stats-rebuild-sql.js';
import { readTails, RollupTail } from './rollup-tail.js';
import { buildWhere, NEWEST_FIRST } from './sql-filter.js';
import { redactUrl } from '../../lib/redact-url.js';

export interface PostgresStoreOptions {
  /** Connection URL, e.g. `postgres://audit@db:5432/motlan`. */
  url: string;
  /** Schema holding the audit tables (created when missing). Default: `motlan_audit`. */
  schema?: string;
  /** Pool size. Default: 4 (one writer at a time per replica; the rest serve the auditor API). */
  poolSize?: number;
  /** Records read per query when walking a chain. Default: 2000. */
  pageSize?: number;
  /** Do not create tables (the verifier). Default: false. */
  readonly?: boolean;
  /** How long after an append its records are rolled into the statistics (gateway/audit/rollup-tail.ts). Default 1000 ms. */
  rollupDelayMs?: number;
}

/** PostgreSQL int8 → JS number (audit sequence numbers and ms timestamps stay far below 2^53). */
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === 20 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

const redact = (url: string): string => redactUrl(url, 'postgres://(unparseable URL)');

const IDENT = /^[a-z_][a-z0-9_]{0,62}$/;

/** Parameters per statement, under PostgreSQL's limit of 65 535 bind parameters. */
const MAX_PARAMS = 60_000;
function* chunked<T>(items: T[], size: number): Generator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}
/** `($1, $2), ($3, $4)…` for rows of values bound in order. */
function placeholders(rows: unknown[][]): string {
  let n = 0;
  return rows.map((row) => `(${row.map(() => `$${++n}`).join(', ')})`).join(', ');
}

/** PostgreSQL's deadlock_detected: the transaction was rolled back, running it again is safe. */
const DEADLOCK = '40P01';
/** Attempts of init's transaction when PostgreSQL breaks a deadlock by aborting it. */
const INIT_ATTEMPTS = 5;

export class PostgresAuditStore implements AuditStore {
  readonly kind = 'postgres' as const;
  readonly location: string;
  readonly schema: string;
  private readonly pool: pg.Pool;
  private readonly pageSize: number;
  private readonly readonlyMode: boolean;
  private readonly t: { records: string; subjects: string; checkpoints: string; anchors: string; keys: string; probes: string; rolled: string };
  private readonly tail: RollupTail;
  /** A table of this store's schema, qualified (the rollup SQL builders take it). */
  private readonly q = (name: string): string => `${this.schema}.${name}`;

  constructor(opts: PostgresStoreOptions) {
    this.tail = new RollupTail({ rollOnce: () => this.rollOnce(), delayMs: opts.rollupDelayMs });
    this.schema = opts.schema ?? 'motlan_audit';
    if (!IDENT.test(this.schema)) throw new Error(`Audit schema name ${JSON.stringify(this.schema)} is invalid: use lowercase letters, digits and _.`);
    this.location = `${redact(opts.url)} (schema ${this.schema})`;
    this.pageSize = opts.pageSize ?? 2000;
    this.readonlyMode = opts.readonly ?? false;
    // JIT off: every query here is short (an append, a page, a rollup range of a few thousand rows),
    // and compiling the statistics' 90-column aggregates took longer than running them (a 30-day
    // summary at 200 000 records: 165 ms with JIT, 64 ms without). A URL's own `options` win.
    this.pool = new pg.Pool({ connectionString: opts.url, options: '-c jit=off', max: opts.poolSize ?? 4, types, connectionTimeoutMillis: 5000 });
    // An idle client losing its connection must not crash the gateway; the next query reports it.
    this.pool.on('error', () => {});
    const s = this.schema;
    this.t = {
      records: `${s}.audit_records`,
      subjects: `${s}.audit_subjects`,
      checkpoints: `${s}.audit_checkpoints`,
      anchors: `${s}.audit_anchors`,
      keys: `${s}.audit_keys`,
      probes: `${s}.audit_probes`,
      rolled: `${s}.${ROLLED_TABLE}`,
    };
  }

  async init(): Promise<void> {
    if (this.readonlyMode) return;
    const t = this.t;
    let rebuild = false;
    // Lock order, as appends and rebuilds take them: the records (SHARE at most here: an ALTER only
    // when a column is missing), then the marks, then the rollups. A roll locks the marks, then
    // reads the records and writes the rollups: DDL on the rollups before the marks deadlocked
    // with a running replica's roll. A deadlock that still happens (an upgrade's ALTER) is retried.
    const prepare = () => this.transaction(async (client) => {
      // Serialise concurrent first starts of several replicas.
      await client.query(`SELECT pg_advisory_xact_lock(hashtext('motlan-audit-schema:' || $1))`, [this.schema]);
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${this.schema}`);
      await client.query(`
        CREATE TABLE IF NOT EXISTS ${t.records} (
          id BIGSERIAL PRIMARY KEY,
          instance_id TEXT NOT NULL,
          seq BIGINT NOT NULL,
          ts BIGINT NOT NULL,
          request_id TEXT NOT NULL,
          client_id TEXT NOT NULL,
          agency TEXT NOT NULL,
          operation_name TEXT,
          operation_type TEXT,
          document_hash TEXT,
          procedure_id TEXT,
          dossier_id TEXT,
          subjects JSONB NOT NULL,
          registries JSONB NOT NULL,
          fields JSONB NOT NULL,
          entities JSONB NOT NULL,
          outcome TEXT NOT NULL,
          error_codes JSONB NOT NULL,
          http_status INTEGER NOT NULL,
          duration_ms DOUBLE PRECISION NOT NULL,
          response_bytes BIGINT,
          prefill JSONB,
          prev_hash TEXT NOT NULL,
          hash TEXT NOT NULL,
          UNIQUE (instance_id, seq)
        );
        CREATE INDEX IF NOT EXISTS audit_records_ts ON ${t.records} (ts, instance_id, seq);
        CREATE INDEX IF NOT EXISTS audit_records_client ON ${t.records} (client_id, ts);
        CREATE INDEX IF NOT EXISTS audit_records_procedure ON ${t.records} (procedure_id, ts);
        CREATE INDEX IF NOT EXISTS audit_records_request ON ${t.records} (request_id);
        CREATE TABLE IF NOT EXISTS ${t.subjects} (
          hmac TEXT NOT NULL, instance_id TEXT NOT NULL, seq BIGINT NOT NULL,
          PRIMARY KEY (hmac, instance_id, seq)
        );
        CREATE INDEX IF NOT EXISTS audit_subjects_chain ON ${t.subjects} (instance_id, seq);
        CREATE TABLE IF NOT EXISTS ${t.checkpoints} (
          instance_id TEXT NOT NULL, seq BIGINT NOT NULL, hash TEXT NOT NULL, ts BIGINT NOT NULL,
          key_id TEXT NOT NULL, signature TEXT NOT NULL,
          PRIMARY KEY (instance_id, seq)
        );
        CREATE TABLE IF NOT EXISTS ${t.anchors} (
          instance_id TEXT PRIMARY KEY, seq BIGINT NOT NULL, hash TEXT NOT NULL, ts BIGINT NOT NULL,
          key_id TEXT NOT NULL, signature TEXT NOT NULL
        );
        CREATE TABLE IF NOT EXISTS ${t.keys} (
          key_id TEXT PRIMARY KEY, public_key_pem TEXT NOT NULL, created_at BIGINT NOT NULL
        );
        CREATE TABLE IF NOT EXISTS ${t.probes} (
          instance_id TEXT PRIMARY KEY, ts BIGINT NOT NULL
        );
      `);
      // ALTER locks the table against every reader, a roll included: only for a column missing.
      const have = new Set(
        (await client.query(`SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'audit_records'`, [this.schema])).rows.map((r) => String(r.column_name)),
      );
      for (const c of ADDED_RECORD_COLUMNS) if (!have.has(c.name)) await client.query(`ALTER TABLE ${t.records} ADD COLUMN IF NOT EXISTS ${c.name} ${c.postgres}`);
      await client.query(`CREATE INDEX IF NOT EXISTS audit_records_client_request ON ${t.records} (client_request_id)`);
      // Statistics rollups (gateway/core/stats-rollup.ts), kept in step in every append's transaction.
      // A store written with the first rollup layout: its tables are dropped and the new ones
      // rebuilt from the records (once; the figures would be wrong otherwise).
      const legacy = (await client.query(`SELECT to_regclass($1) AS t`, [`${this.schema}.stats_latency`])).rows[0].t !== null;
      if (legacy) {
        for (const s of dropDossierTriggersSql('postgres', this.q)) await client.query(s);
        for (const t of LEGACY_STATS_TABLES) await client.query(`DROP TABLE IF EXISTS ${this.q(t)}`);
      }
      // A store whose rollups were written in each append's transaction (before the marks): every
      // committed record is in them, so each chain's mark starts at its head.
      const marked = (await client.query(`SELECT to_regclass($1) AS t`, [t.rolled])).rows[0].t !== null;
      await client.query(rolledSchemaSql('postgres', this.q));
      // No roll meanwhile (a cube derived below would otherwise miss the roll's records; a roll
      // locks the marks first), and the marks before the rollups' DDL (see above).
      await client.query(`LOCK TABLE ${t.rolled} IN EXCLUSIVE MODE`);
      for (const ddl of rollupSchemaSql('postgres', this.q)) await client.query(ddl);
      if (!marked && !legacy) await client.query(this.markHeadsSql());
      // Rollups written before a cube existed: it is derived from a wider cube.
      const exec = async (sql: string) => void (await client.query(sql));
      rebuild =
        legacy ||
        !(await deriveMissingCubes(this.q, async (sql) => (await client.query(sql)).rows.length > 0, exec, async (cube) => {
          for (const sql of subGrainSql(this.q, t.records, cube, await this.recordSpan(client))) await exec(sql);
        }));
    });
    for (let attempt = 1; ; attempt++) {
      try {
        await prepare();
        break;
      } catch (err) {
        if ((err as { code?: string }).code === DEADLOCK && attempt < INIT_ATTEMPTS) continue;
        throw new Error(`Cannot prepare the audit tables in ${this.location}: ${(err as Error).message}`);
      }
    }
    if (rebuild) await this.rebuildStats({ dropArchived: true });
    // Records a previous run committed but did not roll.
    this.tail.appended();
  }

  /**
   * `chains(id)`: the chains with records, by a skip scan of the (instance_id, seq) index — one
   * search per chain, not a read of every record (45 million records: a GROUP BY took minutes).
   */
  private chainsSql(): string {
    return `WITH RECURSIVE chains(id) AS (
         SELECT (SELECT MIN(instance_id) FROM ${this.t.records})
         UNION ALL SELECT (SELECT MIN(instance_id) FROM ${this.t.records} WHERE instance_id > chains.id) FROM chains WHERE chains.id IS NOT NULL
       )`;
  }

  /** Every chain with records: its mark at its head (all its records are in the rollups); other marks stay. */
  private markHeadsSql(): string {
    return `${this.chainsSql()}
      INSERT INTO ${this.t.rolled} (instance_id, seq)
      SELECT id, (SELECT MAX(seq) FROM ${this.t.records} WHERE instance_id = chains.id) FROM chains WHERE id IS NOT NULL
      ON CONFLICT (instance_id) DO UPDATE SET seq = excluded.seq`;
  }

  private async headWith(q: pg.Pool | pg.PoolClient, instanceId: string): Promise<ChainHead | null> {
    const r = await q.query(`SELECT seq, hash FROM ${this.t.records} WHERE instance_id = $1 ORDER BY seq DESC LIMIT 1`, [instanceId]);
    if (r.rows[0]) return { seq: Number(r.rows[0].seq), hash: String(r.rows[0].hash) };
    const a = await q.query(`SELECT seq, hash FROM ${this.t.anchors} WHERE instance_id = $1`, [instanceId]);
    return a.rows[0] ? { seq: Number(a.rows[0].seq), hash: String(a.rows[0].hash) } : null;
  }

  head(instanceId: string): Promise<ChainHead | null> {
    return this.headWith(this.pool, instanceId);
  }

  async lastCheckpoint(instanceId: string): Promise<Checkpoint | null> {
    const r = await this.pool.query(`SELECT * FROM ${this.t.checkpoints} WHERE instance_id = $1 ORDER BY seq DESC LIMIT 1`, [instanceId]);
    return r.rows[0] ? rowToCheckpoint(r.rows[0]) : this.anchor(instanceId);
  }

  async appendBatch(instanceId: string, expected: ChainHead | null, records: AuditRecord[], checkpoints: Checkpoint[]): Promise<void> {
    await this.transaction(async (client) => {
      await client.query(`SELECT pg_advisory_xact_lock(hashtext('motlan-audit:' || $1))`, [instanceId]);
      const actual = await this.headWith(client, instanceId);
      if (!sameHead(actual, expected)) throw new ChainConflictError(instanceId, expected, actual);
      if (records.length > 0) {
        // A statement binds at most 65 535 parameters: records and subjects are inserted in
        // statements of at most MAX_PARAMS each, whatever the batch.
        const rows = records.map((r) => {
          const row = recordToRow(r);
          return RECORD_COLUMNS.map((c) => row[c]);
        });
        for (const chunk of chunked(rows, Math.floor(MAX_PARAMS / RECORD_COLUMNS.length))) {
          await client.query(`INSERT INTO ${this.t.records} (${RECORD_COLUMNS.join(', ')}) VALUES ${placeholders(chunk)}`, chunk.flat());
        }
        const subjects = records.flatMap((r) => subjectHmacs(r).map((h) => [h, r.instanceId, r.seq]));
        for (const chunk of chunked(subjects, Math.floor(MAX_PARAMS / 3))) {
          await client.query(`INSERT INTO ${this.t.subjects} (hmac, instance_id, seq) VALUES ${placeholders(chunk)} ON CONFLICT DO NOTHING`, chunk.flat());
        }
        // The chain's statistics mark, before its first record: the roll finds these records from it.
        // Once per chain and process (marks are never deleted), not at every commit: the insert
        // would wait for a roll that holds the mark.
        if (this.tail.needsMark(instanceId)) {
          await client.query(`INSERT INTO ${this.t.rolled} (instance_id, seq) VALUES ($1, $2) ON CONFLICT (instance_id) DO NOTHING`, [instanceId, records[0]!.seq - 1]);
        }
      }
      for (const c of checkpoints) {
        await client.query(
          `INSERT INTO ${this.t.checkpoints} (instance_id, seq, hash, ts, key_id, signature) VALUES ($1, $2, $3, $4, $5, $6)`,
          [c.instanceId, c.seq, c.hash, c.ts, c.keyId, c.signature],
        );
      }
    });
    // Only after the COMMIT: a record the roll takes from memory must be committed.
    this.tail.committed(instanceId, records);
  }

  /** Rolls every committed record into the statistics rollups (the statistics call it before reading). */
  rollUp(): Promise<void> {
    return this.tail.now();
  }

  /**
   * One roll: every chain's records after its mark (a page each), upserted with the marks moved, in
   * one transaction. The marks are locked first (in one order): another replica's roll, or a
   * rebuild, waits, then finds them moved, so no record is counted twice.
   */
  private async rollOnce(): Promise<boolean> {
    if (this.readonlyMode) return false;
    const recent = this.tail.recent;
    let rolled: Array<{ instanceId: string; to: number }> = [];
    const more = await this.transaction(async (client) => {
      const marks = (await client.query(`SELECT instance_id, seq FROM ${this.t.rolled} ORDER BY instance_id FOR UPDATE`)).rows;
      // The marks are locked: the records after them, from memory or read, are this roll's alone.
      const { batch, moved, more } = await readTails(marks, async (id, seq, limit) =>
        (await client.query(`SELECT * FROM ${this.t.records} WHERE instance_id = $1 AND seq > $2 ORDER BY seq LIMIT ${limit}`, [id, seq])).rows, recent);
      if (moved.length === 0) return false;
      rolled = moved;
      await this.flushRollups(client, batch);
      await client.query(
        `UPDATE ${this.t.rolled} AS m SET seq = v.seq FROM unnest($1::text[], $2::int8[]) AS v(instance_id, seq) WHERE m.instance_id = v.instance_id`,
        [moved.map((x) => x.instanceId), moved.map((x) => x.to)],
      );
      return more;
    });
    // Committed (a failure leaves the memory: the next roll drops what the marks then cover).
    for (const m of rolled) recent.rolled(m.instanceId, m.to);
    return more;
  }

  private async flushRollups(client: pg.PoolClient, batch: RollupBatch): Promise<void> {
    for (const s of rollupStatements(batch, 'postgres')) {
      for (const q of postgresUpsertQueries(s, this.q(s.table))) await client.query(q.text, q.values);
    }
  }

  /** The first and last record's ts (null: no records). */
  private async recordSpan(client: pg.PoolClient): Promise<{ from: number; to: number } | null> {
    const span = (await client.query(`SELECT MIN(ts) AS a, MAX(ts) AS b FROM ${this.t.records}`)).rows[0];
    return span.a === null ? null : { from: Number(span.a), to: Number(span.b) };
  }

  /**
   * Recomputes the statistics rollups from the stored records in ONE transaction (readers see the
   * old rollups or the new ones), set-based inside the database (gateway/core/stats-rebuild-sql.ts:
   * the records are never sent to Node). Returns the number of records read.
   */
  async rebuildStats(opts: { dropArchived?: boolean } = {}): Promise<number> {
    const q = this.q;
    // The marks move to the heads: what this process remembers is covered (or read back).
    this.tail.recent.forget();
    const count = await this.transaction(async (client) => {
      // No append may commit meanwhile (its records would be counted by the rebuild AND by its
      // own roll): SHARE mode waits for running appends and blocks new ones until commit.
      await client.query(`LOCK TABLE ${this.t.records} IN SHARE MODE`);
      // Nor may a roll (it would add what this rebuild counts): it locks the marks first.
      await client.query(`LOCK TABLE ${this.t.rolled} IN EXCLUSIVE MODE`);
      // Archived records are gone from the table, their figures only in the rollups.
      const archived = Number((await client.query(`SELECT COUNT(*) AS n FROM ${this.t.anchors}`)).rows[0].n);
      if (archived > 0 && !opts.dropArchived) throw new Error(`${archived} chain(s) were archived (records moved out by \`motlan audit archive\`): a rebuild from the remaining records would drop the archived periods from the statistics, which the rollups still hold. Rebuild anyway with --drop-archived (the statistics then start at the earliest remaining record), or restore the archived records first.`);
      // TRUNCATE, not DELETE: the rollups are then written in key order into fresh files, so each
      // cube's rows of a block lie on adjacent pages (what CLUSTER did afterwards, at the cost of a
      // second rewrite) and no dead rows stay behind. Statistics readers wait for the commit, as
      // appends do (the SHARE lock above).
      await client.query(`TRUNCATE ${STATS_TABLES.map(q).join(', ')}`);
      // The dossier rollups are computed set-based at the end, not row by row by the trigger.
      await client.query(`ALTER TABLE ${q('stats_dossiers')} DISABLE TRIGGER stats_cube_dossiers_trg`);
      for (const sql of postgresRebuildSql(q, this.t.records, await this.recordSpan(client))) await client.query(sql);
      await client.query(drollFromDossiersSql(q));
      await client.query(`ALTER TABLE ${q('stats_dossiers')} ENABLE TRIGGER stats_cube_dossiers_trg`);
      // Every record is in the rollups now (no append could commit during this transaction).
      await client.query(this.markHeadsSql());
      return Number((await client.query(REBUILT_RECORDS_SQL)).rows[0].n);
    });
    this.tail.recent.forget();
    return count;
  }

  async probe(instanceId: string): Promise<void> {
    await this.transaction(async (client) => {
      // The privilege and constraints a real commit needs (INSERT on the records), rolled back…
      await client.query('SAVEPOINT motlan_probe');
      await client.query(
        `INSERT INTO ${this.t.records} (instance_id, seq, ts, request_id, client_id, agency, subjects, registries, fields, entities,
           outcome, error_codes, http_status, duration_ms, prev_hash, hash)
         VALUES ($1, -1, 0, 'readiness-probe', 'readiness-probe', 'readiness-probe', '[]', '[]', '[]', '{}', 'OK', '[]', 0, 0, '', '')`,
        [`readiness-probe:${instanceId}`],
      );
      await client.query('ROLLBACK TO SAVEPOINT motlan_probe');
      // …then a committed write, so a database that cannot commit says so.
      await client.query(
        `INSERT INTO ${this.t.probes} (instance_id, ts) VALUES ($1, $2) ON CONFLICT (instance_id) DO UPDATE SET ts = EXCLUDED.ts`,
        [instanceId, Date.now()],
      );
    });
  }

  async registerKey(key: PublicKeyEntry): Promise<void> {
    await this.pool.query(`INSERT INTO ${this.t.keys} (key_id, public_key_pem, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, [
      key.keyId,
      key.publicKeyPem,
      key.createdAt,
    ]);
  }

  async publicKeys(): Promise<PublicKeyEntry[]> {
    const r = await this.pool.query(`SELECT * FROM ${this.t.keys} ORDER BY created_at`);
    return r.rows.map((x) => ({ keyId: String(x.key_id), publicKeyPem: String(x.public_key_pem), createdAt: Number(x.created_at) }));
  }

  async instances(): Promise<string[]> {
    const r = await this.pool.query(
      // This runs at every checkpoint (other chains are witnessed): a skip scan, not a read of every record.
      `${this.chainsSql()}
       SELECT id AS instance_id FROM chains WHERE id IS NOT NULL UNION SELECT instance_id FROM ${this.t.anchors}
       UNION SELECT instance_id FROM ${this.t.checkpoints} ORDER BY 1`,
    );
    return r.rows.map((x) => String(x.instance_id));
  }

  async search(filter: AuditFilter, page: { limit: number; after?: SearchCursor | null }): Promise<SearchPage> {
    const w = buildWhere(filter, 'postgres', page.after, this.t.subjects);
    const r = await this.pool.query(`SELECT r.* FROM ${this.t.records} r ${w.sql} ${NEWEST_FIRST} LIMIT ${Math.trunc(page.limit) + 1}`, w.params);
    const items = r.rows.slice(0, page.limit).map(rowToRecord);
    const last = items[items.length - 1];
    return { items, next: r.rows.length > page.limit && last ? { ts: last.ts, instanceId: last.instanceId, seq: last.seq } : null };
  }

  async count(filter: AuditFilter): Promise<number> {
    const w = buildWhere(filter, 'postgres', null, this.t.subjects);
    const r = await this.pool.query(`SELECT COUNT(*) AS n FROM ${this.t.records} r ${w.sql}`, w.params);
    return Number(r.rows[0].n);
  }

  async get(instanceId: string, seq: number): Promise<AuditRecord | null> {
    const r = await this.pool.query(`SELECT * FROM ${this.t.records} WHERE instance_id = $1 AND seq = $2`, [instanceId, seq]);
    return r.rows[0] ? rowToRecord(r.rows[0]) : null;
  }

  async byRequestId(requestId: string): Promise<AuditRecord | null> {
    const r = await this.pool.query(`SELECT * FROM ${this.t.records} WHERE request_id = $1 ORDER BY ts DESC, id DESC LIMIT 1`, [requestId]);
    return r.rows[0] ? rowToRecord(r.rows[0]) : null;
  }

  async *chain(instanceId: string, range: { fromSeq?: number; toSeq?: number } = {}): AsyncIterable<AuditRecord> {
    let from = range.fromSeq ?? 0;
    const to = range.toSeq ?? Number.MAX_SAFE_INTEGER;
    for (;;) {
      const r = await this.pool.query(
        `SELECT * FROM ${this.t.records} WHERE instance_id = $1 AND seq >= $2 AND seq <= $3 ORDER BY seq, id LIMIT $4`,
        [instanceId, from, to, this.pageSize],
      );
      for (const row of r.rows) yield rowToRecord(row);
      if (r.rows.length < this.pageSize) return;
      from = Number(r.rows[r.rows.length - 1].seq) + 1;
    }
  }

  async checkpoints(instanceId: string, range: { fromSeq?: number; toSeq?: number } = {}): Promise<Checkpoint[]> {
    const r = await this.pool.query(`SELECT * FROM ${this.t.checkpoints} WHERE instance_id = $1 AND seq >= $2 AND seq <= $3 ORDER BY seq`, [
      instanceId,
      range.fromSeq ?? 0,
      range.toSeq ?? Number.MAX_SAFE_INTEGER,
    ]);
    return r.rows.map(rowToCheckpoint);
  }

  async subjectIndex(instanceId: string, range: { fromSeq: number; toSeq: number }): Promise<Array<{ seq: number; hmac: string }>> {
    const r = await this.pool.query(
      `SELECT seq, hmac FROM ${this.t.subjects} WHERE instance_id = $1 AND seq >= $2 AND seq <= $3 ORDER BY seq, hmac`,
      [instanceId, range.fromSeq, range.toSeq],
    );
    return r.rows.map((row: { seq: unknown; hmac: unknown }) => ({ seq: Number(row.seq), hmac: String(row.hmac) }));
  }

  async anchor(instanceId: string): Promise<Checkpoint | null> {
    const r = await this.pool.query(`SELECT * FROM ${this.t.anchors} WHERE instance_id = $1`, [instanceId]);
    return r.rows[0] ? rowToCheckpoint(r.rows[0]) : null;
  }

  async prune(instanceId: string, cp: Checkpoint): Promise<number> {
    // The statistics keep what is archived: its records must be in the rollups before they go.
    await this.rollUp();
    this.tail.recent.forget(instanceId);
    return this.transaction(async (client) => {
      await client.query(`SELECT pg_advisory_xact_lock(hashtext('motlan-audit:' || $1))`, [instanceId]);
      const mark = (await client.query(`SELECT seq FROM ${this.t.rolled} WHERE instance_id = $1 FOR SHARE`, [instanceId])).rows[0];
      if (!mark || Number(mark.seq) < cp.seq) {
        throw new Error(`The statistics have not yet counted records of chain ${instanceId} up to seq ${cp.seq} (their mark is at ${mark ? mark.seq : 'none'}): nothing was archived, try again.`);
      }
      const d = await client.query(`DELETE FROM ${this.t.records} WHERE instance_id = $1 AND seq <= $2`, [instanceId, cp.seq]);
      await client.query(`DELETE FROM ${this.t.subjects} WHERE instance_id = $1 AND seq <= $2`, [instanceId, cp.seq]);
      await client.query(`DELETE FROM ${this.t.checkpoints} WHERE instance_id = $1 AND seq <= $2`, [instanceId, cp.seq]);
      await client.query(
        `INSERT INTO ${this.t.anchors} (instance_id, seq, hash, ts, key_id, signature) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (instance_id) DO UPDATE SET seq = EXCLUDED.seq, hash = EXCLUDED.hash, ts = EXCLUDED.ts,
           key_id = EXCLUDED.key_id, signature = EXCLUDED.signature`,
        [instanceId, cp.seq, cp.hash, cp.ts, cp.keyId, cp.signature],
      );
      return d.rowCount ?? 0;
    });
  }

  /** Runs `work` in one transaction on one pooled connection: committed if it resolves, rolled back if it throws. */
  private async transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      client.release();
    }
  }

  /** Runs raw SQL (tests simulate tampering and drop their schema with it). */
  async exec(sql: string): Promise<void> {
    // Raw SQL may move marks or records: roll from the store until the memory lines up again.
    this.tail.recent.forget();
    await this.pool.query(sql);
  }

  async close(): Promise<void> {
    if (!this.readonlyMode) await this.tail.close();
    await this.pool.end();
  }
}
