/**
 * The sandbox HTML page and its security headers. The page loads only same-origin
 * assets; its one inline script (the bootstrap) is allowed by its SHA-256 hash, and
 * its configuration travels in a JSON data block that the browser never executes.
 */
import { createHash } from 'node:crypto';
import type { SandboxExample } from './examples.js';
import { pageCsp } from '../core/csp.js';

export interface SandboxPageOptions {
  /** GraphQL endpoint, relative to the page (e.g. `/graphql`). */
  endpoint: string;
  /** URL prefix of the assets, ending with `/` (e.g. `/sandbox/assets/`). */
  assetsPrefix: string;
  /** Asset file name → version token appended as `?v=`, so long caching never serves a stale file. */
  assetVersions: Record<string, string>;
  examples: SandboxExample[];
  /** Demo key to prefill (development only); null shows a placeholder instead. */
  demoApiKey: string | null;
  /** Who the demo key belongs to, shown in the banner, e.g. `Sở Tư pháp (DEMO)`. */
  demoClientLabel?: string | null;
  production: boolean;
}

export interface SandboxPage {
  html: string;
  /** Value of the Content-Security-Policy header matching this page's inline bootstrap. */
  csp: string;
}

/** Placeholder shown in production, where no key is ever prefilled. */
export const API_KEY_PLACEHOLDER = 'YOUR_API_KEY';

/**
 * Runs after React, ReactDOM and GraphiQL have set their globals. Kept constant
 * (configuration is read from the JSON block) so its CSP hash never changes.
 */
const BOOTSTRAP = `
(function () {
  var config = JSON.parse(document.getElementById('motlan-sandbox-config').textContent);
  // Plain JSON answers (no multipart incremental delivery, which the gateway does not
  // serve), so the stack traces below can be collapsed in the parsed result.
  var baseFetcher = GraphiQL.createFetcher({ url: new URL(config.endpoint, window.location.href).href, enableIncrementalDelivery: false });
  // Development answers carry each error's stack trace (extensions.stacktrace): long,
  // and noise to an integrator. Collapsed unless the banner's toggle is ticked.
  var showStacks = document.getElementById('motlan-show-stacktraces');
  function collapseStacks(result) {
    if (!showStacks || showStacks.checked || !result || !Array.isArray(result.errors)) return result;
    result.errors.forEach(function (e) {
      if (e && e.extensions && Array.isArray(e.extensions.stacktrace)) {
        e.extensions.stacktrace = '[' + e.extensions.stacktrace.length + ' lines hidden: tick "Show stack traces" above and run again]';
      }
    });
    return result;
  }
  var fetcher = function (params, opts) {
    var answer = baseFetcher(params, opts);
    return answer && typeof answer.then === 'function' ? answer.then(collapseStacks) : answer;
  };
  var storage = GraphiQL.createLocalStorage({ namespace: config.storageNamespace });
  var stored = null;
  try { stored = window.localStorage.getItem(config.storageNamespace + ':tabState'); } catch (e) { /* storage disabled */ }
  var props = {
    fetcher: fetcher,
    defaultTabs: config.tabs,
    defaultHeaders: config.headers,
    shouldPersistHeaders: config.persistHeaders,
    defaultEditorToolsVisibility: 'variables',
    storage: storage,
  };
  // GraphiQL 3 opens the first default tab without its variables; hand them over
  // on the first visit only (later visits restore the stored tabs themselves).
  if (stored === null && config.tabs.length > 0) props.variables = config.tabs[0].variables || '';
  ReactDOM.createRoot(document.getElementById('graphiql')).render(React.createElement(GraphiQL, props));
})();
`;

const BOOTSTRAP_HASH = `sha256-${createHash('sha256').update(BOOTSTRAP, 'utf8').digest('base64')}`;

/**
 * Only same-origin resources; GraphiQL's own fonts are data: URLs inside
 * graphiql.min.css, the monospace font is served by the sandbox (assets.ts). Inline
 * styles stay forbidden: GraphiQL sets its dynamic styles through the CSSOM, which
 * CSP allows, and the one `<style>` it may inject (scroll lock while a dialog is
 * open) is cosmetic.
 */
export function sandboxCsp(): string {
  return pageCsp({ scriptSrc: [`'${BOOTSTRAP_HASH}'`], fontSrc: ['data:'] });
}

/** Headers sent with the page (assets get their own in the plugin). */
export function sandboxPageHeaders(csp: string): Record<string, string> {
  return {
    'content-type': 'text/html; charset=utf-8',
    'content-security-policy': csp,
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
    'permissions-policy': 'camera=(), microphone=(), geolocation=(), payment=()',
    // The page may carry a demo key and the examples follow the world: never cache it.
    'cache-control': 'no-store',
  };
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** JSON safe inside a `<script>` element: no `</script>`, no `<!--`. */
function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026');
}

function assetUrl(opts: SandboxPageOptions, name: string): string {
  const version = opts.assetVersions[name];
  return `${opts.assetsPrefix}${name}${version ? `?v=${encodeURIComponent(version)}` : ''}`;
}

