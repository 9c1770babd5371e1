/**
 * A test-only procedure file (the catalog's YAML format, docs/PROCEDURES.md) for a citizen: the
 * citizen's full name plus the given fields, no components. Tests put it in a catalog folder of
 * their own to give a purpose exactly the paths they attack.
 */
export interface TestField {
  key: string;
  source: string;
  /** Default: the key. */
  label?: string;
}

export function testProcedureYaml(id: string, fields: readonly TestField[]): string {
  const extra = fields.map((f) => `  - key: ${f.key}\n    label: ${f.label ?? f.key}\n    source: ${f.source}\n`).join('');
  return `id: ${id}
nationalCode: null
name: Thủ tục thử nghiệm ${id}
agency: Cơ quan thử nghiệm
legalBasis:
  - Test only
subjects: [citizen]
fields:
  - key: hoTen
    label: Họ, chữ đệm và tên
    source: citizen.fullName
${extra}dossierComponents: []
timeSaved:
  formPages: 1
`;
}
