/**
 * Provide-once yield of the catalog, measured through the whole stack (mock registries,
 * subgraphs, gateway: test/support/stack.ts) over a generated world:
 *
 *   npm run yield                         # prints the table
 *   npm run yield -- --write-docs         # and rewrites the table in docs/PROCEDURES.md
 *   npm run yield -- --citizens 3000 --per-procedure 25 --seed 20250701
 *
 * For every procedure that takes only a citizen, it prefills a sample of citizens and sums
 * fields prefilled / fields, and components cut / components. Sampling rule: the citizens
 * whose data the sources hold for that procedure (ELIGIBILITY below; by default every living
 * adult of the population registry; APPLIES_TO states each rule in words for the docs),
 * taken evenly spaced through the world in its order
 * (deterministic for a seed), at most `perProcedure` of them. The two interconnected groups
 * are measured end to end the same way (the death group needs a relative and the deceased,
 * so its procedures are not in the citizen-only totals), with the count of notices cut where
 * the health facility's notice exists.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { ageOf, indexWorld, type WorldIndex } from '../mocks/world/generate.js';
import { newestResultOf } from '../mocks/world/find.js';
import { RENEWAL_WINDOW } from '../mocks/world/gen/driving.js';
import { parseDay } from '../mocks/world/dates.js';
import type { CitizenRecord, World } from '../mocks/world/types.js';
import { REPO_ROOT } from '../lib/repo-root.js';
import { PREFILL_DOCUMENT } from './generate-documents.js';
import { DEFAULT_CATALOG_DIR, loadCatalog } from '../gateway/procedures/catalog.js';
import type { ProcedureDef } from '../gateway/procedures/catalog-format.js';
import { SUPERGRAPH_FILE } from './compose.js';

/** What the script needs of a running stack (test/support/stack.ts gives it). */
export interface YieldTarget {
  graphqlUrl: string;
  demoKey: string;
  world: World;
}

export interface YieldOptions {
  /** Citizens sampled per procedure. Default 25. */
  perProcedure?: number;
}

export interface ProcedureYield {
  id: string;
  name: string;
  sample: number;
  fieldsPrefilled: number;
  fieldsTotal: number;
  componentsCut: number;
  componentsTotal: number;
  /** Requests that failed (GraphQL error): counted as nothing prefilled, nothing cut. */
  failures: number;
  /** Fields with a source, over the sample: the most that can be prefilled (the rest the form leaves to the citizen). */
  fieldsWithSource: number;
}

export interface GroupYield extends ProcedureYield {
  procedures: string[];
  /** Code of the notice component, the samples where the notice exists, and how many of those cut it. */
  notice: { code: string; exists: number; cut: number };
}

export interface YieldReport {
  citizenOnly: ProcedureYield[];
  totals: { fieldsPrefilled: number; fieldsTotal: number; fieldsWithSource: number; componentsCut: number; componentsTotal: number };
  groups: GroupYield[];
}

type Pred = (c: CitizenRecord, w: World, ix: WorldIndex) => boolean;

const livingAdult: Pred = (c, w) => !c.deceased && ageOf(w, c) >= 18;
const hasBirthNotice: Pred = (c, _w, ix) => !c.deceased && (ix.birthNoticesByParent.get(c.personalId)?.notices.length ?? 0) > 0;
const insured = (status?: string): Pred => (c, w, ix) => livingAdult(c, w, ix) && !!ix.socialInsurance.get(c.personalId) && (!status || ix.socialInsurance.get(c.personalId)!.status === status);

/**
 * Whose data the sources hold, per procedure (default: a living adult). A procedure about a
 * record (an insurance book, a birth notice, a registration) samples the citizens who have it.
 */
