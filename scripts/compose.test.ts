/**
 * The checked-in supergraph is what the gateway serves: it must equal a fresh
 * composition of schema/*.graphql, and a broken SDL must give an error a person
 * can act on (code, subgraph, file location).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  composeSources,
  composeSupergraph,
  formatCompositionErrors,
  readSubgraphSources,
  SUPERGRAPH_FILE,
  supergraphFileContent,
} from './compose.js';

describe('schema/supergraph.graphql', () => {
  it('equals a fresh composition of the subgraph SDL (run `npm run compose` when this fails)', () => {
    const result = composeSupergraph();
    if (result.errors) throw new Error(formatCompositionErrors(result.errors));
    expect(readFileSync(SUPERGRAPH_FILE, 'utf8')).toBe(supergraphFileContent(result.supergraphSdl));
  });

  it('routes each registry subgraph to its default port', () => {
    const sdl = readFileSync(SUPERGRAPH_FILE, 'utf8');
    expect(sdl).toContain('@join__graph(name: "population", url: "http://localhost:4001/graphql")');
    expect(sdl).toContain('@join__graph(name: "land", url: "http://localhost:4004/graphql")');
  });
});

describe('composition errors', () => {
  it('name the subgraph and the location of an unknown type', () => {
    const sources = readSubgraphSources().map((s) =>
      s.name === 'land' ? { ...s, sdl: s.sdl.replace('area: Float!', 'area: Float!\n  surveyor: Surveyor') } : s,
    );
    const result = composeSources(sources);
    expect(result.errors).toBeDefined();
    const [error] = result.errors!;
    expect(error!.subgraphs).toEqual(['land']);
    expect(error!.message).toContain('Surveyor');
    expect(error!.locations[0]).toMatch(/^schema\/land\.graphql:\d+:\d+$/);
    const text = formatCompositionErrors(result.errors!);
    expect(text).toContain('in subgraph land');
    expect(text).toContain('schema/land.graphql:');
  });

  it('name both subgraphs when they disagree on a shared field', () => {
    const sources = readSubgraphSources().map((s) =>
      s.name === 'land' ? { ...s, sdl: s.sdl.replace(/(type Address @shareable \{\s*provinceCode: )String!/, '$1Int!') } : s,
    );
    const result = composeSources(sources);
    expect(result.errors).toBeDefined();
    const mismatch = result.errors!.find((e) => e.message.includes('provinceCode'));
    expect(mismatch).toBeDefined();
    expect(mismatch!.subgraphs).toEqual(expect.arrayContaining(['land', 'population']));
  });

  it('report an SDL syntax error with its file and line instead of throwing', () => {
    const sources = readSubgraphSources().map((s) => (s.name === 'insurance' ? { ...s, sdl: `${s.sdl}\ntype Broken {` } : s));
    const result = composeSources(sources);
    expect(result.errors).toHaveLength(1);
    expect(result.errors![0]).toMatchObject({ code: 'GRAPHQL_PARSE_FAILED', subgraphs: ['insurance'] });
    expect(result.errors![0]!.locations[0]).toMatch(/^schema\/insurance\.graphql:\d+:\d+$/);
  });
});
