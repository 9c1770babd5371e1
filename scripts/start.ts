/**
 * `npm start`: the whole mocked setup on one machine, as child processes: the mock
 * registries, the registry subgraphs and the gateway. Waits until each answers its
 * /health, prints the URLs and the DEMO credentials, forwards every child's output
 * with its name, and stops them all (whole process groups, so anything a child
 * spawned goes too) before exiting on Ctrl-C / SIGTERM / SIGHUP, when the npm process that
 * launched us or ITS parent dies (npm does not pass SIGTERM through `sh`: we watch the
 * launchers instead, scripts/launch-chain.ts), and when our output pipe closes (EPIPE,
 * e.g. `npm start | head`); each child also stops itself when this process is gone, even
 * killed with SIGKILL (scripts/supervised.mjs). If a child dies, the others are stopped and the exit code is
 * non-zero, naming it. A port browsers and fetch refuse (lib/bad-ports.ts) stops the start
 * at once (exit code 2).
 *
 * Environment (defaults in brackets):
 *   PORT [4000]                 gateway port; HOST [localhost] its interface
 *   SUBGRAPH_PORT_BASE [4001]   the registry subgraphs on base+0, +1, … in the order of REGISTRIES (lib/registries.ts)
 *   REGISTRY_PORT_BASE [4101]   the mock registries on base+0, +1, … in the same order
 *   REGISTRY_API_KEY [demo-registry-key]  service key between subgraphs and mock registries
 *   EID_PORT [4199]             the mock e-ID platform (development only; above the registries' 41xx range)
 *   SUBGRAPH_SIGNING_KEY_<NAME> key the gateway signs <NAME>'s requests with, given to that subgraph as
 *                               GATEWAY_SIGNING_KEY [development: <DATA_DIR>/subgraph-signing-<name>.dev.key,
 *                               generated once; production: required]
 *   DATA_DIR [./data]           audit database and development keys
 *   MOCK_SEED, MOCK_CITIZENS, MOCK_LATENCY_MS, MOCK_ERROR_RATE  passed to the mock registries; the
 *                               gateway gets SANDBOX_EXAMPLE_* naming records of that world (development)
 *   START_TIMEOUT_MS [180000]   how long a child may take to answer /health
 *   STOP_GRACE_MS [5000]        how long children get to exit before SIGKILL
 *   LOG_LEVEL [warn]            log level of every child (info shows each request)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { REGISTRIES, type RegistryName } from '../mocks/world/types.js';
import { DEFAULT_AS_OF, generateWorld } from '../mocks/world/generate.js';
import { pickExampleSubjects } from '../mocks/world/examples.js';
import { worldOptionsFromEnv } from '../mocks/registry/server.js';
import { exampleSubjectsToEnv } from '../gateway/sandbox/examples.js';
import { DEMO_REGISTRY_KEY } from '../lib/demo.js';
import { EnvReader } from '../lib/env-options.js';
import { NO_EGRESS_ENV } from '../lib/no-egress.js';
import { GATEWAY_KEY_ENV, gatewayKeyEnvOf, loadSubgraphKey } from '../lib/subgraph-keys.js';
import { badPortMessage } from '../lib/bad-ports.js';
import { launchChain, stillRunning } from './launch-chain.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DEMO_CLIENTS_FILE = path.join(ROOT, 'mocks/clients.demo.json');
/** Signals this close to the first one are the same Ctrl-C delivered twice. */
const DUPLICATE_SIGNAL_MS = 1500;
/** How often the launchers are checked (a missed parent costs at most this long). */
const LAUNCHER_POLL_MS = 500;

interface Settings {
  gatewayPort: number;
  gatewayHost: string;
  subgraphPorts: Record<RegistryName, number>;
  registryPorts: Record<RegistryName, number>;
  eidPort: number;
  registryApiKey: string;
  /** The key shared by the gateway and each subgraph (request signatures). */
  subgraphKeys: Record<RegistryName, string>;
  startTimeoutMs: number;
  stopGraceMs: number;
  production: boolean;
}

