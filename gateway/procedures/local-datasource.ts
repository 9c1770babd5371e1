/**
 * The data source of in-gateway subgraphs (the `procedures` subgraph). Apollo's
 * LocalGraphQLDataSource calls `graphql()`, which parses and validates the subgraph
 * operation on every request; the operations are the query planner's output for
 * already validated client operations, so the same few strings come back each time.
 * This one parses and validates a string once per schema and keeps the document
 * (immutable) for the next requests; execution is unchanged.
 */
import { LocalGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { execute, GraphQLError, parse, validate, validateSchema, type DocumentNode, type GraphQLSchema } from 'graphql';
import { LRUCache } from 'lru-cache';

type Response = Awaited<ReturnType<LocalGraphQLDataSource['process']>>;

export interface CachedLocalDataSourceOptions {
  /** Validated documents kept, by operation text. Default: 256. */
  maxDocuments?: number;
}

export class CachedLocalDataSource<TContext extends Record<string, any> = Record<string, any>> extends LocalGraphQLDataSource<TContext> {
  private readonly documents: LRUCache<string, DocumentNode>;

  constructor(schema: GraphQLSchema, opts: CachedLocalDataSourceOptions = {}) {
    super(schema);
    this.documents = new LRUCache({ max: opts.maxDocuments ?? 256 });
  }

  override async process({ request, context }: GraphQLDataSourceProcessOptions<TContext>): Promise<Response> {
    const source = request.query ?? '';
    let document = this.documents.get(source);
    if (!document) {
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
      this.documents.set(source, document);
    }
    return (await execute({
      schema: this.schema,
      document,
      variableValues: request.variables,
      operationName: request.operationName,
      contextValue: context,
    })) as Response;
  }
}
