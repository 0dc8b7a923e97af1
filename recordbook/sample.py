"""A class of fictitious pupils with realistic record books, deterministic per seed.

Names, places and comments are Vietnamese (NFC); levels, scores and results
follow the rules in :mod:`records.rules`, which derive every result from the
levels and scores instead of drawing it. Each pupil is generated from its own
random stream (seed, level, index), so pupil *n* is the same whatever the
class size. Nobody here is real: the province "Sông Hương" and its personal-ID
prefix 099 do not exist.
"""
from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from decimal import Decimal

from ground.vocab import nfc
from recordbook.model import (
    FAIL,
    GENERAL_COMPETENCIES,
    PASS,
    PRIMARY_SUBJECTS,
    QUALITIES,
    RESULT_EXCELLENT,
    RESULT_GOOD,
    RESULT_NOT_DONE,
    SECONDARY_SUBJECTS,
    SPECIFIC_COMPETENCIES,
    TESTED_PRIMARY_SUBJECTS,
    AssessedSubject,
    Assessment,
    Identity,
    Level,
    Parent,
    PrimaryResults,
    RecordBook,
    School,
    SchoolYear,
    ScoredSubject,
    SecondaryResults,
    SubjectResult,
    identity_id,
    year_id,
)
from recordbook.rules import (
    primary_overall,
    primary_promotion,
    secondary_learning,
    secondary_promotion,
    year_average,
)

# The demo school matches the demo PKI of ``certs.pki`` (PROVINCE, SCHOOL,
# SCHOOL_LOCALITY and the teacher/principal certificates), so a signed sample
# names the same school and people as its signers.
PROVINCE = "Tỉnh Sông Hương"
CITY = "Thành phố Hương Giang"
PRIMARY_SCHOOL = School(
    name="Trường Tiểu học Lê Quý Đôn", code="99000101", province=PROVINCE,
    commune="Phường Vĩnh Ninh",
)
SECONDARY_SCHOOL = School(
    name="Trường Trung học cơ sở Lê Quý Đôn", code="99000201", province=PROVINCE,
    commune="Phường Vĩnh Ninh",
)
PRINCIPAL = "Trần Văn Minh"
HOMEROOM_TEACHER = "Nguyễn Thị Hoa"
SECONDARY_PRINCIPAL = "Phạm Thị Thanh Lan"
# Homeroom teachers of the earlier years (latest year: HOMEROOM_TEACHER).
EARLIER_TEACHERS = ("Lê Thị Mai", "Hoàng Thị Thu Hằng", "Võ Văn Quang", "Đặng Thị Bích Ngọc")

DEFAULT_SCHOOL_YEAR = "2025-2026"
DEFAULT_GRADE: dict[str, int] = {"primary": 3, "secondary": 8}
PERSONAL_ID_PREFIX = "099"  # not an assigned province code: no real person's ID

# --- Name and place banks ----------------------------------------------------------------

SURNAMES = (
    ("Nguyễn", 30), ("Trần", 11), ("Lê", 9), ("Phạm", 7), ("Hoàng", 5), ("Huỳnh", 4),
    ("Phan", 4), ("Vũ", 4), ("Võ", 4), ("Đặng", 3), ("Bùi", 3), ("Đỗ", 3), ("Hồ", 3),
    ("Ngô", 2), ("Dương", 2), ("Lý", 1), ("Trương", 2), ("Đinh", 1), ("Lâm", 1), ("Tôn Nữ", 1),
)
MIDDLE_MALE = ("Văn", "Hữu", "Đức", "Minh", "Quang", "Gia", "Thành", "Anh", "Hoàng", "Bảo",
               "Đăng", "Nhật", "Trọng", "Xuân", "Công")
MIDDLE_FEMALE = ("Thị", "Ngọc", "Thu", "Thanh", "Khánh", "Bảo", "Minh", "Gia", "Phương",
                 "Hoài", "Diệu", "Mai", "Quỳnh", "Thảo", "Tường")
GIVEN_MALE = ("An", "Bảo", "Dũng", "Duy", "Đạt", "Hải", "Hiếu", "Hoàng", "Huy", "Khang",
              "Khoa", "Khôi", "Kiên", "Lâm", "Long", "Minh", "Nam", "Nhân", "Phong", "Phúc",
              "Quân", "Sơn", "Tài", "Thắng", "Thịnh", "Toàn", "Trí", "Trung", "Tuấn", "Vinh",
              "Vũ", "Đăng", "Lộc", "Nghĩa", "Quý")