export const ELIGIBILITY: Record<string, Pred> = {
  'exam-registration': (c, w) => !c.deceased && ageOf(w, c) >= 17 && ageOf(w, c) <= 19,
  'social-insurance-lump-sum': insured('PAUSED'),
  'unemployment-benefit': insured('PAUSED'),
  'health-insurance-card-renewal': (c, w, ix) => livingAdult(c, w, ix) && ix.healthInsurance.has(c.personalId),
  'birth-registration': hasBirthNotice,
  'child-permanent-residence-registration': hasBirthNotice,
  'child-health-insurance-card': hasBirthNotice,
  'birth-residence-child-health-insurance': hasBirthNotice,
  'birth-extract-copy': (c, w, ix) => livingAdult(c, w, ix) && !!ix.civilStatus.get(c.personalId)?.birth,
  'civil-status-change': (c, w, ix) => livingAdult(c, w, ix) && !!ix.civilStatus.get(c.personalId)?.birth,
  'marriage-registration': (c, w, ix) => livingAdult(c, w, ix) && c.maritalStatus !== 'MARRIED',
  // Renewal applies to a licence with a term that expires within 90 days or expired less than a year ago.
  'driving-licence-renewal': (c, w, ix) => {
    const licence = livingAdult(c, w, ix) ? newestResultOf(ix, c, 'DRIVING_LICENCE') : null;
    if (!licence?.validUntil) return false;
    const daysLeft = parseDay(licence.validUntil) - parseDay(w.asOf);
    return daysLeft <= RENEWAL_WINDOW.beforeExpiry && daysLeft > -RENEWAL_WINDOW.afterExpiry;
  },
};

/** The applicability rule of ELIGIBILITY in words, as docs/PROCEDURES.md states it. */
export const APPLIES_TO: Record<string, string> = {
  'exam-registration': 'living citizens aged 17 to 19',
  'social-insurance-lump-sum': 'living adults whose social insurance is paused',
  'unemployment-benefit': 'living adults whose social insurance is paused',
  'health-insurance-card-renewal': 'living adults holding a health insurance card',
  'birth-registration': 'living parents holding a birth notice',
  'child-permanent-residence-registration': 'living parents holding a birth notice',
  'child-health-insurance-card': 'living parents holding a birth notice',
  'birth-residence-child-health-insurance': 'living parents holding a birth notice',
  'birth-extract-copy': 'living adults whose birth entry is in the civil-status database',
  'civil-status-change': 'living adults whose birth entry is in the civil-status database',
  'marriage-registration': 'living adults not married',
  'driving-licence-renewal': 'living adults whose car licence expires within 90 days or expired less than a year ago',
};
const DEFAULT_APPLIES_TO = 'living adults (18+)';

/** Up to `n` items evenly spaced through `items` (all of them when fewer). */
export function evenly<T>(items: T[], n: number): T[] {
  if (items.length <= n) return items;
  return Array.from({ length: n }, (_, i) => items[Math.floor((i * items.length) / n)]!);
}

interface PrefillAnswer {
  fields: Array<{ value: string | null }>;
  dossierComponents: Array<{ code: string; status: string }>;
}

async function prefill(target: YieldTarget, procedureId: string, subject: Record<string, string>): Promise<PrefillAnswer | null> {
  const res = await fetch(target.graphqlUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${target.demoKey}` },
    body: JSON.stringify({ query: PREFILL_DOCUMENT, variables: { procedureId, subject, dossierId: 'YIELD-0001' } }),
  });
  const body = (await res.json()) as { data?: { prefill: PrefillAnswer } | null; errors?: unknown[] };
  return body.errors?.length || !body.data ? null : body.data.prefill;
}

interface CatalogEntry {
  id: string;
  name: string;
  subjects: string[];
  fields: Array<{ key: string; path: string | null }>;
  dossierComponents: unknown[];
}

async function catalogOf(target: YieldTarget): Promise<CatalogEntry[]> {
  const res = await fetch(target.graphqlUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${target.demoKey}` },
    body: JSON.stringify({ query: '{ procedures { id name subjects fields { key path } dossierComponents { code } } }' }),
  });
  const body = (await res.json()) as { data?: { procedures: CatalogEntry[] } };
  if (!body.data) throw new Error(`The gateway did not list its procedures: ${JSON.stringify(body)}`);
  return body.data.procedures;
}

interface GroupAnswer {
  dossierComponents: Array<{ code: string; status: string }>;
  summary: { fieldsTotal: number; fieldsPrefilled: number; fieldsForCitizenByForm: number; componentsTotal: number; componentsCut: number };
}

const PREFILL_GROUP = `query YieldGroup($groupId: ID!, $subject: SubjectInput!) {
  prefillGroup(groupId: $groupId, subject: $subject, dossierId: "YIELD-0001") {
    forms { fields { key source } }
    dossierComponents { code status }
    summary { fieldsTotal fieldsPrefilled componentsTotal componentsCut }
  }
}`;

