/**
 * The demo API key the development sandbox prefills. Demo clients (and only they)
 * may carry their clear `key` next to its sha256 in the clients file, precisely so
 * that a newcomer can use them; see gateway/auth/clients.ts for the format.
 */
import path from 'node:path';
import { REPO_ROOT } from '../../lib/repo-root.js';
import { ClientRegistry, type ClientEntry, type DemoCredential } from '../auth/clients.js';

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
export function chooseDemoKey(credentials: readonly DemoCredential[], entries: readonly Pick<ClientEntry, 'id' | 'agency' | 'name' | 'permissions' | 'demo'>[]): DemoKey | null {
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
  let entries: ClientEntry[];
  try {
    entries = ClientRegistry.readFile(file);
  } catch {
    return null;
  }
  const credentials: DemoCredential[] = entries.flatMap((c) =>
    c.demo ? c.keys.filter((k) => k.key !== undefined).map((k) => ({ clientId: c.id, name: c.name, roles: c.roles, key: k.key as string })) : [],
  );
  return chooseDemoKey(credentials, entries);
}