GIVEN_FEMALE = ("Anh", "Châu", "Chi", "Diệp", "Dung", "Giang", "Hà", "Hân", "Hằng", "Hoa",
                "Hương", "Huyền", "Khuê", "Lan", "Linh", "Mai", "My", "Ngân", "Ngọc", "Nhi",
                "Nhung", "Oanh", "Phương", "Quỳnh", "Thảo", "Thư", "Trang", "Trâm", "Uyên",
                "Vy", "Yến", "Ánh", "Tuệ", "Diễm", "Hạnh")
ETHNICITIES = (("Kinh", 90), ("Cơ Tu", 2), ("Tà Ôi", 2), ("Mường", 1), ("Tày", 1),
               ("Hoa", 2), ("Thái", 1), ("Nùng", 1))
WARDS = ("Phường Vĩnh Ninh", "Phường An Cựu", "Phường Thuận Hoà", "Phường Kim Long",
         "Phường Tây Lộc", "Phường Phú Hội", "Phường Xuân Phú", "Phường Trường An")
COMMUNES = ("Xã Phú Mậu", "Xã Hương Vinh", "Xã Thuỷ Bằng", "Xã Hương Phong", "Xã Phú Thượng")
STREETS = ("Lê Lợi", "Trần Hưng Đạo", "Hùng Vương", "Nguyễn Huệ", "Phan Đình Phùng",
           "Bà Triệu", "Điện Biên Phủ", "Lý Thường Kiệt", "Ngô Quyền", "Hai Bà Trưng",
           "Nguyễn Trãi", "Đống Đa", "Trần Phú", "Nguyễn Du", "Lê Duẩn")
VILLAGES = ("Thôn Thanh Thuỷ", "Thôn Lại Thế", "Thôn Vĩ Dạ", "Thôn Nguyệt Biều", "Thôn Kim Ngọc")
HOMETOWNS = (
    "Xã Diễn Hồng, tỉnh Nghệ An", "Xã Thạch Hà, tỉnh Hà Tĩnh", "Xã Hải Lăng, tỉnh Quảng Trị",
    "Xã Hoằng Hoá, tỉnh Thanh Hoá", "Xã Bình Sơn, tỉnh Quảng Ngãi",
    "Phường Hải Châu, thành phố Đà Nẵng", "Xã Tiên Lữ, tỉnh Hưng Yên",
    "Xã Gia Viễn, tỉnh Ninh Bình", "Xã Điện Bàn, thành phố Đà Nẵng",
)
BIRTH_PLACES = (
    "Bệnh viện Trung ương Hương Giang, tỉnh Sông Hương",
    "Bệnh viện Đa khoa tỉnh Sông Hương",
    "Trạm Y tế Xã Phú Mậu, tỉnh Sông Hương",
    "Bệnh viện Phụ sản Nhi Đà Nẵng, thành phố Đà Nẵng",
)
OCCUPATIONS = ("Công nhân", "Nông dân", "Kinh doanh", "Giáo viên", "Nhân viên văn phòng",
               "Kỹ sư xây dựng", "Bác sĩ", "Nội trợ", "Lái xe", "Buôn bán", "Thợ may",
               "Công chức", "Điều dưỡng", "Kế toán", "Lao động tự do")

# --- Comment banks (Thông tư 27/2020: comments describe progress, no grading words) -------

