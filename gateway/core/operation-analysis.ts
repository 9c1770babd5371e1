/**
 * What an operation touches, computed once per parsed document and operation name:
 * the schema coordinates (`Type.field`) it selects, its root fields with their argument
 * nodes, and whether it uses introspection. Purpose policy compares the coordinates
 * with the procedure's; the unknown-lookup limiter reads the root fields.
 *
 * Apollo Server caches parsed documents (documentStore), so the same DocumentNode
 * object comes back for a repeated query: the WeakMap makes the analysis free then.
 */
import type { IdentifierKind } from '../../lib/identifiers.js';
import { policyError } from './errors.js';
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
  /** Fragment definitions of the operation's document (the ones it reaches). */
  fragments: ReadonlyMap<string, FragmentDefinitionNode>;
  /**
   * Directive uses the policy cannot decide statically: a variable in a directive argument
   * (`@include(if: $x)`), or a directive other than `@include`/`@skip`. Empty for most documents.
   */
  undecidableDirectives: string[];
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
  const undecidableDirectives: string[] = [];
  const typeInfo = new TypeInfo(schema);
  visit(own, visitWithTypeInfo(typeInfo, {
    Directive(node) {
      const name = node.name.value;
      if (name !== 'include' && name !== 'skip') {
        undecidableDirectives.push(`@${name}`);
        return;
      }
      let variable: string | null = null;
      visit(node, { Variable(v) { variable ??= v.name.value; } });
      if (variable !== null) undecidableDirectives.push(`@${name}(if: $${variable})`);
    },
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
  return { operation, coordinates, rootFields, introspection, fragments, undecidableDirectives, memo: new Map() };
}

/** One root field's coerced argument values. */
export interface RootArguments {
  use: RootFieldUse;
  args: Record<string, unknown>;
}

/**
 * Coerces the request's variables and returns each root field's argument values. Deny by
 * default: instead of leaving an undecidable request to execution (which would run the
 * other root fields), it throws BAD_USER_INPUT when the variables are invalid, when a root
 * field's arguments cannot be computed (a nullable variable sent as null for a non-null
 * argument, …), or when an argument of a field in `strict` takes its value from a variable
 * the request does not send and whose default would apply: the identifiers a request
 * names must be the ones it sends.
 */
export function rootArguments(
  schema: GraphQLSchema,
  analysis: OperationAnalysis,
  variables: Record<string, unknown> | null | undefined,
  strict: (use: RootFieldUse) => boolean = () => true,
): RootArguments[] {
  if (variables !== undefined && variables !== null && (typeof variables !== 'object' || Array.isArray(variables))) {
    throw policyError('BAD_USER_INPUT', 'variables must be a JSON object.', { reason: 'UNDECIDABLE_REQUEST' });
  }
  const sent = variables ?? {};
  const coerced = getVariableValues(schema, analysis.operation.variableDefinitions ?? [], sent, { maxErrors: 1 });
  if (coerced.errors) {
    throw policyError('BAD_USER_INPUT', `Invalid variables: ${coerced.errors[0]!.message}`, { reason: 'UNDECIDABLE_REQUEST' });
  }
  const defaults = new Set(
    (analysis.operation.variableDefinitions ?? []).filter((d) => d.defaultValue !== undefined).map((d) => d.variable.name.value),
  );
  return analysis.rootFields.map((use) => {
    if (strict(use) && defaults.size > 0) {
      let defaulted: string | null = null;
      visit(use.node, {
        Variable(v) {
          const name = v.name.value;
          if (defaulted === null && defaults.has(name) && (!Object.prototype.hasOwnProperty.call(sent, name) || sent[name] === undefined)) defaulted = name;
        },
      });
      if (defaulted !== null) {
        throw policyError('BAD_USER_INPUT', `${use.responseKey}: variable $${defaulted} is not sent and would take its default value; send the identifiers the request is about explicitly.`, { reason: 'UNDECIDABLE_REQUEST', field: use.coordinate });
      }
    }
    try {
      return { use, args: getArgumentValues(use.field, use.node, coerced.coerced) };
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      throw policyError('BAD_USER_INPUT', `${use.responseKey}: ${message}`, { reason: 'UNDECIDABLE_REQUEST', field: use.coordinate });
    }
  });
}

export interface RootLookup {
  /** Argument carrying the identifier. */
  arg: string;
  /** Its format (lib/identifiers.ts), or null when no format is fixed (household ids). */
  kind: IdentifierKind | null;
  /** Which Subject slot it fills, when it can be related to the citizen before fetching. */
  subject: 'personalId' | 'enterpriseCode' | 'parcelId' | null;
  list?: boolean;
}

/** Root lookups of the supergraph. Each is a lookup by key: the graph has no listing. */
export const ROOT_LOOKUPS: Readonly<Record<string, RootLookup>> = {
  'Query.citizen': { arg: 'personalId', kind: 'personalId', subject: 'personalId' },
  'Query.citizens': { arg: 'personalIds', kind: 'personalId', subject: 'personalId', list: true },
  'Query.household': { arg: 'householdId', kind: null, subject: null },
  'Query.enterprise': { arg: 'enterpriseCode', kind: 'enterpriseCode', subject: 'enterpriseCode' },
  'Query.socialInsurance': { arg: 'socialInsuranceNumber', kind: 'socialInsuranceNumber', subject: null },
  'Query.healthInsuranceCard': { arg: 'cardNumber', kind: 'healthInsuranceCard', subject: null },
  'Query.landParcel': { arg: 'parcelId', kind: 'parcelId', subject: 'parcelId' },
  'Query.landParcelByCertificate': { arg: 'serial', kind: 'certificateSerial', subject: null },
};
