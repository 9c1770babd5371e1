/**
 * The sandbox's static assets: GraphiQL 3 (UMD build) and React 18, read from the
 * npm packages once at startup and kept in memory. Nothing comes from a CDN and
 * the GraphiQL stylesheet inlines its fonts as data: URLs, so the page works on a
 * closed government network.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export interface SandboxAsset {
  /** File name under the assets prefix, e.g. `graphiql.min.js`. */
  name: string;
  contentType: string;
  body: Buffer;
  /** Strong ETag from the content hash, so a reload after an upgrade never sees a stale file. */
  etag: string;
}

const require = createRequire(import.meta.url);

/**
 * react and react-dom restrict their subpaths with `exports`, so we find each
 * package's root through its main entry and read the UMD file next to it.
 */
function packageRoot(name: string): string {
  return dirname(require.resolve(name));
}

/** Font family name the sandbox stylesheet declares for the editors and the result pane. */
export const MONO_FONT_FAMILY = 'JetBrains Mono';

/**
 * The font faces served (@fontsource/jetbrains-mono), with their unicode ranges (as in
 * the package's CSS): the browser fetches the Vietnamese file only when the page shows
 * a character in its range.
 */
export const MONO_FONT_FACES: ReadonlyArray<{ file: string; weight: number; unicodeRange: string }> = [400, 700].flatMap((weight) => [
  {
    file: `jetbrains-mono-vietnamese-${weight}-normal.woff2`,
    weight,
    unicodeRange: 'U+0102-0103,U+0110-0111,U+0128-0129,U+0168-0169,U+01A0-01A1,U+01AF-01B0,U+0300-0301,U+0303-0304,U+0308-0309,U+0323,U+0329,U+1EA0-1EF9,U+20AB',
  },
  {
    file: `jetbrains-mono-latin-${weight}-normal.woff2`,
    weight,
    unicodeRange: 'U+0000-00FF,U+0131,U+0152-0153,U+02BB-02BC,U+02C6,U+02DA,U+02DC,U+0304,U+0308,U+0329,U+2000-206F,U+20AC,U+2122,U+2191,U+2193,U+2212,U+2215,U+FEFF,U+FFFD',
  },
]);
const MONO_FONT_FILES = MONO_FONT_FACES.map((f) => f.file);

const SOURCES: ReadonlyArray<{ name: string; contentType: string; path: () => string }> = [
  { name: 'react.production.min.js', contentType: 'text/javascript; charset=utf-8', path: () => join(packageRoot('react'), 'umd/react.production.min.js') },
  { name: 'react-dom.production.min.js', contentType: 'text/javascript; charset=utf-8', path: () => join(packageRoot('react-dom'), 'umd/react-dom.production.min.js') },
  { name: 'graphiql.min.js', contentType: 'text/javascript; charset=utf-8', path: () => require.resolve('graphiql/graphiql.min.js') },
  { name: 'graphiql.min.css', contentType: 'text/css; charset=utf-8', path: () => require.resolve('graphiql/graphiql.min.css') },
  // GraphiQL's own monospace font (Fira Code, inlined) has no precomposed Vietnamese
  // letters: stacked diacritics fall apart ("Đỗ˜Hoàng"). JetBrains Mono covers them.
  ...MONO_FONT_FILES.map((name) => ({ name, contentType: 'font/woff2', path: () => require.resolve(`@fontsource/jetbrains-mono/files/${name}`) })),
];

/** Script tags must load in this order: React, then ReactDOM, then GraphiQL (which expects both as globals). */
export const SCRIPT_ORDER = ['react.production.min.js', 'react-dom.production.min.js', 'graphiql.min.js'] as const;
export const STYLESHEET = 'graphiql.min.css';

/**
 * GraphiQL's UMD bundle ends with a `sourceMappingURL` comment for a map we do not
 * serve; dropping it keeps browser devtools from logging a failed request.
 */
function stripSourceMap(body: Buffer): Buffer {
  const text = body.toString('utf8');
  const cleaned = text.replace(/\n\/[/*]# sourceMappingURL=[^\n]*\s*$/, '\n');
  return cleaned === text ? body : Buffer.from(cleaned, 'utf8');
}

let cache: Map<string, SandboxAsset> | undefined;

/** Reads every asset once per process; throws naming the missing package when npm install was incomplete. */
export function loadSandboxAssets(): Map<string, SandboxAsset> {
  if (cache) return cache;
  const assets = new Map<string, SandboxAsset>();
  for (const source of SOURCES) {
    let path: string;
    let raw: Buffer;
    try {
      path = source.path();
      raw = readFileSync(path);
    } catch (err) {
      throw new Error(
        `Sandbox asset ${source.name} could not be read (${(err as Error).message}). ` +
          'Run `npm install` so graphiql, react, react-dom and @fontsource/jetbrains-mono are present in node_modules.',
      );
    }
    const body = stripSourceMap(raw);
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
    assets.set(source.name, { name: source.name, contentType: source.contentType, body, etag });
  }
  cache = assets;
  return assets;
}
