/**
 * The invariants of issue 10 on one response, computed from the mocked world and the
 * catalog's path trees only (never from what the gateway decided):
 *
 * (a) every Citizen/Enterprise/LandParcel in the response (by its key when selected,
 *     else by its path from the root resolved against the world) is the request's
 *     subject or an entity the purpose's path tree reaches from the subjects;
 * (b) every selected field is on the purpose's path tree (keys and `__typename` allowed
 *     at every allowed node); response keys are mapped back to field names through the
 *     document, since aliases are the attacker's;
 * plus: a `prefill` answer only for a procedure the client may run, with the token the
 * client needs, about subjects the registries relate to the citizen.
 *
 * Who the subject is: the token's citizen for clients that need one; otherwise any one
 * citizen the request names (the response passes if it is allowed for one of them).
 */
import {
  Kind,
  getArgumentValues,
  getNamedType,
  getVariableValues,
  isObjectType,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLObjectType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import type { PathTree } from '../../gateway/procedures/compile.js';
import { ENTITY_KEYS, entityId, type EntityId, type WorldNode, type WorldOracle } from './world-oracle.js';
import { NO_DATA_ROOTS } from './catalog-roots.js';

type Obj = Record<string, unknown>;

export interface Violation {
  kind: 'entity' | 'path' | 'prefill' | 'unmapped-key' | 'data-with-invalid-variables';
  /** Response path with field names (aliases resolved), e.g. `citizen.father.spouse.fullName`. */
  at: string;
  detail: string;
}

export interface CheckContext {
  schema: GraphQLSchema;
  oracle: WorldOracle;
  /** Procedures the client may run. */
  clientProcedures: readonly string[];
  requireSubjectToken: boolean;
  /** The X-Purpose header sent. */
  purpose: string | undefined;
  /** The subject token sent (all tokens the test mints are validly signed and unexpired). */
  token: { personalId: string; procedureId: string } | undefined;
  pathTree(procedureId: string): PathTree | null;
  subjectsOf(procedureId: string): readonly string[] | null;
}

export interface CheckResult {
  violations: Violation[];
  /** Every entity the response carries (allowed or not), for the audit invariant. */
  entities: Set<EntityId>;
  /** Those whose key the response itself shows (under any alias); the others are identified by their path only. */
  keyed: Set<EntityId>;
  /**
   * Those that appear only as bare objects (`{}` or `{ __typename }`): nothing of theirs but
   * their existence left. Still held to (a) and (b); the audit invariant counts them apart.
   */
  bare: Set<EntityId>;
  /** Objects whose selected key disagreed with the world's answer for their path (oracle drift, reported apart). */
  oracleMismatches: number;
}


/** Response key → the field nodes selected under it, through fragments (directives ignored: validation merged them). */
function fieldsByKey(sets: readonly SelectionSetNode[], fragments: Map<string, FragmentDefinitionNode>): Map<string, FieldNode[]> {
  const out = new Map<string, FieldNode[]>();
  const seen = new Set<string>();
  const walk = (set: SelectionSetNode) => {
    for (const sel of set.selections) {
      if (sel.kind === Kind.FIELD) {
        const key = sel.alias?.value ?? sel.name.value;
        const list = out.get(key);
        if (list) list.push(sel);
        else out.set(key, [sel]);
      } else if (sel.kind === Kind.INLINE_FRAGMENT) walk(sel.selectionSet);
      else if (!seen.has(sel.name.value)) {
        seen.add(sel.name.value);
        const f = fragments.get(sel.name.value);
        if (f) walk(f.selectionSet);
      }
    }
  };
  for (const s of sets) walk(s);
  return out;
}

export function selectOperation(document: DocumentNode, operationName: string | undefined): OperationDefinitionNode | null {
  const ops = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  if (operationName) return ops.find((o) => o.name?.value === operationName) ?? null;
  return ops.length === 1 ? ops[0]! : null;
}

/** Identifiers named by the root arguments of the operation, by kind. */
interface Named {
  personal: string[];
  enterprise: string[];
  parcel: string[];
}

export function checkResponse(
  ctx: CheckContext,
  document: DocumentNode,
  operationName: string | undefined,
  variables: Record<string, unknown> | undefined,
  data: Obj | null | undefined,
): CheckResult {
  const result: CheckResult = { violations: [], entities: new Set(), keyed: new Set(), bare: new Set(), oracleMismatches: 0 };
  if (!data) return result;
  const op = selectOperation(document, operationName);
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  const queryType = ctx.schema.getQueryType()!;
  if (!op) {
    result.violations.push({ kind: 'unmapped-key', at: '', detail: 'data returned for an operation the document does not select' });
    return result;
  }
  const coerced = getVariableValues(ctx.schema, op.variableDefinitions ?? [], variables ?? {});
  const vars = coerced.errors ? null : coerced.coerced;
  const anyData = Object.entries(data).some(([k, v]) => v !== null && !NO_DATA_ROOTS.has(k));
  if (!vars) {
    if (anyData) result.violations.push({ kind: 'data-with-invalid-variables', at: '', detail: coerced.errors!.map((e) => e.message).join('; ') });
    return result;
  }
  const roots = fieldsByKey([op.selectionSet], fragments);

  // Root arguments and the identifiers they name.
  const rootArgs = new Map<string, Obj>();
  const named: Named = { personal: [], enterprise: [], parcel: [] };
  for (const [key, nodes] of roots) {
    const node = nodes[0]!;
    const def = queryType.getFields()[node.name.value];
    if (!def) continue;
    let args: Obj = {};
    try {
      args = getArgumentValues(def, node, vars);
    } catch {
      args = {};
    }
    rootArgs.set(key, args);
    const str = (v: unknown) => (typeof v === 'string' ? [v] : []);
    switch (node.name.value) {
      case 'citizen': named.personal.push(...str(args['personalId'])); break;
      case 'citizens': if (Array.isArray(args['personalIds'])) named.personal.push(...args['personalIds'].flatMap(str)); break;
      case 'enterprise': named.enterprise.push(...str(args['enterpriseCode'])); break;
      case 'landParcel': named.parcel.push(...str(args['parcelId'])); break;
      case 'landParcelByCertificate': {
        const p = typeof args['serial'] === 'string' ? ctx.oracle.index.parcelsByCertificate.get(args['serial']) : undefined;
        if (p) named.parcel.push(p.parcelId);
        break;
      }
      case 'prefill': {
        const s = (args['subject'] ?? {}) as Obj;
        named.personal.push(...str(s['personalId']));
        break;
      }
    }
  }

  // Which procedure the plain roots may use, and for which subject(s).
  const procedure = ctx.purpose !== undefined && ctx.clientProcedures.includes(ctx.purpose) ? ctx.purpose : null;
  const tree = procedure ? ctx.pathTree(procedure) : null;
  let candidates: Array<string | null>;
  if (ctx.requireSubjectToken) {
    candidates = ctx.token && procedure && ctx.token.procedureId === procedure ? [ctx.token.personalId] : [null];
  } else {
    candidates = [...new Set(named.personal)].filter((p) => ctx.oracle.index.citizens.has(p)).slice(0, 8);
    if (candidates.length === 0) candidates = [null];
  }

  let best: CheckResult | null = null;
  for (const subject of candidates) {
    const positions = subject && tree && procedure ? positionsFor(ctx, tree, procedure, subject, named) : new Map<EntityId, Set<PathTree>>();
    const r = walkRoots(ctx, roots, rootArgs, fragments, positions, queryType, data);
    if (!best || r.violations.length < best.violations.length) best = r;
    if (r.violations.length === 0) break;
  }
  return best!;
}

function positionsFor(ctx: CheckContext, tree: PathTree, procedure: string, subject: string, named: Named): Map<EntityId, Set<PathTree>> {
  const { oracle } = ctx;
  const me = oracle.citizen(subject);
  if (!me) return new Map();
  const subjects = new Set(ctx.subjectsOf(procedure) ?? ['citizen']);
  const roots: Array<{ root: string; node: WorldNode }> = [{ root: 'citizen', node: me }];
  if (subjects.has('relatedCitizen')) {
    const family = oracle.family(subject);
    for (const p of named.personal) if (family.has(p)) roots.push({ root: 'relatedCitizen', node: oracle.citizen(p)! });
  }
  if (subjects.has('enterprise')) {
    const mine = oracle.enterprisesOf(subject);
    for (const e of named.enterprise) if (mine.has(e)) roots.push({ root: 'enterprise', node: oracle.enterprise(e)! });
  }
  if (subjects.has('parcel')) {
    const mine = oracle.parcelsOf(subject);
    for (const p of named.parcel) if (mine.has(p) && oracle.parcel(p)) roots.push({ root: 'parcel', node: oracle.parcel(p)! });
  }
  return oracle.allowedPositions(tree, roots);
}

function walkRoots(
  ctx: CheckContext,
  roots: Map<string, FieldNode[]>,
  rootArgs: Map<string, Obj>,
  fragments: Map<string, FragmentDefinitionNode>,
  positions: Map<EntityId, Set<PathTree>>,
  queryType: GraphQLObjectType,
  data: Obj,
): CheckResult {
  const result: CheckResult = { violations: [], entities: new Set(), keyed: new Set(), bare: new Set(), oracleMismatches: 0 };
  const seenViolation = new Set<string>();
  const violate = (v: Violation) => {
    const k = `${v.kind}|${v.at}|${v.detail}`;
    if (!seenViolation.has(k)) {
      seenViolation.add(k);
      result.violations.push(v);
    }
  };

  /** Walks one object value. `allowed` empty means the whole object is outside the tree (reported above it). */
  const walkObject = (
    value: Obj,
    type: GraphQLObjectType,
    nodes: FieldNode[],
    allowed: ReadonlySet<PathTree>,
    world: WorldNode | null | undefined,
    at: string,
    reportHere: boolean,
  ) => {
    const sub = fieldsByKey(nodes.flatMap((n) => (n.selectionSet ? [n.selectionSet] : [])), fragments);
    const keyField = ENTITY_KEYS[type.name];
    if (keyField) {
      const ids = new Set<EntityId>();
      const fromWorld = world ? ctx.oracle.entityOf(world) : null;
      if (fromWorld) ids.add(fromWorld);
      for (const [k, fns] of sub) {
        if (fns[0]!.name.value === keyField && typeof value[k] === 'string') {
          const fromKey = entityId(type.name, value[k] as string);
          if (fromWorld && fromWorld !== fromKey) result.oracleMismatches++;
          ids.add(fromKey);
          result.keyed.add(fromKey);
        }
      }
      const isBare = Object.keys(value).every((k) => sub.get(k)?.[0]?.name.value === '__typename');
      for (const id of ids) {
        if (isBare && !result.entities.has(id)) result.bare.add(id);
        if (!isBare) result.bare.delete(id);
        result.entities.add(id);
        if (!positions.has(id)) violate({ kind: 'entity', at, detail: `${id} is neither the subject nor a relation the purpose declares here` });
      }
    }
    for (const [key, v] of Object.entries(value)) {
      const fns = sub.get(key);
      if (!fns) {
        violate({ kind: 'unmapped-key', at: `${at}.${key}`, detail: 'response key selected by no field of the document' });
        continue;
      }
      const name = fns[0]!.name.value;
      if (name === '__typename') continue;
      const path = `${at}.${name}`;
      const isKey = keyField === name;
      const next = new Set<PathTree>();
      for (const n of allowed) {
        const c = n.children.get(name);
        if (c) next.add(c);
      }
      if (next.size === 0 && !isKey && reportHere && allowed.size > 0) {
        violate({ kind: 'path', at: path, detail: `${path} is outside the purpose's path tree` });
      }
      const def = type.getFields()[name];
      if (!def || v === null || v === undefined) continue;
      const named = getNamedType(def.type);
      if (!isObjectType(named)) continue;
      const step = world ? ctx.oracle.step(world, name) : undefined;
      const items = Array.isArray(v) ? v : [v];
      items.forEach((item, i) => {
        if (item === null || typeof item !== 'object') return;
        const w = Array.isArray(v) ? (Array.isArray(step) ? step[i] : undefined) : Array.isArray(step) ? undefined : step;
        walkObject(item as Obj, named, fns, next, w, Array.isArray(v) ? `${path}[${i}]` : path, reportHere && next.size > 0);
      });
    }
  };

  for (const [key, value] of Object.entries(data)) {
    const fns = roots.get(key);
    if (!fns) {
      violate({ kind: 'unmapped-key', at: key, detail: 'response key selected by no root field of the document' });
      continue;
    }
    const name = fns[0]!.name.value;
    if (NO_DATA_ROOTS.has(name) || value === null || value === undefined) continue;
    const args = rootArgs.get(key) ?? {};
    if (name === 'prefill') {
      checkPrefill(ctx, args, key, violate, result);
      continue;
    }
    const def = queryType.getFields()[name];
    if (!def) continue;
    const type = getNamedType(def.type);
    if (!isObjectType(type)) continue;
    const world = ctx.oracle.root(name, args);
    const items = Array.isArray(value) ? value : [value];
    items.forEach((item, i) => {
      if (item === null || typeof item !== 'object') return;
      const w = Array.isArray(world) ? world[i] : Array.isArray(value) ? undefined : world;
      const at = Array.isArray(value) ? `${name}[${i}]` : name;
      const keyField = ENTITY_KEYS[type.name];
      const ids = [w ? ctx.oracle.entityOf(w) : null];
      if (keyField) {
        for (const [k, f] of fieldsByKey(fns.flatMap((n) => (n.selectionSet ? [n.selectionSet] : [])), fragments)) {
          if (f[0]!.name.value === keyField && typeof (item as Obj)[k] === 'string') ids.push(entityId(type.name, (item as Obj)[k] as string));
        }
      }
      const allowed = new Set<PathTree>();
      for (const id of ids) for (const n of (id && positions.get(id)) || []) allowed.add(n);
      if (allowed.size === 0) {
        // Only a bare `__typename` carries nothing of the record; anything else is data out of the tree.
        violate({ kind: 'path', at, detail: `root ${at}(${JSON.stringify(args)}) reaches no node of the purpose's path tree` });
      }
      walkObject(item as Obj, type, fns, allowed, w, at, allowed.size > 0);
    });
  }
  return result;
}

function checkPrefill(ctx: CheckContext, args: Obj, key: string, violate: (v: Violation) => void, result: CheckResult): void {
  const { oracle } = ctx;
  const procedureId = String(args['procedureId'] ?? '');
  const s = (args['subject'] ?? {}) as Obj;
  const personalId = typeof s['personalId'] === 'string' ? s['personalId'] : '';
  const problems: string[] = [];
  if (!ctx.clientProcedures.includes(procedureId)) problems.push(`the client may not run ${procedureId}`);
  if (ctx.requireSubjectToken && !(ctx.token && ctx.token.personalId === personalId && ctx.token.procedureId === procedureId)) {
    problems.push('no subject token for this citizen and procedure');
  }
  if (!oracle.citizen(personalId)) problems.push(`no citizen ${personalId}`);
  const rel = s['relatedPersonalId'];
  if (typeof rel === 'string' && !oracle.family(personalId).has(rel)) problems.push(`relatedPersonalId ${rel} is not family`);
  const ent = s['enterpriseCode'];
  if (typeof ent === 'string' && !oracle.enterprisesOf(personalId).has(ent)) problems.push(`enterprise ${ent} is not the citizen's`);
  const par = s['parcelId'];
  if (typeof par === 'string' && !oracle.parcelsOf(personalId).has(par)) problems.push(`parcel ${par} is not the citizen's`);
  if (problems.length) {
    violate({ kind: 'prefill', at: key, detail: `prefill(${procedureId}) answered: ${problems.join('; ')}` });
  }
  // The entities a prefill's form carries: the subject and what the procedure's tree reaches.
  const tree = ctx.pathTree(procedureId);
  const me = oracle.citizen(personalId);
  if (tree && me) {
    const subjects = new Set(ctx.subjectsOf(procedureId) ?? []);
    const roots: Array<{ root: string; node: WorldNode }> = [{ root: 'citizen', node: me }];
    if (subjects.has('relatedCitizen') && typeof rel === 'string' && oracle.citizen(rel)) roots.push({ root: 'relatedCitizen', node: oracle.citizen(rel)! });
    if (subjects.has('enterprise') && typeof ent === 'string' && oracle.enterprise(ent)) roots.push({ root: 'enterprise', node: oracle.enterprise(ent)! });
    if (subjects.has('parcel') && typeof par === 'string' && oracle.parcel(par)) roots.push({ root: 'parcel', node: oracle.parcel(par)! });
    for (const id of oracle.allowedPositions(tree, roots).keys()) result.entities.add(`prefill|${id}`);
  }
}
