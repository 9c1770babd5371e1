/**
 * Whole stack: every shipped procedure prefilled for generated citizens through the
 * gateway, checked field by field against the registry data (an independent oracle reads
 * the generated world), with provenance and the components cut; unrelated subjects
 * refused with nothing of them returned; registries down → fields unavailable and
 * components required, the form still returned.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ageOf,
  findCitizen,
  findCitizenWithoutLand,
  hasEnterpriseRole,
  indexWorld,
  isAdult,
  isMortgaged,
  type WorldIndex,
} from '../mocks/world/generate.js';
import type { CitizenRecord, EnterpriseRecord, LandParcelRecord, World } from '../mocks/world/types.js';
import { DEFAULT_CATALOG_DIR, loadCatalog } from '../gateway/procedures/catalog.js';
import { SUPERGRAPH_FILE } from '../scripts/compose.js';
import { startStack } from './support/stack.js';
import { ddMMyyyy, displayValues, holdsCondition, postPrefill, subjectOfRoots, worldValues, type PrefillJson, type PrefillRoots } from './support/prefill-support.js';

type Stack = Awaited<ReturnType<typeof startStack>>;
let stack: Stack;
let world: World;
let ix: WorldIndex;
const startedAt = new Date().toISOString();
const catalog = loadCatalog({ supergraphSdl: readFileSync(SUPERGRAPH_FILE, 'utf8'), dirs: [DEFAULT_CATALOG_DIR] });

beforeAll(async () => {
  stack = await startStack({ citizens: 3000 });
  world = stack.world;
  ix = indexWorld(world);
}, 120_000);
afterAll(async () => {
  await stack?.close();
});

type Roots = PrefillRoots;
const subjectOf = subjectOfRoots;

async function prefillOk(procedureId: string, roots: Roots): Promise<PrefillJson> {
  const { status, body } = await postPrefill(stack.graphqlUrl, stack.demoKey, procedureId, subjectOf(roots));
  expect(body.errors, JSON.stringify(body.errors)).toBeUndefined();
  expect(status).toBe(200);
  return body.data!.prefill;
}

function checkAgainstWorld(procedureId: string, roots: Roots, form: PrefillJson): void {
  const p = catalog.byId.get(procedureId)!;
  expect(form.procedure.id).toBe(procedureId);
  expect(form.fields.map((f) => f.key)).toEqual(p.fields.map((f) => f.def.key));
  for (const spec of p.fields) {
    const got = form.fields.find((f) => f.key === spec.def.key)!;
    expect(got.label).toBe(spec.def.label);
    if (!spec.path) {
      expect(got, spec.def.key).toMatchObject({ source: 'CITIZEN', value: null, registry: null, unavailable: null });
      continue;
    }
    const { values, registry } = worldValues(world, roots, spec.def.source!);
    expect(got.source).toBe('REGISTRY');
    expect(got.registry, spec.def.key).toBe(registry);
    if (values.length > 0) {
      expect(got.value, spec.def.key).toBe(displayValues(values, spec.format, spec.def.labels));
      expect(got.unavailable).toBeNull();
      expect(got.retrievedAt! >= startedAt && got.retrievedAt! <= new Date().toISOString()).toBe(true);
    } else if (spec.def.ifAbsent !== undefined) {
      expect(got.value, spec.def.key).toBe(spec.def.ifAbsent);
    } else {
      expect(got, spec.def.key).toMatchObject({ value: null, unavailable: 'NOT_RECORDED' });
    }
  }
  for (const c of p.components) {
    const got = form.dossierComponents.find((x) => x.code === c.def.code)!;
    const paths = c.def.replacedBy === undefined ? [] : ([] as string[]).concat(c.def.replacedBy);
    const present = paths.length > 0 && paths.every((path) => worldValues(world, roots, path).values.length > 0);
    const conditionsHold = (c.def.when ?? []).every((w) => {
      const vs = worldValues(world, roots, w.path).values;
      return vs.length > 0 && vs.every((v) => holdsCondition(v, w));
    });
    expect(got.status, `${c.def.code}: ${got.reason}`).toBe(present && conditionsHold ? 'CUT' : 'REQUIRED');
    expect(got.reason).toBeTruthy();
  }
  const prefilled = form.fields.filter((f) => f.value !== null).length;
  expect(form.summary).toMatchObject({
    fieldsTotal: p.fields.length,
    fieldsPrefilled: prefilled,
    fieldsForCitizen: p.fields.length - prefilled,
    componentsTotal: p.components.length,
    componentsCut: form.dossierComponents.filter((c) => c.status === 'CUT').length,
  });
  expect(form.summary.hoursSaved).toBeGreaterThan(0);
}

const status = (form: PrefillJson, code: string) => form.dossierComponents.find((c) => c.code === code)!.status;
const field = (form: PrefillJson, key: string) => form.fields.find((f) => f.key === key)!;

/** A living adult with both parents and an identity card recorded. */
const withParents = (skip = 0) =>
  findCitizens((c) => isAdult(world, c) && !!c.fatherId && !!c.motherId && !!c.identityCard)[skip]!;
