/**
 * Who a request was about, as keyed HMACs (never the identifiers themselves):
 * - the subject the policy or prefill bound to the request (`context.subject`);
 * - identifiers named in the operation's arguments (`citizen(personalId:)`,
 *   `prefill(subject: {…})`), so a request refused before policy ran is still
 *   searchable by the citizen it targeted;
 * - every entity the subgraphs returned (`trace.returnedEntities`, filled from the
 *   subgraph fetch results, so the client's aliases change nothing) as `related`:
 *   their data left the gateway too, and the citizen history must show it;
 * - entity keys present in the client's response under their schema names (the same
 *   entities, kept as a fallback for executions that bypass the subgraph data source).
 */
import { Kind, valueFromASTUntyped, type DocumentNode, type SelectionSetNode } from 'graphql';
import type { ReturnedEntity, Subject } from '../core/context.js';
import type { SubjectHasher } from './keys.js';
import { MAX_SUBJECTS, type SubjectKind, type SubjectRef, type SubjectRole } from './record.js';

/**
 * Argument / input / response keys that carry identifiers. A Map, not an object literal: the keys
 * looked up are the client's (aliases, input fields), and `constructor` must not find Object's.
 */
const KEYS: ReadonlyMap<string, { kind: SubjectKind; role: SubjectRole }> = new Map([
  ['personalId', { kind: 'personal', role: 'subject' }],
  ['personalIds', { kind: 'personal', role: 'subject' }],
  ['relatedPersonalId', { kind: 'personal', role: 'related' }],
  ['enterpriseCode', { kind: 'enterprise', role: 'subject' }],
  ['parcelId', { kind: 'parcel', role: 'subject' }],
]);

/** The subject kind of each entity type a registry returns. */
export const ENTITY_KINDS: Readonly<Record<string, SubjectKind>> = {
  Citizen: 'personal',
  Enterprise: 'enterprise',
  LandParcel: 'parcel',
};

/** Bounds the walk over a response (a huge response must not make auditing expensive). */
const MAX_NODES = 20_000;

export class SubjectCollector {
  private readonly found = new Map<string, { kind: SubjectKind; role: SubjectRole; id: string }>();

  add(kind: SubjectKind, role: SubjectRole, id: unknown): void {
    if (typeof id !== 'string' && typeof id !== 'number') return;
    const value = String(id).trim();
    if (value === '' || value.length > 64 || this.found.size >= MAX_SUBJECTS) return;
    const key = `${kind}|${value}`;
    const prev = this.found.get(key);
    // `subject` wins over `related` for the same identifier.
    if (!prev || (prev.role === 'related' && role === 'subject')) this.found.set(key, { kind, role, id: value });
  }

  fromContext(subject: Subject | null | undefined): void {
    if (!subject) return;
    this.add('personal', 'subject', subject.personalId);
    this.add('personal', 'related', subject.relatedPersonalId);
    this.add('enterprise', 'subject', subject.enterpriseCode);
    this.add('parcel', 'subject', subject.parcelId);
  }

  /** Identifiers in the arguments of every field of the operation (variables resolved). */
  fromOperation(document: DocumentNode | undefined, operationName: string | null | undefined, variables: Record<string, unknown> | undefined): void {
    if (!document) return;
    const fragments = new Map<string, SelectionSetNode>();
    for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d.selectionSet);
    const op = document.definitions.find(
      (d) => d.kind === Kind.OPERATION_DEFINITION && (!operationName || d.name?.value === operationName),
    );
    if (!op || op.kind !== Kind.OPERATION_DEFINITION) return;
    const seen = new Set<string>();
    const walk = (set: SelectionSetNode) => {
      for (const sel of set.selections) {
        if (sel.kind === Kind.FIELD) {
          for (const arg of sel.arguments ?? []) {
            let value: unknown;
            try {
              value = valueFromASTUntyped(arg.value, variables ?? {});
            } catch {
              continue;
            }
            this.fromValue(arg.name.value, value, 'subject', 0);
          }
          if (sel.selectionSet) walk(sel.selectionSet);
        } else if (sel.kind === Kind.INLINE_FRAGMENT) walk(sel.selectionSet);
        else if (!seen.has(sel.name.value)) {
          seen.add(sel.name.value);
          const f = fragments.get(sel.name.value);
          if (f) walk(f);
        }
      }
    };
    walk(op.selectionSet);
  }

  /** `value` under key `name`: identifiers directly, in lists, or inside input objects. */
  private fromValue(name: string, value: unknown, fallbackRole: SubjectRole, depth: number): void {
    if (depth > 5 || value === null || value === undefined) return;
    const k = KEYS.get(name);
    if (Array.isArray(value)) {
      for (const v of value.slice(0, MAX_SUBJECTS)) this.fromValue(name, v, fallbackRole, depth + 1);
      return;
    }
    if (typeof value === 'object') {
      for (const [kk, vv] of Object.entries(value as Record<string, unknown>)) this.fromValue(kk, vv, fallbackRole, depth + 1);
      return;
    }
    if (k) this.add(k.kind, fallbackRole === 'related' ? 'related' : k.role, value);
  }

  /** The entities the subgraphs returned (`trace.returnedEntities`), as `related` unless already a subject. */
  fromReturned(entities: ReadonlyMap<string, ReturnedEntity> | undefined): void {
    if (!entities) return;
    // The trace holds Citizen, Enterprise and LandParcel only (gateway/core/context.ts).
    for (const e of entities.values()) {
      const kind = ENTITY_KINDS[e.type];
      if (kind) this.add(kind, 'related', e.key);
    }
  }

  /** Entity keys present in a response, as `related` unless already a subject. */
  fromResponse(data: unknown): void {
    let budget = MAX_NODES;
    const walk = (v: unknown) => {
      if (--budget <= 0 || v === null || typeof v !== 'object') return;
      if (Array.isArray(v)) {
        for (const x of v) walk(x);
        return;
      }
      // for…in, not Object.entries: no array per object of a response walked on every request.
      const o = v as Record<string, unknown>;
      for (const key in o) {
        const x = o[key];
        const k = KEYS.get(key);
        if (k && (typeof x === 'string' || typeof x === 'number')) this.add(k.kind, 'related', x);
        else if (x !== null && typeof x === 'object') walk(x);
      }
    };
    walk(data);
  }

  refs(hasher: SubjectHasher): SubjectRef[] {
    return [...this.found.values()].map((s) => ({ kind: s.kind, role: s.role, hmac: hasher(s.kind, s.id) }));
  }
}
