/**
 * Whole stack: the two interconnected groups (birth, death) prefilled in ONE request each
 * through the gateway, for generated citizens whose sources hold the data (present), hold
 * nothing (absent), hold an expired or a revoked digitised result, and with the civil
 * registry down (fault injection): a component is cut once for the group, only on data
 * retrieved (results VALID), and the audit trail holds ONE record naming the group and its
 * procedures.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findCitizen, findCitizenWithResult, findDeceasedWithDeathNotice, findParentWithBirthNotice, indexWorld, type WorldIndex } from '../mocks/world/generate.js';
import type { CitizenRecord, World } from '../mocks/world/types.js';
import { startStack } from './support/stack.js';

type Stack = Awaited<ReturnType<typeof startStack>>;
let stack: Stack;
let world: World;
let ix: WorldIndex;

beforeAll(async () => {
  // The subgraphs' today is the world's asOf, so result statuses match the world's finders.
  stack = await startStack({ citizens: 3000, today: 'asOf' });
  world = stack.world;
  ix = indexWorld(world);
}, 120_000);
afterAll(async () => {
  await stack?.close();
});

const QUERY = `query PrefillGroup($groupId: ID!, $subject: SubjectInput!, $dossierId: String) {
  prefillGroup(groupId: $groupId, subject: $subject, dossierId: $dossierId) {
    group { id procedures { id } }
    forms { procedure { id } fields { key value registry unavailable } dossierComponents { code status reasonCode registry } summary { fieldsTotal componentsCut } }
    dossierComponents { code status reasonCode registry procedureIds provenance { registry number issuingAgency retrievedAt } }
    summary { forms fieldsShown fieldsTotal fieldsPrefilled fieldsForCitizen componentsTotal componentsCut hoursSaved }
  }
}`;

interface Component { code: string; status: string; reasonCode: string; registry: string | null; procedureIds: string[]; provenance: { registry: string; number: string | null; issuingAgency: string | null } | null }
interface Group {
  group: { id: string; procedures: Array<{ id: string }> };
  forms: Array<{ procedure: { id: string }; fields: Array<{ key: string; value: string | null }>; dossierComponents: Array<{ code: string; status: string; reasonCode: string }> }>;
  dossierComponents: Component[];
  summary: { forms: number; fieldsShown: number; fieldsTotal: number; fieldsPrefilled: number; componentsTotal: number; componentsCut: number };
}

async function group(groupId: string, subject: Record<string, string>, headers: Record<string, string> = {}): Promise<Group> {
  const res = await stack.query<{ prefillGroup: Group }>({ query: QUERY, variables: { groupId, subject, dossierId: 'H01.01-TEST-0001' } }, { headers });
  expect(res.body.errors, JSON.stringify(res.body.errors)).toBeUndefined();
  expect(res.status).toBe(200);
  return res.body.data!.prefillGroup;
}

const component = (g: Group, code: string) => {
  const c = g.dossierComponents.find((x) => x.code === code);
  expect(c, `component ${code} in ${g.dossierComponents.map((x) => x.code).join(', ')}`).toBeDefined();
  return c!;
};

/** Every form shows the group's decision for each of its components. */
function expectOneDecision(g: Group): void {
  for (const form of g.forms) {
    for (const c of form.dossierComponents) {
      const d = component(g, c.code);
      expect([c.status, c.reasonCode]).toEqual([d.status, d.reasonCode]);
      expect(d.procedureIds).toContain(form.procedure.id);
    }
  }
  expect(g.summary.componentsTotal).toBe(g.dossierComponents.length);
  expect(g.summary.componentsCut).toBe(g.dossierComponents.filter((c) => c.status === 'CUT').length);
}

/** A living relative (child, spouse) of a deceased citizen, so the relation check passes. */
function relativeOf(deceased: CitizenRecord): CitizenRecord {
  return findCitizen(world, (c) => !c.deceased && (c.fatherId === deceased.personalId || c.motherId === deceased.personalId || c.spouseId === deceased.personalId), `living relative of ${deceased.personalId}`);
}

