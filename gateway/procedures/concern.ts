/**
 * The procedures concern: loads and validates the catalog when the gateway starts (an
 * invalid catalog stops the start with a CatalogError naming file, procedure and path),
 * serves the `procedures` subgraph inside the gateway (LocalGraphQLDataSource: its
 * resolvers get the request's MotlanContext), and reloads the catalog when a catalog
 * file or the supergraph changes. A reload that fails is logged and the previous
 * catalog keeps serving, as for the supergraph.
 */
import { watch, type FSWatcher } from 'node:fs';
import { readFileSync } from 'node:fs';
import { defineConcern, type ConcernEnv } from '../core/concern.js';
import type { ConcernParts } from '../core/concern.js';
import type { InnerExecutor } from '../core/inner-execution.js';
import { CatalogError } from './compile.js';
import { ProcedureService } from './service.js';

/** Settings of the concern, read from `GatewayOptions.procedures`. */
export interface ProceduresConcernOptions {
  /** Catalog folders. Default: `schema/procedures/` plus `PROCEDURES_DIR_EXTRA` when set. */
  dirs?: string[];
  /** Reload the catalog when a file of its folders changes. Default: the gateway's `watchSupergraph` (true). */
  watch?: boolean;
  /** Wait this long after the last change before reloading. Default: 200 ms. */
  debounceMs?: number;
}

export const procedures = defineConcern({
  name: 'procedures',
  slice: 'procedures',
  options: (own: ProceduresConcernOptions | undefined, { core }) => ({ dirs: own?.dirs, watch: own?.watch ?? core.watchSupergraph, debounceMs: own?.debounceMs ?? 200 }),
  // PROCEDURES_DIR_EXTRA is read by the catalog loader (catalog.ts).
  variables: ['PROCEDURES_DIR_EXTRA'],
  provides: ['procedures'],
  needs: ['executor'],
  create: (env) => startProcedures(env, env.services.need('executor')),
});

function startProcedures(env: ConcernEnv<{ dirs?: string[]; watch: boolean; debounceMs: number }>, execute: InnerExecutor): ConcernParts {
  const own = env.own;
  // The manager may not have loaded the file yet when concerns are built: read it here.
  const supergraphSdl = env.supergraph.sdl() ?? readFileSync(env.core.supergraphFile, 'utf8');
  // Inner operations go through the gateway's own Apollo Server (the core's executor).
  const service = new ProcedureService({ supergraphSdl, dirs: own.dirs, env: env.core.env, execute });
  env.logger.info(`Procedure catalog: ${service.catalog.byId.size} procedures from ${service.catalog.dirs.join(', ')}`);

  const reload = (why: string, sdl?: string) => {
    try {
      const c = service.reload(sdl);
      env.logger.info(`Procedure catalog reloaded (${why}): ${c.byId.size} procedures`);
    } catch (err) {
      const msg = err instanceof CatalogError ? err.message : (err as Error).message;
      env.logger.error(`Procedure catalog reload refused (${why}); the previous catalog keeps serving.\n${msg}`);
    }
  };
  const unsubscribe = env.supergraph.onChange(() => {
    const sdl = env.supergraph.sdl();
    if (sdl) reload('supergraph changed', sdl);
  });

  const watchers: FSWatcher[] = [];
  let timer: NodeJS.Timeout | null = null;
  if (own.watch) {
    for (const dir of service.catalog.dirs) {
      try {
        const w = watch(dir, () => {
          if (timer) clearTimeout(timer);
          timer = setTimeout(() => reload('catalog folder changed'), own.debounceMs);
        });
        w.unref();
        watchers.push(w);
      } catch (err) {
        env.logger.warn(`Cannot watch ${dir} (${(err as Error).message}): restart the gateway to pick up catalog changes.`);
      }
    }
  }

  return {
    services: { procedures: service },
    localSubgraphs: { procedures: service.schema() },
    async close() {
      if (timer) clearTimeout(timer);
      for (const w of watchers) w.close();
      unsubscribe();
    },
  };
}
