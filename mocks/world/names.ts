/**
 * Vietnamese names, ethnicities and religions with rough real-world weights, so a
 * generated population reads like a real one (diacritics included).
 */
import type { Gender } from './types.js';
import type { Region } from './admin-units.js';
import { weighted, type Random, type WeightedTable } from './random.js';

/** Family names of the Kinh majority, weighted by their approximate share. */
const FAMILY_NAMES = weighted<string>([
  ['Nguyễn', 38], ['Trần', 11], ['Lê', 9.5], ['Phạm', 7], ['Hoàng', 5.1], ['Phan', 4.5], ['Vũ', 3.9],
  ['Đặng', 2.1], ['Bùi', 2], ['Đỗ', 1.4], ['Hồ', 1.3], ['Ngô', 1.3], ['Dương', 1], ['Lý', 0.5],
  ['Đinh', 1], ['Trương', 1], ['Đoàn', 0.6], ['Trịnh', 0.5], ['Lương', 0.5], ['Mai', 0.5], ['Cao', 0.4],
  ['Hà', 0.4], ['Lâm', 0.3], ['Tạ', 0.3], ['Tô', 0.2], ['Vương', 0.2], ['Châu', 0.2], ['Kiều', 0.1],
]);

/** Southern pronunciation split Hoàng/Huỳnh and Vũ/Võ (the name of Nguyễn Hoàng was taboo in the South). */
const SOUTHERN_VARIANT: Record<string, string> = { Hoàng: 'Huỳnh', Vũ: 'Võ' };
const SOUTHERN_REGIONS: ReadonlySet<Region> = new Set(['SOUTH_CENTRAL_COAST', 'CENTRAL_HIGHLANDS', 'SOUTHEAST', 'MEKONG_DELTA']);

const MIDDLE_MALE_TRADITIONAL = weighted<string>([['Văn', 60], ['Đức', 8], ['Hữu', 7], ['Công', 6], ['Quang', 5], ['Xuân', 4], ['Minh', 4], ['Đình', 4], ['Thanh', 2]]);
const MIDDLE_MALE_MODERN = weighted<string>([['Văn', 12], ['Minh', 14], ['Đức', 10], ['Quang', 8], ['Gia', 10], ['Hoàng', 7], ['Duy', 7], ['Anh', 6], ['Bảo', 7], ['Quốc', 6], ['Trung', 4], ['Thành', 4], ['Tuấn', 5]]);
const MIDDLE_FEMALE_TRADITIONAL = weighted<string>([['Thị', 75], ['Ngọc', 6], ['Thu', 5], ['Thanh', 5], ['Kim', 4], ['Hồng', 3], ['Minh', 2]]);
const MIDDLE_FEMALE_MODERN = weighted<string>([['Thị', 18], ['Ngọc', 12], ['Thu', 8], ['Phương', 8], ['Thùy', 8], ['Minh', 8], ['Bảo', 7], ['Khánh', 7], ['Hoài', 5], ['Diệu', 5], ['Quỳnh', 5], ['Mai', 4], ['Thanh', 5]]);
/** Second middle name some women carry after Thị (Nguyễn Thị Thu Hà). */
const SECOND_MIDDLE_FEMALE = ['Thu', 'Thanh', 'Ngọc', 'Kim', 'Minh', 'Hồng', 'Mỹ', 'Phương', 'Bích'];

