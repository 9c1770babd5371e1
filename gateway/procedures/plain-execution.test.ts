import { describe, expect, it } from 'vitest';
import { buildSchema, execute, GraphQLError, parse, type GraphQLSchema } from 'graphql';
import { executePlain, planPlain, registerPlainRoot } from './plain-execution.js';

const SDL = `
  enum Source { REGISTRY CITIZEN }
  type Field { key: ID! value: String source: Source! n: Int count(x: Int): Int }
  type Summary { total: Int! hours: Float! }
  type Form { fields: [Field!]! summary: Summary! note: String }
  input Subject { personalId: String! }
  type Query { form(id: ID!, subject: Subject!): Form! maybe(id: ID!): Form other: String }
`;

const FORM = {
  fields: [
    { key: 'fullName', value: 'Nguyễn Văn A', source: 'REGISTRY', n: 3 },
    { key: 'phone', value: null, source: 'CITIZEN' },
  ],
  summary: { total: 2, hours: 1.5 },
  extra: 'not selected',
};

function schemaWith(form: (args: Record<string, unknown>) => unknown): { schema: GraphQLSchema; calls: Array<Record<string, unknown>> } {
  const schema = buildSchema(SDL);
  const calls: Array<Record<string, unknown>> = [];
  const resolve = (args: Record<string, unknown>) => {
    calls.push(args);
    return form(args);
  };
  const q = schema.getQueryType()!.getFields();
  q.form!.resolve = (_s, args) => resolve(args);
  q.maybe!.resolve = (_s, args) => resolve(args);
  registerPlainRoot(schema, 'form', resolve);
  registerPlainRoot(schema, 'maybe', resolve);
  return { schema, calls };
}

/** What graphql-js answers, as JSON (errors as message + path). */
const asJson = (r: unknown) => JSON.parse(JSON.stringify(r, (k, v) => (v instanceof GraphQLError ? { message: v.message, path: v.path } : v)));

async function both(query: string, variables: Record<string, unknown>, form: (args: Record<string, unknown>) => unknown) {
  const a = schemaWith(form);
  const document = parse(query);
  const plan = planPlain(a.schema, document, undefined);
  expect(plan).not.toBeNull();
  const plain = await executePlain(a.schema, plan!, variables, {});
  const b = schemaWith(form);
  const reference = await execute({ schema: b.schema, document, variableValues: variables });
  return { plain: asJson(plain), reference: asJson(reference), calls: a.calls };
}

describe('plain execution of a local root field', () => {
  it('answers exactly what graphql-js answers: aliases, __typename, enums, nulls, lists, arguments from variables', async () => {
    const q = `query P($id: ID!, $s: Subject!) { f: form(id: $id, subject: $s) { __typename fields { k: key value source n } summary { total hours } note } }`;
    const { plain, reference, calls } = await both(q, { id: '1', s: { personalId: '001' } }, () => FORM);
    expect(plain).toEqual(reference);
    expect(calls).toEqual([{ id: '1', subject: { personalId: '001' } }]);
  });

  it('locates a resolver error at the root field and nulls it as graphql-js does (non-null → data null)', async () => {
    const boom = () => {
      throw new GraphQLError('Unknown procedure', { extensions: { code: 'NOT_FOUND' } });
    };
    const nonNull = await both(`{ form(id: "1", subject: { personalId: "0" }) { note } }`, {}, boom);
    expect(nonNull.plain).toEqual(nonNull.reference);
    expect(nonNull.plain).toMatchObject({ data: null, errors: [{ message: 'Unknown procedure', path: ['form'] }] });
    const nullable = await both(`{ maybe(id: "1") { note } }`, {}, boom);
    expect(nullable.plain).toEqual(nullable.reference);
  });

  it('leaves to graphql-js what is not plain: fragments, nested arguments, directives, several root fields', () => {
    const { schema } = schemaWith(() => FORM);
    const plan = (q: string) => planPlain(schema, parse(q), undefined);
    expect(plan(`{ form(id: "1", subject: { personalId: "0" }) { ...F } } fragment F on Form { note }`)).toBeNull();
    expect(plan(`{ form(id: "1", subject: { personalId: "0" }) { fields { count(x: 1) } } }`)).toBeNull();
    expect(plan(`query ($b: Boolean!) { form(id: "1", subject: { personalId: "0" }) { note @include(if: $b) } }`)).toBeNull();
    expect(plan(`{ form(id: "1", subject: { personalId: "0" }) { note } other }`)).toBeNull();
    expect(plan(`{ other }`)).toBeNull(); // no plain resolver declared for it
    expect(plan(`{ form(id: "1", subject: { personalId: "0" }) { note } }`)).not.toBeNull();
  });

  it('hands invalid variables back to graphql-js before the resolver runs', async () => {
    const { schema, calls } = schemaWith(() => FORM);
    const plan = planPlain(schema, parse(`query ($id: ID!) { form(id: $id, subject: { personalId: "0" }) { note } }`), undefined)!;
    expect(await executePlain(schema, plan, {}, {})).toBe('graphql-js');
    expect(calls).toHaveLength(0);
  });

  it('refuses a value outside its schema with an error, never partial data', async () => {
    const { schema } = schemaWith(() => ({ ...FORM, summary: null }));
    const plan = planPlain(schema, parse(`{ form(id: "1", subject: { personalId: "0" }) { summary { total } } }`), undefined)!;
    const out = await executePlain(schema, plan, {}, {});
    expect(out).toMatchObject({ data: null, errors: [{ path: ['form'] }] });
  });
});
