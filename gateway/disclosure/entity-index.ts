/**
 * What the entity collector needs to know about the supergraph: every type with a
 * federation key (`@join__type(key: "personalId")`) and its key field, and a schema
 * that holds every field a subgraph operation may select (the supergraph's, not the
 * API schema, which hides `@inaccessible` fields).
 *
 * Entity types are derived, not listed: a new registry entity is collected (and
 * checked) without touching this code. A compound key (`key: "a b"`) cannot be read
 * as one identifier; the index refuses it at start rather than collect wrongly.
 */
import { buildASTSchema, Kind, parse, type GraphQLSchema } from 'graphql';

export interface EntityIndex {
  schema: GraphQLSchema;
  /** Entity type name → its key field, e.g. `Citizen` → `personalId`. */
  keys: ReadonlyMap<string, string>;
}

export function indexEntities(supergraphSdl: string): EntityIndex {
  const doc = parse(supergraphSdl, { noLocation: true });
  const keys = new Map<string, string>();
  for (const def of doc.definitions) {
    if (def.kind !== Kind.OBJECT_TYPE_DEFINITION && def.kind !== Kind.OBJECT_TYPE_EXTENSION) continue;
    for (const d of def.directives ?? []) {
      if (d.name.value !== 'join__type') continue;
      const arg = d.arguments?.find((a) => a.name.value === 'key');
      if (!arg || arg.value.kind !== Kind.STRING) continue;
      const key = arg.value.value.trim();
      if (!/^[_A-Za-z][_0-9A-Za-z]*$/.test(key)) {
        throw new Error(`Type ${def.name.value} has the key "${key}": the response check reads single-field keys only; give the entity a single-field key.`);
      }
      const known = keys.get(def.name.value);
      if (known && known !== key) {
        throw new Error(`Type ${def.name.value} has two keys (${known}, ${key}): the response check needs one identifier per entity.`);
      }
      keys.set(def.name.value, key);
    }
  }
  const schema = buildASTSchema(doc, { assumeValid: true, assumeValidSDL: true });
  return { schema, keys };
}
