/**
 * Compiles a procedure of the catalog into ONE GraphQL operation over the supergraph
 * that selects exactly the fields the procedure declares (form fields, the data that
 * replaces dossier components, and their conditions) and nothing else: data
 * minimisation is decided here, at start, not per request.
 *
 * Every path is resolved and typed first (`resolvePath`), so a wrong catalog stops
 * the start with a message naming the procedure and the bad path; the generated
 * operation is then validated against the supergraph schema as a last guard.
 */
import { isEnumType, parse, TypeInfo, validate, visit, visitWithTypeInfo, type DocumentNode } from 'graphql';
import { SUBJECT_ROOTS, type ComponentDef, type ConditionDef, type FieldDef, type FieldFormat, type ProcedureDef, type SubjectRoot } from './catalog-format.js';
import { PathError, resolvePath, type ResolvedPath } from './paths.js';
import { ROOTS, type PathTree } from '../core/path-tree.js';

export type { PathTree } from '../core/path-tree.js';
import { RELATION_COORDINATES, type RelatedSubject } from '../core/relations.js';
import type { SupergraphModel } from './supergraph-model.js';

export interface CompiledField {
  def: FieldDef;
  format: FieldFormat;
  /** Undefined for fields the citizen provides. */
  path?: ResolvedPath;
}

export interface CompiledCondition {
  def: ConditionDef;
  path: ResolvedPath;
  /** Human form, e.g. `enterprise.status == ACTIVE`. */
  text: string;
}

/**
 * A digitised result that replaces a component (`replacedByResult`): the leaves of the
 * DigitisedResult object the decision reads. `revokedOn` is read when the type has it, as a
 * second guard (a revocation date next to a VALID status is not trusted). Expiry is the
 * source's call (status EXPIRED, computed against its own today), not the gateway clock's.
 */
export interface CompiledResult {
  /** As written in the catalog, e.g. `citizen.digitisedResults.marriageCertificate`. */
  path: string;
  registry: string;
  status: ResolvedPath;
  number: ResolvedPath;
  issuingAgency: ResolvedPath;
  revokedOn?: ResolvedPath;
}

export interface CompiledComponent {
  def: ComponentDef;
  replacedBy: ResolvedPath[];
  /** The digitised result that replaces it, when the catalog names one. */
  result?: CompiledResult;
  when: CompiledCondition[];
  tripsAvoided: number;
}

export interface CompiledOperation {
  operationName: string;
  query: string;
  document: DocumentNode;
}

export interface CompiledProcedure {
  def: ProcedureDef;
  /** Catalog file the procedure came from. */
  file: string;
  fields: CompiledField[];
  components: CompiledComponent[];
  /** Every path the procedure reads (fields, components, conditions, results), for group operations. */
  paths: ResolvedPath[];
  /** The operation over every root the procedure uses. */
  operation: CompiledOperation;
  /** Same selections restricted to some roots (when a subject could not be verified); cached. */
  operationFor(roots: ReadonlySet<SubjectRoot>): CompiledOperation | null;
  /** Schema coordinates the procedure may select, relation checks included (purpose policy allow-list). */
  coordinates: ReadonlySet<string>;
  /** True when the only subject is the citizen: no relation to check, the operation itself tells whether the citizen exists. */
  citizenOnly: boolean;
  /**
   * What the purpose allows, as paths: subject root (`citizen`, `relatedCitizen`,
   * `enterprise`, `parcel`) → field names (never aliases) → … exactly as deep as the
   * catalog's paths go. Entity keys and `__typename` are implied at every node.
   */
  pathTree: PathTree;
}


/** One problem of a catalog, located precisely (file, procedure, where, path). */
export interface CatalogProblem {
  file: string;
  procedureId?: string;
  /** e.g. `fields[3] (ngaySinh)`, `dossierComponents[1] (GCN_QSDD).when[0]`. */
  where?: string;
  message: string;
}

export function describeProblem(p: CatalogProblem): string {
  return [p.file, p.procedureId ? `procedure ${p.procedureId}` : null, p.where, p.message].filter(Boolean).join(': ');
}

