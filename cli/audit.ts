/**
 * `motlan audit …`: verify, export and archive the audit trail, offline, and
 * create signing keys. Exit codes: 0 ok, 1 tampering found (or archive refused),
 * 2 usage error (bad option, unreadable input).
 */
import { createWriteStream, existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { archiveOlderThan } from '../gateway/audit/archive.js';
import { openStore, resolveAuditConfig } from '../gateway/audit/config.js';
import { csvHeader, toCsvRow, toJsonLine } from '../gateway/audit/export-format.js';
import { exportLines } from '../gateway/audit/export.js';
import { generateSigningKey, loadHmacKey, subjectHasher } from '../gateway/audit/keys.js';
import { OUTCOMES, type Outcome } from '../gateway/audit/record.js';
import { verifyExportFile, verifyExportLines, verifyStore } from '../gateway/audit/sources.js';
import { PostgresAuditStore } from '../gateway/audit/postgres-store.js';
import { SqliteAuditStore } from '../gateway/audit/sqlite-store.js';
import type { AuditFilter, AuditStore } from '../gateway/audit/store.js';
import type { VerifyReport } from '../gateway/audit/verify.js';
import { loadWitness, type WitnessedCheckpoint } from '../gateway/audit/witness.js';
import { validatePersonalId } from '../lib/identifiers.js';
import type { CliIo } from './io.js';

export const AUDIT_USAGE = `Audit commands:
  motlan audit verify [SOURCE] [--public-key key.pem]... [--witness FILE|URL]... [--instance ID]... [--json]
      Checks the hash chain, the signed checkpoints and the subject index, offline. Reports
      the first bad record (modified, deleted, inserted, reordered, rewritten, bad signature).
      --witness: signed checkpoints kept outside the store (the gateway's AUDIT_WITNESS_FILE,
      a saved GET /audit/v1/checkpoints/latest, or its URL with MOTLAN_AUDITOR_KEY set); the
      store must still extend every one of them (no truncation, rewrite, deleted checkpoint
      or deleted chain). Exit 0 when intact, 1 when tampering is found, 2 on a usage error.
  motlan audit export [SOURCE] --out FILE|- [--format jsonl|csv] [filters]
      Filters: --from/--to (ISO date-time or ms), --client, --agency, --procedure,
      --registry, --outcome OK,PARTIAL…, --instance, --personal-id (hashed with the
      configured AUDIT_HMAC_KEY). A filtered export still verifies (other records redacted).
  motlan audit archive [SOURCE] --older-than-days N --out FILE [--public-key key.pem] [--dry-run]
      Moves records older than N days (cut at a signed checkpoint) to FILE (JSON Lines)
      and prunes them; the remaining chain is anchored on the archive's last hash.
  motlan audit prove REQUEST_ID --out FILE [SOURCE] [--instance ID]
      Writes the proof that one record is in the signed log: the record in full, the
      records between the signed checkpoints around it as hashes only, and those
      checkpoints. Check it offline: motlan audit verify --file FILE --public-key … --witness ….
  motlan audit keygen --out FILE
      Creates an Ed25519 signing key (FILE, mode 600) and its public key (FILE.pub.pem).

SOURCE (default: the configured store, AUDIT_DATABASE_URL or DATA_DIR/audit.db):
  --db FILE.db           a SQLite audit database (alias --sqlite)
  --url postgres://…     a PostgreSQL database, with --schema (default motlan_audit) (alias --postgres)
  --file EXPORT          an exported file (.jsonl or .csv)
  or the same as a plain argument (detected from its form).`;

class UsageError extends Error {}

export const SOURCE_OPTIONS = {
  db: { type: 'string' },
  sqlite: { type: 'string' },
  url: { type: 'string' },
  postgres: { type: 'string' },
  schema: { type: 'string' },
  file: { type: 'string' },
} as const;

type Source = { kind: 'store'; open: () => AuditStore; describe: string } | { kind: 'file'; file: string };

export function sourceOf(
  given0: { db?: string; sqlite?: string; url?: string; postgres?: string; schema?: string; file?: string },
  positionals: string[],
  io: CliIo,
  forWrite = false,
): Source {
  // --sqlite and --postgres are aliases of --db and --url.
  const values = { db: given0.db ?? given0.sqlite, url: given0.url ?? given0.postgres, schema: given0.schema, file: given0.file };
  if ((given0.db && given0.sqlite) || (given0.url && given0.postgres)) throw new UsageError('Give one source: --db, --url, --file or a single path/URL.');
  const given = [values.db, values.url, values.file, ...positionals].filter((v) => v !== undefined);
  if (given.length > 1) throw new UsageError('Give one source: --db, --url, --file or a single path/URL.');
  const schema = values.schema ?? io.env.AUDIT_DATABASE_SCHEMA ?? 'motlan_audit';
  const positional = positionals[0];
  const url = values.url ?? (positional && /^postgres(ql)?:\/\//.test(positional) ? positional : undefined);
  const file = values.file ?? (positional && /\.(jsonl|ndjson|csv)$/i.test(positional) ? positional : undefined);
  const db = values.db ?? (positional && !url && !file ? positional : undefined);
  if (url) return { kind: 'store', describe: url.replace(/:[^:@/]*@/, ':***@'), open: () => new PostgresAuditStore({ url, schema, readonly: !forWrite }) };
  if (file) {
    const abs = path.resolve(io.cwd, file);
    if (!existsSync(abs)) throw new UsageError(`${abs} does not exist.`);
    return { kind: 'file', file: abs };
  }
  if (db) {
    const abs = path.resolve(io.cwd, db);
    if (!existsSync(abs)) throw new UsageError(`${abs} does not exist.`);
    return { kind: 'store', describe: abs, open: () => new SqliteAuditStore({ file: abs, readonly: !forWrite, writer: 'inline' }) };
  }
  const cfg = resolveAuditConfig({ instanceId: 'cli' }, { env: io.env, production: io.env.NODE_ENV === 'production', cwd: io.cwd });
  if (!cfg.databaseUrl && !existsSync(cfg.sqliteFile)) {
    throw new UsageError(`No audit store at ${cfg.sqliteFile} (DATA_DIR) and AUDIT_DATABASE_URL is not set: name a source (--db, --url or --file).`);
  }
  return { kind: 'store', describe: cfg.databaseUrl ? 'AUDIT_DATABASE_URL' : cfg.sqliteFile, open: () => openStore(cfg, { readonly: !forWrite, sqliteWriter: 'inline' }) };
}

function readKeys(paths: string[] | undefined, io: CliIo): string[] {
  return (paths ?? []).map((p) => {
    const abs = path.resolve(io.cwd, p);
    if (!existsSync(abs)) throw new UsageError(`Public key file ${abs} does not exist.`);
    return readFileSync(abs, 'utf8');
  });
}

function printReport(report: VerifyReport, source: string, io: CliIo): void {
  io.out(`Audit trail: ${source}`);
  for (const c of report.chains) {
    if (c.ok) {
      const range = c.firstSeq === null ? 'no records' : `${c.records} records (seq ${c.firstSeq}..${c.lastSeq})`;
      io.out(
        `  OK       chain ${c.instanceId}: ${range}, ${c.checkpointsVerified} signed checkpoint(s) verified` +
          `${c.lastCheckpointSeq !== null ? `, last at seq ${c.lastCheckpointSeq}` : ''}${c.anchoredAt !== null ? `, anchored after archived seq ${c.anchoredAt}` : ''}` +
          `${c.witnessVerified ? `, ${c.witnessVerified} witnessed checkpoint(s) matched (up to seq ${c.witnessedSeq})` : ''}`,
      );
    } else {
      const p = c.problem!;
      io.out(`  TAMPERED chain ${c.instanceId}: first bad record seq ${p.seq ?? '-'} (${p.kind})${p.line !== undefined ? ` at line ${p.line}` : ''}: ${p.message}`);
    }
  }
  for (const w of report.warnings) io.out(`  note: ${w}`);
  io.out(report.ok ? 'Result: intact.' : 'Result: TAMPERING DETECTED.');
}

async function withStore<T>(source: Extract<Source, { kind: 'store' }>, fn: (s: AuditStore) => Promise<T>): Promise<T> {
  let store: AuditStore;
  try {
    store = source.open();
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  try {
    return await fn(store);
  } finally {
    await store.close().catch(() => {});
  }
}

function time(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  const n = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
  if (!Number.isFinite(n)) throw new UsageError(`--${name} ${JSON.stringify(v)} is neither an ISO date-time nor ms since the epoch.`);
  return n;
}

async function verifyCmd(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      ...SOURCE_OPTIONS,
      'public-key': { type: 'string', multiple: true },
      witness: { type: 'string', multiple: true },
      instance: { type: 'string', multiple: true },
      json: { type: 'boolean' },
    },
  });
  const source = sourceOf(values, positionals, io);
  const publicKeyPems = readKeys(values['public-key'], io);
  let witness: WitnessedCheckpoint[] | undefined;
  for (const spec of values.witness ?? []) {
    try {
      (witness ??= []).push(...(await loadWitness(spec, { cwd: io.cwd, apiKey: io.env.MOTLAN_AUDITOR_KEY })));
    } catch (err) {
      throw new UsageError(`--witness ${spec}: ${(err as Error).message}`);
    }
  }
  const opts = { publicKeyPems, ...(witness ? { witness } : {}) };
  const report =
    source.kind === 'file'
      ? await verifyExportFile(source.file, opts)
      : await withStore(source, async (s) => verifyStore(s, { ...opts, ...(values.instance ? { instanceIds: values.instance } : {}) }));
  if (source.kind === 'file' && values.instance) report.chains = report.chains.filter((c) => values.instance!.includes(c.instanceId));
  if (values.json) io.out(JSON.stringify(report, null, 2));
  else printReport(report, source.kind === 'file' ? source.file : source.describe, io);
  return report.ok ? 0 : 1;
}

