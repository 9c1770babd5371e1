/**
 * Interconnected procedure groups (nhóm thủ tục liên thông, Nghị định 63/2024/NĐ-CP): the
 * files of `<catalog folder>/groups/`, one group each, validated like procedure files and
 * compiled into ONE operation over the union of their procedures' paths, so one request
 * prefills every form of the group with one fetch.
 *
 * A group id is also a purpose (X-Purpose, subject tokens, audit `procedureId`): its allowed
 * path tree is the union of its procedures' trees. Group ids therefore never equal a
 * procedure id, and the load fails when one does.
 */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { SUBJECT_ROOTS, groupSchema, type GroupDef, type SubjectRoot } from './catalog-format.js';
import { catalogFiles, readCatalogFile } from './catalog-files.js';
import { compileTarget, operationNameOf, type CatalogProblem, type CompiledProcedure, type CompiledTarget } from './compile.js';
import type { SupergraphModel } from './supergraph-model.js';

export interface CompiledGroup extends CompiledTarget {
  def: GroupDef;
  /** Group file. */
  file: string;
  /** The procedures, in the group's order. */
  procedures: CompiledProcedure[];
  /** Union of the procedures' subjects, in canonical order (citizen first). */
  subjects: SubjectRoot[];
}

/** `<dir>/groups` when it exists. */
export function groupDir(dir: string): string | null {
  const g = path.join(dir, 'groups');
  return existsSync(g) && statSync(g).isDirectory() ? g : null;
}

/** Reads, validates and compiles the groups of the catalog folders; problems are appended. */
export function loadGroups(
  dirs: readonly string[],
  procedures: ReadonlyMap<string, CompiledProcedure>,
  model: SupergraphModel,
  relative: (file: string) => string,
  problems: CatalogProblem[],
): CompiledGroup[] {
  const seen = new Map<string, string>();
  const out: CompiledGroup[] = [];
  for (const dir of dirs) {
    const gdir = groupDir(dir);
    if (!gdir) continue;
    for (const file of catalogFiles(gdir)) {
      const rel = relative(file);
      const fileProblems: CatalogProblem[] = [];
      const def = readCatalogFile(file, groupSchema, fileProblems);
      problems.push(...fileProblems.map((p) => ({ ...p, file: rel })));
      if (!def) continue;
      const problem = (where: string | undefined, message: string): CatalogProblem => ({ file: rel, procedureId: def.id, where, message });
      const before = problems.length;
      const first = seen.get(def.id);
      if (first) problems.push(problem('id', `duplicate group id ${def.id}, already defined in ${first}`));
      if (procedures.has(def.id)) problems.push(problem('id', `group id ${def.id} is also a procedure id (${procedures.get(def.id)!.file}): a group id is a purpose of its own, give it another id`));
      const members: CompiledProcedure[] = [];
      def.procedures.forEach((id, i) => {
        const p = procedures.get(id);
        if (!p) problems.push(problem(`procedures[${i}]`, `unknown procedure ${id}: add schema/procedures/${id}.yaml or fix the id (known: ${[...procedures.keys()].join(', ') || 'none'})`));
        else if (members.includes(p)) problems.push(problem(`procedures[${i}]`, `procedure ${id} is listed twice`));
        else members.push(p);
      });
      seen.set(def.id, rel);
      if (problems.length > before) continue;
      const subjectSet = new Set(members.flatMap((p) => p.def.subjects));
      const subjects = SUBJECT_ROOTS.filter((r) => subjectSet.has(r));
      try {
        const target = compileTarget(model, `Group${operationNameOf(def.id)}`, subjects, members.flatMap((p) => p.paths), problem);
        out.push({ def, file: rel, procedures: members, subjects, ...target });
      } catch (err) {
        if (err instanceof Error && 'problems' in err) problems.push(...(err as { problems: CatalogProblem[] }).problems);
        else throw err;
      }
    }
  }
  return out.sort((a, b) => a.def.id.localeCompare(b.def.id));
}
