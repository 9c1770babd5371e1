/**
 * Entity collection from subgraph answers: for every fetch the gateway makes to a
 * registry's subgraph (cached answers included), record each entity (`Citizen`,
 * `Enterprise`, `LandParcel`: every type with a federation key) into the request's
 * trace — `returnedEntities` for the audit, `entityGraph` for the response check.
 *
 * It reads the SUBGRAPH operation, not the client's: response keys are mapped back to
 * field names through the operation's selections (aliases, fragments, inline
 * fragments), so what a client names its fields changes nothing. An `_entities` item
 * is bound to the key of its representation (`variables.representations[i]`).
 *
 * So that every entity can be identified, `prepare` rewrites each subgraph operation to
 * select the key on every entity-typed selection that lacks it (under an alias when a
 * client already uses the key's name for something else). The gateway builds the
 * client's response from the client's own selections (@apollo/gateway
 * `computeResponse`), so the extra field never reaches the client.
 *
 * Both the rewrite and the reading plan are compiled once per subgraph query string
 * (bounded memo, per collector: one per gateway) and rebuilt when the supergraph changes.
 *
 * Deny by default: what cannot be read (an entity without its key, an object of a type
 * the plan does not know, a query that does not parse) is noted in
 * `entityGraph.problems`, and the response check refuses the request.
 */
import {
  getNamedType,
  isAbstractType,
  isLeafType,
  isObjectType,
  Kind,
  parse,
  print,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLNamedType,
  type GraphQLObjectType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionNode,
  type SelectionSetNode,
} from 'graphql';
import type { EntityGraph, MotlanContext, RequestTrace } from '../core/context.js';
import { readsIdentifiersOnly } from '../core/inner-execution.js';
import { indexEntities, type EntityIndex } from './entity-index.js';

/** How one object of a given type is read. */
interface ObjectPlan {
  type: string;
  /** Key field when the type is an entity, else null. */
  keyField: string | null;
  /** Response keys that carry the key field (the client's, and the one `prepare` added). */
  keyResponseKeys: string[];
  /** Object-valued fields (leaves carry no entity). */
  fields: FieldPlan[];
}

interface FieldPlan {
  responseKey: string;
  name: string;
  /** Field names from the nearest entity above (or from the root) down to this field. */
  path: readonly string[];
  /** The plan of the objects this field returns, by concrete type (abstract types resolve per `__typename`). */
  plan: (typename: string | undefined) => ObjectPlan | null;
}

/** How a subgraph answer is read. */
export interface OperationPlan {
  /** The query to send: the subgraph's, with the keys it lacked. */
  query: string;
  /** Root fields whose objects are read (entities or not). */
  roots: FieldPlan[];
  /** Root leaf fields (never registry data in this graph; any value counts as unanchored). */
  rootLeaves: Array<{ responseKey: string; name: string }>;
  /** `_entities` selections: response key and plan per entity type. */
  entities: Array<{ responseKey: string; plan: (typename: string) => ObjectPlan | null }>;
  /** Why the operation cannot be read (unknown operation, field, fragment); answers then count as problems. */
  problem: string | null;
}

const KEY_ALIAS_PREFIX = 'motlanKey_';

interface Compiler {
  schema: GraphQLSchema;
  keys: ReadonlyMap<string, string>;
  fragments: Map<string, FragmentDefinitionNode>;
}

/** Whether a fragment's type condition applies to objects of `type`. */
function applies(c: Compiler, condition: string | undefined, type: GraphQLObjectType): boolean {
  if (!condition || condition === type.name) return true;
  const t = c.schema.getType(condition);
  return !!t && isAbstractType(t) && c.schema.isSubType(t, type);
}

