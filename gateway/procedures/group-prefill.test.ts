/**
 * Digitised results and interconnected groups without the stack: a scripted executor stands
 * in for the gateway pipeline. The guarantee that matters (a component is never CUT unless
 * its digitised result was retrieved with status VALID) is checked with fast-check over
 * arbitrary registry answers.
 */
import { mkdtempSync, mkdirSync, writeFileSync, copyFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { isEnumType } from 'graphql';
import { describe, expect, it } from 'vitest';
import { composeSupergraph } from '../../scripts/compose.js';
import { newTrace, type MotlanContext } from '../core/context.js';
import type { ExecutionError, ExecutionResult, InnerExecutor, InnerRequest } from '../core/inner-execution.js';
import { DEFAULT_CATALOG_DIR, loadCatalog } from './catalog.js';
import { CatalogError, type CompiledComponent } from './compile.js';
import { prefillGroup } from './group-prefill.js';
import { GROUP_JSON_SCHEMA_FILE, groupJsonSchemaText } from './json-schema.js';
import { ROOTS, type ResolvedPath } from './paths.js';
import { Retrieved, decideComponent } from './prefill.js';
import { readFileSync } from 'node:fs';

const composed = composeSupergraph();
if (composed.errors) throw new Error('schema/*.graphql do not compose');
const sdl = composed.supergraphSdl;
const catalog = loadCatalog({ supergraphSdl: sdl, dirs: [DEFAULT_CATALOG_DIR] });

const CITIZEN = '001085012345';
const RELATIVE = '001050054321';
const NOW = '2026-11-01T08:00:00.000Z';

function context(): MotlanContext {
  return { requestId: 'r1', receivedAt: 0, client: null, purpose: null, subject: {}, headers: {}, trace: newTrace() };
}

type Obj = Record<string, unknown>;

/** A response object holding a value at the end of every path (enums: their first value, status: VALID). */
function dataFor(paths: readonly ResolvedPath[]): Obj {
  const out: Obj = {};
  for (const p of paths) {
    let node = ((out[ROOTS[p.root].alias ?? ROOTS[p.root].queryField] as Obj | undefined) ??= {}) as Obj;
    p.selection.slice(0, -1).forEach((step) => (node = (node[step] ??= {}) as Obj));
    const leaf = p.selection[p.selection.length - 1]!;
    const t = p.leafType;
    node[leaf] = leaf === 'status' ? 'VALID' : leaf === 'revokedOn' ? null : isEnumType(t) ? t.getValues()[0]!.name : t.name === 'Int' || t.name === 'Float' ? 1 : t.name === 'Boolean' ? true : `v:${p.path}`;
  }
  return out;
}

/** Sets (or removes, with undefined) the value at `steps` of a response. */
function setAt(data: Obj, steps: string[], value: unknown): Obj {
  let node = data;
  for (const s of steps.slice(0, -1)) node = (node[s] ??= {}) as Obj;
  node[steps[steps.length - 1]!] = value;
  return data;
}

function scripted(answer: (req: InnerRequest) => ExecutionResult): InnerExecutor & { calls: InnerRequest[] } {
  const calls: InnerRequest[] = [];
  const exec = (async (req: InnerRequest) => {
    calls.push(req);
    if (req.operationName === 'MotlanSubjectRelations') {
      return { data: { subjectCitizen: { personalId: CITIZEN, father: { personalId: RELATIVE }, mother: null, spouse: null, children: [], household: null } } };
    }
    return answer(req);
  }) as unknown as InnerExecutor & { calls: InnerRequest[] };
  exec.calls = calls;
  return exec;
}

const runGroup = (exec: InnerExecutor, groupId: string, subject: { personalId: string; relatedPersonalId?: string }, ctx = context()) =>
  prefillGroup({ catalog, execute: exec, now: () => new Date(NOW) }, { groupId, subject, dossierId: 'H01.01-250701-0001' }, ctx);

const birth = catalog.groups.get('birth-registration-group')!;
const death = catalog.groups.get('death-registration-group')!;

describe('digitised results (replacedByResult)', () => {
  const withResult = [...catalog.byId.values()].flatMap((p) => p.components.filter((c) => c.result).map((c) => ({ p, c })));
  it('the shipped catalog uses them', () => {
    expect(withResult.length).toBeGreaterThan(0);
    expect(catalog.byId.get('permanent-residence-removal')!.operation.query).toMatch(/deathExtract \{[^}]*status[^}]*\}/s);
  });

  const statusArb = fc.oneof(fc.constantFrom('VALID', 'EXPIRED', 'REVOKED', 'valid', 'VALID ', ''), fc.string(), fc.constant(null), fc.constant(undefined), fc.integer());
  const textArb = fc.oneof(fc.string(), fc.constant(null), fc.constant(undefined), fc.constant(''), fc.integer());
  const resultArb = fc.oneof(
    // Mostly well-formed answers near the boundary (VALID with number and agency), so the CUT branch is reached.
    { arbitrary: fc.record({ status: fc.constantFrom('VALID', 'EXPIRED', 'REVOKED', 'valid', 'VALID '), number: fc.string({ minLength: 1 }), issuingAgency: fc.string({ minLength: 1 }), revokedOn: fc.constantFrom(null, '2026-01-02') }), weight: 6 },
    fc.constant(null),
    fc.constant(undefined),
    fc.record({ status: statusArb, number: textArb, issuingAgency: textArb, revokedOn: fc.oneof(fc.constant(null), fc.constant(undefined), fc.string()) }, { requiredKeys: [] }),
    fc.array(fc.record({ status: statusArb, number: textArb, issuingAgency: textArb })),
  );
  const errorArb: fc.Arbitrary<ExecutionError> = fc.record({
    message: fc.constant('failed'),
    extensions: fc.oneof(fc.constant(undefined), fc.record({ code: fc.constant('REGISTRY_UNAVAILABLE'), registry: fc.constantFrom('civil', 'population', 'insurance') })),
    path: fc.oneof(fc.constant(undefined), fc.constantFrom<ReadonlyArray<string | number>>(['citizen'], ['relatedCitizen', 'digitisedResults'], ['citizen', 'fullName'])),
  }, { requiredKeys: ['message'] }) as fc.Arbitrary<ExecutionError>;

  it('a component is never CUT unless its result was retrieved with status VALID, whatever the registry answers', () => {
    const { c } = withResult.find((x) => x.c.replacedBy.length === 0)!;
    const r = c.result!;
    let cuts = 0;
    const roots = new Set(['citizen', 'relatedCitizen'] as const);
    fc.assert(
      fc.property(resultArb, fc.oneof({ arbitrary: fc.constant([] as ExecutionError[]), weight: 3 }, fc.array(errorArb, { minLength: 1, maxLength: 2 })), fc.oneof({ arbitrary: fc.constant(true), weight: 4 }, fc.constant(false)), (result, errors, rootOk) => {
        const data = setAt({}, [ROOTS[r.status.root].alias ?? 'citizen', ...r.status.selection.slice(0, -1)], result);
        const got = new Retrieved({ data, errors: errors.length ? errors : undefined }, rootOk ? roots : new Set());
        const d = decideComponent(c, got, NOW);
        const retrieved = result && !Array.isArray(result) ? (result as Obj) : null;
        if (d.status === 'CUT') {
          cuts++;
          expect(rootOk).toBe(true);
          expect(retrieved?.status).toBe('VALID');
          expect(retrieved?.revokedOn ?? null).toBeNull();
          expect(d.reasonCode).toBe('REPLACED_BY_RESULT');
          expect(d.provenance).toMatchObject({ number: retrieved!.number, issuingAgency: retrieved!.issuingAgency, registry: 'civil', retrievedAt: NOW });
          expect(typeof d.provenance!.number).toBe('string');
        }
        if (d.status === 'REQUIRED') {
          expect(d.provenance).toBeNull();
          expect(['NOT_RECORDED', 'REGISTRY_UNAVAILABLE', 'RESULT_EXPIRED', 'RESULT_REVOKED', 'RESULT_NOT_VALID', 'CONDITION_NOT_MET']).toContain(d.reasonCode);
        }
        // Whatever the answer, a failure touching the result never cuts (fail-safe).
        if (errors.some((e) => e.extensions?.['registry'] === 'civil')) expect(d.status).toBe('REQUIRED');
      }),
      { numRuns: 400 },
    );
    // The generator reaches the CUT branch (the property is not vacuous).
    expect(cuts).toBeGreaterThan(0);
  });

  it('VALID with number and agency cuts, with them as provenance; EXPIRED, REVOKED, absent and down give their reasons', () => {
    const c = catalog.byId.get('permanent-residence-removal')!.components.find((x) => x.result)! as CompiledComponent;
    const roots = new Set(['citizen', 'relatedCitizen'] as const);
    const decide = (result: unknown, errors?: ExecutionError[]) =>
      decideComponent(c, new Retrieved({ data: { relatedCitizen: { digitisedResults: { deathExtract: result } } }, errors }, roots), NOW);
    const valid = { status: 'VALID', number: '123/TLKT', issuingAgency: 'UBND phường Hoàn Kiếm', revokedOn: null };
    expect(decide(valid)).toMatchObject({ status: 'CUT', reasonCode: 'REPLACED_BY_RESULT', provenance: { number: '123/TLKT', issuingAgency: 'UBND phường Hoàn Kiếm', registry: 'civil' } });
    expect(decide({ ...valid, status: 'EXPIRED' })).toMatchObject({ status: 'REQUIRED', reasonCode: 'RESULT_EXPIRED' });
    expect(decide({ ...valid, status: 'REVOKED', revokedOn: '2026-01-01' })).toMatchObject({ status: 'REQUIRED', reasonCode: 'RESULT_REVOKED' });
    expect(decide({ ...valid, revokedOn: '2026-01-01' })).toMatchObject({ status: 'REQUIRED', reasonCode: 'RESULT_REVOKED' });
    expect(decide(null)).toMatchObject({ status: 'REQUIRED', reasonCode: 'NOT_RECORDED' });
    expect(decide({ ...valid, number: null })).toMatchObject({ status: 'REQUIRED', reasonCode: 'NOT_RECORDED' });
    expect(decide(null, [{ message: 'down', path: ['relatedCitizen', 'digitisedResults'], extensions: { code: 'REGISTRY_UNAVAILABLE', registry: 'civil' } }])).toMatchObject({
      status: 'REQUIRED',
      reasonCode: 'REGISTRY_UNAVAILABLE',
    });
  });
});

