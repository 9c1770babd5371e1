/**
 * The sandbox: GraphiQL at `GET /`, served entirely from npm-installed assets so it
 * works with no internet access. In development it opens with example operations
 * on real records of the demo world and the demo API key in the headers editor; in
 * production it never carries a key and uses placeholder identifiers.
 */
import { gzipSync } from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { World } from '../../mocks/world/types.js';
import { loadSandboxAssets, type SandboxAsset } from './assets.js';
import { buildExamples, pickExampleSubjects, PLACEHOLDER_SUBJECTS, type SandboxExample } from './examples.js';
import { readDemoKey, type DemoKey } from './demo-key.js';
import { renderSandboxPage, SANDBOX_CSS, sandboxPageHeaders, type SandboxPage } from './page.js';

export type { SandboxExample } from './examples.js';

export interface SandboxOptions {
  /** Path of the page. Default `/`. */
  path?: string;
  /** GraphQL endpoint the page calls. Default `/graphql`. */
  endpoint?: string;
  /** URL prefix of the assets (must end with `/`). Default `/sandbox/assets/`. */
  assetsPrefix?: string;
  /** Production: no demo key, placeholder examples. Default `NODE_ENV === 'production'`. */
  production?: boolean;
  /**
   * Demo key prefilled in the headers editor (ignored in production). Default: the
   * first demo client key of `demoClientsFile`; `null` prefills nothing.
   */
  demoApiKey?: string | null;
  /** Whose demo key it is, shown in the banner (with `demoApiKey`). Default: none. */
  demoClientLabel?: string | null;
  /** Demo clients file the default demo key is read from. Default `mocks/clients.demo.json`. */
  demoClientsFile?: string;
  /**
   * The tabs. Default: the dossier, enterprise and parcel examples on records of
   * `world`, else of the demo world generated from `MOCK_SEED`/`MOCK_CITIZENS`
   * (exactly what the mock registries serve), else placeholders in production.
   */
  examples?: SandboxExample[];
  /** The world the mock registries serve (tests pass theirs to skip generating it again). */
  world?: World;
  /** Where MOCK_SEED/MOCK_CITIZENS are read from. Default `process.env`. */
  env?: NodeJS.ProcessEnv;
}

/** Long, immutable caching: asset URLs carry a content version (`?v=`). */
const ASSET_CACHE_CONTROL = 'public, max-age=31536000, immutable';

function envInt(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  return Number.isInteger(n) && n >= 0 ? n : undefined;
}

/**
 * The demo world is generated here only when nobody handed us one: the gateway
 * process and the mock registries derive it from the same seed, so the examples
 * name records the registries really hold. Imported lazily so production never
 * loads the generator.
 */
async function demoWorldExamples(opts: SandboxOptions): Promise<SandboxExample[]> {
  let world = opts.world;
  if (!world) {
    const env = opts.env ?? process.env;
    const { generateWorld } = await import('../../mocks/world/generate.js');
    world = generateWorld({ seed: envInt(env, 'MOCK_SEED'), citizens: envInt(env, 'MOCK_CITIZENS') });
  }
  return buildExamples(pickExampleSubjects(world));
}

function acceptsGzip(request: FastifyRequest): boolean {
  const header = request.headers['accept-encoding'];
  return typeof header === 'string' && /\bgzip\b/.test(header);
}

/** GraphiQL's bundle is 3.5 MB; gzip it once, on first demand, for slow government links. */
const gzipCache = new WeakMap<SandboxAsset, Buffer>();
function gzipped(asset: SandboxAsset): Buffer {
  let body = gzipCache.get(asset);
  if (!body) {
    body = gzipSync(asset.body, { level: 9 });
    gzipCache.set(asset, body);
  }
  return body;
}

function sendAsset(request: FastifyRequest, reply: FastifyReply, asset: SandboxAsset): FastifyReply {
  reply
    .header('content-type', asset.contentType)
    .header('cache-control', ASSET_CACHE_CONTROL)
    .header('etag', asset.etag)
    .header('vary', 'accept-encoding')
    .header('x-content-type-options', 'nosniff')
    .header('cross-origin-resource-policy', 'same-origin');
  if (request.headers['if-none-match'] === asset.etag) return reply.code(304).send();
  if (acceptsGzip(request) && asset.body.length > 1024) {
    return reply.header('content-encoding', 'gzip').send(gzipped(asset));
  }
  return reply.send(asset.body);
}

/**
 * Adds the sandbox routes to `app` (call before `app.ready()`/`listen()`). Assets
 * are read synchronously here, so a broken install fails at startup, not on the
 * first visit. The page itself is built on first request (it may need the world).
 */
export function registerSandbox(app: FastifyInstance, opts: SandboxOptions = {}): void {
  const production = opts.production ?? (opts.env ?? process.env).NODE_ENV === 'production';
  const pagePath = opts.path ?? '/';
  const endpoint = opts.endpoint ?? '/graphql';
  const assetsPrefix = opts.assetsPrefix ?? '/sandbox/assets/';
  if (!assetsPrefix.endsWith('/')) throw new Error(`Sandbox assetsPrefix ${JSON.stringify(assetsPrefix)} must end with "/".`);

  const assets = new Map(loadSandboxAssets());
  const css = Buffer.from(SANDBOX_CSS, 'utf8');
  assets.set('sandbox.css', { name: 'sandbox.css', contentType: 'text/css; charset=utf-8', body: css, etag: `"sandbox-css-${css.length}"` });
  const assetVersions = Object.fromEntries([...assets.values()].map((a) => [a.name, a.etag.replace(/"/g, '')]));

  let page: Promise<SandboxPage> | undefined;
  const buildPage = async (): Promise<SandboxPage> => {
    const demo: DemoKey | null = production
      ? null
      : opts.demoApiKey !== undefined
        ? (opts.demoApiKey ? { key: opts.demoApiKey, label: opts.demoClientLabel ?? null } : null)
        : readDemoKey(opts.demoClientsFile);
    const examples = opts.examples ?? (production ? buildExamples(PLACEHOLDER_SUBJECTS) : await demoWorldExamples(opts));
    return renderSandboxPage({
      endpoint,
      assetsPrefix,
      assetVersions,
      examples,
      demoApiKey: demo?.key ?? null,
      demoClientLabel: demo?.label ?? null,
      production,
    });
  };

  app.get(pagePath, async (_request, reply) => {
    page ??= buildPage();
    let built: SandboxPage;
    try {
      built = await page;
    } catch (err) {
      page = undefined; // let the next visit retry (e.g. after fixing MOCK_CITIZENS)
      throw err;
    }
    return reply.headers(sandboxPageHeaders(built.csp)).send(built.html);
  });

  app.get(`${assetsPrefix}:file`, async (request, reply) => {
    const { file } = request.params as { file: string };
    const asset = assets.get(file);
    if (!asset) {
      return reply.code(404).send({ error: 'not_found', message: `No sandbox asset named ${JSON.stringify(file)}.` });
    }
    return sendAsset(request, reply, asset);
  });
}