/** graphql-js CollectFields for one concrete type: response key → the field nodes merged under it. */
function collectFields(c: Compiler, type: GraphQLObjectType, sets: readonly SelectionSetNode[]): Map<string, FieldNode[]> {
  const out = new Map<string, FieldNode[]>();
  const seen = new Set<string>();
  const visit = (set: SelectionSetNode) => {
    for (const sel of set.selections) {
      if (sel.kind === Kind.FIELD) {
        const rk = sel.alias?.value ?? sel.name.value;
        const list = out.get(rk);
        if (list) list.push(sel);
        else out.set(rk, [sel]);
      } else if (sel.kind === Kind.INLINE_FRAGMENT) {
        if (applies(c, sel.typeCondition?.name.value, type)) visit(sel.selectionSet);
      } else {
        const frag = c.fragments.get(sel.name.value);
        if (!frag) throw new Error(`unknown fragment ${sel.name.value}`);
        if (seen.has(frag.name.value)) continue;
        seen.add(frag.name.value);
        if (applies(c, frag.typeCondition.name.value, type)) visit(frag.selectionSet);
      }
    }
  };
  for (const s of sets) visit(s);
  return out;
}

function objectPlan(c: Compiler, type: GraphQLObjectType, sets: readonly SelectionSetNode[], prefix: readonly string[]): ObjectPlan {
  const keyField = c.keys.get(type.name) ?? null;
  // Paths restart at every entity: edges are labelled from the nearest entity above.
  const base = keyField ? [] : prefix;
  const plan: ObjectPlan = { type: type.name, keyField, keyResponseKeys: [], fields: [] };
  for (const [responseKey, nodes] of collectFields(c, type, sets)) {
    const name = nodes[0]!.name.value;
    if (name.startsWith('__')) continue;
    if (keyField && name === keyField) {
      plan.keyResponseKeys.push(responseKey);
      continue;
    }
    const def = type.getFields()[name];
    if (!def) throw new Error(`type ${type.name} has no field ${name}`);
    const named = getNamedType(def.type);
    if (isLeafType(named)) continue;
    const subSets = nodes.flatMap((n) => (n.selectionSet ? [n.selectionSet] : []));
    plan.fields.push({ responseKey, name, path: [...base, name], plan: childPlan(c, named, subSets, [...base, name]) });
  }
  return plan;
}

/** The plan of a field's objects: compiled now for an object type, per concrete type on demand for an abstract one. */
function childPlan(c: Compiler, named: GraphQLNamedType, sets: readonly SelectionSetNode[], path: readonly string[]): FieldPlan['plan'] {
  if (isObjectType(named)) {
    const plan = objectPlan(c, named, sets, path);
    return () => plan;
  }
  const byType = new Map<string, ObjectPlan | null>();
  return (typename) => {
    if (!typename) return null;
    let plan = byType.get(typename);
    if (plan === undefined) {
      const t = c.schema.getType(typename);
      plan = t && isObjectType(t) && isAbstractType(named) && c.schema.isSubType(named, t) ? objectPlan(c, t, sets, path) : null;
      byType.set(typename, plan);
    }
    return plan;
  };
}

/** Response keys used directly in a selection set (through fragments too) → the field names behind them. */
function responseKeyOwners(c: Compiler, set: SelectionSetNode, out = new Map<string, string>(), seen = new Set<string>()): Map<string, string> {
  for (const sel of set.selections) {
    if (sel.kind === Kind.FIELD) out.set(sel.alias?.value ?? sel.name.value, sel.name.value);
    else if (sel.kind === Kind.INLINE_FRAGMENT) responseKeyOwners(c, sel.selectionSet, out, seen);
    else if (!seen.has(sel.name.value)) {
      seen.add(sel.name.value);
      const frag = c.fragments.get(sel.name.value);
      if (frag) responseKeyOwners(c, frag.selectionSet, out, seen);
    }
  }
  return out;
}

/** The selection set with the entity's key selected unconditionally (added only when missing). */
function withKey(c: Compiler, set: SelectionSetNode, key: string): SelectionSetNode {
  const direct = set.selections.some((s) => s.kind === Kind.FIELD && s.name.value === key && !s.directives?.length && !s.arguments?.length);
  if (direct) return set;
  const owners = responseKeyOwners(c, set);
  let alias: string | undefined;
  if (owners.has(key) && owners.get(key) !== key) {
    alias = KEY_ALIAS_PREFIX + key;
    for (let i = 2; owners.has(alias) && owners.get(alias) !== key; i++) alias = `${KEY_ALIAS_PREFIX}${key}_${i}`;
  }
  const field: FieldNode = {
    kind: Kind.FIELD,
    name: { kind: Kind.NAME, value: key },
    ...(alias ? { alias: { kind: Kind.NAME, value: alias } } : {}),
  };
  return { ...set, selections: [...set.selections, field] };
}

