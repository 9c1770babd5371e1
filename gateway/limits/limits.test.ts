import { readFileSync } from 'node:fs';
import path from 'node:path';
import { buildASTSchema, getIntrospectionQuery, parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../lib/repo-root.js';
import { DocumentLimiter } from './concern.js';
import { checkDocument, parseWithinLimits } from './document-limits.js';
import { DEFAULT_LIMITS, loadLimits } from './options.js';

const schema = buildASTSchema(parse(readFileSync(path.join(REPO_ROOT, 'schema/supergraph.graphql'), 'utf8')), { assumeValidSDL: true });
const limiter = new DocumentLimiter(DEFAULT_LIMITS, () => schema);
const ID = '001090000001';

const nest = (depth: number) => `{ citizen(personalId: "${ID}") { ${'father { '.repeat(depth)}fullName${' }'.repeat(depth)} } }`;

describe('document limits', () => {
  it('lets a realistic procedure query through', () => {
    const q = `query Lodging($id: ID!) { citizen(personalId: $id) { personalId fullName dateOfBirth gender
      permanentResidence { fullAddress communeCode } household { members { relationToHead citizen { fullName } } }
      socialInsurance { periods { from to employerName } } landParcels { parcelId certificate { serial } } } }`;
    expect(limiter.check(q)).toBeNull();
  });

  it('refuses deep nesting, naming the limit and its value', () => {
    expect(limiter.check(nest(DEFAULT_LIMITS.maxDepth - 2))).toBeNull();
    const v = limiter.check(nest(40));
    expect(v).toMatchObject({ limit: 'maxDepth', max: DEFAULT_LIMITS.maxDepth, actual: 42 });
    expect(v?.message).toContain(`maxDepth is ${DEFAULT_LIMITS.maxDepth}`);
  });

  it("lets the sandbox's introspection query through but not a deeper introspection bomb", () => {
    expect(limiter.check(getIntrospectionQuery({ inputValueDeprecation: true, schemaDescription: true }))).toBeNull();
    const bomb = `{ __schema { types { ${'fields { type { '.repeat(9)}name${' } }'.repeat(9)} } } }`;
    expect(limiter.check(bomb)).toMatchObject({ limit: 'introspectionMaxDepth', max: DEFAULT_LIMITS.introspectionMaxDepth });
    // Mixing introspection with data keeps the ordinary limits.
    const mixed = `{ __schema { queryType { name } } citizen(personalId: "${ID}") { ${'father { '.repeat(14)}fullName${' }'.repeat(14)} } }`;
    expect(limiter.check(mixed)).toMatchObject({ limit: 'maxDepth' });
  });

  it('refuses alias bombs', () => {
    const aliases = Array.from({ length: 50 }, (_, i) => `a${i}: fullName`).join(' ');
    expect(limiter.check(`{ citizen(personalId: "${ID}") { ${aliases} } }`)).toMatchObject({ limit: 'maxAliases', actual: 50 });
  });

  it('measures fragment bombs arithmetically instead of expanding them', () => {
    // Each level doubles: 2^30 fields once expanded.
    const frags = Array.from({ length: 30 }, (_, i) => `fragment F${i} on Citizen { ...F${i + 1} ...F${i + 1} }`).join('\n');
    const doc = `{ citizen(personalId: "${ID}") { ...F0 } }\n${frags}\nfragment F30 on Citizen { fullName }`;
    const v = checkDocument(parse(doc), { ...DEFAULT_LIMITS, maxTokens: 100_000 }, schema);
    expect(v?.limit).toBe('maxCost');
    expect(v!.actual).toBeGreaterThan(2 ** 30);
  });

  it('does not loop on fragment cycles (validation reports them afterwards)', () => {
    const doc = `{ citizen(personalId: "${ID}") { ...A } } fragment A on Citizen { father { ...B } } fragment B on Citizen { mother { ...A } }`;
    expect(() => limiter.check(doc)).not.toThrow();
  });

  it('counts list fields with the schema for the cost estimate', () => {
    const q = `{ citizen(personalId: "${ID}") { children { children { children { children { fullName } } } } } }`;
    // 10^4 grandchildren of grandchildren: far above the default cost.
    expect(limiter.check(q)).toMatchObject({ limit: 'maxCost' });
    // The same depth through single-valued fields is cheap.
    expect(limiter.check(nest(4))).toBeNull();
  });

  it('refuses too many tokens, characters, directives and root fields', () => {
    const many = `{ ${Array.from({ length: 700 }, () => '__typename').join(' ')} }`;
    expect(limiter.check(many.padEnd(DEFAULT_LIMITS.maxDocumentChars + 10, ' '))).toMatchObject({ limit: 'maxDocumentChars' });
    const tokens = `{ ${'a '.repeat(2100)} }`;
    expect(parseWithinLimits(tokens, DEFAULT_LIMITS)).toMatchObject({ violation: { limit: 'maxTokens', max: DEFAULT_LIMITS.maxTokens } });
    const directives = `{ citizen(personalId: "${ID}") { fullName ${'@include(if: true) '.repeat(30)} } }`;
    expect(limiter.check(directives)).toMatchObject({ limit: 'maxDirectives', actual: 30 });
    const roots = `{ ${Array.from({ length: 11 }, (_, i) => `c${i}: __typename`).join(' ')} }`;
    expect(limiter.check(roots)).toMatchObject({ limit: 'maxRootFields', actual: 11 });
  });

  it('leaves syntax errors to the GraphQL server', () => {
    expect(limiter.check('{ citizen(personalId: ')).toBeNull();
  });

  it('reads overrides from the environment and refuses nonsense', () => {
    expect(loadLimits({}, { LIMIT_MAX_DEPTH: '5' }).maxDepth).toBe(5);
    expect(loadLimits({ maxDepth: 7 }, { LIMIT_MAX_DEPTH: '5' }).maxDepth).toBe(7);
    expect(() => loadLimits({}, { LIMIT_MAX_ALIASES: 'lots' })).toThrow(/LIMIT_MAX_ALIASES="lots" is not an integer >= 1/);
  });
});
