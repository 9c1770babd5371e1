/**
 * `motlan doctor`: the production checklist for the environment it runs in (run it with the
 * gateway's environment: same variables, same files). Each line says what was checked and,
 * when it fails, what to do. Exit code 0 when every item passes, 1 when one fails.
 *
 * It reads files and variables only: it opens no database and no connection (the gateway's own
 * start checks the rest, and refuses what it must; this list is what it does NOT refuse, or only
 * at the first request).
 */
import { createPrivateKey } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { ClientRegistry } from '../gateway/auth/clients.js';
import { DEMO_REGISTRY_KEY } from '../lib/demo.js';
import { REGISTRIES } from '../lib/registries.js';
import { REPO_ROOT } from '../lib/repo-root.js';
import { gatewayKeyEnvOf } from '../lib/subgraph-keys.js';
import { DEV_KEY_PREFIX, MIN_KEY_LENGTH } from '../lib/subgraph-signature.js';
import type { CliIo } from './io.js';

export const DOCTOR_USAGE = `Doctor:
  motlan doctor [--json]
      The production checklist for the current environment (run it with the gateway's variables):
      keys set and distinct, demo data refused, NODE_ENV=production, telemetry off, subgraph
      signing, audit witness on its own path, trusted documents, METRICS_TOKEN. Exit 1 when an
      item fails; each failing line says what to do. See docs/OPERATIONS.md.`;

export interface DoctorItem {
  /** Short name of the item, e.g. `NODE_ENV`. */
  item: string;
  ok: boolean;
  /** What was found, and when not ok, what to do. */
  detail: string;
}

/** Variables that would make a vendor SDK report somewhere (lib/no-egress.ts removes them; their presence means someone expects it). */
const VENDOR_VARIABLES = ['APOLLO_KEY', 'APOLLO_GRAPH_REF', 'APOLLO_GRAPH_ID', 'APOLLO_GRAPH_VARIANT', 'APOLLO_SCHEMA_REPORTING'];

