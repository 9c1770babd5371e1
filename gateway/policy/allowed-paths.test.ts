/**
 * Property test of the path checker over the real supergraph schema: for random purpose
 * trees and random selections under `citizen` (aliases that reuse allowed names, named and
 * inline fragments, @include/@skip, __typename, keys at any depth), the selection is
 * allowed if and only if every selected path from the root — by field NAME — is in the
 * tree, or is an entity key / __typename directly below a node of the tree. Every path the
 * checker reports is outside the tree and is a prefix of a selected path.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { buildASTSchema, getNamedType, isObjectType, parse, validate, type GraphQLObjectType } from 'graphql';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../lib/repo-root.js';
import { analyzeOperation } from '../core/operation-analysis.js';
import { pathsOf, pathsOutside, treeFromPaths } from './allowed-paths.js';
import { indexSupergraph } from './supergraph-index.js';

const SDL = readFileSync(path.join(REPO_ROOT, 'schema/supergraph.graphql'), 'utf8');
const schema = buildASTSchema(parse(SDL), { assumeValidSDL: true });
const { keyFields } = indexSupergraph(SDL);
const isKey = (t: string, f: string) => keyFields.has(`${t}.${f}`);
const CITIZEN = schema.getType('Citizen') as GraphQLObjectType;

/** Selectable fields of a type (no arguments, not federation internals). */
const fieldsOf = (t: GraphQLObjectType) => Object.values(t.getFields()).filter((f) => f.args.length === 0 && !f.name.startsWith('_'));

/** One selected field in the model: its name, what it is printed as, and its children. */
interface Sel {
  name: string;
  alias?: string;
  wrap: 'none' | 'inline' | 'inlineTyped' | 'fragment' | 'include' | 'skip';
  children: Sel[];
}

const MAX_DEPTH = 4;

function genSelection(g: fc.GeneratorValue, type: GraphQLObjectType, depth: number): Sel[] {
  const fields = fieldsOf(type);
  const n = g(fc.integer, { min: 1, max: 4 });
  const out: Sel[] = [];
  for (let i = 0; i < n; i++) {
    const pickTypename = g(fc.integer, { min: 0, max: 9 }) === 0;
    const field = fields[g(fc.integer, { min: 0, max: fields.length - 1 })]!;
    const named = getNamedType(field.type);
    const object = isObjectType(named);
    if (pickTypename || (object && depth >= MAX_DEPTH)) {
      out.push({ name: '__typename', wrap: 'none', children: [] });
      continue;
    }
    // Aliases that reuse other field names are the classic disguise.
    const alias = g(fc.boolean) ? fields[g(fc.integer, { min: 0, max: fields.length - 1 })]!.name + (g(fc.boolean) ? '' : 'X') : undefined;
    const wrap = g(fc.constantFrom, 'none', 'none', 'inline', 'inlineTyped', 'fragment', 'include', 'skip') as Sel['wrap'];
    out.push({ name: field.name, alias, wrap, children: object ? genSelection(g, named, depth + 1) : [] });
  }
  return out;
}

/** Prints the model; named fragments are collected into `fragments`. */
function print(sels: Sel[], type: GraphQLObjectType, fragments: string[]): string {
  return sels
    .map((s) => {
      if (s.name === '__typename') return '__typename';
      const field = type.getFields()[s.name]!;
      const named = getNamedType(field.type);
      // Colliding response keys fail validation; such cases are skipped (fc.pre) below.
      const head = s.alias ? `${s.alias}: ${s.name}` : s.name;
      const body = isObjectType(named) ? ` { ${print(s.children, named, fragments)} }` : '';
      const sel = `${head}${s.wrap === 'include' ? ' @include(if: true)' : s.wrap === 'skip' ? ' @skip(if: true)' : ''}${body}`;
      if (s.wrap === 'inline') return `... { ${sel} }`;
      if (s.wrap === 'inlineTyped') return `... on ${type.name} { ${sel} }`;
      if (s.wrap === 'fragment') {
        const name = `F${fragments.length}`;
        fragments.push(`fragment ${name} on ${type.name} { ${sel} }`);
        return `...${name}`;
      }
      return sel;
    })
    .join(' ');
}

/** Every root-to-leaf path of the model, as field names, with the type holding its last step. */
function leafPaths(sels: Sel[], type: GraphQLObjectType, prefix: string[], out: Array<{ path: string[]; parent: string }>): void {
  for (const s of sels) {
    if (s.name === '__typename') {
      out.push({ path: [...prefix, '__typename'], parent: type.name });
      continue;
    }
    const named = getNamedType(type.getFields()[s.name]!.type);
    if (isObjectType(named)) leafPaths(s.children, named, [...prefix, s.name], out);
    else out.push({ path: [...prefix, s.name], parent: type.name });
  }
}

