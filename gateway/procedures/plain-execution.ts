/**
 * Plain-data execution of a local subgraph's root field (the `procedures` subgraph's
 * `prefill`): its resolver returns a finished, JSON-shaped value (the form), so the
 * selection is projected onto it directly instead of running graphql-js's per-field
 * machinery (a resolver call, completion and path bookkeeping for every leaf of the
 * form, a third of what prefill cost on top of its own query). The outcome is the one
 * graphql-js gives: variables and arguments are coerced by graphql-js's own functions,
 * leaves are serialized by their types, a resolver error is located at the root field.
 *
 * Only documents of plain shape take this path (decided once per document): a query
 * with one root field that has a plain resolver, and below it fields without arguments
 * or directives on object, list, non-null and leaf types (aliases and __typename allowed).
 * Anything else — and a value that does not fit the schema — goes to graphql-js.
 */
import {
  getArgumentValues,
  getNamedType,
  getNullableType,
  getVariableValues,
  GraphQLError,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
  Kind,
  locatedError,
  type DocumentNode,
  type FieldNode,
  type GraphQLField,
  type GraphQLObjectType,
  type GraphQLOutputType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';

/** A root field's resolver without GraphQL's `source`/`info`: arguments and context in, plain value out. */
export type PlainResolver = (args: Record<string, unknown>, context: unknown) => unknown;

const plainRoots = new WeakMap<GraphQLSchema, Map<string, PlainResolver>>();

/** Declares that `Query.<field>` of `schema` resolves to plain data (see the module comment). */
export function registerPlainRoot(schema: GraphQLSchema, field: string, resolve: PlainResolver): void {
  const roots = plainRoots.get(schema) ?? new Map<string, PlainResolver>();
  roots.set(field, resolve);
  plainRoots.set(schema, roots);
}

/** A document prepared for plain execution. */
export interface PlainPlan {
  operation: OperationDefinitionNode;
  field: FieldNode;
  fieldDef: GraphQLField<unknown, unknown>;
  resolve: PlainResolver;
}

/** Thrown by the projection when the value does not fit the schema (graphql-js reports it then). */
class DoesNotFit extends Error {}

function plainSelections(set: SelectionSetNode | undefined, type: GraphQLOutputType): boolean {
  const named = getNamedType(type);
  if (isLeafType(named)) return set === undefined;
  if (!isObjectType(named) || set === undefined) return false;
  const fields = named.getFields();
  for (const s of set.selections) {
    if (s.kind !== Kind.FIELD || (s.arguments?.length ?? 0) > 0 || (s.directives?.length ?? 0) > 0) return false;
    if (s.name.value === '__typename') continue;
    const def = fields[s.name.value];
    if (!def || !plainSelections(s.selectionSet, def.type)) return false;
  }
  return true;
}

/** The plan for `document`, or null when it must run through graphql-js. */
export function planPlain(schema: GraphQLSchema, document: DocumentNode, operationName: string | undefined): PlainPlan | null {
  const roots = plainRoots.get(schema);
  const query = schema.getQueryType();
  if (!roots || !query) return null;
  const ops = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  if (document.definitions.length !== ops.length) return null; // fragments: graphql-js
  const operation = operationName ? ops.find((o) => o.name?.value === operationName) : ops.length === 1 ? ops[0] : undefined;
  if (!operation || operation.operation !== 'query' || (operation.directives?.length ?? 0) > 0) return null;
  const [field, ...rest] = operation.selectionSet.selections;
  if (!field || rest.length > 0 || field.kind !== Kind.FIELD || (field.directives?.length ?? 0) > 0) return null;
  const resolve = roots.get(field.name.value);
  const fieldDef = query.getFields()[field.name.value];
  if (!resolve || !fieldDef || !plainSelections(field.selectionSet, fieldDef.type)) return null;
  return { operation, field, fieldDef, resolve };
}

function project(value: unknown, type: GraphQLOutputType, set: SelectionSetNode | undefined): unknown {
  if (isNonNullType(type)) {
    if (value === null || value === undefined) throw new DoesNotFit();
    return project(value, type.ofType, set);
  }
  if (value === null || value === undefined) return null;
  if (isListType(type)) {
    if (!Array.isArray(value)) throw new DoesNotFit();
    const out = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) out[i] = project(value[i], type.ofType, set);
    return out;
  }
  if (isLeafType(type)) {
    const serialized = type.serialize(value);
    if (serialized === null || serialized === undefined) throw new DoesNotFit();
    return serialized;
  }
  const object = type as GraphQLObjectType;
  const fields = object.getFields();
  const source = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const s of set!.selections as readonly FieldNode[]) {
    const key = s.alias?.value ?? s.name.value;
    out[key] = s.name.value === '__typename' ? object.name : project(source[s.name.value], fields[s.name.value]!.type, s.selectionSet);
  }
  return out;
}

export type PlainOutcome = { data: Record<string, unknown> | null; errors?: GraphQLError[] } | 'graphql-js';

/**
 * Runs a plan. 'graphql-js' when graphql-js must decide (invalid variables or arguments,
 * before the resolver ran, so running it there resolves once).
 */
export async function executePlain(schema: GraphQLSchema, plan: PlainPlan, variables: Record<string, unknown> | undefined, context: unknown): Promise<PlainOutcome> {
  const coerced = getVariableValues(schema, plan.operation.variableDefinitions ?? [], variables ?? {});
  if (coerced.errors) return 'graphql-js';
  let args: Record<string, unknown>;
  try {
    args = getArgumentValues(plan.fieldDef, plan.field, coerced.coerced);
  } catch {
    return 'graphql-js';
  }
  const key = plan.field.alias?.value ?? plan.field.name.value;
  const path = [key];
  const nullable = !isNonNullType(plan.fieldDef.type);
  let value: unknown;
  try {
    value = await plan.resolve(args, context);
  } catch (err) {
    return { data: nullable ? { [key]: null } : null, errors: [locatedError(err, [plan.field], path)] };
  }
  try {
    return { data: { [key]: project(value, plan.fieldDef.type, plan.field.selectionSet) } };
  } catch (err) {
    // A value outside its schema is a server bug: say where, as graphql-js would, without data.
    const message = err instanceof DoesNotFit ? `The ${plan.fieldDef.name} resolver returned a value that does not fit ${String(getNullableType(plan.fieldDef.type))}.` : (err as Error).message;
    return { data: nullable ? { [key]: null } : null, errors: [locatedError(new GraphQLError(message), [plan.field], path)] };
  }
}
