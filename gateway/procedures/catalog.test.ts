/**
 * The catalog without the stack: the shipped procedures load and compile against the
 * supergraph, and broken catalog files are refused with a message naming the file,
 * the procedure and the bad path.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { composeSupergraph, SUPERGRAPH_FILE } from '../../scripts/compose.js';
import { procedureSchema } from './catalog-format.js';
import { catalogFiles, DEFAULT_CATALOG_DIR, loadCatalog } from './catalog.js';
import { CatalogError } from './compile.js';
import { JSON_SCHEMA_FILE, jsonSchemaText } from './json-schema.js';

const composed = composeSupergraph();
if (composed.errors) throw new Error(`schema/*.graphql do not compose: ${JSON.stringify(composed.errors)}`);
const SUPERGRAPH = composed.supergraphSdl;

const tmpDirs: string[] = [];
afterAll(() => {
  for (const d of tmpDirs) rmSync(d, { recursive: true, force: true });
});

/** A folder holding the given files (name → content). */
function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'motlan-catalog-'));
  tmpDirs.push(dir);
  for (const [name, content] of Object.entries(files)) writeFileSync(path.join(dir, name), content);
  return dir;
}

/** The problems of loading `files` alone. */
function problemsOf(files: Record<string, string>): string {
  try {
    loadCatalog({ supergraphSdl: SUPERGRAPH, dirs: [folder(files)] });
  } catch (err) {
    expect(err).toBeInstanceOf(CatalogError);
    return (err as Error).message;
  }
  throw new Error('the catalog was accepted');
}

const minimal = (extra: string) => `id: test-procedure
name: Thủ tục thử
agency: UBND cấp xã
subjects: [citizen]
timeSaved: { formPages: 1 }
dossierComponents: []
${extra}`;

const shipped = loadCatalog({ supergraphSdl: SUPERGRAPH, dirs: [DEFAULT_CATALOG_DIR] });

describe('shipped catalog', () => {
  it('holds the ten procedures of issue 3 among the 25 or more of issue 13', () => {
    expect(shipped.byId.size).toBeGreaterThanOrEqual(25);
    expect([...shipped.byId.keys()].sort()).toEqual(
      expect.arrayContaining([
        'birth-residence-child-health-insurance',
        'death-residence-removal-funeral-allowance',
        'enterprise-legal-representative-change',
        'exam-registration',
        'judicial-record-certificate',
        'land-use-right-transfer',
        'lodging-notification',
        'passport-issuance',
        'permanent-residence-registration',
        'social-insurance-lump-sum',
      ]),
    );
  });

  it('also validates against the checked-in supergraph the gateway serves', () => {
    const c = loadCatalog({ supergraphSdl: readFileSync(SUPERGRAPH_FILE, 'utf8'), dirs: [DEFAULT_CATALOG_DIR] });
    expect(c.byId.size).toBe(shipped.byId.size);
  });

  it('judicial-record-certificate has 23 fields, 6 of them left to the citizen', () => {
    const p = shipped.byId.get('judicial-record-certificate')!;
    expect(p.fields).toHaveLength(23);
    expect(p.fields.filter((f) => !f.path)).toHaveLength(6);
  });

  it('lodging-notification leaves exactly the reason, the period and the address of the stay', () => {
    const p = shipped.byId.get('lodging-notification')!;
    expect(p.fields.filter((f) => !f.path).map((f) => f.def.label)).toEqual([
      'Lý do lưu trú',
      'Thời gian lưu trú (từ ngày … đến ngày …)',
      'Địa chỉ lưu trú',
    ]);
  });

  it('never invents a national code: every code given is in the national TTHC format', () => {
    for (const p of shipped.byId.values()) {
      if (p.def.nationalCode) expect(p.def.nationalCode).toMatch(/^\d\.\d{6}$/);
    }
  });

  it('attributes each value to the registry that holds it', () => {
    const reg = (id: string, key: string) => shipped.byId.get(id)!.fields.find((f) => f.def.key === key)!.path!.registry;
    expect(reg('passport-issuance', 'hoTen')).toBe('population');
    expect(reg('passport-issuance', 'coQuanCongTac')).toBe('enterprise');
    expect(reg('passport-issuance', 'diaChiCoQuan')).toBe('enterprise');
    expect(reg('social-insurance-lump-sum', 'maSoBhxh')).toBe('insurance');
    expect(reg('land-use-right-transfer', 'soPhatHanhGcn')).toBe('land');
    expect(reg('land-use-right-transfer', 'diaChiThuaDat')).toBe('land');
    expect(reg('enterprise-legal-representative-change', 'diaChiTruSo')).toBe('enterprise');
    expect(reg('death-residence-removal-funeral-allowance', 'maSoBhxhNguoiChet')).toBe('insurance');
  });

  it('compiles each procedure into one operation selecting only what it declares', () => {
    const p = shipped.byId.get('lodging-notification')!;
    expect(p.operation.document.definitions).toHaveLength(1);
    expect([...p.coordinates].sort()).toEqual(
      [
        'Query.citizen',
        'Citizen.fullName',
        'Citizen.personalId',
        'Citizen.dateOfBirth',
        'Citizen.gender',
        'Citizen.nationality',
        'Citizen.permanentResidence',
        'Address.fullAddress',
      ].sort(),
    );
    // A procedure with a related subject may also read the links the relation check needs, and nothing more.
    const land = shipped.byId.get('land-use-right-transfer')!;
    expect(land.coordinates.has('Citizen.landParcels')).toBe(true);
    expect(land.coordinates.has('Citizen.socialInsurance')).toBe(false);
    expect(land.operation.query).not.toMatch(/landParcels/);
  });

  it('ships a JSON Schema that is up to date with the format, and every file matches the format', () => {
    expect(readFileSync(JSON_SCHEMA_FILE, 'utf8')).toBe(jsonSchemaText());
    const schema = JSON.parse(readFileSync(JSON_SCHEMA_FILE, 'utf8')) as { required: string[] };
    expect(schema.required).toEqual(expect.arrayContaining(['id', 'name', 'agency', 'subjects', 'fields', 'dossierComponents', 'timeSaved']));
    expect(catalogFiles(DEFAULT_CATALOG_DIR).some((f) => f.endsWith('.schema.json'))).toBe(false);
    expect(procedureSchema.safeParse({ id: 'x' }).success).toBe(false);
  });
});