/** Thrown when the catalog is invalid; the message lists every problem, one per line. */
export class CatalogError extends Error {
  constructor(readonly problems: CatalogProblem[]) {
    super(
      `Invalid procedure catalog (${problems.length} problem${problems.length === 1 ? '' : 's'}); fix the files and restart or reload:\n` +
        problems.map((p) => `  - ${describeProblem(p)}`).join('\n'),
    );
    this.name = 'CatalogError';
  }
}

type Tree = Map<string, Tree>;

function addToTree(tree: Tree, steps: readonly string[]): void {
  let node = tree;
  for (const s of steps) {
    let next = node.get(s);
    if (!next) node.set(s, (next = new Map()));
    node = next;
  }
}

function toPathTree(tree: Tree): PathTree {
  return { children: new Map([...tree].map(([name, sub]) => [name, toPathTree(sub)])) };
}

function printTree(tree: Tree, indent: string): string {
  return [...tree.entries()]
    .map(([name, sub]) => (sub.size === 0 ? `${indent}${name}` : `${indent}${name} {\n${printTree(sub, indent + '  ')}\n${indent}}`))
    .join('\n');
}

/** The leaves a digitised result decision reads. */
export function resultPaths(r: CompiledResult | undefined): ResolvedPath[] {
  if (!r) return [];
  return [r.status, r.number, r.issuingAgency, ...(r.revokedOn ? [r.revokedOn] : [])];
}

/** `lodging-notification` → `PrefillLodgingNotification`. */
export function operationNameOf(procedureId: string): string {
  return 'Prefill' + procedureId.split('-').map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('');
}

function buildOperation(name: string, trees: Map<SubjectRoot, Tree>): string {
  const vars: string[] = [];
  const roots: string[] = [];
  for (const [root, tree] of trees) {
    const r = ROOTS[root];
    vars.push(`$${r.variable}: ID!`);
    const head = r.alias ? `${r.alias}: ${r.queryField}` : r.queryField;
    roots.push(`  ${head}(${r.argument}: $${r.variable}) {\n${printTree(tree, '    ')}\n  }`);
  }
  return `query ${name}(${vars.join(', ')}) {\n${roots.join('\n')}\n}`;
}

function conditionText(c: ConditionDef): string {
  if (c.equals !== undefined) return `${c.path} == ${String(c.equals)}`;
  if (c.notEquals !== undefined) return `${c.path} != ${String(c.notEquals)}`;
  if (c.in !== undefined) return `${c.path} in [${c.in.map(String).join(', ')}]`;
  if (c.min !== undefined) return `${c.path} >= ${c.min}`;
  return `${c.path} <= ${String(c.max)}`;
}

function checkConditionValues(c: ConditionDef, p: ResolvedPath): string | null {
  const values = [c.equals, c.notEquals, ...(c.in ?? [])].filter((v) => v !== undefined);
  const leaf = p.leafType;
  if ((c.min !== undefined || c.max !== undefined) && leaf.name !== 'Int' && leaf.name !== 'Float') {
    return `min/max compare numbers, but ${c.path} is ${leaf.name}`;
  }
  for (const v of values) {
    if (isEnumType(leaf)) {
      if (typeof v !== 'string' || !leaf.getValue(v)) {
        return `${String(v)} is not a value of ${leaf.name} (${leaf.getValues().map((x) => x.name).join(', ')})`;
      }
    } else if ((leaf.name === 'Int' || leaf.name === 'Float') && typeof v !== 'number') return `${c.path} is ${leaf.name}: compare it with a number`;
    else if (leaf.name === 'Boolean' && typeof v !== 'boolean') return `${c.path} is Boolean: compare it with true or false`;
    else if ((leaf.name === 'String' || leaf.name === 'ID') && typeof v !== 'string') return `${c.path} is ${leaf.name}: compare it with a string`;
  }
  return null;
}

/** Schema coordinates (`Type.field`) an operation selects, computed with TypeInfo. */
export function operationCoordinates(model: SupergraphModel, document: DocumentNode): Set<string> {
  const out = new Set<string>();
  const typeInfo = new TypeInfo(model.schema);
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Field(node) {
        const parent = typeInfo.getParentType();
        if (parent && !node.name.value.startsWith('__')) out.add(`${parent.name}.${node.name.value}`);
      },
    }),
  );
  return out;
}

