/**
 * The provinces ranking (C3, like the seeds' weekly report): the 34 provincial units ranked by
 * dossiers served, or by the share of those dossiers with at least one component cut. Read from
 * the dossier rollups of clients whose tier is `province` (gateway/stats/engine.ts).
 */
import { PROVINCIAL_UNITS } from '../../lib/provinces.js';
import type { StatsEngine } from './engine.js';
import type { StatsQuery } from './params.js';

export interface RankingEntry {
  provinceCode: string;
  /** Official Vietnamese name. */
  label: string;
  labelEn: string;
  dossiers: number;
  withComponentsCut: number;
  /** withComponentsCut / dossiers (4 decimals); null when the province served no dossier. */
  cutShare: number | null;
}

/** Entries in each list when `limit` is not given. */
export const DEFAULT_RANKING_LIMIT = 5;

export async function rankingOf(engine: StatsEngine, q: StatsQuery): Promise<{ top: RankingEntry[]; bottom: RankingEntry[]; ranked: number }> {
  const s = await engine.summary({ ...q, groupBy: 'province', tier: ['province'], outcome: undefined, registry: undefined, offset: 0, limit: 1000 });
  const byCode = new Map(s.groups.map((g) => [g.key, g]));
  const all: RankingEntry[] = PROVINCIAL_UNITS.map((p) => {
    const d = byCode.get(p.code)?.dossiers;
    const dossiers = d?.served ?? 0;
    const withComponentsCut = d?.withComponentsCut ?? 0;
    return {
      provinceCode: p.code,
      label: p.name,
      labelEn: p.nameEn,
      dossiers,
      withComponentsCut,
      cutShare: dossiers > 0 ? Math.round((withComponentsCut / dossiers) * 10_000) / 10_000 : null,
    };
  });
  // By share, a province without dossiers has no share: it is left out of both lists.
  const ranked = q.by === 'cutShare' ? all.filter((e) => e.cutShare !== null) : all;
  const value = (e: RankingEntry) => (q.by === 'cutShare' ? e.cutShare! : e.dossiers);
  // Ties: more dossiers first, then by code, so the order is stable.
  const desc = [...ranked].sort((a, b) => value(b) - value(a) || b.dossiers - a.dossiers || (a.provinceCode < b.provinceCode ? -1 : 1));
  const limit = q.limitGiven ? q.limit : DEFAULT_RANKING_LIMIT;
  return { top: desc.slice(0, limit), bottom: [...desc].reverse().slice(0, limit), ranked: ranked.length };
}
