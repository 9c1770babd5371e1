/**
 * Whole stack, table-driven over the catalog: every procedure file loads and compiles, and
 * every procedure (a new file is covered without touching this test) is prefilled for a
 * citizen whose data the sources hold (every value and every component checked against
 * the generated world), for one whose data they lack, and with each source it reads down
 * (nothing of that source filled, nothing cut on it).
 *
 * The catalog is data. A procedure file dropped into the extra folder
 * (PROCEDURES_DIR_EXTRA) is served and prefilled without code changes or a restart; an
 * invalid file is refused on reload (the previous catalog keeps serving) and stops a
 * gateway start with a message naming the file, the procedure and the bad path.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildGateway } from '../gateway/app.js';
import { findCitizen, indexWorld, isAdult, type WorldIndex } from '../mocks/world/generate.js';
import type { CitizenRecord, RegistryName, World } from '../mocks/world/types.js';
import { DEFAULT_CATALOG_DIR, loadCatalog } from '../gateway/procedures/catalog.js';
import type { CompiledProcedure } from '../gateway/procedures/compile.js';
import { resolvePath } from '../gateway/procedures/paths.js';
import { SUPERGRAPH_FILE } from '../scripts/compose.js';
import { ELIGIBILITY, measureYield } from '../scripts/yield.js';
import { QUIET_GATEWAY, startStack } from './support/stack.js';
import { ddMMyyyy, expectedForm, postPrefill, subjectOfRoots, type PrefillJson, type PrefillRoots } from './support/prefill-support.js';

type Stack = Awaited<ReturnType<typeof startStack>>;
let stack: Stack;
const extra = mkdtempSync(path.join(tmpdir(), 'motlan-extra-procedures-'));
const broken = mkdtempSync(path.join(tmpdir(), 'motlan-broken-procedures-'));

const NEW_PROCEDURE = `id: civil-status-confirmation
name: Cấp Giấy xác nhận tình trạng hôn nhân
agency: UBND cấp xã
subjects: [citizen]
fields:
  - { key: hoTen, label: 'Họ, chữ đệm và tên', source: citizen.fullName }
  - { key: ngaySinh, label: 'Ngày, tháng, năm sinh', source: citizen.dateOfBirth, format: date }
  - { key: mucDich, label: Mục đích sử dụng, citizen: true }
dossierComponents:
  - { code: GIAY_TO_TUY_THAN, name: Bản sao giấy tờ tùy thân, replacedBy: citizen.identityCard.number }
timeSaved: { formPages: 1 }
`;

async function graphql<T>(query: string): Promise<{ data?: T; errors?: Array<{ message: string }> }> {
  const res = await fetch(stack.graphqlUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${stack.demoKey}` },
    body: JSON.stringify({ query }),
  });
  return (await res.json()) as { data?: T; errors?: Array<{ message: string }> };
}

/** Polls until `check` passes (the catalog watcher debounces changes); bounded. */
async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

beforeAll(async () => {
  // Rate limits off: the table below sends a few hundred prefills from one client.
  stack = await startStack({ citizens: 1000, captureLog: 'warn', gateway: { env: { ...process.env, PROCEDURES_DIR_EXTRA: extra }, ...QUIET_GATEWAY } });
}, 120_000);
afterAll(async () => {
  await stack?.close();
  rmSync(extra, { recursive: true, force: true });
  rmSync(broken, { recursive: true, force: true });
});