/** Random purpose trees: paths under `citizen`, as deep as the catalog's (≤ 4 steps). */
function genTreePaths(g: fc.GeneratorValue): string[] {
  const paths: string[] = [];
  const n = g(fc.integer, { min: 0, max: 12 });
  for (let i = 0; i < n; i++) {
    let type: GraphQLObjectType = CITIZEN;
    const steps = ['citizen'];
    for (let d = 0; d < MAX_DEPTH; d++) {
      const fields = fieldsOf(type);
      const f = fields[g(fc.integer, { min: 0, max: fields.length - 1 })]!;
      steps.push(f.name);
      const named = getNamedType(f.type);
      if (!isObjectType(named)) break;
      type = named;
      if (d === MAX_DEPTH - 1) steps.pop();
    }
    if (steps.length > 1) paths.push(steps.join('.'));
  }
  return paths;
}

describe('allowed paths (property)', () => {
  it('a selection is allowed iff each of its paths is in the tree (or a key/__typename at a tree node)', () => {
    let allowedCount = 0;
    let refusedCount = 0;
    fc.assert(
      fc.property(fc.gen(), (g) => {
        const sels = genSelection(g, CITIZEN, 1);
        // Half the trees cover most of the selection (so both outcomes are frequent), plus noise.
        const selected: Array<{ path: string[]; parent: string }> = [];
        leafPaths(sels, CITIZEN, ['citizen'], selected);
        const cover = g(fc.boolean);
        const treePaths = [
          ...genTreePaths(g),
          ...selected.filter(() => cover && g(fc.integer, { min: 0, max: 19 }) > 0).map((l) => l.path.filter((x) => x !== '__typename').join('.')),
        ].filter((p) => p.includes('.'));
        const tree = treeFromPaths(treePaths);
        const fragments: string[] = [];
        const query = `{ citizen(personalId: "001090000001") { ${print(sels, CITIZEN, fragments)} } } ${fragments.join(' ')}`;
        const document = parse(query);
        const errors = validate(schema, document);
        // Aliases may collide (same key, different fields); such documents never run: skip them.
        fc.pre(errors.length === 0);
        const analysis = analyzeOperation(schema, document, null)!;
        const root = analysis.rootFields[0]!;
        const node = tree.children.get('citizen') ?? { children: new Map() };
        const outside = pathsOutside({ schema, fragments: analysis.fragments, isKey }, root.node.selectionSet!, CITIZEN, 'citizen', node);

        // Oracle, independent of the checker's walk: the set of tree nodes, and each leaf path.
        const nodes = new Set<string>(['citizen']);
        for (const p of treePaths) {
          const steps = p.split('.');
          for (let i = 1; i <= steps.length; i++) nodes.add(steps.slice(0, i).join('.'));
        }
        const leaves: Array<{ path: string[]; parent: string }> = [];
        leafPaths(sels, CITIZEN, ['citizen'], leaves);
        const inTree = (steps: string[]) => {
          for (let i = 2; i <= steps.length; i++) {
            const here = steps.slice(0, i).join('.');
            if (nodes.has(here)) continue;
            // Only the last step may be outside: a key or __typename of an allowed node.
            const last = steps[i - 1]!;
            return i === steps.length && (last === '__typename' || isKey(leaves.find((l) => l.path.join('.') === steps.join('.'))!.parent, last));
          }
          return true;
        };
        const expectedAllowed = leaves.every((l) => inTree(l.path));
        expect(outside.size === 0, `${query}\ntree: ${pathsOf(tree).join(', ')}\noutside: ${[...outside].join(', ')}`).toBe(expectedAllowed);
        for (const p of outside) {
          expect(nodes.has(p), p).toBe(false);
          expect(leaves.some((l) => l.path.join('.') === p || l.path.join('.').startsWith(`${p}.`)), p).toBe(true);
        }
        if (expectedAllowed) allowedCount++;
        else refusedCount++;
      }),
      { numRuns: 1000, seed: 20250701 },
    );
    // Both outcomes must be exercised, or the property says little.
    expect(allowedCount).toBeGreaterThan(50);
    expect(refusedCount).toBeGreaterThan(50);
  });

  it('reports paths by name: an alias reusing an allowed name changes nothing', () => {
    const tree = treeFromPaths(['citizen.fullName', 'citizen.father.fullName']);
    const check = (q: string) => {
      const a = analyzeOperation(schema, parse(q), null)!;
      return [...pathsOutside({ schema, fragments: a.fragments, isKey }, a.rootFields[0]!.node.selectionSet!, CITIZEN, 'citizen', tree.children.get('citizen')!)];
    };
    expect(check('{ citizen(personalId: "1") { fullName: religion father { personalId fullName: gender } } }')).toEqual(['citizen.religion', 'citizen.father.gender']);
    expect(check('{ citizen(personalId: "1") { personalId __typename father { personalId __typename fullName } } }')).toEqual([]);
    expect(check('{ citizen(personalId: "1") { father { father { fullName } } } }')).toEqual(['citizen.father.father']);
  });
});
