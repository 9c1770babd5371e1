/**
 * Support for the replicas whole-stack test (test/replicas.test.ts): the mock
 * registries and subgraphs in-process on free ports, gateway replicas as separate
 * processes configured only by the environment (as an operator runs them), and
 * Debian's HAProxy in front of them, in the foreground, with its stats socket in a
 * temporary directory.
 *
 * Each replica runs `node --import tsx gateway/main.ts`: the entry of `npm run gateway`
 * without the tsx CLI's wrapper process, so SIGKILL hits the gateway itself rather
 * than a parent that would leave it running.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { perRegistry } from '../../lib/registries.js';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { REPO_ROOT } from '../../gateway/options.js';
import { postgresUnavailable } from './audit-testing.js';
import { startRegistries } from '../../mocks/registry/server.js';
import { REGISTRIES, type RegistryName, type World } from '../../mocks/world/types.js';
import { startSubgraph } from '../../subgraphs/index.js';
import { redisAnswers } from './security-fixtures.js';

export const HAPROXY_BIN = process.env.HAPROXY_BIN ?? '/usr/sbin/haproxy';
const HOST = '127.0.0.1';

/**
 * Null when HAProxy, PostgreSQL and Redis are all there; else why not (the test skips
 * with it). Under CI a missing piece throws: the test must run there.
 */
export async function replicasUnavailable(pgUrl: string, redisUrl: string): Promise<string | null> {
  const missing: string[] = [];
  if (!existsSync(HAPROXY_BIN)) missing.push(`HAProxy not installed at ${HAPROXY_BIN} (apt-get install haproxy)`);
  // postgresUnavailable throws under CI by itself.
  const pg = await postgresUnavailable(pgUrl);
  if (pg) missing.push(pg);
  if (!(await redisAnswers(redisUrl))) missing.push(`Redis not reachable at ${redisUrl}`);
  if (missing.length === 0) return null;
  const reason = missing.join('; ');
  if (process.env.CI) throw new Error(`${reason}: CI must run the replicas test.`);
  return reason;
}

/** A TCP port nothing listens on right now (for HAProxy's frontend, which cannot report a port 0 back). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  server.listen(0, HOST);
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface Backends {
  world: World;
  registryApiKey: string;
  /** Subgraph URLs by name, for SUBGRAPH_URL_<NAME>. */
  subgraphUrls: Record<RegistryName, string>;
  /** The key each subgraph checks the gateway's request signatures with, for SUBGRAPH_SIGNING_KEY_<NAME>. */
  signingKeys: Record<RegistryName, string>;
  /** One more subgraph over the same registry (e.g. private to one replica, to take it down alone); port 0 = free. Not closed by `close()`. */
  startSubgraph(name: RegistryName, port?: number): Promise<{ url: string; port: number; close(): Promise<void> }>;
  close(): Promise<void>;
}

/** The four mock registries and the four subgraphs, in this process, on free ports. */
export async function startBackends(opts: { citizens: number; seed?: number }): Promise<Backends> {
  const registryApiKey = 'replicas-registry-key';
  const registries = await startRegistries({
    seed: opts.seed ?? 20250701,
    citizens: opts.citizens,
    host: HOST,
    apiKey: registryApiKey,
    ports: perRegistry(() => 0),
    env: {},
  });
  // A fresh key per subgraph per run: the subgraphs refuse what the replicas did not sign.
  const signingKeys = Object.fromEntries(REGISTRIES.map((r) => [r, randomBytes(32).toString('hex')])) as Record<RegistryName, string>;
  const start = (name: RegistryName, port = 0) =>
    startSubgraph(name, {
      port,
      host: HOST,
      registryUrl: registries.urls[name],
      apiKey: registryApiKey,
      timeoutMs: 2000,
      logLevel: 'silent',
      gatewayKey: Buffer.from(signingKeys[name], 'utf8'),
    });
  const subgraphs: Array<{ close(): Promise<void> }> = [];
  try {
    const urls = {} as Record<RegistryName, string>;
    for (const name of REGISTRIES) {
      const s = await start(name);
      subgraphs.push(s);
      urls[name] = s.url;
    }
    return {
      world: registries.world,
      registryApiKey,
      subgraphUrls: urls,
      signingKeys,
      startSubgraph: start,
      close: async () => {
        for (const s of subgraphs) await s.close().catch(() => undefined);
        await registries.close();
      },
    };
  } catch (err) {
    for (const s of subgraphs) await s.close().catch(() => undefined);
    await registries.close();
    throw err;
  }
}

export interface Replica {
  instanceId: string;
  child: ChildProcess;
  /** Origin, e.g. http://127.0.0.1:41234 */
  url: string;
  port: number;
  /** Resolves with the exit code or signal once the process is gone. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The last lines the process wrote (stdout and stderr), for failure messages. */
  output(): string;
  /** Everything the process wrote (stdout and stderr): its log. */
  log(): string;
}

/**
 * Starts one gateway replica as a child process on a free port (PORT=0) and resolves
 * when it logs that it is listening. `env` is the whole configuration.
 */