/**
 * Compiles one procedure; throws CatalogError with every problem found in it.
 * `file` is used in messages only.
 */
export function compileProcedure(def: ProcedureDef, file: string, model: SupergraphModel): CompiledProcedure {
  const problems: CatalogProblem[] = [];
  const problem = (where: string | undefined, message: string) => problems.push({ file, procedureId: def.id, where, message });
  const subjects = new Set(def.subjects);
  if (!subjects.has('citizen')) problem('subjects', 'must include citizen (the citizen who files the procedure)');

  const resolve = (where: string, path: string, format?: FieldFormat): (ResolvedPath & { format: FieldFormat }) | undefined => {
    try {
      const r = resolvePath(model, path, format);
      if (!subjects.has(r.root)) {
        problem(where, `path ${path}: starts at ${r.root}, which is not among the procedure's subjects (${def.subjects.join(', ')})`);
        return undefined;
      }
      return r;
    } catch (err) {
      if (err instanceof PathError) {
        problem(where, err.message);
        return undefined;
      }
      throw err;
    }
  };

  /** `replacedByResult`: a path to an object with status (enum with VALID), number and issuingAgency, crossing no list. */
  const compileResult = (where: string, path: string): CompiledResult | undefined => {
    const leaf = (name: string, optional = false) => {
      try {
        return resolvePath(model, `${path}.${name}`);
      } catch (err) {
        if (!(err instanceof PathError)) throw err;
        if (!optional) {
          problem(where, `${path} must be a digitised result (an object with status, number and issuingAgency, e.g. citizen.digitisedResults.marriageCertificate): ${err.message}`);
        }
        return undefined;
      }
    };
    const status = leaf('status');
    if (!status) return undefined;
    const number = leaf('number');
    const issuingAgency = leaf('issuingAgency');
    if (!number || !issuingAgency) return undefined;
    if (!subjects.has(status.root)) {
      problem(where, `path ${path}: starts at ${status.root}, which is not among the procedure's subjects (${def.subjects.join(', ')})`);
      return undefined;
    }
    if (!isEnumType(status.leafType) || !status.leafType.getValue('VALID')) {
      problem(where, `${path}.status must be an enum with the value VALID, but it is ${status.leafType.name}`);
      return undefined;
    }
    if (status.list) {
      problem(where, `${path} crosses a list: name one result (e.g. citizen.digitisedResults.marriageCertificate), not a list of them`);
      return undefined;
    }
    const revokedOn = leaf('revokedOn', true);
    return { path, registry: status.registry, status, number, issuingAgency, ...(revokedOn ? { revokedOn } : {}) };
  };

  const keys = new Set<string>();
  const fields: CompiledField[] = def.fields.map((f, i) => {
    const where = `fields[${i}] (${f.key})`;
    if (keys.has(f.key)) problem(where, `duplicate field key ${f.key}`);
    keys.add(f.key);
    if (f.citizen) return { def: f, format: f.format ?? 'text' };
    const path = resolve(where, f.source!, f.format);
    if (path && f.format === 'label' && f.labels && isEnumType(path.leafType)) {
      const enumType = path.leafType;
      const unknown = Object.keys(f.labels).filter((k) => !enumType.getValue(k));
      if (unknown.length) problem(where, `labels ${unknown.join(', ')} are not values of ${enumType.name}`);
    }
    return { def: f, format: path?.format ?? f.format ?? 'text', path };
  });

  const codes = new Set<string>();
  const components: CompiledComponent[] = def.dossierComponents.map((c, i) => {
    const where = `dossierComponents[${i}] (${c.code})`;
    if (codes.has(c.code)) problem(where, `duplicate component code ${c.code}`);
    codes.add(c.code);
    const paths = c.replacedBy === undefined ? [] : Array.isArray(c.replacedBy) ? c.replacedBy : [c.replacedBy];
    const replacedBy = paths.map((p, j) => resolve(`${where}.replacedBy[${j}]`, p)).filter((p): p is ResolvedPath & { format: FieldFormat } => !!p);
    if ((c.when?.length ?? 0) > 0 && paths.length === 0) problem(where, 'conditions (when) need replacedBy: a component no registry replaces is always required');
    const result = c.replacedByResult === undefined ? undefined : compileResult(`${where}.replacedByResult`, c.replacedByResult);
    const when = (c.when ?? []).flatMap((cond, j): CompiledCondition[] => {
      const w = `${where}.when[${j}]`;
      const path = resolve(w, cond.path);
      if (!path) return [];
      const bad = checkConditionValues(cond, path);
      if (bad) {
        problem(w, bad);
        return [];
      }
      return [{ def: cond, path, text: conditionText(cond) }];
    });
    return { def: c, replacedBy, ...(result ? { result } : {}), when, tripsAvoided: c.tripsAvoided ?? 1 };
  });
  if (problems.length) throw new CatalogError(problems);

  const allPaths: ResolvedPath[] = [
    ...fields.flatMap((f) => (f.path ? [f.path] : [])),
    ...components.flatMap((c) => [...c.replacedBy, ...c.when.map((w) => w.path), ...resultPaths(c.result)]),
  ];
  const target = compileTarget(model, operationNameOf(def.id), def.subjects, allPaths, (where, message) => ({ file, procedureId: def.id, where, message }));
  return { def, file, fields, components, paths: allPaths, ...target };
}

