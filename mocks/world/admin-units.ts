/**
 * Administrative units used by the synthetic world.
 *
 * Since 1 July 2025 Vietnam has two levels: 34 provinces and centrally run cities
 * (Resolution 202/2025/QH15), then communes/wards. Personal IDs, however, keep the
 * 3-digit code of the province where the birth was registered, which is one of the
 * 63 provinces that existed before the merger. So both lists live here, with the
 * new province every old one was merged into.
 *
 * Commune codes are 5 digits in the national numbering (a new commune keeps the code
 * of one of the units merged into it). The list is a realistic sample, a handful of
 * communes per province, not the full 3,321; each commune records the old province
 * it lies in, so a place of birth and a hometown can agree.
 */

export type Region =
  | 'NORTHERN_MOUNTAINS'
  | 'RED_RIVER_DELTA'
  | 'NORTH_CENTRAL'
  | 'SOUTH_CENTRAL_COAST'
  | 'CENTRAL_HIGHLANDS'
  | 'SOUTHEAST'
  | 'MEKONG_DELTA';

export interface Commune {
  /** 5-digit commune/ward code. */
  code: string;
  /** Official name with its kind, e.g. `Phường Ba Đình`, `Xã Sóc Sơn`. */
  name: string;
  /** 2-digit code of the current province. */
  provinceCode: string;
  /** 3-digit code of the pre-2025 province the commune lies in. */
  formerProvinceCode: string;
  /** Wards (phường) are urban, communes (xã) rural. */
  urban: boolean;
}

export interface Province {
  /** 2-digit code of the province in force since 1 July 2025. */
  code: string;
  /** Official name, e.g. `Thành phố Hà Nội`, `Tỉnh Ninh Bình`. */
  name: string;
  /** Name without its kind, e.g. `Hà Nội`. */
  shortName: string;
  kind: 'CITY' | 'PROVINCE';
  region: Region;
  /** Rough population in millions, used to weight where people live. */
  populationMillions: number;
  /** 3-digit codes of the pre-2025 provinces merged into this one. */
  formerProvinceCodes: string[];
  communes: Commune[];
}

export interface FormerProvince {
  /** 3-digit code used in personal IDs (birth-registration province). */
  code: string;
  /** Official name before 1 July 2025, e.g. `Tỉnh Nam Định`. */
  name: string;
  shortName: string;
  /** 2-digit code of the current province it was merged into. */
  mergedInto: string;
  /** First two digits of enterprise codes registered there (tax authority numbering). */
  taxPrefix: string;
}