/** Rewrites selections below `parent` so every entity-typed selection set selects its key (same object when nothing changes). */
function rewriteSet(c: Compiler, set: SelectionSetNode, parent: GraphQLNamedType | null, boundByRepresentation = false): SelectionSetNode {
  let changed = false;
  const selections = set.selections.map((sel): SelectionNode => {
    let next: SelectionNode = sel;
    if (sel.kind === Kind.FIELD) {
      if (!sel.selectionSet) return sel;
      if (sel.name.value === '_entities' && parent === c.schema.getQueryType()) {
        // Items are bound to their representation's key: no key needed at their top.
        const inner = rewriteSet(c, sel.selectionSet, null, true);
        if (inner !== sel.selectionSet) next = { ...sel, selectionSet: inner };
      } else {
        const fields = parent && (isObjectType(parent) || isAbstractType(parent)) && 'getFields' in parent ? parent.getFields() : null;
        const def = fields?.[sel.name.value];
        const inner = rewriteSet(c, sel.selectionSet, def ? getNamedType(def.type) : null);
        if (inner !== sel.selectionSet) next = { ...sel, selectionSet: inner };
      }
    } else if (sel.kind === Kind.INLINE_FRAGMENT) {
      const t = sel.typeCondition ? (c.schema.getType(sel.typeCondition.name.value) ?? null) : parent;
      const inner = rewriteSet(c, sel.selectionSet, t, boundByRepresentation);
      if (inner !== sel.selectionSet) next = { ...sel, selectionSet: inner };
    }
    if (next !== sel) changed = true;
    return next;
  });
  let out: SelectionSetNode = changed ? { ...set, selections } : set;
  const key = parent && !boundByRepresentation ? c.keys.get(parent.name) : undefined;
  if (key) out = withKey(c, out, key);
  return out;
}

/** Compiles a subgraph operation: the query to send (keys added) and how its answers are read. */
export function compileOperation(index: EntityIndex, query: string): OperationPlan {
  let doc: DocumentNode;
  try {
    doc = parse(query, { noLocation: true });
  } catch {
    return { query, roots: [], rootLeaves: [], entities: [], problem: 'the subgraph operation does not parse' };
  }
  const c: Compiler = { schema: index.schema, keys: index.keys, fragments: new Map() };
  const ops: OperationDefinitionNode[] = [];
  for (const def of doc.definitions) {
    if (def.kind === Kind.FRAGMENT_DEFINITION) c.fragments.set(def.name.value, def);
    else if (def.kind === Kind.OPERATION_DEFINITION) ops.push(def);
  }
  // The query planner writes one operation per subgraph fetch; anything else is not read (and so refused).
  const op = ops.length === 1 ? ops[0] : undefined;
  const rootType = op ? c.schema.getRootType(op.operation) : undefined;
  if (!op || !rootType) return { query, roots: [], rootLeaves: [], entities: [], problem: 'the subgraph operation is not one operation on a known root type' };
  try {
    // Rewrite fragments (their nested entity selections) and the operation.
    const definitions = doc.definitions.map((def) => {
      if (def.kind === Kind.FRAGMENT_DEFINITION) {
        const t = c.schema.getType(def.typeCondition.name.value) ?? null;
        const selectionSet = rewriteSet(c, def.selectionSet, t);
        if (selectionSet === def.selectionSet) return def;
        const rewritten = { ...def, selectionSet };
        c.fragments.set(def.name.value, rewritten);
        return rewritten;
      }
      if (def !== op) return def;
      const selectionSet = rewriteSet(c, op.selectionSet, rootType);
      return selectionSet === op.selectionSet ? op : { ...op, selectionSet };
    });
    const rewrittenOp = definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION && (d === op || d.name?.value === op.name?.value)) as OperationDefinitionNode;
    const changed = definitions.some((d, i) => d !== doc.definitions[i]);

    const plan: OperationPlan = { query: changed ? print({ ...doc, definitions }) : query, roots: [], rootLeaves: [], entities: [], problem: null };
    for (const [responseKey, nodes] of collectFields(c, rootType, [rewrittenOp.selectionSet])) {
      const name = nodes[0]!.name.value;
      if (name.startsWith('__')) continue;
      const subSets = nodes.flatMap((n) => (n.selectionSet ? [n.selectionSet] : []));
      if (name === '_entities') {
        const byType = new Map<string, ObjectPlan | null>();
        plan.entities.push({
          responseKey,
          plan: (typename) => {
            let p = byType.get(typename);
            if (p === undefined) {
              const t = c.schema.getType(typename);
              p = t && isObjectType(t) && c.keys.has(typename) ? objectPlan(c, t, subSets, []) : null;
              byType.set(typename, p);
            }
            return p;
          },
        });
        continue;
      }
      const def = rootType.getFields()[name];
      if (!def) throw new Error(`type ${rootType.name} has no field ${name}`);
      const named = getNamedType(def.type);
      if (isLeafType(named)) plan.rootLeaves.push({ responseKey, name });
      else plan.roots.push({ responseKey, name, path: [name], plan: childPlan(c, named, subSets, [name]) });
    }
    return plan;
  } catch (err) {
    return { query, roots: [], rootLeaves: [], entities: [], problem: `the subgraph operation cannot be read: ${(err as Error).message}` };
  }
}