async function prefillGroup(target: YieldTarget, groupId: string, subject: Record<string, string>): Promise<GroupAnswer | null> {
  const res = await fetch(target.graphqlUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${target.demoKey}` },
    body: JSON.stringify({ query: PREFILL_GROUP, variables: { groupId, subject } }),
  });
  type Raw = { forms: Array<{ fields: Array<{ key: string; source: string }> }>; dossierComponents: GroupAnswer['dossierComponents']; summary: Omit<GroupAnswer['summary'], 'fieldsForCitizenByForm'> };
  const body = (await res.json()) as { data?: { prefillGroup: Raw } | null; errors?: unknown[] };
  if (body.errors?.length || !body.data) return null;
  const g = body.data.prefillGroup;
  // Citizen fields count once per key across the forms, as the group summary counts distinct values.
  const citizenKeys = new Set(g.forms.flatMap((f) => f.fields.filter((x) => x.source === 'CITIZEN').map((x) => x.key)));
  return { dossierComponents: g.dossierComponents, summary: { ...g.summary, fieldsForCitizenByForm: citizenKeys.size } };
}

async function groupsOf(target: YieldTarget): Promise<Array<{ id: string; name: string; procedures: Array<{ id: string }> }>> {
  const res = await fetch(target.graphqlUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${target.demoKey}` },
    body: JSON.stringify({ query: '{ procedureGroups { id name procedures { id } } }' }),
  });
  const body = (await res.json()) as { data?: { procedureGroups: Array<{ id: string; name: string; procedures: Array<{ id: string }> }> } };
  if (!body.data) throw new Error(`The gateway did not list its procedure groups: ${JSON.stringify(body)}`);
  return body.data.procedureGroups;
}

function emptyYield(id: string, name: string): ProcedureYield {
  return { id, name, sample: 0, fieldsPrefilled: 0, fieldsTotal: 0, fieldsWithSource: 0, componentsCut: 0, componentsTotal: 0, failures: 0 };
}

function add(y: ProcedureYield, form: PrefillAnswer | null, p: CatalogEntry): void {
  const fields = p.fields.length;
  const components = p.dossierComponents.length;
  y.sample++;
  y.fieldsTotal += fields;
  y.fieldsWithSource += p.fields.filter((f) => f.path !== null).length;
  y.componentsTotal += components;
  if (!form) {
    y.failures++;
    return;
  }
  y.fieldsPrefilled += form.fields.filter((f) => f.value !== null).length;
  y.componentsCut += form.dossierComponents.filter((c) => c.status === 'CUT').length;
}

/** The first living recorded relative of a deceased citizen who may file for them. */
function relativeOf(c: CitizenRecord, ix: WorldIndex): CitizenRecord | undefined {
  return [c.spouseId, ...c.childrenIds, c.fatherId, c.motherId]
    .map((id) => (id ? ix.citizens.get(id) : undefined))
    .find((r): r is CitizenRecord => !!r && !r.deceased);
}