// [code, short name, city?, merged into, tax prefix]
const FORMER: Array<[string, string, boolean, string, string]> = [
  ['001', 'Hà Nội', true, '01', '01'],
  ['002', 'Hà Giang', false, '08', '51'],
  ['004', 'Cao Bằng', false, '04', '48'],
  ['006', 'Bắc Kạn', false, '19', '47'],
  ['008', 'Tuyên Quang', false, '08', '50'],
  ['010', 'Lào Cai', false, '15', '53'],
  ['011', 'Điện Biên', false, '11', '56'],
  ['012', 'Lai Châu', false, '12', '62'],
  ['014', 'Sơn La', false, '14', '55'],
  ['015', 'Yên Bái', false, '15', '52'],
  ['017', 'Hòa Bình', false, '25', '54'],
  ['019', 'Thái Nguyên', false, '19', '46'],
  ['020', 'Lạng Sơn', false, '20', '49'],
  ['022', 'Quảng Ninh', false, '22', '57'],
  ['024', 'Bắc Giang', false, '24', '24'],
  ['025', 'Phú Thọ', false, '25', '26'],
  ['026', 'Vĩnh Phúc', false, '25', '25'],
  ['027', 'Bắc Ninh', false, '24', '23'],
  ['030', 'Hải Dương', false, '31', '08'],
  ['031', 'Hải Phòng', true, '31', '02'],
  ['033', 'Hưng Yên', false, '33', '09'],
  ['034', 'Thái Bình', false, '33', '10'],
  ['035', 'Hà Nam', false, '37', '07'],
  ['036', 'Nam Định', false, '37', '06'],
  ['037', 'Ninh Bình', false, '37', '27'],
  ['038', 'Thanh Hóa', false, '38', '28'],
  ['040', 'Nghệ An', false, '40', '29'],
  ['042', 'Hà Tĩnh', false, '42', '30'],
  ['044', 'Quảng Bình', false, '44', '31'],
  ['045', 'Quảng Trị', false, '44', '32'],
  ['046', 'Thừa Thiên Huế', false, '46', '33'],
  ['048', 'Đà Nẵng', true, '48', '04'],
  ['049', 'Quảng Nam', false, '48', '40'],
  ['051', 'Quảng Ngãi', false, '51', '43'],
  ['052', 'Bình Định', false, '52', '41'],
  ['054', 'Phú Yên', false, '66', '44'],
  ['056', 'Khánh Hòa', false, '56', '42'],
  ['058', 'Ninh Thuận', false, '56', '45'],
  ['060', 'Bình Thuận', false, '68', '34'],
  ['062', 'Kon Tum', false, '51', '61'],
  ['064', 'Gia Lai', false, '52', '59'],
  ['066', 'Đắk Lắk', false, '66', '60'],
  ['067', 'Đắk Nông', false, '68', '64'],
  ['068', 'Lâm Đồng', false, '68', '58'],
  ['070', 'Bình Phước', false, '75', '38'],
  ['072', 'Tây Ninh', false, '80', '39'],
  ['074', 'Bình Dương', false, '79', '37'],
  ['075', 'Đồng Nai', false, '75', '36'],
  ['077', 'Bà Rịa - Vũng Tàu', false, '79', '35'],
  ['079', 'Hồ Chí Minh', true, '79', '03'],
  ['080', 'Long An', false, '80', '11'],
  ['082', 'Tiền Giang', false, '82', '12'],
  ['083', 'Bến Tre', false, '86', '13'],
  ['084', 'Trà Vinh', false, '86', '21'],
  ['086', 'Vĩnh Long', false, '86', '15'],
  ['087', 'Đồng Tháp', false, '82', '14'],
  ['089', 'An Giang', false, '91', '16'],
  ['091', 'Kiên Giang', false, '91', '17'],
  ['092', 'Cần Thơ', true, '92', '18'],
  ['093', 'Hậu Giang', false, '92', '63'],
  ['094', 'Sóc Trăng', false, '92', '22'],
  ['095', 'Bạc Liêu', false, '96', '19'],
  ['096', 'Cà Mau', false, '96', '20'],
];

/** The 63 provinces before 1 July 2025, keyed by their 3-digit code. */
export const FORMER_PROVINCES: readonly FormerProvince[] = FORMER.map(([code, shortName, city, mergedInto, taxPrefix]) => ({
  code,
  shortName,
  name: city ? `Thành phố ${shortName}` : `Tỉnh ${shortName}`,
  mergedInto,
  taxPrefix,
}));