function headersJson(key: string): string {
  return JSON.stringify({ Authorization: `Bearer ${key}` }, null, 2);
}

/** Builds the page; pure, so tests can check it without a server. */
export function renderSandboxPage(opts: SandboxPageOptions): SandboxPage {
  // Never prefill a key in production, whatever the caller passed.
  const key = !opts.production && opts.demoApiKey ? opts.demoApiKey : null;
  const headers = headersJson(key ?? API_KEY_PLACEHOLDER);
  const tabs = opts.examples.map((example) => ({
    query: example.query,
    variables: example.variables ? JSON.stringify(example.variables, null, 2) : null,
    headers,
  }));
  // A new set of examples (other world, other version) gets a fresh tab store
  // instead of the tabs a browser kept from an earlier run.
  const storageNamespace = `motlan-sandbox-${createHash('sha256').update(JSON.stringify(tabs)).digest('hex').slice(0, 12)}`;
  const config = {
    endpoint: opts.endpoint,
    tabs,
    headers,
    // Only the demo key may live in localStorage; a real key is typed per session.
    persistHeaders: key !== null,
    storageNamespace,
  };

  const banner = key
    ? `<strong>Development sandbox.</strong> The <em>Headers</em> tab below the query editor is prefilled with a
       <strong>demo</strong> API key${opts.demoClientLabel ? ` of ${escapeHtml(opts.demoClientLabel)}` : ''}
       (<code>{"Authorization": "Bearer &lt;key&gt;"}</code>). Demo keys work only with the mocked registries and are
       refused when <code>NODE_ENV=production</code>. Run the first tab with Ctrl+Enter.`
    : `<strong>API key required.</strong> Open the <em>Headers</em> tab below the query editor and replace
       <code>${API_KEY_PLACEHOLDER}</code> in <code>{"Authorization": "Bearer ${API_KEY_PLACEHOLDER}"}</code> with the
       key your agency received. The key is not stored by this page.`;
  // Only development answers carry stack traces (Apollo drops them in production).
  const stackToggle = opts.production
    ? ''
    : ` <label id="motlan-stacktrace-toggle"><input type="checkbox" id="motlan-show-stacktraces"> Show stack traces</label>`;

  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<link rel="icon" href="data:,">
<title>Motlan sandbox</title>
<link rel="stylesheet" href="${escapeHtml(assetUrl(opts, 'graphiql.min.css'))}">
<link rel="stylesheet" href="${escapeHtml(assetUrl(opts, 'sandbox.css'))}">
</head>
<body>
<div id="motlan-banner" role="note">${banner}${stackToggle}</div>
<div id="graphiql"><noscript>The sandbox needs JavaScript. The GraphQL endpoint is ${escapeHtml(opts.endpoint)}.</noscript></div>
<script id="motlan-sandbox-config" type="application/json">${jsonForScript(config)}</script>
<script src="${escapeHtml(assetUrl(opts, 'react.production.min.js'))}"></script>
<script src="${escapeHtml(assetUrl(opts, 'react-dom.production.min.js'))}"></script>
<script src="${escapeHtml(assetUrl(opts, 'graphiql.min.js'))}"></script>
<script>${BOOTSTRAP}</script>
</body>
</html>
`;
  return { html, csp: sandboxCsp() };
}

/**
 * The page's own layout (served as a file so the CSP needs no inline styles) and the
 * monospace font of the editors and the result pane: JetBrains Mono, whose Vietnamese
 * subset draws stacked diacritics ("Đỗ", "Số", "về") that GraphiQL's Fira Code lacks.
 * `fontUrl` gives a font file's versioned URL relative to this stylesheet.
 */
export function sandboxCss(fonts: ReadonlyArray<{ file: string; weight: number; unicodeRange: string }>, family: string, fontUrl: (file: string) => string): string {
  const faces = fonts
    .map((f) => `@font-face { font-family: '${family}'; font-style: normal; font-weight: ${f.weight}; font-display: swap; src: url(${fontUrl(f.file)}) format('woff2'); unicode-range: ${f.unicodeRange}; }`)
    .join('\n');
  return `${faces}
html, body { height: 100%; margin: 0; }
body { display: flex; flex-direction: column; font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
#motlan-banner { flex: none; padding: 8px 16px; font-size: 14px; line-height: 1.4; background: #fff7e0; color: #3d2e00; border-bottom: 1px solid #e6d290; }
#motlan-banner code { font-family: '${family}', ui-monospace, monospace; font-size: 13px; }
#motlan-stacktrace-toggle { margin-left: 12px; white-space: nowrap; }
#graphiql { flex: 1; min-height: 0; }
.graphiql-container, .CodeMirror-info, .CodeMirror-lint-tooltip, .graphiql-dialog, .graphiql-dialog-overlay, .graphiql-tooltip, [data-radix-popper-content-wrapper] { --font-family-mono: '${family}', 'Fira Code', monospace; }
`;
}
