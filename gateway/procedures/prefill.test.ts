/**
 * prefill without the stack: a scripted executor stands in for the gateway pipeline, so
 * relation checks, provenance, fail-safe component decisions and the summary are checked
 * on known data.
 */
import { describe, expect, it } from 'vitest';
import { composeSupergraph } from '../../scripts/compose.js';
import { newTrace, type MotlanContext } from '../core/context.js';
import { DEFAULT_CATALOG_DIR, loadCatalog } from './catalog.js';
import { isInternalExecution, type ExecutionResult, type InnerExecutor, type InnerRequest } from '../core/inner-execution.js';
import { formatDate } from './format.js';
import { hoursSaved } from './hours.js';
import { prefill, type PrefillArgs } from './prefill.js';
import { valuesAt } from './paths.js';
import { SUBJECT_NOT_RELATED_MESSAGE, evaluateRelations } from '../core/relations.js';

const composed = composeSupergraph();
if (composed.errors) throw new Error('schema/*.graphql do not compose');
const catalog = loadCatalog({ supergraphSdl: composed.supergraphSdl, dirs: [DEFAULT_CATALOG_DIR] });

const CITIZEN = '001085012345';
const WIFE = '001187054321';
const STRANGER = '079090000001';
const ENTERPRISE = '0100109106'; // valid check digit
const PARCEL = '00004-12-345';

function context(): MotlanContext {
  return { requestId: 'r1', receivedAt: 0, client: null, purpose: null, subject: {}, headers: {}, trace: newTrace() };
}

interface Script {
  relations?: (req: InnerRequest) => ExecutionResult;
  data?: (req: InnerRequest) => ExecutionResult;
}

/** An executor answering the relation query and the prefill operation from a script; it records the calls. */
function scripted(script: Script): InnerExecutor & { calls: Array<{ req: InnerRequest; ctx: MotlanContext }> } {
  const calls: Array<{ req: InnerRequest; ctx: MotlanContext }> = [];
  const exec = (async (req: InnerRequest, ctx: MotlanContext) => {
    calls.push({ req, ctx });
    if (req.operationName === 'MotlanSubjectRelations') {
      return script.relations?.(req) ?? { data: { subjectCitizen: { personalId: CITIZEN } } };
    }
    if (!script.data) throw new Error(`unexpected operation ${req.operationName}`);
    return script.data(req);
  }) as InnerExecutor & { calls: typeof calls };
  exec.calls = calls;
  return exec;
}

const person = {
  fullName: 'Nguyễn Văn An',
  personalId: CITIZEN,
  dateOfBirth: '1985-03-07',
  gender: 'MALE',
  nationality: 'Việt Nam',
  placeOfBirth: 'Hà Nội',
  ethnicity: 'Kinh',
  permanentResidence: { fullAddress: 'Số 5 ngõ 10 Hàng Bạc, Phường Hoàn Kiếm, Thành phố Hà Nội' },
};

const run = (exec: InnerExecutor, args: PrefillArgs, ctx = context()) =>
  prefill({ catalog, execute: exec, now: () => new Date('2026-11-01T08:00:00Z') }, args, ctx);

describe('prefill arguments', () => {
  const exec = scripted({});
  it('unknown procedure → NOT_FOUND', async () => {
    await expect(run(exec, { procedureId: 'no-such-thing', subject: { personalId: CITIZEN } })).rejects.toMatchObject({
      extensions: { code: 'NOT_FOUND' },
    });
  });
  it('malformed identifiers → BAD_USER_INPUT naming the format', async () => {
    await expect(run(exec, { procedureId: 'lodging-notification', subject: { personalId: '12345' } })).rejects.toMatchObject({
      message: expect.stringContaining('12 digits'),
      extensions: { code: 'BAD_USER_INPUT' },
    });
    await expect(
      run(exec, { procedureId: 'enterprise-legal-representative-change', subject: { personalId: CITIZEN, enterpriseCode: '0100109107' } }),
    ).rejects.toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
  });
  it('a missing or superfluous subject → BAD_USER_INPUT, before any data is fetched', async () => {
    await expect(run(exec, { procedureId: 'land-use-right-transfer', subject: { personalId: CITIZEN } })).rejects.toMatchObject({
      message: expect.stringContaining('needs subject.parcelId'),
    });
    await expect(run(exec, { procedureId: 'lodging-notification', subject: { personalId: CITIZEN, parcelId: PARCEL } })).rejects.toMatchObject({
      message: expect.stringContaining('does not take subject.parcelId'),
    });
    expect(exec.calls).toHaveLength(0);
  });
});

