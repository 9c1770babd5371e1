/**
 * The sandbox: GraphiQL at `GET /`, served entirely from npm-installed assets so it
 * works with no internet access. In development it opens with example operations
 * on the records it is told about (`npm start` names records of the demo world) and
 * the demo API key in the headers editor; in production it never carries a key and
 * uses placeholder identifiers.
 */
import { sendError } from '../core/errors.js';
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { loadSandboxAssets, MONO_FONT_FACES, MONO_FONT_FAMILY, type SandboxAsset } from './assets.js';
import {
  buildExamples,
  checkExampleSubjects,
  EXAMPLE_GROUPS_ENV,
  EXAMPLE_SUBJECT_ENV,
  exampleSubjectsFromEnv,
  PLACEHOLDER_SUBJECTS,
  type ExampleSubjects,
  type SandboxExample,
} from './examples.js';
import { readDemoKey, type DemoKey } from './demo-key.js';
import { renderSandboxPage, sandboxCss, sandboxPageHeaders, type SandboxPage } from './page.js';

export type { ExampleSubjects, SandboxExample } from './examples.js';

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
  /** The tabs. Default: the dossier, enterprise and parcel examples on `exampleSubjects`. */
  examples?: SandboxExample[];
  /**
   * The records the default tabs name (ignored in production, whose page is public
   * and shows placeholders). Default: those of the SANDBOX_EXAMPLE_PERSONAL_ID,
   * SANDBOX_EXAMPLE_ENTERPRISE_CODE and SANDBOX_EXAMPLE_PARCEL_ID variables (set by
   * `npm start` to records of the world the mock registries serve), else placeholders
   * that pass validation (the tabs then answer null).
   */
  exampleSubjects?: ExampleSubjects;
  /** Where NODE_ENV and SANDBOX_EXAMPLE_* are read from. Default `process.env`. */
  env?: NodeJS.ProcessEnv;
}

/** Long, immutable caching: asset URLs carry a content version (`?v=`). */
const ASSET_CACHE_CONTROL = 'public, max-age=31536000, immutable';

/**
 * The records the tabs name. Production never shows one (a real person's identifier
 * on a public page): a SANDBOX_EXAMPLE_* variable there stops the start instead of
 * being silently ignored.
 */
function exampleSubjectsFor(opts: SandboxOptions, production: boolean, env: NodeJS.ProcessEnv): ExampleSubjects {
  if (production) {
    const set = [...Object.values(EXAMPLE_SUBJECT_ENV), EXAMPLE_GROUPS_ENV].filter((name) => env[name]);
    if (set.length > 0) {
      throw new Error(`${set.join(', ')} set with NODE_ENV=production: the public sandbox page would show a real person's or business's identifier. Unset ${set.length > 1 ? 'them' : 'it'} (production shows placeholders).`);
    }
    return PLACEHOLDER_SUBJECTS;
  }
  return opts.exampleSubjects ? checkExampleSubjects(opts.exampleSubjects) : (exampleSubjectsFromEnv(env) ?? PLACEHOLDER_SUBJECTS);
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
  // woff2 is already compressed (Brotli inside): gzip would only cost CPU.
  if (acceptsGzip(request) && asset.body.length > 1024 && !asset.contentType.startsWith('font/')) {
    return reply.header('content-encoding', 'gzip').send(gzipped(asset));
  }
  return reply.send(asset.body);
}

/**
 * Adds the sandbox routes to `app` (call before `app.ready()`/`listen()`). Assets
 * and example subjects are read synchronously here, so a broken install or a bad
 * SANDBOX_EXAMPLE_* value fails at startup, not on the first visit. The page itself
 * is built on first request.
 */
export function registerSandbox(app: FastifyInstance, opts: SandboxOptions = {}): void {
  const env = opts.env ?? process.env;
  const production = opts.production ?? env.NODE_ENV === 'production';
  const pagePath = opts.path ?? '/';
  const endpoint = opts.endpoint ?? '/graphql';
  const assetsPrefix = opts.assetsPrefix ?? '/sandbox/assets/';
  if (!assetsPrefix.endsWith('/')) throw new Error(`Sandbox assetsPrefix ${JSON.stringify(assetsPrefix)} must end with "/".`);

  const assets = new Map(loadSandboxAssets());
  const versionOf = (a: SandboxAsset) => a.etag.replace(/"/g, '');
  // Font URLs are relative to the stylesheet (same prefix) and versioned like every asset.
  const fontUrl = (file: string) => `${file}?v=${encodeURIComponent(versionOf(assets.get(file)!))}`;
  const css = Buffer.from(sandboxCss(MONO_FONT_FACES, MONO_FONT_FAMILY, fontUrl), 'utf8');
  assets.set('sandbox.css', { name: 'sandbox.css', contentType: 'text/css; charset=utf-8', body: css, etag: `"sandbox-css-${createHash('sha256').update(css).digest('base64url').slice(0, 27)}"` });
  const assetVersions = Object.fromEntries([...assets.values()].map((a) => [a.name, versionOf(a)]));

  // Resolved now, so a bad SANDBOX_EXAMPLE_* value stops the start rather than the first visit.
  const examples = opts.examples ?? buildExamples(exampleSubjectsFor(opts, production, env));
  let page: Promise<SandboxPage> | undefined;
  const buildPage = async (): Promise<SandboxPage> => {
    const demo: DemoKey | null = production
      ? null
      : opts.demoApiKey !== undefined
        ? (opts.demoApiKey ? { key: opts.demoApiKey, label: opts.demoClientLabel ?? null } : null)
        : readDemoKey(opts.demoClientsFile);
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
      page = undefined; // let the next visit retry (e.g. after fixing the demo clients file)
      throw err;
    }
    return reply.headers(sandboxPageHeaders(built.csp)).send(built.html);
  });

  app.get(`${assetsPrefix}:file`, async (request, reply) => {
    const { file } = request.params as { file: string };
    const asset = assets.get(file);
    if (!asset) {
      return sendError(request, reply, 'NOT_FOUND', `No sandbox asset named ${JSON.stringify(file)}.`);
    }
    return sendAsset(request, reply, asset);
  });
}
