/**
 * The console's static files: its own HTML/CSS/JS (gateway/console/static) and
 * Chart.js's UMD build from node_modules. Read once at startup and kept in
 * memory, each with a content hash used as ETag and as the `?v=` version in the
 * page, so long caching never serves a stale file. Nothing comes from a CDN.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { REGISTRIES } from '../../lib/registries.js';

export interface ConsoleAsset {
  name: string;
  contentType: string;
  body: Buffer;
  etag: string;
  version: string;
}

const require = createRequire(import.meta.url);
const STATIC_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'static');

const JS = 'text/javascript; charset=utf-8';
const SOURCES: ReadonlyArray<{ name: string; contentType: string; file: () => string }> = [
  { name: 'console.css', contentType: 'text/css; charset=utf-8', file: () => path.join(STATIC_DIR, 'console.css') },
  { name: 'i18n.js', contentType: JS, file: () => path.join(STATIC_DIR, 'i18n.js') },
  { name: 'console.js', contentType: JS, file: () => path.join(STATIC_DIR, 'console.js') },
  // chart.js restricts subpaths with `exports`; its UMD file sits next to the CJS entry.
  { name: 'chart.umd.js', contentType: JS, file: () => path.join(path.dirname(require.resolve('chart.js')), 'chart.umd.min.js') },
];

/** The UMD bundle ends with a sourceMappingURL for a map we do not serve; drop it to keep devtools quiet. */
function stripSourceMap(body: Buffer): Buffer {
  const text = body.toString('utf8');
  const cleaned = text.replace(/\n?\/\/# sourceMappingURL=[^\n]*\s*$/, '\n');
  return cleaned === text ? body : Buffer.from(cleaned, 'utf8');
}

function asset(name: string, contentType: string, body: Buffer): ConsoleAsset {
  const version = createHash('sha256').update(body).digest('base64url').slice(0, 16);
  return { name, contentType, body, etag: `"${version}"`, version };
}

export interface ConsoleFiles {
  /** The page, with asset versions filled in. */
  page: ConsoleAsset;
  assets: Map<string, ConsoleAsset>;
}

/** Reads every file; throws naming the file when the install or checkout is incomplete. */
export function loadConsoleFiles(): ConsoleFiles {
  const assets = new Map<string, ConsoleAsset>();
  for (const s of SOURCES) {
    let body: Buffer;
    try {
      body = readFileSync(s.file());
    } catch (err) {
      throw new Error(
        `Console asset ${s.name} could not be read (${(err as Error).message}). ` +
          'Run `npm install` (chart.js) and check that gateway/console/static/ is complete.',
      );
    }
    assets.set(s.name, asset(s.name, s.contentType, stripSourceMap(body)));
  }
  const template = readFileSync(path.join(STATIC_DIR, 'index.html'), 'utf8');
  // One option per registry of lib/registries.ts (labels from i18n.js `reg.<name>`, else the name): a new registry needs no edit here.
  const registryOptions = REGISTRIES.map((r) => `<option value="${r}" data-i18n="reg.${r}">${r}</option>`).join('\n            ');
  const html = template.replace('{{registry-options}}', registryOptions).replace(/\{\{v:([a-z0-9.]+)\}\}/g, (_m, name: string) => {
    const a = assets.get(name);
    if (!a) throw new Error(`gateway/console/static/index.html refers to an unknown asset ${name}.`);
    return a.version;
  });
  return { page: asset('index.html', 'text/html; charset=utf-8', Buffer.from(html, 'utf8')), assets };
}