SUBJECT_COMMENTS: dict[str, dict[str, tuple[str, ...]]] = {
    "TiengViet": {
        "T": ("Đọc to, rõ ràng, diễn cảm; viết đúng chính tả, chữ viết đẹp.",
              "Đọc trôi chảy, hiểu nội dung bài; viết đoạn văn mạch lạc, giàu cảm xúc.",
              "Viết chữ đẹp, trình bày sạch sẽ; mạnh dạn chia sẻ ý kiến."),
        "H": ("Đọc khá trôi chảy; cần rèn thêm chữ viết và chính tả.",
              "Hiểu nội dung bài đọc; viết câu còn đơn giản, cần dùng từ phong phú hơn."),
        "C": ("Đọc còn chậm, viết sai nhiều lỗi chính tả; cần luyện đọc, viết thêm ở nhà.",),
    },
    "Toan": {
        "T": ("Tính toán nhanh, chính xác; giải toán có lời văn thành thạo.",
              "Nắm vững kiến thức, vận dụng linh hoạt vào giải toán."),
        "H": ("Thực hiện được các phép tính; cần cẩn thận hơn khi giải toán có lời văn.",
              "Nắm được kiến thức cơ bản; đôi khi còn nhầm lẫn khi tính."),
        "C": ("Chưa thuộc bảng nhân, bảng chia; tính còn chậm, cần được hỗ trợ thêm.",),
    },
    "NgoaiNgu1": {
        "T": ("Phát âm chuẩn, nghe hiểu tốt; mạnh dạn giao tiếp bằng tiếng Anh.",
              "Thuộc nhiều từ vựng, vận dụng tốt các mẫu câu đã học."),
        "H": ("Nhớ được từ vựng cơ bản; cần luyện thêm kĩ năng nghe và nói.",),
        "C": ("Còn nhầm lẫn từ vựng; cần luyện đọc và viết thêm.",),
    },
    "DaoDuc": {
        "T": ("Lễ phép với thầy cô, đoàn kết với bạn bè; biết giúp đỡ mọi người.",
              "Thực hiện tốt các hành vi đạo đức đã học."),
        "H": ("Biết vận dụng các chuẩn mực hành vi đã học vào cuộc sống.",),
        "C": ("Cần thực hiện tốt hơn nội quy của lớp.",),
    },
    "TuNhienXaHoi": {
        "T": ("Hiểu biết về thế giới tự nhiên; biết giữ vệ sinh và bảo vệ môi trường.",
              "Quan sát tốt, nêu được nhiều hiểu biết về con người và xã hội."),
        "H": ("Nêu được các nội dung cơ bản của bài học.",),
        "C": ("Cần tích cực quan sát, ghi nhớ nội dung bài học.",),
    },
    "LichSuDiaLi": {
        "T": ("Nắm chắc các sự kiện lịch sử; đọc tốt bản đồ, lược đồ.",
              "Kể được nhiều câu chuyện lịch sử; hiểu biết về địa lí địa phương."),
        "H": ("Biết các sự kiện lịch sử cơ bản; cần luyện thêm kĩ năng đọc bản đồ.",),
        "C": ("Còn nhầm lẫn các sự kiện lịch sử; cần ôn tập thêm.",),
    },
    "KhoaHoc": {
        "T": ("Giải thích được các hiện tượng khoa học đơn giản.",
              "Ham tìm tòi, thực hiện tốt các thí nghiệm nhỏ."),
        "H": ("Nắm được kiến thức cơ bản về khoa học.",),
        "C": ("Cần ghi nhớ và vận dụng kiến thức khoa học tốt hơn.",),
    },
    "TinHocCongNghe": {
        "T": ("Sử dụng máy tính thành thạo; làm được sản phẩm thủ công đẹp.",
              "Thực hành tốt các thao tác với máy tính và dụng cụ kĩ thuật."),
        "H": ("Biết sử dụng máy tính ở mức cơ bản.",),
        "C": ("Thao tác với máy tính còn chậm, cần luyện tập thêm.",),
    },
    "GiaoDucTheChat": {
        "T": ("Tích cực tập luyện, thực hiện đúng các động tác.",
              "Nhanh nhẹn, khéo léo, có năng khiếu thể thao."),
        "H": ("Thực hiện được các động tác cơ bản.",),
        "C": ("Cần tích cực tham gia tập luyện hơn.",),
    },
    "AmNhac": {
        "T": ("Hát đúng giai điệu, biểu diễn tự tin.",
              "Yêu thích âm nhạc, hát hay, vận động phụ hoạ tốt."),
        "H": ("Hát thuộc lời các bài hát đã học.",),
        "C": ("Cần mạnh dạn hơn khi tham gia hoạt động âm nhạc.",),
    },
    "MiThuat": {
        "T": ("Vẽ đẹp, phối màu hài hoà, sản phẩm sáng tạo.",
              "Có năng khiếu vẽ, biết giới thiệu sản phẩm của mình."),
        "H": ("Hoàn thành sản phẩm theo yêu cầu.",),
        "C": ("Sản phẩm chưa hoàn chỉnh, cần cố gắng hơn.",),
    },
    "HoatDongTraiNghiem": {
        "T": ("Hào hứng tham gia các hoạt động trải nghiệm.",
              "Tự tin, biết hợp tác với bạn trong hoạt động nhóm."),
        "H": ("Tham gia đầy đủ các hoạt động của lớp, của trường.",),
        "C": ("Cần chủ động hơn khi tham gia các hoạt động.",),
    },
}
REMEDIATED_COMMENT = "Sau thời gian rèn luyện trong hè, em đã hoàn thành yêu cầu của môn học."

