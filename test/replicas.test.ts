/**
 * Two gateway replicas behind a real load balancer (Debian's HAProxy), on one
 * PostgreSQL audit store and one Redis, as an operator scales out: separate processes
 * configured by the environment, health-checked by `GET /ready`. First, a replica
 * that is alive but not ready (its own land subgraph gone) is drained by its 503 and
 * taken back once ready again; no request goes to it meanwhile. Then, under load from
 * several clients (purpose-bound queries and prefills), one replica is killed with
 * SIGKILL and the clients keep sending. Then:
 *
 * - every response a client received with data has its audit record, found by its
 *   X-Request-Id through the surviving replica's auditor API (the store is shared);
 * - every chain verifies with `motlan audit verify` against PostgreSQL, signatures
 *   pinned to each replica's public key, against witnessed checkpoints (both replicas'
 *   witness files, the survivor's /audit/v1/checkpoints/latest saved and as a URL);
 *   and the killed replica's chain cut back by an insider fails against the
 *   survivor's witness file alone;
 * - the balancer takes the dead replica out: HAProxy's stats show it DOWN, and every
 *   request sent after the kill is answered with data (HAProxy's own retries and
 *   redispatch only; the clients never retry), by the survivor. Only requests in
 *   flight on the killed replica go unanswered (the connection closes, no data).
 *
 * Needs /usr/sbin/haproxy, PostgreSQL (AUDIT_TEST_DATABASE_URL, default the `test`
 * database on 127.0.0.1) and Redis (REDIS_URL, default 127.0.0.1:6379): skipped with
 * the reason when one is missing, except under CI, where that fails.
 */
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../gateway/options.js';
import { PG_TEST_URL, testSigner, uniqueSchema } from './support/audit-testing.js';
import { REGISTRIES } from '../mocks/world/types.js';
import { gatewayKeyEnvOf } from '../lib/subgraph-keys.js';
import { PREFILL_QUERY } from './support/prefill-support.js';
import { eventually, replicasUnavailable, startBackends, startHaproxy, startReplica, type Backends, type Haproxy, type Replica } from './support/replicas.js';

const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
const unavailable = await replicasUnavailable(PG_TEST_URL, REDIS_URL);
if (unavailable) console.warn(`[replicas] skipping the HAProxy replicas test: ${unavailable}`);

/** Concurrent clients, and a hard bound on the requests they send in all. */
const CLIENTS = 8;
const MAX_REQUESTS = 1200;
/** Responses with data before the kill, and after the balancer reports the dead replica DOWN. */
const BEFORE_KILL = 100;
const AFTER_DOWN = 100;
const PROCEDURE = 'lodging-notification';
const CITIZEN_QUERY = 'query Citizen($personalId: ID!) { citizen(personalId: $personalId) { fullName permanentResidence { fullAddress } } }';

/** When a request was sent: while a live replica was drained, or relative to the SIGKILL. */
type Phase = 'drained' | 'before-kill' | 'killing' | 'after-exit' | 'after-down';
interface Sent {
  n: number;
  kind: 'query' | 'prefill';
  phase: Phase;
  status: number | null;
  requestId: string | null;
  withData: boolean;
  error?: string;
}

interface AuditRecordJson {
  instanceId: string;
  requestId: string;
  httpStatus: number;
  outcome: string;
  procedureId: string | null;
}

interface Demo {
  clientKey: string;
  auditorKey: string;
}

/** The demo keys this test uses: a TTHC client without consent tokens or explore rights, and the auditor. */
/** A clients file without clients (an explicitly set CLIENTS_FILE must exist). */
function emptyClientsFile(dir: string): string {
  const file = path.join(dir, 'clients.json');
  writeFileSync(file, JSON.stringify({ clients: [] }));
  return file;
}

