/**
 * Fills `context.trace.fields` with the schema coordinates (`Citizen.fullName`)
 * of the fields that actually carry a value in the response: what was shared,
 * which the audit trail records (never the values themselves). A field that is
 * null (unknown id, unavailable registry) was not shared and is not listed.
 */
import type { ApolloServerPlugin } from '@apollo/server';
import {
  getNamedType,
  isAbstractType,
  isObjectType,
  Kind,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLNamedType,
  type GraphQLObjectType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import type { MotlanContext } from '../core/context.js';
import { readsIdentifiersOnly } from '../core/inner-execution.js';

export function collectReturnedFields(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  data: Record<string, unknown> | null | undefined,
  into: Set<string> = new Set(),
): Set<string> {
  if (!data) return into;
  const fragments = new Map<string, FragmentDefinitionNode>();
  let operation: OperationDefinitionNode | undefined;
  for (const def of document.definitions) {
    if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);
    else if (def.kind === Kind.OPERATION_DEFINITION && (!operationName || def.name?.value === operationName)) operation ??= def;
  }
  if (!operation) return into;
  const root = schema.getRootType(operation.operation);
  if (!root) return into;

  const visitValue = (type: GraphQLNamedType, value: unknown, selectionSet: SelectionSetNode | undefined): void => {
    if (value === null || value === undefined || !selectionSet) return;
    if (Array.isArray(value)) {
      for (const item of value) visitValue(type, item, selectionSet);
      return;
    }
    if (typeof value !== 'object') return;
    let objectType: GraphQLObjectType | undefined;
    if (isObjectType(type)) objectType = type;
    else if (isAbstractType(type)) {
      const typename = (value as { __typename?: unknown }).__typename;
      const t = typeof typename === 'string' ? schema.getType(typename) : undefined;
      if (t && isObjectType(t)) objectType = t;
    }
    if (objectType) visitSelections(objectType, value as Record<string, unknown>, selectionSet);
  };

  const visitSelections = (type: GraphQLObjectType, value: Record<string, unknown>, selectionSet: SelectionSetNode): void => {
    for (const sel of selectionSet.selections) {
      if (sel.kind === Kind.FIELD) {
        const name = sel.name.value;
        if (name.startsWith('__')) continue; // introspection and __typename share no data
        const v = value[sel.alias?.value ?? name];
        if (v === null || v === undefined) continue;
        into.add(coordinate(type, name));
        const field = type.getFields()[name];
        if (field) visitValue(getNamedType(field.type), v, sel.selectionSet);
      } else if (sel.kind === Kind.INLINE_FRAGMENT) {
        const cond = sel.typeCondition?.name.value;
        if (!cond || cond === type.name || type.getInterfaces().some((i) => i.name === cond) || isMember(schema, cond, type)) {
          visitSelections(type, value, sel.selectionSet);
        }
      } else {
        const frag = fragments.get(sel.name.value);
        const cond = frag?.typeCondition.name.value;
        if (frag && (cond === type.name || type.getInterfaces().some((i) => i.name === cond) || isMember(schema, cond!, type))) {
          visitSelections(type, value, frag.selectionSet);
        }
      }
    }
  };

  visitSelections(root, data, operation.selectionSet);
  return into;
}

/** `Type.field`, built once per field (a list of 25 form fields would build each 25 times per request). */
const coordinates = new WeakMap<GraphQLObjectType, Map<string, string>>();
function coordinate(type: GraphQLObjectType, field: string): string {
  let byField = coordinates.get(type);
  if (!byField) coordinates.set(type, (byField = new Map()));
  let c = byField.get(field);
  if (c === undefined) byField.set(field, (c = `${type.name}.${field}`));
  return c;
}

function isMember(schema: GraphQLSchema, abstractName: string, type: GraphQLObjectType): boolean {
  const t = schema.getType(abstractName);
  return !!t && isAbstractType(t) && schema.isSubType(t, type);
}

/** The fields found in one response `data` object, and what they were found under. */
interface FieldsMemo {
  schema: GraphQLSchema;
  document: DocumentNode;
  operationName: string | null | undefined;
  fields: readonly string[];
}

/**
 * Apollo plugin, in the "execution" slot of app.ts so it runs before audit reads the trace.
 *
 * Memoised by the identity of the `data` object: a response cache hit (gateway/cache) hands out
 * the very object it stored, so a hit reuses the walk of the answer it was cached from instead
 * of walking the same data again. Only the same object under the same schema, document and
 * operation reuses it; anything else (a fresh answer, a body the response check replaced, a
 * reloaded supergraph) is walked.
 */
export function returnedFieldsPlugin(): ApolloServerPlugin<MotlanContext> {
  const memo = new WeakMap<object, FieldsMemo>();
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ contextValue, document, operationName, response, schema }) {
          if (response.body.kind !== 'single') return;
          for (const e of response.body.singleResult.errors ?? []) {
            if (typeof e.extensions?.code === 'string') contextValue.trace.errorCodes.add(e.extensions.code);
          }
          // A relation check's answer (family identifiers) never leaves the gateway: not shared, not listed.
          if (!document || readsIdentifiersOnly(contextValue)) return;
          const data = response.body.singleResult.data as Record<string, unknown> | null | undefined;
          if (!data) return;
          const into = contextValue.trace.fields;
          const known = memo.get(data);
          if (known && known.schema === schema && known.document === document && known.operationName === operationName) {
            for (const f of known.fields) into.add(f);
            return;
          }
          const found = collectReturnedFields(schema, document, operationName, data);
          for (const f of found) into.add(f);
          memo.set(data, { schema, document, operationName, fields: [...found] });
        },
      };
    },
  };
}
