/**
 * Reading catalog files (procedures and groups): the files of a folder, and one file
 * parsed (YAML or JSON) and checked against a zod format, every problem located.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { CatalogError, type CatalogProblem } from './compile.js';

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
export function readCatalogFile<T extends z.ZodType>(file: string, schema: T, problems: CatalogProblem[]): z.infer<T> | null {
  let raw: unknown;
  try {
    const text = readFileSync(file, 'utf8');
    raw = file.toLowerCase().endsWith('.json') ? JSON.parse(text) : parseYaml(text, { prettyErrors: true, uniqueKeys: true });
  } catch (err) {
    problems.push({ file, message: `not valid ${file.toLowerCase().endsWith('.json') ? 'JSON' : 'YAML'}: ${(err as Error).message.split('\n')[0]}` });
    return null;
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const id = typeof (raw as { id?: unknown } | null)?.id === 'string' ? (raw as { id: string }).id : undefined;
    for (const issue of parsed.error.issues) {
      problems.push({ file, procedureId: id, where: issue.path.length ? issue.path.map(String).join('.') : undefined, message: issue.message });
    }
    return null;
  }
  return parsed.data as z.infer<T>;
}