// [code, short name, city?, region, population (millions), communes as [code, name, former province]]
type CommuneRow = [string, string, string];
const CURRENT: Array<[string, string, boolean, Region, number, CommuneRow[]]> = [
  ['01', 'Hà Nội', true, 'RED_RIVER_DELTA', 8.7, [
    ['00004', 'Phường Ba Đình', '001'], ['00070', 'Phường Hoàn Kiếm', '001'], ['00082', 'Phường Cửa Nam', '001'],
    ['00103', 'Phường Tây Hồ', '001'], ['00166', 'Phường Cầu Giấy', '001'], ['00226', 'Phường Đống Đa', '001'],
    ['00256', 'Phường Hai Bà Trưng', '001'], ['00331', 'Phường Hoàng Mai', '001'], ['00145', 'Phường Long Biên', '001'],
    ['09552', 'Phường Hà Đông', '001'], ['08980', 'Xã Sóc Sơn', '001'], ['09022', 'Xã Đông Anh', '001'],
    ['09259', 'Xã Gia Lâm', '001'], ['10276', 'Xã Ba Vì', '001'],
  ]],
  ['04', 'Cao Bằng', false, 'NORTHERN_MOUNTAINS', 0.57, [
    ['01273', 'Phường Thục Phán', '004'], ['01279', 'Phường Nùng Trí Cao', '004'], ['01288', 'Phường Tân Giang', '004'],
    ['01321', 'Xã Bảo Lạc', '004'], ['01489', 'Xã Trùng Khánh', '004'], ['01594', 'Xã Hòa An', '004'],
  ]],
  ['08', 'Tuyên Quang', false, 'NORTHERN_MOUNTAINS', 1.86, [
    ['02215', 'Phường Minh Xuân', '008'], ['02212', 'Phường Nông Tiến', '008'], ['02269', 'Xã Lâm Bình', '008'],
    ['00688', 'Phường Hà Giang 1', '002'], ['00691', 'Phường Hà Giang 2', '002'], ['00715', 'Xã Đồng Văn', '002'],
    ['00793', 'Xã Nấm Dẩn', '002'],
  ]],
  ['11', 'Điện Biên', false, 'NORTHERN_MOUNTAINS', 0.65, [
    ['03127', 'Phường Điện Biên Phủ', '011'], ['03151', 'Phường Mường Thanh', '011'], ['03158', 'Phường Mường Lay', '011'],
    ['03217', 'Xã Mường Chà', '011'], ['03334', 'Xã Tuần Giáo', '011'],
  ]],
  ['12', 'Lai Châu', false, 'NORTHERN_MOUNTAINS', 0.49, [
    ['03386', 'Phường Tân Phong', '012'], ['03390', 'Phường Đoàn Kết', '012'], ['03424', 'Xã Tam Đường', '012'],
    ['03549', 'Xã Sìn Hồ', '012'], ['03637', 'Xã Than Uyên', '012'],
  ]],
  ['14', 'Sơn La', false, 'NORTHERN_MOUNTAINS', 1.3, [
    ['03646', 'Phường Tô Hiệu', '014'], ['03664', 'Phường Chiềng An', '014'], ['04048', 'Phường Mộc Châu', '014'],
    ['03979', 'Xã Mai Sơn', '014'], ['03781', 'Xã Thuận Châu', '014'],
  ]],
  ['15', 'Lào Cai', false, 'NORTHERN_MOUNTAINS', 1.78, [
    ['02608', 'Phường Lào Cai', '010'], ['02647', 'Phường Cam Đường', '010'], ['02749', 'Phường Sa Pa', '010'],
    ['02821', 'Xã Bắc Hà', '010'], ['04249', 'Phường Yên Bái', '015'], ['04312', 'Phường Nghĩa Lộ', '015'],
    ['04441', 'Xã Văn Chấn', '015'],
  ]],
  ['19', 'Thái Nguyên', false, 'NORTHERN_MOUNTAINS', 1.8, [
    ['05443', 'Phường Phan Đình Phùng', '019'], ['05488', 'Phường Gia Sàng', '019'], ['05824', 'Phường Sông Công', '019'],
    ['05740', 'Xã Đại Từ', '019'], ['01834', 'Phường Đức Xuân', '006'], ['01879', 'Xã Ba Bể', '006'],
  ]],
  ['20', 'Lạng Sơn', false, 'NORTHERN_MOUNTAINS', 0.8, [
    ['05977', 'Phường Lương Văn Tri', '020'], ['05974', 'Phường Tam Thanh', '020'], ['05983', 'Phường Đông Kinh', '020'],
    ['06166', 'Xã Cao Lộc', '020'], ['06514', 'Xã Hữu Lũng', '020'],
  ]],
  ['22', 'Quảng Ninh', false, 'RED_RIVER_DELTA', 1.4, [
    ['06661', 'Phường Hạ Long', '022'], ['06673', 'Phường Bãi Cháy', '022'], ['06784', 'Phường Cẩm Phả', '022'],
    ['07069', 'Phường Uông Bí', '022'], ['06709', 'Phường Móng Cái 1', '022'], ['06934', 'Xã Tiên Yên', '022'],
  ]],
  ['24', 'Bắc Ninh', false, 'RED_RIVER_DELTA', 3.6, [
    ['09190', 'Phường Kinh Bắc', '027'], ['09187', 'Phường Võ Cường', '027'], ['09370', 'Phường Từ Sơn', '027'],
    ['09484', 'Xã Lương Tài', '027'], ['07210', 'Phường Bắc Giang', '024'], ['07228', 'Phường Đa Mai', '024'],
    ['07594', 'Xã Lục Nam', '024'],
  ]],
  ['25', 'Phú Thọ', false, 'NORTHERN_MOUNTAINS', 4.0, [
    ['07894', 'Phường Việt Trì', '025'], ['07900', 'Phường Nông Trang', '025'], ['08287', 'Xã Thanh Sơn', '025'],
    ['08707', 'Phường Vĩnh Phúc', '026'], ['08716', 'Phường Vĩnh Yên', '026'], ['08773', 'Phường Phúc Yên', '026'],
    ['04630', 'Phường Hòa Bình', '017'], ['04888', 'Xã Mai Châu', '017'],
  ]],
  ['31', 'Hải Phòng', true, 'RED_RIVER_DELTA', 4.7, [
    ['11299', 'Phường Hồng Bàng', '031'], ['11359', 'Phường Ngô Quyền', '031'], ['11383', 'Phường Lê Chân', '031'],
    ['11488', 'Phường Đồ Sơn', '031'], ['11911', 'Xã An Lão', '031'], ['10507', 'Phường Hải Dương', '030'],
    ['10525', 'Phường Thành Đông', '030'], ['10837', 'Xã Thanh Hà', '030'],
  ]],
  ['33', 'Hưng Yên', false, 'RED_RIVER_DELTA', 3.6, [
    ['11953', 'Phường Phố Hiến', '033'], ['12004', 'Phường Mỹ Hào', '033'], ['12073', 'Xã Văn Giang', '033'],
    ['12427', 'Phường Thái Bình', '034'], ['12451', 'Phường Trần Hưng Đạo', '034'], ['12799', 'Xã Kiến Xương', '034'],
  ]],
  ['37', 'Ninh Bình', false, 'RED_RIVER_DELTA', 4.4, [
    ['14359', 'Phường Hoa Lư', '037'], ['14428', 'Phường Tam Điệp', '037'], ['14506', 'Xã Gia Viễn', '037'],
    ['13669', 'Phường Nam Định', '036'], ['13684', 'Phường Thành Nam', '036'], ['13957', 'Xã Hải Hậu', '036'],
    ['13285', 'Phường Phủ Lý', '035'], ['13456', 'Xã Kim Bảng', '035'],
  ]],
  ['38', 'Thanh Hóa', false, 'NORTH_CENTRAL', 4.3, [
    ['14755', 'Phường Hạc Thành', '038'], ['14797', 'Phường Hàm Rồng', '038'], ['14818', 'Phường Sầm Sơn', '038'],
    ['14833', 'Phường Bỉm Sơn', '038'], ['15538', 'Xã Hoằng Hóa', '038'], ['15952', 'Xã Thọ Xuân', '038'],
  ]],
  ['40', 'Nghệ An', false, 'NORTH_CENTRAL', 3.8, [
    ['16681', 'Phường Thành Vinh', '040'], ['16702', 'Phường Trường Vinh', '040'], ['16738', 'Phường Vinh Hưng', '040'],
    ['16732', 'Phường Cửa Lò', '040'], ['17245', 'Phường Hoàng Mai', '040'], ['17485', 'Xã Diễn Châu', '040'],
    ['17896', 'Xã Nam Đàn', '040'],
  ]],
  ['42', 'Hà Tĩnh', false, 'NORTH_CENTRAL', 1.6, [
    ['18073', 'Phường Thành Sen', '042'], ['18100', 'Phường Trần Phú', '042'], ['18118', 'Phường Bắc Hồng Lĩnh', '042'],
    ['18352', 'Xã Can Lộc', '042'], ['18550', 'Xã Kỳ Anh', '042'],
  ]],
  ['44', 'Quảng Trị', false, 'NORTH_CENTRAL', 1.9, [
    ['19225', 'Phường Đông Hà', '045'], ['19249', 'Phường Quảng Trị', '045'], ['19372', 'Xã Vĩnh Linh', '045'],
    ['19021', 'Phường Đồng Hới', '044'], ['19030', 'Phường Đồng Thuận', '044'], ['19186', 'Xã Lệ Thủy', '044'],
  ]],
  ['46', 'Huế', true, 'NORTH_CENTRAL', 1.4, [
    ['19753', 'Phường Thuận Hóa', '046'], ['19774', 'Phường Phú Xuân', '046'], ['19777', 'Phường Kim Long', '046'],
    ['19816', 'Phường Vỹ Dạ', '046'], ['20023', 'Phường Hương Thủy', '046'], ['20104', 'Xã A Lưới 1', '046'],
  ]],
  ['48', 'Đà Nẵng', true, 'SOUTH_CENTRAL_COAST', 3.1, [
    ['20194', 'Phường Hải Châu', '048'], ['20200', 'Phường Thanh Khê', '048'], ['20242', 'Phường Sơn Trà', '048'],
    ['20263', 'Phường Ngũ Hành Sơn', '048'], ['20308', 'Xã Hòa Vang', '048'], ['20335', 'Phường Tam Kỳ', '049'],
    ['20401', 'Phường Hội An', '049'], ['20761', 'Xã Thăng Bình', '049'],
  ]],
  ['51', 'Quảng Ngãi', false, 'SOUTH_CENTRAL_COAST', 2.2, [
    ['21025', 'Phường Cẩm Thành', '051'], ['21028', 'Phường Nghĩa Lộ', '051'], ['21109', 'Xã Bình Sơn', '051'],
    ['21385', 'Xã Mộ Đức', '051'], ['23284', 'Phường Kon Tum', '062'], ['23293', 'Phường Đăk Bla', '062'],
    ['23368', 'Xã Đăk Hà', '062'],
  ]],
  ['52', 'Gia Lai', false, 'CENTRAL_HIGHLANDS', 3.6, [
    ['23575', 'Phường Pleiku', '064'], ['23586', 'Phường Hội Phú', '064'], ['23719', 'Phường An Khê', '064'],
    ['23935', 'Xã Ia Grai', '064'], ['21583', 'Phường Quy Nhơn', '052'], ['21601', 'Phường Quy Nhơn Nam', '052'],
    ['21910', 'Xã Tuy Phước', '052'],
  ]],
  ['56', 'Khánh Hòa', false, 'SOUTH_CENTRAL_COAST', 2.2, [
    ['22333', 'Phường Nha Trang', '056'], ['22366', 'Phường Bắc Nha Trang', '056'], ['22434', 'Phường Cam Ranh', '056'],
    ['22528', 'Phường Ninh Hòa', '056'], ['22612', 'Xã Diên Khánh', '056'], ['22738', 'Phường Phan Rang', '058'],
    ['22846', 'Xã Ninh Phước', '058'],
  ]],
  ['66', 'Đắk Lắk', false, 'CENTRAL_HIGHLANDS', 3.3, [
    ['24121', 'Phường Buôn Ma Thuột', '066'], ['24133', 'Phường Tân An', '066'], ['24305', 'Phường Buôn Hồ', '066'],
    ['24400', 'Xã Ea Kar', '066'], ['24181', 'Xã Krông Búk', '066'], ['22015', 'Phường Tuy Hòa', '054'],
    ['22045', 'Phường Phú Yên', '054'], ['22147', 'Xã Sơn Hòa', '054'],
  ]],
  ['68', 'Lâm Đồng', false, 'CENTRAL_HIGHLANDS', 3.9, [
    ['24778', 'Phường Xuân Hương - Đà Lạt', '068'], ['24769', 'Phường Lâm Viên - Đà Lạt', '068'],
    ['24820', 'Phường 1 Bảo Lộc', '068'], ['24994', 'Xã Đức Trọng', '068'], ['25051', 'Xã Di Linh', '068'],
    ['22945', 'Phường Phan Thiết', '060'], ['23068', 'Xã Hàm Thuận', '060'], ['24611', 'Phường Bắc Gia Nghĩa', '067'],
    ['24640', 'Xã Đắk Mil', '067'],
  ]],
  ['75', 'Đồng Nai', false, 'SOUTHEAST', 4.5, [
    ['26041', 'Phường Trấn Biên', '075'], ['26068', 'Phường Biên Hòa', '075'], ['26113', 'Phường Long Khánh', '075'],
    ['26368', 'Xã Long Thành', '075'], ['26188', 'Xã Định Quán', '075'], ['25195', 'Phường Bình Phước', '070'],
    ['25210', 'Phường Đồng Xoài', '070'], ['25432', 'Xã Lộc Ninh', '070'],
  ]],
  ['79', 'Hồ Chí Minh', true, 'SOUTHEAST', 14.0, [
    ['26734', 'Phường Tân Định', '079'], ['26740', 'Phường Sài Gòn', '079'], ['26743', 'Phường Bến Thành', '079'],
    ['26758', 'Phường Cầu Ông Lãnh', '079'], ['26881', 'Phường Bình Thạnh', '079'], ['26968', 'Phường Gia Định', '079'],
    ['26800', 'Phường Thủ Đức', '079'], ['27016', 'Phường Tân Sơn Nhất', '079'], ['27457', 'Phường Chợ Lớn', '079'],
    ['27553', 'Xã Củ Chi', '079'], ['27673', 'Xã Cần Giờ', '079'], ['25747', 'Phường Thủ Dầu Một', '074'],
    ['25912', 'Phường Dĩ An', '074'], ['25942', 'Phường Thuận An', '074'], ['26506', 'Phường Vũng Tàu', '077'],
    ['26560', 'Phường Bà Rịa', '077'], ['26692', 'Xã Long Hải', '077'],
  ]],
  ['80', 'Tây Ninh', false, 'MEKONG_DELTA', 3.3, [
    ['25459', 'Phường Tân Ninh', '072'], ['25480', 'Phường Hòa Thành', '072'], ['25627', 'Xã Gò Dầu', '072'],
    ['27685', 'Phường Long An', '080'], ['27694', 'Phường Tân An', '080'], ['27823', 'Xã Đức Hòa', '080'],
    ['27994', 'Xã Cần Giuộc', '080'],
  ]],
  ['82', 'Đồng Tháp', false, 'MEKONG_DELTA', 4.4, [
    ['29869', 'Phường Cao Lãnh', '087'], ['29920', 'Phường Sa Đéc', '087'], ['29989', 'Xã Tháp Mười', '087'],
    ['28249', 'Phường Mỹ Tho', '082'], ['28315', 'Phường Gò Công', '082'], ['28408', 'Xã Cái Bè', '082'],
  ]],
  ['86', 'Vĩnh Long', false, 'MEKONG_DELTA', 4.3, [
    ['29512', 'Phường Thanh Đức', '086'], ['29527', 'Phường Long Châu', '086'], ['29593', 'Xã Long Hồ', '086'],
    ['28756', 'Phường Bến Tre', '083'], ['28924', 'Xã Mỏ Cày', '083'], ['29242', 'Phường Trà Vinh', '084'],
    ['29377', 'Xã Cầu Ngang', '084'],
  ]],
  ['91', 'An Giang', false, 'MEKONG_DELTA', 5.0, [
    ['30292', 'Phường Long Xuyên', '089'], ['30316', 'Phường Châu Đốc', '089'], ['30589', 'Xã Chợ Mới', '089'],
    ['30691', 'Xã Châu Thành', '089'], ['30760', 'Phường Rạch Giá', '091'], ['30793', 'Phường Hà Tiên', '091'],
    ['30880', 'Xã Hòn Đất', '091'],
  ]],
  ['92', 'Cần Thơ', true, 'MEKONG_DELTA', 4.2, [
    ['31117', 'Phường Ninh Kiều', '092'], ['31135', 'Phường Cái Khế', '092'], ['31157', 'Phường Bình Thủy', '092'],
    ['31255', 'Xã Phong Điền', '092'], ['31321', 'Phường Vị Thanh', '093'], ['31411', 'Xã Châu Thành A', '093'],
    ['31507', 'Phường Sóc Trăng', '094'], ['31654', 'Xã Mỹ Xuyên', '094'],
  ]],
  ['96', 'Cà Mau', false, 'MEKONG_DELTA', 2.6, [
    ['32002', 'Phường An Xuyên', '096'], ['32014', 'Phường Lý Văn Lâm', '096'], ['32248', 'Xã Năm Căn', '096'],
    ['32176', 'Xã Đầm Dơi', '096'], ['31825', 'Phường Bạc Liêu', '095'], ['31843', 'Phường Hiệp Thành', '095'],
    ['31942', 'Xã Hồng Dân', '095'],
  ]],
];

