/**
 * Limits on what one HTTP request may ask of the gateway. The defaults leave ample room
 * for every procedure of the catalog (the largest compiled prefill operation is a few
 * hundred tokens, depth 6) and for the sandbox's examples, and stop the classic abuses:
 * deep nesting, alias and fragment bombs, huge bodies, batched floods.
 *
 * Each can be set in GatewayOptions.limits or from the environment (LIMIT_<NAME> in
 * upper snake case, e.g. LIMIT_MAX_DEPTH=8); `loadLimits()` merges the three.
 */
import { EnvReader } from '../../lib/env-options.js';

export interface DocumentLimits {
  /** Largest request body in bytes (Fastify bodyLimit). Default 65 536 (64 KiB). */
  maxBodyBytes: number;
  /** Largest GraphQL document, in characters. Default 16 384. */
  maxDocumentChars: number;
  /** Most lexical tokens in a document (graphql-js parse option). Default 2 000. */
  maxTokens: number;
  /** Deepest field nesting, root field = 1, fragments expanded. Default 12. */
  maxDepth: number;
  /** Most aliased fields in the operation, fragments expanded. Default 15. */
  maxAliases: number;
  /** Most root fields (lookups) in the operation. Default 10. */
  maxRootFields: number;
  /** Most directive uses in the document. Default 20. */
  maxDirectives: number;
  /**
   * Highest estimated cost: each field costs 1, and what is selected under a list field
   * costs `listFactor` times. Default 2 000.
   */
  maxCost: number;
  /** Assumed length of a list when estimating cost. Default 10. */
  listFactor: number;
  /** Most operations in one batched (array) request body; 1 means batching is refused. Default 1. */
  maxBatchedOperations: number;
  /**
   * Depth allowed to an operation that selects only `__schema`/`__type`/`__typename`:
   * the sandbox's own introspection query nests `ofType` 15 deep. It is answered from
   * the schema in memory, never a registry, and production turns introspection off for
   * clients altogether. Default 16.
   */
  introspectionMaxDepth: number;
  /** Cost allowed to such an introspection-only operation (GraphiQL's costs about 50 000). Default 100 000. */
  introspectionMaxCost: number;
}

export const DEFAULT_LIMITS: Readonly<DocumentLimits> = Object.freeze({
  maxBodyBytes: 65_536,
  maxDocumentChars: 16_384,
  maxTokens: 2_000,
  maxDepth: 12,
  maxAliases: 15,
  maxRootFields: 10,
  maxDirectives: 20,
  maxCost: 2_000,
  listFactor: 10,
  maxBatchedOperations: 1,
  introspectionMaxDepth: 16,
  introspectionMaxCost: 100_000,
});

const envName = (key: string) => `LIMIT_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;

/** Defaults, overridden by LIMIT_* environment variables (strict: lib/env-options.ts), overridden by `overrides`. */
export function loadLimits(overrides: Partial<DocumentLimits> = {}, env: NodeJS.ProcessEnv | EnvReader = process.env): DocumentLimits {
  const reader = env instanceof EnvReader ? env : new EnvReader(env);
  const out: DocumentLimits = { ...DEFAULT_LIMITS };
  for (const key of Object.keys(DEFAULT_LIMITS) as Array<keyof DocumentLimits>) {
    const n = reader.int(envName(key), { min: 1 });
    if (n !== undefined) out[key] = n;
    const o = overrides[key];
    if (o !== undefined) {
      if (!Number.isInteger(o) || o < 1) throw new Error(`limits.${key} = ${o} is not a positive integer.`);
      out[key] = o;
    }
  }
  return out;
}
