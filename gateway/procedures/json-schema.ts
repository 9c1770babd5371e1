/**
 * Writes `schema/procedures/procedure.schema.json` from the zod format
 * (`npm run procedures:schema`); a test checks the shipped file is up to date.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_CATALOG_DIR } from './catalog.js';
import { procedureJsonSchema } from './catalog-format.js';

export const JSON_SCHEMA_FILE = path.join(DEFAULT_CATALOG_DIR, 'procedure.schema.json');

export function jsonSchemaText(): string {
  return JSON.stringify(procedureJsonSchema(), null, 2) + '\n';
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  writeFileSync(JSON_SCHEMA_FILE, jsonSchemaText());
  console.log(`Wrote ${path.relative(process.cwd(), JSON_SCHEMA_FILE)}`);
}