ASSESSMENT_COMMENTS: dict[str, dict[str, str]] = {
    "YeuNuoc": {"T": "Yêu quê hương, kính trọng thầy cô, tích cực tham gia hoạt động của trường.",
                "Đ": "Biết yêu quý trường lớp, quê hương.",
                "C": "Cần tích cực hơn trong các hoạt động chung."},
    "NhanAi": {"T": "Yêu thương, quan tâm, giúp đỡ bạn bè.",
               "Đ": "Biết quan tâm đến người thân và bạn bè.",
               "C": "Cần biết chia sẻ, giúp đỡ bạn nhiều hơn."},
    "ChamChi": {"T": "Chăm học, chăm làm; hoàn thành tốt nhiệm vụ được giao.",
                "Đ": "Đi học đầy đủ, có ý thức học bài.",
                "C": "Cần chăm chỉ học bài và làm bài ở nhà."},
    "TrungThuc": {"T": "Thật thà, ngay thẳng, dám nhận lỗi.",
                  "Đ": "Biết nói đúng sự thật.",
                  "C": "Cần mạnh dạn nhận lỗi khi mắc sai sót."},
    "TrachNhiem": {"T": "Có trách nhiệm với bản thân, giữ gìn đồ dùng học tập.",
                   "Đ": "Biết giữ gìn đồ dùng cá nhân và của lớp.",
                   "C": "Cần có trách nhiệm hơn với nhiệm vụ được giao."},
    "TuChuTuHoc": {"T": "Tự giác học tập, tự chuẩn bị đồ dùng học tập.",
                   "Đ": "Biết tự thực hiện các nhiệm vụ học tập.",
                   "C": "Cần tự giác hơn trong học tập."},
    "GiaoTiepHopTac": {"T": "Mạnh dạn giao tiếp, hợp tác tốt trong nhóm.",
                       "Đ": "Biết trao đổi, hợp tác với bạn.",
                       "C": "Cần mạnh dạn hơn khi giao tiếp."},
    "GiaiQuyetVanDeSangTao": {"T": "Biết phát hiện và giải quyết vấn đề một cách sáng tạo.",
                              "Đ": "Giải quyết được các vấn đề đơn giản trong học tập.",
                              "C": "Cần được hướng dẫn để giải quyết vấn đề."},
    "NgonNgu": {"T": "Diễn đạt mạch lạc, dùng từ phong phú.",
                "Đ": "Diễn đạt rõ ràng ý của mình.",
                "C": "Cần luyện thêm kĩ năng diễn đạt."},
    "TinhToan": {"T": "Tính toán nhanh, chính xác.",
                 "Đ": "Thực hiện được các phép tính cơ bản.",
                 "C": "Cần luyện thêm kĩ năng tính toán."},
    "KhoaHoc": {"T": "Ham tìm hiểu, khám phá thế giới xung quanh.",
                "Đ": "Biết quan sát, nêu được hiện tượng đơn giản.",
                "C": "Cần quan sát, tìm hiểu nhiều hơn."},
    "CongNghe": {"T": "Sử dụng dụng cụ an toàn, khéo léo.",
                 "Đ": "Biết sử dụng một số dụng cụ đơn giản.",
                 "C": "Cần cẩn thận hơn khi sử dụng dụng cụ."},
    "TinHoc": {"T": "Sử dụng máy tính thành thạo, đúng quy tắc.",
               "Đ": "Biết sử dụng máy tính ở mức cơ bản.",
               "C": "Cần luyện tập thêm với máy tính."},
    "ThamMi": {"T": "Cảm nhận được cái đẹp, tạo ra sản phẩm đẹp.",
               "Đ": "Biết nhận ra cái đẹp trong học tập và cuộc sống.",
               "C": "Cần quan tâm hơn đến các hoạt động nghệ thuật."},
    "TheChat": {"T": "Khoẻ mạnh, nhanh nhẹn, tích cực rèn luyện.",
                "Đ": "Có ý thức rèn luyện sức khoẻ.",
                "C": "Cần tích cực rèn luyện thân thể."},
}

