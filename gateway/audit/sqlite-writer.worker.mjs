// The SQLite audit writer thread (plain JavaScript: it runs in a worker thread,
// under any loader or none). It owns the write connection, so the fsync of each
// group commit happens off the gateway's event loop, which keeps serving
// requests meanwhile. The SQL comes from sqlite-store.ts; this file only runs
// a list of statements in one IMMEDIATE transaction, after an optional check
// that the chain head is the one the writer expects.
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

const db = new Database(workerData.file);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = FULL');
db.pragma('busy_timeout = 5000');

const cache = new Map();
const prepared = (sql) => {
  let s = cache.get(sql);
  if (!s) cache.set(sql, (s = db.prepare(sql)));
  return s;
};

class Conflict extends Error {}

function headOf(check) {
  const row = prepared(check.headSql).get(check.instanceId) ?? prepared(check.anchorSql).get(check.instanceId);
  return row ? { seq: Number(row.seq), hash: String(row.hash) } : null;
}

function same(a, b) {
  return a === null || b === null ? a === b : a.seq === b.seq && a.hash === b.hash;
}

parentPort.on('message', (msg) => {
  if (msg.type === 'close') {
    db.close();
    parentPort.postMessage({ id: msg.id, ok: true });
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
        changes.push(n);
      }
    });
    tx.immediate();
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
