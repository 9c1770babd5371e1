/**
 * Which purposes the catalog knows: one answer for every concern that labels or groups by
 * purpose (metrics labels, statistics groups), so a purpose cannot be known to one and
 * `unknown` to the other. A purpose is a procedure id or the id of an interconnected group
 * (a group id is a purpose of its own: one request, one audit record, one label).
 * Anything else a client sends in X-Purpose is `unknown` there: clients must not be able to
 * mint label values or statistics groups.
 */
import type { ProcedureCatalog } from './services.js';

/** Every purpose the catalog serves now: its procedure ids, then its group ids. */
export function knownPurposeIds(catalog: ProcedureCatalog): string[] {
  return [...catalog.ids(), ...(catalog.groupIds?.() ?? [])];
}

/** Whether `id` is a procedure or group of the catalog (read per call: the catalog may be reloaded). */
export function isKnownPurpose(catalog: ProcedureCatalog, id: string): boolean {
  return catalog.ids().includes(id) || (catalog.groupIds?.() ?? []).includes(id);
}