async function exportCmd(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      ...SOURCE_OPTIONS,
      out: { type: 'string' },
      format: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      client: { type: 'string' },
      agency: { type: 'string' },
      procedure: { type: 'string' },
      registry: { type: 'string' },
      outcome: { type: 'string' },
      instance: { type: 'string' },
      'personal-id': { type: 'string' },
    },
  });
  if (!values.out) throw new UsageError('--out FILE (or - for standard output) is required.');
  const format = values.format ?? (values.out.endsWith('.csv') ? 'csv' : 'jsonl');
  if (format !== 'csv' && format !== 'jsonl') throw new UsageError('--format is jsonl or csv.');
  const source = sourceOf(values, positionals, io);
  if (source.kind === 'file') throw new UsageError('export reads a store (--db or --url), not a file.');
  const filter: AuditFilter = {};
  const from = time(values.from, 'from');
  const to = time(values.to, 'to');
  if (from !== undefined) filter.from = from;
  if (to !== undefined) filter.to = to;
  if (values.client) filter.clientId = values.client;
  if (values.agency) filter.agency = values.agency;
  if (values.procedure) filter.procedureId = values.procedure;
  if (values.registry) filter.registry = values.registry;
  if (values.instance) filter.instanceId = values.instance;
  if (values.outcome) {
    const list = values.outcome.split(',').map((o) => o.trim().toUpperCase());
    const bad = list.filter((o) => !(OUTCOMES as readonly string[]).includes(o));
    if (bad.length) throw new UsageError(`--outcome: unknown ${bad.join(', ')}; use ${OUTCOMES.join(', ')}.`);
    filter.outcomes = list as Outcome[];
  }
  if (values['personal-id']) {
    const problem = validatePersonalId(values['personal-id']);
    if (problem) throw new UsageError(problem);
    const cfg = resolveAuditConfig({ instanceId: 'cli' }, { env: io.env, production: io.env.NODE_ENV === 'production', cwd: io.cwd });
    const key = loadHmacKey({ dataDir: cfg.dataDir, production: cfg.production, ...(cfg.hmacKey ? { hmacKey: cfg.hmacKey } : {}), ...(cfg.hmacKeyFile ? { hmacKeyFile: cfg.hmacKeyFile } : {}) });
    filter.subjectHmac = subjectHasher(key.key)('personal', values['personal-id']);
  }
  let lines = 0;
  await withStore(source, async (store) => {
    const toStdout = values.out === '-';
    const out = toStdout ? process.stdout : createWriteStream(path.resolve(io.cwd, values.out!), { flags: 'wx' });
    const write = async (s: string) => {
      if (!out.write(s)) await once(out, 'drain');
    };
    if (format === 'csv') await write(csvHeader());
    for await (const line of exportLines(store, filter)) {
      await write(format === 'csv' ? toCsvRow(line) : toJsonLine(line));
      lines++;
    }
    if (!toStdout) {
      out.end();
      await once(out, 'finish');
    }
  });
  if (values.out !== '-') io.out(`Exported ${lines} line(s) to ${path.resolve(io.cwd, values.out)} (${format}); check it with: motlan audit verify --file ${values.out}`);
  return 0;
}

