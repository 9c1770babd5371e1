/**
 * The response check's decision, pure: every entity returned must be reachable from
 * the request's allowed roots (its subjects, each at its root of the purpose's path
 * tree) by edges whose field paths stay inside that tree.
 *
 *   Citizen:S at `citizen` —[father]→ Citizen:F         allowed when citizen.father is in the tree
 *   Citizen:F at `citizen.father` —[spouse]→ Citizen:M  refused unless citizen.father.spouse is
 *
 * A state is (entity, tree node); each is visited once, so the cost is linear in the
 * edges times the tree nodes an entity can sit at (a handful).
 */
import { getNamedType, type GraphQLSchema } from 'graphql';
import type { EntityGraph, Subject } from '../core/context.js';
import type { PathTree } from '../core/path-tree.js';
import { ROOTS } from '../core/path-tree.js';

/** An allowed starting point: the entity (`Type:key`) and the tree node it stands at. */
export interface AllowedRoot {
  entity: string;
  node: PathTree;
}

export interface ReachVerdict {
  ok: boolean;
  /** Entity ids no allowed path reaches (empty when ok). */
  outside: string[];
}

/** Tree root name → the subject field and the entity type that stands there. */
export interface RootBinding {
  subject: keyof Subject;
  type: string;
}

/**
 * How each subject root of a purpose is bound to the request: the procedures' ROOTS
 * (root → query field, subject variable) with the type that query field returns.
 */
export function rootBindingsOf(schema: GraphQLSchema): Record<string, RootBinding> {
  const query = schema.getQueryType();
  const out: Record<string, RootBinding> = {};
  for (const [root, r] of Object.entries(ROOTS)) {
    const field = query?.getFields()[r.queryField];
    if (field) out[root] = { subject: r.variable as keyof Subject, type: getNamedType(field.type).name };
  }
  return out;
}

/** The bindings of this supergraph (what `rootBindingsOf` derives from it), for tests. */
export const DEFAULT_ROOT_BINDINGS: Readonly<Record<string, RootBinding>> = {
  citizen: { subject: 'personalId', type: 'Citizen' },
  relatedCitizen: { subject: 'relatedPersonalId', type: 'Citizen' },
  enterprise: { subject: 'enterpriseCode', type: 'Enterprise' },
  parcel: { subject: 'parcelId', type: 'LandParcel' },
};

/** The request's allowed roots: each subject the request names, at its root of the tree (if the purpose has that root). */
export function allowedRoots(subject: Subject, tree: PathTree, bindings: Readonly<Record<string, RootBinding>> = DEFAULT_ROOT_BINDINGS): AllowedRoot[] {
  const out: AllowedRoot[] = [];
  for (const [root, b] of Object.entries(bindings)) {
    const key = subject[b.subject];
    const node = tree.children.get(root);
    if (typeof key === 'string' && key !== '' && node) out.push({ entity: `${b.type}:${key}`, node });
  }
  return out;
}

/** Follows a field path down the tree; undefined when it leaves the tree. */
function descend(node: PathTree, path: readonly string[]): PathTree | undefined {
  let n: PathTree | undefined = node;
  for (let i = 0; i < path.length && n; i++) n = n.children.get(path[i]!);
  return n;
}

/** Which of `entities` the allowed roots reach through `graph` within the tree. */
export function checkReach(graph: Pick<EntityGraph, 'edges'>, entities: Iterable<string>, roots: readonly AllowedRoot[]): ReachVerdict {
  const reached = new Map<string, Set<PathTree>>();
  const stack: AllowedRoot[] = [];
  const visit = (entity: string, node: PathTree) => {
    let at = reached.get(entity);
    if (!at) reached.set(entity, (at = new Set()));
    if (at.has(node)) return;
    at.add(node);
    stack.push({ entity, node });
  };
  for (const r of roots) visit(r.entity, r.node);
  while (stack.length > 0) {
    const { entity, node } = stack.pop()!;
    const edges = graph.edges.get(entity);
    if (!edges) continue;
    for (const e of edges) {
      const next = descend(node, e.path);
      if (next) visit(e.to, next);
    }
  }
  const outside: string[] = [];
  for (const id of entities) if (!reached.has(id)) outside.push(id);
  return { ok: outside.length === 0, outside };
}
