/**
 * The shape of a purpose: the subject roots a procedure's paths start from and the tree of
 * field names they reach. Built by the procedure catalog (gateway/procedures/compile.ts),
 * read by the purpose policy, the response check and the relation checks.
 */

/** Roots a source path may start with, each bound to one subject of `SubjectInput`. */
export const SUBJECT_ROOTS = ['citizen', 'relatedCitizen', 'enterprise', 'parcel'] as const;
export type SubjectRoot = (typeof SUBJECT_ROOTS)[number];

/** How each subject root enters the graph: a root query field and the SubjectInput argument bound to it. */
export const ROOTS: Record<SubjectRoot, { queryField: string; argument: string; variable: string; alias?: string }> = {
  citizen: { queryField: 'citizen', argument: 'personalId', variable: 'personalId' },
  relatedCitizen: { queryField: 'citizen', argument: 'personalId', variable: 'relatedPersonalId', alias: 'relatedCitizen' },
  enterprise: { queryField: 'enterprise', argument: 'enterpriseCode', variable: 'enterpriseCode' },
  parcel: { queryField: 'landParcel', argument: 'parcelId', variable: 'parcelId', alias: 'parcel' },
};

/** A node of a purpose's path tree: field name → the subtree below it (empty at a leaf). */
export interface PathTree {
  readonly children: ReadonlyMap<string, PathTree>;
}
