/**
 * The test files share one module graph per worker (vitest.config.ts `isolate: false`), so a file
 * that changed process-wide state would change the files that run after it in the same worker,
 * depending on which worker it lands in. This keeps out the ways a test file could do that.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../lib/repo-root.js';

const FORBIDDEN: Array<[RegExp, string]> = [
  [/process\.env(\.[A-Za-z_]+|\[[^\]]+\])\s*=(?!=)/, 'assigns process.env (pass env to the child process or the options instead)'],
  [/delete\s+process\.env/, 'deletes from process.env'],
  [/vi\.(stubEnv|stubGlobal|mock|doMock|useFakeTimers)\(/, 'stubs or mocks process-wide state'],
  [/setGlobalDispatcher\(/, 'replaces the global fetch dispatcher'],
];

function testFiles(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'node_modules' || e.name === 'data' || e.name.startsWith('.')) continue;
    const p = path.join(dir, e.name);
    if (e.isDirectory()) testFiles(p, out);
    else if (e.name.endsWith('.test.ts') && p !== path.join(REPO_ROOT, 'test', 'shared-worker.test.ts')) out.push(p);
  }
  return out;
}

describe('test files sharing a worker', () => {
  it('change no process-wide state (env, mocks, timers, the global dispatcher)', () => {
    const files = testFiles(REPO_ROOT);
    expect(files.length).toBeGreaterThan(50);
    const found: string[] = [];
    for (const f of files) {
      const text = readFileSync(f, 'utf8');
      for (const [re, what] of FORBIDDEN) if (re.test(text)) found.push(`${path.relative(REPO_ROOT, f)} ${what}`);
    }
    expect(found).toEqual([]);
  });
});