/** Every check of the list, in the order an operator fixes them. */
export function doctorChecks(env: NodeJS.ProcessEnv, cwd: string): DoctorItem[] {
  const items: DoctorItem[] = [];
  const check = (item: string, ok: boolean, detail: string) => items.push({ item, ok, detail });
  const set = (name: string) => (env[name] ?? '') !== '';

  // 1. Mode.
  check(
    'NODE_ENV=production',
    env.NODE_ENV === 'production',
    env.NODE_ENV === 'production'
      ? 'masked errors, no introspection, demo clients and development keys refused'
      : `NODE_ENV is ${env.NODE_ENV ? `"${env.NODE_ENV}"` : 'unset'}: set NODE_ENV=production (development accepts demo clients and generated keys).`,
  );

  // 2. Keys. Values are compared, never printed.
  const secrets: Array<{ name: string; value: string }> = [];
  const signingKey = env.AUDIT_SIGNING_KEY;
  if (!signingKey) {
    check('audit signing key', false, 'AUDIT_SIGNING_KEY is unset: create a key with `npx motlan audit keygen --out /secrets/audit-signing-key.pem` and set AUDIT_SIGNING_KEY to its path.');
  } else {
    const file = path.resolve(cwd, signingKey);
    try {
      const key = createPrivateKey(readFileSync(file));
      const ok = key.asymmetricKeyType === 'ed25519';
      check('audit signing key', ok, ok ? `AUDIT_SIGNING_KEY: an Ed25519 private key (${file})` : `AUDIT_SIGNING_KEY=${file} is a ${key.asymmetricKeyType} key: create an Ed25519 one with \`npx motlan audit keygen --out ${file}\`.`);
    } catch (err) {
      check('audit signing key', false, `AUDIT_SIGNING_KEY=${file} cannot be read as a private key (${(err as Error).message.split('\n')[0]}): create it with \`npx motlan audit keygen --out ${file}\`.`);
    }
  }
  let hmac: string | undefined;
  let hmacFrom = 'AUDIT_HMAC_KEY';
  if (set('AUDIT_HMAC_KEY')) hmac = env.AUDIT_HMAC_KEY!.trim();
  else if (set('AUDIT_HMAC_KEY_FILE')) {
    hmacFrom = `AUDIT_HMAC_KEY_FILE=${env.AUDIT_HMAC_KEY_FILE}`;
    try {
      hmac = readFileSync(path.resolve(cwd, env.AUDIT_HMAC_KEY_FILE!), 'utf8').trim();
    } catch (err) {
      check('audit HMAC key', false, `${hmacFrom} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): write a random key into it (openssl rand -hex 32 > file; chmod 600 file).`);
    }
  }
  if (hmac !== undefined) {
    const ok = hmac.length >= 32;
    check('audit HMAC key', ok, ok ? `${hmacFrom}: set, ${hmac.length} characters` : `${hmacFrom} is shorter than 32 characters: use a random key (openssl rand -hex 32). Keep it stable: records are searched through it.`);
    secrets.push({ name: hmacFrom, value: hmac });
  } else if (!items.some((i) => i.item === 'audit HMAC key')) {
    check('audit HMAC key', false, 'AUDIT_HMAC_KEY (or AUDIT_HMAC_KEY_FILE) is unset: set it to at least 32 random characters (openssl rand -hex 32) and keep it stable.');
  }
  for (const name of REGISTRIES) {
    const variable = gatewayKeyEnvOf(name);
    const value = (env[variable] ?? '').trim();
    const item = `subgraph signing key (${name})`;
    if (!value) check(item, false, `${variable} is unset: generate one (openssl rand -hex 32), give it to the gateway as ${variable} and to the ${name} subgraph as GATEWAY_SIGNING_KEY.`);
    else if (value.length < MIN_KEY_LENGTH) check(item, false, `${variable} is shorter than ${MIN_KEY_LENGTH} characters: use openssl rand -hex 32.`);
    else if (value.startsWith(DEV_KEY_PREFIX)) check(item, false, `${variable} is a development key (starts with "${DEV_KEY_PREFIX}"): generate a production one (openssl rand -hex 32).`);
    else {
      check(item, true, `${variable}: set; the ${name} subgraph refuses requests not signed with it`);
      secrets.push({ name: variable, value });
    }
  }
  if (set('REGISTRY_API_KEY')) secrets.push({ name: 'REGISTRY_API_KEY', value: env.REGISTRY_API_KEY!.trim() });
  const clashes: string[] = [];
  for (let i = 0; i < secrets.length; i++) {
    for (let j = i + 1; j < secrets.length; j++) if (secrets[i]!.value === secrets[j]!.value) clashes.push(`${secrets[i]!.name} = ${secrets[j]!.name}`);
  }
  check('keys distinct', clashes.length === 0, clashes.length === 0 ? `${secrets.length} keys, all different` : `the same key is used twice (${clashes.join(', ')}): give each its own (openssl rand -hex 32).`);

  // 3. Demo data.
  const clientsGiven = env.CLIENTS_FILE;
  const clientsFile = path.resolve(REPO_ROOT, clientsGiven || 'config/clients.json');
  let entries: ReturnType<typeof ClientRegistry.readFile> | null = null;
  if (!existsSync(clientsFile)) {
    check('clients file', false, `No clients file at ${clientsFile}: create it with \`npm run client:add -- --file ${clientsFile} --id … --agency … --name … --procedures …\` (npm run client:add -- --help).`);
  } else {
    try {
      const parsed = ClientRegistry.readFile(clientsFile);
      // As the gateway loads it in production: demo clients, clear keys and unreadable trusted documents refused.
      new ClientRegistry(parsed, { production: true, sources: [clientsFile] });
      entries = parsed;
      check('clients file', true, `${clientsFile}: ${entries.length} client(s), no demo client`);
    } catch (err) {
      check('clients file', false, `${(err as Error).message}`);
    }
  }
  const registryKey = env.REGISTRY_API_KEY;
  check(
    'demo registry key refused',
    registryKey !== DEMO_REGISTRY_KEY,
    registryKey === DEMO_REGISTRY_KEY ? 'REGISTRY_API_KEY is the public demo key: set the service key your registries issued.' : registryKey ? 'REGISTRY_API_KEY is not the demo key' : 'REGISTRY_API_KEY unset (the cache follows no change feed without it)',
  );

  // 4. No egress.
  const vendor = VENDOR_VARIABLES.filter(set);
  check(
    'telemetry off',
    vendor.length === 0,
    vendor.length === 0
      ? 'no vendor reporting variable set; Apollo telemetry and OpenTelemetry auto-configuration are forced off (lib/no-egress.ts)'
      : `${vendor.join(', ')} set: Motlan removes them at start and never reports outside, but remove them so nobody expects it.`,
  );

  // 5. Audit trail.
  const auditOff = /^(off|false|0|no|disabled?)$/i.test(env.AUDIT ?? '');
  check('audit on', !auditOff, auditOff ? 'AUDIT=off (benchmarks only): unset it; production refuses to start without the audit trail.' : 'the audit trail records every request');
  const witness = env.AUDIT_WITNESS_FILE;
  const dataDir = path.resolve(cwd, env.DATA_DIR || 'data');
  const storeDir = env.AUDIT_DATABASE_URL ? null : path.dirname(path.resolve(cwd, env.AUDIT_SQLITE_FILE || path.join(dataDir, 'audit.db')));
  if (!witness || witness === 'off') {
    check('audit witness', false, `AUDIT_WITNESS_FILE is ${witness ? 'off' : 'unset (it defaults to DATA_DIR, beside the store)'}: set it to a file on another volume than the audit store, so signed checkpoints survive a rewritten store.`);
  } else {
    const file = path.resolve(cwd, witness);
    const dir = path.dirname(file);
    const inside = (parent: string) => dir === parent || dir.startsWith(`${parent}${path.sep}`);
    if (inside(dataDir) || (storeDir !== null && inside(storeDir))) {
      check('audit witness', false, `AUDIT_WITNESS_FILE=${file} is inside ${inside(dataDir) ? `DATA_DIR (${dataDir})` : `the store's folder (${storeDir})`}: put it on another volume, so whoever can rewrite the store cannot also rewrite its witness.`);
    } else if (storeDir !== null && existsSync(dir) && existsSync(storeDir) && statSync(dir).dev === statSync(storeDir).dev) {
      check('audit witness', false, `AUDIT_WITNESS_FILE=${file} is on the same filesystem as the audit store (${storeDir}): mount another volume for it.`);
    } else {
      check('audit witness', true, `AUDIT_WITNESS_FILE=${file}, apart from the audit store${env.AUDIT_DATABASE_URL ? ' (PostgreSQL)' : ''}`);
    }
  }

  // 6. Clients held to registered operations.
  if (entries) {
    const free = entries.filter((c) => c.roles.includes('client') && c.trustedDocuments === undefined).map((c) => c.id);
    check(
      'trusted documents',
      free.length === 0,
      free.length === 0
        ? 'every procedure client is held to its registered operations'
        : `client(s) ${free.join(', ')} may send any query: give each a "trustedDocuments" list (npm run documents:generate; docs/SECURITY.md).`,
    );
  }

  // 7. Metrics.
  check('METRICS_TOKEN', set('METRICS_TOKEN'), set('METRICS_TOKEN') ? 'set: /metrics needs it' : 'METRICS_TOKEN is unset: /metrics is readable by anyone who reaches the gateway; set it (openssl rand -hex 32) and give it to Prometheus.');
  return items;
}

export function runDoctor(args: string[], io: CliIo): number {
  if (args.some((a) => a !== '--json')) {
    io.err(`Unknown option ${args.find((a) => a !== '--json')}.\n\n${DOCTOR_USAGE}`);
    return 2;
  }
  const items = doctorChecks(io.env, io.cwd);
  const failed = items.filter((i) => !i.ok).length;
  if (args.includes('--json')) io.out(JSON.stringify({ ok: failed === 0, items }, null, 2));
  else {
    io.out('Motlan production checklist (this environment):\n');
    for (const i of items) io.out(`${i.ok ? '✔' : '✖'} ${i.item}: ${i.detail}`);
    io.out(failed === 0 ? '\nAll items pass.' : `\n${failed} item(s) fail: fix them before serving production traffic (docs/OPERATIONS.md).`);
  }
  return failed === 0 ? 0 : 1;
}
