/**
 * `Address` is shared by the population, enterprise and land subgraphs
 * (`@shareable`), so all three must compute `fullAddress` the same way.
 */
import type { AddressRecord } from '../../lib/registry-records.js';

/** One line, most specific first: "detail, commune, province" (detail left out when unknown). */
export function fullAddress(a: AddressRecord): string {
  return a.detail ? `${a.detail}, ${a.commune}, ${a.province}` : `${a.commune}, ${a.province}`;
}

/** Resolvers for the shared `Address` type; the other fields map one to one. */
export const addressResolvers = {
  fullAddress: (a: AddressRecord): string => fullAddress(a),
};
