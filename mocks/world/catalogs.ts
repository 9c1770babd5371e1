/**
 * Reference lists the generator draws from: enterprise names and business lines
 * (VSIC 2018, level 4), job titles, health facilities, banks and land-use types.
 */
import { weighted } from './random.js';

export interface EnterpriseType {
  name: string;
  /** Prefix of the Vietnamese name, in capitals as on the registration certificate. */
  prefix: string;
  /** Suffix of the English name; null when the type usually has no foreign name. */
  foreignSuffix: string | null;
  shortSuffix: string | null;
  /** How many owners/members the type has. */
  members: [number, number];
  representativeTitles: readonly string[];
  capital: [number, number]; // VND
}

export const ENTERPRISE_TYPES = weighted<EnterpriseType>([
  [{
    name: 'Công ty trách nhiệm hữu hạn một thành viên', prefix: 'CÔNG TY TNHH', foreignSuffix: 'COMPANY LIMITED', shortSuffix: 'CO., LTD',
    members: [1, 1], representativeTitles: ['Giám đốc', 'Chủ tịch công ty kiêm Giám đốc'], capital: [100_000_000, 20_000_000_000],
  }, 36],
  [{
    name: 'Công ty trách nhiệm hữu hạn hai thành viên trở lên', prefix: 'CÔNG TY TNHH', foreignSuffix: 'COMPANY LIMITED', shortSuffix: 'CO., LTD',
    members: [2, 5], representativeTitles: ['Giám đốc', 'Chủ tịch Hội đồng thành viên'], capital: [500_000_000, 50_000_000_000],
  }, 25],
  [{
    name: 'Công ty cổ phần', prefix: 'CÔNG TY CỔ PHẦN', foreignSuffix: 'JOINT STOCK COMPANY', shortSuffix: 'JSC',
    members: [3, 6], representativeTitles: ['Tổng giám đốc', 'Chủ tịch Hội đồng quản trị', 'Giám đốc'], capital: [1_000_000_000, 500_000_000_000],
  }, 22],
  [{
    name: 'Doanh nghiệp tư nhân', prefix: 'DOANH NGHIỆP TƯ NHÂN', foreignSuffix: null, shortSuffix: null,
    members: [1, 1], representativeTitles: ['Chủ doanh nghiệp'], capital: [50_000_000, 5_000_000_000],
  }, 15],
  [{
    name: 'Công ty hợp danh', prefix: 'CÔNG TY HỢP DANH', foreignSuffix: 'PARTNERSHIP', shortSuffix: null,
    members: [2, 3], representativeTitles: ['Thành viên hợp danh'], capital: [500_000_000, 10_000_000_000],
  }, 2],
]);

export interface BusinessLine {
  code: string;
  name: string;
}

export interface Sector {
  vi: string;
  en: string;
  lines: readonly BusinessLine[];
  positions: readonly string[];
  /** Land use of the premises when the enterprise holds land. */
  landUse: 'SKC' | 'TMD';
}

const L = (code: string, name: string): BusinessLine => ({ code, name });

