/**
 * Generated test of the response check's decision (plugin.ts `decide`): over every mix of
 * returned entities, edges, unanchored data, unreadable answers, client, permissions,
 * purpose and mode, the check is skipped ONLY for an answer without registry data or for
 * `explore` outside production, an unreadable answer is always refused as undecidable, and
 * "checked" needs a purpose the client may run and every entity within its tree.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { newTrace, type ClientIdentity, type MotlanContext } from '../core/context.js';
import type { PathTree } from '../core/path-tree.js';
import { addEdge } from './collect.js';
import { decide, RESPONSE_REASONS } from './plugin.js';
import { DEFAULT_ROOT_BINDINGS } from './reach.js';

const tree = (spec: Record<string, unknown>): PathTree => ({
  children: new Map(Object.entries(spec).map(([k, v]) => [k, tree((v ?? {}) as Record<string, unknown>)])),
});
const TREE = tree({ citizen: { fullName: null, father: { fullName: null } } });
const pathTree = (id: string) => (id === 'p' ? TREE : null);

const ENTITIES = ['Citizen:S', 'Citizen:F', 'Citizen:G', 'Citizen:X', 'Enterprise:E'] as const;
const EDGES: Array<[string, string[], string]> = [
  ['Citizen:S', ['father'], 'Citizen:F'],
  ['Citizen:F', ['father'], 'Citizen:G'],
  ['Citizen:S', ['spouse'], 'Citizen:X'],
  ['Citizen:S', ['enterprises'], 'Enterprise:E'],
];

const world = fc.record({
  entities: fc.subarray([...ENTITIES]),
  edges: fc.subarray(EDGES),
  unanchored: fc.boolean(),
  problem: fc.boolean(),
  client: fc.constantFrom('none', 'plain', 'explore', 'star', 'other'),
  purpose: fc.constantFrom<string | null>(null, 'p', 'gone'),
  production: fc.boolean(),
});

function build(w: typeof world extends fc.Arbitrary<infer T> ? T : never): MotlanContext {
  const trace = newTrace();
  for (const id of w.entities) trace.returnedEntities.set(id, { type: id.split(':')[0]!, key: id.split(':')[1]! });
  for (const [from, path, to] of w.edges) addEdge(trace.entityGraph, from, path, to);
  if (w.unanchored) trace.entityGraph.unanchored.add('household');
  if (w.problem) trace.entityGraph.problems.push('Citizen at citizen has no personalId');
  const base: ClientIdentity = { id: 'c', agency: 'a', name: 'n', demo: false, procedures: ['p'], permissions: [], requireSubjectToken: false };
  const client: ClientIdentity | null =
    w.client === 'none' ? null
    : w.client === 'explore' ? { ...base, permissions: ['explore'] }
    : w.client === 'star' ? { ...base, procedures: ['*'] }
    : w.client === 'other' ? { ...base, procedures: ['other'] }
    : base;
  return { requestId: 'r', receivedAt: 0, client, purpose: w.purpose ? { procedureId: w.purpose, dossierId: null } : null, subject: { personalId: 'S' }, headers: {}, trace };
}

/** Entities the tree citizen{father} reaches from subject S over the edges present. */
function reachable(w: { edges: typeof EDGES }): Set<string> {
  const out = new Set(['Citizen:S']);
  if (w.edges.some(([f, p, t]) => f === 'Citizen:S' && p[0] === 'father' && t === 'Citizen:F')) out.add('Citizen:F');
  return out;
}

describe('response check decision (generated)', () => {
  it('skips only an answer without registry data, or explore outside production; refuses what it cannot read', () => {
    fc.assert(
      fc.property(world, (w) => {
        const r = decide(build(w), { production: w.production, pathTree }, DEFAULT_ROOT_BINDINGS);
        const empty = w.entities.length === 0 && !w.unanchored && !w.problem;
        const explore = !w.production && w.client === 'explore';
        expect(r.outcome === 'skipped').toBe(empty || explore);
        if (r.outcome === 'skipped') return;
        if (w.problem) {
          expect(r).toEqual({ outcome: 'refused', reason: RESPONSE_REASONS.undecidable });
          return;
        }
        const mayRun = w.purpose === 'p' && (w.client === 'plain' || w.client === 'explore' || (w.client === 'star' && !w.production));
        const within = w.entities.every((e) => reachable(w).has(e));
        expect(r.outcome).toBe(mayRun && !w.unanchored && within ? 'checked' : 'refused');
        if (r.outcome === 'refused') expect(r.reason).toBe(RESPONSE_REASONS.notAllowed);
      }),
      { numRuns: 2000 },
    );
  });
});
