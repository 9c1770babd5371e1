/**
 * Writes `schema/procedures/procedure.schema.json` and
 * `schema/procedures/groups/group.schema.json` from the zod format
 * (`npm run procedures:schema`); a test checks the shipped files are up to date.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_CATALOG_DIR } from './catalog.js';
import { groupJsonSchema, procedureJsonSchema } from './catalog-format.js';

export const JSON_SCHEMA_FILE = path.join(DEFAULT_CATALOG_DIR, 'procedure.schema.json');
export const GROUP_JSON_SCHEMA_FILE = path.join(DEFAULT_CATALOG_DIR, 'groups', 'group.schema.json');

export function jsonSchemaText(): string {
  return JSON.stringify(procedureJsonSchema(), null, 2) + '\n';
}

export function groupJsonSchemaText(): string {
  return JSON.stringify(groupJsonSchema(), null, 2) + '\n';
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  writeFileSync(JSON_SCHEMA_FILE, jsonSchemaText());
  mkdirSync(path.dirname(GROUP_JSON_SCHEMA_FILE), { recursive: true });
  writeFileSync(GROUP_JSON_SCHEMA_FILE, groupJsonSchemaText());
  console.log(`Wrote ${path.relative(process.cwd(), JSON_SCHEMA_FILE)} and ${path.relative(process.cwd(), GROUP_JSON_SCHEMA_FILE)}`);
}