type Obj = Record<string, unknown>;

/** Adds one entity and its place in the graph. */
function record(trace: RequestTrace, type: string, key: string, anchor: string | null, path: readonly string[]): string {
  const id = `${type}:${key}`;
  if (!trace.returnedEntities.has(id)) trace.returnedEntities.set(id, { type, key });
  const g = trace.entityGraph;
  if (anchor === null) {
    const p = path.join('.');
    const roots = g.roots.get(id);
    if (!roots) g.roots.set(id, new Set([p]));
    else roots.add(p);
  } else addEdge(g, anchor, path, id);
  return id;
}

export function addEdge(g: EntityGraph, from: string, path: readonly string[], to: string): void {
  const k = `${from}\n${path.join('.')}\n${to}`;
  if (g.edgeKeys.has(k)) return;
  g.edgeKeys.add(k);
  const list = g.edges.get(from);
  if (list) list.push({ path, to });
  else g.edges.set(from, [{ path, to }]);
}

function keyOf(obj: Obj, plan: ObjectPlan): string | null {
  for (const rk of plan.keyResponseKeys) {
    const v = obj[rk];
    if (typeof v === 'string' && v !== '') return v;
    if (typeof v === 'number') return String(v);
  }
  return null;
}

function walkValue(trace: RequestTrace, value: unknown, field: FieldPlan, anchor: string | null): void {
  if (value === null || value === undefined) return;
  if (Array.isArray(value)) {
    for (const item of value) walkValue(trace, item, field, anchor);
    return;
  }
  if (typeof value !== 'object') {
    trace.entityGraph.problems.push(`${field.name}: an object was expected`);
    return;
  }
  const obj = value as Obj;
  const typename = typeof obj.__typename === 'string' ? obj.__typename : undefined;
  const plan = field.plan(typename);
  if (!plan) {
    trace.entityGraph.problems.push(`${field.name}: object of unknown type ${typename ?? '(no __typename)'}`);
    return;
  }
  walkObject(trace, obj, plan, anchor, field.path);
}

function walkObject(trace: RequestTrace, obj: Obj, plan: ObjectPlan, anchor: string | null, path: readonly string[]): void {
  let here = anchor;
  if (plan.keyField) {
    const key = keyOf(obj, plan);
    if (key === null) {
      trace.entityGraph.problems.push(`${plan.type} at ${path.join('.')} has no ${plan.keyField}`);
      return;
    }
    here = record(trace, plan.type, key, anchor, path);
  } else if (anchor === null && path.length === 1) {
    // A root object that is no entity (household, socialInsurance by number): outside every purpose's roots.
    trace.entityGraph.unanchored.add(path[0]!);
  }
  for (const f of plan.fields) {
    const v = obj[f.responseKey];
    if (v !== null && v !== undefined) walkValue(trace, v, f, here);
  }
}

