/**
 * The benchmark's operations. W1 touches the four registries in one request; its
 * floor sends the same selections straight to each subgraph (in parallel). W2 is
 * prefill for judicial-record-certificate; for gateways without prefill the
 * equivalent is the procedure's compiled operation, sent as a plain query.
 */
import type { RegistryName } from '../lib/registries.js';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../lib/repo-root.js';
import { loadCatalog } from '../gateway/procedures/catalog.js';

export const BENCH_PURPOSE = 'bench-citizen-dossier';

export const W1_QUERY = `query CitizenDossier($id: ID!) {
  citizen(personalId: $id) {
    personalId fullName dateOfBirth gender
    permanentResidence { fullAddress }
    household { householdId }
    enterprises { role enterprise { enterpriseCode name status } }
    socialInsurance { socialInsuranceNumber status totalContributionMonths }
    healthInsuranceCard { cardNumber validTo expired }
    landParcels { parcelId area landUsePurpose certificate { serial } }
  }
}`;

const entities = (selection: string) =>
  `query ($r: [_Any!]!) { _entities(representations: $r) { ... on Citizen { ${selection} } } }`;
const rep = [{ __typename: 'Citizen', personalId: '$SUBJECT' }];

/** W1 without a gateway: what each subgraph is asked, sent in parallel. */
export const W1_FLOOR: Array<{ subgraph: RegistryName; query: string; variables: Record<string, unknown> }> = [
  {
    subgraph: 'population',
    query: 'query ($id: ID!) { citizen(personalId: $id) { personalId fullName dateOfBirth gender permanentResidence { fullAddress } household { householdId } } }',
    variables: { id: '$SUBJECT' },
  },
  { subgraph: 'enterprise', query: entities('enterprises { role enterprise { enterpriseCode name status } }'), variables: { r: rep } },
  {
    subgraph: 'insurance',
    query: entities('socialInsurance { socialInsuranceNumber status totalContributionMonths } healthInsuranceCard { cardNumber validTo expired }'),
    variables: { r: rep },
  },
  { subgraph: 'land', query: entities('landParcels { parcelId area landUsePurpose certificate { serial } }'), variables: { r: rep } },
];

export const W2_PREFILL = `query Prefill($id: ID!) {
  prefill(procedureId: "judicial-record-certificate", subject: { personalId: $id }) {
    fields { key value source registry unavailable }
    dossierComponents { code status }
    summary { fieldsTotal fieldsPrefilled fieldsForCitizen componentsCut hoursSaved }
  }
}`;

/** The compiled operation of judicial-record-certificate, as a plain federated query. */
export function w2Query(): { query: string; variables: (subject: string) => Record<string, unknown> } {
  const supergraphSdl = readFileSync(path.join(REPO_ROOT, 'schema/supergraph.graphql'), 'utf8');
  const catalog = loadCatalog({ supergraphSdl, dirs: [path.join(REPO_ROOT, 'schema/procedures')] });
  const proc = catalog.byId.get('judicial-record-certificate');
  if (!proc) throw new Error('judicial-record-certificate is missing from the catalog');
  const op = proc.operation;
  // The compiled operation's variables are named after the subject roots it uses.
  const names = [...op.query.matchAll(/\$(\w+):/g)].map((m) => m[1]!);
  return { query: op.query, variables: (subject) => Object.fromEntries(names.map((n) => [n, subject])) };
}
