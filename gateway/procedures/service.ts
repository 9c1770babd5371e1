/**
 * The procedure service: holds the current catalog (swapped atomically on reload), the
 * executor prefill runs its operations with, and the `procedures` subgraph schema whose
 * resolvers read the current catalog at call time (so a reload needs no new schema).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { GraphQLError, parse, type GraphQLSchema } from 'graphql';
import type { MotlanContext } from '../core/context.js';
import { REPO_ROOT } from '../../lib/repo-root.js';
import type { ProcedureCatalog } from '../core/services.js';
import { loadCatalog, type Catalog } from './catalog.js';
import type { CompiledProcedure, PathTree } from './compile.js';
import { outerContext, type InnerExecutor } from '../core/inner-execution.js';
import { prefill, type PrefillArgs, type PrefilledForm } from './prefill.js';
import { groupView, procedureView } from './view.js';
import type { CompiledGroup } from './groups.js';
import { prefillGroup, type PrefillGroupArgs, type PrefilledGroup } from './group-prefill.js';
import { registerPlainRoot } from './plain-execution.js';

export const PROCEDURES_SDL_FILE = path.join(REPO_ROOT, 'schema', 'procedures.graphql');

export interface ProcedureServiceOptions {
  /** Composed supergraph SDL the catalog is validated against. */
  supergraphSdl: string;
  /** Catalog folders. Default: `schema/procedures/` plus `PROCEDURES_DIR_EXTRA` (see catalog.ts). */
  dirs?: string[];
  /** Where PROCEDURES_DIR_EXTRA is read. Default: `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Runs inner operations through the gateway pipeline. Default: none until `setExecutor`. */
  execute?: InnerExecutor;
  /** Clock for `retrievedAt`. Default: the system clock. */
  now?: () => Date;
}

/** The procedure catalog of ONE gateway; the procedures concern provides it as the `procedures` service. */
export class ProcedureService implements ProcedureCatalog {
  private current: Catalog;
  private supergraphSdl: string;
  private execute: InnerExecutor | null;
  private builtSchema: GraphQLSchema | null = null;
  /** `version` of each compiled procedure or group (a reload compiles new objects). */
  private readonly versions = new WeakMap<object, string>();
  /** sha256 of `supergraphSdl`, once per supergraph (every purpose's version includes it). */
  private supergraphHash: string | null = null;

  /** Loads the catalog; throws CatalogError (naming file, procedure and path) when it is invalid. */
  constructor(private readonly opts: ProcedureServiceOptions) {
    this.supergraphSdl = opts.supergraphSdl;
    this.current = loadCatalog({ supergraphSdl: opts.supergraphSdl, dirs: opts.dirs, env: opts.env });
    this.execute = opts.execute ?? null;
  }

  get catalog(): Catalog {
    return this.current;
  }

  list(): CompiledProcedure[] {
    return [...this.current.byId.values()];
  }

  get(id: string): CompiledProcedure | undefined {
    return this.current.byId.get(id);
  }

  /**
   * Re-reads every catalog folder (and optionally a new supergraph) and swaps the
   * catalog in. On error the previous catalog keeps serving and the CatalogError is thrown.
   */
  reload(supergraphSdl?: string): Catalog {
    const next = loadCatalog({ supergraphSdl: supergraphSdl ?? this.supergraphSdl, dirs: this.opts.dirs, env: this.opts.env });
    if (supergraphSdl && supergraphSdl !== this.supergraphSdl) {
      this.supergraphSdl = supergraphSdl;
      this.supergraphHash = null;
    }
    this.current = next;
    return next;
  }

  setExecutor(execute: InnerExecutor): void {
    this.execute = execute;
  }

  groups(): CompiledGroup[] {
    return [...this.current.groups.values()];
  }

  /**
   * Schema coordinates (`Type.field`) the procedure's compiled operation and its relation
   * checks select; null for an unknown procedure. The purpose policy's allow-list.
   * A group id is a purpose too: its allow-list is the union of its procedures'.
   */
  fieldCoordinates(procedureId: string): ReadonlySet<string> | null {
    return (this.current.byId.get(procedureId) ?? this.current.groups.get(procedureId))?.coordinates ?? null;
  }

  /** The procedure's (or group's) allowed path tree (see `CompiledProcedure.pathTree`); null when unknown. */
  pathTree(procedureId: string): PathTree | null {
    return (this.current.byId.get(procedureId) ?? this.current.groups.get(procedureId))?.pathTree ?? null;
  }

  /** The procedures of a group, in order; null when `id` names no group. */
  groupProcedures(id: string): string[] | null {
    return this.current.groups.get(id)?.procedures.map((p) => p.def.id) ?? null;
  }

