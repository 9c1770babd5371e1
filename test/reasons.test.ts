/**
 * `extensions.reason` is a stable enum with a table for integrators: every reason the
 * code can answer is in REFUSAL_REASONS (gateway/core/reasons.ts), and that list and the
 * table in docs/INTEGRATION.md ("Reasons") agree row for row, with the status ERROR_TABLE
 * gives each code. The code is read as text (every `reason: '…'` literal and the reason
 * lists of the policy and the response check), so a new reason thrown anywhere in the
 * gateway fails here until it is documented.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_TABLE } from '../gateway/core/errors.js';
import { REFUSAL_REASONS } from '../gateway/core/reasons.js';
import { SUBJECT_NOT_RELATED } from '../gateway/core/relations.js';
import { RESPONSE_REASONS } from '../gateway/disclosure/plugin.js';
import { POLICY_REASONS } from '../gateway/policy/plugin.js';

const ROOT = path.join(import.meta.dirname, '..');
const GUIDE = readFileSync(path.join(ROOT, 'docs/INTEGRATION.md'), 'utf8');

/** The rows of the markdown table under `heading`, as cells with backticks removed. */
function tableUnder(heading: string): string[][] {
  const start = GUIDE.indexOf(`\n${heading}\n`);
  expect(start, `docs/INTEGRATION.md has a "${heading}" section`).toBeGreaterThan(-1);
  const lines = GUIDE.slice(start + heading.length + 2).split('\n');
  const first = lines.findIndex((l) => l.startsWith('|'));
  const rows: string[][] = [];
  for (const line of lines.slice(first + 2)) {
    if (!line.startsWith('|')) break;
    rows.push(line.split('|').slice(1, -1).map((c) => c.trim().replace(/`/g, '')));
  }
  return rows;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) return sourceFiles(p);
    return p.endsWith('.ts') && !p.endsWith('.test.ts') ? [p] : [];
  });
}

/** Every reason the gateway's code can put in `extensions.reason`. */
function reasonsInCode(): Map<string, string> {
  const found = new Map<string, string>();
  for (const file of [...sourceFiles(path.join(ROOT, 'gateway')), ...sourceFiles(path.join(ROOT, 'lib'))]) {
    const text = readFileSync(file, 'utf8');
    // `reason: 'X'` in extensions; lower-case reasons are internal (cache decisions, signature checks), not answered.
    for (const m of text.matchAll(/\breason: '([A-Z][A-Z0-9_]+)'/g)) found.set(m[1]!, path.relative(ROOT, file));
  }
  for (const r of POLICY_REASONS) found.set(r, 'gateway/policy/plugin.ts POLICY_REASONS');
  for (const r of Object.values(RESPONSE_REASONS)) found.set(r, 'gateway/disclosure/plugin.ts RESPONSE_REASONS');
  found.set(SUBJECT_NOT_RELATED, 'gateway/core/relations.ts');
  return found;
}

describe('extensions.reason: code, enum and the integrators\' table agree', () => {
  const table = tableUnder('### Reasons');

  it('every reason the code can answer is in REFUSAL_REASONS', () => {
    const code = reasonsInCode();
    expect(code.size).toBeGreaterThan(15);
    const undocumented = [...code].filter(([r]) => !Object.hasOwn(REFUSAL_REASONS, r)).map(([r, where]) => `${r} (${where})`);
    expect(undocumented, 'add them to gateway/core/reasons.ts and docs/INTEGRATION.md').toEqual([]);
  });

  it('the table lists exactly REFUSAL_REASONS, each with its code and that code\'s status', () => {
    const rows = table.map(([reason, code, status, meaning, action]) => ({ reason, code, status: Number(status), meaning, action }));
    expect(rows.map((r) => r.reason).sort()).toEqual(Object.keys(REFUSAL_REASONS).sort());
    for (const row of rows) {
      const code = REFUSAL_REASONS[row.reason as keyof typeof REFUSAL_REASONS];
      expect(row.code, row.reason).toBe(code);
      expect(row.status, row.reason).toBe(ERROR_TABLE[code].status);
      expect(row.meaning, `${row.reason}: meaning`).toMatch(/\w{3}/);
      expect(row.action, `${row.reason}: what to do`).toMatch(/\w{3}/);
    }
  });

  it('the error-code table gives each code the status of ERROR_TABLE', () => {
    const rows = tableUnder('### Error codes');
    expect(rows.length).toBeGreaterThan(8);
    for (const [codes, status] of rows) {
      for (const code of codes!.split(',').map((c) => c.trim())) {
        expect(Object.hasOwn(ERROR_TABLE, code), code).toBe(true);
        expect(Number(status!.match(/^\d{3}/)?.[0]), code).toBe(ERROR_TABLE[code as keyof typeof ERROR_TABLE].status);
      }
    }
  });
});
