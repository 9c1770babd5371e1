/**
 * The entity collector on subgraph operations as the query planner writes them:
 * aliases, fragments, `_entities`, nested lists and null items; the key rewrite keeps
 * the operation valid and never moves a client's response key.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { parse, validate } from 'graphql';
import { describe, expect, it } from 'vitest';
import { newTrace, type MotlanContext, type RequestTrace } from '../core/context.js';
import { collectAnswer, compileOperation, EntityCollector } from './collect.js';
import { indexEntities } from './entity-index.js';

const SDL = readFileSync(new URL('../../schema/supergraph.graphql', import.meta.url), 'utf8');
const index = indexEntities(SDL);

function collect(query: string, data: Record<string, unknown>, variables?: Record<string, unknown>): RequestTrace & { query: string } {
  const plan = compileOperation(index, query);
  const trace = newTrace();
  collectAnswer(trace, plan, data, variables);
  return Object.assign(trace, { query: plan.query });
}
const ids = (t: RequestTrace) => [...t.returnedEntities.keys()].sort();
const edges = (t: RequestTrace) =>
  [...t.entityGraph.edges].flatMap(([from, es]) => es.map((e) => `${from} -[${e.path.join('.')}]-> ${e.to}`)).sort();

describe('entity index', () => {
  it('derives the entity types and keys from the supergraph', () => {
    expect(Object.fromEntries(index.keys)).toEqual({ Citizen: 'personalId', Enterprise: 'enterpriseCode', LandParcel: 'parcelId' });
  });
  it('refuses a compound key rather than collect it wrongly', () => {
    expect(() => indexEntities('type T @join__type(graph: A, key: "a b") { a: ID! b: ID! } type Query { t: T }')).toThrow(/single-field keys/);
  });
});

describe('key rewrite', () => {
  it('adds the key to every entity selection that lacks it, and the result stays valid', () => {
    const q = 'query Q__population__0($id: ID!) { citizen(personalId: $id) { fullName father { fullName } enterprises { enterprise { name } } landParcels { area } } }';
    const plan = compileOperation(index, q);
    expect(plan.problem).toBeNull();
    expect(validate(index.schema, parse(plan.query))).toEqual([]);
    expect(plan.query).toMatch(/citizen\(personalId: \$id\) \{[^]*personalId\s*\}\s*\}\s*$/);
    for (const [field, key] of [['father', 'personalId'], ['enterprise', 'enterpriseCode'], ['landParcels', 'parcelId']] as const) {
      expect(plan.query).toMatch(new RegExp(`${field} \\{[^{}]*${key}`));
    }
    // Idempotent: a rewritten operation needs nothing more.
    expect(compileOperation(index, plan.query).query).toBe(plan.query);
  });

  it('uses another response key when the client took the key name for another field', () => {
    const q = '{ citizen(personalId: "1") { personalId: fullName } }';
    const plan = compileOperation(index, q);
    expect(validate(index.schema, parse(plan.query))).toEqual([]);
    expect(plan.query).toContain('motlanKey_personalId: personalId');
    const t = collect(q, { citizen: { personalId: 'Nguyễn Văn A', motlanKey_personalId: '001' } });
    expect(ids(t)).toEqual(['Citizen:001']);
  });

  it('leaves the top of _entities items alone: they are bound to their representation', () => {
    const q = 'query ($representations: [_Any!]!) { _entities(representations: $representations) { ... on Citizen { socialInsurance { status } } } }';
    expect(compileOperation(index, q).query).toBe(q);
  });

  it('an unparsable or unknown operation is a problem, never a silent pass', () => {
    expect(collect('{ citizen(', { citizen: { personalId: '1' } }).entityGraph.problems).toHaveLength(1);
    expect(collect('{ citizen(personalId: "1") { nope { x } } }', { citizen: { personalId: '1' } }).entityGraph.problems).toHaveLength(1);
    expect(collect('query A { citizen(personalId: "1") { fullName } } query B { __typename }', { citizen: { personalId: '1' } }).entityGraph.problems).toHaveLength(1);
  });
});

describe('collection', () => {
  it('maps aliases and fragments back to field names', () => {
    const q = `query Q__population__0($id: ID!) { who: citizen(personalId: $id) { ...F dad: father { pid: personalId } ... on Citizen { mum: mother { personalId } } } }
      fragment F on Citizen { id: personalId name: fullName }`;
    const t = collect(q, { who: { id: 'S', name: 'x', dad: { pid: 'F' }, mum: { personalId: 'M' } } });
    expect(ids(t)).toEqual(['Citizen:F', 'Citizen:M', 'Citizen:S']);
    expect(edges(t)).toEqual(['Citizen:S -[father]-> Citizen:F', 'Citizen:S -[mother]-> Citizen:M']);
    expect([...t.entityGraph.roots]).toEqual([['Citizen:S', new Set(['citizen'])]]);
  });

  it('labels edges with every field between two entities, through objects that are not entities', () => {
    const q = `{ citizen(personalId: "S") { personalId enterprises { role enterprise { enterpriseCode } } household { members { citizen { personalId } } } } }`;
    const t = collect(q, {
      citizen: {
        personalId: 'S',
        enterprises: [{ role: 'MEMBER', enterprise: { enterpriseCode: 'E1' } }, null, { role: 'MEMBER', enterprise: null }],
        household: { members: [{ citizen: { personalId: 'H1' } }, { citizen: { personalId: 'S' } }] },
      },
    });
    expect(edges(t)).toEqual([
      'Citizen:S -[enterprises.enterprise]-> Enterprise:E1',
      'Citizen:S -[household.members.citizen]-> Citizen:H1',
      'Citizen:S -[household.members.citizen]-> Citizen:S',
    ]);
  });

  it('binds _entities items to their representations, skipping null items', () => {
    const q = `query ($representations: [_Any!]!) { _entities(representations: $representations) { ... on Citizen { enterprises { enterprise { enterpriseCode landParcels { parcelId } } } } } }`;
    const reps = [{ __typename: 'Citizen', personalId: 'A' }, { __typename: 'Citizen', personalId: 'B' }, { __typename: 'Citizen', personalId: 'C' }];
    const t = collect(
      q,
      { _entities: [{ enterprises: [{ enterprise: { enterpriseCode: 'E', landParcels: [{ parcelId: 'P1' }, { parcelId: 'P2' }] } }] }, null, { enterprises: [] }] },
      { representations: reps },
    );
    expect(ids(t)).toEqual(['Citizen:A', 'Citizen:C', 'Enterprise:E', 'LandParcel:P1', 'LandParcel:P2']);
    expect(edges(t)).toEqual([
      'Citizen:A -[enterprises.enterprise]-> Enterprise:E',
      'Enterprise:E -[landParcels]-> LandParcel:P1',
      'Enterprise:E -[landParcels]-> LandParcel:P2',
    ]);
    expect(t.entityGraph.roots.size).toBe(0);
  });

  it('_entities answers that do not line up with their representations are a problem', () => {
    const q = `query ($representations: [_Any!]!) { _entities(representations: $representations) { ... on Citizen { socialInsurance { status } } } }`;
    expect(collect(q, { _entities: [{}, {}] }, { representations: [{ __typename: 'Citizen', personalId: 'A' }] }).entityGraph.problems).toHaveLength(1);
    expect(collect(q, { _entities: [{}] }, { representations: [{ __typename: 'Citizen' }] }).entityGraph.problems).toHaveLength(1);
  });

  it('reads nested lists and null items of a multi-subject lookup', () => {
    const q = `query ($ids: [ID!]!) { citizens(personalIds: $ids) { personalId children { personalId } } }`;
    const t = collect(q, { citizens: [{ personalId: 'A', children: [{ personalId: 'K' }, null] }, null, { personalId: 'B', children: [] }] });
    expect(ids(t)).toEqual(['Citizen:A', 'Citizen:B', 'Citizen:K']);
    expect([...t.entityGraph.roots.keys()].sort()).toEqual(['Citizen:A', 'Citizen:B']);
  });

  it('an entity without its key, or registry data under no entity, is noted for the check', () => {
    expect(collect('{ citizen(personalId: "1") { fullName } }', { citizen: { fullName: 'x' } }).entityGraph.problems).toEqual(['Citizen at citizen has no personalId']);
    const h = collect('{ household(householdId: "H") { members { citizen { personalId } } } }', { household: { members: [{ citizen: { personalId: 'A' } }] } });
    expect([...h.entityGraph.unanchored]).toEqual(['household']);
    expect(ids(h)).toEqual(['Citizen:A']);
  });

  it('whatever aliases the client picks, the same entities and edges are collected', () => {
    const alias = fc.option(fc.constantFrom('a', 'b', 'x1', 'personalId', 'father', 'n'), { nil: undefined });
    fc.assert(
      fc.property(fc.tuple(alias, alias, alias, alias, alias), ([aRoot, aName, aFather, aFatherName, aMother]) => {
        // Distinct response keys per selection set (GraphQL requires it for different fields).
        fc.pre(new Set([aName ?? 'fullName', aFather ?? 'father', aMother ?? 'mother']).size === 3);
        const k = (a: string | undefined, f: string) => (a ? `${a}: ${f}` : f);
        const rk = (a: string | undefined, f: string) => a ?? f;
        const q = `{ ${k(aRoot, 'citizen(personalId: "S")')} { ${k(aName, 'fullName')} ${k(aFather, 'father')} { ${k(aFatherName, 'fullName')} } ${k(aMother, 'mother')} { fullName } } }`;
        const plan = compileOperation(index, q);
        expect(validate(index.schema, parse(plan.query))).toEqual([]);
        // The answer the subgraph gives to the rewritten query: keys under `personalId`, or under
        // the rewrite's alias where the client took that name for another field.
        const root: Record<string, unknown> = { [rk(aName, 'fullName')]: 'n' };
        const fatherObj: Record<string, unknown> = { [rk(aFatherName, 'fullName')]: 'f' };
        const motherObj: Record<string, unknown> = { fullName: 'm' };
        const keysIn = (obj: Record<string, unknown>, id: string, taken: boolean) => {
          obj[taken ? 'motlanKey_personalId' : 'personalId'] = id;
        };
        keysIn(root, 'S', aName === 'personalId' || aFather === 'personalId' || aMother === 'personalId');
        keysIn(fatherObj, 'F', aFatherName === 'personalId');
        keysIn(motherObj, 'M', false);
        root[rk(aFather, 'father')] = fatherObj;
        root[rk(aMother, 'mother')] = motherObj;
        const t = newTrace();
        collectAnswer(t, plan, { [rk(aRoot, 'citizen')]: root }, undefined);
        expect(t.entityGraph.problems).toEqual([]);
        expect(ids(t)).toEqual(['Citizen:F', 'Citizen:M', 'Citizen:S']);
        expect(edges(t)).toEqual(['Citizen:S -[father]-> Citizen:F', 'Citizen:S -[mother]-> Citizen:M']);
      }),
      { numRuns: 300, seed: 11 },
    );
  });
});

describe('EntityCollector', () => {
  it('memoises per query, rebuilds when the supergraph changes, and skips relation checks', () => {
    let sdl = SDL;
    const c = new EntityCollector({ supergraphSdl: () => sdl });
    const q = '{ citizen(personalId: "1") { fullName } }';
    const first = c.plan(q)!;
    expect(c.plan(q)).toBe(first);
    sdl = SDL + '\n';
    expect(c.plan(q)).not.toBe(first);

    const trace = newTrace();
    const outer: MotlanContext = { requestId: 'r', receivedAt: 0, client: null, purpose: null, subject: {}, headers: {}, trace };
    const prepared = c.prepare({ query: q });
    c.collect(outer, prepared, { citizen: { fullName: 'x', personalId: '1' } });
    expect(ids(trace)).toEqual(['Citizen:1']);
    const relationCheck = { ...outer, internalOf: outer, identifiersOnly: true as const } as MotlanContext;
    c.collect(relationCheck, prepared, { citizen: { fullName: 'x', personalId: '2' } });
    expect(ids(trace)).toEqual(['Citizen:1']);
    // An inner execution that is not a relation check (prefill's compiled operation) is collected.
    c.collect({ ...outer, internalOf: outer } as MotlanContext, prepared, { citizen: { fullName: 'x', personalId: '3' } });
    expect(ids(trace)).toEqual(['Citizen:1', 'Citizen:3']);
  });
});
