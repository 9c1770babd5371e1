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
 * --require-subject-token, --expires <ISO date>.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CLIENT_ROLES, ClientRegistry, type ClientRole, type ClientsFile } from '../gateway/auth/clients.js';
import { generateApiKey, hashApiKey } from '../gateway/auth/keys.js';
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
  now?: Date;
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
  if (existing && !input.rotate) throw new Error(`Client "${input.id}" already exists in ${file}: use --rotate to give it an additional key.`);
  if (!existing) {
    if (input.rotate) throw new Error(`Client "${input.id}" is not in ${file}: drop --rotate to create it.`);
    const missing = (['agency', 'name', 'procedures'] as const).filter((k) => input[k] === undefined);
    if (missing.length) throw new Error(`A new client needs ${missing.map((m) => `--${m}`).join(', ')}.`);
    existing = {
      id: input.id,
      agency: input.agency!,
      name: input.name!,
      procedures: input.procedures!,
      ...(input.registries ? { registries: input.registries } : {}),
      permissions: input.permissions ?? [],
      requireSubjectToken: input.requireSubjectToken ?? false,
      roles: input.roles ?? ['client'],
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
    --name "Hệ thống TTHC TP.HCM" --procedures lodging-notification,judicial-record-certificate
  npm run client:add -- --id hcm-tthc --rotate        a second key, for rotation (docs/OPERATIONS.md)

Options:
  --id ID                      client id (required)
  --agency TEXT                the agency (required for a new client)
  --name TEXT                  the system's name (required for a new client)
  --procedures a,b             procedures it may use (required for a new client; schema/procedures/)
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
