/**
 * The generated-query invariant test of issue 10 ("How to prove it"): at least 10,000
 * valid operations generated from the gateway's API schema (seeded, reproducible), sent
 * over HTTP to the real gateway of the whole stack by TTHC clients bound to purposes
 * (with subject tokens where the client needs them), and three invariants checked on
 * every response against the mocked world, independently of the gateway's checks:
 *
 *  (a) no entity outside the allowed subjects,
 *  (b) no path outside the purpose's path tree,
 *  (c) every entity returned appears in the request's audit record.
 *
 * Replay: the run prints its seed. INVARIANT_SEED=<seed> replays the run,
 * INVARIANT_CASE=<index> runs only that case and prints it, INVARIANT_RUNS=<n> changes the
 * count (the default, 10,000, is the issue's minimum), INVARIANT_CONCURRENCY (default 8).
 */
import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse, type GraphQLSchema } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashApiKey } from '../gateway/auth/keys.js';
import { ProcedureService } from '../gateway/procedures/service.js';
import { checkResponse, type CheckContext, type Violation } from './invariant/check.js';
import { buildPools, caseSeeds, generateCase, type GenClient, type GeneratedCase } from './invariant/generate.js';
import { startStackProcess, type StackProcess } from './invariant/stack-process.js';
import { WorldOracle } from './invariant/world-oracle.js';
import { NO_DATA_ROOTS } from './invariant/catalog-roots.js';

const SEED = process.env.INVARIANT_SEED ? Number(process.env.INVARIANT_SEED) : Date.now() % 2_147_483_647;
const RUNS = Number(process.env.INVARIANT_RUNS ?? 10_000);
const ONLY = process.env.INVARIANT_CASE !== undefined ? Number(process.env.INVARIANT_CASE) : null;
const CONCURRENCY = Number(process.env.INVARIANT_CONCURRENCY ?? 8);
const HMAC_KEY = 'invariant-test-hmac-key-0123456789abcdef';

interface ClientDef {
  id: string;
  procedures: string[];
  requireSubjectToken: boolean;
  roles?: string[];
}

/** Purpose-bound clients: a judicial-record office (family paths), a land/enterprise office, and one without tokens. */
const CLIENTS: ClientDef[] = [
  { id: 'jrc', procedures: ['judicial-record-certificate'], requireSubjectToken: true },
  { id: 'land', procedures: ['land-use-right-transfer', 'enterprise-legal-representative-change', 'permanent-residence-registration'], requireSubjectToken: true },
  { id: 'open', procedures: ['judicial-record-certificate', 'death-residence-removal-funeral-allowance', 'passport-issuance'], requireSubjectToken: false },
];

let stack: StackProcess;
let catalog: ProcedureService;
let dir: string;
let keys: Record<string, string>;
let schema: GraphQLSchema;
let oracle: WorldOracle;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'motlan-invariant-'));
  keys = {};
  const entries = [...CLIENTS, { id: 'auditor', procedures: [], requireSubjectToken: false, roles: ['auditor'] }].map((c) => {
    const key = `invariant-${c.id}-${createHmac('sha256', dir).update(c.id).digest('hex').slice(0, 24)}`;
    keys[c.id] = key;
    return {
      id: c.id,
      agency: `Invariant agency ${c.id}`,
      name: `Invariant TTHC system ${c.id}`,
      procedures: c.procedures,
      permissions: [],
      requireSubjectToken: c.requireSubjectToken,
      roles: c.roles ?? ['client'],
      keys: [{ id: `${c.id}-1`, sha256: hashApiKey(key), createdAt: '2025-07-01T00:00:00Z' }],
    };
  });
  const clientsFile = path.join(dir, 'clients.json');
  writeFileSync(clientsFile, JSON.stringify({ clients: entries }));
  // The stack in its own process: the gateway and this test's generator and oracle each get a core.
  stack = await startStackProcess({
    citizens: 300,
    gateway: {
      clientsFile,
      demoClientsFile: false,
      watchSupergraph: false,
      audit: { dataDir: path.join(dir, 'audit'), hmacKey: HMAC_KEY },
      rateLimit: { ratePerSecond: 1_000_000, burst: 1_000_000, unknownLookups: 1_000_000, redisUrl: '' },
    },
  });
  schema = stack.apiSchema;
  oracle = new WorldOracle(stack.world);
  // The catalog as the gateway loads it (same files, same supergraph): path trees and subjects.
  catalog = new ProcedureService({ supergraphSdl: readFileSync(path.join(import.meta.dirname, '..', 'schema', 'supergraph.graphql'), 'utf8') });
}, 180_000);

