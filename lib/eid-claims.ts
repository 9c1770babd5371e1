/**
 * The contract between the e-ID platform (mocked in mocks/eid/) and the gateway's subject-token
 * verifier (gateway/policy/subject-token.ts): claim names and the default issuer and audience.
 */

/** Claim names shared by the issuer and the gateway's verifier. */
export const SUBJECT_TOKEN_CLAIMS = {
  /** The procedure the citizen asked for (procedure id of the catalog). */
  procedure: 'procedure_id',
  /** Optional: the TTHC client the token was issued to; when present it must match. */
  client: 'client_id',
  /** Optional: the dossier the token was issued for; when present it must match X-Dossier-Id. */
  dossier: 'dossier_id',
} as const;

export const DEFAULT_EID_ISSUER = 'urn:motlan:mock-eid';
export const DEFAULT_EID_AUDIENCE = 'motlan-gateway';