function readSettings(env: NodeJS.ProcessEnv): Settings {
  // The strict parser the gateway and the mocks use (lib/env-options.ts).
  const reader = new EnvReader(env);
  const portFrom = (name: string, fallback: number): number => reader.int(name, { min: 1, max: 65535 }) ?? fallback;
  const msFrom = (name: string, fallback: number): number => reader.number(name, { min: 0, exclusiveMin: true }) ?? fallback;
  const production = reader.string('NODE_ENV') === 'production';
  const dataDir = path.resolve(ROOT, reader.string('DATA_DIR') ?? 'data');
  // Same loader as the gateway and the subgraphs: production requires SUBGRAPH_SIGNING_KEY_<NAME>.
  const subgraphKeys = Object.fromEntries(
    REGISTRIES.map((r) => [
      r,
      loadSubgraphKey({ subgraph: r, value: reader.string(gatewayKeyEnvOf(r)), envName: gatewayKeyEnvOf(r), dataDir, production }).key.toString('utf8'),
    ]),
  ) as Record<RegistryName, string>;
  const subgraphBase = portFrom('SUBGRAPH_PORT_BASE', 4001);
  const registryBase = portFrom('REGISTRY_PORT_BASE', 4101);
  const byIndex = (base: number) => Object.fromEntries(REGISTRIES.map((r, i) => [r, base + i])) as Record<RegistryName, number>;
  const gatewayPort = portFrom('PORT', 4000);
  const eidPort = portFrom('EID_PORT', 4199);
  const subgraphPorts = byIndex(subgraphBase);
  const registryPorts = byIndex(registryBase);
  // A refused port would only show as a child that never answers its health check (fetch refuses it too).
  const uses: Array<[number, string]> = [
    [gatewayPort, `PORT=${env.PORT || gatewayPort} (the gateway)`],
    ...REGISTRIES.map((r, i): [number, string] => [subgraphPorts[r], `SUBGRAPH_PORT_BASE=${subgraphBase} + ${i} (the ${r} subgraph)`]),
    ...REGISTRIES.map((r, i): [number, string] => [registryPorts[r], `REGISTRY_PORT_BASE=${registryBase} + ${i} (the ${r} mock registry)`]),
    ...(production ? [] : [[eidPort, `EID_PORT=${eidPort} (the mock e-ID platform)`] as [number, string]]),
  ];
  for (const [port, what] of uses) {
    const bad = badPortMessage(port, what);
    if (bad) throw new Error(bad);
    if (port > 65535) throw new Error(`${what} is port ${port}, above 65535: choose a lower base.`);
  }
  return {
    gatewayPort,
    gatewayHost: reader.string('HOST') ?? 'localhost',
    subgraphPorts,
    registryPorts,
    eidPort,
    registryApiKey: reader.string('REGISTRY_API_KEY') ?? DEMO_REGISTRY_KEY,
    subgraphKeys,
    startTimeoutMs: msFrom('START_TIMEOUT_MS', 180_000),
    stopGraceMs: msFrom('STOP_GRACE_MS', 5_000),
    production,
  };
}

/** A process to run: `script` under tsx, with `env` on top of ours, healthy when every `healthUrls` answers 200. */
interface ChildSpec {
  name: string;
  script: string;
  env: Record<string, string>;
  healthUrls: string[];
}

/** Internal services are reached over IPv4 loopback: `localhost` may resolve to ::1 first. */
const INTERNAL_HOST = '127.0.0.1';

/** Where to reach a server bound to `host` from this machine. */
function probeHost(host: string): string {
  if (host === 'localhost' || host === '0.0.0.0' || host === '::') return INTERNAL_HOST;
  return host.includes(':') ? `[${host}]` : host;
}

