/**
 * The clients file: TTHC systems of provinces and ministries (and staff roles:
 * auditor, operator, monitor) with their hashed API keys, and `authenticate()`,
 * which every endpoint that needs a caller reuses (`/graphql`, the auditor API,
 * the console) with the role it requires.
 *
 * Format (JSON):
 *   { "clients": [ { "id", "agency", "name", "demo"?, "procedures": [...],
 *       "registries"?, "permissions"?, "requireSubjectToken"?, "roles"?,
 *       "trustedDocuments"?, "tier"?, "provinceCode"?,
 *       "keys": [ { "id", "sha256", "createdAt", "expiresAt"? } ] } ] }
 * `trustedDocuments` (path, relative to the clients file's folder) restricts the
 * client to the registered operations of that file (gateway/auth/trusted-documents.ts;
 * the recommended production setting for TTHC systems).
 * `tier` (`ministry` | `province`) and, for a province, `provinceCode` (one of the 34 provincial
 * units of lib/provinces.ts) structure the agency for the statistics; records stamp both at write
 * time. Unset → the statistics group the client under `unspecified`.
 * Several keys per client let a key be rotated: add the new one, deploy, remove
 * the old one. Demo clients may also carry the clear `key` (to print it at start);
 * they are refused in production.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { IncomingHttpHeaders } from 'node:http';
import { z } from 'zod';
import type { ClientIdentity } from '../core/context.js';
import { CLIENT_ROLES, type AuthResult as DirectoryAuthResult, type ClientRole, type DemoCredential } from '../core/services.js';
import { digestsEqual, hashApiKey } from './keys.js';
import { TrustedDocuments } from './trusted-documents.js';
import { AGENCY_TIERS, PROVINCIAL_UNIT_BY_CODE } from '../../lib/provinces.js';

// The roles and a demo client's shape are the directory contract (core/services.ts): one definition.
export { CLIENT_ROLES, type ClientRole, type DemoCredential } from '../core/services.js';

const isoDate = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'must be an ISO date, e.g. 2025-07-01T00:00:00Z');

const keySchema = z.strictObject({
  id: z.string().min(1),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be the lowercase hex SHA-256 of the key (64 characters)'),
  createdAt: isoDate,
  expiresAt: isoDate.optional(),
  /** Clear key: allowed for demo clients only, so the demo can print it. */
  key: z.string().min(16).optional(),
});

const clientSchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, 'must be lowercase letters, digits, ".", "_" or "-"'),
  agency: z.string().min(1),
  name: z.string().min(1),
  demo: z.boolean().default(false),
  procedures: z.array(z.string().min(1)),
  registries: z.array(z.string().min(1)).optional(),
  permissions: z.array(z.string().min(1)).default([]),
  requireSubjectToken: z.boolean().default(false),
  roles: z.array(z.enum(CLIENT_ROLES)).min(1).default(['client']),
  /** Trusted-documents file (relative to the clients file's folder): only its operations may run. Default: none (free-form queries). */
  trustedDocuments: z.string().min(1).optional(),
  /** The agency's level, for the statistics (khối bộ / khối địa phương). Default: unset (`unspecified`). */
  tier: z.enum(AGENCY_TIERS).optional(),
  /** With `tier: "province"` (and only then): the 2-digit code of one of the 34 provincial units. */
  provinceCode: z.string().optional(),
  keys: z.array(keySchema).min(1, 'needs at least one key (npm run client:add creates one)'),
}).superRefine((c, ctx) => {
  if (c.tier === 'province' && c.provinceCode === undefined) {
    ctx.addIssue({ code: 'custom', path: ['provinceCode'], message: 'tier "province" needs provinceCode: the 2-digit code of one of the 34 provincial units (e.g. "79" for Thành phố Hồ Chí Minh)' });
  }
  if (c.provinceCode !== undefined && c.tier !== 'province') {
    ctx.addIssue({ code: 'custom', path: ['provinceCode'], message: 'provinceCode is only allowed with tier "province": set tier to "province" or remove provinceCode' });
  }
  if (c.provinceCode !== undefined && !PROVINCIAL_UNIT_BY_CODE.has(c.provinceCode)) {
    ctx.addIssue({
      code: 'custom',
      path: ['provinceCode'],
      message: `"${c.provinceCode}" is not one of the 34 provincial units; use one of: ${[...PROVINCIAL_UNIT_BY_CODE.keys()].join(', ')}`,
    });
  }
});

