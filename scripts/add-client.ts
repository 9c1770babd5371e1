/**
 * Adds a client (a TTHC system, or a staff role) to the clients file with a new
 * random API key, or a new key to an existing client (`--rotate`). The key is
 * printed ONCE; only its SHA-256 is stored. Restart the gateway to load it.
 *
 *   npm run client:add -- --id hcm-tthc --agency "UBND Thành phố Hồ Chí Minh" \
 *     --name "Hệ thống TTHC TP.HCM" --procedures lodging-notification,judicial-record-certificate
 *   npm run client:add -- --id hcm-tthc --rotate            # second key, for rotation
 *
 * Options: --file (default CLIENTS_FILE or config/clients.json), --registries a,b,
 * --permissions a,b, --roles client|auditor|operator|monitor (comma list, default client),
 * --require-subject-token, --expires <ISO date>, --tier ministry|province, --province <code>.
 *
 * Procedure ids are checked against the catalog (schema/procedures/ and PROCEDURES_DIR_EXTRA), the
 * tier and province against lib/provinces.ts, so a typo fails here, naming the valid values, rather
 * than at the client's first request.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CLIENT_ROLES, ClientRegistry, type ClientRole, type ClientsFile } from '../gateway/auth/clients.js';
import { generateApiKey, hashApiKey } from '../gateway/auth/keys.js';
import { catalogDirs, catalogFiles, readProcedureFile } from '../gateway/procedures/catalog.js';
import type { CatalogProblem } from '../gateway/procedures/compile.js';
import { AGENCY_TIERS, PROVINCIAL_UNITS, PROVINCIAL_UNIT_BY_CODE, type AgencyTier } from '../lib/provinces.js';
import { REPO_ROOT } from '../lib/repo-root.js';

export interface AddClientInput {
  id: string;
  agency?: string;
  name?: string;
  procedures?: string[];
  registries?: string[];
  permissions?: string[];
  roles?: ClientRole[];
  requireSubjectToken?: boolean;
  /** ISO date after which the key is refused. */
  expiresAt?: string;
  /** Add a key to an existing client instead of creating one. */
  rotate?: boolean;
  /** The agency's tier. Default: unset (the statistics group it as `unspecified`); `province` when `provinceCode` is given. */
  tier?: string;
  /** With tier `province`: the 2-digit code of one of the 34 provincial units (lib/provinces.ts). */
  provinceCode?: string;
  /**
   * Procedure ids that exist. Default: those of the catalog files (schema/procedures/ and
   * PROCEDURES_DIR_EXTRA), read without compiling them.
   */
  knownProcedures?: readonly string[];
  now?: Date;
}

/** The procedure ids declared by the catalog's files (format-checked only; the gateway compiles them). */
export function catalogProcedureIds(env: NodeJS.ProcessEnv = process.env): string[] {
  const problems: CatalogProblem[] = [];
  const ids: string[] = [];
  for (const dir of catalogDirs(env)) {
    for (const file of catalogFiles(dir)) {
      const def = readProcedureFile(file, problems);
      if (def) ids.push(def.id);
    }
  }
  return ids.sort();
}

/** Edit distance, for "did you mean" (ids are short: the quadratic table is fine). */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = row[j]!;
      row[j] = Math.min(up + 1, row[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return row[b.length]!;
}

/** The nearest of `candidates` to `value` when it is plausibly a typo of it, else null. */
export function nearest(value: string, candidates: readonly string[]): string | null {
  let best: string | null = null;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = distance(value, c);
    if (d < bestD) [best, bestD] = [c, d];
  }
  // A prefix (e.g. "passport") or a few edits away; beyond that a suggestion would mislead.
  if (best && (best.startsWith(value) || bestD <= Math.max(2, Math.floor(best.length / 4)))) return best;
  return null;
}

/** Vietnamese names compared without diacritics or case, so "ho chi minh" finds Thành phố Hồ Chí Minh. */
const fold = (s: string) => s.normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/đ/gi, 'd').toLowerCase().trim();

/** Checks procedure ids against the catalog; throws listing the valid ids and the nearest one. */
export function checkProcedures(procedures: readonly string[], known: readonly string[]): void {
  const unknown = procedures.filter((p) => p !== '*' && !known.includes(p));
  if (unknown.length === 0) return;
  const hints = unknown.map((p) => {
    const n = nearest(p, known);
    return n ? `"${p}" (did you mean ${n}?)` : `"${p}"`;
  });
  throw new Error(
    `Unknown procedure id(s) ${hints.join(', ')}: not in the catalog (schema/procedures/${process.env.PROCEDURES_DIR_EXTRA ? ' and PROCEDURES_DIR_EXTRA' : ''}). ` +
      `Valid ids: ${known.join(', ')}.`,
  );
}

