/**
 * Trusted documents: a client restricted to a list of registered operations
 * (docs/SECURITY.md, "Trusted documents" — the recommended production setting).
 * Such a client's GraphQL request is checked right after authentication, BEFORE
 * anything parses its document: the operation must be named by the SHA-256 of a
 * registered document, in any of these forms:
 *
 *   { "documentId": "sha256:<hex>", "variables": {…} }                     (GraphQL-over-HTTP style)
 *   { "extensions": { "persistedQuery": { "version": 1, "sha256Hash": "<hex>" } }, "variables": {…} }  (Apollo)
 *   { "query": "<the exact registered text>", "variables": {…} }            (hash of the text)
 *
 * The gateway then runs the REGISTERED text (never the text sent), so what runs is
 * exactly what was reviewed. Anything else (free-form text, an unknown hash, a hash
 * with a different text, a batch with one bad operation) is refused with 403
 * DOCUMENT_NOT_TRUSTED. The hash is of the exact UTF-8 text, hex, lowercase.
 *
 * File format (generated from the catalog by `npm run documents:generate`):
 *   { "format": "motlan-trusted-documents/1", "documents": [ { "sha256", "name", "procedureId"?, "kind", "query" } ] }
 */
import { sha256 } from '../../lib/sha256.js';
import { readFileSync } from 'node:fs';
import { z } from 'zod';

export const TRUSTED_DOCUMENTS_FORMAT = 'motlan-trusted-documents/1';

const documentSchema = z.strictObject({
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be the lowercase hex SHA-256 of `query`'),
  name: z.string().min(1),
  /** The procedure whose purpose the document serves; absent for documents shared by all (prefill). */
  procedureId: z.string().min(1).optional(),
  /** `procedure-operation` (the procedure's compiled query, sent with X-Purpose) or `prefill`. */
  kind: z.string().min(1),
  query: z.string().min(1),
});

export const trustedDocumentsFileSchema = z.strictObject({
  $comment: z.string().optional(),
  format: z.literal(TRUSTED_DOCUMENTS_FORMAT),
  generatedAt: z.string().optional(),
  documents: z.array(documentSchema),
});
export type TrustedDocumentsFile = z.infer<typeof trustedDocumentsFileSchema>;
export type TrustedDocument = z.infer<typeof documentSchema>;

export function documentHash(query: string): string {
  return sha256(query, 'hex');
}

/** Registered documents by hash. */
export class TrustedDocuments {
  private readonly byHash: ReadonlyMap<string, TrustedDocument>;

  constructor(
    documents: readonly TrustedDocument[],
    /** Shown in errors and logs (file name). */
    readonly source: string,
  ) {
    const map = new Map<string, TrustedDocument>();
    for (const d of documents) {
      // A hash that is not the text's would let an unreviewed text run under a reviewed name.
      if (documentHash(d.query) !== d.sha256) throw new Error(`Trusted document "${d.name}" in ${source}: sha256 is not the SHA-256 of its query; regenerate the file.`);
      map.set(d.sha256, d);
    }
    this.byHash = map;
  }

  static parse(json: unknown, source: string): TrustedDocuments {
    const parsed = trustedDocumentsFileSchema.safeParse(json);
    if (!parsed.success) throw new Error(`Invalid trusted-documents file ${source}:\n${z.prettifyError(parsed.error)}`);
    return new TrustedDocuments(parsed.data.documents, source);
  }

  static readFile(file: string): TrustedDocuments {
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new Error(`Cannot read the trusted-documents file ${file}: ${(err as Error).message}. Generate it with npm run documents:generate.`);
    }
    return TrustedDocuments.parse(json, file);
  }

  get size(): number {
    return this.byHash.size;
  }

  get(hash: string): TrustedDocument | undefined {
    return this.byHash.get(hash);
  }
}

/** One operation of an HTTP request as Apollo Server will read it (POST body item or GET query string). */
export type OperationRequest = Record<string, unknown>;

