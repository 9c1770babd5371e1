/**
 * The 34 provincial units in force since 1 July 2025 (Nghị quyết 202/2025/QH15): code, Vietnamese
 * name and English name. The gateway needs them (a client's `provinceCode`, statistics labels) and may
 * not import mocks/, so the list lives here; test/provinces.test.ts checks it equals the mocks' list
 * (mocks/world/admin-units.ts), which also carries communes and former provinces.
 */

export interface ProvincialUnit {
  /** 2-digit code, e.g. `79`. */
  code: string;
  /** Official Vietnamese name, e.g. `Thành phố Hồ Chí Minh`. */
  name: string;
  /** English name, e.g. `Ho Chi Minh City`. */
  nameEn: string;
}

// [code, short name, centrally run city?, English short name]
const UNITS: ReadonlyArray<readonly [string, string, boolean, string]> = [
  ['01', 'Hà Nội', true, 'Hanoi'], ['04', 'Cao Bằng', false, 'Cao Bang'], ['08', 'Tuyên Quang', false, 'Tuyen Quang'],
  ['11', 'Điện Biên', false, 'Dien Bien'], ['12', 'Lai Châu', false, 'Lai Chau'], ['14', 'Sơn La', false, 'Son La'],
  ['15', 'Lào Cai', false, 'Lao Cai'], ['19', 'Thái Nguyên', false, 'Thai Nguyen'], ['20', 'Lạng Sơn', false, 'Lang Son'],
  ['22', 'Quảng Ninh', false, 'Quang Ninh'], ['24', 'Bắc Ninh', false, 'Bac Ninh'], ['25', 'Phú Thọ', false, 'Phu Tho'],
  ['31', 'Hải Phòng', true, 'Hai Phong'], ['33', 'Hưng Yên', false, 'Hung Yen'], ['37', 'Ninh Bình', false, 'Ninh Binh'],
  ['38', 'Thanh Hóa', false, 'Thanh Hoa'], ['40', 'Nghệ An', false, 'Nghe An'], ['42', 'Hà Tĩnh', false, 'Ha Tinh'],
  ['44', 'Quảng Trị', false, 'Quang Tri'], ['46', 'Huế', true, 'Hue'], ['48', 'Đà Nẵng', true, 'Da Nang'],
  ['51', 'Quảng Ngãi', false, 'Quang Ngai'], ['52', 'Gia Lai', false, 'Gia Lai'], ['56', 'Khánh Hòa', false, 'Khanh Hoa'],
  ['66', 'Đắk Lắk', false, 'Dak Lak'], ['68', 'Lâm Đồng', false, 'Lam Dong'], ['75', 'Đồng Nai', false, 'Dong Nai'],
  ['79', 'Hồ Chí Minh', true, 'Ho Chi Minh'], ['80', 'Tây Ninh', false, 'Tay Ninh'], ['82', 'Đồng Tháp', false, 'Dong Thap'],
  ['86', 'Vĩnh Long', false, 'Vinh Long'], ['91', 'An Giang', false, 'An Giang'], ['92', 'Cần Thơ', true, 'Can Tho'],
  ['96', 'Cà Mau', false, 'Ca Mau'],
];

export const PROVINCIAL_UNITS: readonly ProvincialUnit[] = UNITS.map(([code, short, city, en]) => ({
  code,
  name: city ? `Thành phố ${short}` : `Tỉnh ${short}`,
  nameEn: city ? `${en} City` : `${en} Province`,
}));

export const PROVINCIAL_UNIT_BY_CODE: ReadonlyMap<string, ProvincialUnit> = new Map(PROVINCIAL_UNITS.map((p) => [p.code, p]));

/** An agency's level: a ministry (khối bộ, ngành) or a province (khối địa phương). */
export const AGENCY_TIERS = ['ministry', 'province'] as const;
export type AgencyTier = (typeof AGENCY_TIERS)[number];

export const AGENCY_TIER_LABELS: Readonly<Record<AgencyTier, { label: string; labelEn: string }>> = {
  ministry: { label: 'Khối bộ, ngành', labelEn: 'Ministries' },
  province: { label: 'Khối địa phương', labelEn: 'Provinces' },
};
