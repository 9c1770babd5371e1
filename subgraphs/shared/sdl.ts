/** Reads a subgraph's SDL from `schema/<name>.graphql`, the contract the supergraph is composed from. */
import { readFileSync } from 'node:fs';
import { parse, Source, type DocumentNode } from 'graphql';

export const SCHEMA_DIR = new URL('../../schema/', import.meta.url);

export function loadSdl(name: string): DocumentNode {
  const file = new URL(`${name}.graphql`, SCHEMA_DIR);
  return parse(new Source(readFileSync(file, 'utf8'), `schema/${name}.graphql`));
}