SECONDARY_COMMENTS: tuple[tuple[Decimal, tuple[str, ...]], ...] = (
    (Decimal("8.0"), ("Học tốt, nắm vững kiến thức, vận dụng linh hoạt.",
                      "Tích cực xây dựng bài, kết quả tốt.")),
    (Decimal("6.5"), ("Có cố gắng, tiến bộ; cần phát huy hơn.",
                      "Nắm được kiến thức, cần chủ động hơn trong giờ học.")),
    (Decimal("5.0"), ("Cần chăm chỉ hơn, ôn tập kiến thức cơ bản.",)),
    (Decimal(0), ("Chưa đạt yêu cầu, cần cố gắng nhiều hơn.",)),
)
ASSESSED_COMMENTS = {PASS: ("Tích cực tham gia, đạt yêu cầu.", "Tham gia đầy đủ, có tiến bộ."),
                     FAIL: ("Chưa đạt yêu cầu, cần rèn luyện thêm.",)}

PRIMARY_EXTRA_AWARDS = (
    "Giải Nhì Hội thi Viết chữ đẹp cấp trường",
    "Giải Ba Hội khoẻ Phù Đổng cấp thành phố",
    "Giấy khen tích cực tham gia phong trào Kế hoạch nhỏ",
    "Giải Khuyến khích Hội thi Vẽ tranh “Em yêu quê hương”",
)
AWARD_EXCELLENT = "Học sinh Xuất sắc"
AWARD_EXEMPLARY = "Học sinh Tiêu biểu hoàn thành tốt trong học tập và rèn luyện"
AWARD_SECONDARY_GOOD = "Học sinh Giỏi"

# Primary subjects by grade (Chương trình GDPT 2018).
_PRIMARY_BY_GRADE: dict[int, tuple[str, ...]] = {
    1: ("TiengViet", "Toan", "DaoDuc", "TuNhienXaHoi", "GiaoDucTheChat", "AmNhac", "MiThuat",
        "HoatDongTraiNghiem"),
    3: ("TiengViet", "Toan", "NgoaiNgu1", "DaoDuc", "TuNhienXaHoi", "TinHocCongNghe",
        "GiaoDucTheChat", "AmNhac", "MiThuat", "HoatDongTraiNghiem"),
    4: ("TiengViet", "Toan", "NgoaiNgu1", "DaoDuc", "LichSuDiaLi", "KhoaHoc", "TinHocCongNghe",
        "GiaoDucTheChat", "AmNhac", "MiThuat", "HoatDongTraiNghiem"),
}
_PRIMARY_BY_GRADE[2] = _PRIMARY_BY_GRADE[1]
_PRIMARY_BY_GRADE[5] = _PRIMARY_BY_GRADE[4]

# Lower secondary: subjects with scores, and comment-only ones (Thông tư 22/2021, art. 5).
_SECONDARY_SCORED = ("NguVan", "Toan", "NgoaiNgu1", "GiaoDucCongDan", "LichSuDiaLi",
                     "KhoaHocTuNhien", "CongNghe", "TinHoc")
_SECONDARY_ASSESSED = ("GiaoDucTheChat", "NgheThuat", "HoatDongTraiNghiemHuongNghiep",
                       "GiaoDucDiaPhuong")

# Ability tiers: (name, weight). A pupil keeps a tier, drifting a little from year to year.
_TIERS = ("excellent", "good", "fair", "weak")
_TIER_WEIGHTS = (26, 40, 31, 3)


# --- Generation ---------------------------------------------------------------------------

@dataclass(frozen=True)
class _Pupil:
    index: int
    record_id: str
    sex: str
    full_name: str
    surname: str
    tier: int


def _lower_first(text: str) -> str:
    """"Tỉnh Sông Hương" -> "tỉnh Sông Hương", as inside an address."""
    return text[:1].lower() + text[1:]


