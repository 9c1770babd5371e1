/**
 * Starts stack-child.ts in its own Node process (tsx) and waits until it listens.
 *
 *   const s = await startStackProcess({ citizens: 300, gateway: { clientsFile } });
 *   // s.graphqlUrl, s.world, s.apiSchema, s.issueToken(...)
 *   await s.close();
 */
import { fork } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSchema, type GraphQLSchema } from 'graphql';
import type { World } from '../../mocks/world/types.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));

export interface StackProcess {
  gatewayUrl: string;
  graphqlUrl: string;
  eidUrl: string;
  apiSchema: GraphQLSchema;
  world: World;
  /** A subject token from the mock e-ID issuer (its development `POST /token`). */
  issueToken(personalId: string, procedureId: string): Promise<string>;
  /** CPU time the stack process has used (user + system, ms). */
  cpuMs(): Promise<number>;
  close(): Promise<void>;
}

export interface StackProcessOptions {
  citizens?: number;
  /** Gateway options (JSON-serialisable) on top of the stack's. */
  gateway?: Record<string, unknown>;
  /** How long to wait for the child to listen. Default 120 s (a loaded CI machine). */
  startTimeoutMs?: number;
}

export async function startStackProcess(opts: StackProcessOptions = {}): Promise<StackProcess> {
  const child = fork(path.join(HERE, 'stack-child.ts'), [JSON.stringify({ citizens: opts.citizens, gateway: opts.gateway })], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    serialization: 'advanced',
  });
  const ready = await new Promise<{ gatewayUrl: string; graphqlUrl: string; eidUrl: string; apiSchema: string; world: World }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the stack process did not start in time')), opts.startTimeoutMs ?? 120_000);
    child.once('message', (m) => {
      clearTimeout(timer);
      resolve(m as never);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the stack process exited with code ${code} before listening`));
    });
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    gatewayUrl: ready.gatewayUrl,
    graphqlUrl: ready.graphqlUrl,
    eidUrl: ready.eidUrl,
    apiSchema: buildSchema(ready.apiSchema),
    world: ready.world,
    async issueToken(personalId, procedureId) {
      const res = await fetch(`${ready.eidUrl}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ personalId, procedureId, ttl: 3600 }),
      });
      if (!res.ok) throw new Error(`mock e-ID refused a token: ${res.status} ${await res.text()}`);
      return ((await res.json()) as { token: string }).token;
    },
    cpuMs() {
      return new Promise((resolve) => {
        const onMessage = (m: unknown) => {
          const cpu = (m as { cpu?: { user: number; system: number } }).cpu;
          if (!cpu) return;
          child.off('message', onMessage);
          resolve(Math.round((cpu.user + cpu.system) / 1000));
        };
        child.on('message', onMessage);
        child.send('cpu');
      });
    },
    async close() {
      if (child.exitCode !== null) return;
      child.send('close');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
