/**
 * Serves the static, build-time composed supergraph file to @apollo/gateway
 * (its `supergraphSdl: SupergraphManager` form) and reloads it without a restart
 * when the file changes.
 *
 * A changed file is read after a short debounce (editors and `npm run compose`
 * write in several steps), checked (GraphQL syntax, then the gateway's own
 * supergraph validation inside `update`), and only then swapped in. An invalid
 * file is logged with the reason and the previous supergraph keeps serving.
 */
import { createHash } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { SupergraphManager } from '@apollo/gateway';
import { parse, type GraphQLSchema } from 'graphql';
import { subgraphsOfSupergraph, type SubgraphInfo } from './supergraph-subgraphs.js';

/** What @apollo/gateway hands a SupergraphManager (`update`, `healthCheck`, `getDataSource`). */
type SupergraphSdlHookOptions = Parameters<SupergraphManager['initialize']>[0];

/** What concerns and /ready may read about the supergraph being served. */
export interface SupergraphSource {
  readonly file: string;
  /** The SDL being served, or null before the first load. */
  sdl(): string | null;
  /** SHA-256 of that SDL (the gateway's composition id). */
  id(): string | null;
  /** The client-facing API schema (set by the gateway once loaded), or null. */
  apiSchema(): GraphQLSchema | null;
  /** Subgraphs of the served supergraph, with URL overrides applied. */
  subgraphs(): SubgraphInfo[];
  /** The reason the last reload was refused, null when the file on disk is the one served. */
  lastError(): string | null;
  /** Called after every successful load or reload, with the new API schema. */
  onChange(listener: (apiSchema: GraphQLSchema) => void): () => void;
}

export interface FileSupergraphOptions {
  file: string;
  /** Watch the file and reload on change. Default: true. */
  watch?: boolean;
  /** Wait this long after the last change event before reading the file. Default: 150 ms. */
  debounceMs?: number;
  /** URL overrides by subgraph name (reported by `subgraphs()`; the data sources apply them too). */
  subgraphUrls?: Partial<Record<string, string>>;
  logger?: { info(msg: string): void; error(msg: string): void };
}

function sha256(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

/** Syntax check with a readable location, before handing the SDL to the gateway. */
export function checkSupergraphSyntax(sdl: string, file: string): string | null {
  try {
    const doc = parse(sdl);
    const hasJoin = doc.definitions.some((d) => d.kind === 'EnumTypeDefinition' && d.name.value === 'join__Graph');
    return hasJoin ? null : `${file} is not a composed supergraph (no join__Graph enum): run npm run compose to produce one.`;
  } catch (err) {
    return `${file} is not valid GraphQL: ${(err as Error).message}`;
  }
}

export class FileSupergraphManager implements SupergraphManager, SupergraphSource {
  readonly file: string;
  private readonly opts: Required<Omit<FileSupergraphOptions, 'logger' | 'subgraphUrls'>> & FileSupergraphOptions;
  private current: { sdl: string; id: string; subgraphs: SubgraphInfo[] } | null = null;
  private schema: GraphQLSchema | null = null;
  private error: string | null = null;
  private update: SupergraphSdlHookOptions['update'] | null = null;
  private watcher: FSWatcher | null = null;
  private timer: NodeJS.Timeout | null = null;
  private reloading: Promise<boolean> | null = null;
  private readonly listeners = new Set<(apiSchema: GraphQLSchema) => void>();

  constructor(opts: FileSupergraphOptions) {
    this.file = path.resolve(opts.file);
    this.opts = { watch: true, debounceMs: 150, ...opts, file: this.file };
  }

  sdl(): string | null {
    return this.current?.sdl ?? null;
  }
  id(): string | null {
    return this.current?.id ?? null;
  }
  apiSchema(): GraphQLSchema | null {
    return this.schema;
  }
  subgraphs(): SubgraphInfo[] {
    return this.current?.subgraphs ?? [];
  }
  lastError(): string | null {
    return this.error;
  }
  onChange(listener: (apiSchema: GraphQLSchema) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Called by app.ts from the gateway's `onSchemaLoadOrUpdate`. */
  schemaLoaded(apiSchema: GraphQLSchema): void {
    this.schema = apiSchema;
    for (const l of this.listeners) {
      try {
        l(apiSchema);
      } catch (err) {
        this.opts.logger?.error(`A supergraph change listener failed: ${(err as Error).message}`);
      }
    }
  }

  private describe(sdl: string): { sdl: string; id: string; subgraphs: SubgraphInfo[] } {
    return { sdl, id: sha256(sdl), subgraphs: subgraphsOfSupergraph(sdl, this.opts.subgraphUrls) };
  }

  /** SupergraphManager.initialize: first load (an invalid file fails startup), then watch. */
  async initialize({ update }: SupergraphSdlHookOptions): Promise<{ supergraphSdl: string; cleanup: () => Promise<void> }> {
    let sdl: string;
    try {
      sdl = await readFile(this.file, 'utf8');
    } catch (err) {
      throw new Error(`Cannot read the supergraph file ${this.file}: ${(err as Error).message}. Run npm run compose or set SUPERGRAPH_FILE.`);
    }
    const syntax = checkSupergraphSyntax(sdl, this.file);
    if (syntax) throw new Error(syntax);
    this.current = this.describe(sdl);
    this.update = update;
    if (this.opts.watch) this.startWatching();
    return { supergraphSdl: sdl, cleanup: async () => this.stop() };
  }

  private startWatching(): void {
    // Watch the directory, not the file: tools that replace the file (rename over
    // it) would otherwise leave us watching a deleted inode.
    const dir = path.dirname(this.file);
    const base = path.basename(this.file);
    this.watcher = watch(dir, { persistent: false }, (_event, filename) => {
      if (filename !== null && filename.toString() !== base) return;
      if (this.timer) clearTimeout(this.timer);
      this.timer = setTimeout(() => {
        this.timer = null;
        void this.reload();
      }, this.opts.debounceMs);
    });
    this.watcher.on('error', (err) => this.opts.logger?.error(`Stopped watching ${this.file}: ${err.message}`));
  }

  /**
   * Re-reads the file and swaps it in when valid. Resolves true when a new
   * supergraph is served, false when unchanged or refused (see `lastError()`).
   */
  reload(): Promise<boolean> {
    // Serialise: the gateway refuses `update` while another update runs.
    const run = async (): Promise<boolean> => {
      if (!this.update) return false;
      let sdl: string;
      try {
        sdl = await readFile(this.file, 'utf8');
      } catch (err) {
        return this.refuse(`Cannot read ${this.file}: ${(err as Error).message}`);
      }
      if (this.current && sha256(sdl) === this.current.id) {
        this.error = null;
        return false;
      }
      const syntax = checkSupergraphSyntax(sdl, this.file);
      if (syntax) return this.refuse(syntax);
      try {
        this.update(sdl);
      } catch (err) {
        return this.refuse(`${this.file} is not a valid supergraph: ${(err as Error).message}`);
      }
      this.current = this.describe(sdl);
      this.error = null;
      this.opts.logger?.info(`Supergraph reloaded from ${this.file} (composition ${this.current.id.slice(0, 12)}).`);
      return true;
    };
    const next = (this.reloading ?? Promise.resolve(false)).then(run, run);
    this.reloading = next;
    return next;
  }

  private refuse(reason: string): false {
    this.error = reason;
    this.opts.logger?.error(`Supergraph change refused, still serving composition ${this.current?.id.slice(0, 12)}: ${reason}`);
    return false;
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.watcher?.close();
    this.watcher = null;
    this.update = null;
    await this.reloading;
  }
}
