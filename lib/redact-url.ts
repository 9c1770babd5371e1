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