export type TrustVerdict = { ok: true; document: TrustedDocument } | { ok: false; message: string };

const HASH = /^(?:sha256:)?([0-9a-f]{64})$/;

function persistedHash(extensions: unknown): { present: boolean; hash?: string } {
  let ext = extensions;
  if (typeof ext === 'string') {
    // GET requests carry extensions as JSON text.
    try {
      ext = JSON.parse(ext);
    } catch {
      return { present: true };
    }
  }
  if (!ext || typeof ext !== 'object' || !('persistedQuery' in ext)) return { present: false };
  const pq = (ext as { persistedQuery?: { sha256Hash?: unknown } }).persistedQuery;
  return { present: true, hash: typeof pq?.sha256Hash === 'string' ? pq.sha256Hash : undefined };
}

const HOW =
  'This client may run only registered operations (trusted documents): send {"documentId": "sha256:<hash>"} ' +
  '(or extensions.persistedQuery.sha256Hash) of a document of its list, generated from the procedure catalog by npm run documents:generate.';

/**
 * Decides one operation of a restricted client, from the raw request only (no
 * parsing), and on success rewrites it in place to the registered text, without
 * the hash fields (Apollo's own persisted-query cache is never consulted).
 */
export function admitOperation(op: OperationRequest, docs: TrustedDocuments): TrustVerdict {
  const ids = new Set<string>();
  const documentId = op.documentId;
  if (documentId !== undefined) {
    const m = typeof documentId === 'string' ? HASH.exec(documentId) : null;
    if (!m) return { ok: false, message: `documentId must be "sha256:<64 lowercase hex digits>". ${HOW}` };
    ids.add(m[1]!);
  }
  const pq = persistedHash(op.extensions);
  if (pq.present) {
    const m = pq.hash ? HASH.exec(pq.hash) : null;
    if (!m) return { ok: false, message: `extensions.persistedQuery.sha256Hash must be 64 lowercase hex digits. ${HOW}` };
    ids.add(m[1]!);
  }
  if (op.query !== undefined && op.query !== null) {
    if (typeof op.query !== 'string') return { ok: false, message: `query must be a string. ${HOW}` };
    ids.add(documentHash(op.query));
  }
  if (ids.size === 0) return { ok: false, message: `The request names no operation. ${HOW}` };
  // Text and hash must agree: a registered hash with another text is not that document.
  if (ids.size > 1) return { ok: false, message: `The query text does not match the document hash sent with it. ${HOW}` };
  const [hash] = [...ids];
  const document = docs.get(hash!);
  if (!document) return { ok: false, message: `The operation sha256:${hash!.slice(0, 16)}… is not in this client's trusted documents. ${HOW}` };
  op.query = document.query;
  delete op.documentId;
  if (pq.present) {
    if (typeof op.extensions === 'string') delete op.extensions;
    else delete (op.extensions as { persistedQuery?: unknown }).persistedQuery;
  }
  return { ok: true, document };
}

/**
 * Decides a whole request: the POST body (one operation or a batch) or the GET
 * query string. Anything that is not an object (or array of objects) is refused.
 */
export function admitRequest(method: string, body: unknown, query: unknown, docs: TrustedDocuments): TrustVerdict | { ok: true; documents: TrustedDocument[] } {
  const ops: unknown[] = method === 'GET' ? [query] : Array.isArray(body) ? body : [body];
  if (ops.length === 0) return { ok: false, message: `Empty batch. ${HOW}` };
  const admitted: TrustedDocument[] = [];
  for (const op of ops) {
    if (!op || typeof op !== 'object' || Array.isArray(op)) return { ok: false, message: `The request body is not a GraphQL request object. ${HOW}` };
    const v = admitOperation(op as OperationRequest, docs);
    if (!v.ok) return v;
    admitted.push(v.document);
  }
  return { ok: true, documents: admitted };
}
