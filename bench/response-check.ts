/**
 * Micro-measure of the response check on workload W1, in process (no network, no
 * other load): the CPU the gateway spends per W1 request on entity collection (the
 * subgraph answers of W1's real query plan, keys added as in production) and on the
 * reachability check. `npm run bench` prints it next to the b / b-nocheck contenders,
 * whose difference is the same cost seen as throughput (noisier on a shared machine).
 *
 *   npx tsx bench/response-check.ts      # prints µs per W1 request
 *
 * Answers are synthesised from each subgraph operation: two items per list, one
 * distinct key per entity, as many `_entities` items as representations.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import { operationFromDocument, Supergraph } from '@apollo/federation-internals';
import { QueryPlanner, type PlanNode, type FetchNode } from '@apollo/query-planner';
import { getNamedType, isLeafType, Kind, parse, type GraphQLObjectType, type SelectionSetNode, type GraphQLSchema } from 'graphql';
import { newTrace, type MotlanContext } from '../gateway/core/context.js';
import { REPO_ROOT } from '../lib/repo-root.js';
import { collectAnswer, compileOperation } from '../gateway/disclosure/collect.js';
import { indexEntities, type EntityIndex } from '../gateway/disclosure/entity-index.js';
import { decide } from '../gateway/disclosure/plugin.js';
import { rootBindingsOf } from '../gateway/disclosure/reach.js';
import type { PathTree } from '../gateway/procedures/compile.js';
import { W1_QUERY } from './workloads.js';

type Obj = Record<string, unknown>;

function fetches(node: PlanNode | undefined, out: FetchNode[] = []): FetchNode[] {
  if (!node) return out;
  if (node.kind === 'Fetch') out.push(node);
  else if (node.kind === 'Sequence' || node.kind === 'Parallel') for (const n of node.nodes) fetches(n, out);
  else if (node.kind === 'Flatten') fetches(node.node, out);
  return out;
}

/** A plausible answer to `set` on `type`: strings for leaves, two items per list, fresh keys. */
function answer(schema: GraphQLSchema, keys: EntityIndex['keys'], type: GraphQLObjectType, set: SelectionSetNode, ids: { n: number }, fixedKey?: string): Obj {
  const out: Obj = {};
  for (const sel of set.selections) {
    if (sel.kind === Kind.INLINE_FRAGMENT) {
      if (!sel.typeCondition || sel.typeCondition.name.value === type.name) Object.assign(out, answer(schema, keys, type, sel.selectionSet, ids, fixedKey));
      continue;
    }
    if (sel.kind !== Kind.FIELD) continue;
    const rk = sel.alias?.value ?? sel.name.value;
    if (sel.name.value === '__typename') { out[rk] = type.name; continue; }
    if (sel.name.value === keys.get(type.name)) { out[rk] = fixedKey ?? `${type.name[0]}${ids.n++}`; continue; }
    const f = type.getFields()[sel.name.value]!;
    const named = getNamedType(f.type);
    if (isLeafType(named) || !sel.selectionSet) { out[rk] = 'v'; continue; }
    const list = String(f.type).includes('[');
    const one = () => answer(schema, keys, named as GraphQLObjectType, sel.selectionSet!, ids);
    out[rk] = list ? [one(), one()] : one();
  }
  return out;
}

export interface ResponseCheckFigure {
  /** Subgraph fetches in W1's plan. */
  fetches: number;
  /** Entities one W1 request returns (synthetic answers). */
  entities: number;
  /** CPU per W1 request for collection (all fetches) and the check, in microseconds: median of the batches. */
  microsPerRequest: number;
  /** The fastest batch (the least disturbed by other processes on a shared machine). */
  microsMin: number;
}

