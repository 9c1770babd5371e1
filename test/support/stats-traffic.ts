/**
 * A mix of requests sent through the whole stack, for the statistics, metrics
 * and console tests: prefills of several procedures by two client systems,
 * plain queries with a declared purpose, a query without a purpose (refused),
 * unauthenticated and malformed requests, and queries while one registry is
 * down (partial results). The tests never rely on what each request returns:
 * they compare the figures with the audit records the requests left.
 */
import { loadHmacKey, loadSigner, subjectHasher } from '../../gateway/audit/keys.js';
import { AuditLog } from '../../gateway/audit/log.js';
import type { AuditEntry, Outcome } from '../../gateway/audit/record.js';
import type { AuditStore } from '../../gateway/audit/store.js';
import type { Stack } from './stack.js';

export const PREFILL_QUERY = `query Prefill($procedureId: ID!, $subject: SubjectInput!, $dossierId: String) {
  prefill(procedureId: $procedureId, subject: $subject, dossierId: $dossierId) {
    procedure { id }
    fields { key value registry }
    dossierComponents { code status }
    summary { fieldsTotal fieldsPrefilled fieldsForCitizen componentsTotal componentsCut hoursSaved }
  }
}`;

const CITIZEN_QUERY = `query Citizen($personalId: ID!) {
  citizen(personalId: $personalId) { fullName dateOfBirth gender nationality permanentResidence { fullAddress } }
}`;

const INSURED_QUERY = `query Insured($personalId: ID!) {
  citizen(personalId: $personalId) { fullName socialInsurance { socialInsuranceNumber totalContributionMonths status } }
}`;

/** Procedures that take the citizen alone (no relative, enterprise or parcel needed). */
const CITIZEN_PROCEDURES = ['lodging-notification', 'judicial-record-certificate', 'passport-issuance', 'permanent-residence-registration'];

export interface StaffKeys {
  /** Role `client` (two TTHC systems). */
  clients: string[];
  auditor: string;
  /** Roles `operator` and `monitor`. */
  operator: string;
}

export function staffKeys(stack: Stack): StaffKeys {
  const creds = stack.gateway.clients.demoCredentials();
  const find = (pred: (c: (typeof creds)[number]) => boolean, what: string) => {
    const c = creds.find(pred);
    if (!c) throw new Error(`The demo clients file has no ${what} key (mocks/clients.demo.json).`);
    return c.key;
  };
  // Clients that need no subject token (the e-ID consent flow is not part of this traffic).
  const clientKeys = creds
    .filter((c) => c.roles.includes('client'))
    .filter((c) => !stack.gateway.clients.clients.find((x) => x.id === c.clientId)?.requireSubjectToken)
    .map((c) => c.key);
  if (clientKeys.length < 2) throw new Error('The demo clients file needs two client keys without requireSubjectToken.');
  return {
    clients: clientKeys.slice(0, 2),
    auditor: find((c) => c.roles.includes('auditor'), 'auditor'),
    operator: find((c) => c.roles.includes('operator') && c.roles.includes('monitor'), 'operator+monitor'),
  };
}