async function archiveCmd(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { ...SOURCE_OPTIONS, 'older-than-days': { type: 'string' }, out: { type: 'string' }, 'public-key': { type: 'string', multiple: true }, 'dry-run': { type: 'boolean' } },
  });
  const days = Number(values['older-than-days']);
  if (values['older-than-days'] === undefined || !Number.isFinite(days) || days < 0) throw new UsageError('--older-than-days N (a number of days >= 0) is required.');
  if (!values.out) throw new UsageError('--out FILE is required (the archive, JSON Lines).');
  const out = path.resolve(io.cwd, values.out);
  if (existsSync(out)) throw new UsageError(`${out} already exists: archives are never overwritten.`);
  const source = sourceOf(values, positionals, io, true);
  if (source.kind === 'file') throw new UsageError('archive works on a store (--db or --url), not on a file.');
  const publicKeyPems = readKeys(values['public-key'], io);
  try {
    const result = await withStore(source, async (store) =>
      archiveOlderThan(store, { olderThanDays: days, out, dryRun: values['dry-run'] ?? false, ...(publicKeyPems.length ? { publicKeyPems } : {}) }),
    );
    if (!result.file) {
      io.out(`Nothing to archive: no signed checkpoint covers records older than ${days} day(s).`);
      return 0;
    }
    for (const c of result.chains) io.out(`  chain ${c.instanceId}: ${c.records} record(s) up to seq ${c.cutAtSeq} archived; the store continues after hash ${c.archivedHash.slice(0, 16)}…`);
    io.out(`Archive written and verified: ${result.file}`);
    if (values['dry-run']) io.out('Dry run: nothing was deleted from the store.');
    else io.out(result.storeReport?.ok ? 'Pruned; the remaining chain verifies.' : 'Pruned, but the remaining chain does NOT verify: run motlan audit verify.');
    return result.storeReport && !result.storeReport.ok ? 1 : 0;
  } catch (err) {
    if ((err as Error).message.startsWith('Archive aborted')) {
      io.err((err as Error).message);
      return 1;
    }
    throw err;
  }
}