function childSpecs(s: Settings): { registries: ChildSpec; eid: ChildSpec | null; subgraphs: ChildSpec[]; gateway: ChildSpec } {
  const registryUrl = (r: RegistryName) => `http://${INTERNAL_HOST}:${s.registryPorts[r]}`;
  const subgraphUrl = (r: RegistryName) => `http://${INTERNAL_HOST}:${s.subgraphPorts[r]}/graphql`;
  const registries: ChildSpec = {
    name: 'registries',
    script: 'mocks/registry/main.ts',
    env: {
      REGISTRY_HOST: INTERNAL_HOST,
      REGISTRY_API_KEY: s.registryApiKey,
      ...Object.fromEntries(REGISTRIES.map((r) => [`${r.toUpperCase()}_REGISTRY_PORT`, String(s.registryPorts[r])])),
    },
    healthUrls: REGISTRIES.map((r) => `${registryUrl(r)}/health`),
  };
  // The mock e-ID platform signs the citizens' subject tokens (clients with requireSubjectToken).
  const eidOrigin = `http://${INTERNAL_HOST}:${s.eidPort}`;
  const eid: ChildSpec | null = s.production
    ? null
    : { name: 'e-id', script: 'mocks/eid/main.ts', env: { EID_PORT: String(s.eidPort), HOST: INTERNAL_HOST }, healthUrls: [`${eidOrigin}/health`] };
  const subgraphs = REGISTRIES.map<ChildSpec>((r) => ({
    name: r,
    script: `subgraphs/${r}/main.ts`,
    // The mocked registries describe the world as of DEFAULT_AS_OF (expired cards, released mortgages).
    env: {
      PORT: String(s.subgraphPorts[r]),
      HOST: INTERNAL_HOST,
      REGISTRY_URL: registryUrl(r),
      REGISTRY_API_KEY: s.registryApiKey,
      TODAY: DEFAULT_AS_OF,
      [GATEWAY_KEY_ENV]: s.subgraphKeys[r],
    },
    healthUrls: [`http://${INTERNAL_HOST}:${s.subgraphPorts[r]}/health`],
  }));
  const gateway: ChildSpec = {
    name: 'gateway',
    script: 'gateway/main.ts',
    env: {
      PORT: String(s.gatewayPort),
      HOST: s.gatewayHost,
      ...Object.fromEntries(REGISTRIES.map((r) => [`SUBGRAPH_URL_${r.toUpperCase()}`, subgraphUrl(r)])),
      // The cache follows each registry's change feed (gateway/cache, docs/CACHE.md).
      ...Object.fromEntries(REGISTRIES.map((r) => [`REGISTRY_URL_${r.toUpperCase()}`, registryUrl(r)])),
      REGISTRY_API_KEY: s.registryApiKey,
      // The gateway signs each subgraph's requests with that subgraph's key.
      ...Object.fromEntries(REGISTRIES.map((r) => [gatewayKeyEnvOf(r), s.subgraphKeys[r]])),
      ...(eid ? { SUBJECT_TOKEN_JWKS_URL: `${eidOrigin}/.well-known/jwks.json` } : {}),
    },
    healthUrls: [`http://${probeHost(s.gatewayHost)}:${s.gatewayPort}/health`],
  };
  return { registries, eid, subgraphs, gateway };
}

/**
 * SANDBOX_EXAMPLE_* for the gateway: records of the world the mock registries serve
 * (same MOCK_SEED and MOCK_CITIZENS, so the same world), for the sandbox's tabs. The
 * gateway never loads the generator; we generate while the registries boot.
 */
function sandboxExampleEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  return exampleSubjectsToEnv(pickExampleSubjects(generateWorld(worldOptionsFromEnv(env))));
}

// ---------------------------------------------------------------------------
// Output

const useColor = process.stdout.isTTY === true && !process.env.NO_COLOR;
const PALETTE = [36, 35, 33, 32, 34, 96, 95];
const paint = (code: number, text: string) => (useColor ? `\x1b[${code}m${text}\x1b[0m` : text);
const NAME_WIDTH = Math.max(...['registries', 'e-id', 'gateway', 'start', ...REGISTRIES].map((n) => n.length));

/** Set when a write to our stdout or stderr failed (the reader went away): nothing is written any more. */
let outputClosed = false;

function write(to: NodeJS.WriteStream, text: string): void {
  if (!outputClosed && !to.destroyed) to.write(text);
}

