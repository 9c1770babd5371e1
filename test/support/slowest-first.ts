/**
 * The order vitest starts test files in: the slowest files first, so they run alongside
 * the many short ones instead of alone at the end (with two workers, a 160-second file
 * started last makes the suite 160 seconds longer than the work needs).
 *
 * vitest already starts the files that took longest first when it has timings of an earlier
 * run (its results cache in node_modules/.vite), but CI installs node_modules afresh
 * (`npm ci`) and has none: it then starts the largest files first, and file size says
 * little about run time. SLOWEST_FILES names the files that were slowest in CI; any other
 * file keeps vitest's order.
 */
import path from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Slowest first, as measured (README, Development: one file alone on the shared 2-core machine,
 * 2026-11-30): the invariant's 10,000 requests, the 100,000-citizen world, the concurrent
 * `npm start` runs, then the two cache files (a gateway per test).
 */
export const SLOWEST_FILES: readonly string[] = [
  'test/invariant.test.ts',
  'mocks/world/generate.test.ts',
  'test/start.test.ts',
  'test/cache.test.ts',
  'test/response-cache.test.ts',
];

export class SlowestFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (spec: TestSpecification) => {
      const i = SLOWEST_FILES.indexOf(path.relative(spec.project.config.root, spec.moduleId).split(path.sep).join('/'));
      return i === -1 ? SLOWEST_FILES.length : i;
    };
    // Array.prototype.sort is stable: the files not listed keep vitest's order.
    return sorted.sort((a, b) => rank(a) - rank(b));
  }
}