function findCitizens(pred: (c: CitizenRecord) => boolean): CitizenRecord[] {
  return world.citizens.filter(pred);
}
function citizenHolder(pred: (p: LandParcelRecord) => boolean): { citizen: CitizenRecord; parcel: LandParcelRecord } {
  for (const p of world.parcels) {
    const h = p.holders.find((x) => x.kind === 'CITIZEN');
    if (h && h.kind === 'CITIZEN' && pred(p)) {
      const citizen = ix.citizens.get(h.personalId)!;
      if (!citizen.deceased) return { citizen, parcel: p };
    }
  }
  throw new Error('no parcel held by a living citizen matches');
}
function legalRepOf(status: EnterpriseRecord['status']): { citizen: CitizenRecord; enterprise: EnterpriseRecord } {
  for (const e of world.enterprises.filter((x) => x.status === status)) {
    const rep = e.legalRepresentatives.map((r) => ix.citizens.get(r.personalId)).find((c) => c && !c.deceased);
    if (rep) return { citizen: rep, enterprise: e };
  }
  throw new Error(`no living legal representative of an enterprise with status ${status}`);
}

describe('every shipped procedure, prefilled for generated citizens', () => {
  it('lodging-notification leaves exactly the reason, the period and the address of the stay', async () => {
    const citizen = findCitizen(world, (c) => isAdult(world, c) && !!c.permanentResidence, 'adult');
    const form = await prefillOk('lodging-notification', { citizen });
    checkAgainstWorld('lodging-notification', { citizen }, form);
    expect(form.fields.filter((f) => f.value === null).map((f) => f.label)).toEqual([
      'Lý do lưu trú',
      'Thời gian lưu trú (từ ngày … đến ngày …)',
      'Địa chỉ lưu trú',
    ]);
    expect(field(form, 'hoTen').value).toBe(citizen.fullName);
    expect(field(form, 'ngaySinh').value).toBe(ddMMyyyy(citizen.dateOfBirth));
  });

  it('judicial-record-certificate leaves at most 6 of its 23 fields to the citizen and cuts both copies', async () => {
    const citizen = withParents();
    const form = await prefillOk('judicial-record-certificate', { citizen });
    checkAgainstWorld('judicial-record-certificate', { citizen }, form);
    expect(form.summary.fieldsTotal).toBe(23);
    expect(form.summary.fieldsForCitizen).toBeLessThanOrEqual(6);
    expect(form.summary.componentsCut).toBe(2);
    expect(field(form, 'hoTenCha').value).toBe(ix.citizens.get(citizen.fatherId!)!.fullName);
  });

  it('permanent-residence-registration: the address and the proof of lawful residence come from the land registry', async () => {
    const { citizen, parcel } = citizenHolder((p) => p.certificate !== null);
    const form = await prefillOk('permanent-residence-registration', { citizen, parcel });
    checkAgainstWorld('permanent-residence-registration', { citizen, parcel }, form);
    expect(status(form, 'GIAY_TO_CHO_O_HOP_PHAP')).toBe('CUT');
    expect(field(form, 'diaChiDangKy').registry).toBe('land');
  });

  it('birth-residence-child-health-insurance: the other parent is the recorded spouse', async () => {
    const citizen = findCitizen(world, (c) => isAdult(world, c) && c.spouseId !== null && !!c.identityCard && c.householdId !== null, 'married adult');
    const form = await prefillOk('birth-residence-child-health-insurance', { citizen });
    checkAgainstWorld('birth-residence-child-health-insurance', { citizen }, form);
    expect(field(form, 'hoTenChaMeConLai').value).toBe(ix.citizens.get(citizen.spouseId!)!.fullName);
    expect(status(form, 'GIAY_CHUNG_NHAN_KET_HON')).toBe('CUT');
    // The health facility's birth notice replaces the paper only when the civil-status database holds one.
    expect(status(form, 'GIAY_CHUNG_SINH')).toBe((ix.birthNoticesByParent.get(citizen.personalId)?.notices.length ?? 0) > 0 ? 'CUT' : 'REQUIRED');
  });

  it('death-residence-removal-funeral-allowance: a relative files for the deceased', async () => {
    const deceased = findCitizen(
      world,
      (c, x) => c.deceased && (x.socialInsurance.get(c.personalId)?.totalContributionMonths ?? 0) >= 12 && [c.spouseId, ...c.childrenIds].some((id) => id && !x.citizens.get(id)?.deceased),
      'deceased insured citizen with a living spouse or child',
    );
    const relative = [deceased.spouseId, ...deceased.childrenIds].map((id) => (id ? ix.citizens.get(id) : undefined)).find((c) => c && !c.deceased)!;
    const roots = { citizen: relative, relatedCitizen: deceased };
    const form = await prefillOk('death-residence-removal-funeral-allowance', roots);
    checkAgainstWorld('death-residence-removal-funeral-allowance', roots, form);
    expect(field(form, 'maSoBhxhNguoiChet')).toMatchObject({ registry: 'insurance', value: ix.socialInsurance.get(deceased.personalId)!.socialInsuranceNumber });
    expect(status(form, 'SO_BHXH_NGUOI_CHET')).toBe('CUT');
  });

  it('passport-issuance: parents, spouse and employer from three registries', async () => {
    const citizen = findCitizens(
      (c) => isAdult(world, c) && !!c.fatherId && !!c.motherId && !!c.identityCard &&
        !!ix.socialInsurance.get(c.personalId)?.periods.some((p) => p.to === null && p.employerCode),
    )[0] ?? withParents(1);
    const form = await prefillOk('passport-issuance', { citizen });
    checkAgainstWorld('passport-issuance', { citizen }, form);
    expect(status(form, 'XAC_NHAN_CONG_AN_XA')).toBe('CUT');
  });

  it('social-insurance-lump-sum: the insurance book is cut only for a paused participation', async () => {
    for (const [wanted, expected] of [['PAUSED', 'CUT'], ['PARTICIPATING', 'REQUIRED']] as const) {
      const si = world.socialInsurance.find((s) => s.status === wanted && isAdult(world, ix.citizens.get(s.personalId)!) && ix.citizens.get(s.personalId)!.identityCard)!;
      const citizen = ix.citizens.get(si.personalId)!;
      const form = await prefillOk('social-insurance-lump-sum', { citizen });
      checkAgainstWorld('social-insurance-lump-sum', { citizen }, form);
      expect(field(form, 'maSoBhxh').value).toBe(si.socialInsuranceNumber);
      expect(status(form, 'SO_BHXH')).toBe(expected);
    }
  });

  it('enterprise-legal-representative-change: the registration copy is cut only for an active enterprise', async () => {
    const active = legalRepOf('ACTIVE');
    const form = await prefillOk('enterprise-legal-representative-change', active);
    checkAgainstWorld('enterprise-legal-representative-change', active, form);
    expect(status(form, 'BAN_SAO_GCN_DKDN')).toBe('CUT');
    expect(field(form, 'tenDoanhNghiep').value).toBe(active.enterprise.name);
    const inactive = (['SUSPENDED', 'DISSOLVING', 'DISSOLVED', 'REVOKED'] as const)
      .map((s) => { try { return legalRepOf(s); } catch { return null; } })
      .find((x) => x !== null)!;
    const form2 = await prefillOk('enterprise-legal-representative-change', inactive);
    checkAgainstWorld('enterprise-legal-representative-change', inactive, form2);
    expect(status(form2, 'BAN_SAO_GCN_DKDN')).toBe('REQUIRED');
    expect(form2.dossierComponents.find((c) => c.code === 'BAN_SAO_GCN_DKDN')!.reason).toContain('enterprise.status == ACTIVE');
  });

  it('land-use-right-transfer: parcel and certificate from the land registry; the mortgage release is cut only without a mortgage', async () => {
    const free = citizenHolder((p) => p.certificate !== null && !isMortgaged(p));
    const form = await prefillOk('land-use-right-transfer', free);
    checkAgainstWorld('land-use-right-transfer', free, form);
    expect(field(form, 'soPhatHanhGcn').value).toBe(free.parcel.certificate!.serial);
    expect(status(form, 'VAN_BAN_XOA_THE_CHAP')).toBe('CUT');
    const mortgaged = citizenHolder((p) => isMortgaged(p));
    const form2 = await prefillOk('land-use-right-transfer', mortgaged);
    checkAgainstWorld('land-use-right-transfer', mortgaged, form2);
    expect(status(form2, 'VAN_BAN_XOA_THE_CHAP')).toBe('REQUIRED');
  });

  it('land-use-right-transfer: a legal representative acts for the enterprise that holds the parcel', async () => {
    for (const parcel of world.parcels) {
      const h = parcel.holders.find((x) => x.kind === 'ENTERPRISE');
      if (!h || h.kind !== 'ENTERPRISE') continue;
      const rep = ix.enterprises.get(h.enterpriseCode)!.legalRepresentatives.map((r) => ix.citizens.get(r.personalId)!).find((c) => !c.deceased);
      if (!rep) continue;
      const form = await prefillOk('land-use-right-transfer', { citizen: rep, parcel });
      expect(field(form, 'diaChiThuaDat').value).toBe(worldValues(world, { parcel }, 'parcel.address').values[0]);
      return;
    }
    throw new Error('no enterprise parcel with a living legal representative in the world');
  });

  it('exam-registration: residence and commune code for the priority area', async () => {
    const citizen = findCitizen(world, (c) => !c.deceased && ageOf(world, c) >= 17 && ageOf(world, c) <= 19 && !!c.identityCard, 'student of 17-19');
    const form = await prefillOk('exam-registration', { citizen });
    checkAgainstWorld('exam-registration', { citizen }, form);
    expect(field(form, 'maXaThuongTru').value).toBe(citizen.permanentResidence!.communeCode);
    expect(status(form, 'GIAY_TO_CHUNG_MINH_THUONG_TRU')).toBe('CUT');
  });
});

