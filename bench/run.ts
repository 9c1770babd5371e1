/**
 * `npm run bench`: Motlan against peer gateways over the same supergraph, the same
 * subgraphs and the same mocked registries, on this machine, in one run.
 *
 * Contenders (each its own process, load from another process):
 *   a  Motlan: auth, purpose policy, audit (SQLite, fsync) and cache on
 *   b  Motlan with the cache off
 *   c  plain @apollo/gateway (standalone server)
 *   d  Hive Gateway runtime
 *   d2 Hive Gateway runtime with Hive Router's Rust query planner (@graphql-hive/router-runtime)
 *   e  floor: the subgraphs called directly, in parallel, no gateway (W1 only)
 * Workloads: W1 citizen dossier over four registries; W2 prefill of
 * judicial-record-certificate (for c/d the equivalent hand-written federated
 * query: the procedure's compiled operation). Subjects: living citizens of a
 * generated world, Zipf-skewed and uniform.
 *
 * For every contender and workload: warm-up windows until throughput is stable, then the
 * closed-loop measurement (req/s, p50/p99, errors, gateway CPU ms per request from /proc,
 * RSS); then the open loop at a fixed arrival rate (p50/p95/p99); then the memory soak.
 * The report judges each target of issue 15 (bench/targets.ts) as met or missed.
 *
 * Options (flags; no flags = the full run the README's benchmark section is made from):
 *   --citizens 100000 --subjects 100000 --connections 64 --duration 15 --rounds 2
 *   --contenders a,b,b-noaudit,b-nocheck,c,d,d2,e --workloads W1-zipf,W1-uniform,W2-zipf
 *   (measured in the order given, odd rounds reversed: the first contender of a workload also
 *    warms the shared subgraphs and registries — W1-uniform, 1 December: (a) 0.65× (b) measured
 *    first, 0.92× measured second)
 *   (W2-query, not in the default set: Motlan runs W2's compiled operation as a plain query
 *    under its purpose, the others as in W2; prefill vs W2-query prices the procedure layer)
 *   --warmup 5 (seconds per warm-up window) --warmup-max 30 (windows at most; stable = the last
 *     three windows within 10 % of each other and, for Motlan with its response cache, the cache
 *     hit ratio of the last five windows within 2 points: the cache has filled, bench/warmup.ts)
 *   --open-rate 100 (req/s) --open-duration 30 --open-workloads W1-zipf (empty = skip)
 *   --open-warmup 10 (seconds at the open-loop rate, discarded, right before each open loop; it
 *     follows a closed-loop warm-up until stable, since the closed runs before it let the
 *     response cache's entries expire)
 *   --open-contenders a,b,c,d,d2,e (those also in --contenders)
 *   (a-second: Motlan as (a) with the response cache's doorkeeper alone, no frequency rule
 *    (CACHE_RESPONSE_ADMISSION=second); a-noadmit: both caches store every miss (CACHE_ADMISSION=first,
 *    CACHE_RESPONSE_ADMISSION=first): to price the admission rules, not in the default set;
 *    b-noaudit: Motlan with cache and audit off, to price the audit trail;
 *    b-nocheck: Motlan with cache off and the response check off (DISCLOSURE=off, refused in
 *    production), to price the entity collection and the response check: b vs b-nocheck)
 *   --soak 300 (memory soak at full load, seconds; 0 = skip) --soak-contender a --soak-warmup 120
 *   --port-base 4300 (ports used: base+1 … base+28)
 *   --profile b (write a V8 CPU profile of that contender to bench/results/profiles/ when it stops)
 * Results: bench/results/<timestamp>.json and latest.md (the README's tables are copied from it).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { generateWorld } from '../mocks/world/generate.js';
import { REPO_ROOT } from '../lib/repo-root.js';
import { startProc, waitFor, type Proc } from './procs.js';
import type { LoadResult, LoadSpec } from './load.js';
import { W1_QUERY, W1_FLOOR, w2Query, W2_PREFILL, BENCH_PURPOSE } from './workloads.js';
import { measureResponseCheck } from './response-check.js';
import { REGISTRIES } from '../mocks/world/types.js';
import { warmUntilStable, type WarmupOutcome } from './warmup.js';
import { evaluateTargets, formatTargets } from './targets.js';
import { closedTable, openTable, type ClosedResult, type OpenResult, type SoakResult } from './report.js';
import { DEMO_REGISTRY_KEY } from '../lib/demo.js';

// Statistics scale mode (issue 16): its own options and run, bench/stats-scale.ts.
if (process.argv.includes('--stats-scale')) {
  const { runStatsScale } = await import('./stats-scale.js');
  process.exit(await runStatsScale(process.argv.slice(2).filter((a) => a !== '--stats-scale')));
}

const { values: flags } = parseArgs({
  options: {
    citizens: { type: 'string', default: '100000' },
    subjects: { type: 'string', default: '100000' },
    connections: { type: 'string', default: '64' },
    duration: { type: 'string', default: '15' },
    warmup: { type: 'string', default: '5' },
    'warmup-max': { type: 'string', default: '30' },
    rounds: { type: 'string', default: '2' },
    contenders: { type: 'string', default: 'a,b,b-noaudit,b-nocheck,c,d,d2,e' },
    workloads: { type: 'string', default: 'W1-zipf,W1-uniform,W2-zipf' },
    'open-rate': { type: 'string', default: '100' },
    'open-duration': { type: 'string', default: '30' },
    'open-warmup': { type: 'string', default: '10' },
    'open-workloads': { type: 'string', default: 'W1-zipf' },
    'open-contenders': { type: 'string', default: 'a,b,c,d,d2,e' },
    soak: { type: 'string', default: '300' },
    profile: { type: 'string', default: '' },
    'soak-contender': { type: 'string', default: 'a' },
    'soak-warmup': { type: 'string', default: '120' },
    seed: { type: 'string', default: '20250701' },
    'port-base': { type: 'string', default: '4300' },
  },
});

const CITIZENS = Number(flags.citizens);
const SEED = Number(flags.seed);
const CONNECTIONS = Number(flags.connections);
/** Ports base+1.. registries, base+11.. subgraphs, base+20.. contenders (two benches can run side by side). */
const BASE_PORT = Number(flags['port-base']);
const REGISTRY_KEY = DEMO_REGISTRY_KEY;
const BENCH_KEY = 'bench-' + 'k'.repeat(40); // DEMO/bench only: a throwaway key for a throwaway clients file