export const SECTORS: readonly Sector[] = [
  { vi: 'THƯƠNG MẠI VÀ DỊCH VỤ', en: 'TRADING AND SERVICES', landUse: 'TMD', positions: ['Nhân viên kinh doanh', 'Nhân viên bán hàng', 'Thủ kho', 'Kế toán viên'], lines: [
    L('4649', 'Bán buôn đồ dùng khác cho gia đình'), L('4659', 'Bán buôn máy móc, thiết bị và phụ tùng máy khác'),
    L('4610', 'Đại lý, môi giới, đấu giá hàng hóa'), L('4690', 'Bán buôn tổng hợp'), L('4719', 'Bán lẻ khác trong các cửa hàng kinh doanh tổng hợp')] },
  { vi: 'XÂY DỰNG', en: 'CONSTRUCTION', landUse: 'SKC', positions: ['Kỹ sư xây dựng', 'Công nhân xây dựng', 'Chỉ huy trưởng công trình', 'Kế toán viên'], lines: [
    L('4101', 'Xây dựng nhà để ở'), L('4102', 'Xây dựng nhà không để ở'), L('4212', 'Xây dựng công trình đường bộ'),
    L('4321', 'Lắp đặt hệ thống điện'), L('4663', 'Bán buôn vật liệu, thiết bị lắp đặt khác trong xây dựng')] },
  { vi: 'CÔNG NGHỆ', en: 'TECHNOLOGY', landUse: 'TMD', positions: ['Lập trình viên', 'Kỹ sư phần mềm', 'Chuyên viên kiểm thử', 'Trưởng nhóm kỹ thuật'], lines: [
    L('6201', 'Lập trình máy vi tính'), L('6202', 'Tư vấn máy vi tính và quản trị hệ thống máy vi tính'),
    L('6311', 'Xử lý dữ liệu, cho thuê và các hoạt động liên quan'), L('4651', 'Bán buôn máy vi tính, thiết bị ngoại vi và phần mềm')] },
  { vi: 'VẬN TẢI', en: 'TRANSPORT', landUse: 'TMD', positions: ['Lái xe', 'Điều phối viên vận tải', 'Nhân viên giao nhận', 'Thợ sửa chữa ô tô'], lines: [
    L('4933', 'Vận tải hàng hóa bằng đường bộ'), L('4932', 'Vận tải hành khách đường bộ khác'),
    L('5229', 'Hoạt động dịch vụ hỗ trợ khác liên quan đến vận tải'), L('5210', 'Kho bãi và lưu giữ hàng hóa')] },
  { vi: 'MAY MẶC', en: 'GARMENT', landUse: 'SKC', positions: ['Công nhân may', 'Tổ trưởng sản xuất', 'Nhân viên kiểm hàng', 'Thợ cắt'], lines: [
    L('1410', 'May trang phục (trừ trang phục từ da lông thú)'), L('1321', 'Sản xuất vải dệt kim, vải đan móc và vải không dệt khác'),
    L('4641', 'Bán buôn vải, hàng may sẵn, giày dép')] },
  { vi: 'THỰC PHẨM', en: 'FOOD', landUse: 'SKC', positions: ['Công nhân chế biến', 'Kỹ thuật viên thực phẩm', 'Nhân viên kinh doanh', 'Thủ kho'], lines: [
    L('1079', 'Sản xuất thực phẩm khác chưa được phân vào đâu'), L('1075', 'Sản xuất món ăn, thức ăn chế biến sẵn'),
    L('4632', 'Bán buôn thực phẩm'), L('1050', 'Chế biến sữa và các sản phẩm từ sữa')] },
  { vi: 'DU LỊCH', en: 'TRAVEL', landUse: 'TMD', positions: ['Hướng dẫn viên du lịch', 'Lễ tân', 'Nhân viên điều hành tour', 'Đầu bếp'], lines: [
    L('7912', 'Điều hành tua du lịch'), L('5510', 'Dịch vụ lưu trú ngắn ngày'), L('5610', 'Nhà hàng và các dịch vụ ăn uống phục vụ lưu động')] },
  { vi: 'NÔNG SẢN', en: 'AGRICULTURAL PRODUCTS', landUse: 'SKC', positions: ['Kỹ sư nông nghiệp', 'Công nhân', 'Nhân viên thu mua', 'Thủ kho'], lines: [
    L('4620', 'Bán buôn nông, lâm sản nguyên liệu (trừ gỗ, tre, nứa) và động vật sống'), L('0118', 'Trồng rau, đậu các loại và trồng hoa'),
    L('1061', 'Xay xát và sản xuất bột thô'), L('0163', 'Hoạt động dịch vụ sau thu hoạch')] },
  { vi: 'THỦY SẢN', en: 'SEAFOOD', landUse: 'SKC', positions: ['Công nhân chế biến thủy sản', 'Kỹ sư nuôi trồng', 'Nhân viên kinh doanh', 'Thủ kho'], lines: [
    L('1020', 'Chế biến, bảo quản thủy sản và các sản phẩm từ thủy sản'), L('0322', 'Nuôi trồng thủy sản nội địa'),
    L('4632', 'Bán buôn thực phẩm')] },
  { vi: 'BẤT ĐỘNG SẢN', en: 'REAL ESTATE', landUse: 'TMD', positions: ['Chuyên viên môi giới', 'Nhân viên kinh doanh', 'Chuyên viên pháp lý', 'Kế toán viên'], lines: [
    L('6810', 'Kinh doanh bất động sản, quyền sử dụng đất thuộc chủ sở hữu, chủ sử dụng hoặc đi thuê'),
    L('6820', 'Tư vấn, môi giới, đấu giá bất động sản, đấu giá quyền sử dụng đất')] },
  { vi: 'CƠ KHÍ', en: 'MECHANICAL ENGINEERING', landUse: 'SKC', positions: ['Thợ hàn', 'Thợ tiện', 'Kỹ sư cơ khí', 'Công nhân vận hành máy'], lines: [
    L('2511', 'Sản xuất các cấu kiện kim loại'), L('2592', 'Gia công cơ khí; xử lý và tráng phủ kim loại'),
    L('3312', 'Sửa chữa máy móc, thiết bị')] },
  { vi: 'GIÁO DỤC', en: 'EDUCATION', landUse: 'TMD', positions: ['Giáo viên', 'Trợ giảng', 'Nhân viên tư vấn tuyển sinh', 'Kế toán viên'], lines: [
    L('8559', 'Giáo dục khác chưa được phân vào đâu'), L('8560', 'Dịch vụ hỗ trợ giáo dục'), L('8511', 'Giáo dục nhà trẻ')] },
  { vi: 'TƯ VẤN', en: 'CONSULTING', landUse: 'TMD', positions: ['Chuyên viên tư vấn', 'Kế toán viên', 'Chuyên viên pháp lý', 'Trợ lý giám đốc'], lines: [
    L('7020', 'Hoạt động tư vấn quản lý'), L('6920', 'Hoạt động liên quan đến kế toán, kiểm toán và tư vấn về thuế'),
    L('7310', 'Quảng cáo')] },
  { vi: 'NỘI THẤT', en: 'FURNITURE', landUse: 'SKC', positions: ['Thợ mộc', 'Nhân viên thiết kế', 'Công nhân lắp đặt', 'Nhân viên bán hàng'], lines: [
    L('3100', 'Sản xuất giường, tủ, bàn, ghế'), L('4759', 'Bán lẻ đồ điện gia dụng, giường, tủ, bàn, ghế và đồ nội thất tương tự'),
    L('1622', 'Sản xuất đồ gỗ xây dựng')] },
];