def _weighted(rng: random.Random, items: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([i for i, _ in items], weights=[w for _, w in items])[0]


def _name(rng: random.Random, sex: str, surname: str | None = None) -> tuple[str, str]:
    surname = surname or _weighted(rng, SURNAMES)
    if surname == "Tôn Nữ" and sex == "Nam":
        surname = "Tôn Thất"
    middle = rng.choice(MIDDLE_MALE if sex == "Nam" else MIDDLE_FEMALE)
    given = rng.choice(GIVEN_MALE if sex == "Nam" else GIVEN_FEMALE)
    if rng.random() < 0.3:  # many children have two middle names
        extra = rng.choice(MIDDLE_MALE[3:] if sex == "Nam" else MIDDLE_FEMALE[1:])
        if extra not in (middle, given):
            middle = f"{middle} {extra}" if middle in ("Văn", "Thị") else f"{extra} {middle}"
    if middle.endswith(given) or middle.startswith(given):
        middle = "Văn" if sex == "Nam" else "Thị"
    return nfc(f"{surname} {middle} {given}"), surname


def _rng(seed: int | str, level: str, index: int, what: str = "") -> random.Random:
    return random.Random(f"hocba-sample/{seed}/{level}/{index}/{what}")


def _school_for(level: Level) -> School:
    return PRIMARY_SCHOOL if level == "primary" else SECONDARY_SCHOOL


def _years(school_year: str, grade: int, level: Level) -> list[tuple[str, int]]:
    first = 1 if level == "primary" else 6
    start = int(school_year.split("-")[0])
    return [(f"{start - grade + g}-{start - grade + g + 1}", g) for g in range(first, grade + 1)]


def _identity(p: _Pupil, rng: random.Random, level: Level, school_year: str, grade: int,
              first_year: str) -> Identity:
    start = int(school_year.split("-")[0])
    birth_year = start - grade - 5
    birth = dt.date(birth_year, 1, 1) + dt.timedelta(days=rng.randrange(365))
    ethnicity = _weighted(rng, ETHNICITIES)
    father_name, _ = _name(rng, "Nam", p.surname)
    mother_name, _ = _name(rng, "Nữ")
    parents = [Parent("Cha", father_name, rng.choice(OCCUPATIONS)),
               Parent("Mẹ", mother_name, rng.choice(OCCUPATIONS))]
    if rng.random() < 0.06:  # raised by a grandparent
        guardian, _ = _name(rng, rng.choice(("Nam", "Nữ")))
        parents = [parents[1], Parent("Người giám hộ", guardian, "Hưu trí")]
    if rng.random() < 0.75:
        address = (f"Số {rng.randint(1, 180)}, đường {rng.choice(STREETS)}, "
                   f"{_lower_first(rng.choice(WARDS))}, {_lower_first(CITY)}, "
                   f"{_lower_first(PROVINCE)}")
    else:
        address = (f"{rng.choice(VILLAGES)}, {_lower_first(rng.choice(COMMUNES))}, "
                   f"{_lower_first(PROVINCE)}")
    # Personal ID (Thông tư 59/2021/TT-BCA layout): province, century+sex, year, serial.
    century_sex = ("2" if p.sex == "Nam" else "3") if birth_year >= 2000 else (
        "0" if p.sex == "Nam" else "1")
    personal_id = (f"{PERSONAL_ID_PREFIX}{century_sex}{birth_year % 100:02d}"
                   f"{rng.randrange(10**6):06d}")
    first_start = int(first_year.split("-")[0])
    school = _school_for(level)
    return Identity(
        id=identity_id(p.record_id),
        full_name=p.full_name,
        sex=p.sex,
        birth_date=birth,
        ethnicity=ethnicity,
        nationality="Việt Nam",
        place_of_birth=rng.choice(BIRTH_PLACES),
        home_town=rng.choice(HOMETOWNS) if rng.random() < 0.6 else
        f"{rng.choice(WARDS)}, {_lower_first(PROVINCE)}",
        address=nfc(address),
        parents=tuple(parents),
        personal_id=personal_id,
        school=school,
        register_number=f"{p.index + 1:03d}/{first_start}",
        enrolment_date=dt.date(first_start, 9, 5),
    )


def _level_for(rng: random.Random, tier: int) -> str:
    """A subject level T/H/C for an ability tier."""
    p_t, p_h = ((1.0, 0.0), (0.97, 0.03), (0.45, 0.55), (0.2, 0.72))[tier]
    r = rng.random()
    return "T" if r < p_t else "H" if r < p_t + p_h else "C"


def _quality_for(rng: random.Random, tier: int) -> str:
    p_t, p_d = ((1.0, 0.0), (0.98, 0.02), (0.5, 0.5), (0.3, 0.65))[tier]
    r = rng.random()
    return "T" if r < p_t else "Đ" if r < p_t + p_d else "C"


def _score_for(rng: random.Random, level: str, tier: int) -> Decimal:
    """Periodic test scores are whole numbers (Thông tư 27/2020, art. 7)."""
    if level == "T":
        low = 9 if tier == 0 else 7
        return Decimal(rng.randint(low, 10))
    if level == "H":
        return Decimal(rng.randint(5, 8))
    return Decimal(rng.randint(2, 4))


def _primary_year(rng: random.Random, tier: int, grade: int, latest: bool
                  ) -> tuple[PrimaryResults, bool]:
    """Results for one primary year; returns (results, remediated)."""
    codes = _PRIMARY_BY_GRADE[grade]
    levels = {c: _level_for(rng, tier) for c in codes}
    if tier == 3 and "C" not in levels.values() and rng.random() < 0.6:
        levels[rng.choice(("TiengViet", "Toan"))] = "C"
    qual = {c: _quality_for(rng, tier) for c in QUALITIES}
    gen = {c: _quality_for(rng, tier) for c in GENERAL_COMPETENCIES}
    spec = {c: _quality_for(rng, tier) for c in SPECIFIC_COMPETENCIES}
    # Earlier years were re-issued after summer remediation: every C became H/Đ.
    remediated = not latest and "C" in (*levels.values(), *qual.values(), *gen.values(),
                                        *spec.values())
    subjects = []
    for code in codes:
        level = levels[code]
        score = _score_for(rng, level, tier) if code in TESTED_PRIMARY_SUBJECTS else None
        comment = rng.choice(SUBJECT_COMMENTS[code][level])
        if remediated and level == "C":
            level = "H"
            score = Decimal(rng.randint(5, 6)) if score is not None else None
            comment = REMEDIATED_COMMENT
        subjects.append(SubjectResult(code, PRIMARY_SUBJECTS[code], level, comment, score))

    def assessments(table: dict[str, str], names: dict[str, str]) -> tuple[Assessment, ...]:
        out = []
        for code, level in table.items():
            if remediated and level == "C":
                level = "Đ"
            out.append(Assessment(code, names[code], level, ASSESSMENT_COMMENTS[code][level]))
        return tuple(out)

    qualities = assessments(qual, QUALITIES)
    general = assessments(gen, GENERAL_COMPETENCIES)
    specific = assessments(spec, SPECIFIC_COMPETENCIES)
    overall = primary_overall(subjects, qualities + general + specific)
    return PrimaryResults(tuple(subjects), qualities, general, specific, overall), remediated


def _secondary_score(rng: random.Random, mean: float) -> Decimal:
    x = min(10.0, max(1.0, rng.gauss(mean, 0.8)))
    return Decimal(str(round(x, 1)))


def _secondary_year(rng: random.Random, tier: int, latest: bool) -> tuple[SecondaryResults, int]:
    mean = (8.9, 7.8, 6.4, 4.9)[tier]
    if not latest:
        mean = max(mean, 6.0)  # earlier years passed (a retest would have replaced them)
    scored = []
    for code in _SECONDARY_SCORED:
        s1 = _secondary_score(rng, mean)
        s2 = _secondary_score(rng, mean + 0.2)
        year = year_average(s1, s2)
        comment = next(rng.choice(texts) for floor, texts in SECONDARY_COMMENTS if year >= floor)
        scored.append(ScoredSubject(code, SECONDARY_SUBJECTS[code], s1, s2, year, comment))
    assessed = []
    for code in _SECONDARY_ASSESSED:
        result = FAIL if (latest and tier == 3 and rng.random() < 0.2) else PASS
        assessed.append(AssessedSubject(code, SECONDARY_SUBJECTS[code], result,
                                        rng.choice(ASSESSED_COMMENTS[result])))
    learning = secondary_learning(scored, assessed)
    conduct = rng.choices(("Tốt", "Khá", "Đạt"), weights=((90, 9, 1), (80, 18, 2),
                                                          (60, 32, 8), (40, 40, 20))[tier])[0]
    days_absent = rng.choice((0, 0, 0, 1, 1, 2, 3, 4, 6))
    return SecondaryResults(tuple(scored), tuple(assessed), learning, conduct), days_absent


def sample_record(index: int, *, seed: int | str = 0, level: Level = "primary",
                  school_year: str = DEFAULT_SCHOOL_YEAR, grade: int | None = None
                  ) -> RecordBook:
    """Pupil number ``index`` (0-based) of the sample class; the same for the same arguments."""
    grade = grade or DEFAULT_GRADE[level]
    school = _school_for(level)
    rng = _rng(seed, level, index)
    sex = rng.choice(("Nam", "Nữ"))
    full_name, surname = _name(rng, sex)
    tier = _TIERS.index(rng.choices(_TIERS, weights=_TIER_WEIGHTS)[0])
    record_id = f"HS-{school.code}-{index + 1:04d}"
    pupil = _Pupil(index, record_id, sex, full_name, surname, tier)
    years_spec = _years(school_year, grade, level)
    identity = _identity(pupil, _rng(seed, level, index, "identity"), level, school_year, grade,
                         years_spec[0][0])
    class_letter = "A"
    years = []
    for n, (sy, g) in enumerate(years_spec):
        latest = n == len(years_spec) - 1
        yrng = _rng(seed, level, index, sy)
        # Tiers drift a little from year to year, but only a weak pupil stays weak.
        y_tier = tier if tier == 3 else min(2, max(0, tier + yrng.choice((0, 0, 0, 0, -1, 1))))
        end = int(sy.split("-")[1])
        teacher = HOMEROOM_TEACHER if latest else EARLIER_TEACHERS[n % len(EARLIER_TEACHERS)]
        principal = PRINCIPAL if level == "primary" else SECONDARY_PRINCIPAL
        confirmed = dt.date(end, 5, 22)
        awards: list[str] = []
        version = 1
        results: PrimaryResults | SecondaryResults
        if level == "primary":
            results, remediated = _primary_year(yrng, y_tier, g, latest)
            if remediated:
                version, confirmed = 2, dt.date(end, 8, 14)
            if results.overall == RESULT_EXCELLENT:
                awards.append(AWARD_EXCELLENT)
            elif results.overall == RESULT_GOOD and yrng.random() < 0.4:
                awards.append(AWARD_EXEMPLARY)
            if results.overall != RESULT_NOT_DONE and yrng.random() < 0.12:
                awards.append(yrng.choice(PRIMARY_EXTRA_AWARDS))
            promotion = primary_promotion(g, results.overall)
            days_absent = yrng.choice((0, 0, 0, 0, 1, 1, 2, 3))
        else:
            results, days_absent = _secondary_year(yrng, y_tier, latest)
            if results.learning == "Tốt" and results.conduct == "Tốt":
                excellent = sum(s.year >= 9 for s in results.scored) >= 6
                awards.append(AWARD_EXCELLENT if excellent else AWARD_SECONDARY_GOOD)
            promotion = secondary_promotion(g, results.learning, results.conduct, days_absent)
        years.append(SchoolYear(
            id=year_id(record_id, sy, version),
            school_year=sy,
            grade=g,
            version=version,
            class_name=f"{g}{class_letter}",
            school=school,
            results=results,
            promotion=promotion,
            homeroom_teacher=teacher,
            principal=principal,
            confirmed_on=confirmed,
            awards=tuple(awards),
            days_absent=days_absent,
        ))
    return RecordBook(id=record_id, identity=identity, years=tuple(years))


def sample_class(count: int = 40, *, seed: int | str = 0, level: Level = "primary",
                 school_year: str = DEFAULT_SCHOOL_YEAR, grade: int | None = None
                 ) -> list[RecordBook]:
    """``count`` pupils of one class; names are unique within the class."""
    out: list[RecordBook] = []
    names: set[str] = set()
    for i in range(count):
        rec = sample_record(i, seed=seed, level=level, school_year=school_year, grade=grade)
        attempt = 0
        while rec.identity.full_name in names:
            attempt += 1
            rec = sample_record(i, seed=f"{seed}~{attempt}", level=level,
                                school_year=school_year, grade=grade)
        names.add(rec.identity.full_name)
        out.append(rec)
    return out
