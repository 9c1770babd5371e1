/**
 * `<PREFIX>_POPULATION=http://…` → `{ population: 'http://…' }`: how per-registry or
 * per-subgraph URLs are passed through the environment (SUBGRAPH_URL_*, REGISTRY_URL_*).
 */
export function namedFromEnv(env: NodeJS.ProcessEnv, prefix: string): Partial<Record<string, string>> {
  const out: Partial<Record<string, string>> = {};
  const pattern = new RegExp(`^${prefix}_([A-Z0-9_]+)$`);
  for (const [name, value] of Object.entries(env)) {
    const m = pattern.exec(name);
    if (m && value) out[m[1]!.toLowerCase()] = value;
  }
  return out;
}
