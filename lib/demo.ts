/**
 * The mock registries' service key (subgraph → registry, change feeds). DEMO ONLY:
 * public, printed at start; every component refuses it when NODE_ENV=production.
 */
export const DEMO_REGISTRY_KEY = 'demo-registry-key';
