/**
 * The upstream national registries as people name them, so every error a
 * client sees says which system failed in words an operator recognises. One table
 * for the gateway, the subgraphs and the mocks: lib/registries.ts.
 */
export { REGISTRY_TITLES, registryLabel } from '../../lib/registries.js';
