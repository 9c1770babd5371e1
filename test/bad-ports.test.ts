/**
 * A port browsers and fetch refuse (lib/bad-ports.ts: 6000, 6665–6669, …) is a start error of
 * every server entry point, with the same message, before anything opens (issue 14): the
 * gateway, a subgraph, the mock registries and the mock e-ID platform, started as an operator
 * starts them (their main scripts under tsx, the port from the environment) and programmatically.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startGateway } from '../gateway/app.js';
import { startEidIssuer } from '../mocks/eid/issuer.js';
import { startRegistries } from '../mocks/registry/server.js';
import { startSubgraph } from '../subgraphs/index.js';
import { badPortMessage, BAD_PORTS } from '../lib/bad-ports.js';

const ROOT = path.join(import.meta.dirname, '..');
const TSX_CLI = path.join(path.dirname(createRequire(import.meta.url).resolve('tsx/package.json')), 'dist/cli.mjs');
const GUARD = path.join(ROOT, 'test/support/egress-guard.mjs');
const REFUSED = /is port (\d+), which browsers and fetch refuse to connect to \(the WHATWG "bad ports" list: .*\): nothing could reach it\. Choose another port\./;

/** Runs `script` under tsx with `env` on top of ours; resolves with its exit code and output. */
async function run(script: string, args: string[], env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, [TSX_CLI, path.join(ROOT, script), ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import ${GUARD}`.trim() },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, output };
}

describe('every server entry point refuses a port browsers and fetch refuse, at once', () => {
  it.each([
    ['the gateway', 'gateway/main.ts', [], { PORT: '6666' }, 'PORT=6666 (the gateway) is port 6666'],
    ['a subgraph', 'subgraphs/run.ts', ['insurance'], { PORT: '6000' }, 'PORT=6000 (the insurance subgraph) is port 6000'],
    ['the mock registries', 'mocks/registry/main.ts', [], { LAND_REGISTRY_PORT: '6667' }, 'LAND_REGISTRY_PORT=6667 (the land mock registry) is port 6667'],
    ['the mock e-ID platform', 'mocks/eid/main.ts', [], { EID_PORT: '5060' }, 'EID_PORT=5060 (the mock e-ID platform) is port 5060'],
  ] as const)('%s (its main script)', async (_what, script, args, env, start) => {
    const { code, output } = await run(script, [...args], env);
    expect(code, output).not.toBe(0);
    expect(output).toContain(start);
    expect(output).toMatch(REFUSED);
    // Refused before listening: no "ready"/"listening" line.
    expect(output).not.toMatch(/ready|listening at/i);
  }, 60_000);

  it('programmatic starts refuse it too, with the same message', async () => {
    await expect(startGateway({ port: 6668, logLevel: 'silent' })).rejects.toThrow(REFUSED);
    await expect(startSubgraph('land', { port: 6669, registryUrl: 'http://127.0.0.1:1', apiKey: 'k', gatewayKey: Buffer.from('k'), logLevel: 'silent', tracing: null })).rejects.toThrow(REFUSED);
    await expect(startRegistries({ ports: { population: 0, enterprise: 0, insurance: 6665, land: 0 }, env: {}, citizens: 10 })).rejects.toThrow(REFUSED);
    await expect(startEidIssuer({ port: 6000 })).rejects.toThrow(REFUSED);
  });

  it('port 0 (any free port) and ordinary ports are accepted; the list is the Fetch standard\'s', () => {
    expect(badPortMessage(0, 'x')).toBeNull();
    expect(badPortMessage(4000, 'x')).toBeNull();
    for (const p of [1, 22, 6000, 6665, 6666, 6667, 6668, 6669, 10080]) expect(BAD_PORTS.has(p), String(p)).toBe(true);
  });
});
