// The SQLite audit writer thread (plain JavaScript: it runs in a worker thread,
// under any loader or none). It owns the write connection, so the fsync of each
// group commit happens off the gateway's event loop, which keeps serving
// requests meanwhile. The SQL comes from sqlite-store.ts; this file only runs
// a list of statements in one IMMEDIATE transaction, after an optional check
// that the chain head is the one the writer expects.
//
// Before and after every transaction it checks that the database file and its
// -wal are still the ones it opened (device and inode): SQLite keeps writing to a
// file that was removed or replaced under it, so a commit "succeeds" into a file
// nobody will ever read. Such a store is lost: every write is refused from then on.
import { statSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

let db = null;
let startupError = null;
try {
  db = new Database(workerData.file);
  // Exclusive: set BEFORE entering WAL, so SQLite keeps the WAL index in this process's heap and
  // never maps a -shm file (a truncated or unwritable -shm would otherwise kill the process
  // with SIGBUS). This connection then holds the database alone; the store sends its reads here.
  if (workerData.exclusive) db.pragma('locking_mode = EXCLUSIVE');
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 5000');
} catch (err) {
  const message = err && err.message ? err.message : String(err);
  startupError =
    err && err.code === 'SQLITE_BUSY'
      ? `the audit database ${workerData.file} is held by another gateway or process (${message}). ` +
        'With AUDIT_SQLITE_LOCKING=exclusive (the default) one gateway holds its SQLite file alone: give each gateway ' +
        'its own DATA_DIR or AUDIT_SQLITE_FILE, use PostgreSQL (AUDIT_DATABASE_URL) for several replicas, or set AUDIT_SQLITE_LOCKING=shared.'
      : `the audit database ${workerData.file} cannot be opened: ${message}`;
}

function identityOf(file) {
  try {
    const st = statSync(file);
    return `${st.dev}:${st.ino}`;
  } catch {
    return null;
  }
}
const walFile = `${workerData.file}-wal`;
// The main thread's identity of the file at init (null for a store opened without init).
const dbIdentity = workerData.identity ?? identityOf(workerData.file);
let walIdentity = null;
let lost = null;

/** Null while the files are the ones opened, else why the store is lost (sticky). */
function checkFiles() {
  if (lost) return lost;
  const now = identityOf(workerData.file);
  if (dbIdentity !== null && now !== dbIdentity) {
    lost = now === null
      ? `the audit database file ${workerData.file} was removed while the gateway was using it`
      : `the audit database file ${workerData.file} was replaced by another file while the gateway was using it`;
    return lost;
  }
  const wal = identityOf(walFile);
  // The -wal exists once the first transaction ran; from then on it must stay the same file.
  if (walIdentity === null) walIdentity = wal;
  else if (wal !== walIdentity) {
    lost = wal === null
      ? `the audit write-ahead log ${walFile} was removed while the gateway was using it`
      : `the audit write-ahead log ${walFile} was replaced by another file while the gateway was using it`;
  }
  return lost;
}

const cache = new Map();
const prepared = (sql) => {
  let s = cache.get(sql);
  if (!s) {
    // Reads (auditor searches, statistics) bring many statement texts: keep the cache bounded.
    if (cache.size >= 256) cache.clear();
    cache.set(sql, (s = db.prepare(sql)));
  }
  return s;
};

class Conflict extends Error {}

/** The same text as sqlite-store.ts's ExpectationError (the main thread reports it as is). */
function expectationMessage(sql, expected, actual) {
  return `The audit store changed under this write (${actual} rows changed where ${expected} were expected by: ${sql.slice(0, 80)}); nothing was written, try again.`;
}

function headOf(check) {
  const row = prepared(check.headSql).get(check.instanceId) ?? prepared(check.anchorSql).get(check.instanceId);
  return row ? { seq: Number(row.seq), hash: String(row.hash) } : null;
}

function same(a, b) {
  return a === null || b === null ? a === b : a.seq === b.seq && a.hash === b.hash;
}

parentPort.on('message', (msg) => {
  if (msg.type === 'close') {
    db?.close();
    parentPort.postMessage({ id: msg.id, ok: true });
    return;
  }
  if (startupError) {
    parentPort.postMessage({ id: msg.id, ok: false, conflict: false, read: true, message: startupError });
    return;
  }
  if (msg.type === 'read' || msg.type === 'exec') {
    try {
      if (msg.type === 'exec') {
        db.exec(msg.sql);
        parentPort.postMessage({ id: msg.id, ok: true, changes: [] });
      } else {
        const s = prepared(msg.sql);
        parentPort.postMessage({ id: msg.id, ok: true, rows: msg.kind === 'get' ? s.get(...msg.params) : s.all(...msg.params) });
      }
    } catch (err) {
      parentPort.postMessage({ id: msg.id, ok: false, read: true, message: err && err.message ? err.message : String(err) });
    }
    return;
  }
  const before = checkFiles();
  if (before) {
    parentPort.postMessage({ id: msg.id, ok: false, conflict: false, lost: true, message: before });
    return;
  }
  try {
    const changes = [];
    const tx = db.transaction(() => {
      if (msg.check) {
        const actual = headOf(msg.check);
        if (!same(actual, msg.check.expected)) throw Object.assign(new Conflict('head moved'), { actual });
      }
      for (const st of msg.statements) {
        const s = prepared(st.sql);
        let n = 0;
        for (const params of st.rows) n += s.run(...params).changes;
        // A statement that must change exactly this many rows (a guard): otherwise roll back.
        if (st.expect !== undefined && n !== st.expect) throw new Conflict(expectationMessage(st.sql, st.expect, n));
        changes.push(n);
      }
    });
    tx.immediate();
    // Removed or replaced during the commit: the records went to a dead file, the waiters must not share data.
    const after = checkFiles();
    if (after) {
      parentPort.postMessage({ id: msg.id, ok: false, conflict: false, lost: true, message: after });
      return;
    }
    parentPort.postMessage({ id: msg.id, ok: true, changes });
  } catch (err) {
    parentPort.postMessage({
      id: msg.id,
      ok: false,
      conflict: err instanceof Conflict,
      actual: err instanceof Conflict ? err.actual : undefined,
      message: err && err.message ? err.message : String(err),
    });
  }
});
