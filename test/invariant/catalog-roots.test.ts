/**
 * The catalog roots (readable without a purpose, never checked as data) come from the
 * supergraph by a rule (test/invariant/catalog-roots.ts): these tests pin what the rule gives
 * for the committed schema and show that a root added later is classified without a list to edit.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { indexSupergraph } from '../../gateway/policy/supergraph-index.js';
import { CATALOG_ROOTS, NO_DATA_ROOTS, catalogRootsOf } from './catalog-roots.js';

const SDL = readFileSync(path.join(import.meta.dirname, '..', '..', 'schema', 'supergraph.graphql'), 'utf8');

/** The committed supergraph with `fields` added to its Query type. */
const withQueryFields = (fields: string) => SDL.replace(/(type Query\b[^{]*\{)/, `$1\n${fields}\n`);

describe('catalog roots, derived from the supergraph', () => {
  it('are the procedure and group listings of the committed schema; prefill, prefillGroup and registry roots are data', () => {
    expect([...CATALOG_ROOTS].sort()).toEqual(['procedure', 'procedureGroup', 'procedureGroups', 'procedures']);
    for (const root of ['prefill', 'prefillGroup', 'citizen', 'citizens', 'enterprise', 'landParcel']) expect(CATALOG_ROOTS.has(root), root).toBe(false);
    expect([...NO_DATA_ROOTS]).toEqual(expect.arrayContaining(['__typename', '__schema', '__type', ...CATALOG_ROOTS]));
  });

  it('a root added to the procedures subgraph is classified at once: a listing is catalog, a root that takes the subject is not', () => {
    const roots = catalogRootsOf(withQueryFields([
      '  procedureByCode(nationalCode: String!): Procedure @join__field(graph: PROCEDURES)',
      '  prefillPreview(procedureId: ID!, subject: SubjectInput!): PrefilledForm @join__field(graph: PROCEDURES)',
      '  citizenSummary(personalId: ID!): Citizen @join__field(graph: POPULATION) @join__field(graph: PROCEDURES)',
    ].join('\n')));
    expect(roots.has('procedureByCode')).toBe(true);
    expect(roots.has('prefillPreview')).toBe(false);
    // Resolved by a registry too: data.
    expect(roots.has('citizenSummary')).toBe(false);
  });

  it('every Query field the gateway indexes as resolved by the procedures subgraph alone is a catalog root or takes the subject', () => {
    const index = indexSupergraph(SDL);
    const own = [...index.fieldOwners].filter(([c, owners]) => c.startsWith('Query.') && owners.length > 0 && owners.every((g) => g === 'procedures')).map(([c]) => c.slice('Query.'.length));
    expect(own.filter((f) => !CATALOG_ROOTS.has(f)).sort()).toEqual(['prefill', 'prefillGroup']);
  });
});