/** Records the entities of one subgraph answer into `trace` (pure apart from `trace`; exported for tests). */
export function collectAnswer(trace: RequestTrace, plan: OperationPlan, data: Obj | null | undefined, variables: Obj | undefined): void {
  if (!data) return;
  const g = trace.entityGraph;
  if (plan.problem) {
    g.problems.push(plan.problem);
    return;
  }
  for (const root of plan.roots) {
    const v = data[root.responseKey];
    if (v === null || v === undefined) continue;
    walkValue(trace, v, root, null);
  }
  for (const leaf of plan.rootLeaves) {
    const v = data[leaf.responseKey];
    if (v !== null && v !== undefined) g.unanchored.add(leaf.name);
  }
  for (const ent of plan.entities) {
    const items = data[ent.responseKey];
    if (items === null || items === undefined) continue;
    const reps = variables?.representations;
    if (!Array.isArray(items) || !Array.isArray(reps) || reps.length !== items.length) {
      g.problems.push('_entities: the answer does not match its representations');
      continue;
    }
    for (let i = 0; i < items.length; i++) {
      const item = items[i] as Obj | null;
      if (item === null || item === undefined) continue;
      const rep = reps[i] as Obj | null;
      const typename = typeof rep?.__typename === 'string' ? rep.__typename : '';
      const plan = ent.plan(typename);
      const key = plan?.keyField ? rep?.[plan.keyField] : undefined;
      if (!plan || (typeof key !== 'string' && typeof key !== 'number') || key === '') {
        g.problems.push(`_entities[${i}]: representation without a known entity type and key`);
        continue;
      }
      const id = `${plan.type}:${String(key)}`;
      if (!trace.returnedEntities.has(id)) trace.returnedEntities.set(id, { type: plan.type, key: String(key) });
      for (const f of plan.fields) {
        const v = item[f.responseKey];
        if (v !== null && v !== undefined) walkValue(trace, v, f, id);
      }
    }
  }
}

/** The request of one subgraph fetch, as the data source holds it. */
export interface SubgraphRequest {
  query?: string;
  operationName?: string;
  variables?: Record<string, unknown>;
}

export interface EntityCollectorOptions {
  /** The supergraph SDL being served (read on every fetch; the index is rebuilt when it changes). Required. */
  supergraphSdl: () => string | null;
  /** Compiled subgraph operations kept; the memo is emptied when full. Default 2000. */
  maxOperations?: number;
}

/**
 * One per gateway (no module state). `prepare` before the fetch, `collect` with its answer.
 */
export class EntityCollector {
  private sdl: string | null = null;
  private index: EntityIndex | null = null;
  private readonly memo = new Map<string, OperationPlan>();
  private readonly max: number;

  constructor(private readonly opts: EntityCollectorOptions) {
    this.max = opts.maxOperations ?? 2000;
  }

  /** The plan of a subgraph query (null when no supergraph is loaded yet). */
  plan(query: string): OperationPlan | null {
    const sdl = this.opts.supergraphSdl();
    if (!sdl) return null;
    if (sdl !== this.sdl) {
      this.index = indexEntities(sdl);
      this.sdl = sdl;
      this.memo.clear();
    }
    let plan = this.memo.get(query);
    if (!plan) {
      if (this.memo.size >= this.max) this.memo.clear();
      plan = compileOperation(this.index!, query);
      this.memo.set(query, plan);
      // `collect` is handed the prepared request: its query is `plan.query`. Same plan (the
      // rewrite is idempotent), so it is not compiled a second time.
      if (plan.query !== query) this.memo.set(plan.query, plan);
    }
    return plan;
  }

  /** The request to send: same request, with entity keys added to the query when it lacked some. */
  prepare<R extends SubgraphRequest>(request: R): R {
    if (!request.query) return request;
    const plan = this.plan(request.query);
    return plan && plan.query !== request.query ? { ...request, query: plan.query } : request;
  }

  /** Records the answer's entities into the context's trace (relation checks excepted: their identifiers do not leave). */
  collect(context: MotlanContext, request: SubgraphRequest, data: Record<string, unknown> | null | undefined): void {
    if (!data || readsIdentifiersOnly(context)) return;
    const plan = request.query ? this.plan(request.query) : null;
    if (!plan) {
      context.trace.entityGraph.problems.push('no supergraph to read the answer with');
      return;
    }
    collectAnswer(context.trace, plan, data, request.variables);
  }
}