describe('birth-registration-group', () => {
  it('present: the three forms in one request, the birth notice cut once by the health facility notice, shared values counted once', async () => {
    const mother = findParentWithBirthNotice(world);
    const g = await group('birth-registration-group', { personalId: mother.personalId });
    expect(g.group.procedures.map((p) => p.id)).toEqual(['birth-registration', 'child-permanent-residence-registration', 'child-health-insurance-card']);
    expect(g.forms).toHaveLength(3);
    expect(component(g, 'GIAY_CHUNG_SINH')).toMatchObject({ status: 'CUT', reasonCode: 'REPLACED_BY_DATA', registry: 'civil' });
    expectOneDecision(g);
    expect(g.summary.fieldsShown).toBeGreaterThan(g.summary.fieldsTotal);
    // The child's name from the notice: the same value in every form that shows it.
    const names = g.forms.flatMap((f) => f.fields.filter((x) => /hoTen.*Tre|TenTre|tenTre/i.test(x.key)).map((x) => x.value));
    expect(new Set(names.filter((v) => v !== null)).size).toBeLessThanOrEqual(1);
  });

  it('absent: without a birth notice nothing it would replace is cut (NOT_RECORDED), in every form', async () => {
    const none = findCitizen(world, (c, i) => !c.deceased && c.gender === 'FEMALE' && !(i.birthNoticesByParent.get(c.personalId)?.notices.length), 'woman without a birth notice');
    const g = await group('birth-registration-group', { personalId: none.personalId });
    expect(component(g, 'GIAY_CHUNG_SINH')).toMatchObject({ status: 'REQUIRED', reasonCode: 'NOT_RECORDED' });
    expectOneDecision(g);
  });

  it('marriage certificate from a digitised result: cut when VALID (number and issuing agency as provenance), required when EXPIRED or REVOKED (shown on marriage-registration)', async () => {
    const code = 'GIAY_CHUNG_NHAN_KET_HON';
    const valid = await group('birth-registration-group', { personalId: findCitizenWithResult(world, 'MARRIAGE_CERTIFICATE', 'VALID').personalId });
    const c = component(valid, code);
    expect(c).toMatchObject({ status: 'CUT', reasonCode: 'REPLACED_BY_RESULT', provenance: { registry: 'civil' } });
    expect(c.provenance!.number).toMatch(/\S/);
    expect(c.provenance!.issuingAgency).toMatch(/\S/);
    // The world never expires or revokes marriage certificates or death extracts (they do not
    // lapse), so EXPIRED and REVOKED are shown end to end on the marital status confirmation
    // of marriage-registration, decided by the same rule.
    for (const [status, reason] of [['VALID', 'REPLACED_BY_RESULT'], ['EXPIRED', 'RESULT_EXPIRED'], ['REVOKED', 'RESULT_REVOKED']] as const) {
      const holder = findCitizenWithResult(world, 'MARITAL_STATUS_CONFIRMATION', status);
      const res = await stack.query<{ prefill: { dossierComponents: Array<{ code: string; status: string; reasonCode: string; provenance: unknown }> } }>({
        query: `query($s: SubjectInput!) { prefill(procedureId: "marriage-registration", subject: $s) { dossierComponents { code status reasonCode provenance { number } } } }`,
        variables: { s: { personalId: holder.personalId } },
      });
      expect(res.body.errors, JSON.stringify(res.body.errors)).toBeUndefined();
      const c = res.body.data!.prefill.dossierComponents.find((x) => x.code === 'GIAY_XAC_NHAN_TINH_TRANG_HON_NHAN')!;
      expect(c).toMatchObject({ status: status === 'VALID' ? 'CUT' : 'REQUIRED', reasonCode: reason });
      expect(c.provenance === null).toBe(status !== 'VALID');
    }
  });

  it('driving-licence renewal: the licence held fills the form; the driver\'s health certificate is cut when VALID, required when EXPIRED or REVOKED', async () => {
    for (const [status, reason] of [['VALID', 'REPLACED_BY_RESULT'], ['EXPIRED', 'RESULT_EXPIRED'], ['REVOKED', 'RESULT_REVOKED']] as const) {
      const holder = findCitizenWithResult(world, 'DRIVER_HEALTH_CERTIFICATE', status);
      const licence = ix.digitisedResults.get(holder.personalId)!.results.filter((x) => x.kind === 'DRIVING_LICENCE').at(-1)!;
      const res = await stack.query<{ prefill: { fields: Array<{ key: string; value: string | null }>; dossierComponents: Array<{ code: string; status: string; reasonCode: string; provenance: { number: string } | null }> } }>({
        query: `query($s: SubjectInput!) { prefill(procedureId: "driving-licence-renewal", subject: $s) { fields { key value } dossierComponents { code status reasonCode provenance { number } } } }`,
        variables: { s: { personalId: holder.personalId } },
      });
      expect(res.body.errors, JSON.stringify(res.body.errors)).toBeUndefined();
      const value = (key: string) => res.body.data!.prefill.fields.find((f) => f.key === key)!.value;
      expect([value('gplxHang'), value('gplxSo'), value('gplxNoiCap')]).toEqual([licence.category, licence.number, licence.issuingAgency]);
      const c = res.body.data!.prefill.dossierComponents.find((x) => x.code === 'GIAY_KHAM_SUC_KHOE')!;
      expect(c).toMatchObject({ status: status === 'VALID' ? 'CUT' : 'REQUIRED', reasonCode: reason });
      expect(c.provenance === null).toBe(status !== 'VALID');
    }
  });

  it('the civil registry down: the form comes back, nothing the civil registry would replace is cut', async () => {
    const mother = findCitizen(world, (c, i) => c.gender === 'FEMALE' && !c.deceased && (i.birthNoticesByParent.get(c.personalId)?.notices.length ?? 0) > 0 && c.personalId !== findParentWithBirthNotice(world).personalId, 'another mother with a birth notice');
    stack.registries.setFaults('civil', { outage: true });
    try {
      const g = await group('birth-registration-group', { personalId: mother.personalId });
      expect(component(g, 'GIAY_CHUNG_SINH')).toMatchObject({ status: 'REQUIRED', reasonCode: 'REGISTRY_UNAVAILABLE' });
      for (const c of g.dossierComponents.filter((x) => x.registry === 'civil')) expect(c.status).toBe('REQUIRED');
      // Only what the civil registry holds is lost: the civil fields are nullable, so the outage
      // nulls them alone, and what the population registry replaces is still cut.
      expect(g.dossierComponents.some((c) => c.registry !== 'civil' && c.status === 'CUT')).toBe(true);
      expectOneDecision(g);
    } finally {
      stack.registries.setFaults('civil', { outage: false });
    }
  });
});

