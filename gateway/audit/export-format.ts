/**
 * The two export formats, both readable back losslessly by `motlan audit verify`:
 *
 * JSON Lines — one object per line, `type` first:
 *   header     {type, format, exportedAt, filter, keys: [{keyId, publicKeyPem}]}
 *   anchor     a signed checkpoint the exported chain starts after
 *   record     a full audit record
 *   redacted   a chain position outside the export's filter: seq and hashes only
 *   checkpoint a signed checkpoint
 *
 * CSV — one row per line with a `type` column (key, anchor, record, redacted,
 * checkpoint) and one column per record field, so a spreadsheet can filter on
 * `type = record`. Lists are `;`-joined (their items never contain `;`),
 * entities are `registry=count;…`, subjects `kind:role:hmac;…`.
 *
 * CSV injection (OWASP "CSV Injection"): a cell that starts with `=`, `+`, `-`, `@`, a tab
 * or a carriage return — or with `'`, so the rule can be undone — gets a leading `'` and is
 * quoted, so a spreadsheet shows it as text and never runs it as a formula; cells holding a
 * `"`, `,`, `;` or a line break are quoted, `"` doubled. The reader strips the `'` again, so
 * the export still verifies byte for byte.
 */
import { createPublicKey } from 'node:crypto';
import { canonicalJson } from './canonical.js';
import { contentHash, type AuditRecord, type Checkpoint, type Outcome, type SubjectRef } from './record.js';
import type { PublicKeyEntry } from './store.js';
import type { ChainItem } from './verify.js';

export const EXPORT_FORMAT = 'motlan-audit-export/1';

export type ExportLine =
  | { type: 'header'; format: string; exportedAt: number; filter: Record<string, unknown>; keys: Array<{ keyId: string; publicKeyPem: string }> }
  | { type: 'key'; keyId: string; publicKeyPem: string }
  | ({ type: 'anchor' } & Checkpoint)
  | ({ type: 'checkpoint' } & Checkpoint)
  | ({ type: 'record' } & AuditRecord)
  | { type: 'redacted'; instanceId: string; seq: number; contentHash: string; prevHash: string; hash: string };

export function redactedOf(r: AuditRecord): Extract<ExportLine, { type: 'redacted' }> {
  return { type: 'redacted', instanceId: r.instanceId, seq: r.seq, contentHash: contentHash(r), prevHash: r.prevHash, hash: r.hash };
}

// --------------------------------------------------------------------------- JSON Lines

export function toJsonLine(line: ExportLine): string {
  return `${JSON.stringify(line)}\n`;
}

export function parseJsonLine(text: string, lineNo: number): ExportLine {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new Error(`line ${lineNo}: not JSON (${(err as Error).message})`);
  }
  if (typeof v !== 'object' || v === null || typeof (v as { type?: unknown }).type !== 'string') {
    throw new Error(`line ${lineNo}: not an audit export line (no "type")`);
  }
  return v as ExportLine;
}

// --------------------------------------------------------------------------- CSV

export const CSV_COLUMNS = [
  'type', 'instanceId', 'seq', 'time', 'ts', 'requestId', 'clientId', 'agency', 'operationName', 'operationType',
  'documentHash', 'procedureId', 'dossierId', 'outcome', 'errorCodes', 'httpStatus', 'durationMs', 'responseBytes',
  'registries', 'fields', 'entities', 'subjects', 'prefill', 'contentHash', 'prevHash', 'hash', 'keyId', 'signature', 'publicKey',
  'clientRequestId', 'reasonCode', 'covers', 'subgraphRequests', 'clientTier', 'clientProvince',
] as const;
type Col = (typeof CSV_COLUMNS)[number];