/** The 34 provinces and centrally run cities in force since 1 July 2025. */
export const PROVINCES: readonly Province[] = CURRENT.map(([code, shortName, city, region, populationMillions, rows]) => ({
  code,
  shortName,
  name: city ? `Thành phố ${shortName}` : `Tỉnh ${shortName}`,
  kind: city ? 'CITY' : 'PROVINCE',
  region,
  populationMillions,
  formerProvinceCodes: FORMER_PROVINCES.filter((f) => f.mergedInto === code).map((f) => f.code),
  communes: rows.map(([communeCode, name, former]) => ({
    code: communeCode,
    name,
    provinceCode: code,
    formerProvinceCode: former,
    urban: name.startsWith('Phường'),
  })),
}));

export const PROVINCE_BY_CODE: ReadonlyMap<string, Province> = new Map(PROVINCES.map((p) => [p.code, p]));
export const FORMER_PROVINCE_BY_CODE: ReadonlyMap<string, FormerProvince> = new Map(FORMER_PROVINCES.map((p) => [p.code, p]));
export const COMMUNES: readonly Commune[] = PROVINCES.flatMap((p) => p.communes);
export const COMMUNE_BY_CODE: ReadonlyMap<string, Commune> = new Map(COMMUNES.map((c) => [c.code, c]));

/** The current province an old (birth-registration) province code now belongs to. */
export function currentProvinceOf(formerCode: string): Province | undefined {
  const former = FORMER_PROVINCE_BY_CODE.get(formerCode.padStart(3, '0'));
  return former ? PROVINCE_BY_CODE.get(former.mergedInto) : undefined;
}

/** Communes of a current province that lie in the given old province (all of them when none does). */
export function communesOfFormerProvince(formerCode: string): readonly Commune[] {
  const province = currentProvinceOf(formerCode);
  if (!province) return [];
  const inside = province.communes.filter((c) => c.formerProvinceCode === formerCode);
  return inside.length > 0 ? inside : province.communes;
}