export function measureResponseCheck(batches = 15, perBatch = 2000): ResponseCheckFigure {
  const sdl = readFileSync(path.join(REPO_ROOT, 'schema/supergraph.graphql'), 'utf8');
  const index = indexEntities(sdl);
  const supergraph = Supergraph.build(sdl);
  const op = operationFromDocument(supergraph.apiSchema(), parse(W1_QUERY), { validate: true });
  const plan = new QueryPlanner(supergraph).buildQueryPlan(op);
  const subject = 'C0';
  // Every W1 fetch, with the answer its (key-completed) operation gets.
  const calls = fetches(plan.node?.kind === 'Subscription' ? undefined : plan.node).map((f) => {
    const compiled = compileOperation(index, f.operation);
    const doc = parse(compiled.query);
    const opDef = doc.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION)!;
    const ids = { n: 1 };
    const query = index.schema.getQueryType()!;
    if (opDef.kind !== Kind.OPERATION_DEFINITION) throw new Error('no operation');
    const entitiesField = opDef.selectionSet.selections.find((s) => s.kind === Kind.FIELD && s.name.value === '_entities');
    if (entitiesField && entitiesField.kind === Kind.FIELD) {
      const frag = entitiesField.selectionSet!.selections.find((s) => s.kind === Kind.INLINE_FRAGMENT);
      const typename = frag && frag.kind === Kind.INLINE_FRAGMENT ? frag.typeCondition!.name.value : 'Citizen';
      const t = index.schema.getType(typename) as GraphQLObjectType;
      const reps = typename === 'Citizen' ? [{ __typename: 'Citizen', personalId: subject }] : [0, 1].map((i) => ({ __typename: typename, [index.keys.get(typename)!]: `${typename[0]}${i + 1}` }));
      const data = { _entities: reps.map((r) => answer(index.schema, index.keys, t, entitiesField.selectionSet!, ids, String(r[index.keys.get(typename)! as keyof typeof r]))) };
      return { compiled, data, variables: { representations: reps } as Obj };
    }
    const data: Obj = {};
    for (const sel of opDef.selectionSet.selections) {
      if (sel.kind !== Kind.FIELD || !sel.selectionSet) continue;
      const f = query.getFields()[sel.name.value]!;
      data[sel.alias?.value ?? sel.name.value] = answer(index.schema, index.keys, getNamedType(f.type) as GraphQLObjectType, sel.selectionSet, ids, subject);
    }
    return { compiled, data, variables: undefined };
  });

  // The bench purpose's tree: W1's own paths (what bench/procedures/bench-citizen-dossier.yaml declares).
  const tree = treeOf(W1_QUERY);
  const bindings = rootBindingsOf(index.schema);
  const ctxOf = (): MotlanContext => ({
    requestId: 'bench', receivedAt: 0,
    client: { id: 'bench-client', agency: 'Benchmark', name: 'bench', demo: false, procedures: ['bench-citizen-dossier'], permissions: [], requireSubjectToken: false },
    purpose: { procedureId: 'bench-citizen-dossier', dossierId: null },
    subject: { personalId: subject }, headers: {}, trace: newTrace(),
  });
  const run = () => {
    const ctx = ctxOf();
    for (const c of calls) collectAnswer(ctx.trace, c.compiled, c.data, c.variables);
    const result = decide(ctx, { production: true, pathTree: () => tree }, bindings);
    if (result.outcome !== 'checked') throw new Error(`W1 was not accepted by the response check: ${JSON.stringify(result)}`);
    return ctx.trace.returnedEntities.size;
  };
  let entities = 0;
  for (let i = 0; i < 2000; i++) entities = run(); // warm-up (JIT)
  const perRequest: number[] = [];
  for (let b = 0; b < batches; b++) {
    const t0 = performance.now();
    for (let i = 0; i < perBatch; i++) run();
    perRequest.push(((performance.now() - t0) * 1000) / perBatch);
  }
  perRequest.sort((x, y) => x - y);
  return { fetches: calls.length, entities, microsPerRequest: perRequest[Math.floor(batches / 2)]!, microsMin: perRequest[0]! };
}

/** A path tree of the field names of a query (what a procedure declaring exactly its paths gets). */
function treeOf(query: string): PathTree {
  const doc = parse(query);
  const op = doc.definitions[0]!;
  const build = (set: SelectionSetNode | undefined): PathTree => ({
    children: new Map((set?.selections ?? []).flatMap((s) => (s.kind === Kind.FIELD ? [[s.name.value, build(s.selectionSet)] as const] : []))),
  });
  return op.kind === Kind.OPERATION_DEFINITION ? build(op.selectionSet) : { children: new Map() };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const f = measureResponseCheck();
  process.stdout.write(`response check on W1: ${f.microsPerRequest.toFixed(1)} µs CPU per request (median; fastest batch ${f.microsMin.toFixed(1)} µs; ${f.fetches} subgraph answers, ${f.entities} entities collected and checked)\n`);
}