/** Checks the tier and province; returns what to store. Throws listing the valid values. */
export function checkAgencyLevel(tier: string | undefined, provinceCode: string | undefined): { tier?: AgencyTier; provinceCode?: string } {
  const units = () => PROVINCIAL_UNITS.map((u) => `${u.code} ${u.name}`).join(', ');
  if (tier !== undefined && !(AGENCY_TIERS as readonly string[]).includes(tier)) {
    throw new Error(`--tier ${tier} is not a tier: use --tier ministry (khối bộ, ngành) or --tier province (khối địa phương, with --province <code>).`);
  }
  if (provinceCode === undefined) {
    if (tier === 'province') throw new Error(`--tier province needs --province <code>, one of the 34 provincial units: ${units()}.`);
    return tier ? { tier: tier as AgencyTier } : {};
  }
  if (tier === 'ministry') throw new Error(`--province is for --tier province only: a ministry's system has no province (drop --province ${provinceCode}, or use --tier province).`);
  const code = provinceCode.trim();
  if (!PROVINCIAL_UNIT_BY_CODE.has(code)) {
    // A name instead of a code, or a pre-2025 province code: point at the right code.
    const byName = PROVINCIAL_UNITS.find((u) => fold(u.name) === fold(code) || fold(u.name).endsWith(` ${fold(code)}`));
    const hint = byName ? ` ${JSON.stringify(code)} is ${byName.name}: use --province ${byName.code}.` : '';
    throw new Error(`--province ${code} is not one of the 34 current provincial units (in force since 1 July 2025).${hint} Valid codes: ${units()}.`);
  }
  return { tier: 'province', provinceCode: code };
}

/** Updates `file` (created when missing) and returns the new clear key. Throws with a clear message on bad input. */
export function addClient(file: string, input: AddClientInput): { key: string; keyId: string; created: boolean } {
  const doc: ClientsFile = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as ClientsFile) : { clients: [] };
  ClientRegistry.parse(doc, file); // refuse to edit a file that is already invalid
  const now = input.now ?? new Date();
  const key = generateApiKey();
  const stamp = now.toISOString().slice(0, 10);
  let existing = doc.clients.find((c) => c.id === input.id);
  const created = !existing;
  if (existing && input.rotate && (input.tier !== undefined || input.provinceCode !== undefined)) {
    throw new Error(`--rotate only adds a key: to change the tier or province of "${input.id}", edit ${file} (the gateway checks it at start).`);
  }
  if (existing && !input.rotate) throw new Error(`Client "${input.id}" already exists in ${file}: use --rotate to give it an additional key.`);
  if (!existing) {
    if (input.rotate) throw new Error(`Client "${input.id}" is not in ${file}: drop --rotate to create it.`);
    const missing = (['agency', 'name', 'procedures'] as const).filter((k) => input[k] === undefined);
    if (missing.length) throw new Error(`A new client needs ${missing.map((m) => `--${m}`).join(', ')}.`);
    checkProcedures(input.procedures!, input.knownProcedures ?? catalogProcedureIds());
    const level = checkAgencyLevel(input.tier, input.provinceCode);
    existing = {
      id: input.id,
      agency: input.agency!,
      name: input.name!,
      procedures: input.procedures!,
      ...(input.registries ? { registries: input.registries } : {}),
      permissions: input.permissions ?? [],
      requireSubjectToken: input.requireSubjectToken ?? false,
      roles: input.roles ?? ['client'],
      ...level,
      keys: [],
    };
    doc.clients.push(existing);
  }
  let n = existing.keys.length + 1;
  while (existing.keys.some((k) => k.id === `${input.id}-${stamp}-${n}`)) n++;
  const keyId = `${input.id}-${stamp}-${n}`;
  existing.keys.push({ id: keyId, sha256: hashApiKey(key), createdAt: now.toISOString(), ...(input.expiresAt ? { expiresAt: input.expiresAt } : {}) });
  // Validate the result as the gateway will, before touching the file.
  new ClientRegistry(ClientRegistry.parse(doc, file), { production: false });
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(doc, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, file);
  return { key, keyId, created };
}