  /** See ProcedureCatalog.version: sha256 of the definitions (and the supergraph they compile against), once per compiled object. */
  version(purposeId: string): string | null {
    const target = this.current.byId.get(purposeId) ?? this.current.groups.get(purposeId);
    if (!target) return null;
    let v = this.versions.get(target);
    if (v === undefined) {
      const defs = 'procedures' in target ? [target.def, ...target.procedures.map((p) => p.def)] : [target.def];
      v = createHash('sha256').update(JSON.stringify(defs)).update('\u0000').update((this.supergraphHash ??= createHash('sha256').update(this.supergraphSdl).digest('hex'))).digest('base64url').slice(0, 22);
      this.versions.set(target, v);
    }
    return v;
  }

  /** Ids of the interconnected groups of the current catalog. */
  groupIds(): string[] {
    return [...this.current.groups.keys()];
  }

  /** Ids of the procedures of the current catalog. */
  ids(): string[] {
    return [...this.current.byId.keys()];
  }

  /** The procedure's display name in the catalog (Vietnamese), or null when unknown (audit: citizen history). */
  name(procedureId: string): string | null {
    return (this.current.byId.get(procedureId) ?? this.current.groups.get(procedureId))?.def.name ?? null;
  }

  /** Its English name (`nameEn` of its file, C2), or null when unknown or not given (console's English view). */
  nameEn(procedureId: string): string | null {
    // A group id is a purpose too (audit, statistics): its English name as well.
    return (this.current.byId.get(procedureId) ?? this.current.groups.get(procedureId))?.def.nameEn ?? null;
  }

  /** The procedure's compiled operation, or null when unknown. */
  operation(procedureId: string): { query: string; operationName: string } | null {
    const op = this.current.byId.get(procedureId)?.operation;
    return op ? { query: op.query, operationName: op.operationName } : null;
  }

  prefill(args: PrefillArgs, context: MotlanContext): Promise<PrefilledForm> {
    if (!this.execute) throw new Error('The procedure service has no executor: the gateway must call setExecutor() once Apollo Server has started.');
    return prefill({ catalog: this.current, execute: this.execute, now: this.opts.now }, args, context);
  }

  prefillGroup(args: PrefillGroupArgs, context: MotlanContext): Promise<PrefilledGroup> {
    if (!this.execute) throw new Error('The procedure service has no executor: the gateway must call setExecutor() once Apollo Server has started.');
    return prefillGroup({ catalog: this.current, execute: this.execute, now: this.opts.now }, args, context);
  }

  /** The `procedures` subgraph (schema/procedures.graphql) served inside the gateway. */
  schema(): GraphQLSchema {
    if (this.builtSchema) return this.builtSchema;
    const typeDefs = parse(readFileSync(PROCEDURES_SDL_FILE, 'utf8'));
    this.builtSchema = buildSubgraphSchema({
      typeDefs,
      resolvers: {
        Query: {
          procedures: () => this.list().map(procedureView),
          procedure: (_: unknown, { id }: { id: string }) => {
            const p = this.get(id);
            return p ? procedureView(p) : null;
          },
          prefill: (_: unknown, args: PrefillArgs, context: MotlanContext) => this.prefillField(args, context),
          procedureGroups: () => this.groups().map(groupView),
          procedureGroup: (_: unknown, { id }: { id: string }) => {
            const g = this.current.groups.get(id);
            return g ? groupView(g) : null;
          },
          prefillGroup: async (_: unknown, args: PrefillGroupArgs, context: MotlanContext) => {
            requireGatewayContext(context);
            const done = await this.prefillGroup(args, context);
            const { forms: _forms, fieldsShown: _shown, ...counts } = done.summary;
            // ONE audit note for the request: the group's counts (each value and component
            // once), naming the group and its procedures.
            outerContext(context).prefill = { ...counts, groupId: done.group.def.id, procedureIds: done.group.procedures.map((p) => p.def.id) };
            return {
              group: groupView(done.group),
              forms: done.forms.map((form) => ({ fields: form.fields, dossierComponents: form.dossierComponents, summary: form.summary, procedure: procedureView(form.procedure) })),
              dossierComponents: done.dossierComponents,
              summary: done.summary,
            };
          },
        },
      } as never,
    });
    // The form is plain data: the in-gateway data source projects the selection onto it
    // instead of resolving every leaf through graphql-js (plain-execution.ts).
    registerPlainRoot(this.builtSchema, 'prefill', (args, context) => this.prefillField(args as unknown as PrefillArgs, context as MotlanContext));
    return this.builtSchema;
  }

  /** `Query.prefill` of the procedures subgraph. */
  private async prefillField(args: PrefillArgs, context: MotlanContext): Promise<unknown> {
    requireGatewayContext(context);
    const form = await this.prefill(args, context);
    // Counts only (no values), for the audit record and the data-sharing statistics.
    outerContext(context).prefill = { ...form.summary };
    return { fields: form.fields, dossierComponents: form.dossierComponents, summary: form.summary, procedure: procedureView(form.procedure) };
  }
}

function requireGatewayContext(context: MotlanContext): void {
  if (!context || typeof context !== 'object' || !('trace' in context)) {
    throw new GraphQLError('prefill runs inside the Motlan gateway only (no request context).', { extensions: { code: 'INTERNAL_SERVER_ERROR' } });
  }
}