describe('adding a procedure needs no code change', () => {
  it('a file dropped into PROCEDURES_DIR_EXTRA is served and prefilled', async () => {
    const before = await graphql<{ procedures: Array<{ id: string }> }>('{ procedures { id } }');
    expect(before.data!.procedures.map((p) => p.id)).not.toContain('civil-status-confirmation');

    writeFileSync(path.join(extra, 'civil-status-confirmation.yaml'), NEW_PROCEDURE);
    await eventually(async () => (await graphql<{ procedure: unknown }>('{ procedure(id: "civil-status-confirmation") { id } }')).data?.procedure != null, 'the new procedure');

    const citizen = findCitizen(stack.world, (c) => isAdult(stack.world, c) && !!c.identityCard, 'adult with an identity card');
    const { body } = await postPrefill(stack.graphqlUrl, stack.demoKey, 'civil-status-confirmation', { personalId: citizen.personalId });
    expect(body.errors).toBeUndefined();
    const form = body.data!.prefill;
    expect(form.fields.map((f) => [f.key, f.value])).toEqual([
      ['hoTen', citizen.fullName],
      ['ngaySinh', ddMMyyyy(citizen.dateOfBirth)],
      ['mucDich', null],
    ]);
    expect(form.dossierComponents[0]!.status).toBe('CUT');
  });

  it('an invalid file is refused on reload and the previous catalog keeps serving', async () => {
    const refused = () => stack.logLines.filter((l) => l.includes('Procedure catalog reload refused')).length;
    const refusedBefore = refused();
    writeFileSync(path.join(extra, 'zz-broken.yaml'), NEW_PROCEDURE.replace('civil-status-confirmation', 'broken-one').replace('citizen.fullName', 'citizen.fulName'));
    // The watcher tries (and refuses) the reload; then nothing has changed.
    await eventually(async () => refused() > refusedBefore, 'the refused reload');
    const after = await graphql<{ procedures: Array<{ id: string }> }>('{ procedures { id } }');
    const ids = after.data!.procedures.map((p) => p.id);
    expect(ids).toContain('civil-status-confirmation');
    expect(ids).not.toContain('broken-one');
    expect(ids).toContain('judicial-record-certificate');
  });
});

describe('an invalid catalog stops the gateway start', () => {
  it('with a message naming the file, the procedure and the bad path', async () => {
    writeFileSync(
      path.join(broken, 'bad-types.yaml'),
      NEW_PROCEDURE.replace('civil-status-confirmation', 'bad-types').replace('source: citizen.dateOfBirth, format: date', 'source: citizen.gender, format: date'),
    );
    const outcome = await buildGateway({ port: 0, logLevel: 'silent', watchSupergraph: false, env: { ...process.env, PROCEDURES_DIR_EXTRA: broken } }).then(
      async (gw) => {
        await gw.close();
        return new Error('the gateway started');
      },
      (err: Error) => err,
    );
    expect(outcome.message).toMatch(/bad-types\.yaml: procedure bad-types: fields\[1\] \(ngaySinh\): path citizen\.gender: format date needs a String \(ISO\) field, but the field is Gender/);
  });
});

// ------------------------------------------------------------------ the whole catalog, table-driven

const catalog = loadCatalog({ supergraphSdl: readFileSync(SUPERGRAPH_FILE, 'utf8'), dirs: [DEFAULT_CATALOG_DIR] });

/** Every registry a path reads through (root query included): down, the path cannot be answered. */
function registriesOf(p: CompiledProcedure, path: string): Set<string> {
  const out = new Set<string>();
  for (const coordinate of resolvePath(catalog.model, path).coordinates) {
    const [type, field] = coordinate.split('.') as [string, string];
    const graphs = catalog.model.graphsOf(type, field);
    // Keys and shared value types (Citizen.personalId, Address.*) resolve in several: the owner is the step before.
    if (graphs.length === 1) out.add(graphs[0]!);
  }
  return out;
}
const fieldPaths = (p: CompiledProcedure) => p.fields.filter((f) => f.def.source).map((f) => ({ key: f.def.key, path: f.def.source! }));
function componentPaths(c: CompiledProcedure['components'][number]): string[] {
  const def = c.def as typeof c.def & { replacedByResult?: string };
  return [
    ...(def.replacedBy === undefined ? [] : ([] as string[]).concat(def.replacedBy)),
    ...(def.when ?? []).map((w) => w.path),
    ...(def.replacedByResult ? [`${def.replacedByResult}.status`] : []),
  ];
}
function registriesOfProcedure(p: CompiledProcedure): string[] {
  const all = new Set<string>();
  for (const { path } of fieldPaths(p)) for (const r of registriesOf(p, path)) all.add(r);
  for (const c of p.components) for (const path of componentPaths(c)) for (const r of registriesOf(p, path)) all.add(r);
  return [...all].sort();
}

