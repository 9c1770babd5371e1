/**
 * Security headers (helmet's), computed ONCE at start and set on every response.
 *
 * @fastify/helmet calls `helmet(options)` on every request, which rebuilds the whole
 * middleware (dashifies and validates every CSP directive) each time: about 3% of the
 * gateway's CPU on the benchmark's cache hits. Our options are static (no nonces, no
 * directive functions), so the headers helmet would set are the same for every request:
 * we run helmet's middleware once against a recording response and replay what it did.
 * helmet is the copy @fastify/helmet depends on (resolved from it, not a dependency of ours).
 */
import { createRequire } from 'node:module';
import type { IncomingMessage, ServerResponse } from 'node:http';

type HelmetOptions = Record<string, unknown>;
type Helmet = (options: HelmetOptions) => (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void;

const helmet = createRequire(createRequire(import.meta.url).resolve('@fastify/helmet'))('helmet') as Helmet;

export interface SecurityHeaders {
  /** Headers to set, lower-case names, in helmet's order. */
  set: ReadonlyArray<readonly [string, string]>;
  /** Headers helmet removes (X-Powered-By). */
  remove: readonly string[];
}

/**
 * What helmet's middleware does to a response under `options`. Throws when the options
 * make helmet depend on the request (a directive given as a function): those cannot be
 * computed once.
 */
export function securityHeaders(options: HelmetOptions): SecurityHeaders {
  const csp = options.contentSecurityPolicy as { directives?: Record<string, unknown> } | undefined;
  for (const [name, value] of Object.entries(csp?.directives ?? {})) {
    if (typeof value === 'function' || (Array.isArray(value) && value.some((v) => typeof v === 'function'))) {
      throw new Error(`The CSP directive ${name} is a function (computed per request): security-headers.ts computes the headers once; give it as strings.`);
    }
  }
  const set: Array<readonly [string, string]> = [];
  const remove: string[] = [];
  const recorder = {
    setHeader(name: string, value: unknown) {
      if (typeof value !== 'string') throw new Error(`helmet set ${name} to a non-string value; security-headers.ts replays string headers only.`);
      set.push([name.toLowerCase(), value]);
      return recorder;
    },
    removeHeader(name: string) {
      remove.push(name.toLowerCase());
    },
    getHeader: () => undefined,
    locals: {},
  };
  const fakeRequest = { headers: {}, method: 'GET', url: '/' };
  let failed: unknown = null;
  helmet(options)(fakeRequest as unknown as IncomingMessage, recorder as unknown as ServerResponse, (err) => {
    if (err) failed = err;
  });
  if (failed) throw failed instanceof Error ? failed : new Error(String(failed));
  return { set, remove };
}

/** Applies `headers` to a Node response (what helmet's middleware would have done). */
export function applySecurityHeaders(res: ServerResponse, headers: SecurityHeaders): void {
  for (const name of headers.remove) res.removeHeader(name);
  for (const [name, value] of headers.set) res.setHeader(name, value);
}
