/**
 * Motlan from Apollo Client 4 (docs/INTEGRATION.md, "Apollo Client").
 * Run by test/integration-examples.test.ts against the real stack.
 */
import { ApolloClient, HttpLink, InMemoryCache, gql } from '@apollo/client';

/** One client per agency system: the API key is the system's, not the user's. */
export function motlanClient(graphqlUrl: string, apiKey: string, fetchImpl: typeof fetch = fetch): ApolloClient {
  return new ApolloClient({
    link: new HttpLink({
      uri: graphqlUrl,
      headers: { authorization: `Bearer ${apiKey}` },
      fetch: fetchImpl,
    }),
    cache: new InMemoryCache({
      typePolicies: {
        // A citizen is identified by the personal ID (số định danh cá nhân); without this,
        // Apollo looks for `id` and stores citizens unnormalized under their parent.
        Citizen: { keyFields: ['personalId'] },
        Enterprise: { keyFields: ['enterpriseCode'] },
        LandParcel: { keyFields: ['parcelId'] },
      },
    }),
  });
}

export const CITIZEN_FOR_PROCEDURE = gql`
  query CitizenForProcedure($personalId: ID!) {
    citizen(personalId: $personalId) {
      personalId
      fullName
      dateOfBirth
    }
  }
`;

export interface CitizenAnswer {
  citizen: { personalId: string; fullName: string; dateOfBirth: string } | null;
}

/**
 * Reads one citizen for one procedure and dossier. The purpose travels per request in
 * the operation's context (the link merges `context.headers` into the request), and
 * `fetchPolicy: 'no-cache'` sends every call: with Apollo's default `cache-first`, a
 * second call for ANOTHER purpose would be answered from the browser's cache — no
 * request, so no purpose check and no audit record for it.
 */
export async function citizenForProcedure(
  client: ApolloClient,
  personalId: string,
  procedureId: string,
  dossierId: string,
): Promise<CitizenAnswer['citizen']> {
  const { data, error } = await client.query<CitizenAnswer>({
    query: CITIZEN_FOR_PROCEDURE,
    variables: { personalId },
    context: { headers: { 'x-purpose': procedureId, 'x-dossier-id': dossierId } },
    fetchPolicy: 'no-cache',
  });
  if (error) throw error;
  return data?.citizen ?? null;
}

/** What the default cache-first does with the same call (for the guide: do NOT do this). */
export async function citizenCacheFirst(client: ApolloClient, personalId: string, procedureId: string): Promise<CitizenAnswer['citizen']> {
  const { data } = await client.query<CitizenAnswer>({
    query: CITIZEN_FOR_PROCEDURE,
    variables: { personalId },
    context: { headers: { 'x-purpose': procedureId } },
  });
  return data?.citizen ?? null;
}