/** Subject records the procedure may be asked for, in world order (at most 400). */
function candidates(p: CompiledProcedure, world: World, ix: WorldIndex): PrefillRoots[] {
  const subjects = new Set(p.def.subjects);
  const living = (c: CitizenRecord | undefined): c is CitizenRecord => !!c && !c.deceased;
  const out: PrefillRoots[] = [];
  if (subjects.has('relatedCitizen')) {
    // A deceased family member and the living relative who files (the death procedures), else any relative.
    for (const d of [...world.citizens.filter((c) => c.deceased), ...world.citizens.filter((c) => !c.deceased)]) {
      const relative = [d.spouseId, ...d.childrenIds, d.fatherId, d.motherId].map((id) => (id ? ix.citizens.get(id) : undefined)).find(living);
      if (relative && relative.personalId !== d.personalId) out.push({ citizen: relative, relatedCitizen: d });
      if (out.length >= 400) break;
    }
  } else if (subjects.has('parcel')) {
    for (const parcel of world.parcels) {
      const h = parcel.holders.find((x) => x.kind === 'CITIZEN');
      const c = h && h.kind === 'CITIZEN' ? ix.citizens.get(h.personalId) : undefined;
      if (living(c)) out.push({ citizen: c, parcel });
      if (out.length >= 400) break;
    }
  } else if (subjects.has('enterprise')) {
    for (const enterprise of world.enterprises) {
      const rep = enterprise.legalRepresentatives.map((r) => ix.citizens.get(r.personalId)).find(living);
      if (rep) out.push({ citizen: rep, enterprise });
      if (out.length >= 400) break;
    }
  } else {
    const adult = (c: CitizenRecord) => living(c) && isAdult(world, c);
    const eligible = ELIGIBILITY[p.def.id] ?? adult;
    for (const c of world.citizens) {
      if (eligible(c, world, ix)) out.push({ citizen: c });
      if (out.length >= 400) break;
    }
    // A small world may hold nobody the procedure is about (e.g. no birth notice): then any adult.
    if (out.length === 0) out.push(...world.citizens.filter(adult).slice(0, 400).map((citizen) => ({ citizen })));
  }
  return out;
}

/** How much of the procedure the sources hold for these subjects (values held + components cut). */
function held(p: CompiledProcedure, world: World, roots: PrefillRoots): number {
  const e = expectedForm(world, p, roots);
  return [...e.fields.values()].filter((v) => v !== null).length + [...e.components.values()].filter((s) => s === 'CUT').length;
}

async function prefillRoots(id: string, roots: PrefillRoots): Promise<PrefillJson> {
  const { status, body } = await postPrefill(stack.graphqlUrl, stack.demoKey, id, subjectOfRoots(roots));
  expect(body.errors, JSON.stringify(body.errors)).toBeUndefined();
  expect(status).toBe(200);
  return body.data!.prefill;
}

/** Every value, registry and component of the form equals what the world implies. */
function expectMatchesWorld(p: CompiledProcedure, roots: PrefillRoots, form: PrefillJson): void {
  const expected = expectedForm(stack.world, p, roots);
  expect(form.fields.map((f) => f.key)).toEqual(p.fields.map((f) => f.def.key));
  for (const f of p.fields) {
    const got = form.fields.find((x) => x.key === f.def.key)!;
    if (!f.def.source) {
      expect(got, f.def.key).toMatchObject({ source: 'CITIZEN', value: null, registry: null });
      continue;
    }
    expect(got.value, f.def.key).toBe(expected.fields.get(f.def.key));
    // Provenance names the source of the path's last field, whether or not it holds a value.
    expect(got.registry, f.def.key).toBe(f.path!.registry);
    if (got.value === null) expect(got.unavailable, f.def.key).toBe('NOT_RECORDED');
  }
  for (const c of p.components) {
    const got = form.dossierComponents.find((x) => x.code === c.def.code)!;
    expect(got.status, `${c.def.code}: ${got.reason}`).toBe(expected.components.get(c.def.code));
    expect(got.reason).toBeTruthy();
  }
  expect(form.summary).toMatchObject({
    fieldsTotal: p.fields.length,
    fieldsPrefilled: form.fields.filter((f) => f.value !== null).length,
    componentsTotal: p.components.length,
    componentsCut: form.dossierComponents.filter((c) => c.status === 'CUT').length,
  });
}

