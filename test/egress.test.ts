/**
 * The egress guard catches what issue 10 observed, and our setting prevents it:
 * a process that builds an `ApolloGateway` with telemetry on probes cloud-metadata
 * addresses (the guard records and blocks it); with lib/no-egress.ts loaded first
 * it makes no attempt. (The whole `npm start` stack under the guard is in
 * test/start.test.ts; the test workers run under it via test/support/egress-setup.ts.)
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const GUARD = path.join(ROOT, 'test/support/egress-guard.mjs');
const dir = mkdtempSync(path.join(tmpdir(), 'motlan-egress-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `code` (ESM, under tsx) in a fresh node with the guard preloaded; returns what the guard recorded. */
async function underGuard(name: string, code: string, env: NodeJS.ProcessEnv): Promise<Array<{ kind: string; target: string }>> {
  const script = path.join(dir, `${name}.mts`);
  writeFileSync(script, code);
  const log = path.join(dir, `${name}.jsonl`);
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', GUARD, '--import', 'tsx', script], { cwd: ROOT, env: { ...env, EGRESS_GUARD_LOG: log }, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('exit', (c) => (c === 0 ? resolve() : reject(new Error(`child exited ${c}: ${err.slice(-2000)}`))));
  });
  if (!existsSync(log)) return [];
  return readFileSync(log, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { kind: string; target: string })
    .filter((l) => l.kind !== 'loaded');
}

/** How long a gateway with telemetry on takes to probe, at most (the probes come right after construction). */
const PROBE_WINDOW_MS = 4000;

/**
 * Builds an ApolloGateway, then watches the guard's in-process record for PROBE_WINDOW_MS: it
 * ends at the first cloud-metadata probe (nothing more to learn), else when the window is over
 * (no probe: the window is what proves there was none).
 */
const BUILD_GATEWAY = (prelude: string) => `
${prelude}
import { readFileSync } from 'node:fs';
const { ApolloGateway } = await import(${JSON.stringify(pathToFileURL(createRequire(import.meta.url).resolve('@apollo/gateway')).href)});
const gw = new ApolloGateway({ supergraphSdl: readFileSync(${JSON.stringify(path.join(ROOT, 'schema/supergraph.graphql'))}, 'utf8') });
const attempts = globalThis[Symbol.for('motlan.egressAttempts')];
const until = Date.now() + ${PROBE_WINDOW_MS};
while (Date.now() < until && !attempts.some((a) => a.target.startsWith('169.254.169.254:'))) await new Promise((r) => setTimeout(r, 25));
process.exit(0);
`;

function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of ['APOLLO_TELEMETRY_DISABLED', 'OTEL_SDK_DISABLED', 'NODE_OPTIONS']) delete env[k];
  return env;
}

// Independent child processes: the two builds run at the same time.
describe.concurrent('no egress', () => {
  it('the guard records (and blocks) @apollo/gateway probing cloud-metadata addresses when telemetry is on', async ({ expect }) => {
    const attempts = await underGuard('telemetry-on', BUILD_GATEWAY(''), cleanEnv());
    expect(attempts.map((a) => a.target)).toEqual(expect.arrayContaining([expect.stringMatching(/^169\.254\.169\.254:/)]));
  }, 60_000);

  it('with lib/no-egress.ts imported first, building the gateway attempts nothing', async ({ expect }) => {
    const attempts = await underGuard('telemetry-off', BUILD_GATEWAY(`import ${JSON.stringify(path.join(ROOT, 'lib/no-egress.ts'))};`), cleanEnv());
    expect(attempts).toEqual([]);
  }, 60_000);

  it('this test worker runs under the guard with telemetry off', ({ expect }) => {
    expect(Array.isArray((globalThis as Record<symbol, unknown>)[Symbol.for('motlan.egressAttempts')])).toBe(true);
    expect(process.env.APOLLO_TELEMETRY_DISABLED).toBe('true');
  });
});
