/**
 * `npm start` as a newcomer runs it: the real scripts/start.ts in its own process
 * group, on unusual free ports. It must print the URLs, serve the four-registry query
 * with the printed demo key, and leave no process behind after Ctrl-C (SIGINT to
 * the foreground process group, exactly what a terminal sends).
 *
 * No egress: every process of the run preloads test/support/egress-guard.mjs
 * (NODE_OPTIONS), which records and blocks any connection or DNS lookup to a
 * non-loopback address; after traffic (sandbox page, a query, a prefill) and the
 * stop, the record must hold none — with APOLLO_TELEMETRY_DISABLED NOT set by the
 * caller, so the stack has to disable Apollo's telemetry itself.
 *
 * Every process of a run inherits a unique MOTLAN_START_TEST marker, so the test
 * finds them all in /proc.
 *
 * The runs are independent (own ports, data directory and marker), so the tests run
 * concurrently, at most STARTS_AT_ONCE whole stacks at a time: while one run waits
 * for its processes to stop, another compiles.
 */
import { REGISTRIES } from '../lib/registries.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, type Server } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it, type TestContext } from 'vitest';
import { generateWorld } from '../mocks/world/generate.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SEED = 777;
const CITIZENS = 600;
/** Six services compile under tsx on a 2-core machine shared with other tests. */
const STARTUP_MS = 150_000;
/** Whole stacks starting at the same time (each is seven processes compiling under tsx). */
const STARTS_AT_ONCE = 2;

/** PIDs of live (non-zombie) processes whose environment carries `marker`. */
function processesWithMarker(marker: string): number[] {
  const needle = `MOTLAN_START_TEST=${marker}`;
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const status = readFileSync(`/proc/${entry}/status`, 'utf8');
      if (/^State:\s+Z/m.test(status)) continue;
      const environ = readFileSync(`/proc/${entry}/environ`, 'latin1');
      if (environ.split('\0').includes(needle)) found.push(Number(entry));
    } catch {
      // The process ended while we looked, or is not ours.
    }
  }
  return found;
}

async function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)));
  });
}

interface Ports {
  gateway: number;
  subgraphBase: number;
  registryBase: number;
  eid: number;
}

/** Port ranges handed to a run of this file: concurrent runs never get overlapping ones. */
const PORT_SPAN = 26;
const handedOut: number[] = [];

/** A gateway port, two bases of one free port per registry (consecutive) and the e-ID port, away from the defaults. */
async function freePorts(): Promise<Ports> {
  for (let attempt = 0; attempt < 50; attempt++) {
    // Below Linux's ephemeral range (32768+), where any process's outgoing connection can take a
    // port between our check and the child's listen.
    const base = 20_000 + Math.floor(Math.random() * (32_768 - 20_000 - PORT_SPAN));
    if (handedOut.some((b) => Math.abs(b - base) < PORT_SPAN)) continue;
    handedOut.push(base);
    const wanted = [base, ...REGISTRIES.map((_, i) => base + 1 + i), ...REGISTRIES.map((_, i) => base + 11 + i), base + 25];
    const free = await Promise.all(wanted.map(portFree));
    if (free.every(Boolean)) return { gateway: base, subgraphBase: base + 1, registryBase: base + 11, eid: base + 25 };
  }
  throw new Error(`Could not find ${2 + 2 * REGISTRIES.length} free ports for the npm start test.`);
}

const GUARD = path.join(ROOT, 'test/support/egress-guard.mjs');

interface GuardLine {
  pid: number;
  kind: string;
  target?: string;
  argv?: string[];
  stack?: string[];
}

function guardLines(file: string): GuardLine[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as GuardLine);
}

interface StartRun {
  child: ChildProcess;
  marker: string;
  /** Where the egress guard of every process of the run writes. */
  egressLog: string;
  dataDir: string;
  output: () => string;
  exited: Promise<number | null>;
  /** Every process holding the output pipes has closed them: all that was written has been read. */
  outputEnded: Promise<void>;
}

/** A slot for one whole stack (STARTS_AT_ONCE at a time), held until the test ends. */
let freeSlots = STARTS_AT_ONCE;
const waitingForSlot: Array<() => void> = [];
async function stackSlot(ctx: TestContext): Promise<void> {
  if (freeSlots > 0) freeSlots--;
  else await new Promise<void>((resolve) => waitingForSlot.push(resolve));
  ctx.onTestFinished(() => {
    const next = waitingForSlot.shift();
    if (next) next();
    else freeSlots++;
  });
}

