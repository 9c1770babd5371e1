/**
 * What the procedure layer needs to know about the supergraph: the schema to type-check
 * paths and validate compiled operations, and which registry (subgraph) answers each
 * field, for the provenance of prefilled values.
 *
 * Ownership is read from the `@join__field` / `@join__type` directives the composition
 * writes into the supergraph, so it follows the subgraphs' SDL without a hand-kept table.
 */
import { buildASTSchema, Kind, parse, type ConstDirectiveNode, type DocumentNode, type GraphQLSchema } from 'graphql';

/** Subgraphs that are not registries (they hold no citizen data). */
const NOT_REGISTRIES = new Set(['procedures']);

export interface SupergraphModel {
  schema: GraphQLSchema;
  /**
   * Registries able to resolve `type.field` (empty when unknown). A field with no
   * `@join__field` is resolvable by every subgraph that defines its type.
   */
  graphsOf(type: string, field: string): readonly string[];
}

function argValue(d: ConstDirectiveNode, name: string): string | boolean | undefined {
  const arg = d.arguments?.find((a) => a.name.value === name);
  if (!arg) return undefined;
  const v = arg.value;
  if (v.kind === Kind.ENUM || v.kind === Kind.STRING) return v.value;
  if (v.kind === Kind.BOOLEAN) return v.value;
  return undefined;
}

/** Parses a supergraph SDL (as written by @apollo/composition) into the model. */
export function supergraphModel(supergraphSdl: string): SupergraphModel {
  const doc: DocumentNode = parse(supergraphSdl);
  const schema = buildASTSchema(doc, { assumeValidSDL: true });

  // join__Graph enum value (e.g. POPULATION) → subgraph name (population).
  const graphNames = new Map<string, string>();
  const typeGraphs = new Map<string, string[]>();
  const fieldGraphs = new Map<string, string[]>();
  for (const def of doc.definitions) {
    if (def.kind === Kind.ENUM_TYPE_DEFINITION && def.name.value === 'join__Graph') {
      for (const v of def.values ?? []) {
        const jg = v.directives?.find((d) => d.name.value === 'join__graph');
        const name = jg ? argValue(jg, 'name') : undefined;
        graphNames.set(v.name.value, typeof name === 'string' ? name : v.name.value.toLowerCase());
      }
    }
  }
  const nameOf = (g: string | boolean | undefined) => (typeof g === 'string' ? (graphNames.get(g) ?? g.toLowerCase()) : undefined);
  for (const def of doc.definitions) {
    if (def.kind !== Kind.OBJECT_TYPE_DEFINITION && def.kind !== Kind.OBJECT_TYPE_EXTENSION) continue;
    const tname = def.name.value;
    const tg = (def.directives ?? [])
      .filter((d) => d.name.value === 'join__type' && argValue(d, 'resolvable') !== false)
      .map((d) => nameOf(argValue(d, 'graph')))
      .filter((g): g is string => g !== undefined);
    typeGraphs.set(tname, [...(typeGraphs.get(tname) ?? []), ...tg]);
    for (const f of def.fields ?? []) {
      const fg = (f.directives ?? [])
        .filter((d) => d.name.value === 'join__field' && argValue(d, 'external') !== true)
        .map((d) => nameOf(argValue(d, 'graph')))
        .filter((g): g is string => g !== undefined);
      if (fg.length > 0) fieldGraphs.set(`${tname}.${f.name.value}`, fg);
    }
  }
  return {
    schema,
    graphsOf(type, field) {
      const gs = fieldGraphs.get(`${type}.${field}`) ?? typeGraphs.get(type) ?? [];
      return gs.filter((g) => !NOT_REGISTRIES.has(g));
    },
  };
}