describe('relations', () => {
  it('unknown citizen with a related subject → the same refusal as an unrelated one (no oracle), before any data of a related subject is fetched', async () => {
    const exec = scripted({ relations: () => ({ data: { subjectCitizen: null } }) });
    await expect(
      run(exec, { procedureId: 'death-residence-removal-funeral-allowance', subject: { personalId: CITIZEN, relatedPersonalId: WIFE } }),
    ).rejects.toMatchObject({ message: SUBJECT_NOT_RELATED_MESSAGE, extensions: { code: 'FORBIDDEN', reason: 'SUBJECT_NOT_RELATED' } });
    expect(exec.calls.map((c) => c.req.operationName)).toEqual(['MotlanSubjectRelations']);
  });

  it('a procedure about the citizen alone runs ONE operation, which is also the existence check', async () => {
    const unknown = scripted({ data: () => ({ data: { citizen: null } }) });
    await expect(run(unknown, { procedureId: 'lodging-notification', subject: { personalId: CITIZEN } })).rejects.toMatchObject({
      extensions: { code: 'NOT_FOUND' },
    });
    expect(unknown.calls.map((c) => c.req.operationName)).toEqual(['PrefillLodgingNotification']);
    // The population registry down: the citizen cannot be checked, so nothing is used and nothing cut.
    const down = scripted({
      data: () => ({ data: { citizen: null }, errors: [{ message: 'down', path: ['citizen'], extensions: { code: 'REGISTRY_UNAVAILABLE', registry: 'population' } }] }),
    });
    const form = await run(down, { procedureId: 'social-insurance-lump-sum', subject: { personalId: CITIZEN } });
    for (const f of form.fields.filter((x) => x.source === 'REGISTRY')) expect(f).toMatchObject({ value: null, unavailable: 'REGISTRY_UNAVAILABLE', retrievedAt: null });
    expect(form.dossierComponents.every((c) => c.status === 'REQUIRED')).toBe(true);
    expect(form.summary.fieldsPrefilled).toBe(0);
    // A whole fetch failed (no data at all) is the registry being down too, not an unknown citizen.
    const noData = scripted({ data: () => ({ data: null, errors: [{ message: 'down', extensions: { code: 'REGISTRY_UNAVAILABLE' } }] }) });
    const blank = await run(noData, { procedureId: 'lodging-notification', subject: { personalId: CITIZEN } });
    expect(blank.summary.fieldsPrefilled).toBe(0);
  });

  it('an unrelated relative, enterprise or parcel → FORBIDDEN SUBJECT_NOT_RELATED (one message, whatever the cause), and the data operation never runs', async () => {
    const exec = scripted({
      relations: () => ({
        data: {
          subjectCitizen: { personalId: CITIZEN, father: null, mother: null, spouse: { personalId: WIFE }, children: [], household: null },
          subjectEnterprises: { enterprises: [{ role: 'MEMBER', enterprise: { enterpriseCode: ENTERPRISE, landParcels: [{ parcelId: PARCEL }] } }] },
          subjectParcels: { landParcels: [] },
        },
      }),
    });
    await expect(
      run(exec, { procedureId: 'death-residence-removal-funeral-allowance', subject: { personalId: CITIZEN, relatedPersonalId: STRANGER } }),
    ).rejects.toMatchObject({ message: SUBJECT_NOT_RELATED_MESSAGE, extensions: { code: 'FORBIDDEN', reason: 'SUBJECT_NOT_RELATED' } });
    // A member (not the legal representative) does not act for the enterprise's parcels.
    await expect(run(exec, { procedureId: 'land-use-right-transfer', subject: { personalId: CITIZEN, parcelId: PARCEL } })).rejects.toMatchObject({
      message: SUBJECT_NOT_RELATED_MESSAGE,
      extensions: { code: 'FORBIDDEN', reason: 'SUBJECT_NOT_RELATED' },
    });
    expect(exec.calls.every((c) => c.req.operationName === 'MotlanSubjectRelations')).toBe(true);
  });

  it('evaluateRelations: spouse, household member and the enterprise a citizen represents are related', () => {
    const data = {
      subjectCitizen: {
        personalId: CITIZEN,
        spouse: { personalId: WIFE },
        children: [],
        household: { members: [{ citizen: { personalId: CITIZEN } }, { citizen: { personalId: '001200000009' } }] },
      },
      subjectEnterprises: { enterprises: [{ role: 'LEGAL_REPRESENTATIVE', enterprise: { enterpriseCode: ENTERPRISE, landParcels: [{ parcelId: PARCEL }] } }] },
      subjectParcels: { landParcels: [] },
    };
    const v = (s: object) => evaluateRelations({ personalId: CITIZEN, ...s }, { data }).verdicts[0]!.status;
    expect(v({ relatedPersonalId: WIFE })).toBe('related');
    expect(v({ relatedPersonalId: '001200000009' })).toBe('related');
    expect(v({ relatedPersonalId: STRANGER })).toBe('unrelated');
    expect(v({ enterpriseCode: ENTERPRISE })).toBe('related');
    expect(v({ enterpriseCode: '0101243150' })).toBe('unrelated');
    expect(v({ parcelId: PARCEL })).toBe('related');
    // The land registry down: the link cannot be checked (never assumed).
    const down = evaluateRelations(
      { personalId: CITIZEN, parcelId: '00004-1-1' },
      { data: { ...data, subjectParcels: null }, errors: [{ message: 'down', path: ['subjectParcels', 'landParcels'], extensions: { code: 'REGISTRY_UNAVAILABLE', registry: 'land' } }] },
    );
    expect(down.verdicts[0]!.status).toBe('unverifiable');
  });
});