const GIVEN_MALE = [
  'An', 'Anh', 'Bảo', 'Bình', 'Cường', 'Dũng', 'Duy', 'Dương', 'Đạt', 'Đức', 'Giang', 'Hải', 'Hậu', 'Hiếu', 'Hòa',
  'Hoàng', 'Hùng', 'Hưng', 'Huy', 'Khang', 'Khánh', 'Khoa', 'Khôi', 'Kiên', 'Lâm', 'Lộc', 'Long', 'Mạnh', 'Minh',
  'Nam', 'Nghĩa', 'Nhân', 'Phát', 'Phong', 'Phúc', 'Quân', 'Quang', 'Sơn', 'Tài', 'Tâm', 'Thắng', 'Thành',
  'Thịnh', 'Tiến', 'Toàn', 'Trung', 'Tú', 'Tuấn', 'Tùng', 'Việt', 'Vinh', 'Vũ',
];
const GIVEN_FEMALE = [
  'Anh', 'Ánh', 'Châu', 'Chi', 'Diệp', 'Dung', 'Giang', 'Hà', 'Hân', 'Hằng', 'Hạnh', 'Hiền', 'Hoa', 'Hồng', 'Huệ',
  'Huyền', 'Hương', 'Lan', 'Liên', 'Linh', 'Loan', 'Mai', 'My', 'Nga', 'Ngân', 'Ngọc', 'Nhàn', 'Nhi', 'Nhung',
  'Oanh', 'Phương', 'Quyên', 'Quỳnh', 'Tâm', 'Thảo', 'Thu', 'Thủy', 'Trang', 'Tuyết', 'Uyên', 'Vân', 'Vy',
  'Xuân', 'Yến',
];

export type NamingStyle = 'KINH' | 'ETHNIC_FAMILY' | 'HIGHLANDS';

export interface Ethnicity {
  name: string;
  style: NamingStyle;
  /** Family names typical of the group (ETHNIC_FAMILY and HIGHLANDS styles). */
  familyNames?: readonly string[];
}

const ETHNICITIES: Record<string, Ethnicity> = {
  Kinh: { name: 'Kinh', style: 'KINH' },
  Hoa: { name: 'Hoa', style: 'KINH' },
  Mường: { name: 'Mường', style: 'ETHNIC_FAMILY', familyNames: ['Bùi', 'Đinh', 'Quách', 'Hà', 'Xa'] },
  Tày: { name: 'Tày', style: 'ETHNIC_FAMILY', familyNames: ['Hoàng', 'Nông', 'Lục', 'Đàm', 'Bế', 'Ma', 'Hà'] },
  Nùng: { name: 'Nùng', style: 'ETHNIC_FAMILY', familyNames: ['Hoàng', 'Nông', 'Lăng', 'Vi', 'Lành', 'Chu'] },
  Thái: { name: 'Thái', style: 'ETHNIC_FAMILY', familyNames: ['Lò', 'Quàng', 'Cầm', 'Lường', 'Hà', 'Vi'] },
  Mông: { name: 'Mông', style: 'ETHNIC_FAMILY', familyNames: ['Giàng', 'Sùng', 'Thào', 'Vàng', 'Lý', 'Hầu', 'Mùa'] },
  Dao: { name: 'Dao', style: 'ETHNIC_FAMILY', familyNames: ['Triệu', 'Bàn', 'Đặng', 'Lý', 'Phùng'] },
  Khmer: { name: 'Khmer', style: 'ETHNIC_FAMILY', familyNames: ['Thạch', 'Danh', 'Sơn', 'Kim', 'Lâm', 'Chau'] },
  Chăm: { name: 'Chăm', style: 'ETHNIC_FAMILY', familyNames: ['Thông', 'Đàng', 'Lộ', 'Quảng', 'Châu'] },
  'Ê Đê': { name: 'Ê Đê', style: 'HIGHLANDS', familyNames: ['Niê', 'Êban', 'Mlô', 'Ayun', 'Byă', 'Knul'] },
  'Gia Rai': { name: 'Gia Rai', style: 'HIGHLANDS', familyNames: ['Ksor', 'Siu', 'Rơ Mah', 'Rơ Châm', 'Kpă', 'Nay'] },
  'Ba Na': { name: 'Ba Na', style: 'HIGHLANDS', familyNames: ['Đinh', 'A', 'Y'] },
};