function demoKeys(): Demo {
  const file = JSON.parse(readFileSync(path.join(REPO_ROOT, 'mocks', 'clients.demo.json'), 'utf8')) as {
    clients: Array<{ roles: string[]; permissions?: string[]; requireSubjectToken?: boolean; keys: Array<{ key: string }> }>;
  };
  const client = file.clients.find((c) => c.roles.includes('client') && !c.requireSubjectToken && !(c.permissions ?? []).includes('explore'));
  const auditor = file.clients.find((c) => c.roles.includes('auditor'));
  if (!client || !auditor) throw new Error('mocks/clients.demo.json must have a plain client and an auditor.');
  return { clientKey: client.keys[0]!.key, auditorKey: auditor.keys[0]!.key };
}

/** `motlan …` as an auditor runs it, in a child process; `env` on top of PATH only. */
function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(REPO_ROOT, 'bin', 'motlan.mjs'), ...args], { cwd: REPO_ROOT, env: { PATH: process.env.PATH, ...env } }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
      resolve({ code, out: `${stdout}${stderr}` });
    });
  });
}

describe.skipIf(unavailable !== null)(`two replicas behind HAProxy${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'motlan-replicas-'));
  const schema = uniqueSchema('replicas');
  const redisPrefix = `motlan:test:replicas:${randomUUID()}`;
  const ids = ['gw-a', 'gw-b'] as const;
  const keys = ids.map(() => testSigner());
  /** Each replica's witness file, apart from its data directory (another disk, in production). */
  const witnessFile = (id: string) => path.join(dir, `witness-${id}`, 'audit-witness.jsonl');
  let backends: Backends | undefined;
  const replicas: Replica[] = [];
  let haproxy: Haproxy | undefined;
  let demo: Demo;
  let personalIds: string[];
  /** gw-a's own land subgraph: closing it makes gw-a alone not ready. */
  let privateLand: { url: string; port: number; close(): Promise<void> } | undefined;

  beforeAll(async () => {
    demo = demoKeys();
    backends = await startBackends({ citizens: 200 });
    personalIds = backends.world.citizens.filter((c) => !c.dateOfDeath).slice(0, 80).map((c) => c.personalId);
    privateLand = await backends.startSubgraph('land');
    const hmacKey = randomBytes(32).toString('hex');
    // The shared cache in Redis under this run's own prefix (other runs use the same Redis).
    const cacheConfig = path.join(dir, 'cache.json');
    const cacheDefaults = JSON.parse(readFileSync(path.join(REPO_ROOT, 'config', 'cache.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(cacheConfig, JSON.stringify({ ...cacheDefaults, redisKeyPrefix: `${redisPrefix}:cache:` }));

    const started = await Promise.all(
      ids.map((id, i) => {
        const dataDir = path.join(dir, id);
        mkdirSync(dataDir);
        const signingKey = path.join(dataDir, 'audit-signing-key.pem');
        writeFileSync(signingKey, keys[i]!.privateKeyPem, { mode: 0o600 });
        writeFileSync(path.join(dir, `${id}.pub.pem`), keys[i]!.publicKeyPem);
        const env: NodeJS.ProcessEnv = {
          // Only what a replica needs: nothing of the test runner's environment leaks in.
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          NODE_ENV: 'development',
          LOG_LEVEL: 'info',
          DATA_DIR: dataDir,
          CLIENTS_FILE: emptyClientsFile(dataDir), // no client of its own: demo clients only
          AUDIT_DATABASE_URL: PG_TEST_URL,
          AUDIT_DATABASE_SCHEMA: schema,
          AUDIT_SIGNING_KEY: signingKey,
          AUDIT_HMAC_KEY: hmacKey,
          // Signed checkpoints also go outside the store: this replica's own and the other chains' it sees.
          AUDIT_WITNESS_FILE: witnessFile(id),
          AUDIT_CHECKPOINT_EVERY: '25',
          AUDIT_CHECKPOINT_INTERVAL_MS: '1000',
          REDIS_URL,
          RATE_LIMIT_KEY_PREFIX: `${redisPrefix}:rl`,
          // The load is the test's own; budgets are tested elsewhere.
          RATE_LIMIT_PER_SECOND: '10000',
          RATE_LIMIT_BURST: '10000',
          CACHE_CONFIG: cacheConfig,
          ...Object.fromEntries(REGISTRIES.map((name) => [`SUBGRAPH_URL_${name.toUpperCase()}`, backends!.subgraphUrls[name]])),
          ...Object.fromEntries(REGISTRIES.map((name) => [gatewayKeyEnvOf(name), backends!.signingKeys[name]])),
          ...(id === 'gw-a' ? { SUBGRAPH_URL_LAND: privateLand!.url } : {}),
        };
        return startReplica(id, env).then((r) => (replicas.push(r), r));
      }),
    );
    haproxy = await startHaproxy(
      dir,
      started.map((r) => ({ name: r.instanceId, port: r.port })),
    );
    await eventually(
      'HAProxy to report both replicas UP by their /ready',
      async () => {
        const servers = await haproxy!.servers();
        return servers.length === 2 && servers.every((s) => s.status === 'UP') ? servers : undefined;
      },
      30_000,
    );
  }, 90_000);

  afterAll(async () => {
    await haproxy?.stop().catch(() => undefined);
    for (const r of replicas) if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL');
    await Promise.all(replicas.map((r) => r.exited));
    await privateLand?.close().catch(() => undefined);
    await backends?.close().catch(() => undefined);
    const db = new pg.Client({ connectionString: PG_TEST_URL });
    await db.connect().then(
      () => db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`),
      () => undefined,
    );
    await db.end().catch(() => undefined);
    const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
    redis.on('error', () => undefined);
    try {
      await redis.connect();
      const found = await redis.keys(`${redisPrefix}*`);
      if (found.length) await redis.del(...found);
    } catch {
      /* nothing to clean */
    } finally {
      redis.disconnect();
    }
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  /** One client request through the balancer: a purpose-bound query (even n) or a prefill (odd n). Never retried. */
  const send = async (n: number, phase: Phase): Promise<Sent> => {
    const kind = n % 2 === 0 ? 'query' : 'prefill';
    const personalId = personalIds[n % personalIds.length]!;
    const entry: Sent = { n, kind, phase, status: null, requestId: null, withData: false };
    const headers: Record<string, string> = { 'content-type': 'application/json', authorization: `Bearer ${demo.clientKey}` };
    let body: string;
    if (kind === 'query') {
      headers['x-purpose'] = PROCEDURE;
      body = JSON.stringify({ query: CITIZEN_QUERY, variables: { personalId } });
    } else {
      body = JSON.stringify({ query: PREFILL_QUERY, variables: { procedureId: PROCEDURE, subject: { personalId }, dossierId: `H01.01-RPL-${String(n).padStart(4, '0')}` } });
    }
    try {
      const res = await fetch(`${haproxy!.url}/graphql`, { method: 'POST', headers, body });
      const text = await res.text();
      entry.status = res.status;
      entry.requestId = res.headers.get('x-request-id');
      if (res.status === 200) {
        const json = JSON.parse(text) as { data?: Record<string, unknown> | null };
        entry.withData = json.data != null && Object.values(json.data).some((v) => v != null);
      }
    } catch (err) {
      const cause = (err as Error & { cause?: { code?: string; message?: string } }).cause;
      entry.error = `${(err as Error).message}${cause ? ` (${cause.code ?? cause.message})` : ''}`;
    }
    return entry;
  };

  /** The record of a response, read through `replica`'s auditor API; null when there is none. */
  const recordOf = async (replica: Replica, requestId: string): Promise<AuditRecordJson | null> => {
    const res = await fetch(`${replica.url}/audit/v1/requests/${encodeURIComponent(requestId)}`, { headers: { authorization: `Bearer ${demo.auditorKey}` } });
    if (res.status === 404) return null;
    if (res.status !== 200) throw new Error(`The auditor API answered HTTP ${res.status} for ${requestId}: ${(await res.text()).slice(0, 200)}`);
    return ((await res.json()) as { record: AuditRecordJson }).record;
  };

  const server = async (name: string) => (await haproxy!.servers()).find((s) => s.name === name);

  it('drains a live replica whose /ready fails, and takes it back once it is ready', async () => {
    const [drained, other] = [...replicas].sort((a, b) => a.instanceId.localeCompare(b.instanceId)) as [Replica, Replica];
    // gw-a's own land subgraph goes away: gw-a is alive but not ready (the queries here need only population).
    const { port } = privateLand!;
    await privateLand!.close();
    privateLand = undefined;
    const ready = await fetch(`${drained.url}/ready`);
    expect(ready.status).toBe(503);
    expect(JSON.stringify(await ready.json())).toContain('subgraph land');
    const down = await eventually(`HAProxy to mark ${drained.instanceId} DOWN by its /ready`, async () => {
      const s = await server(drained.instanceId);
      return s?.status.startsWith('DOWN') ? s : undefined;
    });
    expect(down.checkStatus).toBe('L7STS'); // an HTTP answer with a bad status: /ready's 503

    const answered: Sent[] = [];
    for (let n = 0; n < 24; n += 4) answered.push(...(await Promise.all([0, 1, 2, 3].map((i) => send(n + i, 'drained')))));
    expect(answered.filter((s) => !s.withData)).toEqual([]);
    for (const s of answered) expect((await recordOf(other, s.requestId!))?.instanceId, `request ${s.n}`).toBe(other.instanceId);

    privateLand = await backends!.startSubgraph('land', port);
    await eventually(`HAProxy to take ${drained.instanceId} back`, async () => ((await server(drained.instanceId))?.status === 'UP' ? true : undefined));
  }, 60_000);

  it('loses no record, verifies every chain, and drains the killed replica', async () => {
    const startedAt = Date.now();
    const lb = haproxy!;
    const [victim, survivor] = [...replicas].sort((a, b) => a.instanceId.localeCompare(b.instanceId)) as [Replica, Replica];
    await eventually('both replicas UP before the load', async () => ((await lb.servers()).every((x) => x.status === 'UP') ? true : undefined));
    const sent: Sent[] = [];
    let phase: Phase = 'before-kill';
    let next = 100;
    let stop = false;

    const client = async () => {
      while (!stop && next < MAX_REQUESTS) sent.push(await send(next++, phase));
    };
    const clients = Array.from({ length: CLIENTS }, client);
    const withData = (p?: Phase) => sent.filter((s) => s.withData && (p === undefined || s.phase === p)).length;

    await eventually(`${BEFORE_KILL} responses with data before the kill`, async () => (withData('before-kill') >= BEFORE_KILL ? true : next >= MAX_REQUESTS ? false : undefined), 60_000);
    expect(withData('before-kill')).toBeGreaterThanOrEqual(BEFORE_KILL);

    phase = 'killing';
    victim.child.kill('SIGKILL');
    expect((await victim.exited).signal).toBe('SIGKILL');
    phase = 'after-exit';
    const down = await eventually(
      `HAProxy to mark ${victim.instanceId} DOWN`,
      async () => {
        const s = (await lb.servers()).find((x) => x.name === victim.instanceId);
        return s && s.status.startsWith('DOWN') ? s : undefined;
      },
      30_000,
    );
    phase = 'after-down';
    await eventually(`${AFTER_DOWN} responses with data after the drain`, async () => (withData('after-down') >= AFTER_DOWN ? true : next >= MAX_REQUESTS ? false : undefined), 60_000);
    stop = true;
    await Promise.all(clients);
    const loadDone = Date.now();

    // The balancer: the dead replica is DOWN (its check cannot even connect), the survivor UP by /ready.
    const servers = await lb.servers();
    expect(down.checkStatus).toMatch(/^L4/);
    expect(servers.find((s) => s.name === victim.instanceId)?.status).toMatch(/^DOWN/);
    expect(servers.find((s) => s.name === survivor.instanceId)).toMatchObject({ status: 'UP', checkStatus: 'L7OK' });

    // Requests in flight on the killed replica are cut off: HAProxy closes the client's keep-alive
    // connection without an answer, as a server would, so the client may retry (ours do not). Only
    // requests sent before the process was seen gone may be cut off (how many depends on how busy
    // the machine is while the kill lands); everything sent after that was answered with data.
    const cutOff = sent.filter((s) => s.status === null);
    for (const s of cutOff) expect(['before-kill', 'killing'], `request ${s.n}: ${s.error}`).toContain(s.phase);
    const afterKill = sent.filter((s) => s.phase === 'after-exit' || s.phase === 'after-down');
    expect(afterKill.filter((s) => !s.withData).map((s) => ({ n: s.n, status: s.status, error: s.error }))).toEqual([]);

    // Every response with data has its record, found through the survivor (one shared store).
    const answered = sent.filter((s) => s.withData);
    expect(answered.every((s) => typeof s.requestId === 'string' && s.requestId.length > 0)).toBe(true);
    const byInstance = new Map<string, number>();
    const missing: string[] = [];
    const queue = [...answered];
    const lookup = async () => {
      for (let s = queue.shift(); s; s = queue.shift()) {
        const record = await recordOf(survivor, s.requestId!);
        if (!record) {
          missing.push(s.requestId!);
          continue;
        }
        expect(record).toMatchObject({ requestId: s.requestId, httpStatus: 200, procedureId: PROCEDURE });
        expect(['OK', 'PARTIAL']).toContain(record.outcome);
        if (s.phase === 'after-down') expect(record.instanceId, `request ${s.n} after the drain`).toBe(survivor.instanceId);
        byInstance.set(record.instanceId, (byInstance.get(record.instanceId) ?? 0) + 1);
      }
    };
    await Promise.all(Array.from({ length: 8 }, lookup));
    expect(missing, 'responses with data but no audit record').toEqual([]);
    // Both replicas answered with data, the killed one's records included.
    expect(byInstance.get(victim.instanceId) ?? 0).toBeGreaterThan(0);
    expect(byInstance.get(survivor.instanceId) ?? 0).toBeGreaterThan(0);

    // What an auditor pins: the survivor's latest signed checkpoints, of every chain in the shared store.
    const latestUrl = `${survivor.url}/audit/v1/checkpoints/latest`;
    const latest = await fetch(latestUrl, { headers: { authorization: `Bearer ${demo.auditorKey}` } });
    expect(latest.status).toBe(200);
    const latestText = await latest.text();
    expect(new Set((JSON.parse(latestText) as { checkpoints: Array<{ instanceId: string }> }).checkpoints.map((c) => c.instanceId))).toEqual(new Set(ids));
    const pinned = path.join(dir, 'checkpoints-latest.json');
    writeFileSync(pinned, latestText);
    const publicKeys = ids.flatMap((id) => ['--public-key', path.join(dir, `${id}.pub.pem`)]);
    const source = ['--url', PG_TEST_URL, '--schema', schema];
    // The endpoint itself, while the survivor serves.
    const viaUrl = await runCli(['audit', 'verify', ...source, ...publicKeys, '--witness', latestUrl], { MOTLAN_AUDITOR_KEY: demo.auditorKey });
    expect(viaUrl.code, viaUrl.out).toBe(0);

    // A clean stop signs the survivor's tail; the killed replica's tail stays chained, covered by its witnessed heads.
    survivor.child.kill('SIGTERM');
    expect(await survivor.exited, survivor.output()).toEqual({ code: 0, signal: null });
    const witnesses = [witnessFile(victim.instanceId), witnessFile(survivor.instanceId), pinned].flatMap((w) => ['--witness', w]);
    const verify = await runCli(['audit', 'verify', ...source, ...publicKeys, ...witnesses, '--json']);
    expect(verify.code, verify.out).toBe(0);
    const report = JSON.parse(verify.out) as {
      ok: boolean;
      chains: Array<{ instanceId: string; ok: boolean; records: number; checkpointsVerified: number; unsignedTail: number; witnessVerified?: number; witnessedSeq?: number | null }>;
      warnings: string[];
    };
    expect(report.ok).toBe(true);
    // Pinned keys: no "checked against the keys stored with the data" caveat.
    expect(report.warnings.filter((w) => w.includes('--public-key'))).toEqual([]);
    expect(report.chains.find((c) => c.instanceId === survivor.instanceId)?.unsignedTail).toBe(0);
    for (const id of ids) {
      const chain = report.chains.find((c) => c.instanceId === id);
      expect(chain, `chain ${id}`).toMatchObject({ ok: true });
      expect(chain!.records).toBeGreaterThanOrEqual(byInstance.get(id) ?? 0);
      expect(chain!.checkpointsVerified).toBeGreaterThan(0);
      expect(chain!.witnessVerified ?? 0, `witnessed checkpoints of ${id}`).toBeGreaterThan(0);
    }

    // The killed replica's host (and its witness file) is gone; an insider cuts its chain back and
    // deletes its last stored checkpoint. The survivor's witness file still holds that checkpoint.
    const db = new pg.Client({ connectionString: PG_TEST_URL });
    await db.connect();
    let cutAt: number;
    try {
      const { rows } = await db.query<{ s: string }>(`SELECT max(seq) AS s FROM ${schema}.audit_checkpoints WHERE instance_id = $1`, [victim.instanceId]);
      cutAt = Number(rows[0]!.s);
      expect(cutAt).toBeGreaterThan(0);
      for (const table of ['audit_checkpoints', 'audit_subjects', 'audit_records']) {
        await db.query(`DELETE FROM ${schema}.${table} WHERE instance_id = $1 AND seq >= $2`, [victim.instanceId, cutAt]);
      }
    } finally {
      await db.end();
    }
    const tampered = await runCli(['audit', 'verify', ...source, ...publicKeys, '--witness', witnessFile(survivor.instanceId), '--json']);
    expect(tampered.code, tampered.out).toBe(1);
    const tamperedChain = (JSON.parse(tampered.out) as typeof report).chains.find((c) => c.instanceId === victim.instanceId);
    expect(tamperedChain?.ok, `chain ${victim.instanceId} cut back to seq ${cutAt - 1}`).toBe(false);
    // For the record (not a guarantee): what the store alone says about the same cut.
    const storeAlone = await runCli(['audit', 'verify', ...source, ...publicKeys]);

    // Nothing the replicas logged (info level, the whole run) names a citizen of the world.
    const everyId = backends!.world.citizens.map((c) => c.personalId);
    for (const r of replicas) {
      const log = r.log();
      expect(log.length).toBeGreaterThan(0);
      expect(everyId.filter((id) => log.includes(id)), `personal IDs in ${r.instanceId}'s log`).toEqual([]);
    }

    const statuses = new Map<string, number>();
    for (const s of sent) statuses.set(String(s.status ?? 'none'), (statuses.get(String(s.status ?? 'none')) ?? 0) + 1);
    console.info(
      `[replicas] sent ${sent.length} requests through HAProxy (${CLIENTS} clients; statuses ${JSON.stringify(Object.fromEntries(statuses))}); ` +
        `${answered.length} answered with data, ${answered.length - missing.length} records found ` +
        `(${[...byInstance].map(([k, v]) => `${k}: ${v}`).join(', ')}); ${cutOff.length} cut off by the kill; ` +
        `${afterKill.length} sent after the kill, all with data; ` +
        `${report.chains.length} chains verified with pinned keys and 3 witnesses (${report.chains.map((c) => `${c.instanceId}: ${c.records} records, ${c.checkpointsVerified} checkpoints, ${c.witnessVerified} witnessed up to seq ${c.witnessedSeq}, ${c.unsignedTail} unsigned`).join('; ')}); ` +
        `${victim.instanceId} cut back to seq ${cutAt - 1}: caught by ${survivor.instanceId}'s witness file (store alone: exit ${storeAlone.code}); ` +
        `load ${((loadDone - startedAt) / 1000).toFixed(1)} s, test ${((Date.now() - startedAt) / 1000).toFixed(1)} s`,
    );
  }, 150_000);
});