describe('unrelated subjects are refused, and nothing of them is returned', () => {
  it('an enterprise the citizen has no role in', async () => {
    const citizen = findCitizen(world, (c, x) => isAdult(world, c) && !hasEnterpriseRole(x, c), 'adult without an enterprise role');
    const enterprise = world.enterprises.find((e) => e.status === 'ACTIVE')!;
    const { status, body, text } = await postPrefill(stack.graphqlUrl, stack.demoKey, 'enterprise-legal-representative-change', {
      personalId: citizen.personalId,
      enterpriseCode: enterprise.enterpriseCode,
    });
    expect(body.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
    // A refusal is one for HTTP too (clients, balancers' error rates), like the policy's.
    expect(status).toBe(403);
    // One reason for unknown and unrelated subjects alike (no existence oracle).
    expect(body.errors?.[0]?.extensions?.['reason']).toBe('SUBJECT_NOT_RELATED');
    expect(body.data ?? null).toBeNull();
    expect(text).not.toContain(enterprise.name);
  });

  it('a parcel held by someone else', async () => {
    const citizen = findCitizenWithoutLand(world);
    const parcel = world.parcels.find((p) => p.certificate && p.holders.every((h) => h.kind === 'CITIZEN'))!;
    const { status, body, text } = await postPrefill(stack.graphqlUrl, stack.demoKey, 'land-use-right-transfer', { personalId: citizen.personalId, parcelId: parcel.parcelId });
    expect(body.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
    expect(status).toBe(403);
    expect(text).not.toContain(parcel.certificate!.serial);
    expect(text).not.toContain(citizen.fullName);
  });

  it('a person who is not a recorded family member', async () => {
    const citizen = withParents();
    const family = new Set([citizen.fatherId, citizen.motherId, citizen.spouseId, ...citizen.childrenIds]);
    const household = citizen.householdId ? ix.households.get(citizen.householdId)!.members.map((m) => m.personalId) : [];
    const stranger = findCitizen(world, (c) => c.deceased && !family.has(c.personalId) && !household.includes(c.personalId) && c.personalId !== citizen.personalId, 'stranger');
    const { status, body, text } = await postPrefill(stack.graphqlUrl, stack.demoKey, 'death-residence-removal-funeral-allowance', {
      personalId: citizen.personalId,
      relatedPersonalId: stranger.personalId,
    });
    expect(body.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
    expect(status).toBe(403);
    expect(text).not.toContain(stranger.fullName);
  });

  it('unknown citizen → NOT_FOUND, malformed id → BAD_USER_INPUT, unknown procedure → NOT_FOUND', async () => {
    const taken = new Set(world.citizens.map((c) => c.personalId));
    let unknown = '001190999999';
    while (taken.has(unknown)) unknown = String(Number(unknown) - 1).padStart(12, '0');
    const a = await postPrefill(stack.graphqlUrl, stack.demoKey, 'lodging-notification', { personalId: unknown });
    expect(a.body.errors?.[0]?.extensions?.['code']).toBe('NOT_FOUND');
    expect(a.status).toBe(404);
    const b = await postPrefill(stack.graphqlUrl, stack.demoKey, 'lodging-notification', { personalId: '0011909' });
    expect(b.body.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
    expect(b.body.errors?.[0]?.message).toContain('12 digits');
    expect(b.status).toBe(400);
    const c = await postPrefill(stack.graphqlUrl, stack.demoKey, 'no-such-procedure', { personalId: world.citizens[0]!.personalId });
    expect(c.body.errors?.[0]?.extensions?.['code']).toBe('NOT_FOUND');
    expect(c.status).toBe(404);
  });

  it('a superfluous subject → 400 BAD_USER_INPUT, with no data', async () => {
    const [citizen, other] = findCitizens((c) => isAdult(world, c)).slice(3, 5);
    const { status, body } = await postPrefill(stack.graphqlUrl, stack.demoKey, 'lodging-notification', { personalId: citizen!.personalId, relatedPersonalId: other!.personalId });
    expect(body.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
    expect(body.data ?? null).toBeNull();
    expect(status).toBe(400);
  });
});

describe('audit', () => {
  it('a prefill is ONE audit record holding the registries and fields its inner operations read', async () => {
    const si = world.socialInsurance.filter((s) => s.status === 'PAUSED' && isAdult(world, ix.citizens.get(s.personalId)!))[2]!;
    const requestId = `prefill-audit-${Date.now()}`;
    const res = await fetch(stack.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${stack.demoKey}`, 'x-request-id': requestId },
      body: JSON.stringify({
        // No summary selected: the record still carries the prefill's counts (statistics need them).
        query: 'query P($s: SubjectInput!) { prefill(procedureId: "social-insurance-lump-sum", subject: $s, dossierId: "H01-AUDIT-1") { fields { key } } }',
        variables: { s: { personalId: si.personalId } },
      }),
    });
    expect(res.status).toBe(200);
    const fieldCount = ((await res.json()) as { data: { prefill: { fields: unknown[] } } }).data.prefill.fields.length;
    const auditor = stack.gateway.clients.demoCredentials().find((c) => c.roles.includes('auditor'))!;
    const audit = await fetch(`${stack.gatewayUrl}/audit/v1/records?clientRequestId=${requestId}`, { headers: { authorization: `Bearer ${auditor.key}` } });
    const { items } = (await audit.json()) as { items: Array<{ procedureId: string; dossierId: string; registries: string[]; fields: string[]; outcome: string; prefill: { fieldsTotal: number; fieldsPrefilled: number } | null }> };
    expect(items).toHaveLength(1);
    expect(items[0]!.prefill?.fieldsTotal).toBe(fieldCount);
    expect(items[0]!.prefill?.fieldsPrefilled).toBeGreaterThan(0);
    expect(items[0]).toMatchObject({ procedureId: 'social-insurance-lump-sum', dossierId: 'H01-AUDIT-1', outcome: 'OK' });
    expect(items[0]!.registries).toEqual(expect.arrayContaining(['population', 'insurance']));
    expect(items[0]!.fields).toEqual(expect.arrayContaining(['SocialInsurance.socialInsuranceNumber', 'Citizen.fullName']));
    expect(JSON.stringify(items[0])).not.toContain(si.socialInsuranceNumber);
  });
});

describe('a registry that is down', () => {
  it('insurance down: its fields REGISTRY_UNAVAILABLE, the insurance book REQUIRED with the reason, the rest filled', async () => {
    // A citizen no other test uses, so no cached answer can hide the outage.
    const si = world.socialInsurance.filter((s) => s.status === 'PAUSED' && isAdult(world, ix.citizens.get(s.personalId)!))[1]!;
    const citizen = ix.citizens.get(si.personalId)!;
    stack.registries.setFaults('insurance', { outage: true });
    try {
      const form = await prefillOk('social-insurance-lump-sum', { citizen });
      expect(field(form, 'maSoBhxh')).toMatchObject({ value: null, unavailable: 'REGISTRY_UNAVAILABLE', registry: 'insurance' });
      expect(field(form, 'tongThoiGianDong').unavailable).toBe('REGISTRY_UNAVAILABLE');
      expect(field(form, 'hoTen').value).toBe(citizen.fullName);
      const book = form.dossierComponents.find((c) => c.code === 'SO_BHXH')!;
      expect(book.status).toBe('REQUIRED');
      expect(book.reason).toContain('unavailable');
    } finally {
      stack.registries.setFaults('insurance', { outage: false });
    }
  });

  it('land down: the parcel cannot be checked, so it is not fetched; the citizen part is still filled', async () => {
    const { citizen, parcel } = citizenHolder((p) => p.certificate !== null && p !== world.parcels[0]);
    stack.registries.setFaults('land', { outage: true });
    try {
      const form = await prefillOk('permanent-residence-registration', { citizen, parcel });
      expect(field(form, 'diaChiDangKy')).toMatchObject({ value: null, unavailable: 'REGISTRY_UNAVAILABLE', registry: 'land' });
      expect(field(form, 'hoTen').value).toBe(citizen.fullName);
      expect(status(form, 'GIAY_TO_CHO_O_HOP_PHAP')).toBe('REQUIRED');
      expect(form.summary.componentsCut).toBe(0);
    } finally {
      stack.registries.setFaults('land', { outage: false });
    }
  });

  it('population down: every registry field unavailable, the form still comes back', async () => {
    const citizen = findCitizens((c) => isAdult(world, c))[7]!;
    stack.registries.setFaults('population', { outage: true });
    try {
      const form = await prefillOk('lodging-notification', { citizen });
      for (const f of form.fields.filter((x) => x.source === 'REGISTRY')) expect(f.unavailable).toBe('REGISTRY_UNAVAILABLE');
      expect(form.summary.fieldsPrefilled).toBe(0);
      expect(form.summary.fieldsForCitizen).toBe(9);
    } finally {
      stack.registries.setFaults('population', { outage: false });
    }
  });
});
