/**
 * Loads the procedure catalog: every `*.yaml`, `*.yml` or `*.json` file (one procedure
 * each; `*.schema.json` is skipped) of the catalog folders, validated with the zod
 * format, then against the supergraph, then compiled. Any problem anywhere stops the
 * load with a CatalogError listing each problem with its file, procedure and path, so
 * the gateway refuses to start on a broken catalog rather than serve a wrong form.
 *
 * Interconnected groups live in `<folder>/groups/` (groups.ts); a group naming an unknown
 * procedure fails the load like a bad path.
 *
 * Adding a procedure needs no code: drop a file in a folder and restart or reload.
 */
import path from 'node:path';
import { REPO_ROOT } from '../../lib/repo-root.js';
import { procedureSchema, type ProcedureDef } from './catalog-format.js';
import { CatalogError, compileProcedure, type CatalogProblem, type CompiledProcedure } from './compile.js';
import { catalogFiles, readCatalogFile } from './catalog-files.js';
import { loadGroups, type CompiledGroup } from './groups.js';
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
  /** Interconnected groups (`<folder>/groups/*.yaml`) by id, in id order. */
  readonly groups: ReadonlyMap<string, CompiledGroup>;
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

export { catalogFiles } from './catalog-files.js';

/** Parses and checks the format of one procedure file; problems are appended to `problems`. */
export function readProcedureFile(file: string, problems: CatalogProblem[]): ProcedureDef | null {
  return readCatalogFile(file, procedureSchema, problems);
}

/** A file's path relative to the repository when inside it, for readable messages. */
function relative(file: string): string {
  return path.relative(REPO_ROOT, file).startsWith('..') ? file : path.relative(REPO_ROOT, file);
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
      const rel = relative(file);
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
  compiled.sort((a, b) => a.def.id.localeCompare(b.def.id));
  const byId = new Map(compiled.map((p) => [p.def.id, p]));
  // Groups are checked even when a procedure failed, so one load reports every problem
  // (a group naming a broken procedure then also reports it as unknown).
  let groups: CompiledGroup[] = [];
  try {
    groups = loadGroups(dirs, byId, model, relative, problems);
  } catch (err) {
    if (err instanceof CatalogError) problems.push(...err.problems);
    else throw err;
  }
  if (problems.length) throw new CatalogError(problems);
  return { byId, groups: new Map(groups.map((g) => [g.def.id, g])), dirs, model, loadedAt: new Date().toISOString() };
}