describe('interconnected groups', () => {
  it('loads both groups with their procedures in order; the group subjects are the union', () => {
    expect(birth.procedures.map((p) => p.def.id)).toEqual(['birth-registration', 'child-permanent-residence-registration', 'child-health-insurance-card']);
    expect(death.procedures.map((p) => p.def.id)).toEqual(['death-registration', 'permanent-residence-removal', 'funeral-allowance']);
    expect(birth.subjects).toEqual(['citizen']);
    expect(death.subjects).toEqual(['citizen', 'relatedCitizen']);
    // The group's tree is the union of its procedures' (a purpose of its own).
    for (const p of death.procedures) for (const root of p.pathTree.children.keys()) expect(death.pathTree.children.has(root)).toBe(true);
  });

  it('one request, ONE data fetch for the three forms; a shared value filled once and counted once; the birth notice cut once', async () => {
    const exec = scripted(() => ({ data: dataFor(birth.procedures.flatMap((p) => p.paths)) }));
    const ctx = context();
    const g = await runGroup(exec, 'birth-registration-group', { personalId: CITIZEN }, ctx);
    expect(exec.calls.map((c) => c.operationName)).toEqual(['GroupPrefillBirthRegistrationGroup']);
    expect(ctx.purpose).toEqual({ procedureId: 'birth-registration-group', dossierId: 'H01.01-250701-0001' });
    expect(g.forms.map((f) => f.procedure.def.id)).toEqual(birth.procedures.map((p) => p.def.id));
    // citizen.fullName appears in several forms with one value; the summary counts it once.
    const shown = g.forms.flatMap((f, i) => f.fields.filter((_, j) => birth.procedures[i]!.fields[j]!.path?.path === 'citizen.fullName'));
    expect(shown.length).toBeGreaterThan(1);
    expect(new Set(shown.map((f) => f.value)).size).toBe(1);
    const distinct = new Set(birth.procedures.flatMap((p) => p.fields.map((f) => (f.path ? `path:${f.path.path}` : `citizen:${f.def.key}`))));
    expect(g.summary.fieldsTotal).toBe(distinct.size);
    expect(g.summary.fieldsShown).toBe(g.forms.reduce((n, f) => n + f.fields.length, 0));
    expect(g.summary.fieldsShown).toBeGreaterThan(g.summary.fieldsTotal);
    // Components once by code; the birth notice cut by the health facility's notice.
    const codes = new Set(birth.procedures.flatMap((p) => p.components.map((c) => c.def.code)));
    expect(g.summary.componentsTotal).toBe(codes.size);
    const notice = g.dossierComponents.find((c) => c.code === 'GIAY_CHUNG_SINH')!;
    expect(notice).toMatchObject({ status: 'CUT', reasonCode: 'REPLACED_BY_DATA', registry: 'civil' });
    expect(g.summary.componentsCut).toBe(g.dossierComponents.filter((c) => c.status === 'CUT').length);
  });

  it('the same code in several forms gets one decision, fail-safe: REQUIRED in every form when one definition does not cut', async () => {
    // Birth notice absent: every component it replaces stays REQUIRED NOT_RECORDED, in every form.
    const data = setAt(dataFor(birth.procedures.flatMap((p) => p.paths)), ['citizen', 'latestBirthNotice'], null);
    const g = await runGroup(scripted(() => ({ data })), 'birth-registration-group', { personalId: CITIZEN });
    for (const form of g.forms) {
      for (const c of form.dossierComponents) {
        const group = g.dossierComponents.find((x) => x.code === c.code)!;
        expect(c.status).toBe(group.status);
        expect(c.reasonCode).toBe(group.reasonCode);
      }
    }
    const byNotice = g.dossierComponents.filter((c) => birth.procedures.some((p) => p.components.some((x) => x.def.code === c.code && x.replacedBy.some((r) => r.path.startsWith('citizen.latestBirthNotice')))));
    expect(byNotice.length).toBeGreaterThan(0);
    for (const c of byNotice) expect(c).toMatchObject({ status: 'REQUIRED', reasonCode: 'NOT_RECORDED' });
  });

  it('the civil registry down: nothing it would replace is cut, the rest is filled', async () => {
    const data = dataFor(death.procedures.flatMap((p) => p.paths));
    const rel = data['relatedCitizen'] as Obj;
    delete rel['digitisedResults'];
    delete rel['deathNotice'];
    const exec = scripted(() => ({ data, errors: [{ message: 'down', path: ['relatedCitizen', 'deathNotice'], extensions: { code: 'REGISTRY_UNAVAILABLE', registry: 'civil' } }] }));
    const ctx = context();
    const g = await runGroup(exec, 'death-registration-group', { personalId: CITIZEN, relatedPersonalId: RELATIVE }, ctx);
    expect(exec.calls.map((c) => c.operationName)).toEqual(['MotlanSubjectRelations', 'GroupPrefillDeathRegistrationGroup']);
    const civil = g.dossierComponents.filter((c) => c.registry === 'civil');
    expect(civil.length).toBeGreaterThan(0);
    for (const c of civil) expect(c).toMatchObject({ status: 'REQUIRED', reasonCode: 'REGISTRY_UNAVAILABLE', provenance: null });
    expect(g.summary.fieldsPrefilled).toBeGreaterThan(0);
  });

  it('subjects are those of the union: the death group needs the relative, the birth group refuses one', async () => {
    const exec = scripted(() => ({ data: {} }));
    await expect(runGroup(exec, 'death-registration-group', { personalId: CITIZEN })).rejects.toMatchObject({ message: expect.stringContaining('needs subject.relatedPersonalId') });
    await expect(runGroup(exec, 'birth-registration-group', { personalId: CITIZEN, relatedPersonalId: RELATIVE })).rejects.toMatchObject({
      message: expect.stringContaining('does not take subject.relatedPersonalId'),
    });
    await expect(runGroup(exec, 'no-such-group', { personalId: CITIZEN })).rejects.toMatchObject({ extensions: { code: 'NOT_FOUND' } });
    expect(exec.calls).toHaveLength(0);
  });
});

