/**
 * The returned-fields plugin walks each answer once: a response cache hit hands out the object
 * it stored, and reuses that walk. It must never reuse it for anything else (another document,
 * another operation, another schema, a replaced body), or the audit would list fields that
 * were not shared.
 */
import { buildSchema, parse, type DocumentNode, type GraphQLSchema } from 'graphql';
import { describe, expect, it } from 'vitest';
import { newTrace, type MotlanContext } from '../gateway/core/context.js';
import { collectReturnedFields, returnedFieldsPlugin } from '../gateway/http/returned-fields.js';

const schema = buildSchema(`type Query { citizen(id: ID!): Citizen } type Citizen { id: ID! fullName: String birthDate: String }`);

async function fieldsOf(plugin: ReturnType<typeof returnedFieldsPlugin>, s: GraphQLSchema, document: DocumentNode, data: Record<string, unknown> | null): Promise<string[]> {
  const trace = newTrace();
  const listener = await plugin.requestDidStart!({ contextValue: { trace } as unknown as MotlanContext } as never);
  await listener!.willSendResponse!({ contextValue: { trace }, document, operationName: null, schema: s, response: { body: { kind: 'single', singleResult: { data } } } } as never);
  return [...trace.fields].sort();
}

describe('returned fields, memoised by answer object', () => {
  const full = parse('{ citizen(id: "1") { id fullName birthDate } }');
  const narrow = parse('{ citizen(id: "1") { id } }');

  it('gives a repeat of the same answer object the same fields as the walk, and walks anything else', async () => {
    const plugin = returnedFieldsPlugin();
    const data = { citizen: { id: '1', fullName: 'A', birthDate: null } };
    const first = await fieldsOf(plugin, schema, full, data);
    expect(first).toEqual([...collectReturnedFields(schema, full, null, data)].sort());
    expect(first).toEqual(['Citizen.fullName', 'Citizen.id', 'Query.citizen']);
    // The cached object again (a hit): same fields.
    expect(await fieldsOf(plugin, schema, full, data)).toEqual(first);
    // The same object under another document or schema: walked again, not reused.
    expect(await fieldsOf(plugin, schema, narrow, data)).toEqual(['Citizen.id', 'Query.citizen']);
    const other = buildSchema(`type Query { citizen(id: ID!): Person } type Person { id: ID! fullName: String birthDate: String }`);
    expect(await fieldsOf(plugin, other, full, data)).toEqual(['Person.fullName', 'Person.id', 'Query.citizen']);
    // A body replaced (refused: no data) lists nothing.
    expect(await fieldsOf(plugin, schema, full, null)).toEqual([]);
  });
});
