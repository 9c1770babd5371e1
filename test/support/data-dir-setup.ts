/**
 * Vitest setup file: every test file gets its own empty DATA_DIR, so a gateway a test
 * builds without an explicit `audit.dataDir` never shares the repository's `./data`
 * (its SQLite store is held exclusively, and its witness must match its store) with
 * another test file, a developer's `npm start` or an earlier run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';

const dir = mkdtempSync(path.join(tmpdir(), 'motlan-test-data-'));
process.env.DATA_DIR = dir;

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});