describe('group files', () => {
  const withGroup = (text: string, name = 'g.yaml') => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'motlan-groups-'));
    copyFileSync(path.join(DEFAULT_CATALOG_DIR, 'lodging-notification.yaml'), path.join(dir, 'lodging-notification.yaml'));
    copyFileSync(path.join(DEFAULT_CATALOG_DIR, 'passport-issuance.yaml'), path.join(dir, 'passport-issuance.yaml'));
    mkdirSync(path.join(dir, 'groups'));
    writeFileSync(path.join(dir, 'groups', name), text);
    return () => loadCatalog({ supergraphSdl: sdl, dirs: [dir] });
  };
  const problems = (load: () => unknown): string => {
    try {
      load();
    } catch (err) {
      if (err instanceof CatalogError) return err.message;
      throw err;
    }
    throw new Error('the catalog loaded');
  };

  it('a group naming an unknown procedure fails the load with the file and the id', () => {
    const msg = problems(withGroup('id: g1\nname: Nhóm\nnameEn: Group\nlegalBasis: [x]\nprocedures: [lodging-notification, no-such-procedure]\n'));
    expect(msg).toMatch(/g\.yaml: procedure g1: procedures\[1\]: unknown procedure no-such-procedure/);
  });
  it('format errors, a group id that is a procedure id, a procedure listed twice', () => {
    expect(problems(withGroup('id: g1\nname: Nhóm\nprocedures: [lodging-notification]\n'))).toMatch(/nameEn/);
    expect(problems(withGroup('id: lodging-notification\nname: N\nnameEn: G\nlegalBasis: [x]\nprocedures: [lodging-notification, passport-issuance]\n'))).toMatch(
      /group id lodging-notification is also a procedure id/,
    );
    expect(problems(withGroup('id: g2\nname: N\nnameEn: G\nlegalBasis: [x]\nprocedures: [passport-issuance, passport-issuance]\n'))).toMatch(/listed twice/);
  });
  it('a valid group compiles into one operation over the union of its procedures', () => {
    const c = withGroup('id: g3\nname: N\nnameEn: G\nlegalBasis: [x]\nprocedures: [lodging-notification, passport-issuance]\n')();
    const g = c.groups.get('g3')!;
    expect(g.operation.operationName).toBe('GroupPrefillG3');
    for (const p of g.procedures) for (const leaf of p.paths) expect(g.operation.query).toContain(leaf.selection[leaf.selection.length - 1]!);
  });
  it('ships a group JSON Schema that is up to date', () => {
    expect(readFileSync(GROUP_JSON_SCHEMA_FILE, 'utf8')).toBe(groupJsonSchemaText());
  });
});
