/**
 * Resolution of catalog source paths (`citizen.permanentResidence`) against the
 * supergraph: each path is checked field by field, typed, and attributed to the
 * registry that answers its last field.
 */
import {
  getNamedType,
  isEnumType,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLOutputType,
} from 'graphql';
import type { FieldFormat } from './catalog-format.js';
import { ROOTS, type SubjectRoot } from '../core/path-tree.js';
import type { SupergraphModel } from './supergraph-model.js';

export { ROOTS } from '../core/path-tree.js';

export interface ResolvedPath {
  /** As written in the catalog, e.g. `citizen.permanentResidence`. */
  path: string;
  root: SubjectRoot;
  /** Field names after the root, plus `fullAddress` when the path ends at an Address. */
  selection: string[];
  /** Named type of the selected leaf (scalar or enum). */
  leafType: GraphQLNamedType;
  /** True when some step is a list: the value is then every item's value, joined. */
  list: boolean;
  /** Registry (subgraph name) that answers the leaf, e.g. `insurance`. */
  registry: string;
  /** Schema coordinates selected along the path, e.g. `Query.citizen`, `Citizen.permanentResidence`. */
  coordinates: string[];
}

export class PathError extends Error {}

/** Formats each GraphQL leaf type may take (beyond text, which fits any leaf). */
function formatFits(format: FieldFormat, leaf: GraphQLNamedType, endsAtAddress: boolean): string | null {
  const name = leaf.name;
  switch (format) {
    case 'address':
      return endsAtAddress ? null : `format address needs a path ending at an Address, but it ends at ${name}`;
    case 'date':
    case 'month':
      return name === 'String' ? null : `format ${format} needs a String (ISO) field, but the field is ${name}`;
    case 'number':
      return name === 'Int' || name === 'Float' ? null : `format number needs an Int or Float field, but the field is ${name}`;
    case 'boolean':
      return name === 'Boolean' ? null : `format boolean needs a Boolean field, but the field is ${name}`;
    case 'label':
      return isEnumType(leaf) || name === 'String' ? null : `format label needs an enum or String field, but the field is ${name}`;
    case 'text':
      return null;
  }
}

/**
 * Resolves a path against the supergraph; throws PathError naming the bad step.
 * `format` undefined means text, or address when the path ends at an Address.
 */
export function resolvePath(model: SupergraphModel, path: string, format?: FieldFormat): ResolvedPath & { format: FieldFormat } {
  const [rootName, ...steps] = path.split('.');
  const root = ROOTS[rootName as SubjectRoot];
  if (!root || steps.length === 0) throw new PathError(`path ${path}: must start with citizen, relatedCitizen, enterprise or parcel and name a field`);
  const queryType = model.schema.getQueryType();
  const rootField = queryType?.getFields()[root.queryField];
  if (!queryType || !rootField) throw new PathError(`path ${path}: the supergraph has no Query.${root.queryField}`);

  const coordinates = [`Query.${root.queryField}`];
  let registry = model.graphsOf('Query', root.queryField)[0] ?? 'unknown';
  let list = false;
  let type: GraphQLOutputType = rootField.type;
  let walked = rootName!;
  for (const step of steps) {
    const named = getNamedType(type);
    if (!isObjectType(named)) {
      throw new PathError(`path ${path}: ${walked} is a ${named.name}, it has no field ${step}`);
    }
    const field: GraphQLField<unknown, unknown> | undefined = named.getFields()[step];
    if (!field) {
      const known = Object.keys(named.getFields()).filter((f) => !f.startsWith('_')).join(', ');
      throw new PathError(`path ${path}: type ${named.name} has no field ${step} (fields: ${known})`);
    }
    if (field.args.some((a) => isNonNullType(a.type) && a.defaultValue === undefined)) {
      throw new PathError(`path ${path}: ${named.name}.${step} needs arguments, which a catalog path cannot give`);
    }
    coordinates.push(`${named.name}.${step}`);
    const graphs = model.graphsOf(named.name, step);
    if (graphs.length > 0 && !graphs.includes(registry)) registry = graphs[0]!;
    let t: GraphQLOutputType = field.type;
    if (isNonNullType(t)) t = t.ofType;
    if (isListType(t)) list = true;
    type = field.type;
    walked = `${walked}.${step}`;
  }

  const selection = [...steps];
  let leaf = getNamedType(type);
  let endsAtAddress = false;
  if (isObjectType(leaf)) {
    const fullAddress = leaf.getFields()['fullAddress'];
    if (leaf.name === 'Address' && fullAddress && (format === undefined || format === 'address')) {
      endsAtAddress = true;
      selection.push('fullAddress');
      coordinates.push('Address.fullAddress');
      leaf = getNamedType(fullAddress.type);
    } else {
      throw new PathError(
        `path ${path}: ends at the object type ${leaf.name}; name one of its fields (${Object.keys(leaf.getFields()).join(', ')})` +
          (leaf.name === 'Address' ? ' or use format address' : ''),
      );
    }
  }
  if (!isLeafType(leaf)) throw new PathError(`path ${path}: ends at ${leaf.name}, which is not a scalar or enum`);
  const effective: FieldFormat = format ?? (endsAtAddress ? 'address' : 'text');
  const misfit = formatFits(effective, leaf, endsAtAddress);
  if (misfit) throw new PathError(`path ${path}: ${misfit}`);
  return { path, root: rootName as SubjectRoot, selection, leafType: leaf, list, registry, coordinates, format: effective };
}

/**
 * Every value at the end of a path in a response (lists are flattened), or
 * `undefined` for a step that is missing or null.
 */
export function valuesAt(data: Record<string, unknown> | null | undefined, root: string, selection: readonly string[]): unknown[] {
  // Fast path: walk single objects; fall back to the list walk at the first list.
  let one: unknown = data?.[root];
  let i = 0;
  for (; i < selection.length && !Array.isArray(one); i++) {
    if (one === null || one === undefined) return [];
    one = (one as Record<string, unknown>)[selection[i]!];
  }
  if (!Array.isArray(one)) return one === null || one === undefined ? [] : [one];
  let current: unknown[] = one;
  for (; i < selection.length; i++) {
    const step = selection[i]!;
    const next: unknown[] = [];
    for (const c of current) {
      if (c === null || c === undefined) continue;
      if (Array.isArray(c)) {
        for (const item of c) if (item !== null && item !== undefined) pushFlat(next, (item as Record<string, unknown>)[step]);
      } else pushFlat(next, (c as Record<string, unknown>)[step]);
    }
    current = next;
  }
  return current.filter((v) => v !== null && v !== undefined);
}

/** Pushes a value, or the items of a list value (one level), as the list walk reads them. */
function pushFlat(out: unknown[], v: unknown): void {
  if (Array.isArray(v)) for (const x of v) out.push(x);
  else out.push(v);
}