/** What a prefill fetches with: the operation over some paths, its restrictions, allow-lists. */
export interface CompiledTarget {
  operation: CompiledOperation;
  operationFor(roots: ReadonlySet<SubjectRoot>): CompiledOperation | null;
  coordinates: ReadonlySet<string>;
  citizenOnly: boolean;
  pathTree: PathTree;
}

/**
 * The operation selecting exactly `allPaths` for the given subjects (a procedure's, or the
 * union of a group's procedures'), validated against the supergraph, with its allow-lists.
 * `locate` builds a problem's location for the CatalogError.
 */
export function compileTarget(
  model: SupergraphModel,
  operationName: string,
  subjectList: readonly SubjectRoot[],
  allPaths: readonly ResolvedPath[],
  locate: (where: string | undefined, message: string) => CatalogProblem,
): CompiledTarget {
  const subjects = new Set(subjectList);
  const cache = new Map<string, CompiledOperation | null>();
  const operationFor = (roots: ReadonlySet<SubjectRoot>): CompiledOperation | null => {
    const key = [...roots].sort().join(',');
    const hit = cache.get(key);
    if (hit !== undefined) return hit;
    const trees = new Map<SubjectRoot, Tree>();
    // Canonical root order (citizen first): the policy reads the first personal ID as the citizen.
    for (const root of SUBJECT_ROOTS) {
      if (!roots.has(root) || !subjects.has(root)) continue;
      const mine = allPaths.filter((p) => p.root === root);
      if (mine.length === 0) continue;
      const tree: Tree = new Map();
      for (const p of mine) addToTree(tree, p.selection);
      trees.set(root, tree);
    }
    const op = trees.size === 0 ? null : (() => {
      const query = buildOperation(operationName, trees);
      return { operationName, query, document: parse(query) };
    })();
    cache.set(key, op);
    return op;
  };
  const operation = operationFor(subjects);
  if (!operation) throw new CatalogError([locate(undefined, 'no field or component reads a registry: nothing to prefill')]);
  const errors = validate(model.schema, operation.document);
  if (errors.length) throw new CatalogError(errors.map((e) => locate('compiled operation', e.message)));

  const coordinates = operationCoordinates(model, operation.document);
  for (const c of RELATION_COORDINATES.citizen) coordinates.add(c);
  const related: Record<SubjectRoot, RelatedSubject | null> = { citizen: null, relatedCitizen: 'relatedPersonalId', enterprise: 'enterpriseCode', parcel: 'parcelId' };
  for (const s of subjects) {
    const r = related[s];
    if (r) for (const c of RELATION_COORDINATES[r]) coordinates.add(c);
  }
  const citizenOnly = subjects.size === 1 && subjects.has('citizen');
  const roots: Tree = new Map();
  for (const p of allPaths) addToTree(roots, [p.root, ...p.selection]);
  return { operation, operationFor, coordinates, citizenOnly, pathTree: toPathTree(roots) };
}
