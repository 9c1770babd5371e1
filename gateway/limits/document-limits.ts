/**
 * Measures a parsed GraphQL document against DocumentLimits, cheaply and safely on
 * hostile input: fragments are expanded by memoised arithmetic (a fragment bomb that
 * would expand to 2^40 fields costs a few steps to measure), and fragment cycles are
 * cut (validation reports them afterwards with its own message).
 */
import {
  GraphQLError,
  Kind,
  getNamedType,
  getNullableType,
  isInterfaceType,
  isListType,
  isObjectType,
  parse,
  visit,
  type DocumentNode,
  type GraphQLInterfaceType,
  type GraphQLObjectType,
  type GraphQLSchema,
  type FragmentDefinitionNode,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import type { DocumentLimits } from './options.js';

export interface LimitViolation {
  /** Which limit, e.g. `maxDepth`. */
  limit: keyof DocumentLimits;
  /** Its configured value. */
  max: number;
  /** What the request had (a lower bound when counting stopped early). */
  actual: number;
  message: string;
}

interface Measure {
  depth: number;
  aliases: number;
  cost: number;
}

const CAP = Number.MAX_SAFE_INTEGER;
const add = (a: number, b: number) => Math.min(CAP, a + b);
const mul = (a: number, b: number) => Math.min(CAP, a * b);

function violation(limit: keyof DocumentLimits, max: number, actual: number, what: string): LimitViolation {
  const shown = actual >= CAP ? 'an unbounded amount' : String(actual);
  return { limit, max, actual, message: `Query ${what} limit exceeded: ${limit} is ${max}, this request has ${shown}.` };
}

/**
 * Parses `query` with the token limit; returns the document, a violation, or null when
 * the text is not valid GraphQL (the GraphQL server reports syntax errors itself).
 */
export function parseWithinLimits(query: string, limits: DocumentLimits): { document: DocumentNode } | { violation: LimitViolation } | null {
  if (query.length > limits.maxDocumentChars) {
    return { violation: violation('maxDocumentChars', limits.maxDocumentChars, query.length, 'size') };
  }
  try {
    return { document: parse(query, { maxTokens: limits.maxTokens, noLocation: true }) };
  } catch (err) {
    if (err instanceof GraphQLError && /contains more th(?:an|at) \d+ tokens/.test(err.message)) {
      return { violation: violation('maxTokens', limits.maxTokens, limits.maxTokens + 1, 'token') };
    }
    return null;
  }
}

type Composite = GraphQLObjectType | GraphQLInterfaceType | undefined;

/**
 * Checks every operation of the document (the one that runs is among them). With the
 * schema, list fields are known exactly for the cost estimate; without it (or for an
 * unknown field, which validation refuses later) plural-looking names count as lists.
 */
export function checkDocument(document: DocumentNode, limits: DocumentLimits, schema?: GraphQLSchema): LimitViolation | null {
  const composite = (name: string | undefined): Composite => {
    const t = name && schema ? schema.getType(name) : undefined;
    return t && (isObjectType(t) || isInterfaceType(t)) ? t : undefined;
  };
  let directives = 0;
  visit(document, { Directive() { directives++; } });
  if (directives > limits.maxDirectives) return violation('maxDirectives', limits.maxDirectives, directives, 'directive');

  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  const memo = new Map<string, Measure>();
  const inProgress = new Set<string>();

  const measureSet = (set: SelectionSetNode, parent: Composite): Measure => {
    let depth = 0;
    let aliases = 0;
    let cost = 0;
    for (const sel of set.selections) {
      let m: Measure;
      if (sel.kind === Kind.FIELD) {
        const def = parent?.getFields()[sel.name.value];
        const sub = sel.selectionSet
          ? measureSet(sel.selectionSet, def ? composite(getNamedType(def.type).name) : undefined)
          : { depth: 0, aliases: 0, cost: 0 };
        const isList = sel.selectionSet !== undefined &&
          (def ? isListType(getNullableType(def.type)) : /s$|ren$/.test(sel.name.value));
        m = {
          depth: 1 + sub.depth,
          aliases: add(sel.alias ? 1 : 0, sub.aliases),
          cost: add(1, isList ? mul(sub.cost, limits.listFactor) : sub.cost),
        };
      } else if (sel.kind === Kind.INLINE_FRAGMENT) {
        m = measureSet(sel.selectionSet, sel.typeCondition ? composite(sel.typeCondition.name.value) : parent);
      } else {
        m = measureFragment(sel.name.value);
      }
      depth = Math.max(depth, m.depth);
      aliases = add(aliases, m.aliases);
      cost = add(cost, m.cost);
    }
    return { depth, aliases, cost };
  };

  const measureFragment = (name: string): Measure => {
    const hit = memo.get(name);
    if (hit) return hit;
    const frag = fragments.get(name);
    if (!frag || inProgress.has(name)) return { depth: 0, aliases: 0, cost: 0 };
    inProgress.add(name);
    const m = measureSet(frag.selectionSet, composite(frag.typeCondition.name.value));
    inProgress.delete(name);
    memo.set(name, m);
    return m;
  };

  /** Counts root fields, and tells whether they are all introspection (`__schema`, `__type`, `__typename`). */
  const rootFields = (op: OperationDefinitionNode) => {
    let n = 0;
    let introspectionOnly = true;
    const seen = new Set<string>();
    const walk = (set: SelectionSetNode) => {
      for (const sel of set.selections) {
        if (sel.kind === Kind.FIELD) {
          n++;
          if (!sel.name.value.startsWith('__')) introspectionOnly = false;
        } else if (sel.kind === Kind.INLINE_FRAGMENT) walk(sel.selectionSet);
        else if (!seen.has(sel.name.value)) {
          seen.add(sel.name.value);
          const f = fragments.get(sel.name.value);
          if (f) walk(f.selectionSet);
        }
      }
    };
    walk(op.selectionSet);
    return { count: n, introspectionOnly: introspectionOnly && n > 0 };
  };

  for (const def of document.definitions) {
    if (def.kind !== Kind.OPERATION_DEFINITION) continue;
    const roots = rootFields(def);
    if (roots.count > limits.maxRootFields) return violation('maxRootFields', limits.maxRootFields, roots.count, 'root field');
    const root = schema?.getRootType(def.operation) ?? undefined;
    const m = measureSet(def.selectionSet, root);
    const [depthLimit, maxDepth, costLimit, maxCost] = roots.introspectionOnly
      ? (['introspectionMaxDepth', limits.introspectionMaxDepth, 'introspectionMaxCost', limits.introspectionMaxCost] as const)
      : (['maxDepth', limits.maxDepth, 'maxCost', limits.maxCost] as const);
    if (m.depth > maxDepth) return violation(depthLimit, maxDepth, m.depth, 'depth');
    if (m.aliases > limits.maxAliases) return violation('maxAliases', limits.maxAliases, m.aliases, 'alias');
    if (m.cost > maxCost) return violation(costLimit, maxCost, m.cost, 'cost');
  }
  return null;
}
