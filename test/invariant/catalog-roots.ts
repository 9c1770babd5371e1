/**
 * Root fields that are catalog metadata (the in-gateway procedures subgraph's listings):
 * readable without a purpose, carrying no one's data. The generator, the checker and the
 * fuzz test share this one list.
 *
 * Derived from the committed supergraph, not listed by hand, so a root added to the schema
 * is classified the day it appears: a Query field resolved by the procedures subgraph alone
 * and taking no input object (no `subject: SubjectInput!`) is catalog metadata; `prefill` and
 * `prefillGroup` take the subject, so they are purpose-bound, as is every registry root.
 * The rule reads the schema only (not the gateway's policy code), so the invariant stays an
 * independent check of that code. A mistake in the rule errs towards checking: a listing
 * classified as data is checked like data and fails loudly, it is never skipped.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Kind, parse, type ConstDirectiveNode, type TypeNode } from 'graphql';

const SUPERGRAPH = path.join(import.meta.dirname, '..', '..', 'schema', 'supergraph.graphql');
/** The subgraph the gateway serves itself: the procedure catalog and the prefill. */
const CATALOG_SUBGRAPH = 'procedures';

const named = (t: TypeNode): string => (t.kind === Kind.NAMED_TYPE ? t.name.value : named(t.type));
const argValue = (d: ConstDirectiveNode, name: string) => d.arguments?.find((a) => a.name.value === name)?.value;

/** The catalog roots of a supergraph (its SDL with the join directives), by the rule above. */
export function catalogRootsOf(supergraphSdl: string): Set<string> {
  const doc = parse(supergraphSdl, { noLocation: true });
  // join__Graph enum value (PROCEDURES) → subgraph name (procedures).
  const graphName = new Map<string, string>();
  const inputTypes = new Set<string>();
  for (const def of doc.definitions) {
    if (def.kind === Kind.ENUM_TYPE_DEFINITION && def.name.value === 'join__Graph') {
      for (const v of def.values ?? []) {
        const join = v.directives?.find((d) => d.name.value === 'join__graph');
        const name = join && argValue(join, 'name');
        graphName.set(v.name.value, name && name.kind === Kind.STRING ? name.value : v.name.value.toLowerCase());
      }
    }
    if (def.kind === Kind.INPUT_OBJECT_TYPE_DEFINITION) inputTypes.add(def.name.value);
  }
  const roots = new Set<string>();
  for (const def of doc.definitions) {
    if ((def.kind !== Kind.OBJECT_TYPE_DEFINITION && def.kind !== Kind.OBJECT_TYPE_EXTENSION) || def.name.value !== 'Query') continue;
    for (const field of def.fields ?? []) {
      const graphs = (field.directives ?? [])
        .filter((d) => d.name.value === 'join__field')
        .map((d) => argValue(d, 'graph'))
        .map((v) => (v && v.kind === Kind.ENUM ? graphName.get(v.value) ?? v.value.toLowerCase() : undefined));
      const onlyCatalog = graphs.length > 0 && graphs.every((g) => g === CATALOG_SUBGRAPH);
      const takesInput = (field.arguments ?? []).some((a) => inputTypes.has(named(a.type)));
      if (onlyCatalog && !takesInput) roots.add(field.name.value);
    }
  }
  return roots;
}

export const CATALOG_ROOTS: ReadonlySet<string> = catalogRootsOf(readFileSync(SUPERGRAPH, 'utf8'));

/** Catalog roots plus the meta fields, which carry no registry data either. */
export const NO_DATA_ROOTS: ReadonlySet<string> = new Set([...CATALOG_ROOTS, '__typename', '__schema', '__type']);