/** Cells a spreadsheet would read as a formula (or that start with the escape itself). */
const FORMULA_START = /^[=+\-@\t\r']/;

export function cell(v: string | number | null | undefined): string {
  if (v === null || v === undefined) return '';
  let s = String(v);
  const formula = FORMULA_START.test(s);
  if (formula) s = `'${s}`;
  return formula || /[",;\r\n\t]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Undoes the formula escape of `cell` (the quotes are undone by splitCsvLine). */
export function uncell(s: string): string {
  return s.startsWith("'") ? s.slice(1) : s;
}

export function csvHeader(): string {
  return `${CSV_COLUMNS.join(',')}\n`;
}

/** PEM → single-line base64 of the DER key (a CSV cell holds no newline). */
function pemToDer64(pem: string): string {
  return createPublicKey(pem).export({ type: 'spki', format: 'der' }).toString('base64');
}
function der64ToPem(b64: string): string {
  return createPublicKey({ key: Buffer.from(b64, 'base64'), format: 'der', type: 'spki' }).export({ type: 'spki', format: 'pem' }).toString();
}

export function toCsvRow(line: ExportLine): string {
  const v: Partial<Record<Col, string | number | null>> = { type: line.type };
  switch (line.type) {
    case 'header':
      return line.keys.map((k) => toCsvRow({ type: 'key', ...k })).join('');
    case 'key':
      v.keyId = line.keyId;
      v.publicKey = pemToDer64(line.publicKeyPem);
      break;
    case 'anchor':
    case 'checkpoint':
      Object.assign(v, { instanceId: line.instanceId, seq: line.seq, ts: line.ts, time: new Date(line.ts).toISOString(), hash: line.hash, keyId: line.keyId, signature: line.signature });
      break;
    case 'redacted':
      Object.assign(v, { instanceId: line.instanceId, seq: line.seq, contentHash: line.contentHash, prevHash: line.prevHash, hash: line.hash });
      break;
    case 'record':
      Object.assign(v, {
        instanceId: line.instanceId,
        seq: line.seq,
        time: new Date(line.ts).toISOString(),
        ts: line.ts,
        requestId: line.requestId,
        clientId: line.clientId,
        agency: line.agency,
        operationName: line.operationName,
        operationType: line.operationType,
        documentHash: line.documentHash,
        procedureId: line.procedureId,
        dossierId: line.dossierId,
        outcome: line.outcome,
        errorCodes: line.errorCodes.join(';'),
        httpStatus: line.httpStatus,
        durationMs: line.durationMs,
        responseBytes: line.responseBytes,
        registries: line.registries.join(';'),
        fields: line.fields.join(';'),
        entities: Object.entries(line.entities).map(([k, n]) => `${k}=${n}`).join(';'),
        subjects: line.subjects.map((s) => `${s.kind}:${s.role}:${s.hmac}`).join(';'),
        prefill: line.prefill ? canonicalJson(line.prefill) : null,
        clientRequestId: line.clientRequestId ?? null,
        reasonCode: line.reasonCode ?? null,
        covers: line.covers ?? null,
        subgraphRequests: line.subgraphRequests ? line.subgraphRequests.join(';') : null,
        clientTier: line.clientTier ?? null,
        clientProvince: line.clientProvince ?? null,
        contentHash: contentHash(line),
        prevHash: line.prevHash,
        hash: line.hash,
      });
      break;
  }
  return `${CSV_COLUMNS.map((c) => cell(v[c])).join(',')}\n`;
}

/** Splits one CSV line (RFC 4180 quoting; cells never contain newlines). */
export function splitCsvLine(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  let cur = '';
  let quoted = false;
  while (i < line.length) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"') {
        if (line[i + 1] === '"') {
          cur += '"';
          i += 2;
          continue;
        }
        quoted = false;
      } else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      out.push(cur);
      cur = '';
    } else cur += ch;
    i++;
  }
  if (quoted) throw new Error('unterminated quoted cell');
  out.push(cur);
  return out;
}

const list = (s: string) => (s === '' ? [] : s.split(';'));
const nullable = (s: string | undefined) => (s === undefined || s === '' ? null : s);