/** Whatever happened, leave nothing running when the test ends: SIGKILL every process of the run. */
function killAfterTest(ctx: TestContext, run: StartRun): void {
  ctx.onTestFinished(() => {
    for (const pid of processesWithMarker(run.marker)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    rmSync(run.dataDir, { recursive: true, force: true });
  });
}

interface RunOptions {
  /** How to launch: `node` runs scripts/start.ts directly (as `npm start` does, without npm); `npm` runs `npm start`; `sh+npm` runs `npm start` under a shell that waits for it. Default node. */
  via?: 'node' | 'npm' | 'sh+npm';
  /** Variables on top of the run's environment. */
  env?: NodeJS.ProcessEnv;
}

function runStart(ctx: TestContext, ports: Ports, opts: RunOptions = {}): StartRun {
  const marker = randomUUID();
  // Development keys, the audit database and the guard's record: never in the repository's data/.
  const dataDir = mkdtempSync(path.join(tmpdir(), 'motlan-start-test-'));
  const egressLog = path.join(dataDir, 'egress.jsonl');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: String(ports.gateway),
    SUBGRAPH_PORT_BASE: String(ports.subgraphBase),
    REGISTRY_PORT_BASE: String(ports.registryBase),
    EID_PORT: String(ports.eid),
    DATA_DIR: dataDir,
    NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import ${GUARD}`.trim(),
    EGRESS_GUARD_LOG: egressLog,
    MOCK_SEED: String(SEED),
    MOCK_CITIZENS: String(CITIZENS),
    LOG_LEVEL: 'warn',
    NO_COLOR: '1',
    STOP_GRACE_MS: '8000',
    MOTLAN_START_TEST: marker,
    npm_config_update_notifier: 'false',
    ...opts.env,
  };
  delete env.NODE_ENV; // vitest sets NODE_ENV=test; the demo setup is what a newcomer runs
  // The stack must turn Apollo's telemetry off by itself (the test workers' setup sets these).
  for (const k of ['APOLLO_TELEMETRY_DISABLED', 'OTEL_SDK_DISABLED']) delete env[k];
  const via = opts.via ?? 'node';
  const [command, args] =
    via === 'node' ? [process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts/start.ts')]] : via === 'npm' ? ['npm', ['start']] : ['sh', ['-c', 'npm start & wait']];
  const child = spawn(command, args, {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // its own process group, like a shell job
  });
  let text = '';
  child.stdout!.on('data', (d: Buffer) => (text += d.toString('utf8')));
  child.stderr!.on('data', (d: Buffer) => (text += d.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const outputEnded = Promise.all([child.stdout!, child.stderr!].map((st) => new Promise<void>((resolve) => st.once('close', () => resolve())))).then(() => undefined);
  const run = { child, marker, egressLog, dataDir, output: () => text, exited, outputEnded };
  killAfterTest(ctx, run);
  return run;
}

async function waitForOutput(run: StartRun, pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
  const deadline = Date.now() + timeoutMs;
  let ended = false;
  void run.exited.then(() => (ended = true));
  while (Date.now() < deadline) {
    const m = run.output().match(pattern);
    if (m) return m;
    if (ended) throw new Error(`npm start exited before printing ${pattern}:\n${run.output().slice(-4000)}`);
    await sleep(200);
  }
  throw new Error(`npm start did not print ${pattern} within ${timeoutMs} ms:\n${run.output().slice(-4000)}`);
}

async function waitGone(marker: string, timeoutMs: number): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  let left = processesWithMarker(marker);
  while (left.length > 0 && Date.now() < deadline) {
    await sleep(100);
    left = processesWithMarker(marker);
  }
  return left;
}

describe.concurrent('npm start', () => {
  it(
    'starts everything, serves the four-registry query and a prefill with the demo key, connects nowhere outside, and leaves no process after Ctrl-C',
    async (ctx) => {
      const { expect } = ctx;
      await stackSlot(ctx);
      const ports = await freePorts();
      const run = runStart(ctx, ports);
      await waitForOutput(run, /Press Ctrl-C to stop/, STARTUP_MS);
      const out = run.output();
      const gateway = `http://127.0.0.1:${ports.gateway}`;
      expect(out).toContain(`Gateway     http://localhost:${ports.gateway}/graphql`);
      expect(out).toContain(`Sandbox     http://localhost:${ports.gateway}/`);
      for (let i = 0; i < 4; i++) {
        expect(out).toContain(`:${ports.subgraphBase + i}/graphql`);
        expect(out).toContain(`:${ports.registryBase + i}`);
      }
      expect(out).toMatch(/DEMO credentials/);
      const key = /Authorization: Bearer (\S+)/.exec(out)?.[1];
      expect(key, 'a demo key is printed').toBeTruthy();

      // The sandbox of the running gateway names a citizen the mock registries hold.
      const page = await (await fetch(`${gateway}/`)).text();
      const config = JSON.parse(/<script id="motlan-sandbox-config" type="application\/json">([\s\S]*?)<\/script>/.exec(page)![1]!);
      const { personalId } = JSON.parse(config.tabs[0].variables) as { personalId: string };
      const world = generateWorld({ seed: SEED, citizens: CITIZENS });
      const citizen = world.citizens.find((c) => c.personalId === personalId);
      expect(citizen, `the sandbox's example citizen ${personalId} exists in the world the registries serve`).toBeDefined();

      const res = await fetch(`${gateway}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body: JSON.stringify({ query: config.tabs[0].query, variables: { personalId } }),
      });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { data?: { citizen: Record<string, unknown> | null }; errors?: unknown[] };
      expect(body.errors).toBeUndefined();
      expect(body.data?.citizen?.fullName).toBe(citizen!.fullName);
      const social = world.socialInsurance.find((s) => s.personalId === personalId);
      expect((body.data?.citizen?.socialInsurance as { socialInsuranceNumber?: string } | null)?.socialInsuranceNumber ?? null).toBe(
        social?.socialInsuranceNumber ?? null,
      );
      const parcels = world.parcels.filter((p) => p.holders.some((h) => h.kind === 'CITIZEN' && h.personalId === personalId));
      expect((body.data?.citizen?.landParcels as unknown[]).length).toBe(parcels.length);

      // A prefill: the procedures' local subgraph over the four registries.
      const prefill = await fetch(`${gateway}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body: JSON.stringify({
          query: 'query P($s: SubjectInput!) { prefill(procedureId: "social-insurance-lump-sum", subject: $s) { fields { key } } }',
          variables: { s: { personalId } },
        }),
      });
      const prefilled = (await prefill.json()) as { data?: { prefill?: { fields: unknown[] } }; errors?: unknown[] };
      expect([prefill.status, prefilled.errors]).toEqual([200, undefined]);
      expect(prefilled.data?.prefill?.fields.length).toBeGreaterThan(0);
      // Apollo's own landing page (loaded from a CDN) is not served in its place.
      const landing = await fetch(`${gateway}/graphql`, { headers: { accept: 'text/html' } });
      expect(await landing.text()).not.toMatch(/apollographql\.com|cdn\./i);
      await (await fetch(`${gateway}/ready`)).body?.cancel();

      const before = processesWithMarker(run.marker);
      // start.ts and the 6 services.
      expect(before.length).toBeGreaterThanOrEqual(7);

      process.kill(-run.child.pid!, 'SIGINT');
      const code = await Promise.race([run.exited, sleep(30_000).then(() => 'timeout' as const)]);
      expect(code, run.output().slice(-3000)).toBe(0);
      expect(await waitGone(run.marker, 5_000), 'processes left after Ctrl-C').toEqual([]);

      // Every service process ran the guard, and none of them tried to reach outside.
      const lines = guardLines(run.egressLog);
      const loaded = lines.filter((l) => l.kind === 'loaded').map((l) => (l.argv ?? []).join(' '));
      for (const script of ['scripts/start.ts', 'mocks/registry/main.ts', 'mocks/eid/main.ts', 'gateway/main.ts', ...REGISTRIES.map((r) => `subgraphs/${r}/main.ts`)]) {
        expect(loaded.some((a) => a.includes(script)), `the egress guard ran in ${script}`).toBe(true);
      }
      const attempts = lines.filter((l) => l.kind !== 'loaded');
      expect(attempts, `outbound attempts:\n${JSON.stringify(attempts, null, 2)}`).toEqual([]);
    },
    STARTUP_MS + 60_000,
  );

  it(
    'stops the others and exits non-zero naming the child that could not start',
    async (ctx) => {
      const { expect } = ctx;
      await stackSlot(ctx);
      const ports = await freePorts();
      // Occupy the insurance subgraph's port so that subgraph dies at startup.
      const blocker: Server = createServer((socket) => socket.destroy()); // health probes hitting it fail fast
      await new Promise<void>((resolve) => blocker.listen({ port: ports.subgraphBase + 2, host: '127.0.0.1' }, resolve));
      ctx.onTestFinished(() => new Promise<void>((resolve) => blocker.close(() => resolve())));
      const run = runStart(ctx, ports);
      const code = await Promise.race([run.exited, sleep(STARTUP_MS).then(() => 'timeout' as const)]);
      expect(code, run.output().slice(-3000)).not.toBe(0);
      expect(code).not.toBe('timeout');
      expect(run.output()).toMatch(/insurance (exited|did not answer)/);
      expect(run.output()).toMatch(/npm start failed: insurance/);
      expect(await waitGone(run.marker, 5_000), 'processes left after the failed start').toEqual([]);
    },
    STARTUP_MS + 30_000,
  );

  it(
    'stops every child when the npm process itself gets SIGTERM (npm → sh → node does not pass it on)',
    async (ctx) => {
      const { expect } = ctx;
      await stackSlot(ctx);
      const ports = await freePorts();
      const run = runStart(ctx, ports, { via: 'npm' });
      await waitForOutput(run, /Press Ctrl-C to stop/, STARTUP_MS);
      const before = processesWithMarker(run.marker);
      // npm, sh, start.ts and the 6 services.
      expect(before.length).toBeGreaterThanOrEqual(9);
      process.kill(run.child.pid!, 'SIGTERM'); // npm only: not its process group
      const code = await Promise.race([run.exited, sleep(60_000).then(() => 'timeout' as const)]);
      expect(code, run.output().slice(-3000)).not.toBe('timeout');
      const left = await waitGone(run.marker, 30_000);
      expect(left, `processes left after SIGTERM to npm (of ${before.join(', ')}):\n${run.output().slice(-3000)}`).toEqual([]);
      // npm exits first: start.ts's last lines can still be in the pipe when its processes are gone. Read to the end.
      await Promise.race([run.outputEnded, sleep(30_000)]);
      expect(run.output()).toMatch(/gone: stopping|SIGTERM received: stopping/);
    },
    STARTUP_MS + 120_000,
  );

  it(
    "stops every child when the parent of npm dies",
    async (ctx) => {
      const { expect } = ctx;
      await stackSlot(ctx);
      const ports = await freePorts();
      const run = runStart(ctx, ports, { via: 'sh+npm' }); // the child is the shell; npm runs under it
      // Every child up and answering (the children all start at once: "started gateway" comes early).
      await waitForOutput(run, /Press Ctrl-C to stop/, STARTUP_MS);
      expect(processesWithMarker(run.marker).length).toBeGreaterThanOrEqual(9);
      process.kill(run.child.pid!, 'SIGKILL'); // the shell only: npm and its children are orphaned
      await run.exited;
      const left = await waitGone(run.marker, 60_000);
      expect(left, `processes left after the parent of npm died:\n${run.output().slice(-3000)}`).toEqual([]);
    },
    STARTUP_MS + 120_000,
  );

  it(
    'stops every child when its output pipe closes (EPIPE)',
    async (ctx) => {
      const { expect } = ctx;
      await stackSlot(ctx);
      const ports = await freePorts();
      const run = runStart(ctx, ports, { via: 'npm' });
      // Before the summary: it is the next line written at the latest.
      await waitForOutput(run, /started gateway \(pid/, STARTUP_MS);
      // Like `npm start | head` once head has exited: the next line (the summary at the latest) gets EPIPE.
      run.child.stdout!.destroy();
      const code = await Promise.race([run.exited, sleep(STARTUP_MS).then(() => 'timeout' as const)]);
      expect(code, run.output().slice(-3000)).not.toBe('timeout');
      const left = await waitGone(run.marker, 30_000);
      expect(left, `processes left after the output pipe closed:\n${run.output().slice(-3000)}`).toEqual([]);
    },
    STARTUP_MS + 120_000,
  );

  it(
    'children stop themselves when the start process is killed with SIGKILL (it cannot stop them then)',
    async (ctx) => {
      const { expect } = ctx;
      await stackSlot(ctx);
      const ports = await freePorts();
      const run = runStart(ctx, ports);
      // Every child up, each with its own watch on start.ts.
      await waitForOutput(run, /Press Ctrl-C to stop/, STARTUP_MS);
      // The node process running start.ts.
      const start = processesWithMarker(run.marker).filter((pid) =>
        readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').some((a) => a.endsWith('scripts/start.ts')),
      );
      expect(start).toHaveLength(1);
      process.kill(start[0]!, 'SIGKILL');
      const left = await waitGone(run.marker, 60_000);
      expect(left, `processes left after start.ts was killed:\n${run.output().slice(-3000)}`).toEqual([]);
    },
    STARTUP_MS + 120_000,
  );

  it.for<[string, NodeJS.ProcessEnv, RegExp]>([
    ['PORT', { PORT: '6666' }, /PORT=6666 \(the gateway\) is port 6666, which browsers and fetch refuse/],
    ['a derived port', { SUBGRAPH_PORT_BASE: '5998' }, /SUBGRAPH_PORT_BASE=5998 \+ 2 \(the insurance subgraph\) is port 6000, which browsers and fetch refuse/],
  ])('refuses a port browsers and fetch refuse at once: %s', { timeout: 90_000 }, async ([, env, message], ctx) => {
    const { expect } = ctx;
    const ports = await freePorts();
    const run = runStart(ctx, ports, { env });
    const code = await Promise.race([run.exited, sleep(60_000).then(() => 'timeout' as const)]);
    expect(code, run.output()).toBe(2);
    expect(run.output()).toMatch(message);
    expect(run.output(), 'no child was started').not.toMatch(/started /);
  });
});