async function proveCmd(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { ...SOURCE_OPTIONS, out: { type: 'string' }, instance: { type: 'string' } },
  });
  const [requestId, ...rest] = positionals;
  if (!requestId) throw new UsageError('Name the record: motlan audit prove <request id> --out FILE.');
  if (!values.out) throw new UsageError('--out FILE is required (the proof, JSON Lines).');
  const out = path.resolve(io.cwd, values.out);
  if (existsSync(out)) throw new UsageError(`${out} already exists: proofs are never overwritten.`);
  const source = sourceOf(values, rest, io);
  if (source.kind === 'file') throw new UsageError('prove reads a store (--db or --url), not a file.');
  const filter: AuditFilter = { requestId, ...(values.instance ? { instanceId: values.instance } : {}) };
  let text = '';
  let found = 0;
  await withStore(source, async (store) => {
    found = await store.count(filter);
    if (found === 0) return;
    // A filtered export: the record in full, the rest of its stretch between two signed checkpoints as hashes.
    for await (const line of exportLines(store, filter)) text += toJsonLine(line);
  });
  if (found === 0) {
    io.err(`No audit record has request id ${JSON.stringify(requestId)}${values.instance ? ` in chain ${values.instance}` : ''}.`);
    return 1;
  }
  writeFileSync(out, text, { flag: 'wx' });
  // Checked from the text just written (the same lines), not read back from disk.
  const report = await verifyExportLines(text.split('\n'));
  const c = report.chains[0];
  io.out(`Proof written to ${out}: ${found} record(s) in full, ${c ? `seq ${c.firstSeq}..${c.lastSeq} of chain ${c.instanceId}` : 'no chain'}.`);
  if (c && c.unsignedTail > 0) io.out('note: the record is not yet covered by a signed checkpoint; prove it again after the next one.');
  io.out(`Check it with: motlan audit verify --file ${values.out} --public-key <pinned key> --witness <witness>`);
  return report.ok ? 0 : 1;
}

async function keygenCmd(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({ args, options: { out: { type: 'string' } } });
  if (!values.out) throw new UsageError('--out FILE is required.');
  const k = generateSigningKey(path.resolve(io.cwd, values.out));
  io.out(`Signing key ${k.keyId} written to ${k.privatePath} (keep it secret; AUDIT_SIGNING_KEY=${k.privatePath}).`);
  io.out(`Public key: ${k.publicPath} (give it to auditors: motlan audit verify --public-key ${k.publicPath}).`);
  return 0;
}

export async function runAuditCli(argv: string[], io: CliIo): Promise<number> {
  const [cmd, ...args] = argv;
  const commands: Record<string, (a: string[], io: CliIo) => Promise<number>> = {
    verify: verifyCmd,
    export: exportCmd,
    archive: archiveCmd,
    keygen: keygenCmd,
    prove: proveCmd,
  };
  const run = cmd ? commands[cmd] : undefined;
  if (!run) {
    if (cmd === 'help' || cmd === '--help') {
      io.out(AUDIT_USAGE);
      return 0;
    }
    io.err(`${cmd ? `Unknown audit command "${cmd}".` : 'Missing audit command.'}\n\n${AUDIT_USAGE}`);
    return 2;
  }
  try {
    return await run(args, io);
  } catch (err) {
    const e = err as Error & { code?: string };
    if (err instanceof UsageError || e.code?.startsWith('ERR_PARSE_ARGS')) {
      io.err(`motlan audit ${cmd}: ${e.message}\n\n${AUDIT_USAGE}`);
      return 2;
    }
    if (/cannot open|ENOENT|ECONNREFUSED|does not exist|password authentication|not a database/i.test(e.message)) {
      io.err(`motlan audit ${cmd}: cannot read the source: ${e.message}`);
      return 2;
    }
    throw err;
  }
}