export function parseCsvRow(text: string, header: string[], lineNo: number): ExportLine | null {
  const cells = splitCsvLine(text);
  if (cells.length !== header.length) throw new Error(`line ${lineNo}: ${cells.length} cells, the header has ${header.length}`);
  const c = Object.fromEntries(header.map((h, i) => [h, uncell(cells[i]!)])) as Record<Col, string>;
  const num = (s: string) => {
    const n = Number(s);
    if (s === '' || !Number.isFinite(n)) throw new Error(`line ${lineNo}: ${JSON.stringify(s)} is not a number`);
    return n;
  };
  switch (c.type) {
    case 'key':
      return { type: 'key', keyId: c.keyId, publicKeyPem: der64ToPem(c.publicKey) };
    case 'anchor':
    case 'checkpoint':
      return { type: c.type, instanceId: c.instanceId, seq: num(c.seq), hash: c.hash, ts: num(c.ts), keyId: c.keyId, signature: c.signature };
    case 'redacted':
      return { type: 'redacted', instanceId: c.instanceId, seq: num(c.seq), contentHash: c.contentHash, prevHash: c.prevHash, hash: c.hash };
    case 'record':
      return {
        type: 'record',
        instanceId: c.instanceId,
        seq: num(c.seq),
        ts: num(c.ts),
        requestId: c.requestId,
        clientId: c.clientId,
        agency: c.agency,
        operationName: nullable(c.operationName),
        operationType: nullable(c.operationType) as AuditRecord['operationType'],
        documentHash: nullable(c.documentHash),
        procedureId: nullable(c.procedureId),
        dossierId: nullable(c.dossierId),
        outcome: c.outcome as Outcome,
        errorCodes: list(c.errorCodes),
        httpStatus: num(c.httpStatus),
        durationMs: num(c.durationMs),
        responseBytes: c.responseBytes === '' ? null : num(c.responseBytes),
        registries: list(c.registries),
        fields: list(c.fields),
        entities: Object.fromEntries(
          list(c.entities).map((e) => {
            const [k, n] = e.split('=');
            return [k!, num(n ?? '')];
          }),
        ),
        subjects: list(c.subjects).map((s) => {
          const [kind, role, hmac] = s.split(':');
          return { kind, role, hmac } as SubjectRef;
        }),
        prefill: c.prefill === '' ? null : (JSON.parse(c.prefill) as AuditRecord['prefill']),
        prevHash: c.prevHash,
        hash: c.hash,
        // Columns added later: absent in older exports, empty when the record has no such field.
        ...(c.clientRequestId ? { clientRequestId: c.clientRequestId } : {}),
        ...(c.reasonCode ? { reasonCode: c.reasonCode } : {}),
        ...(c.covers ? { covers: num(c.covers) } : {}),
        ...(c.subgraphRequests ? { subgraphRequests: list(c.subgraphRequests) } : {}),
        ...(c.clientTier ? { clientTier: c.clientTier } : {}),
        ...(c.clientProvince ? { clientProvince: c.clientProvince } : {}),
      };
    default:
      throw new Error(`line ${lineNo}: unknown row type ${JSON.stringify(c.type)}`);
  }
}

// --------------------------------------------------------------------------- reading a whole export

export interface ParsedExport {
  keys: PublicKeyEntry[];
  chains: Map<string, { anchor: Checkpoint | null; items: ChainItem[]; checkpoints: Checkpoint[] }>;
  /** First unreadable line, when any (verification stops there). */
  malformed: { line: number; message: string } | null;
  /** The export's filter from its header (null: no header read). */
  filter?: Record<string, unknown> | null;
}

/** Reads an export (JSONL or CSV, detected from the content) line by line. */
export async function parseExport(lines: AsyncIterable<string> | Iterable<string>): Promise<ParsedExport> {
  const out: ParsedExport = { keys: [], chains: new Map(), malformed: null };
  const chain = (id: string) => {
    let c = out.chains.get(id);
    if (!c) out.chains.set(id, (c = { anchor: null, items: [], checkpoints: [] }));
    return c;
  };
  let lineNo = 0;
  let csvHeaderCells: string[] | null = null;
  let format: 'jsonl' | 'csv' | null = null;
  for await (const raw of lines) {
    lineNo++;
    const text = raw.replace(/\r$/, '');
    if (text.trim() === '') continue;
    try {
      if (format === null) {
        format = text.startsWith('{') ? 'jsonl' : 'csv';
        if (format === 'csv') {
          csvHeaderCells = splitCsvLine(text.replace(/^\uFEFF/, ''));
          if (csvHeaderCells[0] !== 'type') throw new Error('line 1: neither JSON Lines nor a Motlan audit CSV (first column must be "type")');
          continue;
        }
      }
      const line = format === 'jsonl' ? parseJsonLine(text, lineNo) : parseCsvRow(text, csvHeaderCells!, lineNo);
      if (!line) continue;
      switch (line.type) {
        case 'header':
          out.filter = line.filter ?? {};
          for (const k of line.keys) out.keys.push({ keyId: k.keyId, publicKeyPem: k.publicKeyPem, createdAt: 0 });
          break;
        case 'key':
          out.keys.push({ keyId: line.keyId, publicKeyPem: line.publicKeyPem, createdAt: 0 });
          break;
        case 'anchor': {
          const { type: _t, ...cp } = line;
          chain(cp.instanceId).anchor = cp;
          break;
        }
        case 'checkpoint': {
          const { type: _t, ...cp } = line;
          chain(cp.instanceId).checkpoints.push(cp);
          break;
        }
        case 'record': {
          const { type: _t, ...record } = line;
          chain(record.instanceId).items.push({ type: 'record', record, line: lineNo });
          break;
        }
        case 'redacted': {
          const { type: _t, ...r } = line;
          chain(r.instanceId).items.push({ type: 'redacted', ...r, line: lineNo });
          break;
        }
        default:
          throw new Error(`line ${lineNo}: unknown line type ${JSON.stringify((line as { type: string }).type)}`);
      }
    } catch (err) {
      const msg = (err as Error).message;
      out.malformed = { line: lineNo, message: msg.startsWith('line ') ? msg : `line ${lineNo}: ${msg}` };
      break;
    }
  }
  return out;
}
