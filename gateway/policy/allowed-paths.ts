/**
 * What a purpose allows, as paths: a selection is allowed only when its path from the
 * subject root — field NAMES, never aliases — is in the purpose's path tree
 * (`CompiledProcedure.pathTree`). The entity keys and `__typename` are implied at every
 * allowed node; nothing else is. Depth is therefore exactly what the catalog declares:
 * `citizen.father.fullName` may be allowed while `citizen.father.spouse` is not, although
 * both are `Citizen` fields (a per-type allow-list cannot tell them apart).
 *
 * Fragments (named and inline, on any type condition) are resolved against the same tree
 * node as the selection they sit in, and conditional selections (`@include`/`@skip`) count
 * as present: what could run must be allowed.
 */
import {
  Kind,
  getNamedType,
  isInterfaceType,
  isObjectType,
  type FragmentDefinitionNode,
  type GraphQLNamedType,
  type GraphQLSchema,
  type SelectionSetNode,
} from 'graphql';
import type { PathTree } from '../core/path-tree.js';

/** Whether `Type.field` is an entity key (implied at every allowed node). */
export type KeyTest = (typeName: string, fieldName: string) => boolean;

const EMPTY: PathTree = { children: new Map() };

/** A path tree from dotted paths (`citizen.father.fullName`), for relation checks and tests. */
export function treeFromPaths(paths: Iterable<string>): PathTree {
  type Tree = Map<string, Tree>;
  const root: Tree = new Map();
  for (const p of paths) {
    let node = root;
    for (const step of p.split('.')) {
      let next = node.get(step);
      if (!next) node.set(step, (next = new Map()));
      node = next;
    }
  }
  const freeze = (t: Tree): PathTree => ({ children: new Map([...t].map(([k, v]) => [k, freeze(v)])) });
  return freeze(root);
}

/** The union of two trees (a node is in the result when it is in either). */
export function mergeTrees(a: PathTree, b: PathTree): PathTree {
  if (b.children.size === 0) return a;
  if (a.children.size === 0) return b;
  const children = new Map(a.children);
  for (const [name, sub] of b.children) children.set(name, mergeTrees(children.get(name) ?? EMPTY, sub));
  return { children };
}

/** Every path of a tree, dotted, leaves only (for messages and tests). */
export function pathsOf(tree: PathTree, prefix = ''): string[] {
  const out: string[] = [];
  for (const [name, sub] of tree.children) {
    const p = prefix ? `${prefix}.${name}` : name;
    if (sub.children.size === 0) out.push(p);
    else out.push(...pathsOf(sub, p));
  }
  return out;
}

export interface PathCheckInput {
  schema: GraphQLSchema;
  fragments: ReadonlyMap<string, FragmentDefinitionNode>;
  isKey: KeyTest;
}

/**
 * The paths of `selectionSet` (selected on `type`, found at `path` of the tree, at `node`)
 * that the tree does not hold, each cut at its first step outside the tree
 * (`citizen.father.spouse`, not every field below it). Empty when all is allowed.
 * Anything the walk cannot resolve (unknown fragment or type, a field the type lacks) is
 * reported as outside: deny by default.
 */
export function pathsOutside(
  input: PathCheckInput,
  selectionSet: SelectionSetNode,
  type: GraphQLNamedType,
  path: string,
  node: PathTree,
  out: Set<string> = new Set(),
  active: Set<string> = new Set(),
): Set<string> {
  for (const sel of selectionSet.selections) {
    if (sel.kind === Kind.FIELD) {
      const name = sel.name.value;
      if (name === '__typename') continue;
      const here = `${path}.${name}`;
      const fields = isObjectType(type) || isInterfaceType(type) ? type.getFields() : undefined;
      const field = fields?.[name];
      if (!field) {
        out.add(here);
        continue;
      }
      const child = node.children.get(name);
      if (!child) {
        // A key of an allowed node names that node's entity; only leaf keys count.
        if (!sel.selectionSet && input.isKey(type.name, name)) continue;
        out.add(here);
        continue;
      }
      if (sel.selectionSet) pathsOutside(input, sel.selectionSet, getNamedType(field.type), here, child, out, active);
    } else if (sel.kind === Kind.INLINE_FRAGMENT) {
      const on = sel.typeCondition ? input.schema.getType(sel.typeCondition.name.value) : type;
      if (!on) {
        out.add(`${path}(... on ${sel.typeCondition!.name.value})`);
        continue;
      }
      pathsOutside(input, sel.selectionSet, on, path, node, out, active);
    } else {
      const name = sel.name.value;
      const frag = input.fragments.get(name);
      const on = frag ? input.schema.getType(frag.typeCondition.name.value) : undefined;
      if (!frag || !on || active.has(name)) {
        // Unknown fragment, unknown type or a cycle: validation refuses these; refuse too.
        out.add(`${path}(...${name})`);
        continue;
      }
      active.add(name);
      pathsOutside(input, frag.selectionSet, on, path, node, out, active);
      active.delete(name);
    }
  }
  return out;
}