export const clientsFileSchema = z.strictObject({
  /** Free text for humans (JSON has no comments). */
  $comment: z.string().optional(),
  clients: z.array(clientSchema),
});
export type ClientsFile = z.input<typeof clientsFileSchema>;
export type ClientEntry = z.output<typeof clientSchema>;

/** The directory's answer (core/services.ts), plus on success the id of the key that matched. */
export type AuthResult = Exclude<DirectoryAuthResult, { ok: true }> | (Extract<DirectoryAuthResult, { ok: true }> & { keyId: string });

interface StoredKey {
  clientIndex: number;
  keyId: string;
  /** The key's SHA-256, decoded once (compared on every request). */
  digest: Buffer;
  expiresAt: number | null;
}

export interface LoadClientsOptions {
  /** Main clients file; when it does not exist it is skipped unless `production`. */
  clientsFile: string;
  /** Demo clients file loaded too; `false` for none. */
  demoClientsFile: string | false;
  /** Refuse demo clients and require `clientsFile`. */
  production: boolean;
  /**
   * Where `clientsFile` was asked for (`CLIENTS_FILE` env or the option), when it was: such a file must
   * exist in every mode (a typo must not silently fall back to the demo clients). Default: none (the
   * default path `config/clients.json`, optional outside production).
   */
  clientsFileGiven?: string;
}

export class ClientRegistry {
  private readonly entries: ClientEntry[];
  private readonly identities: ClientIdentity[];
  private readonly keys: StoredKey[] = [];
  private readonly trusted = new Map<string, TrustedDocuments>();
  /** Files the clients were read from, for the startup log. */
  readonly sources: string[];

  constructor(entries: ClientEntry[], opts: { production: boolean; sources?: string[] }) {
    this.sources = opts.sources ?? [];
    const ids = new Set<string>();
    const hashes = new Set<string>();
    for (const c of entries) {
      if (ids.has(c.id)) throw new Error(`Client id "${c.id}" is defined twice: client ids must be unique across the clients files.`);
      ids.add(c.id);
      if (c.demo && opts.production) {
        throw new Error(
          `Demo client "${c.id}" is refused because NODE_ENV=production: demo keys are public. ` +
            `Remove it from the clients file (or unset CLIENTS_FILE pointing to the demo file) and create real clients with npm run client:add.`,
        );
      }
      for (const k of c.keys) {
        if (k.key !== undefined && !c.demo) {
          throw new Error(`Client "${c.id}" key "${k.id}" stores a clear key: only demo clients may; keep only its sha256.`);
        }
        if (k.key !== undefined && hashApiKey(k.key) !== k.sha256) {
          throw new Error(`Client "${c.id}" key "${k.id}": sha256 is not the SHA-256 of key; recompute it.`);
        }
        if (hashes.has(k.sha256)) throw new Error(`Client "${c.id}" key "${k.id}" is also used by another key: every key must be distinct.`);
        hashes.add(k.sha256);
      }
      // Read now: a client restricted to a list that cannot be read must not start unrestricted.
      if (c.trustedDocuments !== undefined) this.trusted.set(c.id, TrustedDocuments.readFile(c.trustedDocuments));
    }
    this.entries = entries;
    this.identities = entries.map((c) => ({
      id: c.id,
      agency: c.agency,
      name: c.name,
      demo: c.demo,
      procedures: c.procedures,
      ...(c.registries ? { registries: c.registries } : {}),
      permissions: c.permissions,
      requireSubjectToken: c.requireSubjectToken,
      roles: c.roles,
      ...(c.tier ? { tier: c.tier } : {}),
      ...(c.provinceCode ? { provinceCode: c.provinceCode } : {}),
    }));
    entries.forEach((c, clientIndex) => {
      for (const k of c.keys) {
        this.keys.push({ clientIndex, keyId: k.id, digest: Buffer.from(k.sha256, 'hex'), expiresAt: k.expiresAt ? Date.parse(k.expiresAt) : null });
      }
    });
  }