describe('every procedure of the catalog', () => {
  it('every file loads and compiles against the supergraph (at least 25 procedures)', () => {
    expect(catalog.byId.size).toBeGreaterThanOrEqual(25);
    for (const p of catalog.byId.values()) {
      expect(p.operation.query, p.def.id).toContain(p.operation.operationName);
      expect((p.def as { nameEn?: string }).nameEn, `${p.def.id} has nameEn`).toBeTruthy();
      expect(p.def.legalBasis?.length, `${p.def.id} states its legal basis`).toBeGreaterThan(0);
    }
  });

  for (const p of catalog.byId.values()) {
    describe(p.def.id, () => {
      let ix: WorldIndex;
      let rich: PrefillRoots;
      let poor: PrefillRoots;
      beforeAll(() => {
        ix = indexWorld(stack.world);
        const list = candidates(p, stack.world, ix).map((roots) => ({ roots, held: held(p, stack.world, roots) }));
        expect(list.length, `no subject in the world for ${p.def.id}`).toBeGreaterThan(0);
        rich = list.reduce((a, b) => (b.held > a.held ? b : a)).roots;
        // A citizen-only procedure is also asked for people the sources know less about (no notice, no record).
        const others = p.citizenOnly ? stack.world.citizens.filter((c) => !c.deceased && isAdult(stack.world, c)).slice(0, 400).map((citizen) => ({ roots: { citizen }, held: held(p, stack.world, { citizen }) })) : [];
        poor = [...list, ...others].reduce((a, b) => (b.held < a.held ? b : a)).roots;
      });

      it('present: a subject whose data the sources hold gets every value and every cut the world implies', async () => {
        const form = await prefillRoots(p.def.id, rich);
        expectMatchesWorld(p, rich, form);
        expect(form.summary.fieldsPrefilled).toBeGreaterThan(0);
      });

      it('absent: a subject whose data the sources lack gets NOT_RECORDED and the papers REQUIRED', async () => {
        const form = await prefillRoots(p.def.id, poor);
        expectMatchesWorld(p, poor, form);
      });

      it('each source down: nothing of it filled, nothing cut on it, the rest as when it is up', async () => {
        const up = await prefillRoots(p.def.id, rich);
        const cutUp = new Set(up.dossierComponents.filter((c) => c.status === 'CUT').map((c) => c.code));
        for (const registry of registriesOfProcedure(p)) {
          stack.setFaults(registry as RegistryName, { outage: true });
          let form: PrefillJson;
          try {
            form = await prefillRoots(p.def.id, rich);
          } finally {
            stack.setFaults(registry as RegistryName, { outage: false });
          }
          for (const { key, path } of fieldPaths(p)) {
            const got = form.fields.find((f) => f.key === key)!;
            if (registriesOf(p, path).has(registry)) expect(got, `${registry} down: ${key}`).toMatchObject({ value: null, unavailable: 'REGISTRY_UNAVAILABLE' });
          }
          for (const c of p.components) {
            const got = form.dossierComponents.find((x) => x.code === c.def.code)!;
            if (got.status === 'CUT') expect(cutUp.has(c.def.code), `${registry} down: ${c.def.code} cut though it is not when up`).toBe(true);
            if (componentPaths(c).some((path) => registriesOf(p, path).has(registry))) {
              expect(got.status, `${registry} down: ${c.def.code} (${got.reason})`).toBe('REQUIRED');
              expect(got.reason).toBeTruthy();
            }
          }
        }
      });
    });
  }
});

describe('npm run yield', () => {
  it('measures every citizen-only procedure, and both groups end to end with the notices cut where they exist', async () => {
    const report = await measureYield(stack, { perProcedure: 2 });
    const citizenOnly = [...catalog.byId.values()].filter((p) => p.citizenOnly).map((p) => p.def.id).sort();
    // The stack also serves the file the first test dropped into the extra folder.
    expect(report.citizenOnly.map((y) => y.id)).toEqual(expect.arrayContaining(citizenOnly));
    for (const y of report.citizenOnly) {
      expect(y.failures, y.id).toBe(0);
      expect(y.fieldsPrefilled).toBeLessThanOrEqual(y.fieldsWithSource);
      expect(y.componentsCut).toBeLessThanOrEqual(y.componentsTotal);
    }
    expect(report.totals.fieldsTotal).toBe(report.citizenOnly.reduce((n, y) => n + y.fieldsTotal, 0));
    expect(report.groups.map((g) => g.id)).toEqual(['birth-registration-group', 'death-registration-group']);
    for (const g of report.groups) {
      expect(g.failures, g.id).toBe(0);
      expect(g.notice.exists, `${g.id}: the world holds notices`).toBeGreaterThan(0);
      expect(g.notice.cut, `${g.id}: ${g.notice.code} cut wherever the notice exists`).toBe(g.notice.exists);
    }
  });
});
