/**
 * The data source of in-gateway subgraphs (the `procedures` subgraph). Apollo's
 * LocalGraphQLDataSource calls `graphql()`, which parses and validates the subgraph
 * operation on every request; the operations are the query planner's output for
 * already validated client operations, so the same few strings come back each time.
 * This one parses and validates a string once per schema and keeps the document
 * (immutable) for the next requests. Root fields declared plain (plain-execution.ts:
 * `prefill`) are answered by projecting their resolver's value; the rest runs in graphql-js.
 */
import { LocalGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { execute, GraphQLError, parse, validate, validateSchema, type DocumentNode, type GraphQLSchema } from 'graphql';
import { LRUCache } from 'lru-cache';
import { executePlain, planPlain, type PlainPlan } from './plain-execution.js';

type Response = Awaited<ReturnType<LocalGraphQLDataSource['process']>>;

export interface CachedLocalDataSourceOptions {
  /** Validated documents kept, by operation text. Default: 256. */
  maxDocuments?: number;
}

export class CachedLocalDataSource<TContext extends Record<string, any> = Record<string, any>> extends LocalGraphQLDataSource<TContext> {
  private readonly documents: LRUCache<string, { document: DocumentNode; plain: PlainPlan | null }>;

  constructor(schema: GraphQLSchema, opts: CachedLocalDataSourceOptions = {}) {
    super(schema);
    this.documents = new LRUCache({ max: opts.maxDocuments ?? 256 });
  }

  override async process({ request, context }: GraphQLDataSourceProcessOptions<TContext>): Promise<Response> {
    const source = request.query ?? '';
    const key = `${request.operationName ?? ''}\u0000${source}`;
    let cached = this.documents.get(key);
    if (!cached) {
      let document: DocumentNode;
      // As graphql() does: a schema error, a syntax error or a validation error is the answer.
      const schemaErrors = validateSchema(this.schema);
      if (schemaErrors.length > 0) return { errors: schemaErrors };
      try {
        document = parse(source);
      } catch (err) {
        if (err instanceof GraphQLError) return { errors: [err] };
        throw err;
      }
      const errors = validate(this.schema, document);
      if (errors.length > 0) return { errors };
      cached = { document, plain: planPlain(this.schema, document, request.operationName ?? undefined) };
      this.documents.set(key, cached);
    }
    if (cached.plain) {
      const outcome = await executePlain(this.schema, cached.plain, request.variables, context);
      if (outcome !== 'graphql-js') return outcome as Response;
    }
    return (await execute({
      schema: this.schema,
      document: cached.document,
      variableValues: request.variables,
      operationName: request.operationName,
      contextValue: context,
    })) as Response;
  }
}