/** Measures the catalog the gateway serves. */
export async function measureYield(target: YieldTarget, opts: YieldOptions = {}): Promise<YieldReport> {
  const per = opts.perProcedure ?? 25;
  const world = target.world;
  const ix = indexWorld(world);
  const procedures = await catalogOf(target);
  const citizenOnly: ProcedureYield[] = [];
  for (const p of procedures.filter((x) => x.subjects.length === 1 && x.subjects[0] === 'CITIZEN').sort((a, b) => a.id.localeCompare(b.id))) {
    const eligible = ELIGIBILITY[p.id] ?? livingAdult;
    const sample = evenly(world.citizens.filter((c) => eligible(c, world, ix)), per);
    const y = emptyYield(p.id, p.name);
    for (const c of sample) add(y, await prefill(target, p.id, { personalId: c.personalId }), p);
    citizenOnly.push(y);
  }
  const totals = citizenOnly.reduce(
    (t, y) => ({
      fieldsPrefilled: t.fieldsPrefilled + y.fieldsPrefilled,
      fieldsTotal: t.fieldsTotal + y.fieldsTotal,
      fieldsWithSource: t.fieldsWithSource + y.fieldsWithSource,
      componentsCut: t.componentsCut + y.componentsCut,
      componentsTotal: t.componentsTotal + y.componentsTotal,
    }),
    { fieldsPrefilled: 0, fieldsTotal: 0, fieldsWithSource: 0, componentsCut: 0, componentsTotal: 0 },
  );

  // The interconnected groups, end to end: one prefillGroup request per dossier (a value shared
  // by several forms and a component listed by several dossiers count once, as the group summary counts).
  const groups: GroupYield[] = [];
  const subjectsOf: Record<string, { notice: string; subjects: Array<Record<string, string>> }> = {
    'birth-registration-group': {
      notice: 'GIAY_CHUNG_SINH',
      subjects: evenly(world.citizens.filter((c) => hasBirthNotice(c, world, ix)), per).map((c) => ({ personalId: c.personalId })),
    },
    'death-registration-group': {
      notice: 'GIAY_BAO_TU',
      subjects: evenly(world.citizens.filter((c) => c.deceased && ix.deathNotices.has(c.personalId) && !!relativeOf(c, ix)), per).map((c) => ({
        personalId: relativeOf(c, ix)!.personalId,
        relatedPersonalId: c.personalId,
      })),
    },
  };
  for (const g of await groupsOf(target)) {
    const run = subjectsOf[g.id];
    if (!run) continue;
    const y: GroupYield = { ...emptyYield(g.id, g.name), procedures: g.procedures.map((p) => p.id), notice: { code: run.notice, exists: 0, cut: 0 } };
    for (const subject of run.subjects) {
      const answer = await prefillGroup(target, g.id, subject);
      y.sample++;
      // Every sampled subject has the notice (that is the sampling rule of both groups).
      y.notice.exists++;
      if (!answer) {
        y.failures++;
        continue;
      }
      y.fieldsTotal += answer.summary.fieldsTotal;
      y.fieldsWithSource += answer.summary.fieldsTotal - answer.summary.fieldsForCitizenByForm;
      y.fieldsPrefilled += answer.summary.fieldsPrefilled;
      y.componentsTotal += answer.summary.componentsTotal;
      y.componentsCut += answer.summary.componentsCut;
      if (answer.dossierComponents.some((c) => c.code === run.notice && c.status === 'CUT')) y.notice.cut++;
    }
    groups.push(y);
  }
  return { citizenOnly, totals, groups };
}

const pct = (a: number, b: number) => (b === 0 ? '—' : `${((100 * a) / b).toFixed(1)} %`);

/** The report as the Markdown table docs/PROCEDURES.md carries. */
export function yieldMarkdown(r: YieldReport, settings: string): string {
  const lines = [
    `Measured by \`npm run yield -- --write-docs\` (${settings}).`,
    '',
    'The ceiling is the share of fields that have a source at all (the form leaves the rest to the citizen).',
    '',
    'Each procedure samples the citizens it applies to (the rule in the second column), evenly spaced through the world; a citizen who lacks a record (no identity card, no phone registered with VNeID, no digitised result) is kept in the sample and counts as not prefilled / not cut.',
    '',
    '| procedure (citizen only) | sampled: applies to | sample | fields prefilled / total | | ceiling | components cut / total | |',
    '|---|---|---|---|---|---|---|---|',
    ...r.citizenOnly.map((y) => `| \`${y.id}\` | ${APPLIES_TO[y.id] ?? DEFAULT_APPLIES_TO} | ${y.sample || 'nobody in the world'}${y.failures ? ` (${y.failures} failed)` : ''} | ${y.fieldsPrefilled} / ${y.fieldsTotal} | ${pct(y.fieldsPrefilled, y.fieldsTotal)} | ${pct(y.fieldsWithSource, y.fieldsTotal)} | ${y.componentsCut} / ${y.componentsTotal} | ${pct(y.componentsCut, y.componentsTotal)} |`),
    `| **all ${r.citizenOnly.length} citizen-only procedures** | | | **${r.totals.fieldsPrefilled} / ${r.totals.fieldsTotal}** | **${pct(r.totals.fieldsPrefilled, r.totals.fieldsTotal)}** | ${pct(r.totals.fieldsWithSource, r.totals.fieldsTotal)} | **${r.totals.componentsCut} / ${r.totals.componentsTotal}** | **${pct(r.totals.componentsCut, r.totals.componentsTotal)}** |`,
    '',
    'Groups: one `prefillGroup` request per dossier; distinct values and distinct components, as the group summary counts them.',
    '',
    '| group, end to end | dossiers | distinct values prefilled / total | | components cut / total | | notice cut where it exists |',
    '|---|---|---|---|---|---|---|',
    ...r.groups.map((g) => `| \`${g.id}\` (${g.procedures.join(' → ')}) | ${g.sample}${g.failures ? ` (${g.failures} failed)` : ''} | ${g.fieldsPrefilled} / ${g.fieldsTotal} | ${pct(g.fieldsPrefilled, g.fieldsTotal)} | ${g.componentsCut} / ${g.componentsTotal} | ${pct(g.componentsCut, g.componentsTotal)} | ${g.notice.code}: ${g.notice.cut} / ${g.notice.exists} |`),
  ];
  return lines.join('\n');
}

