/**
 * The demo API key the development sandbox prefills. Demo clients (and only they)
 * may carry their clear `key` next to its sha256 in the clients file, precisely so
 * that a newcomer can use them; see gateway/auth/clients.ts for the format.
 */
import path from 'node:path';
import { REPO_ROOT } from '../../lib/repo-root.js';
import { readFileSync } from 'node:fs';
import type { ClientIdentity } from '../core/context.js';
import type { ClientRole, DemoCredential } from '../core/services.js';

export interface DemoKey {
  key: string;
  /** `<name> (<agency>)` of the demo client the key belongs to, for the banner. */
  label: string | null;
}

export const DEFAULT_DEMO_CLIENTS_FILE = path.join(REPO_ROOT, 'mocks/clients.demo.json');

/**
 * Prefers a demo client that may explore (the `explore` permission is what the
 * sandbox is for), then any demo client with the `client` role: staff roles
 * (auditor, operator) cannot query data.
 */
export function chooseDemoKey(credentials: readonly DemoCredential[], entries: readonly Pick<ClientIdentity, 'id' | 'agency' | 'name' | 'permissions' | 'demo'>[]): DemoKey | null {
  const byId = new Map(entries.map((e) => [e.id, e]));
  const usable = credentials.filter((c) => c.roles.includes('client') && byId.get(c.clientId)?.demo !== false);
  const chosen = usable.find((c) => byId.get(c.clientId)?.permissions.includes('explore')) ?? usable[0];
  if (!chosen) return null;
  const entry = byId.get(chosen.clientId);
  const label = entry && entry.agency !== entry.name ? `${entry.name} (${entry.agency})` : chosen.name;
  return { key: chosen.key, label };
}

/** Reads the demo clients file; null (never throws) when it is missing or holds no clear key. */
export function readDemoKey(file: string = DEFAULT_DEMO_CLIENTS_FILE): DemoKey | null {
  // Read loosely: the gateway validates this file (gateway/auth) when it loads it; here a
  // file that is missing or not as expected only means no key is prefilled.
  let entries: DemoFileEntry[];
  try {
    const json = JSON.parse(readFileSync(file, 'utf8')) as { clients?: unknown };
    entries = Array.isArray(json.clients) ? (json.clients as DemoFileEntry[]).filter((c) => c && typeof c.id === 'string') : [];
  } catch {
    return null;
  }
  const credentials: DemoCredential[] = entries.flatMap((c) =>
    c.demo && Array.isArray(c.keys)
      ? c.keys.filter((k) => typeof k?.key === 'string').map((k) => ({ clientId: c.id, name: c.name, roles: c.roles ?? ['client'], key: k.key as string }))
      : [],
  );
  const normalized = entries.map((c) => ({ id: c.id, agency: c.agency, name: c.name, demo: c.demo === true, permissions: Array.isArray(c.permissions) ? c.permissions : [] }));
  return chooseDemoKey(credentials, normalized);
}

interface DemoFileEntry {
  id: string;
  agency: string;
  name: string;
  demo?: boolean;
  permissions?: string[];
  roles?: ClientRole[];
  keys?: Array<{ key?: string }>;
}