/** Distinctive parts of enterprise names (in capitals, as registered). */
export const BRAND_WORDS: readonly string[] = [
  'AN PHÚ', 'ÁNH DƯƠNG', 'BẢO CHÂU', 'BÌNH MINH', 'ĐẠI DƯƠNG', 'ĐẠI VIỆT', 'ĐÔNG Á', 'HẢI ĐĂNG', 'HÒA BÌNH',
  'HOÀNG LONG', 'HƯNG THỊNH', 'KIM LONG', 'LỘC PHÁT', 'MINH KHANG', 'NAM VIỆT', 'NGỌC LAN', 'PHÚ QUÝ',
  'PHƯƠNG ĐÔNG', 'QUANG MINH', 'SAO VIỆT', 'TÂN PHÁT', 'THÀNH ĐẠT', 'THIÊN PHÚ', 'THUẬN THÀNH', 'TIẾN ĐẠT',
  'TRƯỜNG AN', 'VẠN XUÂN', 'VIỆT TIẾN', 'XUÂN MAI', 'PHÚC LỘC', 'TRÍ ĐỨC', 'HỒNG HÀ', 'CỬU LONG', 'TÂY NGUYÊN',
  'SÔNG HÀN', 'ĐẤT VIỆT', 'TOÀN CẦU', 'HƯNG PHÁT', 'GIA HUY', 'MINH ANH',
];

export const MANAGEMENT_POSITIONS: readonly string[] = ['Giám đốc', 'Phó giám đốc', 'Trưởng phòng hành chính', 'Kế toán trưởng'];

export const BANKS: readonly string[] = [
  'Ngân hàng Nông nghiệp và Phát triển Nông thôn Việt Nam (Agribank)',
  'Ngân hàng TMCP Ngoại thương Việt Nam (Vietcombank)',
  'Ngân hàng TMCP Công Thương Việt Nam (VietinBank)',
  'Ngân hàng TMCP Đầu tư và Phát triển Việt Nam (BIDV)',
  'Ngân hàng TMCP Kỹ Thương Việt Nam (Techcombank)',
  'Ngân hàng TMCP Quân đội (MB)',
  'Ngân hàng TMCP Á Châu (ACB)',
  'Ngân hàng TMCP Sài Gòn Thương Tín (Sacombank)',
  'Ngân hàng TMCP Việt Nam Thịnh Vượng (VPBank)',
];