export async function startReplica(instanceId: string, env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<Replica> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'gateway', 'main.ts')], {
    cwd: REPO_ROOT,
    env: { ...env, PORT: '0', HOST, INSTANCE_ID: instanceId },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const tail: string[] = [];
  const all: string[] = [];
  const keep = (line: string) => {
    all.push(line);
    tail.push(line);
    if (tail.length > 40) tail.shift();
  };
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  createInterface({ input: child.stderr! }).on('line', keep);
  const ready = new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      keep(line);
      const m = /Motlan gateway ready at (http:\/\/[^/\s]+)\/graphql/.exec(line);
      if (m) resolve(m[1]!);
    });
    void exited.then(({ code, signal }) => reject(new Error(`Replica ${instanceId} exited (${signal ?? code}) before it was ready:\n${tail.join('\n')}`)));
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    const url = await Promise.race([
      ready,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`Replica ${instanceId} did not log "ready" within ${timeoutMs} ms:\n${tail.join('\n')}`)), timeoutMs);
      }),
    ]);
    return { instanceId, child, url, port: Number(new URL(url).port), exited, output: () => tail.join('\n'), log: () => all.join('\n') };
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

export interface HaproxyServer {
  name: string;
  port: number;
}

export interface Haproxy {
  child: ChildProcess;
  /** Frontend origin, e.g. http://127.0.0.1:40001 */
  url: string;
  /** `show stat` of the backend's servers: status (UP, DOWN, …), last check's result (L7OK, L4CON…; HAProxy's "* " for a check in progress dropped), sessions sent to each. */
  servers(): Promise<Array<{ name: string; status: string; checkStatus: string; sessionsTotal: number }>>;
  output(): string;
  stop(): Promise<void>;
}

/**
 * The balancer's configuration: round robin over the replicas, health-checked by
 * `GET /ready` (a 503 takes a replica out), no idle server connections kept, and
 * HAProxy's own bounded retries with redispatch to another server when a connection
 * to a dead one fails.
 */
export function haproxyConfig(opts: { frontendPort: number; statsSocket: string; servers: HaproxyServer[] }): string {
  return [
    'global',
    `  stats socket ${opts.statsSocket} mode 600 level admin`,
    '  maxconn 512',
    '',
    'defaults',
    '  mode http',
    '  timeout connect 2s',
    '  timeout client 30s',
    '  timeout server 30s',
    '  timeout check 3s',
    '  retries 3',
    '  option redispatch 1',
    '',
    'frontend motlan',
    `  bind ${HOST}:${opts.frontendPort}`,
    '  default_backend gateways',
    '',
    'backend gateways',
    '  balance roundrobin',
    // A new server connection per request: a request is then never sent down an idle connection
    // to a replica that has just died (which HAProxy cannot retry, so it would close the client's
    // connection); a dead replica only refuses connections, which the retries redispatch.
    '  option http-server-close',
    '  option httpchk',
    '  http-check send meth GET uri /ready',
    '  http-check expect status 200',
    '  default-server check inter 500ms fall 2 rise 2',
    ...opts.servers.map((s) => `  server ${s.name} ${HOST}:${s.port}`),
    '',
  ].join('\n');
}

/** One command on HAProxy's stats socket; resolves with its whole answer. */
export async function haproxyCommand(socket: string, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const conn = net.createConnection(socket);
    let out = '';
    conn.setEncoding('utf8');
    conn.on('connect', () => conn.write(`${command}\n`));
    conn.on('data', (d: string) => (out += d));
    conn.on('end', () => resolve(out));
    conn.on('error', reject);
  });
}

/** Starts `haproxy -db` (foreground) with the generated configuration in `dir`. */
export async function startHaproxy(dir: string, servers: HaproxyServer[], timeoutMs = 20_000): Promise<Haproxy> {
  const frontendPort = await freePort();
  const statsSocket = path.join(dir, 'haproxy.sock');
  const configFile = path.join(dir, 'haproxy.cfg');
  writeFileSync(configFile, haproxyConfig({ frontendPort, statsSocket, servers }));
  const check = spawn(HAPROXY_BIN, ['-c', '-f', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  let checkOut = '';
  check.stdout!.on('data', (d: Buffer) => (checkOut += d.toString()));
  check.stderr!.on('data', (d: Buffer) => (checkOut += d.toString()));
  const [checkCode] = (await once(check, 'exit')) as [number | null];
  if (checkCode !== 0) throw new Error(`haproxy -c refused the generated configuration ${configFile}:\n${checkOut}`);

  const child = spawn(HAPROXY_BIN, ['-db', '-f', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = once(child, 'exit');

  const servers_ = async () => {
    const csv = await haproxyCommand(statsSocket, 'show stat');
    const [head, ...rows] = csv.trim().split('\n');
    const cols = head!.replace(/^# /, '').split(',');
    const at = (row: string[], name: string) => row[cols.indexOf(name)] ?? '';
    return rows
      .map((r) => r.split(','))
      .filter((r) => at(r, 'pxname') === 'gateways' && at(r, 'svname') !== 'BACKEND')
      .map((r) => ({ name: at(r, 'svname'), status: at(r, 'status'), checkStatus: at(r, 'check_status').replace(/^\* /, ''), sessionsTotal: Number(at(r, 'stot')) }));
  };

  // Ready when the stats socket answers (the frontend is bound by then).
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`haproxy exited (${child.exitCode}) at start:\n${output}`);
    try {
      await servers_();
      break;
    } catch (err) {
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`haproxy's stats socket did not answer within ${timeoutMs} ms (${(err as Error).message}):\n${output}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    child,
    url: `http://${HOST}:${frontendPort}`,
    servers: servers_,
    output: () => output,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Polls `probe` until it returns a value other than undefined, or fails after `timeoutMs` with `what`. */
export async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
