/**
 * What an operation touches, computed once per parsed document and operation name:
 * the schema coordinates (`Type.field`) it selects, its root fields with their argument
 * nodes, and whether it uses introspection. Purpose policy compares the coordinates
 * with the procedure's; the unknown-lookup limiter reads the root fields.
 *
 * Apollo Server caches parsed documents (documentStore), so the same DocumentNode
 * object comes back for a repeated query: the WeakMap makes the analysis free then.
 */
import {
  Kind,
  TypeInfo,
  getArgumentValues,
  getNamedType,
  getVariableValues,
  isObjectType,
  separateOperations,
  visit,
  visitWithTypeInfo,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';

export interface RootFieldUse {
  /** Field name, e.g. `citizen`. */
  name: string;
  /** Key in the response (the alias when there is one). */
  responseKey: string;
  /** `Query.citizen`. */
  coordinate: string;
  node: FieldNode;
  field: GraphQLField<unknown, unknown>;
}

export interface OperationAnalysis {
  operation: OperationDefinitionNode;
  /** Every `Type.field` selected, `__typename` excluded. */
  coordinates: ReadonlySet<string>;
  rootFields: RootFieldUse[];
  /** True when `__schema` or `__type` is selected. */
  introspection: boolean;
  /** Per-procedure memo of the purpose check (owned by the policy plugin). */
  memo: Map<string, unknown>;
}

const cache = new WeakMap<GraphQLSchema, WeakMap<DocumentNode, Map<string, OperationAnalysis | null>>>();

/**
 * Analyses the operation `operationName` of `document` (the only operation when the name
 * is null). Returns null when the operation does not exist; validation reports that.
 */
export function analyzeOperation(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
): OperationAnalysis | null {
  let bySchema = cache.get(schema);
  if (!bySchema) cache.set(schema, (bySchema = new WeakMap()));
  let byDoc = bySchema.get(document);
  if (!byDoc) bySchema.set(document, (byDoc = new Map()));
  const key = operationName ?? '';
  if (byDoc.has(key)) return byDoc.get(key)!;
  const result = compute(schema, document, operationName ?? null);
  byDoc.set(key, result);
  return result;
}

function compute(schema: GraphQLSchema, document: DocumentNode, operationName: string | null): OperationAnalysis | null {
  const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  const operation = operationName === null
    ? (operations.length === 1 ? operations[0] : undefined)
    : operations.find((o) => o.name?.value === operationName);
  if (!operation) return null;

  // Only the selected operation and the fragments it reaches count: a document may hold
  // several operations, of which one runs.
  const separated = separateOperations(document);
  const own = separated[operation.name?.value ?? ''] ?? document;

  const coordinates = new Set<string>();
  let introspection = false;
  const typeInfo = new TypeInfo(schema);
  visit(own, visitWithTypeInfo(typeInfo, {
    Field(node) {
      const name = node.name.value;
      if (name === '__typename') return;
      if (name === '__schema' || name === '__type') {
        introspection = true;
        return;
      }
      const parent = typeInfo.getParentType();
      // Unknown fields have no definition: validation already refused them. Fields of the
      // introspection types (__Schema.types, ...) are schema metadata, not data.
      if (parent && typeInfo.getFieldDef() && !getNamedType(parent).name.startsWith('__')) {
        coordinates.add(`${getNamedType(parent).name}.${name}`);
      }
    },
  }));

  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of own.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  const rootType = schema.getRootType(operation.operation);
  const rootFields: RootFieldUse[] = [];
  if (rootType && isObjectType(rootType)) {
    const fields = rootType.getFields();
    const seen = new Set<string>();
    const walk = (set: SelectionSetNode) => {
      for (const sel of set.selections) {
        if (sel.kind === Kind.FIELD) {
          const field = fields[sel.name.value];
          if (field) {
            rootFields.push({
              name: sel.name.value,
              responseKey: sel.alias?.value ?? sel.name.value,
              coordinate: `${rootType.name}.${sel.name.value}`,
              node: sel,
              field,
            });
          }
        } else if (sel.kind === Kind.INLINE_FRAGMENT) {
          walk(sel.selectionSet);
        } else {
          const frag = fragments.get(sel.name.value);
          // `seen` stops fragment cycles (validation refuses them, but this may run first).
          if (frag && !seen.has(frag.name.value)) {
            seen.add(frag.name.value);
            walk(frag.selectionSet);
          }
        }
      }
    };
    walk(operation.selectionSet);
  }
  return { operation, coordinates, rootFields, introspection, memo: new Map() };
}

/**
 * Coerces the request's variables and returns each root field's argument values, or null
 * when the variables are invalid (execution will refuse them before any subgraph call).
 */
export function rootArguments(
  schema: GraphQLSchema,
  analysis: OperationAnalysis,
  variables: Record<string, unknown> | undefined,
): Array<{ use: RootFieldUse; args: Record<string, unknown> }> | null {
  const coerced = getVariableValues(schema, analysis.operation.variableDefinitions ?? [], variables ?? {}, { maxErrors: 1 });
  if (coerced.errors) return null;
  try {
    return analysis.rootFields.map((use) => ({ use, args: getArgumentValues(use.field, use.node, coerced.coerced) }));
  } catch {
    return null;
  }
}
