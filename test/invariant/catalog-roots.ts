/**
 * Root fields that are catalog metadata (the in-gateway procedures subgraph's listings):
 * readable without a purpose, carrying no one's data. `prefill` and `prefillGroup` are not
 * here: they are purpose-bound. The generator, the checker and the test share this one list.
 */
export const CATALOG_ROOTS: ReadonlySet<string> = new Set(['procedures', 'procedure', 'procedureGroups', 'procedureGroup']);

/** Catalog roots plus the meta fields, which carry no registry data either. */
export const NO_DATA_ROOTS: ReadonlySet<string> = new Set([...CATALOG_ROOTS, '__typename', '__schema', '__type']);