afterAll(async () => {
  await stack?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Subjects worth attacking for each client: rich family, enterprises and parcels. */
function subjectsFor(c: ClientDef): string[] {
  const { index, world } = oracle;
  const alive = world.citizens.filter((x) => !x.deceased);
  if (c.id === 'land') {
    return alive.filter((x) => (index.rolesByPerson.get(x.personalId)?.roles.length ?? 0) > 0 || oracle.parcelsOf(x.personalId).size > 0).slice(0, 40).map((x) => x.personalId);
  }
  return alive
    .filter((x) => x.fatherId && x.motherId && index.citizens.has(x.fatherId) && (x.spouseId || x.childrenIds.length > 0))
    .slice(0, 40)
    .map((x) => x.personalId);
}

const hmac = (kind: string, id: string) => createHmac('sha256', Buffer.from(HMAC_KEY, 'utf8')).update(`${kind}:${id.trim()}`).digest('hex');
const KIND_OF: Record<string, string> = { Citizen: 'personal', Enterprise: 'enterprise', LandParcel: 'parcel' };

interface Outcome {
  c: GeneratedCase;
  status: number;
  requestId: string | null;
  answered: boolean;
  reason: string;
  violations: Violation[];
  entities: Set<string>;
  keyed: Set<string>;
  bare: Set<string>;
  mismatches: number;
  body: string;
}

describe('generated-query invariant (issue 10)', () => {
  it(`holds for ${ONLY !== null ? 'one replayed case' : `${RUNS} generated operations`} through the real gateway`, async () => {
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const stackCpu0 = await stack.cpuMs();
    const procedures = [...catalog.catalog.byId.keys()];
    const pathTree = (id: string) => catalog.pathTree(id);
    const pools = buildPools(oracle, procedures);
    const genClients: GenClient[] = CLIENTS.map((c) => ({ ...c, subjects: subjectsFor(c) }));
    for (const c of genClients) expect(c.subjects.length, `no subject in the world for client ${c.id}`).toBeGreaterThan(5);
    const seeds = caseSeeds(SEED, ONLY !== null ? ONLY + 1 : RUNS);
    const indices = ONLY !== null ? [ONLY] : seeds.map((_, i) => i);
    const generated = { discarded: 0 };
    const genOpts = { schema, pools, clients: genClients, pathTree };
    const cases: GeneratedCase[] = new Array(indices.length);
    const tGen = performance.now();
    let genMs = 0;
    console.info(`invariant: seed ${SEED} (replay with INVARIANT_SEED=${SEED}, one case with INVARIANT_CASE=<index>); ${indices.length} cases`);

    const tokens = new Map<string, Promise<string>>();
    const tokenFor = (t: NonNullable<GeneratedCase['token']>) => {
      const k = `${t.personalId}|${t.procedureId}`;
      let p = tokens.get(k);
      if (!p) tokens.set(k, (p = stack.issueToken(t.personalId, t.procedureId)));
      return p;
    };
    const clientOf = new Map(CLIENTS.map((c) => [c.id, c]));
    const subjectsOf = (id: string) => catalog.get(id)?.def.subjects ?? null;

    const run = async (c: GeneratedCase): Promise<Outcome> => {
      const client = clientOf.get(c.client)!;
      const headers: Record<string, string> = { authorization: `Bearer ${keys[c.client]}`, 'x-request-id': `inv-${SEED}-${c.index}` };
      if (c.purpose !== undefined) headers['x-purpose'] = c.purpose;
      if (c.token) headers['x-subject-token'] = await tokenFor(c.token);
      // One case in ten over GET (an accepted transport for queries), the rest as JSON POST.
      const get = c.index % 10 === 7;
      let res: Response;
      if (get) {
        const qs = new URLSearchParams({ query: c.query });
        if (c.variables) qs.set('variables', JSON.stringify(c.variables));
        if (c.operationName) qs.set('operationName', c.operationName);
        res = await fetch(`${stack.graphqlUrl}?${qs}`, { headers: { ...headers, 'apollo-require-preflight': 'true' } });
      } else {
        res = await fetch(stack.graphqlUrl, {
          method: 'POST',
          headers: { ...headers, 'content-type': 'application/json' },
          body: JSON.stringify({ query: c.query, variables: c.variables, operationName: c.operationName }),
        });
      }
      const text = await res.text();
      let body: { data?: Record<string, unknown> | null; errors?: Array<{ message: string; extensions?: Record<string, unknown> }> };
      try {
        body = JSON.parse(text);
      } catch {
        body = {};
      }
      const ctx: CheckContext = {
        schema,
        oracle,
        clientProcedures: client.procedures,
        requireSubjectToken: client.requireSubjectToken,
        purpose: c.purpose,
        token: c.token,
        pathTree,
        subjectsOf,
      };
      const checked = checkResponse(ctx, c.document ?? parse(c.query), c.operationName, c.variables, body.data);
      const answered = !!body.data && Object.entries(body.data).some(([k, v]) => v !== null && !NO_DATA_ROOTS.has(k));
      const e = body.errors?.[0];
      const reason = answered
        ? 'answered'
        : e
          ? [e.extensions?.['code'], /^[A-Z_]+$/.test(String(e.extensions?.['reason'] ?? '')) ? e.extensions?.['reason'] : null].filter(Boolean).join('/') || `HTTP ${res.status}`
          : body.data ? 'no registry data' : `HTTP ${res.status}`;
      return {
        c,
        status: res.status,
        requestId: res.headers.get('x-request-id'),
        answered,
        reason,
        violations: checked.violations,
        entities: checked.entities,
        keyed: checked.keyed,
        bare: checked.bare,
        mismatches: checked.oracleMismatches,
        body: text,
      };
    };

    // Cases are generated as the workers need them, so generation overlaps with the gateway's work.
    const outcomes: Outcome[] = new Array(indices.length);
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(CONCURRENCY, indices.length) }, async () => {
        while (next < indices.length) {
          const i = next++;
          const g0 = performance.now();
          const c = generateCase(genOpts, seeds[indices[i]!]!, indices[i]!, generated);
          genMs += performance.now() - g0;
          cases[i] = c;
          outcomes[i] = await run(c);
          c.document = null;
        }
      }),
    );
    const tRun = performance.now();
    const cpu1 = process.cpuUsage(cpu0);
    const stackCpu = (await stack.cpuMs()) - stackCpu0;

    // ── (c) the audit record of every answered request names every entity it carried ──
    const records = new Map<string, { subjects: Array<{ hmac: string }>; procedureId: string | null; outcome: string }>();
    for (const client of CLIENTS) {
      let cursor: string | null = null;
      do {
        const url = `${stack.gatewayUrl}/audit/v1/records?clientId=${client.id}&limit=500${cursor ? `&cursor=${cursor}` : ''}`;
        const res = await fetch(url, { headers: { authorization: `Bearer ${keys.auditor}` } });
        expect(res.status, await res.clone().text()).toBe(200);
        const page = (await res.json()) as { items: Array<{ requestId: string; subjects: Array<{ hmac: string }>; procedureId: string | null; outcome: string }>; nextCursor: string | null };
        for (const r of page.items) records.set(r.requestId, r);
        cursor = page.nextCursor;
      } while (cursor);
    }
    const audit = { answered: 0, recordMissing: 0, entities: 0, entitiesMissing: 0, keyedMissing: 0, pathOnlyMissing: 0, namedMissing: 0, bare: 0, bareMissing: 0, missingByType: new Map<string, number>(), prefillEntities: 0, prefillMissing: 0, example: '' };
    for (const o of outcomes) {
      const rec = records.get(o.requestId ?? '') ?? records.get(`inv-${SEED}-${o.c.index}`);
      if (!rec) {
        audit.recordMissing++;
        continue;
      }
      if (!o.answered) continue;
      audit.answered++;
      const have = new Set(rec.subjects.map((s) => s.hmac));
      for (const id of o.entities) {
        const prefill = id.startsWith('prefill|');
        const [type, key] = (prefill ? id.slice(8) : id).split(/:(.*)/s) as [string, string];
        const found = have.has(hmac(KIND_OF[type]!, key));
        if (prefill) {
          audit.prefillEntities++;
          if (!found) audit.prefillMissing++;
          continue;
        }
        if (o.bare.has(id)) {
          // Only its existence left (`{ __typename }`): reported, not required.
          audit.bare++;
          if (!found) audit.bareMissing++;
          continue;
        }
        audit.entities++;
        if (!found) {
          audit.entitiesMissing++;
          if (o.keyed.has(id)) audit.keyedMissing++;
          else audit.pathOnlyMissing++;
          if (o.c.query.includes(key)) audit.namedMissing++;
          audit.missingByType.set(type, (audit.missingByType.get(type) ?? 0) + 1);
          audit.example ||= `case ${o.c.index}: ${id} returned, not in record ${o.requestId}`;
        }
      }
    }

    // ── Figures ──
    const refused = new Map<string, number>();
    for (const o of outcomes) if (!o.answered) refused.set(o.reason, (refused.get(o.reason) ?? 0) + 1);
    const violating = outcomes.filter((o) => o.violations.length > 0);
    const classes = new Map<string, { count: number; example: Outcome; v: Violation }>();
    for (const o of violating) {
      for (const v of o.violations) {
        const k = `${v.kind} ${v.at.replace(/\[\d+\]/g, '[]')}`;
        const cls = classes.get(k);
        if (cls) cls.count++;
        else classes.set(k, { count: 1, example: o, v });
      }
    }
    const features = new Map<string, number>();
    for (const c of cases) for (const f of c.features) features.set(f, (features.get(f) ?? 0) + 1);
    const mismatches = outcomes.reduce((n, o) => n + o.mismatches, 0);
    const lines = [
      `invariant: seed ${SEED}; generated ${cases.length} (discarded ${generated.discarded} invalid candidates; generation ${Math.round(genMs)} ms); sent in ${Math.round(tRun - tGen)} ms at concurrency ${CONCURRENCY} (${Math.round((cases.length / (tRun - tGen)) * 1000)} req/s); total ${Math.round(performance.now() - t0)} ms`,
      `invariant: CPU during the run: test process ${Math.round((cpu1.user + cpu1.system) / 1000)} ms (generation ${Math.round(genMs)} ms wall), stack process ${stackCpu} ms`,
      `invariant: answered ${outcomes.filter((o) => o.answered).length}, refused ${outcomes.filter((o) => !o.answered).length}: ${[...refused].sort((a, b) => b[1] - a[1]).map(([r, n]) => `${r} ${n}`).join(', ')}`,
      `invariant: statuses ${JSON.stringify(Object.fromEntries(outcomes.reduce((m, o) => m.set(o.status, (m.get(o.status) ?? 0) + 1), new Map<number, number>())))}`,
      `invariant: VIOLATIONS ${violating.length} requests (entity ${violating.filter((o) => o.violations.some((v) => v.kind === 'entity')).length}, path ${violating.filter((o) => o.violations.some((v) => v.kind === 'path')).length}, prefill ${violating.filter((o) => o.violations.some((v) => v.kind === 'prefill')).length}, other ${violating.filter((o) => o.violations.some((v) => !['entity', 'path', 'prefill'].includes(v.kind))).length}); oracle mismatches ${mismatches}`,
      `invariant: audit (c): ${audit.answered} answered requests with a record, ${audit.recordMissing} requests without a record; entities ${audit.entities}, missing from the record ${audit.entitiesMissing} ${JSON.stringify(Object.fromEntries(audit.missingByType))} (key in the response ${audit.keyedMissing}, identified by path only ${audit.pathOnlyMissing}, named in the document ${audit.namedMissing}); bare objects (only __typename) ${audit.bare}, missing ${audit.bareMissing}; prefill form entities ${audit.prefillEntities}, missing ${audit.prefillMissing}${audit.example ? `; e.g. ${audit.example}` : ''}`,
      `invariant: features ${[...features].sort().map(([f, n]) => `${f}=${n}`).join(' ')}`,
    ];
    const odd = outcomes.filter((o) => o.status >= 500 || /INTERNAL_SERVER_ERROR|DOWNSTREAM_SERVICE_ERROR/.test(o.reason));
    if (odd.length) lines.push(`invariant: ${odd.length} server-side errors (a refusal must be a client code), e.g. case ${odd[0]!.c.index}: HTTP ${odd[0]!.status} ${odd[0]!.body.slice(0, 300)}`);
    for (const [k, { count, example, v }] of [...classes].sort((a, b) => b[1].count - a[1].count).slice(0, 40)) {
      lines.push(`  violation class "${k}" × ${count}: ${v.detail}`);
      lines.push(`    e.g. case ${example.c.index} client=${example.c.client} purpose=${example.c.purpose ?? '-'} token=${example.c.token ? `${example.c.token.personalId}/${example.c.token.procedureId}` : '-'} status=${example.status}`);
      lines.push(`    query=${example.c.query.replace(/\s+/g, ' ').slice(0, 400)} variables=${JSON.stringify(example.c.variables ?? null).slice(0, 200)} op=${example.c.operationName ?? '-'}`);
    }
    if (ONLY !== null) lines.push(`case ${ONLY}: ${JSON.stringify({ ...cases[0], document: undefined, features: [...cases[0]!.features] }, null, 1)}`, `response: ${outcomes[0]!.body.slice(0, 3000)}`, `violations: ${JSON.stringify(outcomes[0]!.violations, null, 1)}`);
    console.info(lines.join('\n'));
    if (process.env.INVARIANT_DUMP) {
      // Every violating case in full, for triage (INVARIANT_DUMP=<file>).
      writeFileSync(process.env.INVARIANT_DUMP, JSON.stringify(violating.map((o) => ({ ...o.c, document: undefined, features: [...o.c.features], status: o.status, violations: o.violations, body: o.body.slice(0, 4000) })), null, 1));
    }

    // The run must exercise both sides (no vacuous pass), then hold strictly.
    if (ONLY === null) {
      expect(cases.length).toBeGreaterThanOrEqual(Math.min(RUNS, 10_000));
      expect(outcomes.filter((o) => o.answered).length).toBeGreaterThan(cases.length / 20);
      expect(refused.size).toBeGreaterThan(3);
      for (const f of ['roots:several', 'root:citizens', 'root:prefill', 'alias:as-other-field', 'directive:variable', 'var:default-sent-null', 'var:default-absent', 'relation:Citizen.father', 'relation:Citizen.children', 'relation:Household.members', 'relation:LandParcel.holders', 'named-fragment:Citizen', 'inline-fragment:Citizen']) {
        expect(features.get(f) ?? 0, `feature ${f} generated too rarely`).toBeGreaterThan(20);
      }
    }
    expect(mismatches, 'the world oracle disagrees with the registries (fix the oracle before trusting the invariant)').toBe(0);
    expect(audit.recordMissing, 'requests without an audit record').toBe(0);
    expect(violating.length, 'requests that returned data outside the purpose (see the classes above)').toBe(0);
    expect(audit.entitiesMissing, 'entities returned but absent from the audit record').toBe(0);
  }, 1_200_000);
});
