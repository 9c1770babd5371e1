/**
 * What a subgraph fetch is, for the cache: an `_entities` fetch (cached per entity) or
 * a root-field fetch (cached whole), and the policy that applies to it. The query
 * planner sends the same few query strings over and over, so the analysis is memoised
 * per query string.
 */
import { sha256 as sha256Of } from '../../lib/sha256.js';
import { Kind, parse, type DocumentNode, type FragmentDefinitionNode, type SelectionSetNode } from 'graphql';
import { LRUCache } from 'lru-cache';
import type { CachePolicy } from './settings.js';

export type FetchShape =
  | {
      kind: 'entities';
      /** sha256 of the exact query string: the selection every cached entity was fetched with. */
      queryHash: string;
      /** Policy per entity type selected; a type absent here is not cached. */
      byType: ReadonlyMap<string, CachePolicy>;
    }
  | { kind: 'root'; queryHash: string; policy: CachePolicy }
  | { kind: 'uncacheable'; queryHash: string; reason: string };

export function sha256(text: string): string {
  return sha256Of(text, 'base64url');
}

/** The shorter life of two policies: an entry may not outlive any field it holds. */
function stricter(a: CachePolicy | undefined, b: CachePolicy): CachePolicy {
  return a ? { ttl: Math.min(a.ttl, b.ttl), stale: Math.min(a.stale, b.stale) } : b;
}

/** Top-level field names of a selection set, through inline fragments and fragment spreads. */
function fieldsOf(set: SelectionSetNode, fragments: Map<string, FragmentDefinitionNode>, typeCondition: string | null, out: Map<string | null, Set<string>>): void {
  for (const sel of set.selections) {
    if (sel.kind === Kind.FIELD) {
      if (sel.name.value === '__typename') continue;
      let names = out.get(typeCondition);
      if (!names) out.set(typeCondition, (names = new Set()));
      names.add(sel.name.value);
    } else if (sel.kind === Kind.INLINE_FRAGMENT) {
      fieldsOf(sel.selectionSet, fragments, sel.typeCondition?.name.value ?? typeCondition, out);
    } else {
      const frag = fragments.get(sel.name.value);
      if (frag) fieldsOf(frag.selectionSet, fragments, frag.typeCondition.name.value, out);
    }
  }
}

/** Classifies one subgraph query against the policies (pure; see `FetchClassifier` for the memoised form). */
export function classifyFetch(query: string, policies: Readonly<Record<string, CachePolicy>>): FetchShape {
  const queryHash = sha256(query);
  let doc: DocumentNode;
  try {
    doc = parse(query, { noLocation: true });
  } catch {
    return { kind: 'uncacheable', queryHash, reason: 'unparsable query' };
  }
  const ops = doc.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
  const op = ops[0];
  if (ops.length !== 1 || !op) return { kind: 'uncacheable', queryHash, reason: 'not exactly one operation' };
  if (op.operation !== 'query') return { kind: 'uncacheable', queryHash, reason: `${op.operation}s are never cached` };
  const fragments = new Map(doc.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((f) => [f.name.value, f]));
  const roots = new Map<string | null, Set<string>>();
  fieldsOf(op.selectionSet, fragments, null, roots);
  const rootFields = [...(roots.get(null) ?? [])];
  if (rootFields.length === 0) return { kind: 'uncacheable', queryHash, reason: 'no field' };

  if (rootFields.length === 1 && rootFields[0] === '_entities') {
    const entitiesField = op.selectionSet.selections.find((s) => s.kind === Kind.FIELD && s.name.value === '_entities');
    if (!entitiesField || entitiesField.kind !== Kind.FIELD || !entitiesField.selectionSet) {
      return { kind: 'uncacheable', queryHash, reason: '_entities behind a fragment' };
    }
    const byTypeFields = new Map<string | null, Set<string>>();
    fieldsOf(entitiesField.selectionSet, fragments, null, byTypeFields);
    const byType = new Map<string, CachePolicy>();
    for (const [type, fields] of byTypeFields) {
      if (type === null) continue; // fields outside `... on T` exist only on interfaces; not cached
      let policy: CachePolicy | undefined;
      let complete = true;
      for (const f of fields) {
        const p = policies[`${type}.${f}`] ?? policies[type];
        if (!p) {
          complete = false;
          break;
        }
        policy = stricter(policy, p);
      }
      // A type whose only selection is __typename has nothing to go stale: its type policy applies.
      policy ??= policies[type];
      if (complete && policy && policy.ttl > 0) byType.set(type, policy);
    }
    return byType.size > 0 ? { kind: 'entities', queryHash, byType } : { kind: 'uncacheable', queryHash, reason: 'no entity type with a policy' };
  }

  let policy: CachePolicy | undefined;
  for (const f of rootFields) {
    const p = policies[`Query.${f}`];
    if (!p) return { kind: 'uncacheable', queryHash, reason: `Query.${f} has no cache policy` };
    policy = stricter(policy, p);
  }
  return policy && policy.ttl > 0 ? { kind: 'root', queryHash, policy } : { kind: 'uncacheable', queryHash, reason: 'ttl 0' };
}

/** Memoises `classifyFetch` per query string (the planner reuses a bounded set of queries). */
export class FetchClassifier {
  private readonly memo = new LRUCache<string, FetchShape>({ max: 2000 });
  constructor(private readonly policies: Readonly<Record<string, CachePolicy>>) {}

  classify(query: string): FetchShape {
    let shape = this.memo.get(query);
    if (!shape) {
      shape = classifyFetch(query, this.policies);
      this.memo.set(query, shape);
    }
    return shape;
  }
}
