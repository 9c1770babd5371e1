/**
 * `motlan <area> <command>`: the operator and auditor command line.
 * Run with `npx motlan …` (bin/motlan.mjs) or `npx tsx cli/main.ts …`.
 */
import { pathToFileURL } from 'node:url';
import { runAuditCli, AUDIT_USAGE } from './audit.js';
import { DOCTOR_USAGE, runDoctor } from './doctor.js';
import { STATS_USAGE, runStatsCli } from './stats.js';
import { defaultIo, type CliIo } from './io.js';

const USAGE = `motlan — Motlan gateway command line

Usage:
  motlan audit <command> [options]   the audit trail (verify, export, archive, keygen)
  motlan stats rebuild [options]     recompute the statistics rollups from the audit records
  motlan doctor [--json]             the production checklist for this environment
  motlan help                        this text

${AUDIT_USAGE}

${STATS_USAGE}

${DOCTOR_USAGE}`;

export async function main(argv: string[], io: CliIo = defaultIo()): Promise<number> {
  const [area, ...rest] = argv;
  if (area === 'audit') return runAuditCli(rest, io);
  if (area === 'doctor') return runDoctor(rest, io);
  if (area === 'stats') return runStatsCli(rest, io);
  if (area === undefined || area === 'help' || area === '--help' || area === '-h') {
    io.out(USAGE);
    return area === undefined ? 2 : 0;
  }
  io.err(`Unknown command "${area}".\n\n${USAGE}`);
  return 2;
}

// Run when executed (bin/motlan.mjs imports this module; tests import `main`).
const invoked = process.argv[1] && (import.meta.url === pathToFileURL(process.argv[1]).href || /motlan(\.mjs)?$/.test(process.argv[1]));
if (invoked) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`motlan: ${(err as Error)?.stack ?? String(err)}\n`);
      process.exitCode = 2;
    },
  );
}
