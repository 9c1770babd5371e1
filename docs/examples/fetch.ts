/**
 * Motlan with plain fetch (docs/INTEGRATION.md, "Plain fetch"): no library, any runtime.
 * Run by test/integration-examples.test.ts against the real stack.
 */
export interface MotlanResult<T> {
  status: number;
  requestId: string | null;
  data?: T | null;
  errors?: Array<{ message: string; extensions?: { code?: string; reason?: string; [k: string]: unknown } }>;
}

export async function motlanQuery<T>(
  graphqlUrl: string,
  apiKey: string,
  query: string,
  variables: Record<string, unknown>,
  purpose?: { procedureId: string; dossierId?: string },
): Promise<MotlanResult<T>> {
  const res = await fetch(graphqlUrl, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      // Ask for the GraphQL-over-HTTP media type: refusals then come with their real status.
      accept: 'application/graphql-response+json, application/json;q=0.9',
      authorization: `Bearer ${apiKey}`,
      ...(purpose ? { 'x-purpose': purpose.procedureId } : {}),
      ...(purpose?.dossierId ? { 'x-dossier-id': purpose.dossierId } : {}),
    },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as Omit<MotlanResult<T>, 'status' | 'requestId'>;
  // Quote X-Request-Id when you ask the operator about a request: it finds the audit record.
  return { status: res.status, requestId: res.headers.get('x-request-id'), ...body };
}
