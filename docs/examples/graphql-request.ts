/**
 * Motlan from graphql-request 7 (docs/INTEGRATION.md, "graphql-request").
 * Run by test/integration-examples.test.ts against the real stack.
 */
import { ClientError, GraphQLClient, gql } from 'graphql-request';

export function motlanClient(graphqlUrl: string, apiKey: string): GraphQLClient {
  return new GraphQLClient(graphqlUrl, { headers: { authorization: `Bearer ${apiKey}` } });
}

const PREFILL = gql`
  query Prefill($procedureId: ID!, $personalId: ID!, $dossierId: String) {
    prefill(procedureId: $procedureId, subject: { personalId: $personalId }, dossierId: $dossierId) {
      fields { key label value registry }
      summary { fieldsPrefilled fieldsForCitizen }
    }
  }
`;

export interface PrefillAnswer {
  prefill: {
    fields: Array<{ key: string; label: string; value: string | null; registry: string | null }>;
    summary: { fieldsPrefilled: number; fieldsForCitizen: number };
  };
}

/** `prefill` carries its purpose as an argument: no X-Purpose header. */
export async function prefillForm(client: GraphQLClient, procedureId: string, personalId: string, dossierId: string): Promise<PrefillAnswer['prefill']> {
  const data = await client.request<PrefillAnswer>(PREFILL, { procedureId, personalId, dossierId });
  return data.prefill;
}

/** A refusal is a ClientError: read its status, code and reason (docs/INTEGRATION.md, "Refusals"). */
export async function refusalOf(promise: Promise<unknown>): Promise<{ status: number; code?: string; reason?: string } | null> {
  try {
    await promise;
    return null;
  } catch (err) {
    if (!(err instanceof ClientError)) throw err;
    const ext = err.response.errors?.[0]?.extensions as { code?: string; reason?: string } | undefined;
    return { status: err.response.status, code: ext?.code, reason: ext?.reason };
  }
}

/** Plain queries name their purpose per request with requestHeaders. */
export async function citizenName(client: GraphQLClient, personalId: string, procedureId: string): Promise<string | null> {
  const data = await client.request<{ citizen: { fullName: string } | null }>({
    document: gql`query CitizenName($personalId: ID!) { citizen(personalId: $personalId) { fullName } }`,
    variables: { personalId },
    requestHeaders: { 'x-purpose': procedureId },
  });
  return data.citizen?.fullName ?? null;
}