describe('death-registration-group', () => {
  it('present: the death notice and the death extract cut once for the group; ONE audit record names the group and its procedures', async () => {
    const deceased = findDeceasedWithDeathNotice(world);
    const relative = relativeOf(deceased);
    const requestId = `group-audit-${Date.now()}`;
    const g = await group('death-registration-group', { personalId: relative.personalId, relatedPersonalId: deceased.personalId }, { 'x-request-id': requestId });
    expect(g.forms.map((f) => f.procedure.id)).toEqual(['death-registration', 'permanent-residence-removal', 'funeral-allowance']);
    expect(component(g, 'GIAY_BAO_TU')).toMatchObject({ status: 'CUT', registry: 'civil' });
    // The death extract listed by two dossiers: one decision, counted once.
    const extract = g.dossierComponents.find((c) => c.procedureIds.length > 1);
    if (extract) expect(g.summary.componentsTotal).toBeLessThan(g.forms.reduce((n, f) => n + f.dossierComponents.length, 0));
    expectOneDecision(g);

    const auditor = stack.gateway.clients.demoCredentials().find((c) => c.roles.includes('auditor'))!;
    const res = await fetch(`${stack.gatewayUrl}/audit/v1/records?clientRequestId=${requestId}`, { headers: { authorization: `Bearer ${auditor.key}` } });
    const { items } = (await res.json()) as { items: Array<{ procedureId: string; prefill: { groupId?: string; procedureIds?: string[]; componentsCut: number; fieldsTotal: number } | null }> };
    expect(items).toHaveLength(1);
    expect(items[0]!.procedureId).toBe('death-registration-group');
    expect(items[0]!.prefill).toMatchObject({
      groupId: 'death-registration-group',
      procedureIds: ['death-registration', 'permanent-residence-removal', 'funeral-allowance'],
      componentsCut: g.summary.componentsCut,
      fieldsTotal: g.summary.fieldsTotal,
    });
  });

  it('a relative who is not related → FORBIDDEN, nothing of them returned', async () => {
    const deceased = findDeceasedWithDeathNotice(world);
    const stranger = findCitizen(world, (c) => !c.deceased && c.fatherId !== deceased.personalId && c.motherId !== deceased.personalId && c.spouseId !== deceased.personalId && c.personalId !== deceased.personalId, 'stranger');
    const res = await stack.query({ query: QUERY, variables: { groupId: 'death-registration-group', subject: { personalId: stranger.personalId, relatedPersonalId: deceased.personalId } } });
    expect(res.body.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN' });
    expect(res.body.data ?? null).toBeNull();
  });

  it('the civil registry down: no component the civil registry would replace is cut', async () => {
    const deceased = world.citizens.filter((c) => c.deceased && ix.deathNotices.has(c.personalId))[1] ?? findDeceasedWithDeathNotice(world);
    const relative = relativeOf(deceased);
    stack.registries.setFaults('civil', { outage: true });
    try {
      const g = await group('death-registration-group', { personalId: relative.personalId, relatedPersonalId: deceased.personalId });
      const civil = g.dossierComponents.filter((c) => c.registry === 'civil');
      expect(civil.length).toBeGreaterThan(0);
      for (const c of civil) expect(c).toMatchObject({ status: 'REQUIRED', reasonCode: 'REGISTRY_UNAVAILABLE' });
      expectOneDecision(g);
    } finally {
      stack.registries.setFaults('civil', { outage: false });
    }
  });
});

describe('purpose', () => {
  it('the catalog lists the groups; an unknown group is NOT_FOUND', async () => {
    const list = await stack.query<{ procedureGroups: Array<{ id: string; procedures: Array<{ id: string }> }> }>('{ procedureGroups { id procedures { id } } }');
    expect(list.body.data!.procedureGroups.map((g) => g.id)).toEqual(['birth-registration-group', 'death-registration-group']);
    const res = await stack.query({ query: QUERY, variables: { groupId: 'no-such-group', subject: { personalId: world.citizens[0]!.personalId } } });
    expect(res.body.errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND' });
  });
});
