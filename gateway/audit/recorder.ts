/**
 * Joins the HTTP side (Fastify hooks) and the GraphQL side (Apollo plugin) of a
 * request on its request id, and writes its single record.
 */
import { performance } from 'node:perf_hooks';
import { AuditDraft, buildEntry, type HttpFacts } from './draft.js';
import type { SubjectHasher } from './keys.js';
import type { AuditLog } from './log.js';
import type { AuditRecord } from './record.js';

export class AuditRecorder {
  private readonly drafts = new Map<string, AuditDraft>();

  constructor(
    readonly log: AuditLog,
    readonly hasher: SubjectHasher,
  ) {}

  /** Opens the draft of a request that just arrived. */
  open(requestId: string, receivedAt = Date.now(), startedAt = performance.now()): AuditDraft {
    const d = new AuditDraft(requestId, receivedAt, startedAt);
    this.drafts.set(requestId, d);
    return d;
  }

  find(requestId: string): AuditDraft | undefined {
    return this.drafts.get(requestId);
  }

  forget(draft: AuditDraft): void {
    if (this.drafts.get(draft.requestId) === draft) this.drafts.delete(draft.requestId);
  }

  /** Open drafts (requests in flight); exposed for tests and metrics. */
  inFlight(): number {
    return this.drafts.size;
  }

  /**
   * Seals the draft and waits until its record is durable. Throws
   * `AuditUnavailableError` when the store cannot commit: the caller must then
   * answer 503 and share nothing. Resolves null if the draft was already recorded.
   */
  async record(draft: AuditDraft, http: HttpFacts): Promise<AuditRecord | null> {
    if (draft.sealed) return null;
    draft.sealed = true;
    this.forget(draft);
    return this.log.append(buildEntry(draft, http, this.hasher));
  }
}
