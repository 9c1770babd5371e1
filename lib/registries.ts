/**
 * The four national registries behind the gateway: their names (the subgraph names are the
 * registry names) and their titles as people know them, so every message that names a
 * registry — gateway, subgraphs, mock registries — says it the same way.
 */

export type RegistryName = 'population' | 'enterprise' | 'insurance' | 'land';
export const REGISTRIES: readonly RegistryName[] = ['population', 'enterprise', 'insurance', 'land'];

/** The Vietnamese name of each registry. */
export const REGISTRY_TITLES: Readonly<Record<RegistryName, string>> = {
  population: 'CSDLQG về dân cư',
  enterprise: 'CSDLQG về đăng ký doanh nghiệp',
  insurance: 'CSDL bảo hiểm',
  land: 'CSDLQG về đất đai',
};

export function isRegistryName(name: string): name is RegistryName {
  return (REGISTRIES as readonly string[]).includes(name);
}

/** "The population registry (CSDLQG về dân cư)"; for another subgraph "The <name> subgraph". */
export function registryLabel(registry: string): string {
  return isRegistryName(registry) ? `The ${registry} registry (${REGISTRY_TITLES[registry]})` : `The ${registry} subgraph`;
}
