import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { chooseDemoKey } from './demo-key.js';
import { buildExamples, EXAMPLE_SUBJECT_ENV, PREFILL_EXAMPLE_PROCEDURE, exampleSubjectsFromEnv, exampleSubjectsToEnv, PLACEHOLDER_SUBJECTS } from './examples.js';
import { registerSandbox, type SandboxOptions } from './index.js';
import { validateEnterpriseCode, validateParcelId, validatePersonalId } from '../../lib/identifiers.js';

const SUBJECTS = { personalId: '001090000001', enterpriseCode: '0100109106', parcelId: '00004-1-1' };
const DEMO_KEY = 'demo_sandbox_test_key_0123456789';

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function sandboxApp(opts: SandboxOptions): Promise<FastifyInstance> {
  app = Fastify();
  registerSandbox(app, { examples: buildExamples(SUBJECTS), ...opts });
  await app.ready();
  return app;
}

function inlineScripts(html: string): string[] {
  return [...html.matchAll(/<script(?![^>]*\bsrc=)(?![^>]*type="application\/json")[^>]*>([\s\S]*?)<\/script>/g)].map((m) => m[1]!);
}

function configOf(html: string): { endpoint: string; tabs: Array<{ query: string; variables: string | null; headers: string }>; headers: string; persistHeaders: boolean } {
  const m = /<script id="motlan-sandbox-config" type="application\/json">([\s\S]*?)<\/script>/.exec(html);
  if (!m) throw new Error('no config block in the page');
  return JSON.parse(m[1]!);
}

