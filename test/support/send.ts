/**
 * One POST to the gateway as a client sends it, answered with what the tests look at:
 * status, the request id (to find the audit record), the raw text and the parsed JSON
 * (null when the answer is not JSON).
 */
export interface Sent {
  status: number;
  requestId: string;
  text: string;
  body: { data?: Record<string, unknown> | null; errors?: Array<{ message: string; extensions?: { code?: string; [key: string]: unknown } }> } | null;
}

/** `body` is sent as JSON, or as is when a string (to send malformed JSON). */
export async function send(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Sent> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: Sent['body'] = null;
  try {
    parsed = JSON.parse(text) as Sent['body'];
  } catch {
    /* not JSON */
  }
  return { status: res.status, requestId: res.headers.get('x-request-id') ?? '', text, body: parsed };
}
