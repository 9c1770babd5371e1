/**
 * The Content-Security-Policy of the gateway's HTML pages (sandbox, console): only
 * same-origin resources, no inline styles, no forms posting anywhere, no framing.
 * Pages add what they need (a bootstrap script hash, data: fonts).
 */
export function pageCsp(extra: { scriptSrc?: string[]; fontSrc?: string[] } = {}): string {
  return [
    "default-src 'none'",
    ["script-src 'self'", ...(extra.scriptSrc ?? [])].join(' '),
    "style-src 'self'",
    "img-src 'self' data:",
    ["font-src 'self'", ...(extra.fontSrc ?? [])].join(' '),
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
    "object-src 'none'",
  ].join('; ');
}