const ETHNICITY_BY_REGION: Record<Region, WeightedTable<string>> = {
  NORTHERN_MOUNTAINS: weighted([['Kinh', 45], ['Tày', 14], ['Thái', 12], ['Mông', 11], ['Nùng', 8], ['Dao', 6], ['Mường', 4]]),
  RED_RIVER_DELTA: weighted([['Kinh', 98], ['Mường', 1], ['Tày', 0.5], ['Hoa', 0.5]]),
  NORTH_CENTRAL: weighted([['Kinh', 92], ['Thái', 4], ['Mường', 3], ['Mông', 1]]),
  SOUTH_CENTRAL_COAST: weighted([['Kinh', 94], ['Chăm', 3], ['Ba Na', 2], ['Hoa', 1]]),
  CENTRAL_HIGHLANDS: weighted([['Kinh', 68], ['Gia Rai', 12], ['Ê Đê', 10], ['Ba Na', 5], ['Tày', 3], ['Nùng', 2]]),
  SOUTHEAST: weighted([['Kinh', 95], ['Hoa', 4], ['Khmer', 1]]),
  MEKONG_DELTA: weighted([['Kinh', 90], ['Khmer', 8], ['Hoa', 2]]),
};

const RELIGIONS = weighted<string | null>([
  [null, 82], ['Phật giáo', 8], ['Công giáo', 6.5], ['Tin lành', 1.2], ['Cao Đài', 1], ['Phật giáo Hòa Hảo', 1.3],
]);

export function ethnicityFor(random: Random, region: Region): Ethnicity {
  return ETHNICITIES[random.pickWeighted(ETHNICITY_BY_REGION[region])]!;
}

export function ethnicityByName(name: string): Ethnicity {
  return ETHNICITIES[name] ?? ETHNICITIES.Kinh!;
}

export function religionFor(random: Random): string | null {
  return random.pickWeighted(RELIGIONS);
}

/** A family name for a new family line of the given ethnicity and region. */
export function familyNameFor(random: Random, ethnicity: Ethnicity, region: Region): string {
  if (ethnicity.familyNames && random.chance(0.85)) return random.pick(ethnicity.familyNames);
  const name = random.pickWeighted(FAMILY_NAMES);
  const southern = SOUTHERN_VARIANT[name];
  return southern && SOUTHERN_REGIONS.has(region) && random.chance(0.85) ? southern : name;
}

/**
 * Full name in Vietnamese order (family, middle, given). Highlands groups write the
 * given name first with the Y/H' prefix (Y Moan Êban, H'Hen Niê).
 */
export function fullNameFor(random: Random, gender: Gender, birthYear: number, familyName: string, ethnicity: Ethnicity): string {
  const given = random.pick(gender === 'MALE' ? GIVEN_MALE : GIVEN_FEMALE);
  if (ethnicity.style === 'HIGHLANDS') {
    return gender === 'MALE' ? `Y ${given} ${familyName}` : `H'${given} ${familyName}`;
  }
  const modern = birthYear >= 1990;
  const middle = random.pickWeighted(
    gender === 'MALE'
      ? modern ? MIDDLE_MALE_MODERN : MIDDLE_MALE_TRADITIONAL
      : modern ? MIDDLE_FEMALE_MODERN : MIDDLE_FEMALE_TRADITIONAL,
  );
  if (gender === 'FEMALE' && middle === 'Thị' && random.chance(0.15)) {
    const second = random.pick(SECOND_MIDDLE_FEMALE);
    return `${familyName} Thị ${second} ${second === given ? pickOther(random, GIVEN_FEMALE, given) : given}`;
  }
  // "Hồng Hồng" or "Minh Minh" does not happen in practice.
  return `${familyName} ${middle} ${middle === given ? pickOther(random, gender === 'MALE' ? GIVEN_MALE : GIVEN_FEMALE, given) : given}`;
}

function pickOther(random: Random, items: readonly string[], not: string): string {
  const i = items.indexOf(not);
  return items[(i + 1 + random.int(0, items.length - 2)) % items.length]!;
}

/** Family name of a generated full name (the highlands order puts it last). */
export function familyNameOf(fullName: string, ethnicity: Ethnicity): string {
  if (ethnicity.style === 'HIGHLANDS' && ethnicity.familyNames) {
    const found = ethnicity.familyNames.find((f) => fullName.endsWith(` ${f}`));
    if (found) return found;
  }
  return fullName.split(' ')[0]!;
}

/** ASCII transliteration for foreign names (Đ → D, diacritics dropped). */
export function toAscii(text: string): string {
  return text.normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/đ/g, 'd').replace(/Đ/g, 'D');
}
