/**
 * The deterministic synthetic world behind the mock registries.
 *
 * `generateWorld({ seed, citizens, asOf })` builds households first (so every
 * family link is made between people who exist), links most citizens still without
 * recorded parents to older citizens (as the population database records them), then
 * enterprises whose owners and representatives are adults of that population, then
 * insurance and land records that point at both, then the civil-status registrations,
 * health facilities' notices and digitised results of that population, then driving
 * licences and drivers' health certificates (more digitised results) and the contacts
 * registered with VNeID — the last two appended so the earlier records never change. Every phase draws from its own seeded stream, so the same seed
 * always gives the same world and a change in one phase does not reshuffle the rest.
 *
 * The phases live in gen/, one module per registry (population and parents,
 * residence, enterprise, insurance, land, civil, driving, contacts), each a function over the one shared
 * WorldState of gen/state.ts. Finders for tests are in find.ts (re-exported here);
 * golden.test.ts pins the output of a few seeds.
 *
 * Realistic gaps are deliberate: people without insurance or land, deceased
 * citizens, children under 6 still waiting for a health card, expired cards,
 * dissolved or suspended enterprises, mortgaged parcels, temporary residents, citizens
 * without a digitised civil-status entry, expired and revoked certificates.
 */
import { parseDay, yearOf } from './dates.js';
import { buildCivil } from './gen/civil.js';
import { buildContacts } from './gen/contacts.js';
import { buildDriving } from './gen/driving.js';
import { buildEnterprises } from './gen/enterprise.js';
import { buildHealthInsurance, buildSocialInsurance } from './gen/insurance.js';
import { buildLand } from './gen/land.js';
import { linkMissingParents } from './gen/parents.js';
import { buildPopulation } from './gen/population.js';
import { assignResidenceAndCards } from './gen/residence.js';
import { createWorldState, MERGER_DAY, worldOf } from './gen/state.js';
import { createRandom } from './random.js';
import type { World } from './types.js';

export { indexWorld, type WorldIndex } from './index-world.js';
export * from './find.js';

export interface GenerateOptions {
  /** PRNG seed: the same seed gives the same world. Default 20250701 (env MOCK_SEED in the registries). */
  seed?: number;
  /** Number of citizens (living and deceased), 1 to 1,000,000. Default 10,000. */
  citizens?: number;
  /** The world's "today" (yyyy-MM-dd): ages, expired cards and open periods are relative to it. Default 2026-11-01. */
  asOf?: string;
}

export const DEFAULT_SEED = 20250701;
export const DEFAULT_CITIZENS = 10_000;
export const DEFAULT_AS_OF = '2026-11-01';
export const MAX_CITIZENS = 1_000_000;

/**
 * Builds the whole synthetic world. Deterministic: the same options always give
 * deep-equal results. 100,000 citizens take a few seconds.
 */
export function generateWorld(opts: GenerateOptions = {}): World {
  const seed = opts.seed ?? DEFAULT_SEED;
  const citizens = opts.citizens ?? DEFAULT_CITIZENS;
  const asOf = opts.asOf ?? DEFAULT_AS_OF;
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffff_ffff) {
    throw new Error(`Invalid seed ${String(seed)}: expected an integer from 0 to 4294967295, e.g. ${DEFAULT_SEED}.`);
  }
  if (!Number.isInteger(citizens) || citizens < 1 || citizens > MAX_CITIZENS) {
    throw new Error(`Invalid number of citizens ${String(citizens)}: expected an integer from 1 to ${MAX_CITIZENS.toLocaleString('en')}.`);
  }
  const asOfDay = parseDay(asOf);
  if (asOfDay < MERGER_DAY || yearOf(asOfDay) > 2090) {
    throw new Error(`Invalid asOf ${asOf}: the world uses the administrative units in force since 2025-07-01, so asOf must be from then to 2090.`);
  }
  const state = createWorldState(seed, citizens, asOfDay);
  // Each phase gets its own stream forked from the seed (see the header): phases are ordered, streams independent.
  const phase = (label: string) => createRandom(seed).fork(label);
  buildPopulation(state, phase('population'));
  linkMissingParents(state, phase('parents'));
  assignResidenceAndCards(state, phase('residence'));
  buildEnterprises(state, phase('enterprises'));
  buildSocialInsurance(state, phase('social-insurance'));
  buildHealthInsurance(state, phase('health-insurance'));
  buildLand(state, phase('land'));
  buildCivil(state, phase('civil'));
  buildDriving(state, phase('driving'));
  buildContacts(state, phase('contacts'));
  return worldOf(state);
}