async function post(stack: Stack, body: unknown, headers: Record<string, string>): Promise<number> {
  const res = await fetch(stack.graphqlUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  await res.arrayBuffer();
  return res.status;
}

/** Sends the mix; resolves with the number of /graphql requests sent. */
export async function sendMixedTraffic(stack: Stack, opts: { rounds?: number } = {}): Promise<number> {
  const keys = staffKeys(stack);
  const adults = stack.world.citizens.filter((c) => c.dateOfBirth < '2005-01-01' && !c.dateOfDeath).slice(0, 40);
  const rounds = opts.rounds ?? 12;
  let sent = 0;
  const auth = (key: string) => ({ authorization: `Bearer ${key}` });

  const batch: Array<Promise<number>> = [];
  for (let i = 0; i < rounds; i++) {
    const key = keys.clients[i % 2]!;
    const citizen = adults[i % adults.length]!;
    const procedureId = CITIZEN_PROCEDURES[i % CITIZEN_PROCEDURES.length]!;
    batch.push(post(stack, { query: PREFILL_QUERY, variables: { procedureId, subject: { personalId: citizen.personalId }, dossierId: `H01-${i}` } }, auth(key)));
    batch.push(
      post(stack, { query: CITIZEN_QUERY, variables: { personalId: citizen.personalId } }, { ...auth(key), 'x-purpose': 'lodging-notification', 'x-dossier-id': `D-${i}` }),
    );
    if (i % 3 === 0) batch.push(post(stack, { query: CITIZEN_QUERY, variables: { personalId: citizen.personalId } }, auth(key))); // no purpose → refused
    if (i % 4 === 0) batch.push(post(stack, { query: CITIZEN_QUERY, variables: { personalId: citizen.personalId } }, {})); // no key
    if (i % 4 === 1) batch.push(post(stack, '{"query": "{ citizen(personalId: ', auth(key))); // malformed JSON
    if (i % 4 === 2) batch.push(post(stack, { query: '{ citizen(personalId: "12") { fullName } }' }, { ...auth(key), 'x-purpose': 'lodging-notification' }));
  }
  sent += batch.length;
  await Promise.all(batch);

  // One registry down: the other registries still answer (PARTIAL).
  stack.setFaults('insurance', { outage: true });
  try {
    for (let i = 0; i < 4; i++) {
      const citizen = adults[(i + 7) % adults.length]!;
      await post(
        stack,
        { query: INSURED_QUERY, variables: { personalId: citizen.personalId } },
        { ...auth(keys.clients[0]!), 'x-purpose': 'social-insurance-lump-sum' },
      );
      await post(
        stack,
        { query: PREFILL_QUERY, variables: { procedureId: 'social-insurance-lump-sum', subject: { personalId: citizen.personalId } } },
        auth(keys.clients[1]!),
      );
      sent += 2;
    }
  } finally {
    stack.setFaults('insurance', { outage: false });
  }
  return sent;
}

/**
 * Past days of records, as earlier runs of the gateway would have left them: a
 * second chain (`history`) written through the real AuditLog with the gateway's
 * development keys from `dataDir`, so it verifies like any other chain. The
 * dashboards then show a month rather than one day. Deterministic (seeded).
 */
export async function writeHistory(stack: Stack, dataDir: string, opts: { days?: number; perDay?: number; seed?: number } = {}): Promise<number> {
  const store = stack.gateway.services.need('audit').store;
  const keyOpts = { dataDir, production: false };
  const hasher = subjectHasher(loadHmacKey(keyOpts).key);
  const log = new AuditLog({ store, instanceId: 'history', signer: loadSigner(keyOpts).signer, checkpointEvery: 200, checkpointIntervalMs: 0 });
  await log.start();

  let state = (opts.seed ?? 7) >>> 0;
  const rnd = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 4294967296;
  };
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)]!;
  const clients = stack.gateway.clients.clients.filter((c) => (c as { roles?: string[] }).roles?.includes('client') ?? true);
  const people = stack.world.citizens.filter((c) => c.dateOfBirth < '2005-01-01' && !c.dateOfDeath).slice(0, 40);
  const procedures: Array<{ id: string; registries: string[]; fields: string[]; components: number; hours: number }> = [
    { id: 'lodging-notification', registries: ['population'], fields: ['Citizen.fullName', 'Citizen.dateOfBirth', 'Citizen.gender', 'Citizen.permanentResidence'], components: 0, hours: 0.6 },
    { id: 'judicial-record-certificate', registries: ['population'], fields: ['Citizen.fullName', 'Citizen.dateOfBirth', 'Citizen.placeOfBirth', 'Citizen.permanentResidence'], components: 2, hours: 3.2 },
    { id: 'passport-issuance', registries: ['population', 'insurance'], fields: ['Citizen.fullName', 'Citizen.identityCard', 'SocialInsurance.currentEmployer'], components: 1, hours: 2.4 },
    { id: 'social-insurance-lump-sum', registries: ['population', 'insurance'], fields: ['Citizen.fullName', 'SocialInsurance.socialInsuranceNumber', 'SocialInsurance.totalContributionMonths'], components: 1, hours: 1.8 },
    { id: 'land-use-right-transfer', registries: ['population', 'land'], fields: ['Citizen.fullName', 'LandParcel.area', 'LandParcel.certificate'], components: 2, hours: 4.5 },
    { id: 'enterprise-legal-representative-change', registries: ['population', 'enterprise'], fields: ['Enterprise.name', 'Enterprise.legalRepresentatives', 'Citizen.fullName'], components: 2, hours: 3.6 },
  ];
  const outcomes: Outcome[] = ['OK', 'OK', 'OK', 'OK', 'OK', 'OK', 'OK', 'PARTIAL', 'DENIED', 'INVALID', 'ERROR'];
  const days = opts.days ?? 28;
  const perDay = opts.perDay ?? 24;
  const today = Math.floor((Date.now() + 7 * 3600_000) / 86_400_000) * 86_400_000 - 7 * 3600_000;
  const appends: Array<Promise<unknown>> = [];
  for (let d = days; d >= 1; d--) {
    const n = Math.round(perDay * (0.6 + rnd() * 0.8) * (new Date(today - d * 86_400_000 + 7 * 3600_000).getUTCDay() % 6 === 0 ? 0.35 : 1));
    for (let i = 0; i < n; i++) {
      const client = pick(clients);
      const proc = pick(procedures);
      const outcome = pick(outcomes);
      const shared = outcome === 'OK' || outcome === 'PARTIAL';
      const registries = shared ? proc.registries : outcome === 'ERROR' ? proc.registries.slice(0, 1) : [];
      const entities: Record<string, number> = {};
      if (shared) for (const r of registries) entities[r] = r === 'land' ? 1 + Math.floor(rnd() * 2) : 1;
      const isPrefill = shared && rnd() < 0.55;
      const person = pick(people);
      const entry: AuditEntry = {
        ts: today - d * 86_400_000 + Math.floor((7.5 + rnd() * 10) * 3600_000),
        requestId: `history-${d}-${i}`,
        clientId: client.id,
        agency: client.agency,
        operationName: isPrefill ? 'Prefill' : 'Citizen',
        operationType: 'query',
        documentHash: 'ab'.repeat(32),
        procedureId: proc.id,
        dossierId: `H${String(d).padStart(2, '0')}.${i}`,
        subjects: outcome === 'INVALID' ? [] : [{ kind: 'personal', role: 'subject', hmac: hasher('personal', person.personalId) }],
        registries,
        fields: shared ? proc.fields : [],
        entities,
        outcome,
        errorCodes: outcome === 'OK' ? [] : [outcome === 'PARTIAL' ? 'REGISTRY_UNAVAILABLE' : outcome === 'DENIED' ? 'FORBIDDEN' : outcome === 'INVALID' ? 'BAD_USER_INPUT' : 'INTERNAL_SERVER_ERROR'],
        httpStatus: outcome === 'DENIED' ? 403 : outcome === 'INVALID' ? 400 : outcome === 'ERROR' ? 500 : 200,
        durationMs: Math.round((30 + rnd() * rnd() * 600 + (registries.length > 1 ? 40 : 0)) * 10) / 10,
        responseBytes: shared ? 800 + Math.floor(rnd() * 3000) : 180,
        prefill:
          isPrefill
            ? {
                fieldsTotal: 12,
                fieldsPrefilled: 8,
                fieldsForCitizen: 4,
                componentsTotal: proc.components + 1,
                componentsCut: outcome === 'OK' ? proc.components : 0,
                hoursSaved: outcome === 'OK' ? proc.hours : Math.round(proc.hours * 50) / 100,
              }
            : null,
      };
      appends.push(log.append(entry));
    }
  }
  await Promise.all(appends);
  await log.close();
  return appends.length;
}
