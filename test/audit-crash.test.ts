/**
 * Crash safety: a gateway process is killed with SIGKILL while clients hammer it.
 * Every response a client received must have its audit record (the record is
 * durable before the response leaves), and after a restart the chain continues
 * and verifies offline.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { afterAll, expect, it } from 'vitest';
import { REPO_ROOT } from '../lib/repo-root.js';
import { SqliteAuditStore } from '../gateway/audit/sqlite-store.js';
import { verifyStore } from '../gateway/audit/sources.js';

interface Ready {
  graphqlUrl: string;
  clientKey: string;
  personalIds: string[];
}

const dataDir = mkdtempSync(path.join(tmpdir(), 'motlan-crash-'));
const children = new Set<ChildProcess>();

async function startChild(): Promise<{ child: ChildProcess; ready: Ready }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'test', 'audit-crash-child.ts')], {
    cwd: REPO_ROOT,
    env: { ...process.env, CRASH_DATA_DIR: dataDir, LOG_LEVEL: 'silent' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  child.on('exit', () => children.delete(child));
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const lines = createInterface({ input: child.stdout! });
  const first = await Promise.race([
    once(lines, 'line').then(([l]) => l as string),
    once(child, 'exit').then(() => {
      throw new Error(`The gateway child exited before it was ready:\n${stderr}`);
    }),
  ]);
  return { child, ready: JSON.parse(first) as Ready };
}

afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

const QUERY = 'query Citizen($personalId: ID!) { citizen(personalId: $personalId) { fullName permanentResidence { fullAddress } } }';

it('every response received before a SIGKILL has its record, and the chain verifies after restart', async () => {
  const { child, ready } = await startChild();
  const received: Array<{ status: number; requestId: string }> = [];
  let sent = 0;
  let stop = false;

  const worker = async (w: number) => {
    for (let i = 0; !stop; i++) {
      const n = sent++;
      const personalId = ready.personalIds[n % ready.personalIds.length]!;
      // A mix of outcomes: shared data, a refusal (no purpose), unauthenticated, invalid.
      const kind = n % 7;
      const headers: Record<string, string> = { 'content-type': 'application/json', 'x-request-id': `crash-${w}-${i}` };
      if (kind !== 5) headers.authorization = `Bearer ${ready.clientKey}`;
      if (kind !== 3) headers['x-purpose'] = 'lodging-notification';
      const body = kind === 6 ? '{"query": ' : JSON.stringify({ query: QUERY, variables: { personalId } });
      try {
        const res = await fetch(ready.graphqlUrl, { method: 'POST', headers, body });
        await res.arrayBuffer();
        received.push({ status: res.status, requestId: res.headers.get('x-request-id') ?? '' });
      } catch {
        // The process died under this request: no response, nothing to check.
        return;
      }
    }
  };
  const workers = Array.from({ length: 16 }, (_, w) => worker(w));
  // Kill in the middle of the load.
  await expect.poll(() => received.length, { timeout: 30_000, interval: 20 }).toBeGreaterThanOrEqual(300);
  child.kill('SIGKILL');
  stop = true;
  await once(child, 'exit').catch(() => undefined);
  await Promise.all(workers);
  expect(received.length).toBeGreaterThanOrEqual(300);
  expect(new Set(received.map((r) => r.status))).toEqual(new Set([200, 400, 401, 403]));

  const file = path.join(dataDir, 'audit.db');
  const store = new SqliteAuditStore({ file });
  await store.init();
  try {
    for (const r of received) {
      const page = await store.search({ requestId: r.requestId }, { limit: 2 });
      expect(page.items, `record of ${r.requestId} (HTTP ${r.status})`).toHaveLength(1);
      expect(page.items[0]!.httpStatus).toBe(r.status);
    }
    const afterCrash = await verifyStore(store);
    expect(afterCrash.ok).toBe(true);
    const headBefore = (await store.head('crash-gw'))!;
    expect(headBefore.seq).toBeGreaterThanOrEqual(received.length);
    await store.close();

    // Restart: the chain continues where the killed process left it.
    const second = await startChild();
    const more: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await fetch(second.ready.graphqlUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${second.ready.clientKey}`, 'x-purpose': 'lodging-notification', 'x-request-id': `restart-${i}` },
        body: JSON.stringify({ query: QUERY, variables: { personalId: second.ready.personalIds[i] } }),
      });
      await res.arrayBuffer();
      expect(res.status).toBe(200);
      more.push(res.headers.get('x-request-id')!);
    }
    second.child.kill('SIGTERM');
    await once(second.child, 'exit');

    const reopened = new SqliteAuditStore({ file, readonly: true });
    try {
      const first = (await reopened.search({ requestId: more[0]! }, { limit: 1 })).items[0]!;
      expect(first.seq).toBe(headBefore.seq + 1);
      expect(first.prevHash).toBe(headBefore.hash);
    } finally {
      await reopened.close();
    }
    // Offline, with the command auditors use.
    const { stdout } = await promisify(execFile)(process.execPath, [path.join(REPO_ROOT, 'bin', 'motlan.mjs'), 'audit', 'verify', '--db', file], { cwd: REPO_ROOT });
    expect(stdout).toContain('Result: intact.');
    // A clean shutdown signs the tail: nothing left unsigned.
    expect(stdout).not.toContain('not yet covered');
  } finally {
    await store.close().catch(() => undefined);
  }
}, 120_000);
