/**
 * The processes that launched `npm start`, so it can stop its children when they go.
 *
 * `npm start` runs as npm → sh → node (scripts/start.ts, tsx loaded with `--import`). A SIGTERM to npm does not
 * reach us (sh dies of it without passing it on), and when npm's own parent dies nobody
 * tells npm. So we watch them instead: every launcher above us (a process whose command
 * line names npm, npx or tsx, or that npm started for the script: its environment carries
 * `npm_lifecycle_event`) and the parent of the topmost one. When one of them is gone (or its
 * pid now belongs to another process), the run is over.
 *
 * Linux: read from /proc. Elsewhere only our direct parent is watched (`process.ppid`).
 */
import { existsSync, readFileSync } from 'node:fs';

export interface Watched {
  pid: number;
  /** The process's start time (clock ticks since boot), to tell it from a later process that reuses the pid; null when unknown. */
  startTime: string | null;
  /** Its command line, for the message. */
  command: string;
}

const HAS_PROC = existsSync('/proc/self/stat');

function stat(pid: number): { ppid: number; startTime: string } | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: fields start after the last ')'.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state); ppid is field 4, starttime field 22.
    if (fields[0] === 'Z') return null;
    return { ppid: Number(fields[1]), startTime: fields[19]! };
  } catch {
    return null;
  }
}

function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
  } catch {
    return '';
  }
}

function startedByNpm(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').some((v) => v.startsWith('npm_lifecycle_event='));
  } catch {
    return false;
  }
}

const LAUNCHER = /(^|[\s/])(npm|npx|npm-cli\.js|npx-cli\.js|tsx)(\s|$)|\/tsx\/dist\/cli\.mjs/;

/** The launchers above `pid` (nearest first) and the parent of the topmost one. */
export function launchChain(pid: number = process.pid): Watched[] {
  if (!HAS_PROC) return [{ pid: process.ppid, startTime: null, command: 'parent process' }];
  const out: Watched[] = [];
  let current = stat(pid)?.ppid;
  while (current !== undefined && current > 1) {
    const s = stat(current);
    if (!s) break;
    const command = commandOf(current);
    out.push({ pid: current, startTime: s.startTime, command });
    // The first process that is not a launcher is the one that ran `npm start`: watch it, stop there.
    if (!LAUNCHER.test(command) && !startedByNpm(current)) break;
    current = s.ppid;
  }
  return out;
}

/** True while `w` still runs (the same process, not a later one with its pid). */
export function stillRunning(w: Watched): boolean {
  if (!HAS_PROC) return process.ppid === w.pid;
  const s = stat(w.pid);
  return s !== null && (w.startTime === null || s.startTime === w.startTime);
}
