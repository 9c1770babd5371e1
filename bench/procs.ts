/**
 * Child processes for the benchmark: each component runs in its own Node process
 * (`node --import tsx`, no wrapper process, so its PID is the one whose memory we
 * read) and is stopped with its whole process group.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { REPO_ROOT } from '../lib/repo-root.js';
import { NO_EGRESS_ENV } from '../lib/no-egress.js';

/** USER_HZ of /proc/<pid>/stat: 100 on every Linux this runs on (getconf CLK_TCK). */
const CLOCK_TICKS_PER_SECOND = 100;

export interface Proc {
  name: string;
  child: ChildProcess;
  /** Resident set size in MiB, read from /proc (Linux). */
  rssMiB(): number;
  /**
   * CPU time (user + system) the process has used so far, in ms, read from /proc (Linux).
   * Divided by the requests served in a window it gives CPU per request, which, unlike
   * throughput, hardly moves when other processes compete for the cores.
   */
  cpuMs(): number;
  stop(): Promise<void>;
}

export function startProc(name: string, script: string, env: Record<string, string>, nodeArgs: string[] = []): Proc {
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', script], {
    cwd: REPO_ROOT,
    // No egress in any contender (APOLLO_TELEMETRY_DISABLED…), whatever the caller's environment says.
    env: { ...process.env, LOG_LEVEL: 'warn', ...env, ...NO_EGRESS_ENV },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let tail = '';
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString()).slice(-4000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  child.on('exit', (code, signal) => {
    if (code && code !== 0 && !stopping) process.stderr.write(`[bench] ${name} exited with ${code ?? signal}:\n${tail}\n`);
  });
  let stopping = false;
  return {
    name,
    child,
    cpuMs() {
      try {
        // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
        const stat = readFileSync(`/proc/${child.pid}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
      } catch {
        return NaN;
      }
    },
    rssMiB() {
      try {
        const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
        const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
        return kb / 1024;
      } catch {
        return 0;
      }
    },
    stop() {
      stopping = true;
      if (child.exitCode !== null) return Promise.resolve();
      return new Promise((resolve) => {
        child.once('exit', () => resolve());
        try {
          process.kill(-child.pid!, 'SIGTERM');
        } catch {
          resolve();
        }
        setTimeout(() => {
          try {
            process.kill(-child.pid!, 'SIGKILL');
          } catch {
            /* already gone */
          }
        }, 5000).unref();
      });
    },
  };
}

/** Polls a URL until it answers 200 (or `accept` says so), failing after `timeoutMs`. */
export async function waitFor(url: string, timeoutMs = 120_000, init?: RequestInit): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url, init);
      if (res.ok) return;
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} did not become ready within ${timeoutMs} ms (last: ${last})`);
}
