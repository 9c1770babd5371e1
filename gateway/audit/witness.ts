/**
 * Witnessed checkpoints: copies of the signed chain heads kept OUTSIDE the audit
 * store, so that whoever administers the store cannot roll it back unnoticed.
 *
 * The design follows transparency logs (RFC 9162 signed tree heads, Sigstore's
 * witnesses): a signed head is worthless against its own signer's operator if the
 * only copy sits in the database it vouches for. Once a head has been seen
 * elsewhere — an append-only file on another disk, another replica's witness,
 * an auditor's pinned copy of `GET /audit/v1/checkpoints/latest` — any store that
 * no longer extends it (truncated, rewritten, deleted, checkpoints removed) fails
 * `motlan audit verify --witness`.
 *
 * A witness file holds one JSON object per line: a checkpoint (instanceId, seq,
 * hash, ts, keyId, signature — the chain id is the instance id) plus `format`,
 * `witnessedAt` and `witnessedBy` (the replica that wrote the line). Lines are
 * appended with O_APPEND and fsync'd before `append` returns.
 *
 * Two kinds of line: a stored checkpoint (also in the store's checkpoint table, so
 * its absence there is tampering), and a signed *head* (`"head": true`), signed
 * and witnessed at most once per `witnessHeadIntervalMs` after a commit but not
 * stored: it covers the tail between stored checkpoints, which otherwise could be
 * cut without trace.
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import path from 'node:path';
import type { Checkpoint } from './record.js';

export const WITNESS_FORMAT = 'motlan-witness/1';

/** A checkpoint as a witness holds it: `head` marks a signed head that was never stored. */
export type WitnessedCheckpoint = Checkpoint & { head?: true };

/** Where signed checkpoints are copied outside the store. */
export interface CheckpointWitness {
  /** Human-readable location, for messages. */
  readonly location: string;
  /** Appends the checkpoints durably; rejects when they could not be written. */
  append(checkpoints: WitnessedCheckpoint[]): Promise<void> | void;
  /** The newest checkpoint the witness holds for each chain. */
  latest(): Map<string, WitnessedCheckpoint>;
}

export interface WitnessLine extends Checkpoint {
  head?: true;
  format: typeof WITNESS_FORMAT;
  /** ms since the epoch when the line was written. */
  witnessedAt: number;
  /** The replica (instance id) that wrote it: its own chain, or another replica's seen in a shared store. */
  witnessedBy: string;
}

/** The newest checkpoint of each chain among `cps`. */
export function latestByChain<C extends Checkpoint>(cps: Iterable<C>): Map<string, C> {
  const out = new Map<string, C>();
  for (const cp of cps) {
    const prev = out.get(cp.instanceId);
    if (!prev || cp.seq > prev.seq) out.set(cp.instanceId, cp);
  }
  return out;
}

/** Keeps only the checkpoint fields (the signature covers exactly these) and the head mark. */
export function checkpointOf(v: unknown, where: string): WitnessedCheckpoint {
  const o = v as Record<string, unknown> | null;
  const ok =
    o !== null &&
    typeof o === 'object' &&
    typeof o.instanceId === 'string' &&
    Number.isInteger(o.seq) &&
    (o.seq as number) >= 1 &&
    typeof o.hash === 'string' &&
    /^[0-9a-f]{64}$/.test(o.hash) &&
    typeof o.ts === 'number' &&
    typeof o.keyId === 'string' &&
    typeof o.signature === 'string';
  if (!ok) throw new Error(`${where}: not a signed checkpoint (instanceId, seq, hash, ts, keyId, signature)`);
  const cp: WitnessedCheckpoint = { instanceId: o.instanceId as string, seq: o.seq as number, hash: o.hash as string, ts: o.ts as number, keyId: o.keyId as string, signature: o.signature as string };
  if (o.head === true) cp.head = true;
  return cp;
}

/**
 * Reads checkpoints from a witness file (JSON Lines), a saved `/audit/v1/checkpoints/latest`
 * body (`{checkpoints: […]}`), a JSON array, or a single checkpoint object.
 */
