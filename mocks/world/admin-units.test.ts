import { describe, expect, it } from 'vitest';
import { COMMUNES, FORMER_PROVINCES, PROVINCES, currentProvinceOf, communesOfFormerProvince } from './admin-units.js';

describe('administrative units', () => {
  it('has the 34 provinces in force since 1 July 2025, with unique 2-digit codes', () => {
    expect(PROVINCES).toHaveLength(34);
    expect(new Set(PROVINCES.map((p) => p.code)).size).toBe(34);
    for (const p of PROVINCES) expect(p.code).toMatch(/^\d{2}$/);
    const byCode = Object.fromEntries(PROVINCES.map((p) => [p.code, p.shortName]));
    expect(byCode).toMatchObject({ '01': 'Hà Nội', '08': 'Tuyên Quang', '15': 'Lào Cai', '46': 'Huế', '79': 'Hồ Chí Minh', '96': 'Cà Mau' });
    expect(PROVINCES.filter((p) => p.kind === 'CITY').map((p) => p.shortName).sort()).toEqual(
      ['Cần Thơ', 'Huế', 'Hà Nội', 'Hải Phòng', 'Hồ Chí Minh', 'Đà Nẵng'].sort(),
    );
  });

  it('maps each of the 63 former provinces (3-digit ID codes) to the province it was merged into', () => {
    expect(FORMER_PROVINCES).toHaveLength(63);
    expect(new Set(FORMER_PROVINCES.map((p) => p.code)).size).toBe(63);
    for (const f of FORMER_PROVINCES) {
      expect(f.code).toMatch(/^0\d{2}$/);
      expect(currentProvinceOf(f.code)).toBeDefined();
    }
    expect(currentProvinceOf('036')?.name).toBe('Tỉnh Ninh Bình'); // Nam Định
    expect(currentProvinceOf('074')?.name).toBe('Thành phố Hồ Chí Minh'); // Bình Dương
    expect(currentProvinceOf('015')?.name).toBe('Tỉnh Lào Cai'); // Yên Bái
    // Every current province is the union of its former ones; unchanged ones keep their own code.
    expect(PROVINCES.reduce((n, p) => n + p.formerProvinceCodes.length, 0)).toBe(63);
    expect(PROVINCES.filter((p) => p.formerProvinceCodes.length === 1)).toHaveLength(11);
  });

  it('has communes with unique 5-digit codes, in every former province', () => {
    expect(new Set(COMMUNES.map((c) => c.code)).size).toBe(COMMUNES.length);
    for (const c of COMMUNES) {
      expect(c.code).toMatch(/^\d{5}$/);
      expect(c.name).toMatch(/^(Phường|Xã) \S/);
      expect(currentProvinceOf(c.formerProvinceCode)?.code).toBe(c.provinceCode);
    }
    for (const p of PROVINCES) expect(p.communes.length).toBeGreaterThanOrEqual(5);
    for (const f of FORMER_PROVINCES) {
      expect(communesOfFormerProvince(f.code).every((c) => c.formerProvinceCode === f.code), f.name).toBe(true);
    }
  });
});