describe('the prefilled form', () => {
  it('fills from the registry with provenance, leaves the citizen fields, runs inside the caller context', async () => {
    const exec = scripted({ data: () => ({ data: { citizen: person } }) });
    const ctx = context();
    const form = await run(exec, { procedureId: 'lodging-notification', subject: { personalId: CITIZEN }, dossierId: 'H01-1' }, ctx);
    const byKey = Object.fromEntries(form.fields.map((f) => [f.key, f]));
    expect(byKey['hoTen']).toMatchObject({ value: person.fullName, source: 'REGISTRY', registry: 'population', retrievedAt: '2026-11-01T08:00:00.000Z' });
    expect(byKey['ngaySinh']!.value).toBe(formatDate(person.dateOfBirth));
    expect(byKey['ngaySinh']!.value).toBe('07/03/1985');
    expect(byKey['gioiTinh']!.value).toBe('Nam');
    expect(byKey['noiThuongTru']!.value).toBe(person.permanentResidence.fullAddress);
    expect(byKey['lyDoLuuTru']).toMatchObject({ value: null, source: 'CITIZEN', registry: null });
    expect(form.summary).toMatchObject({ fieldsTotal: 9, fieldsPrefilled: 6, fieldsForCitizen: 3 });
    // Inner executions carry the purpose and subject, and point back at the request.
    expect(exec.calls).toHaveLength(1);
    const inner = exec.calls[0]!.ctx;
    expect(isInternalExecution(inner) && inner.internalOf).toBe(ctx);
    expect(inner.trace).toBe(ctx.trace);
    expect(inner.purpose).toEqual({ procedureId: 'lodging-notification', dossierId: 'H01-1' });
    expect(ctx.purpose).toEqual({ procedureId: 'lodging-notification', dossierId: 'H01-1' });
    expect(exec.calls[0]!.req.variables).toEqual({ personalId: CITIZEN });
  });

  it('a registry that is down: its fields REGISTRY_UNAVAILABLE, its components REQUIRED with the reason, the form still comes back', async () => {
    const exec = scripted({
      data: () => ({
        data: { citizen: { ...person, socialInsurance: null, identityCard: { number: CITIZEN } } },
        errors: [{ message: 'The insurance registry is unavailable', path: ['citizen', 'socialInsurance'], extensions: { code: 'REGISTRY_UNAVAILABLE', registry: 'insurance' } }],
      }),
    });
    const form = await run(exec, { procedureId: 'social-insurance-lump-sum', subject: { personalId: CITIZEN } });
    const byKey = Object.fromEntries(form.fields.map((f) => [f.key, f]));
    expect(byKey['maSoBhxh']).toMatchObject({ value: null, unavailable: 'REGISTRY_UNAVAILABLE', registry: 'insurance', retrievedAt: null });
    expect(byKey['hoTen']!.value).toBe(person.fullName);
    const so = form.dossierComponents.find((c) => c.code === 'SO_BHXH')!;
    expect(so).toMatchObject({ status: 'REQUIRED', registry: 'insurance' });
    expect(so.reason).toContain('unavailable');
    expect(form.dossierComponents.find((c) => c.code === 'GIAY_TO_TUY_THAN')!.status).toBe('CUT');
  });

  it('not recorded vs none: NOT_RECORDED when the registry has no value, ifAbsent when nothing means none', async () => {
    const exec = scripted({
      data: () => ({ data: { citizen: { ...person, identityCard: null, father: null, mother: { fullName: 'Lê Thị Bình', dateOfBirth: '1960-01-02' }, spouse: null, temporaryResidence: null } } }),
    });
    const form = await run(exec, { procedureId: 'judicial-record-certificate', subject: { personalId: CITIZEN } });
    const byKey = Object.fromEntries(form.fields.map((f) => [f.key, f]));
    expect(byKey['hoTenCha']).toMatchObject({ value: null, unavailable: 'NOT_RECORDED', registry: 'population' });
    expect(byKey['hoTenVoChong']).toMatchObject({ value: 'Không', source: 'REGISTRY', unavailable: null });
    expect(byKey['ngaySinhMe']!.value).toBe('02/01/1960');
    // No identity card recorded: the copy of it stays required.
    const c = form.dossierComponents.find((x) => x.code === 'BAN_CHUP_GIAY_TO_TUY_THAN')!;
    expect(c.status).toBe('REQUIRED');
    expect(c.reason).toContain('not recorded');
    expect(form.summary.fieldsForCitizen).toBe(6 + 5); // 6 citizen fields + card number/date/place + father name/date
  });

  it('cuts a component only when its condition holds on the retrieved data', async () => {
    const related = () => ({
      data: { subjectCitizen: { personalId: CITIZEN }, subjectEnterprises: { enterprises: [{ role: 'LEGAL_REPRESENTATIVE', enterprise: { enterpriseCode: ENTERPRISE } }] } },
    });
    const enterprise = (status: string) => ({
      name: 'CÔNG TY TNHH AN BÌNH',
      enterpriseCode: ENTERPRISE,
      type: 'Công ty trách nhiệm hữu hạn một thành viên',
      status,
      headOffice: { fullAddress: 'Số 1 Tràng Tiền, Phường Hoàn Kiếm, Thành phố Hà Nội' },
      legalRepresentatives: [{ fullName: 'Nguyễn Văn An', title: 'Giám đốc' }],
    });
    for (const [status, expected] of [['ACTIVE', 'CUT'], ['SUSPENDED', 'REQUIRED']] as const) {
      const exec = scripted({ relations: related, data: () => ({ data: { citizen: { ...person, identityCard: { number: CITIZEN } }, enterprise: enterprise(status) } }) });
      const form = await run(exec, { procedureId: 'enterprise-legal-representative-change', subject: { personalId: CITIZEN, enterpriseCode: ENTERPRISE } });
      const gcn = form.dossierComponents.find((c) => c.code === 'BAN_SAO_GCN_DKDN')!;
      expect(gcn.status).toBe(expected);
      if (expected === 'REQUIRED') expect(gcn.reason).toContain('enterprise.status == ACTIVE is not met');
      expect(form.fields.find((f) => f.key === 'chucDanhHienTai')!.value).toBe('Giám đốc');
    }
  });

  it('a subject whose link cannot be checked is not fetched: its fields are unavailable, the rest is filled', async () => {
    const exec = scripted({
      relations: () => ({
        data: { subjectCitizen: { personalId: CITIZEN }, subjectEnterprises: null, subjectParcels: null },
        errors: [{ message: 'land down', path: ['subjectParcels'], extensions: { code: 'REGISTRY_UNAVAILABLE', registry: 'land' } }],
      }),
      data: (req) => {
        expect(req.query).not.toContain('landParcel');
        expect(req.variables).toEqual({ personalId: CITIZEN });
        return { data: { citizen: { ...person, identityCard: { number: CITIZEN } } } };
      },
    });
    const form = await run(exec, { procedureId: 'land-use-right-transfer', subject: { personalId: CITIZEN, parcelId: PARCEL } });
    const byKey = Object.fromEntries(form.fields.map((f) => [f.key, f]));
    expect(byKey['soPhatHanhGcn']).toMatchObject({ value: null, unavailable: 'REGISTRY_UNAVAILABLE', registry: 'land' });
    expect(byKey['hoTenNguoiChuyenNhuong']!.value).toBe(person.fullName);
    expect(form.dossierComponents.find((c) => c.code === 'VAN_BAN_XOA_THE_CHAP')!.status).toBe('REQUIRED');
  });

  it('a refusal of the inner operation (e.g. by policy) is the answer', async () => {
    const exec = scripted({ data: () => ({ data: null, errors: [{ message: 'Field not allowed', extensions: { code: 'FORBIDDEN' } }] }) });
    await expect(run(exec, { procedureId: 'lodging-notification', subject: { personalId: CITIZEN } })).rejects.toMatchObject({
      extensions: { code: 'FORBIDDEN' },
    });
  });
});