const log = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);

interface Contender {
  id: string;
  label: string;
  origin: string;
  proc?: Proc;
  /** Request list for one logical request of a workload, or null when not applicable. */
  requests(workload: string): LoadSpec['requests'] | null;
}

function gql(query: string, variables: Record<string, unknown>): string {
  return JSON.stringify({ query, variables });
}

let specCounter = 0;
async function runLoadProcess(spec: LoadSpec): Promise<LoadResult> {
  const specFile = path.join(os.tmpdir(), `motlan-bench-load-${process.pid}-${specCounter++}.json`);
  writeFileSync(specFile, JSON.stringify(spec));
  return new Promise<LoadResult>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'bench/load.ts'), specFile], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as LoadResult) : reject(new Error(`load generator exited ${code}`))));
  }).finally(() => rmSync(specFile, { force: true }));
}

async function main(): Promise<void> {
  const work = mkdtempSync(path.join(os.tmpdir(), 'motlan-bench-'));
  const procs: Proc[] = [];
  const stopAll = async () => {
    await Promise.all(procs.map((p) => p.stop()));
  };
  // Ctrl-C, and a SIGTERM from whoever stops the run (a job runner, `pkill`): the contenders,
  // subgraphs and registries go too (a SIGTERM left eleven processes holding their ports).
  process.on('SIGINT', () => void stopAll().then(() => process.exit(130)));
  process.on('SIGTERM', () => void stopAll().then(() => process.exit(143)));

  try {
    // The world: the registries generate it from the same seed; we regenerate it here to draw subjects.
    log(`generating ${CITIZENS} citizens (seed ${SEED})`);
    const world = generateWorld({ seed: SEED, citizens: CITIZENS });
    const living = world.citizens.filter((c) => !c.deceased).map((c) => c.personalId);
    // Shuffle deterministically so Zipf popularity is not tied to generation order.
    const subjects = living.slice(0, Math.min(Number(flags.subjects), living.length));

    const registryPorts = Object.fromEntries(REGISTRIES.map((r, i) => [r, BASE_PORT + 1 + i]));
    const subgraphPorts = Object.fromEntries(REGISTRIES.map((r, i) => [r, BASE_PORT + 11 + i]));
    const registryEnv: Record<string, string> = { MOCK_SEED: String(SEED), MOCK_CITIZENS: String(CITIZENS), REGISTRY_API_KEY: REGISTRY_KEY };
    for (const r of REGISTRIES) registryEnv[`${r.toUpperCase()}_REGISTRY_PORT`] = String(registryPorts[r]);
    log('starting mock registries');
    const registries = startProc('registries', 'mocks/registry/main.ts', registryEnv);
    procs.push(registries);
    for (const r of REGISTRIES) await waitFor(`http://127.0.0.1:${registryPorts[r]}/health`, 300_000);

    log('starting subgraphs');
    for (const r of REGISTRIES) {
      procs.push(
        startProc(`subgraph-${r}`, `subgraphs/${r}/main.ts`, {
          PORT: String(subgraphPorts[r]),
          HOST: '127.0.0.1',
          REGISTRY_URL: `http://127.0.0.1:${registryPorts[r]}`,
          REGISTRY_API_KEY: REGISTRY_KEY,
          TODAY: world.asOf,
          // The third-party contenders (c, d, e) cannot sign subgraph requests; Motlan (a, b) still
          // signs every call (its cost is measured), the subgraphs just do not check it here.
          GATEWAY_SIGNATURE: 'off',
        }),
      );
    }
    for (const r of REGISTRIES) await waitFor(`http://127.0.0.1:${subgraphPorts[r]}/health`);

    // One supergraph file pointing at the bench ports, for every contender.
    let supergraph = readFileSync(path.join(REPO_ROOT, 'schema/supergraph.graphql'), 'utf8');
    REGISTRIES.forEach((r, i) => {
      supergraph = supergraph.replaceAll(`http://localhost:${4001 + i}/graphql`, `http://127.0.0.1:${subgraphPorts[r]}/graphql`);
    });
    const supergraphFile = path.join(work, 'supergraph.graphql');
    writeFileSync(supergraphFile, supergraph);
    const clientsFile = path.join(work, 'clients.json');
    writeFileSync(clientsFile, JSON.stringify(benchClients(), null, 2));

    const subgraphEnv: Record<string, string> = {};
    for (const r of REGISTRIES) subgraphEnv[`SUBGRAPH_URL_${r.toUpperCase()}`] = `http://127.0.0.1:${subgraphPorts[r]}/graphql`;
    const motlanEnv = (port: number, extra: Record<string, string>): Record<string, string> => ({
      PORT: String(port),
      HOST: '127.0.0.1',
      SUPERGRAPH_FILE: supergraphFile,
      CLIENTS_FILE: clientsFile,
      PROCEDURES_DIR_EXTRA: path.join(REPO_ROOT, 'bench/procedures'),
      DATA_DIR: path.join(work, `data-${port}`),
      // Rate limiting stays on (its cost is part of the product) with a budget above the load.
      RATE_LIMIT_PER_SECOND: '1000000',
      RATE_LIMIT_BURST: '1000000',
      INSTANCE_ID: `bench-${port}`,
      ...subgraphEnv,
      ...extra,
    });

    const w2 = w2Query();
    const motlanRequests = (workload: string): LoadSpec['requests'] => {
      const headers = { authorization: `Bearer ${BENCH_KEY}` };
      if (workload.startsWith('W1')) {
        return [{ path: '/graphql', headers: { ...headers, 'x-purpose': BENCH_PURPOSE }, bodyTemplate: gql(W1_QUERY, { id: '$SUBJECT' }) }];
      }
      // W2-query: the prefill's compiled operation sent to Motlan as a plain query under its purpose,
      // to price the procedure layer itself (prefill vs its own query through the same gateway).
      if (workload.startsWith('W2-query')) {
        return [{ path: '/graphql', headers: { ...headers, 'x-purpose': 'judicial-record-certificate' }, bodyTemplate: gql(w2.query, w2.variables('$SUBJECT')) }];
      }
      return [{ path: '/graphql', headers, bodyTemplate: gql(W2_PREFILL, { id: '$SUBJECT' }) }];
    };
    const plainRequests = (workload: string): LoadSpec['requests'] =>
      workload.startsWith('W1')
        ? [{ path: '/graphql', headers: {}, bodyTemplate: gql(W1_QUERY, { id: '$SUBJECT' }) }]
        : [{ path: '/graphql', headers: {}, bodyTemplate: gql(w2.query, w2.variables('$SUBJECT')) }];

    const wanted = new Set(flags.contenders!.split(','));
    const contenders: Contender[] = [];
    const add = (c: Contender, script: string | null, env: Record<string, string>) => {
      if (script) {
        const nodeArgs = flags.profile === c.id ? ['--cpu-prof', `--cpu-prof-dir=${path.join(REPO_ROOT, 'bench/results/profiles')}`] : [];
        c.proc = startProc(c.id, script, env, nodeArgs);
        procs.push(c.proc);
      }
      contenders.push(c);
    };
    if (wanted.has('a'))
      add({ id: 'a', label: 'Motlan (auth+policy+audit, cache on)', origin: `http://127.0.0.1:${BASE_PORT + 20}`, requests: motlanRequests }, 'gateway/main.ts', motlanEnv(BASE_PORT + 20, {}));
    // Ablations of the caches' admission rules: the response cache with the doorkeeper alone; both caches
    // storing every miss (no admission at all).
    if (wanted.has('a-second'))
      add({ id: 'a-second', label: 'Motlan (cache on, doorkeeper-only admission)', origin: `http://127.0.0.1:${BASE_PORT + 27}`, requests: motlanRequests }, 'gateway/main.ts', motlanEnv(BASE_PORT + 27, { CACHE_RESPONSE_ADMISSION: 'second' }));
    if (wanted.has('a-noadmit'))
      add({ id: 'a-noadmit', label: 'Motlan (cache on, every miss stored)', origin: `http://127.0.0.1:${BASE_PORT + 28}`, requests: motlanRequests }, 'gateway/main.ts', motlanEnv(BASE_PORT + 28, { CACHE_RESPONSE_ADMISSION: 'first', CACHE_ADMISSION: 'first' }));
    if (wanted.has('b'))
      add({ id: 'b', label: 'Motlan (auth+policy+audit, cache off)', origin: `http://127.0.0.1:${BASE_PORT + 21}`, requests: motlanRequests }, 'gateway/main.ts', motlanEnv(BASE_PORT + 21, { CACHE: 'off' }));
    if (wanted.has('b-noaudit'))
      add({ id: 'b-noaudit', label: 'Motlan (auth+policy, audit off, cache off)', origin: `http://127.0.0.1:${BASE_PORT + 22}`, requests: motlanRequests }, 'gateway/main.ts', motlanEnv(BASE_PORT + 22, { CACHE: 'off', AUDIT: 'off' }));
    if (wanted.has('b-nocheck'))
      add({ id: 'b-nocheck', label: 'Motlan (auth+policy+audit, response check off, cache off)', origin: `http://127.0.0.1:${BASE_PORT + 25}`, requests: motlanRequests }, 'gateway/main.ts', motlanEnv(BASE_PORT + 25, { CACHE: 'off', DISCLOSURE: 'off' }));
    if (wanted.has('c'))
      add({ id: 'c', label: 'plain @apollo/gateway', origin: `http://127.0.0.1:${BASE_PORT + 23}`, requests: plainRequests }, 'bench/contenders/apollo-gateway.ts', { PORT: String(BASE_PORT + 23), BENCH_SUPERGRAPH: supergraphFile });
    if (wanted.has('d'))
      add({ id: 'd', label: 'Hive Gateway runtime', origin: `http://127.0.0.1:${BASE_PORT + 24}`, requests: plainRequests }, 'bench/contenders/hive-gateway.ts', { PORT: String(BASE_PORT + 24), BENCH_SUPERGRAPH: supergraphFile });
    if (wanted.has('d2'))
      add({ id: 'd2', label: 'Hive Gateway + Rust query planner', origin: `http://127.0.0.1:${BASE_PORT + 26}`, requests: plainRequests }, 'bench/contenders/hive-router.ts', { PORT: String(BASE_PORT + 26), BENCH_SUPERGRAPH: supergraphFile });
    if (wanted.has('e'))
      add(
        {
          id: 'e',
          label: 'floor: subgraphs direct, no gateway',
          origin: `http://127.0.0.1:${subgraphPorts.population}`,
          requests: (w) => (w.startsWith('W1') ? W1_FLOOR.map((f) => ({ origin: `http://127.0.0.1:${subgraphPorts[f.subgraph]}`, path: '/graphql', headers: {}, bodyTemplate: gql(f.query, f.variables) })) : null),
        },
        null,
        {},
      );

    for (const c of contenders) {
      if (c.proc) await waitFor(`${c.origin}/graphql`, 120_000, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${BENCH_KEY}`, 'x-purpose': BENCH_PURPOSE }, body: gql('query { __typename }', {}) }).catch(async () => waitFor(`${c.origin}/health`, 60_000));
    }
    // Measured in the order given: the first contender of a workload also warms the shared
    // subgraphs and registries, so swapping the order shows what that is worth.
    const order = flags.contenders!.split(',');
    contenders.sort((x, y) => order.indexOf(x.id) - order.indexOf(y.id));
    log(`contenders up: ${contenders.map((c) => c.id).join(', ')}`);

    const results: ClosedResult[] = [];
    const workloads = flags.workloads!.split(',').filter(Boolean);
    for (const workload of workloads) {
      const distribution = workload.endsWith('uniform') ? 'uniform' : 'zipf';
      for (let round = 0; round < Number(flags.rounds); round++) {
        // Odd rounds in the reverse order: with --rounds 2 each contender is measured once before and
        // once after the others (the targets take the mean over rounds).
        for (const c of round % 2 ? [...contenders].reverse() : contenders) {
          const requests = c.requests(workload);
          if (!requests) continue;
          const base = { origin: c.origin, requests, subjects, distribution, connections: CONNECTIONS, seed: SEED + round } as const;
          // Warm until stable, the response cache full, in every round: the cache's entries of the
          // previous round expired while the others ran (TTL 120 s; a round-2 W1-zipf measured
          // after one window hit 57 % against 69 %).
          const warmup = await warmContender(c, base, Number(flags['warmup-max']));
          // The /metrics reads (hit ratio) stay outside the CPU window.
          const hitsBefore = await cacheCounters(c);
          const cpuBefore = c.proc?.cpuMs() ?? NaN;
          const r = await runLoadProcess({ ...base, durationSec: Number(flags.duration), seed: SEED + 1000 + round });
          const cpuMsPerRequest = ((c.proc?.cpuMs() ?? NaN) - cpuBefore) / Math.max(1, r.requests);
          const hitRatio = hitRatioBetween(hitsBefore, await cacheCounters(c));
          const memMiB = c.proc?.rssMiB() ?? NaN;
          results.push({ workload, contender: c.id, label: c.label, round, memMiB, cpuMsPerRequest, warmupRps: warmup.windows, ...(warmup.hitRatios ? { warmupHitRatios: warmup.hitRatios } : {}), warmupStable: warmup.stable, ...(hitRatio !== undefined ? { hitRatio } : {}), ...r });
          log(`${workload} ${c.id.padEnd(9)} ${r.rps.toFixed(0).padStart(6)} req/s  p50 ${r.p50.toFixed(1)} ms  p99 ${r.p99.toFixed(1)} ms  errors ${r.errors}  cpu ${cpuMsPerRequest.toFixed(2)} ms/req  mem ${memMiB.toFixed(0)} MiB${hitRatio !== undefined ? `  cache hits ${(hitRatio * 100).toFixed(0)} %` : ''}  warm-up ${warmupLog(warmup)}${r.firstError ? `  first error: ${r.firstError.slice(0, 160)}` : ''}`);
        }
      }
    }

    // Open loop: a fixed arrival rate, latency from each scheduled start. Warmed right before:
    // the closed runs since this contender's own W1 run let its cached responses expire (TTL), and
    // a closed loop's 64 connections leave a backlog (audit batches, garbage) the first seconds at
    // the open rate would pay for. So: closed-loop warm-up until stable, then `--open-warmup`
    // seconds at the open rate, discarded, then the measured open loop.
    const openLoop: OpenResult[] = [];
    const openRate = Number(flags['open-rate']);
    const openWanted = new Set(flags['open-contenders']!.split(','));
    for (const workload of flags['open-workloads']!.split(',').filter(Boolean)) {
      const distribution = workload.endsWith('uniform') ? 'uniform' : 'zipf';
      for (const c of contenders.filter((x) => openWanted.has(x.id))) {
        const requests = c.requests(workload);
        if (!requests) continue;
        const warmup = await warmContender(c, { origin: c.origin, requests, subjects, distribution, connections: CONNECTIONS, seed: SEED + 1900 }, Number(flags['warmup-max']));
        log(`open loop ${workload} ${c.id}: warm-up ${warmupLog(warmup)}`);
        // Connections enough that the client never queues at this rate: all waiting happens in the target.
        const open = { origin: c.origin, requests, subjects, distribution, connections: 256, seed: SEED + 2000, rate: openRate } as const;
        if (Number(flags['open-warmup']) > 0) await runLoadProcess({ ...open, durationSec: Number(flags['open-warmup']), seed: SEED + 1999 });
        const hitsBefore = await cacheCounters(c);
        const cpuBefore = c.proc?.cpuMs() ?? NaN;
        const r = await runLoadProcess({ ...open, durationSec: Number(flags['open-duration']) });
        const cpuMsPerRequest = ((c.proc?.cpuMs() ?? NaN) - cpuBefore) / Math.max(1, r.requests);
        const hitRatio = hitRatioBetween(hitsBefore, await cacheCounters(c));
        openLoop.push({ workload, contender: c.id, label: c.label, rate: openRate, memMiB: c.proc?.rssMiB() ?? NaN, cpuMsPerRequest, ...(hitRatio !== undefined ? { hitRatio } : {}), ...r });
        log(`open loop ${openRate} req/s ${workload} ${c.id.padEnd(9)} p50 ${r.p50.toFixed(1)} ms  p95 ${r.p95.toFixed(1)} ms  p99 ${r.p99.toFixed(1)} ms  errors ${r.errors}  served ${r.rps.toFixed(0)} req/s  cpu ${cpuMsPerRequest.toFixed(2)} ms/req${hitRatio !== undefined ? `  cache hits ${(hitRatio * 100).toFixed(0)} %` : ''}  generator lag ≤ ${(r.maxLagMs ?? 0).toFixed(0)} ms`);
      }
    }

    let soak: SoakResult | undefined;
    const soakSec = Number(flags.soak);
    const a = contenders.find((c) => c.id === flags['soak-contender']);
    if (soakSec > 0 && a?.proc) {
      const requests = a.requests('W1-zipf')!;
      const base = { origin: a.origin, requests, subjects, distribution: 'zipf' as const, connections: CONNECTIONS, seed: SEED + 7 };
      // Warm-up long enough for the cache to reach its size bound: growth after it is what a leak would show.
      await runLoadProcess({ ...base, durationSec: Number(flags['soak-warmup']) });
      const memAfterWarmupMiB = a.proc.rssMiB();
      const heapAfterWarmupMiB = await heapUsedMiB(a.origin);
      log(`soak of ${a.id}: ${soakSec} s at ${CONNECTIONS} connections (memory after warm-up ${memAfterWarmupMiB.toFixed(0)} MiB)`);
      const r = await runLoadProcess({ ...base, durationSec: soakSec });
      const memEndMiB = a.proc.rssMiB();
      const heapEndMiB = await heapUsedMiB(a.origin);
      soak = { contender: a.id, seconds: soakSec, warmupSec: Number(flags['soak-warmup']), memAfterWarmupMiB, memEndMiB, growthPct: ((memEndMiB - memAfterWarmupMiB) / memAfterWarmupMiB) * 100, rps: r.rps, heapAfterWarmupMiB, heapEndMiB };
      log(`soak: end ${memEndMiB.toFixed(0)} MiB (${soak.growthPct.toFixed(1)}%); V8 heap used ${heapAfterWarmupMiB?.toFixed(0) ?? '?'} → ${heapEndMiB?.toFixed(0) ?? '?'} MiB`);
    }

    // The response check's CPU per W1 request, measured in process (steadier than b vs b-nocheck on a busy machine).
    const check = measureResponseCheck();
    const targets = evaluateTargets({ closed: results, open: openLoop, soak, openRate });
    const report = `${summarize(results, soak)}${openLoop.length ? `\n\nOpen loop at ${openRate} req/s (${flags['open-duration']} s; latency from each request's scheduled start):\n\n${openTable(openLoop)}` : ''}\n\nTargets (issue 15; ratios within this run):\n\n${formatTargets(targets).join('\n')}\n\nResponse check (entity collection + check) on W1, in process: ${check.microsPerRequest.toFixed(1)} µs CPU per request (median of batches; fastest ${check.microsMin.toFixed(1)} µs; ${check.fetches} subgraph answers, ${check.entities} entities).`;
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const outDir = path.join(REPO_ROOT, 'bench/results');
    mkdirSync(outDir, { recursive: true });
    const meta = { date: new Date().toISOString(), machine: `${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`, citizens: CITIZENS, subjects: subjects.length, connections: CONNECTIONS, durationSec: Number(flags.duration), warmupWindowSec: Number(flags.warmup), warmupMaxWindows: Number(flags['warmup-max']), openRate, openWarmupSec: Number(flags['open-warmup']), openDurationSec: Number(flags['open-duration']), flags };
    writeFileSync(path.join(outDir, `${stamp}.json`), JSON.stringify({ meta, results, openLoop, soak, targets }, null, 2));
    writeFileSync(path.join(outDir, 'latest.md'), `${report}\n\n${JSON.stringify(meta)}\n`);
    process.stdout.write(`\n${report}\n\nmachine: ${meta.machine}\nresults: bench/results/${stamp}.json\n`);
  } finally {
    await stopAll();
  }

  /** Warm-up windows of `c` until stable (bench/warmup.ts), with its cache hit ratio per window when it reports one. */
  async function warmContender(c: Contender, base: Omit<LoadSpec, 'durationSec'>, maxWindows: number): Promise<WarmupOutcome> {
    let w = 0;
    return warmUntilStable(
      async () => {
        const before = await cacheCounters(c);
        const rps = (await runLoadProcess({ ...base, durationSec: Number(flags.warmup), seed: base.seed + 500 + w++ })).rps;
        const hitRatio = hitRatioBetween(before, await cacheCounters(c));
        return hitRatio !== undefined ? { rps, hitRatio } : { rps };
      },
      { maxWindows, minWindows: Math.min(maxWindows, 3) },
    );
  }
}

function warmupLog(w: WarmupOutcome): string {
  const hits = w.hitRatios?.length ? ` (cache hits ${w.hitRatios.map((h) => (h * 100).toFixed(0)).join('→')} %)` : '';
  return `${w.windows.map((x) => x.toFixed(0)).join('→')}${hits}${w.stable ? '' : ' (not stable)'}`;
}

interface CacheCounters {
  hits: number;
  misses: number;
}

/** The response cache's hit and miss counters from a Motlan contender's /metrics; null for the others. */
async function cacheCounters(c: { label: string; origin: string }): Promise<CacheCounters | null> {
  if (!c.label.startsWith('Motlan')) return null;
  try {
    const text = await (await fetch(`${c.origin}/metrics`)).text();
    const read = (name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
    const counters = { hits: read('motlan_response_cache_hits_total'), misses: read('motlan_response_cache_misses_total') };
    return Number.isFinite(counters.hits) && Number.isFinite(counters.misses) ? counters : null;
  } catch {
    return null;
  }
}

/** Hits / (hits + misses) between two readings, or undefined when not measured. */
function hitRatioBetween(before: CacheCounters | null, after: CacheCounters | null): number | undefined {
  if (!before || !after) return undefined;
  const hits = after.hits - before.hits;
  const total = hits + (after.misses - before.misses);
  return total > 0 ? hits / total : undefined;
}

/** V8 heap in use, from the gateway's Prometheus metrics (Motlan contenders only), in MiB. */
async function heapUsedMiB(origin: string): Promise<number | null> {
  try {
    const text = await (await fetch(`${origin}/metrics`)).text();
    const m = /^nodejs_heap_size_used_bytes(?:\{[^}]*\})? (\d+(?:\.\d+)?(?:e\+\d+)?)$/m.exec(text);
    return m ? Number(m[1]) / 2 ** 20 : null;
  } catch {
    return null;
  }
}

/** Clients file for the Motlan contenders: one TTHC client allowed the bench procedures. */
function benchClients(): unknown {
  return {
    clients: [
      {
        id: 'bench-client',
        agency: 'Benchmark',
        name: 'Benchmark load generator (bench only)',
        procedures: [BENCH_PURPOSE, 'judicial-record-certificate'],
        roles: ['client'],
        keys: [{ id: 'bench', sha256: sha256(BENCH_KEY), createdAt: '2026-01-01' }],
      },
    ],
  };
}

function sha256(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

function summarize(results: ClosedResult[], soak?: SoakResult): string {
  const lines = [closedTable(results)];
  const byWorkload = new Map<string, ClosedResult[]>();
  const checkCost: string[] = [];
  for (const r of results) byWorkload.set(r.workload, [...(byWorkload.get(r.workload) ?? []), r]);
  for (const [workload, rs] of byWorkload) {
    const mean = (id: string, key: 'rps' | 'cpuMsPerRequest') => {
      const xs = rs.filter((r) => r.contender === id).map((r) => r[key]).filter((x) => Number.isFinite(x));
      return xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : NaN;
    };
    // What the entity collection and the response check cost (issue 10: under 5% of W1 throughput).
    const checked = mean('b', 'rps');
    const unchecked = mean('b-nocheck', 'rps');
    if (Number.isFinite(checked) && Number.isFinite(unchecked) && unchecked > 0) {
      checkCost.push(`${workload}: response check (collection + check) costs ${(((unchecked - checked) / unchecked) * 100).toFixed(1)}% of throughput (b ${checked.toFixed(0)} vs b-nocheck ${unchecked.toFixed(0)} req/s)`);
    }
    // The same prices in gateway CPU per request, which competing load on the machine hardly moves.
    const cpuCost = (id: string, without: string, what: string) => {
      const withIt = mean(id, 'cpuMsPerRequest');
      const withoutIt = mean(without, 'cpuMsPerRequest');
      if (Number.isFinite(withIt) && Number.isFinite(withoutIt) && withIt > 0) {
        checkCost.push(`${workload}: ${what} costs ${(((withIt - withoutIt) / withIt) * 100).toFixed(1)}% of the gateway's CPU per request (${id} ${withIt.toFixed(2)} vs ${without} ${withoutIt.toFixed(2)} ms)`);
      }
    };
    cpuCost('b', 'b-nocheck', 'the response check');
    cpuCost('b', 'b-noaudit', 'the audit trail');
  }
  if (checkCost.length) lines.push('', ...checkCost.map((l) => `- ${l}`));
  if (soak) lines.push('', `Memory soak (${soak.contender}, W1-zipf, ${soak.seconds} s after ${soak.warmupSec} s of warm-up): ${soak.memAfterWarmupMiB.toFixed(0)} MiB after warm-up → ${soak.memEndMiB.toFixed(0)} MiB at the end (${soak.growthPct.toFixed(1)}%); V8 heap used ${soak.heapAfterWarmupMiB?.toFixed(0) ?? '?'} → ${soak.heapEndMiB?.toFixed(0) ?? '?'} MiB; ${soak.rps.toFixed(0)} req/s.`);
  return lines.join('\n');
}

main().catch((err) => {
  process.stderr.write(`[bench] failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
