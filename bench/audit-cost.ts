/**
 * What one audit record of a cache hit costs the gateway, per record: `npx tsx bench/audit-cost.ts [records] [per commit]`
 * (defaults 20000 and 16). The real SQLite store as the gateway opens it (writer thread,
 * exclusive locking, fsync per commit), W1-shaped records (4 registries, 29 field coordinates,
 * one subject, two in three marked `cache: hit`), appended in group commits of `per commit`,
 * rolled into the statistics every 40 commits as the store's timer would. CPU of every thread
 * (process.cpuUsage) divided by the records: `chain` = chainRecord (normalise, content hash,
 * chain hash), `append` = appendBatch (row building, the clone to the writer thread, the
 * inserts), `roll` = the statistics roll. A short run first warms the JIT.
 */
import { chainRecord, genesisHash, type AuditEntry, type AuditRecord } from '../gateway/audit/record.js';
import { cpuUs, withBenchStore } from './audit-store-bench.js';

const N = Number(process.argv[2] ?? 20000);
const PER_COMMIT = Number(process.argv[3] ?? 16);
const FIELDS = [
  'Query.citizen', 'Citizen.personalId', 'Citizen.fullName', 'Citizen.dateOfBirth', 'Citizen.gender',
  'Citizen.permanentResidence', 'Address.fullAddress', 'Citizen.household', 'Household.householdId',
  'Citizen.enterprises', 'EnterpriseRole.role', 'EnterpriseRole.enterprise', 'Enterprise.enterpriseCode',
  'Enterprise.name', 'Enterprise.status', 'Citizen.socialInsurance', 'SocialInsurance.socialInsuranceNumber',
  'SocialInsurance.status', 'SocialInsurance.totalContributionMonths', 'Citizen.healthInsuranceCard',
  'HealthInsuranceCard.cardNumber', 'HealthInsuranceCard.validTo', 'HealthInsuranceCard.expired',
  'Citizen.landParcels', 'LandParcel.parcelId', 'LandParcel.area', 'LandParcel.landUsePurpose',
  'LandParcel.certificate', 'LandCertificate.serial',
];

function entry(i: number): AuditEntry {
  return {
    ts: Date.now(),
    requestId: `r-${i}-abcdefabcdef`,
    clientId: 'bench-client',
    agency: 'Bench agency',
    operationName: 'CitizenDossier',
    operationType: 'query',
    documentHash: 'a'.repeat(64),
    procedureId: 'bench-citizen-dossier',
    dossierId: null,
    subjects: [{ kind: 'personal', role: 'subject', hmac: (i % 5000).toString(16).padStart(64, '0') }],
    registries: ['population', 'enterprise', 'insurance', 'land'],
    fields: FIELDS,
    entities: { population: 2, enterprise: 1, insurance: 2, land: 1 },
    outcome: 'OK',
    errorCodes: [],
    httpStatus: 200,
    durationMs: 3,
    responseBytes: 900,
    prefill: null,
    ...(i % 3 ? { cache: 'hit' as const } : {}),
  };
}

function run(n: number): Promise<{ chain: number; append: number; roll: number }> {
  return withBenchStore('audit-cost', async (store) => {
    let prev: AuditRecord | null = null;
    let chainUs = 0;
    let appendUs = 0;
    let rollUs = 0;
    for (let i = 0, commits = 0; i < n; i += PER_COMMIT, commits++) {
      let t = cpuUs();
      const records: AuditRecord[] = [];
      for (let j = 0; j < PER_COMMIT; j++) {
        const before = records.at(-1) ?? prev;
        records.push(chainRecord('bench', i + j + 1, before ? before.hash : genesisHash('bench'), entry(i + j)));
      }
      chainUs += cpuUs() - t;
      t = cpuUs();
      await store.appendBatch('bench', prev ? { seq: prev.seq, hash: prev.hash } : null, records, []);
      appendUs += cpuUs() - t;
      prev = records.at(-1)!;
      if (commits % 40 === 39) {
        t = cpuUs();
        await store.rollUp();
        rollUs += cpuUs() - t;
      }
    }
    const t = cpuUs();
    await store.rollUp();
    rollUs += cpuUs() - t;
    return { chain: chainUs / 1000 / n, append: appendUs / 1000 / n, roll: rollUs / 1000 / n };
  });
}

await run(Math.min(2000, N));
const r = await run(N);
console.log(`${N} W1 records, ${PER_COMMIT} per commit, SQLite (writer thread, exclusive, synchronous=FULL); CPU ms per record:`);
console.log(`  chain ${r.chain.toFixed(3)}  append ${r.append.toFixed(3)}  roll ${r.roll.toFixed(3)}  total ${(r.chain + r.append + r.roll).toFixed(3)}`);