describe('invalid catalog files are refused with a precise message', () => {
  it('a path to a field that does not exist names file, procedure and path', () => {
    const msg = problemsOf({ 'bad.yaml': minimal('fields:\n  - { key: ngaySinh, label: Ngày sinh, source: citizen.dateOfBrth, format: date }\n') });
    expect(msg).toContain('bad.yaml');
    expect(msg).toContain('procedure test-procedure');
    expect(msg).toContain('fields[0] (ngaySinh)');
    expect(msg).toContain('citizen.dateOfBrth');
    expect(msg).toContain('type Citizen has no field dateOfBrth');
  });

  it('a wrong type for the format', () => {
    const msg = problemsOf({
      'bad.yaml': minimal('fields:\n  - { key: soThang, label: Số tháng, source: citizen.socialInsurance.totalContributionMonths, format: date }\n'),
    });
    expect(msg).toContain('citizen.socialInsurance.totalContributionMonths: format date needs a String (ISO) field, but the field is Int');
  });

  it('a path that stops at an object', () => {
    const msg = problemsOf({ 'bad.yaml': minimal('fields:\n  - { key: the, label: Thẻ, source: citizen.identityCard }\n') });
    expect(msg).toContain('path citizen.identityCard: ends at the object type IdentityCard');
  });

  it('a duplicate field key', () => {
    const msg = problemsOf({
      'dup.yaml': minimal('fields:\n  - { key: hoTen, label: Họ tên, source: citizen.fullName }\n  - { key: hoTen, label: Họ tên 2, citizen: true }\n'),
    });
    expect(msg).toContain('dup.yaml: procedure test-procedure: fields[1] (hoTen): duplicate field key hoTen');
  });

  it('a duplicate procedure id across files', () => {
    const body = minimal('fields:\n  - { key: hoTen, label: Họ tên, source: citizen.fullName }\n');
    const msg = problemsOf({ 'a.yaml': body, 'b.yaml': body });
    expect(msg).toMatch(/b\.yaml: procedure test-procedure: id: duplicate procedure id test-procedure, already defined in .*a\.yaml/);
  });

  it('a path from a subject the procedure does not take', () => {
    const msg = problemsOf({ 'bad.yaml': minimal('fields:\n  - { key: dn, label: Tên DN, source: enterprise.name }\n') });
    expect(msg).toContain('path enterprise.name: starts at enterprise, which is not among the procedure\'s subjects (citizen)');
  });

  it('a condition on an enum value that does not exist', () => {
    const msg = problemsOf({
      'bad.yaml': `id: cond-test
name: Thử
agency: X
subjects: [citizen, enterprise]
timeSaved: { formPages: 1 }
fields:
  - { key: ten, label: Tên, source: enterprise.name }
dossierComponents:
  - code: GCN
    name: Bản sao GCN
    replacedBy: enterprise.enterpriseCode
    when: [{ path: enterprise.status, equals: OPEN }]
`,
    });
    expect(msg).toContain('dossierComponents[0] (GCN).when[0]: OPEN is not a value of EnterpriseStatus');
  });

  it('format errors (missing label, both source and citizen) and broken YAML', () => {
    const msg = problemsOf({
      'fmt.yaml': minimal('fields:\n  - { key: a, source: citizen.fullName }\n  - { key: b, label: B, source: citizen.fullName, citizen: true }\n'),
      'broken.yaml': 'id: [unclosed\n',
    });
    expect(msg).toContain('fmt.yaml: procedure test-procedure: fields.0.label');
    expect(msg).toContain('fields.1: a field has exactly one of source (a path) or citizen: true');
    expect(msg).toMatch(/broken\.yaml: not valid YAML/);
  });

  it('an extra folder that does not exist', () => {
    expect(() => loadCatalog({ supergraphSdl: SUPERGRAPH, env: { PROCEDURES_DIR_EXTRA: '/nonexistent/motlan' } })).toThrow(
      /\/nonexistent\/motlan: cannot read the catalog folder/,
    );
  });
});

describe('adding a procedure needs no code', () => {
  it('a file in PROCEDURES_DIR_EXTRA is loaded with the shipped ones', () => {
    const dir = folder({ 'civil-status-extract.yaml': minimal('fields:\n  - { key: hoTen, label: Họ tên, source: citizen.fullName }\n').replace('test-procedure', 'civil-status-extract') });
    const c = loadCatalog({ supergraphSdl: SUPERGRAPH, env: { PROCEDURES_DIR_EXTRA: dir } });
    expect(c.byId.size).toBe(shipped.byId.size + 1);
    expect(c.byId.get('civil-status-extract')!.operation.query).toContain('fullName');
  });
});
