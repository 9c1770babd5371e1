/** A connection URL fit for logs and error messages: the password replaced by `***`. */
export function redactUrl(url: string, fallback = '(unparseable URL)'): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return fallback;
  }
}

/**
 * A request URL fit for logs: the path (without runs of 10 or more digits), and the query
 * string's parameter NAMES with every value replaced by `…`. `GET /graphql?variables={"personalId":"…"}` and auditor searches
 * would otherwise put personal data in every access log line.
 */
export function redactQueryString(url: string): string {
  const q = url.indexOf('?');
  // A path may carry an identifier too (`/audit/v1/requests/<a personal ID>` by mistake,
  // `/graphql/x<id>`): long digit runs in it are dropped, whatever surrounds them.
  const path = (q < 0 ? url : url.slice(0, q)).replace(/[0-9]{10,}/g, '…');
  if (q < 0) return path;
  const names = url
    .slice(q + 1)
    .split('&')
    .filter((p) => p !== '')
    .map((p) => {
      const eq = p.indexOf('=');
      const name = eq < 0 ? p : p.slice(0, eq);
      // A name is shown only when it is a plain token: a value smuggled into a name stays out too.
      return /^[A-Za-z_][A-Za-z0-9_.[\]-]{0,39}$/.test(name) && !/[0-9]{10,}/.test(name) ? `${name}=…` : '…';
    });
  return `${path}?${names.join('&')}`;
}

/**
 * Digit runs shaped like a personal ID (12 digits), an enterprise code (10 digits, optional
 * `-NNN` branch) or a social insurance number (10 digits), standing alone (not inside a
 * UUID, a decimal or a longer number: millisecond timestamps have 13 digits). A
 * percent-escape right before the digits is a boundary too (`%22079203001234%22` in a URL).
 */
const IDENTIFIER_LIKE = /(?:(?<![0-9A-Za-z_.-])|(?<=%[0-9A-Fa-f]{2}))(?:[0-9]{12}|[0-9]{10}(?:-[0-9]{3})?)(?![0-9A-Za-z_])/g;

/**
 * Last line of defence for log output: masks anything shaped like a personal identifier.
 * Logs hold metadata, never personal data (docs/SECURITY.md); a message that slipped one in
 * (an upstream error text, a stack) is masked before it is written.
 */
export function maskIdentifiers(text: string): string {
  return text.replace(IDENTIFIER_LIKE, '[id]');
}

/** Fastify's request serializer, with the query string's values left out (gateway and subgraphs). */
export function requestForLog(req: { method?: string; url?: string; host?: string; ip?: string; socket?: { remotePort?: number } }) {
  return { method: req.method, url: redactQueryString(req.url ?? ''), host: req.host, remoteAddress: req.ip, remotePort: req.socket?.remotePort };
}

/** A pino destination that masks identifier-shaped digit runs before writing (gateway and subgraphs). */
export function maskedLogStream(dest: { write(line: string): unknown }): { write(line: string): void } {
  return { write: (line: string) => void dest.write(maskIdentifiers(line)) };
}