export function parseWitness(text: string, source: string): WitnessedCheckpoint[] {
  const trimmed = text.trim();
  if (trimmed === '') return [];
  if (trimmed.startsWith('[') || (trimmed.startsWith('{') && !trimmed.includes('\n'))) {
    let doc: unknown;
    try {
      doc = JSON.parse(trimmed);
    } catch (err) {
      throw new Error(`${source}: not JSON (${(err as Error).message})`);
    }
    const list = Array.isArray(doc) ? doc : (doc as { checkpoints?: unknown }).checkpoints !== undefined ? (doc as { checkpoints: unknown }).checkpoints : [doc];
    if (!Array.isArray(list)) throw new Error(`${source}: "checkpoints" is not a list`);
    return list.map((c, i) => checkpointOf(c, `${source}: checkpoint #${i + 1}`));
  }
  const out: WitnessedCheckpoint[] = [];
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch (err) {
      // A torn last line (crash mid-append) is the only unreadable line a witness may hold.
      if (i >= lines.length - 2) return;
      throw new Error(`${source} line ${i + 1}: not JSON (${(err as Error).message})`);
    }
    out.push(checkpointOf(v, `${source} line ${i + 1}`));
  });
  return out;
}

/** An append-only JSON Lines file, fsync'd on every append. */
export class FileWitness implements CheckpointWitness {
  readonly location: string;
  private cache: Map<string, WitnessedCheckpoint> | null = null;

  constructor(
    file: string,
    /** The replica writing (recorded in each line). */
    private readonly by: string,
    private readonly now: () => number = Date.now,
  ) {
    this.location = path.resolve(file);
  }

  /** Every checkpoint in the file (empty when the file does not exist yet). */
  readAll(): WitnessedCheckpoint[] {
    if (!existsSync(this.location)) return [];
    return parseWitness(readFileSync(this.location, 'utf8'), this.location);
  }

  latest(): Map<string, WitnessedCheckpoint> {
    this.cache ??= latestByChain(this.readAll());
    return new Map(this.cache);
  }

  /** Asynchronous file I/O: the fsync must not hold the gateway's event loop. */
  async append(checkpoints: WitnessedCheckpoint[]): Promise<void> {
    if (checkpoints.length === 0) return;
    const created = !existsSync(this.location);
    if (created) await mkdir(path.dirname(this.location), { recursive: true });
    const at = this.now();
    const text = checkpoints
      .map((c) => JSON.stringify({ format: WITNESS_FORMAT, ...checkpointOf(c, 'checkpoint'), witnessedAt: at, witnessedBy: this.by } satisfies WitnessLine))
      .join('\n');
    // One write of whole lines with O_APPEND: lines of concurrent writers never interleave.
    const fh = await open(this.location, 'a', 0o640);
    try {
      await fh.write(`${text}\n`);
      await fh.sync();
    } finally {
      await fh.close();
    }
    if (created) fsyncDir(path.dirname(this.location));
    const cache = this.latest();
    for (const [id, cp] of latestByChain(checkpoints)) if ((cache.get(id)?.seq ?? 0) < cp.seq) cache.set(id, cp);
    this.cache = cache;
  }
}

/** Makes a new file's directory entry durable (best effort: not every platform can open a directory). */
function fsyncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    /* not supported here */
  }
}

/**
 * Reads a witness given on the command line: a file, or an `http(s)://` URL of a
 * gateway's `/audit/v1/checkpoints/latest` (sent with `Authorization: Bearer <apiKey>`).
 */
export async function loadWitness(spec: string, opts: { cwd: string; apiKey?: string | undefined; fetch?: typeof fetch }): Promise<WitnessedCheckpoint[]> {
  if (/^https?:\/\//i.test(spec)) {
    const doFetch = opts.fetch ?? fetch;
    const res = await doFetch(spec, { headers: opts.apiKey ? { authorization: `Bearer ${opts.apiKey}` } : {} });
    const body = await res.text();
    if (!res.ok) throw new Error(`witness ${spec} answered HTTP ${res.status}${res.status === 401 || res.status === 403 ? ' (set MOTLAN_AUDITOR_KEY to an auditor API key)' : ''}`);
    return parseWitness(body, spec);
  }
  const file = path.resolve(opts.cwd, spec);
  if (!existsSync(file)) throw new Error(`witness file ${file} does not exist`);
  return parseWitness(readFileSync(file, 'utf8'), file);
}
