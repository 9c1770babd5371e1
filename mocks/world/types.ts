/**
 * The registry record types live in lib/registry-records.ts: they are the contract
 * between the registries (mocked here) and the subgraphs, which must not import mocks/.
 * Re-exported so the generator, the mock services and tests keep their imports.
 */
export * from '../../lib/registry-records.js';
