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

export interface CompiledComponent {
  def: ComponentDef;
  replacedBy: ResolvedPath[];
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
    return { def: c, replacedBy, when, tripsAvoided: c.tripsAvoided ?? 1 };
  });
  if (problems.length) throw new CatalogError(problems);

  const allPaths: ResolvedPath[] = [
    ...fields.flatMap((f) => (f.path ? [f.path] : [])),
    ...components.flatMap((c) => [...c.replacedBy, ...c.when.map((w) => w.path)]),
  ];
  const operationName = operationNameOf(def.id);
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
  const operation = operationFor(new Set(def.subjects));
  if (!operation) throw new CatalogError([{ file, procedureId: def.id, message: 'no field or component reads a registry: nothing to prefill' }]);
  const errors = validate(model.schema, operation.document);
  if (errors.length) {
    throw new CatalogError(errors.map((e) => ({ file, procedureId: def.id, where: 'compiled operation', message: e.message })));
  }

  const coordinates = operationCoordinates(model, operation.document);
  for (const c of RELATION_COORDINATES.citizen) coordinates.add(c);
  const related: Record<SubjectRoot, RelatedSubject | null> = { citizen: null, relatedCitizen: 'relatedPersonalId', enterprise: 'enterpriseCode', parcel: 'parcelId' };
  for (const s of def.subjects) {
    const r = related[s];
    if (r) for (const c of RELATION_COORDINATES[r]) coordinates.add(c);
  }
  const citizenOnly = def.subjects.length === 1 && def.subjects[0] === 'citizen';
  const roots: Tree = new Map();
  for (const p of allPaths) addToTree(roots, [p.root, ...p.selection]);
  return { def, file, fields, components, operation, operationFor, coordinates, citizenOnly, pathTree: toPathTree(roots) };
}
