/**
 * Land phase: residential and agricultural parcels of households (held by the head,
 * often jointly with the spouse) and parcels of enterprises, with certificates in
 * the national form series of their year and mortgages, some still in force.
 */
import { COMMUNE_BY_CODE, FORMER_PROVINCE_BY_CODE, PROVINCE_BY_CODE, type Commune } from '../admin-units.js';
import { BANKS, LAND_USES, type LandUse } from '../catalogs.js';
import { addYears, dayOf, formatDay, parseDay, yearOf } from '../dates.js';
import type { Random } from '../random.js';
import type { LandParcelRecord } from '../types.js';
import { addressIn, lowerFirst } from './places.js';
import { MERGER_DAY, type EnterpriseInfo, type Person, type WorldState } from './state.js';

export function buildLand(s: WorldState, r: Random): void {
  const parcelIds = new Set<string>();
  const serials = new Set<string>();
  for (const h of s.households) {
    const head = s.byId.get(h.headId);
    if (!head || head.death !== null) continue;
    const commune = COMMUNE_BY_CODE.get(h.address.communeCode)!;
    const spouse = head.rec.spouseId ? s.byId.get(head.rec.spouseId) : undefined;
    const livingSpouse = spouse && spouse.death === null ? spouse : undefined;
    const holdersFor = (): Person[] => (livingSpouse && r.chance(0.45) ? [head, livingSpouse] : [head]);
    if (r.chance(commune.urban ? 0.38 : 0.68)) {
      addParcel(s, r, commune, LAND_USES[commune.urban ? 'ODT' : 'ONT']!, holdersFor(), parcelIds, serials, h.address.detail);
    }
    if (!commune.urban && r.chance(0.45)) {
      const region = PROVINCE_BY_CODE.get(commune.provinceCode)!.region;
      const use = region === 'MEKONG_DELTA' ? (r.chance(0.25) ? 'NTS' : 'LUC')
        : region === 'CENTRAL_HIGHLANDS' || region === 'SOUTHEAST' ? 'CLN'
          : region === 'NORTHERN_MOUNTAINS' ? (r.chance(0.5) ? 'BHK' : 'CLN') : 'LUC';
      addParcel(s, r, commune, LAND_USES[use]!, holdersFor(), parcelIds, serials, null);
    }
  }
  for (const e of s.enterprises) {
    if (e.rec.status === 'DISSOLVED' || e.rec.status === 'REVOKED' || !r.chance(0.25)) continue;
    const commune = COMMUNE_BY_CODE.get(e.rec.headOffice.communeCode)!;
    addParcel(s, r, commune, LAND_USES[e.sector.landUse]!, e, parcelIds, serials, e.rec.headOffice.detail);
  }
  // A small world still has a parcel under a mortgage in force.
  if (!s.parcels.some((p) => p.mortgages.some((m) => m.releasedOn === null))) {
    const parcel = s.parcels.find((p) => p.certificate !== null);
    if (parcel) {
      const from = parseDay(parcel.certificate!.issuedOn) + 1;
      parcel.mortgages.push({ mortgagee: r.pick(BANKS), registeredOn: formatDay(r.int(Math.min(from, s.asOf - 1), s.asOf - 1)), releasedOn: null });
    }
  }
}

function addParcel(
  s: WorldState, r: Random, commune: Commune, use: LandUse, holders: Person[] | EnterpriseInfo,
  parcelIds: Set<string>, serials: Set<string>, detail: string | null,
): void {
  let parcelId: string;
  let mapSheet: number;
  let parcelNumber: number;
  do {
    mapSheet = r.int(1, 60);
    parcelNumber = r.int(1, 1500);
    parcelId = `${commune.code}-${mapSheet}-${parcelNumber}`;
  } while (parcelIds.has(parcelId));
  parcelIds.add(parcelId);

  const isEnterprise = !Array.isArray(holders);
  // Rights are acquired once the holder exists: adulthood for people, registration for enterprises.
  const earliest = Math.max(
    dayOf(1995, 1, 1),
    isEnterprise ? holders.registered + 30 : Math.max(...holders.map((p) => addYears(p.birth, 18))),
  );
  const acquired = earliest < s.asOf - 10 ? r.int(earliest, s.asOf - 10) : s.asOf - 10;
  const certified = earliest < s.asOf - 10 && r.chance(0.92);
  let certificate: LandParcelRecord['certificate'] = null;
  if (certified) {
    const issued = Math.min(s.asOf - 1, acquired + r.int(30, 400));
    const year = yearOf(issued);
    // Certificate series change with each national form: B… until 2013, C… to 2018, D… to mid-2025, A… after.
    const series = year < 2014 ? 'B' : year < 2019 ? 'C' : issued < MERGER_DAY ? 'D' : 'A';
    let serial: string;
    do serial = `${series}${String.fromCharCode(65 + r.int(0, 11))} ${String(r.int(0, 999_999)).padStart(6, '0')}`;
    while (serials.has(serial));
    serials.add(serial);
    const former = FORMER_PROVINCE_BY_CODE.get(commune.formerProvinceCode)!;
    const province = PROVINCE_BY_CODE.get(commune.provinceCode)!;
    certificate = {
      serial,
      bookEntryNumber: `${year < 2014 ? 'CH' : 'CS'} ${String(r.int(1, 99_999)).padStart(5, '0')}`,
      issuedOn: formatDay(issued),
      issuedBy: issued >= MERGER_DAY ? `Sở Nông nghiệp và Môi trường ${lowerFirst(province.name)}` : `Sở Tài nguyên và Môi trường ${lowerFirst(former.name)}`,
    };
  }
  const mortgages: LandParcelRecord['mortgages'] = [];
  if (certificate && r.chance(0.2)) {
    let from = parseDay(certificate.issuedOn) + r.int(30, 1500);
    const n = r.int(1, 2);
    for (let i = 0; i < n && from < s.asOf - 1; i++) {
      const release = r.chance(i < n - 1 ? 1 : 0.45) ? from + r.int(180, 2000) : null;
      const released = release !== null && release < s.asOf ? release : null;
      mortgages.push({ mortgagee: r.pick(BANKS), registeredOn: formatDay(from), releasedOn: released === null ? null : formatDay(released) });
      if (released === null) break;
      from = released + r.int(10, 400);
    }
  }
  const area = Math.round(r.int(use.area[0] * 10, use.area[1] * 10)) / 10;
  const shares = isEnterprise ? [10_000] : splitSharesEqual(holders.length);
  s.parcels.push({
    parcelId,
    mapSheetNumber: mapSheet,
    parcelNumber,
    address: addressIn(commune, detail),
    area,
    landUseCode: use.code,
    landUsePurpose: use.purpose,
    usageTerm: use.termYears === null ? 'Lâu dài' : formatDay(addYears(acquired, use.termYears)),
    origin: r.pick(use.origins),
    holders: isEnterprise
      ? [{ kind: 'ENTERPRISE', enterpriseCode: holders.rec.enterpriseCode, name: holders.rec.name, sharePercent: 100 }]
      : holders.map((p, i) => ({ kind: 'CITIZEN' as const, personalId: p.rec.personalId, name: p.rec.fullName, sharePercent: shares[i]! / 100 })),
    certificate,
    mortgages,
  });
}

function splitSharesEqual(n: number): number[] {
  const each = Math.floor(10_000 / n);
  const shares = Array.from({ length: n }, () => each);
  shares[0]! += 10_000 - each * n;
  return shares;
}
