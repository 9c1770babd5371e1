/**
 * The four upstream national registries as people name them, so every error a
 * client sees says which system failed in words an operator recognises.
 */
import type { RegistryName } from '../../mocks/world/types.js';

export const REGISTRY_TITLES: Readonly<Record<RegistryName, string>> = {
  population: 'CSDLQG về dân cư',
  enterprise: 'CSDLQG về đăng ký doanh nghiệp',
  insurance: 'CSDL bảo hiểm (BHXH, BHYT)',
  land: 'CSDLQG về đất đai',
};

/** "The population registry (CSDLQG về dân cư)". */
export function registryLabel(registry: RegistryName): string {
  return `The ${registry} registry (${REGISTRY_TITLES[registry]})`;
}