/**
 * The catalog as docs/PROCEDURES.md lists it: every procedure with its fields (all / from
 * the sources / left to the citizen), its components and its legal basis and form, read
 * from the files the gateway loads.
 */
export function catalogMarkdown(procedures: Iterable<{ def: ProcedureDef }>): string {
  const lines = [
    '| procedure | subjects | fields: all / sources / citizen | cut when retrieved | always required | legal basis and form |',
    '|---|---|---|---|---|---|',
  ];
  for (const { def } of procedures) {
    const citizen = def.fields.filter((f) => f.citizen).length;
    const comps = def.dossierComponents as Array<ProcedureDef['dossierComponents'][number] & { replacedByResult?: string }>;
    const cut = comps.filter((c) => c.replacedBy !== undefined || c.replacedByResult !== undefined).map((c) => (c.replacedByResult ? `${c.code} (result)` : c.when?.length ? `${c.code} (if)` : c.code));
    const always = comps.filter((c) => c.replacedBy === undefined && c.replacedByResult === undefined).map((c) => c.code);
    const en = (def as ProcedureDef & { nameEn?: string }).nameEn;
    lines.push(
      `| \`${def.id}\` ${def.name}${en ? ` (${en})` : ''} | ${def.subjects.join(', ')} | ${def.fields.length} / ${def.fields.length - citizen} / **${citizen}** | ${cut.join(', ') || '—'} | ${always.join(', ') || '—'} | ${(def.legalBasis ?? []).join('; ')} |`,
    );
  }
  return lines.join('\n');
}

const START = '<!-- yield:start (generated by npm run yield -- --write-docs; do not edit) -->';
const END = '<!-- yield:end -->';

/** Replaces the generated block of docs/PROCEDURES.md (between the markers). */
export function writeDocs(markdown: string, file = path.join(REPO_ROOT, 'docs/PROCEDURES.md')): void {
  const text = readFileSync(file, 'utf8');
  const a = text.indexOf(START);
  const b = text.indexOf(END);
  if (a < 0 || b < a) throw new Error(`${file} has no ${START} … ${END} block: add the two markers where the yield table goes.`);
  writeFileSync(file, `${text.slice(0, a + START.length)}\n${markdown}\n${text.slice(b)}`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      citizens: { type: 'string', default: '3000' },
      seed: { type: 'string', default: '20250701' },
      'per-procedure': { type: 'string', default: '25' },
      'write-docs': { type: 'boolean', default: false },
    },
  });
  const citizens = Number(values.citizens);
  const seed = Number(values.seed);
  const perProcedure = Number(values['per-procedure']);
  for (const [k, v] of Object.entries({ citizens, seed, perProcedure })) if (!Number.isInteger(v) || v <= 0) throw new Error(`--${k} must be a positive integer`);
  // The test support's stack: mock registries, subgraphs and gateway in-process on free loopback ports.
  const { startStack } = await import('../test/support/stack.js');
  const stack = await startStack({ citizens, seed, gateway: { rateLimit: false } });
  try {
    const report = await measureYield(stack, { perProcedure });
    const catalog = loadCatalog({ supergraphSdl: readFileSync(SUPERGRAPH_FILE, 'utf8'), dirs: [DEFAULT_CATALOG_DIR] });
    const md = [
      `### The catalog (${catalog.byId.size} procedures)`,
      '',
      catalogMarkdown(catalog.byId.values()),
      '',
      '### Yield',
      '',
      yieldMarkdown(report, `world of ${citizens} citizens, seed ${seed}, at most ${perProcedure} citizens per procedure`),
    ].join('\n');
    console.log(md);
    if (values['write-docs']) {
      writeDocs(md);
      console.log('\ndocs/PROCEDURES.md updated.');
    }
  } finally {
    await stack.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: Error) => {
    console.error(err.message);
    process.exitCode = 1;
  });
}
