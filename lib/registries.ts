/**
 * The national registries behind the gateway: their names (the subgraph names are the
 * registry names) and their titles as people know them, so every message that names a
 * registry — gateway, subgraphs, mock registries — says it the same way.
 */

export type RegistryName = 'population' | 'enterprise' | 'insurance' | 'land' | 'civil';
/** Every place that lists registries derives from this list (start, readiness, audit, statistics, console, deploy). */
export const REGISTRIES: readonly RegistryName[] = ['population', 'enterprise', 'insurance', 'land', 'civil'];

/** The Vietnamese name of each registry. */
export const REGISTRY_TITLES: Readonly<Record<RegistryName, string>> = {
  population: 'CSDLQG về dân cư',
  enterprise: 'CSDLQG về đăng ký doanh nghiệp',
  insurance: 'CSDL bảo hiểm',
  land: 'CSDLQG về đất đai',
  civil: 'CSDL hộ tịch điện tử toàn quốc và Kho kết quả giải quyết TTHC số hóa',
};

/** A table with one entry per registry, in REGISTRIES order, so adding a registry adds no line to it. */
export function perRegistry<T>(f: (registry: RegistryName, index: number) => T): Record<RegistryName, T> {
  return Object.fromEntries(REGISTRIES.map((r, i) => [r, f(r, i)])) as Record<RegistryName, T>;
}

export function isRegistryName(name: string): name is RegistryName {
  return (REGISTRIES as readonly string[]).includes(name);
}

/** "The population registry (CSDLQG về dân cư)"; for another subgraph "The <name> subgraph". */
export function registryLabel(registry: string): string {
  return isRegistryName(registry) ? `The ${registry} registry (${REGISTRY_TITLES[registry]})` : `The ${registry} subgraph`;
}