describe('sandbox page', () => {
  it('allows exactly its inline bootstrap by hash and nothing from other origins', async () => {
    const a = await sandboxApp({ production: false, demoApiKey: DEMO_KEY });
    const res = await a.inject({ method: 'GET', url: '/' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    const csp = String(res.headers['content-security-policy']);
    const scripts = inlineScripts(res.body);
    expect(scripts).toHaveLength(1);
    const hash = createHash('sha256').update(scripts[0]!, 'utf8').digest('base64');
    expect(csp).toContain(`script-src 'self' 'sha256-${hash}'`);
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toMatch(/unsafe-(inline|eval)|https?:/);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    expect(res.headers['cache-control']).toBe('no-store');
    // Every resource the page references is same-origin (no CDN, no web font).
    const refs = [...res.body.matchAll(/(?:src|href)="([^"]*)"/g)].map((m) => m[1]!);
    expect(refs.length).toBeGreaterThanOrEqual(5);
    for (const ref of refs) expect(ref).toMatch(/^(\/|data:)/);
  });

  it('prefills the demo key and the example tabs in development', async () => {
    const a = await sandboxApp({ production: false, demoApiKey: DEMO_KEY, demoClientLabel: 'Demo client' });
    const res = await a.inject({ method: 'GET', url: '/' });
    const config = configOf(res.body);
    expect(JSON.parse(config.headers)).toEqual({ Authorization: `Bearer ${DEMO_KEY}` });
    expect(config.tabs.map((t) => JSON.parse(t.headers))).toEqual(config.tabs.map(() => ({ Authorization: `Bearer ${DEMO_KEY}` })));
    expect(config.tabs[0]!.query).toContain('citizen(personalId: $personalId)');
    expect(JSON.parse(config.tabs[0]!.variables!)).toEqual({ personalId: SUBJECTS.personalId });
    expect(config.endpoint).toBe('/graphql');
    expect(res.body).toContain('Demo client');
    expect(res.body).toMatch(/demo/i);
  });

  it('never carries a key in production, even when one is passed', async () => {
    const a = await sandboxApp({ production: true, demoApiKey: DEMO_KEY, examples: undefined });
    const res = await a.inject({ method: 'GET', url: '/' });
    expect(res.statusCode).toBe(200);
    expect(res.body).not.toContain(DEMO_KEY);
    const config = configOf(res.body);
    expect(config.persistHeaders).toBe(false);
    expect(JSON.parse(config.headers).Authorization).toBe('Bearer YOUR_API_KEY');
    // Production has no demo world: placeholders that still pass validation.
    expect(JSON.parse(config.tabs[0]!.variables!)).toEqual({ personalId: PLACEHOLDER_SUBJECTS.personalId });
  });

  it('escapes the configuration so example text cannot close the script element', async () => {
    const a = await sandboxApp({ production: false, demoApiKey: null, examples: [{ title: 't', query: '# </script><script>alert(1)</script>\n{ __typename }' }] });
    const res = await a.inject({ method: 'GET', url: '/' });
    expect(res.body).not.toContain('</script><script>alert(1)');
    expect(configOf(res.body).tabs[0]!.query).toContain('</script><script>alert(1)</script>');
  });
});

describe('sandbox assets', () => {
  it('serves every referenced asset from node_modules with long caching, gzip and revalidation', async () => {
    const a = await sandboxApp({ production: false, demoApiKey: null });
    const page = await a.inject({ method: 'GET', url: '/' });
    const urls = [...page.body.matchAll(/(?:src|href)="(\/sandbox\/assets\/[^"]+)"/g)].map((m) => m[1]!.replace(/&#38;/g, '&'));
    expect(urls.map((u) => u.split('?')[0])).toEqual(
      expect.arrayContaining(['/sandbox/assets/graphiql.min.css', '/sandbox/assets/react.production.min.js', '/sandbox/assets/react-dom.production.min.js', '/sandbox/assets/graphiql.min.js']),
    );
    for (const url of urls) {
      const res = await a.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(200);
      expect(res.headers['cache-control']).toContain('immutable');
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['content-type']).toMatch(url.includes('.css') ? /^text\/css/ : /^text\/javascript/);
      const again = await a.inject({ method: 'GET', url, headers: { 'if-none-match': String(res.headers.etag) } });
      expect(again.statusCode).toBe(304);
    }
    const plain = await a.inject({ method: 'GET', url: '/sandbox/assets/graphiql.min.js' });
    expect(plain.body).toContain('window.GraphiQL');
    const zipped = await a.inject({ method: 'GET', url: '/sandbox/assets/graphiql.min.js', headers: { 'accept-encoding': 'gzip, br' } });
    expect(zipped.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(zipped.rawPayload).toString('utf8')).toBe(plain.body);
    expect(zipped.rawPayload.length).toBeLessThan(plain.rawPayload.length / 2);
    // The CSS must not pull fonts from the internet.
    const css = await a.inject({ method: 'GET', url: '/sandbox/assets/graphiql.min.css' });
    expect(css.body).not.toMatch(/url\(\s*["']?https?:/);
  });

  it('serves JetBrains Mono (Vietnamese and Latin, woff2) itself and makes it the editors\' monospace font', async () => {
    const a = await sandboxApp({ production: false, demoApiKey: null });
    const page = await a.inject({ method: 'GET', url: '/' });
    const cssUrl = page.body.match(/href="(\/sandbox\/assets\/sandbox\.css[^"]*)"/)![1]!.replace(/&#38;/g, '&');
    const css = (await a.inject({ method: 'GET', url: cssUrl })).body;
    expect(css).toMatch(/--font-family-mono: 'JetBrains Mono'/);
    const fonts = [...css.matchAll(/url\(([^)]+)\) format\('woff2'\)/g)].map((m) => m[1]!);
    expect(fonts.some((f) => f.startsWith('jetbrains-mono-vietnamese-400-normal.woff2?v='))).toBe(true);
    expect(fonts.some((f) => f.startsWith('jetbrains-mono-latin-400-normal.woff2?v='))).toBe(true);
    for (const f of fonts) {
      // Relative to the stylesheet: same origin, same prefix; never a CDN.
      const res = await a.inject({ method: 'GET', url: `/sandbox/assets/${f}`, headers: { 'accept-encoding': 'gzip' } });
      expect(res.statusCode, f).toBe(200);
      expect(res.headers['content-type']).toBe('font/woff2');
      expect(res.headers['content-encoding']).toBeUndefined();
      expect(res.rawPayload.subarray(0, 4).toString('latin1')).toBe('wOF2');
    }
    // The page's CSP lets the browser load them (font-src 'self').
    expect(String(page.headers['content-security-policy'])).toMatch(/font-src 'self'/);
  });

  it('answers 404 for unknown asset names (no path traversal into node_modules)', async () => {
    const a = await sandboxApp({ production: false, demoApiKey: null });
    for (const url of ['/sandbox/assets/package.json', '/sandbox/assets/..%2Fpackage.json', '/sandbox/assets/graphiql.min.js.map']) {
      const res = await a.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(404);
    }
  });
});

describe('example subjects', () => {
  const OTHER = { personalId: '079185012345', enterpriseCode: '0312345673', parcelId: '26734-12-305' };

  async function firstTabs(opts: SandboxOptions): Promise<unknown[]> {
    const a = await sandboxApp({ demoApiKey: null, examples: undefined, ...opts });
    return configOf((await a.inject({ method: 'GET', url: '/' })).body).tabs.map((t) => JSON.parse(t.variables!));
  }

  it('names the records given in SANDBOX_EXAMPLE_* in development', async () => {
    expect(await firstTabs({ production: false, env: exampleSubjectsToEnv(OTHER) })).toEqual([
      { personalId: OTHER.personalId }, { enterpriseCode: OTHER.enterpriseCode }, { parcelId: OTHER.parcelId },
      { procedureId: PREFILL_EXAMPLE_PROCEDURE, personalId: OTHER.personalId, dossierId: 'HS-SANDBOX-1' },
      // A tab per interconnected group; the death group needs the relative, a placeholder here.
      { groupId: 'birth-registration-group', subject: { personalId: OTHER.personalId }, dossierId: 'HS-SANDBOX-1' },
      { groupId: 'death-registration-group', subject: { personalId: OTHER.personalId, relatedPersonalId: '001090000002' }, dossierId: 'HS-SANDBOX-1' },
    ]);
  });

  it('prefers the exampleSubjects option, and falls back to placeholders when nothing is given', async () => {
    expect(await firstTabs({ production: false, exampleSubjects: OTHER, env: exampleSubjectsToEnv(SUBJECTS) })).toContainEqual({ personalId: OTHER.personalId });
    expect(await firstTabs({ production: false, env: {} })).toEqual([
      { personalId: PLACEHOLDER_SUBJECTS.personalId }, { enterpriseCode: PLACEHOLDER_SUBJECTS.enterpriseCode }, { parcelId: PLACEHOLDER_SUBJECTS.parcelId },
      { procedureId: PREFILL_EXAMPLE_PROCEDURE, personalId: PLACEHOLDER_SUBJECTS.personalId, dossierId: 'HS-SANDBOX-1' },
      // A tab per interconnected group; the death group needs the relative, a placeholder here.
      { groupId: 'birth-registration-group', subject: { personalId: PLACEHOLDER_SUBJECTS.personalId }, dossierId: 'HS-SANDBOX-1' },
      { groupId: 'death-registration-group', subject: { personalId: PLACEHOLDER_SUBJECTS.personalId, relatedPersonalId: '001090000002' }, dossierId: 'HS-SANDBOX-1' },
    ]);
    // One variable alone: the others keep their placeholders.
    expect(exampleSubjectsFromEnv({ [EXAMPLE_SUBJECT_ENV.parcelId]: OTHER.parcelId })).toEqual({ ...PLACEHOLDER_SUBJECTS, parcelId: OTHER.parcelId });
    expect(exampleSubjectsFromEnv({ [EXAMPLE_SUBJECT_ENV.parcelId]: '' })).toBeNull();
  });

  it('stops the start on a value that is not an identifier, naming the variable', () => {
    for (const k of Object.keys(EXAMPLE_SUBJECT_ENV) as Array<keyof typeof EXAMPLE_SUBJECT_ENV>) {
      const env = { ...exampleSubjectsToEnv(OTHER), [EXAMPLE_SUBJECT_ENV[k]]: 'x1' };
      expect(() => registerSandbox(Fastify(), { production: false, demoApiKey: null, env })).toThrow(EXAMPLE_SUBJECT_ENV[k]);
    }
    expect(() => registerSandbox(Fastify(), { production: false, demoApiKey: null, exampleSubjects: { ...OTHER, personalId: '12' } })).toThrow(/exampleSubjects\.personalId/);
  });

  it('never names a record in production: the option is ignored and the variables stop the start', async () => {
    expect(await firstTabs({ production: true, exampleSubjects: OTHER, env: {} })).toContainEqual({ personalId: PLACEHOLDER_SUBJECTS.personalId });
    expect(() => registerSandbox(Fastify(), { production: true, env: { [EXAMPLE_SUBJECT_ENV.personalId]: OTHER.personalId } })).toThrow(/SANDBOX_EXAMPLE_PERSONAL_ID set with NODE_ENV=production/);
  });

  it('keeps the placeholders syntactically valid', () => {
    expect(validatePersonalId(PLACEHOLDER_SUBJECTS.personalId)).toBeNull();
    expect(validateEnterpriseCode(PLACEHOLDER_SUBJECTS.enterpriseCode)).toBeNull();
    expect(validateParcelId(PLACEHOLDER_SUBJECTS.parcelId)).toBeNull();
  });
});

describe('demo key choice', () => {
  const entries = [
    { id: 'auditor', agency: 'Thanh tra', name: 'Auditor', permissions: [], demo: true },
    { id: 'hanoi', agency: 'UBND Hà Nội', name: 'Hệ thống TTHC Hà Nội', permissions: [], demo: true },
    { id: 'explorer', agency: 'Bộ Tư pháp', name: 'Sandbox explorer', permissions: ['explore'], demo: true },
  ];
  it('prefers a data client allowed to explore, never a staff-only key', () => {
    const creds = [
      { clientId: 'auditor', name: 'Auditor', roles: ['auditor' as const], key: 'k-auditor-0000000000' },
      { clientId: 'hanoi', name: 'Hệ thống TTHC Hà Nội', roles: ['client' as const], key: 'k-hanoi-00000000000' },
      { clientId: 'explorer', name: 'Sandbox explorer', roles: ['client' as const], key: 'k-explorer-000000000' },
    ];
    expect(chooseDemoKey(creds, entries)).toEqual({ key: 'k-explorer-000000000', label: 'Sandbox explorer (Bộ Tư pháp)' });
    expect(chooseDemoKey(creds.slice(0, 2), entries)?.key).toBe('k-hanoi-00000000000');
    expect(chooseDemoKey(creds.slice(0, 1), entries)).toBeNull();
  });
});
