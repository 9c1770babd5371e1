/**
 * The response check's decision: a graph is accepted iff every entity in it is
 * reachable from the allowed roots by edges whose paths stay inside the tree. Checked
 * against an independent oracle (paths as strings, fixpoint) on random trees and graphs.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { newEntityGraph, type EntityGraph } from '../core/context.js';
import type { PathTree } from '../core/path-tree.js';
import { addEdge } from './collect.js';
import { allowedRoots, checkReach, DEFAULT_ROOT_BINDINGS, rootBindingsOf } from './reach.js';
import { indexEntities } from './entity-index.js';
import { readFileSync } from 'node:fs';

type Tree = Map<string, Tree>;
function toTree(paths: readonly string[][]): PathTree {
  const root: Tree = new Map();
  for (const p of paths) {
    let n = root;
    for (const s of p) {
      let next = n.get(s);
      if (!next) n.set(s, (next = new Map()));
      n = next;
    }
  }
  const freeze = (t: Tree): PathTree => ({ children: new Map([...t].map(([k, v]) => [k, freeze(v)])) });
  return freeze(root);
}

/** Every path of the tree (prefix-closed), as dotted strings. */
function pathSet(paths: readonly string[][]): Set<string> {
  const out = new Set<string>();
  for (const p of paths) for (let i = 1; i <= p.length; i++) out.add(p.slice(0, i).join('.'));
  return out;
}

interface Edge { from: number; path: string[]; to: number }

/** Oracle: (entity, path from its root) states grown to a fixpoint, paths compared as strings. */
function oracle(nodes: number, edges: Edge[], roots: Array<{ node: number; root: string }>, allowed: Set<string>): Set<number> {
  const states = new Set<string>();
  const reached = new Set<number>();
  for (const r of roots) if (allowed.has(r.root)) { states.add(`${r.node}|${r.root}`); reached.add(r.node); }
  let grew = true;
  while (grew) {
    grew = false;
    for (const s of [...states]) {
      const [n, at] = s.split('|') as [string, string];
      for (const e of edges) {
        if (e.from !== Number(n)) continue;
        const next = `${at}.${e.path.join('.')}`;
        if (!allowed.has(next)) continue;
        const st = `${e.to}|${next}`;
        if (!states.has(st)) { states.add(st); reached.add(e.to); grew = true; }
      }
    }
  }
  void nodes;
  return reached;
}

const FIELD = fc.constantFrom('father', 'mother', 'spouse', 'enterprises', 'enterprise', 'landParcels');
const PATH = fc.array(FIELD, { minLength: 1, maxLength: 3 });
const ROOT = fc.constantFrom('citizen', 'relatedCitizen');

function graphOf(edges: Edge[]): EntityGraph {
  const g = newEntityGraph();
  for (const e of edges) addEdge(g, `Citizen:${e.from}`, e.path, `Citizen:${e.to}`);
  return g;
}

describe('checkReach', () => {
  it('accepts a graph iff every entity is reachable within the tree (oracle, random graphs and trees)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(ROOT, fc.array(FIELD, { maxLength: 3 })).map(([r, p]) => [r, ...p]), { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 1, max: 8 }).chain((n) =>
          fc.record({
            n: fc.constant(n),
            edges: fc.array(fc.record({ from: fc.nat(n - 1), path: PATH, to: fc.nat(n - 1) }), { maxLength: 14 }),
            subject: fc.nat(n - 1),
            related: fc.option(fc.nat(n - 1), { nil: undefined }),
          }),
        ),
        (treePaths, { n, edges, subject, related }) => {
          const tree = toTree(treePaths);
          const roots = allowedRoots({ personalId: String(subject), ...(related !== undefined ? { relatedPersonalId: String(related) } : {}) }, tree);
          const entities = Array.from({ length: n }, (_, i) => `Citizen:${i}`);
          const verdict = checkReach(graphOf(edges), entities, roots);
          const reached = oracle(n, edges, [{ node: subject, root: 'citizen' }, ...(related !== undefined ? [{ node: related, root: 'relatedCitizen' }] : [])], pathSet(treePaths));
          const outside = entities.filter((_, i) => !reached.has(i));
          expect(verdict.outside.sort()).toEqual(outside.sort());
          expect(verdict.ok).toBe(outside.length === 0);
        },
      ),
      { numRuns: 2000, seed: 20251130 },
    );
  });

  it('a graph built by walking the tree is accepted; one entity one step beyond it is refused', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(FIELD, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 6 }),
        fc.array(FIELD, { minLength: 1, maxLength: 2 }),
        (paths, beyond) => {
          const tree = toTree(paths.map((p) => ['citizen', ...p]));
          // One entity per tree node below the root, linked to its parent by one field each.
          const edges: Edge[] = [];
          const ids = new Map<string, number>([['', 0]]);
          let leaf = 0;
          let leafPath: string[] = [];
          for (const p of paths) {
            for (let i = 1; i <= p.length; i++) {
              const k = p.slice(0, i).join('.');
              if (!ids.has(k)) {
                ids.set(k, ids.size);
                edges.push({ from: ids.get(p.slice(0, i - 1).join('.'))!, path: [p[i - 1]!], to: ids.get(k)! });
              }
            }
            if (p.length > leafPath.length) { leaf = ids.get(p.join('.'))!; leafPath = p; }
          }
          const entities = [...ids.values()].map((i) => `Citizen:${i}`);
          const roots = allowedRoots({ personalId: '0' }, tree);
          expect(checkReach(graphOf(edges), entities, roots).ok).toBe(true);

          // A new entity below the deepest node, by a path the tree does not have there.
          const deeper = [...leafPath, ...beyond];
          fc.pre(!pathSet(paths).has(deeper.join('.')));
          const extra = ids.size;
          const refused = checkReach(graphOf([...edges, { from: leaf, path: beyond, to: extra }]), [...entities, `Citizen:${extra}`], roots);
          expect(refused).toEqual({ ok: false, outside: [`Citizen:${extra}`] });
        },
      ),
      { numRuns: 1000, seed: 7 },
    );
  });

  it('an entity with no edge and no subject of its own is outside, even with an empty graph', () => {
    const tree = toTree([['citizen', 'father', 'fullName']]);
    expect(checkReach(newEntityGraph(), ['Citizen:1', 'Citizen:2'], allowedRoots({ personalId: '1' }, tree))).toEqual({ ok: false, outside: ['Citizen:2'] });
  });

  it('a subject whose root the purpose does not have is no root (the relatedCitizen of a citizen-only purpose)', () => {
    const tree = toTree([['citizen', 'fullName']]);
    expect(allowedRoots({ personalId: '1', relatedPersonalId: '2' }, tree).map((r) => r.entity)).toEqual(['Citizen:1']);
  });

  it('the root bindings are derived from the supergraph as the defaults say', () => {
    const { schema } = indexEntities(readFileSync(new URL('../../schema/supergraph.graphql', import.meta.url), 'utf8'));
    expect(rootBindingsOf(schema)).toEqual(DEFAULT_ROOT_BINDINGS);
  });
});