export const ADD_CLIENT_USAGE = `npm run client:add -- [options]

Adds a client (a TTHC system, or a staff role) to the clients file with a new random API key,
or a new key to an existing client (--rotate). The key is printed ONCE; only its SHA-256 is
stored. Restart the gateway (each replica) to load the change.

  npm run client:add -- --id hcm-tthc --agency "UBND Thành phố Hồ Chí Minh" \\
    --name "Hệ thống TTHC TP.HCM" --tier province --province 79 \\
    --procedures lodging-notification,judicial-record-certificate
  npm run client:add -- --id hcm-tthc --rotate        a second key, for rotation (docs/OPERATIONS.md)

Options:
  --id ID                      client id (required)
  --agency TEXT                the agency (required for a new client)
  --name TEXT                  the system's name (required for a new client)
  --procedures a,b             procedures it may use (required for a new client): ids of the catalog
                               (schema/procedures/, PROCEDURES_DIR_EXTRA); a typo is refused, naming the nearest id
  --tier ministry|province     the agency's tier, for the statistics (khối bộ, ngành / khối địa phương);
                               default: unset, counted as "unspecified"
  --province CODE              with --tier province (implied): 2-digit code of one of the 34 provincial units
                               in force since 1 July 2025, e.g. 01 Hà Nội, 79 Hồ Chí Minh (lib/provinces.ts)
  --registries a,b             restrict it to these registries (default: those of its procedures)
  --permissions a,b            extra permissions
  --roles client,auditor,operator,monitor   default client
  --require-subject-token      its requests need the citizen's e-ID subject token
  --expires DATE               ISO date after which this key is refused
  --rotate                     add a key to an existing client instead of creating one
  --file PATH                  clients file (default: CLIENTS_FILE, else config/clients.json)
  --help, -h                   this text`;

const list = (s: string | undefined) => (s === undefined ? undefined : s.split(',').map((x) => x.trim()).filter(Boolean));

function main(): void {
  const { values } = parseArgs({
    options: {
      help: { type: 'boolean', short: 'h' },
      id: { type: 'string' },
      agency: { type: 'string' },
      name: { type: 'string' },
      procedures: { type: 'string' },
      registries: { type: 'string' },
      permissions: { type: 'string' },
      roles: { type: 'string' },
      'require-subject-token': { type: 'boolean' },
      expires: { type: 'string' },
      rotate: { type: 'boolean' },
      tier: { type: 'string' },
      province: { type: 'string' },
      file: { type: 'string' },
    },
  });
  if (values.help) {
    process.stdout.write(`${ADD_CLIENT_USAGE}\n`);
    return;
  }
  if (!values.id) throw new Error(`Missing --id (e.g. --id hcm-tthc).\n\n${ADD_CLIENT_USAGE}`);
  const roles = list(values.roles);
  const bad = roles?.filter((r) => !(CLIENT_ROLES as readonly string[]).includes(r));
  if (bad?.length) throw new Error(`Unknown role(s) ${bad.join(', ')}: expected ${CLIENT_ROLES.join(', ')}.`);
  if (values.expires && Number.isNaN(Date.parse(values.expires))) throw new Error(`--expires ${values.expires} is not an ISO date (e.g. 2026-07-01).`);
  const file = path.resolve(REPO_ROOT, values.file ?? process.env.CLIENTS_FILE ?? 'config/clients.json');
  const result = addClient(file, {
    id: values.id,
    agency: values.agency,
    name: values.name,
    procedures: list(values.procedures),
    registries: list(values.registries),
    permissions: list(values.permissions),
    roles: roles as ClientRole[] | undefined,
    requireSubjectToken: values['require-subject-token'],
    expiresAt: values.expires ? new Date(values.expires).toISOString() : undefined,
    rotate: values.rotate,
    tier: values.tier,
    provinceCode: values.province,
  });
  process.stdout.write(
    `${result.created ? 'Created client' : 'Added a key to client'} "${values.id}" in ${file} (key id ${result.keyId}).\n\n` +
      `API key (shown once, store it in the client system's secret store):\n\n  ${result.key}\n\n` +
      `The client sends: Authorization: Bearer <API key>. Restart the gateway to load the change.\n`,
  );
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    main();
  } catch (err) {
    const hint = (err as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS') ? ' (npm run client:add -- --help lists the options)' : '';
    process.stderr.write(`client:add: ${(err as Error).message}${hint}\n`);
    process.exit(1);
  }
}