  /** Parses and validates a clients file's content; `source` names it in errors. */
  static parse(json: unknown, source: string): ClientEntry[] {
    const parsed = clientsFileSchema.safeParse(json);
    if (!parsed.success) throw new Error(`Invalid clients file ${source}:\n${z.prettifyError(parsed.error)}`);
    // Paths in a clients file are relative to its folder.
    const dir = path.dirname(path.resolve(source));
    return parsed.data.clients.map((c) => (c.trustedDocuments === undefined ? c : { ...c, trustedDocuments: path.resolve(dir, c.trustedDocuments) }));
  }

  static readFile(file: string): ClientEntry[] {
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new Error(`Cannot read clients file ${file}: ${(err as Error).message}`);
    }
    return ClientRegistry.parse(json, file);
  }

  static load(opts: LoadClientsOptions): ClientRegistry {
    const entries: ClientEntry[] = [];
    const sources: string[] = [];
    if (existsSync(opts.clientsFile)) {
      entries.push(...ClientRegistry.readFile(opts.clientsFile));
      sources.push(opts.clientsFile);
    } else if (opts.clientsFileGiven) {
      throw new Error(
        `No clients file at ${opts.clientsFile} (${opts.clientsFileGiven}): fix the path, create the file with ` +
          `"npm run client:add -- --file ${opts.clientsFile} --id ... --agency ... --name ... --procedures ...", or unset it to use the default.`,
      );
    } else if (opts.production) {
      throw new Error(
        `No clients file at ${opts.clientsFile}: create it with "npm run client:add -- --id ... --agency ... --name ... --procedures ..." ` +
          `(see config/clients.example.json) or set CLIENTS_FILE.`,
      );
    }
    if (opts.demoClientsFile) {
      entries.push(...ClientRegistry.readFile(opts.demoClientsFile));
      sources.push(opts.demoClientsFile);
    }
    return new ClientRegistry(entries, { production: opts.production, sources });
  }

  get clients(): readonly ClientIdentity[] {
    return this.identities;
  }

  /** The registered operations a client is restricted to, or null when it may send free-form queries. */
  trustedDocumentsOf(clientId: string): TrustedDocuments | null {
    return this.trusted.get(clientId) ?? null;
  }

  /** Clear keys of demo clients, to print at start (never available for real clients). */
  demoCredentials(): DemoCredential[] {
    return this.entries.flatMap((c) =>
      c.keys.filter((k) => k.key !== undefined).map((k) => ({ clientId: c.id, name: c.name, roles: c.roles, key: k.key as string })),
    );
  }

  /**
   * Resolves `Authorization: Bearer <api key>` to a client. With `role`, a client
   * without that role gets 403. Every stored hash is compared (constant time,
   * no early exit) so timing does not tell how close a guess was.
   */
  authenticate(headers: IncomingHttpHeaders, opts: { role?: ClientRole; now?: number } = {}): AuthResult {
    const header = headers.authorization;
    if (header === undefined || header === '') {
      return unauthenticated('Missing Authorization header: send Authorization: Bearer <api key>.');
    }
    const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
    if (!match) return unauthenticated('Malformed Authorization header: expected "Bearer <api key>".');
    const presented = Buffer.from(hashApiKey(match[1]!), 'hex');
    let found: StoredKey | undefined;
    // Every key compared, in constant time each: the time taken says nothing of which matched.
    for (const k of this.keys) {
      if (digestsEqual(presented, k.digest)) found = k;
    }
    if (!found) return unauthenticated('Unknown or revoked API key.');
    const now = opts.now ?? Date.now();
    if (found.expiresAt !== null && found.expiresAt <= now) {
      return unauthenticated(
        `API key "${found.keyId}" expired on ${new Date(found.expiresAt).toISOString()}: ask the gateway operator for a new key.`,
      );
    }
    const entry = this.entries[found.clientIndex]!;
    const client = this.identities[found.clientIndex]!;
    if (opts.role && !entry.roles.includes(opts.role)) {
      return {
        ok: false,
        status: 403,
        code: 'FORBIDDEN',
        message: `Client "${entry.id}" lacks the role "${opts.role}" this endpoint requires (it has: ${entry.roles.join(', ')}).`,
      };
    }
    return { ok: true, client, roles: entry.roles, keyId: found.keyId };
  }
}

function unauthenticated(message: string): AuthResult {
  return { ok: false, status: 401, code: 'UNAUTHENTICATED', message };
}
