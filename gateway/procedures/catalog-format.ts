/**
 * The declarative format of one procedure file in `schema/procedures/` (YAML or JSON).
 *
 * This zod schema is the single definition: the loader validates files with it, and
 * `schema/procedures/procedure.schema.json` is generated from it (`npm run procedures:schema`)
 * so editors can validate catalog files as they are typed. Semantic checks that need
 * the supergraph (does the path exist, has it the right type) live in `validate.ts`.
 */
import { z } from 'zod';

import { SUBJECT_ROOTS, type SubjectRoot } from '../core/path-tree.js';

export { SUBJECT_ROOTS, type SubjectRoot } from '../core/path-tree.js';

/**
 * Display formats: `date` turns an ISO date into dd/MM/yyyy, `month` yyyy-MM into MM/yyyy,
 * `address` selects `Address.fullAddress` (one line), `label` maps values through `labels`.
 */
export const FORMATS = ['text', 'date', 'month', 'address', 'number', 'boolean', 'label'] as const;
export type FieldFormat = (typeof FORMATS)[number];

const PATH = /^(citizen|relatedCitizen|enterprise|parcel)(\.[A-Za-z_][A-Za-z0-9_]*)+$/;
const pathSchema = z
  .string()
  .regex(PATH, 'a path is a subject root (citizen, relatedCitizen, enterprise, parcel) followed by .field names, e.g. citizen.permanentResidence')
  .describe('Path into the supergraph from a subject root, e.g. citizen.dateOfBirth');

const scalar = z.union([z.string(), z.number(), z.boolean()]);

export const fieldSchema = z
  .strictObject({
    key: z.string().regex(/^[a-zA-Z][a-zA-Z0-9_]*$/, 'a field key is letters, digits and _ starting with a letter').describe('Stable key of the form field'),
    label: z.string().min(1).describe('Vietnamese label as printed on the form'),
    source: pathSchema.optional(),
    citizen: z.literal(true).optional().describe('true when the citizen provides the value (no registry holds it)'),
    format: z.enum(FORMATS).optional().describe('Display format; default text (address for Address paths)'),
    labels: z.record(z.string(), z.string()).optional().describe('Value → Vietnamese label, for format label (e.g. MALE: Nam)'),
    ifAbsent: z
      .string()
      .optional()
      .describe('Shown when the registry answered and holds nothing, where nothing means "none" (e.g. no spouse: "Không có")'),
    note: z.string().optional().describe('Guidance for the citizen or the integrator'),
  })
  .refine((f) => (f.source === undefined) !== (f.citizen === undefined), {
    message: 'a field has exactly one of source (a path) or citizen: true',
  })
  .refine((f) => f.format !== 'label' || f.labels !== undefined, { message: 'format label needs labels' });

export const conditionSchema = z
  .strictObject({
    path: pathSchema,
    equals: scalar.optional(),
    notEquals: scalar.optional(),
    in: z.array(scalar).min(1).optional(),
    min: z.number().optional(),
    max: z.number().optional(),
  })
  .refine((c) => ['equals', 'notEquals', 'in', 'min', 'max'].filter((k) => k in c).length === 1, {
    message: 'a condition has exactly one of equals, notEquals, in, min, max',
  });

export const componentSchema = z.strictObject({
  code: z.string().regex(/^[A-Za-z0-9_-]+$/, 'a component code is letters, digits, - and _').describe('Stable code of the dossier component'),
  name: z.string().min(1).describe('Tên thành phần hồ sơ, e.g. Bản sao Giấy chứng nhận quyền sử dụng đất'),
  replacedBy: z
    .union([pathSchema, z.array(pathSchema).min(1)])
    .optional()
    .describe('Registry data that replaces the component; absent when no registry holds it (always required)'),
  replacedByResult: pathSchema
    .optional()
    .describe(
      'Path to a digitised result the state already issued (a DigitisedResult object, e.g. citizen.digitisedResults.marriageCertificate): ' +
        'the component is cut only when that result is retrieved with status VALID; with replacedBy too, either suffices',
    ),
  when: z.array(conditionSchema).optional().describe('All must hold on the retrieved data (of replacedBy) for the component to be cut'),
  tripsAvoided: z.number().int().min(0).optional().describe('Trips to an agency avoided when cut (default 1: obtaining a certified copy)'),
  note: z.string().optional(),
});

export const procedureSchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'a procedure id is a lowercase slug, e.g. lodging-notification'),
  nationalCode: z
    .string()
    .nullable()
    .optional()
    .describe('Code in the national TTHC database; leave empty unless certain'),
  name: z.string().min(1).describe('Tên thủ tục'),
  nameEn: z.string().min(1).optional().describe('English name, shown in English views (optional)'),
  agency: z.string().min(1).describe('Cơ quan có thẩm quyền giải quyết'),
  legalBasis: z.array(z.string()).optional(),
  subjects: z
    .array(z.enum(SUBJECT_ROOTS))
    .min(1)
    .describe('Subjects the procedure takes; must include citizen'),
  fields: z.array(fieldSchema).min(1).describe('Form fields in form order'),
  dossierComponents: z.array(componentSchema).describe('Dossier components in dossier order'),
  timeSaved: z.strictObject({
    formPages: z.number().min(0).describe('Pages of the paper form the citizen would write by hand'),
  }),
});

const idSchema = z.string().regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'an id is a lowercase slug, e.g. birth-registration-group');

/**
 * An interconnected group (nhóm thủ tục liên thông, Nghị định 63/2024/NĐ-CP): procedures
 * handled together, prefilled by one request. One file of `schema/procedures/groups/`.
 */
export const groupSchema = z.strictObject({
  id: idSchema.describe('Stable slug of the group, distinct from every procedure id'),
  name: z.string().min(1).describe('Tên nhóm thủ tục liên thông (Vietnamese)'),
  nameEn: z.string().min(1).describe('English name'),
  legalBasis: z.array(z.string().min(1)).min(1).describe('Văn bản quy định the group (e.g. Nghị định số 63/2024/NĐ-CP)'),
  procedures: z.array(idSchema).min(2).describe('Ids of the procedures of the group, in the order they are handled'),
  note: z.string().optional(),
});

export type GroupDef = z.infer<typeof groupSchema>;
export type FieldDef = z.infer<typeof fieldSchema>;
export type ConditionDef = z.infer<typeof conditionSchema>;
export type ComponentDef = z.infer<typeof componentSchema>;
export type ProcedureDef = z.infer<typeof procedureSchema>;

/** The JSON Schema of group files (schema/procedures/groups/group.schema.json), generated from the zod schema. */
export function groupJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(groupSchema, { target: 'draft-2020-12', io: 'input' }) as Record<string, unknown>;
  return {
    ...schema,
    $id: 'https://motlan.example/schema/procedure-group.schema.json',
    title: 'Motlan interconnected procedure group (one file of schema/procedures/groups/)',
  };
}

/** The JSON Schema shipped next to the catalog, generated from the zod schema. */
export function procedureJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(procedureSchema, { target: 'draft-2020-12', io: 'input' }) as Record<string, unknown>;
  return {
    ...schema,
    $id: 'https://motlan.example/schema/procedure.schema.json',
    title: 'Motlan procedure (one file of schema/procedures/)',
  };
}
