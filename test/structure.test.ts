/**
 * The dependency direction of docs/ARCHITECTURE.md, checked on every import of the repository
 * (type-only imports, re-exports and dynamic `import()` included, read with the TypeScript
 * compiler's own pre-processor):
 *
 *   lib/  ←  gateway/core/  ←  gateway/<concern>/  ←  gateway/app.ts (the composition)
 *
 * - no import cycle anywhere;
 * - lib/ imports only lib/; gateway/core/ imports only core and lib/;
 * - a concern folder imports only its own files, core and lib/, never another concern;
 * - production code (gateway/, lib/, subgraphs/, cli/) never imports mocks/.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../lib/repo-root.js';

const SKIP = new Set(['node_modules', 'data', '.git', 'bench', 'docs', 'schema', 'config']);

function walk(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (SKIP.has(name)) continue;
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (/\.(ts|mts)$/.test(name) && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

const rel = (p: string) => path.relative(REPO_ROOT, p).split(path.sep).join('/');

/** Relative imports of a file, resolved to repository files (`.js` → `.ts`). */
function importsOf(file: string): string[] {
  const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
  const out: string[] = [];
  for (const { fileName } of info.importedFiles) {
    if (!fileName.startsWith('.')) continue;
    const base = path.resolve(path.dirname(file), fileName);
    const candidates = [base.replace(/\.js$/, '.ts'), base.replace(/\.mjs$/, '.mts'), base, `${base}.ts`, path.join(base, 'index.ts')];
    const found = candidates.find((c) => {
      try {
        return statSync(c).isFile();
      } catch {
        return false;
      }
    });
    if (found) out.push(rel(found));
  }
  return out;
}

const FILES = walk(REPO_ROOT).map(rel);
const GRAPH = new Map(FILES.map((f) => [f, importsOf(path.join(REPO_ROOT, f))]));
const isTest = (f: string) => f.endsWith('.test.ts') || f.startsWith('test/');

/** Strongly connected components with more than one file (or a file importing itself): the cycles. */
function cycles(graph: Map<string, string[]>): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) out.push(scc.sort());
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  return out;
}

/** The concern folder of a gateway file (`gateway/cache/x.ts` → `cache`), 'core', or null for the composition files. */
function layerOf(file: string): string | null {
  const m = /^gateway\/([^/]+)\//.exec(file);
  return m ? m[1]! : null;
}

/**
 * Production files that still import mocks/, each with why. The list may only shrink: the test
 * fails when a listed file no longer imports mocks/ (remove it then).
 */
const MOCKS_EXCEPTIONS: Record<string, string> = {};

describe('dependency direction', () => {
  it('finds the files it checks', () => {
    expect(FILES.filter((f) => f.startsWith('gateway/core/')).length).toBeGreaterThan(10);
    expect(GRAPH.get('gateway/app.ts')).toContain('gateway/core/concern.ts');
  });

  it('has no import cycle (type imports included)', () => {
    expect(cycles(GRAPH)).toEqual([]);
  });

  it('detects a cycle when there is one (the checker itself)', () => {
    expect(cycles(new Map([['a', ['b']], ['b', ['c']], ['c', ['a']], ['d', ['a']]]))).toEqual([['a', 'b', 'c']]);
  });

  it('lib/ imports only lib/', () => {
    const bad = FILES.filter((f) => f.startsWith('lib/') && !isTest(f)).flatMap((f) => GRAPH.get(f)!.filter((t) => !t.startsWith('lib/')).map((t) => `${f} → ${t}`));
    expect(bad).toEqual([]);
  });

  it('gateway/core/ imports only core and lib/', () => {
    const bad = FILES.filter((f) => f.startsWith('gateway/core/') && !isTest(f)).flatMap((f) =>
      GRAPH.get(f)!.filter((t) => !t.startsWith('gateway/core/') && !t.startsWith('lib/')).map((t) => `${f} → ${t}`),
    );
    expect(bad).toEqual([]);
  });

  it('a concern imports only its own folder, core and lib/ — never another concern', () => {
    const bad: string[] = [];
    for (const f of FILES) {
      const own = layerOf(f);
      if (!own || own === 'core' || isTest(f)) continue;
      for (const t of GRAPH.get(f)!) {
        if (t.startsWith('lib/') || t.startsWith('gateway/core/') || t.startsWith(`gateway/${own}/`) || t.startsWith('mocks/')) continue;
        bad.push(`${f} → ${t}`);
      }
    }
    expect(bad).toEqual([]);
  });

  it('production code never imports mocks/ (beyond the listed, shrinking exceptions)', () => {
    const production = FILES.filter((f) => /^(gateway|lib|subgraphs|cli)\//.test(f) && !isTest(f) && !f.endsWith('test-support.ts'));
    const importing = production.filter((f) => GRAPH.get(f)!.some((t) => t.startsWith('mocks/')));
    expect(importing.filter((f) => !(f in MOCKS_EXCEPTIONS))).toEqual([]);
    // An exception that no longer applies must be removed from the list.
    expect(Object.keys(MOCKS_EXCEPTIONS).filter((f) => !importing.includes(f))).toEqual([]);
  });
});
