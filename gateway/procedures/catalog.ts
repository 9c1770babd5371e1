/**
 * Loads the procedure catalog: every `*.yaml`, `*.yml` or `*.json` file (one procedure
 * each; `*.schema.json` is skipped) of the catalog folders, validated with the zod
 * format, then against the supergraph, then compiled. Any problem anywhere stops the
 * load with a CatalogError listing each problem with its file, procedure and path, so
 * the gateway refuses to start on a broken catalog rather than serve a wrong form.
 *
 * Adding a procedure needs no code: drop a file in a folder and restart or reload.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { REPO_ROOT } from '../../lib/repo-root.js';
import { procedureSchema, type ProcedureDef } from './catalog-format.js';
import { CatalogError, compileProcedure, type CatalogProblem, type CompiledProcedure } from './compile.js';
import { supergraphModel, type SupergraphModel } from './supergraph-model.js';

/** The shipped catalog. */
export const DEFAULT_CATALOG_DIR = path.join(REPO_ROOT, 'schema', 'procedures');

export interface CatalogOptions {
  /** Composed supergraph SDL the paths are checked against. */
  supergraphSdl: string;
  /**
   * Folders read in order. Default: `schema/procedures/`, plus the folder in the
   * `PROCEDURES_DIR_EXTRA` environment variable when set (see `catalogDirs`).
   */
  dirs?: string[];
  /** Where `PROCEDURES_DIR_EXTRA` is read. Default: `process.env`. */
  env?: NodeJS.ProcessEnv;
}

export interface Catalog {
  /** Procedures by id, in id order. */
  readonly byId: ReadonlyMap<string, CompiledProcedure>;
  readonly dirs: readonly string[];
  readonly model: SupergraphModel;
  /** ISO time of the load. */
  readonly loadedAt: string;
}

/** The folders of the catalog: the shipped one and the optional extra one. */
export function catalogDirs(env: NodeJS.ProcessEnv = process.env): string[] {
  const extra = env.PROCEDURES_DIR_EXTRA?.trim();
  return extra ? [DEFAULT_CATALOG_DIR, path.resolve(extra)] : [DEFAULT_CATALOG_DIR];
}

const CATALOG_FILE = /\.(ya?ml|json)$/i;

/** Catalog files of one folder, sorted by name (the JSON Schema next to them is skipped). */
export function catalogFiles(dir: string): string[] {
  let names: string[];
  try {
    if (!statSync(dir).isDirectory()) throw new Error('not a directory');
    names = readdirSync(dir);
  } catch (err) {
    throw new CatalogError([{ file: dir, message: `cannot read the catalog folder (${(err as Error).message}): check the path (PROCEDURES_DIR_EXTRA for the extra folder)` }]);
  }
  return names
    .filter((n) => CATALOG_FILE.test(n) && !n.endsWith('.schema.json'))
    .sort()
    .map((n) => path.join(dir, n));
}

/** Parses and checks the format of one file; problems are appended to `problems`. */
export function readProcedureFile(file: string, problems: CatalogProblem[]): ProcedureDef | null {
  let raw: unknown;
  try {
    const text = readFileSync(file, 'utf8');
    raw = file.toLowerCase().endsWith('.json') ? JSON.parse(text) : parseYaml(text, { prettyErrors: true, uniqueKeys: true });
  } catch (err) {
    problems.push({ file, message: `not valid ${file.toLowerCase().endsWith('.json') ? 'JSON' : 'YAML'}: ${(err as Error).message.split('\n')[0]}` });
    return null;
  }
  const parsed = procedureSchema.safeParse(raw);
  if (!parsed.success) {
    const id = typeof (raw as { id?: unknown } | null)?.id === 'string' ? (raw as { id: string }).id : undefined;
    for (const issue of parsed.error.issues) {
      problems.push({ file, procedureId: id, where: issue.path.length ? issue.path.map(String).join('.') : undefined, message: issue.message });
    }
    return null;
  }
  return parsed.data;
}

/** Loads, validates and compiles the whole catalog; throws CatalogError naming every problem. */
export function loadCatalog(opts: CatalogOptions): Catalog {
  const dirs = opts.dirs ?? catalogDirs(opts.env);
  const model = supergraphModel(opts.supergraphSdl);
  const problems: CatalogProblem[] = [];
  const seen = new Map<string, string>();
  const compiled: CompiledProcedure[] = [];
  for (const dir of dirs) {
    let files: string[];
    try {
      files = catalogFiles(dir);
    } catch (err) {
      if (err instanceof CatalogError) problems.push(...err.problems);
      else throw err;
      continue;
    }
    for (const file of files) {
      const rel = path.relative(REPO_ROOT, file).startsWith('..') ? file : path.relative(REPO_ROOT, file);
      const fileProblems: CatalogProblem[] = [];
      const def = readProcedureFile(file, fileProblems);
      // Report paths relative to the repository for readability.
      problems.push(...fileProblems.map((p) => ({ ...p, file: rel })));
      if (!def) continue;
      const first = seen.get(def.id);
      if (first) {
        problems.push({ file: rel, procedureId: def.id, where: 'id', message: `duplicate procedure id ${def.id}, already defined in ${first}` });
        continue;
      }
      seen.set(def.id, rel);
      try {
        compiled.push(compileProcedure(def, rel, model));
      } catch (err) {
        if (err instanceof CatalogError) problems.push(...err.problems);
        else throw err;
      }
    }
  }
  if (problems.length) throw new CatalogError(problems);
  compiled.sort((a, b) => a.def.id.localeCompare(b.def.id));
  return { byId: new Map(compiled.map((p) => [p.def.id, p])), dirs, model, loadedAt: new Date().toISOString() };
}
