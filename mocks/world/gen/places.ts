/**
 * Addresses of the synthetic world: an address record in a commune, and the house
 * number, alley or hamlet detail written the way each region writes it. Pure
 * functions of the random stream; shared by every phase that places something.
 */
import { COMMUNE_BY_CODE, PROVINCE_BY_CODE, type Commune, type Region } from '../admin-units.js';
import { HAMLET_NAMES, STREETS } from '../catalogs.js';
import type { Ethnicity } from '../names.js';
import type { Random } from '../random.js';
import type { AddressRecord } from '../types.js';

/** The address record of a place in `commune` (province and commune names as in force since the 2025 merger). */
export function addressIn(commune: Commune, detail: string | null): AddressRecord {
  const province = PROVINCE_BY_CODE.get(commune.provinceCode)!;
  return { provinceCode: province.code, province: province.name, communeCode: commune.code, commune: commune.name, detail };
}

/** A city house number, sometimes in an alley (ngõ). */
export function streetDetail(r: Random): string {
  const street = r.pick(STREETS);
  return r.chance(0.4) ? `Số ${r.int(1, 80)} ngõ ${r.int(2, 400)} ${street}` : `Số ${r.int(1, 450)} ${street}`;
}

/** A village or hamlet as the region names it: Ấp in the South, Buôn in the Highlands, Bản in the northern mountains. */
export function ruralDetail(r: Random, region: Region, ethnicity: Ethnicity): string {
  const hamlet = r.chance(0.3) ? String(r.int(1, 12)) : r.pick(HAMLET_NAMES);
  if (region === 'MEKONG_DELTA' || region === 'SOUTHEAST') return `Ấp ${hamlet}`;
  if (region === 'CENTRAL_HIGHLANDS' && ethnicity.style === 'HIGHLANDS') return `Buôn ${hamlet}`;
  if (region === 'NORTHERN_MOUNTAINS' && ethnicity.name !== 'Kinh') return `Bản ${hamlet}`;
  return r.chance(0.2) ? `Xóm ${hamlet}` : `Thôn ${hamlet}`;
}

/** A full address (with house or hamlet) in the commune of a hometown. */
export function hometownAddressWithDetail(r: Random, hometown: AddressRecord, region: Region, ethnicity: Ethnicity): AddressRecord {
  const commune = COMMUNE_BY_CODE.get(hometown.communeCode)!;
  return addressIn(commune, commune.urban ? streetDetail(r) : ruralDetail(r, region, ethnicity));
}

/** "Tỉnh An Giang" → "tỉnh An Giang", as written inside an agency's name. */
export function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}

/** "Thành phố Hà Nội" → "Hà Nội": a unit's name without its kind. */
export function shortName(unitName: string): string {
  return unitName.replace(/^(Phường|Xã|Thành phố|Tỉnh) /, '');
}