describe('values at a path', () => {
  it('reads single objects, flattens lists at any depth and drops what is missing or null', () => {
    const data = {
      citizen: {
        fullName: 'An',
        spouse: null,
        children: [{ fullName: 'B', tags: ['x', null, 'y'] }, null, { fullName: null, tags: [] }, { fullName: 'C', tags: null }],
        grid: [[{ v: 1 }, { v: 2 }], [{ v: 3 }]],
      },
    };
    expect(valuesAt(data, 'citizen', ['fullName'])).toEqual(['An']);
    expect(valuesAt(data, 'citizen', ['spouse', 'fullName'])).toEqual([]);
    expect(valuesAt(data, 'citizen', ['missing', 'x'])).toEqual([]);
    expect(valuesAt(data, 'citizen', ['children', 'fullName'])).toEqual(['B', 'C']);
    expect(valuesAt(data, 'citizen', ['children', 'tags'])).toEqual(['x', 'y']);
    expect(valuesAt(data, 'citizen', ['grid', 'v'])).toEqual([1, 2, 3]);
    expect(valuesAt(null, 'citizen', ['fullName'])).toEqual([]);
    expect(valuesAt({ citizen: null }, 'citizen', ['fullName'])).toEqual([]);
  });
});

describe('hours saved (Circular 02/2017/TT-VPCP: 1 h per trip, 1 h per hand-written page)', () => {
  it('adds the trips of cut components and the share of form pages prefilled', () => {
    expect(hoursSaved(2, 17, 23, [1, 1])).toBe(Math.round((2 + (2 * 17) / 23) * 10) / 10);
    expect(hoursSaved(1, 0, 9, [])).toBe(0);
    expect(hoursSaved(3, 0, 0, [1])).toBe(1);
  });
});