function say(message: string): void {
  const prefix = paint(1, 'start'.padEnd(NAME_WIDTH));
  for (const line of message.split('\n')) write(process.stdout, `${prefix} │ ${line}\n`);
}

function forward(stream: NodeJS.ReadableStream, prefix: string, to: NodeJS.WriteStream): void {
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  lines.on('line', (line) => write(to, `${prefix} │ ${line}\n`));
}

// ---------------------------------------------------------------------------
// Children

interface Running {
  spec: ChildSpec;
  child: ChildProcess;
  /** Resolves with how the child process ended. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * tsx as a loader in our own node, not its CLI: no wrapper process between us and the
 * service (the CLI relays signals to its child and SIGKILLs it 60 ms later on a busy machine).
 */
const TSX_IMPORT = ['--import', 'tsx'];
/** Preloaded into every child: it stops itself when this process is gone, even killed with SIGKILL. */
const SUPERVISED = pathToFileURL(path.join(ROOT, 'scripts/supervised.mjs')).href;

const running: Running[] = [];
let colorIndex = 0;

function launch(spec: ChildSpec): Running {
  const script = path.join(ROOT, spec.script);
  if (!existsSync(script)) throw new Error(`Cannot start ${spec.name}: ${spec.script} does not exist.`);
  const child = spawn(process.execPath, [...TSX_IMPORT, script], {
    cwd: ROOT,
    // Request logs at info level would drown the summary; LOG_LEVEL=info brings them back.
    // NO_EGRESS_ENV last: no child may turn Apollo's telemetry back on (docs/SECURITY.md, "No egress").
    env: {
      ...process.env,
      LOG_LEVEL: process.env.LOG_LEVEL || 'warn',
      ...spec.env,
      ...NO_EGRESS_ENV,
      MOTLAN_SUPERVISOR_PID: String(process.pid),
      NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import ${SUPERVISED}`.trim(),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Own process group: we can signal the child and anything it spawned together, and a
    // terminal's Ctrl-C reaches only us, so shutdown happens in our order.
    detached: true,
  });
  const prefix = paint(PALETTE[colorIndex++ % PALETTE.length]!, spec.name.padEnd(NAME_WIDTH));
  forward(child.stdout!, prefix, process.stdout);
  forward(child.stderr!, prefix, process.stderr);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', (err) => {
      write(process.stderr, `${prefix} │ could not start: ${err.message}\n`);
      resolve({ code: 1, signal: null });
    });
  });
  const entry: Running = { spec, child, exited };
  running.push(entry);
  say(`started ${spec.name} (pid ${child.pid})`);
  return entry;
}

/** A child died on its own: the run cannot go on. */
class ChildDied extends Error {
  constructor(
    readonly childName: string,
    readonly how: string,
  ) {
    super(`${childName} exited ${how}`);
  }
}

function describeExit(e: { code: number | null; signal: NodeJS.Signals | null }): string {
  return e.signal ? `on signal ${e.signal}` : `with code ${e.code}`;
}

/** Polls each health URL until it answers 200; fails as soon as the child exits or the deadline passes. */
async function waitHealthy(r: Running, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let died: string | null = null;
  void r.exited.then((e) => (died = describeExit(e)));
  for (const url of r.spec.healthUrls) {
    let last = 'no answer yet';
    for (;;) {
      if (died) throw new ChildDied(r.spec.name, `exited ${died} before answering ${url}`);
      if (Date.now() >= deadline) throw new ChildDied(r.spec.name, `did not answer ${url} within ${timeoutMs} ms (${last})`);
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
        await res.body?.cancel();
        if (res.status === 200) break;
        last = `HTTP ${res.status}`;
      } catch (err) {
        const cause = (err as Error).cause;
        last = cause instanceof Error ? cause.message : (err as Error).message;
      }
      await sleep(250);
    }
  }
}

function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the whole group is already gone.
  }
}

let stopping: Promise<void> | null = null;

/** SIGTERM to every group, SIGKILL to any group still alive after the grace period; resolves when all are gone. */
function stopAll(graceMs: number): Promise<void> {
  stopping ??= (async () => {
    const pids = running.map((r) => r.child.pid).filter((p): p is number => p !== undefined);
    for (const pid of pids) signalGroup(pid, 'SIGTERM');
    const deadline = Date.now() + graceMs;
    while (pids.some(groupAlive) && Date.now() < deadline) await sleep(50);
    const stubborn = pids.filter(groupAlive);
    for (const pid of stubborn) {
      const name = running.find((r) => r.child.pid === pid)?.spec.name;
      say(`${name} did not stop within ${graceMs} ms: killing it`);
      signalGroup(pid, 'SIGKILL');
    }
    const hardDeadline = Date.now() + 2000;
    while (pids.some(groupAlive) && Date.now() < hardDeadline) await sleep(50);
    // Let the output of the last lines drain before we exit.
    await Promise.race([Promise.all(running.map((r) => r.exited)), sleep(500)]);
  })();
  return stopping;
}

function forceKillAll(): void {
  for (const r of running) if (r.child.pid) signalGroup(r.child.pid, 'SIGKILL');
}

// ---------------------------------------------------------------------------
// Demo credentials

interface DemoLine {
  label: string;
  key: string;
}

async function demoClientKeys(): Promise<DemoLine[]> {
  if (!existsSync(DEMO_CLIENTS_FILE)) return [];
  try {
    const { ClientRegistry } = await import('../gateway/auth/clients.js');
    return ClientRegistry.readFile(DEMO_CLIENTS_FILE).flatMap((c) =>
      c.demo
        ? c.keys.filter((k) => k.key !== undefined).map((k) => ({ label: `${c.name} — ${c.agency} (client "${c.id}", roles ${c.roles.join(', ')})`, key: k.key as string }))
        : [],
    );
  } catch (err) {
    say(`could not read the demo clients from ${path.relative(ROOT, DEMO_CLIENTS_FILE)}: ${(err as Error).message}`);
    return [];
  }
}

async function printSummary(s: Settings): Promise<void> {
  // A wildcard bind is reachable as localhost; any other host is shown as bound.
  const host = s.gatewayHost === '0.0.0.0' || s.gatewayHost === '::' ? 'localhost' : s.gatewayHost;
  const gw = `http://${host.includes(':') ? `[${host}]` : host}:${s.gatewayPort}`;
  const out: string[] = [
    '',
    paint(1, 'Motlan is running (mocked registries).'),
    `  Gateway     ${gw}/graphql`,
    `  Sandbox     ${gw}/`,
    `  Console     ${gw}/console/   (auditors and operators)`,
    `  Health      ${gw}/health   ${gw}/ready   ${gw}/metrics`,
    '  Subgraphs   ' + REGISTRIES.map((r) => `${r.padEnd(10)} http://${INTERNAL_HOST}:${s.subgraphPorts[r]}/graphql`).join('\n              '),
    '  Registries  ' + REGISTRIES.map((r) => `${r.padEnd(10)} http://${INTERNAL_HOST}:${s.registryPorts[r]}`).join('\n              '),
    '              (subgraphs answer only requests the gateway signed: SUBGRAPH_SIGNING_KEY_<NAME> / GATEWAY_SIGNING_KEY, docs/SECURITY.md)',
    ...(s.production ? [] : [`  e-ID (mock) http://${INTERNAL_HOST}:${s.eidPort}   subject tokens for clients that require them (see docs/SECURITY.md)`]),
    '',
  ];
  if (s.production) {
    out.push('  NODE_ENV=production: demo credentials are refused; use the keys of your clients file.');
  } else {
    const clients = await demoClientKeys();
    out.push(paint(33, '  DEMO credentials — development only, public, refused when NODE_ENV=production:'));
    if (clients.length === 0) out.push('    (no demo client keys found in mocks/clients.demo.json)');
    for (const c of clients) out.push(`    ${c.label}`, `      Authorization: Bearer ${c.key}`);
    out.push(`    Mock registry service key (subgraph → registry): X-API-Key: ${s.registryApiKey}`);
  }
  out.push('', `  Open the sandbox at ${gw}/ and run the first tab. Press Ctrl-C to stop everything.`, '');
  for (const line of out) say(line);
}

// ---------------------------------------------------------------------------
// Main

async function main(): Promise<number> {
  let settings: Settings;
  try {
    settings = readSettings(process.env);
  } catch (err) {
    process.stderr.write(`npm start: ${(err as Error).message}\n`);
    return 2;
  }
  const specs = childSpecs(settings);

  let interrupted: NodeJS.Signals | null = null;
  let interruptedAt = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) {
      // One Ctrl-C often arrives twice (the terminal signals the whole foreground
      // group, and npm and tsx forward it as well): only a later one means "hurry".
      if (Date.now() - interruptedAt < DUPLICATE_SIGNAL_MS) return;
      say(`${signal} again: killing everything now`);
      forceKillAll();
      process.exit(1);
    }
    interrupted = signal;
    interruptedAt = Date.now();
    say(`${signal} received: stopping…`);
    void stopAll(settings.stopGraceMs).then(() => {
      say('all stopped');
      process.exit(0);
    });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);

  // The end of the run is not always a signal to us: stop when a launcher is gone or nobody reads our output.
  const endRun = (why: string) => {
    if (interrupted) return;
    interrupted = 'SIGTERM';
    interruptedAt = Date.now();
    say(`${why}: stopping…`);
    void stopAll(settings.stopGraceMs).then(() => process.exit(outputClosed ? 1 : 0));
  };
  const launchers = launchChain();
  const watch = setInterval(() => {
    const gone = launchers.find((w) => !stillRunning(w));
    if (gone) {
      clearInterval(watch);
      endRun(`the process that launched us (pid ${gone.pid}: ${gone.command || 'unknown'}) is gone`);
    }
  }, LAUNCHER_POLL_MS);
  watch.unref();
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      // EPIPE: the reader went away (`npm start | head`, a closed terminal). Without this handler
      // the error would kill us and leave every child running in its own process group.
      outputClosed = true;
      endRun(`output closed (${err.code ?? err.message})`);
    });
  }

  // A child dying after startup ends the run too: a half-running stack misleads.
  const watchForDeath = (r: Running) =>
    void r.exited.then((e) => {
      if (interrupted || stopping) return;
      say(paint(31, `✖ ${r.spec.name} exited ${describeExit(e)}: stopping the others`));
      void stopAll(settings.stopGraceMs).then(() => process.exit(1));
    });

  try {
    // Every child at once: none needs another to start (a subgraph reaches its registry per
    // request, the gateway reads the supergraph file), so startup takes as long as the slowest
    // child, not the sum of registries, subgraphs and gateway one after the other.
    const started = [specs.registries, ...(specs.eid ? [specs.eid] : []), ...specs.subgraphs].map(launch);
    // Generated while those compile. Production shows placeholders (its sandbox refuses SANDBOX_EXAMPLE_*).
    if (!settings.production) Object.assign(specs.gateway.env, sandboxExampleEnv(process.env));
    started.push(launch(specs.gateway));
    await Promise.all(started.map((r) => waitHealthy(r, settings.startTimeoutMs)));
    // Ctrl-C during startup: the signal handler is stopping everything; wait for it.
    if (interrupted) return new Promise<number>(() => undefined);
    for (const r of running) watchForDeath(r);
  } catch (err) {
    if (interrupted) return new Promise<number>(() => undefined);
    const name = err instanceof ChildDied ? err.childName : 'start';
    say(paint(31, `✖ ${err instanceof ChildDied ? `${err.childName} ${err.how}` : (err as Error).message}`));
    await stopAll(settings.stopGraceMs);
    write(process.stderr, `npm start failed: ${name} did not start (see its output above).\n`);
    return 1;
  }
  await printSummary(settings);
  return new Promise<number>(() => {
    // Runs until a signal or a child's death calls process.exit.
  });
}

process.exitCode = await main();
process.exit();
