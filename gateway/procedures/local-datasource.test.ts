/**
 * The in-gateway subgraph data source answers exactly as Apollo's LocalGraphQLDataSource
 * (results, syntax and validation errors), also when the same operation comes back.
 */
import { LocalGraphQLDataSource } from '@apollo/gateway';
import { buildSchema } from 'graphql';
import { describe, expect, it } from 'vitest';
import { CachedLocalDataSource } from './local-datasource.js';

const schema = buildSchema(`type Query { hello(name: String!): String, who: String }`);
const withResolvers = (() => {
  const fields = schema.getQueryType()!.getFields();
  fields['hello']!.resolve = (_: unknown, { name }: { name: string }) => `Xin chào ${name}`;
  fields['who']!.resolve = (_: unknown, __: unknown, ctx: { who: string }) => ctx.who;
  return schema;
})();

const call = (ds: LocalGraphQLDataSource, query: string, variables?: Record<string, unknown>, who = 'An') =>
  ds.process({ request: { query, variables }, context: { who } } as never);

describe('CachedLocalDataSource', () => {
  const cached = new CachedLocalDataSource(withResolvers, { maxDocuments: 2 });
  const plain = new LocalGraphQLDataSource(withResolvers);

  it('answers like LocalGraphQLDataSource, with each call’s own variables and context', async () => {
    const q = 'query H($n: String!) { hello(name: $n) who }';
    for (const [n, who] of [['An', 'Bình'], ['Chi', 'Dũng'], ['An', 'Bình']] as const) {
      const got = await call(cached, q, { n }, who);
      expect(got).toEqual(await call(plain, q, { n }, who));
      expect(got.data).toEqual({ hello: `Xin chào ${n}`, who });
    }
  });

  it('returns syntax and validation errors every time (an invalid operation is never kept)', async () => {
    for (let i = 0; i < 2; i++) {
      for (const q of ['{ hello(name: ', '{ nope }', 'query H($n: String!) { hello(name: $n) }']) {
        const got = await call(cached, q);
        expect(got.errors?.map((e) => e.message)).toEqual((await call(plain, q)).errors?.map((e) => e.message));
        expect(got.errors?.length).toBeGreaterThan(0);
      }
    }
  });

  it('keeps answering correctly when more operations come than it keeps', async () => {
    for (let i = 0; i < 5; i++) {
      const got = await call(cached, `{ hello(name: "n${i}") }`);
      expect(got.data).toEqual({ hello: `Xin chào n${i}` });
    }
  });
});