export interface LandUse {
  code: string;
  purpose: string;
  area: [number, number]; // m²
  /** Null means permanent use (Lâu dài); otherwise years from allocation. */
  termYears: number | null;
  origins: readonly string[];
}

const RESIDENTIAL_ORIGINS = [
  'Công nhận quyền sử dụng đất như giao đất có thu tiền sử dụng đất',
  'Nhận chuyển nhượng quyền sử dụng đất',
  'Nhận thừa kế quyền sử dụng đất',
  'Nhà nước giao đất có thu tiền sử dụng đất',
  'Nhận tặng cho quyền sử dụng đất',
];
const AGRICULTURAL_ORIGINS = [
  'Nhà nước giao đất không thu tiền sử dụng đất',
  'Nhận chuyển nhượng quyền sử dụng đất',
  'Nhận thừa kế quyền sử dụng đất',
];
const ENTERPRISE_ORIGINS = [
  'Nhà nước cho thuê đất trả tiền thuê đất hằng năm',
  'Nhà nước cho thuê đất trả tiền thuê đất một lần cho cả thời gian thuê',
  'Nhận chuyển nhượng quyền sử dụng đất',
];

export const LAND_USES: Record<string, LandUse> = {
  ODT: { code: 'ODT', purpose: 'Đất ở tại đô thị', area: [35, 180], termYears: null, origins: RESIDENTIAL_ORIGINS },
  ONT: { code: 'ONT', purpose: 'Đất ở tại nông thôn', area: [100, 600], termYears: null, origins: RESIDENTIAL_ORIGINS },
  LUC: { code: 'LUC', purpose: 'Đất chuyên trồng lúa', area: [300, 3000], termYears: 50, origins: AGRICULTURAL_ORIGINS },
  CLN: { code: 'CLN', purpose: 'Đất trồng cây lâu năm', area: [500, 10000], termYears: 50, origins: AGRICULTURAL_ORIGINS },
  BHK: { code: 'BHK', purpose: 'Đất bằng trồng cây hằng năm khác', area: [300, 4000], termYears: 50, origins: AGRICULTURAL_ORIGINS },
  NTS: { code: 'NTS', purpose: 'Đất nuôi trồng thủy sản', area: [1000, 20000], termYears: 50, origins: AGRICULTURAL_ORIGINS },
  SKC: { code: 'SKC', purpose: 'Đất cơ sở sản xuất phi nông nghiệp', area: [1000, 50000], termYears: 50, origins: ENTERPRISE_ORIGINS },
  TMD: { code: 'TMD', purpose: 'Đất thương mại, dịch vụ', area: [200, 8000], termYears: 50, origins: ENTERPRISE_ORIGINS },
};

export const STREETS: readonly string[] = [
  'Lê Lợi', 'Trần Hưng Đạo', 'Nguyễn Huệ', 'Hai Bà Trưng', 'Lý Thường Kiệt', 'Quang Trung', 'Nguyễn Trãi',
  'Phan Chu Trinh', 'Lê Duẩn', 'Hùng Vương', 'Điện Biên Phủ', 'Nguyễn Văn Cừ', 'Trường Chinh', 'Võ Thị Sáu',
  'Nguyễn Thị Minh Khai', 'Bà Triệu', 'Lê Thánh Tông', 'Phạm Văn Đồng', 'Nguyễn Du', 'Hoàng Diệu', 'Chu Văn An',
  'Trần Phú', 'Lê Hồng Phong', 'Cách Mạng Tháng Tám', 'Ngô Quyền', 'Phan Đình Phùng', 'Tôn Đức Thắng',
];

export const HAMLET_NAMES: readonly string[] = [
  'Đông', 'Tây', 'Trung', 'Thượng', 'Hạ', 'Tân Lập', 'Phú Hòa', 'An Bình', 'Hòa Lạc', 'Đồng Tâm', 'Tân Tiến',
  'Thắng Lợi', 'Quyết Tiến', 'Bình An', 'Phú Lợi', 'Mỹ Hưng', 'Long Thạnh', 'Tân Hiệp', 'Cầu Đá', 'Bến Đò',
];
