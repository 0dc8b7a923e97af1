"""The record book as immutable values: one pupil, an identity and one block per school year.

Mirrors ``recordbook.xsd`` (namespace :data:`hocba.vocab.RECORD_NS`). Codes and
labels come from Thông tư 27/2020/TT-BGDĐT (primary) and Thông tư
22/2021/TT-BGDĐT (secondary). Text is kept in Unicode NFC.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

Level = Literal["primary", "secondary"]

# --- Code lists --------------------------------------------------------------------------

#: Primary subject levels (Thông tư 27/2020, art. 6).
SUBJECT_LEVELS: dict[str, str] = {"T": "Hoàn thành tốt", "H": "Hoàn thành", "C": "Chưa hoàn thành"}
#: Quality and competency levels (Thông tư 27/2020, art. 6).
QUALITY_LEVELS: dict[str, str] = {"T": "Tốt", "Đ": "Đạt", "C": "Cần cố gắng"}

RESULT_EXCELLENT = "Hoàn thành xuất sắc"
RESULT_GOOD = "Hoàn thành tốt"
RESULT_DONE = "Hoàn thành"
RESULT_NOT_DONE = "Chưa hoàn thành"
#: Primary overall results, best first (Thông tư 27/2020, art. 10).
PRIMARY_RESULTS: tuple[str, ...] = (RESULT_EXCELLENT, RESULT_GOOD, RESULT_DONE, RESULT_NOT_DONE)
#: Secondary learning and conduct results, best first (Thông tư 22/2021, art. 8–9).
SECONDARY_RESULTS: tuple[str, ...] = ("Tốt", "Khá", "Đạt", "Chưa đạt")
PASS = "Đạt"
FAIL = "Chưa đạt"

PROMOTED = "Được lên lớp"
COMPLETED_PRIMARY = "Hoàn thành chương trình tiểu học"
COMPLETED_LOWER_SECONDARY = "Hoàn thành chương trình trung học cơ sở"
COMPLETED_UPPER_SECONDARY = "Hoàn thành chương trình trung học phổ thông"
SUMMER_TRAINING = "Rèn luyện trong hè"
SUMMER_RETEST = "Kiểm tra lại trong hè"
REPEAT = "Ở lại lớp"
PROMOTIONS: tuple[str, ...] = (
    PROMOTED, COMPLETED_PRIMARY, COMPLETED_LOWER_SECONDARY, COMPLETED_UPPER_SECONDARY,
    SUMMER_TRAINING, SUMMER_RETEST, REPEAT,
)

#: Primary subjects: code -> printed name.
PRIMARY_SUBJECTS: dict[str, str] = {
    "TiengViet": "Tiếng Việt",
    "Toan": "Toán",
    "NgoaiNgu1": "Ngoại ngữ 1",
    "DaoDuc": "Đạo đức",
    "TuNhienXaHoi": "Tự nhiên và Xã hội",
    "LichSuDiaLi": "Lịch sử và Địa lí",
    "KhoaHoc": "Khoa học",
    "TinHocCongNghe": "Tin học và Công nghệ",
    "GiaoDucTheChat": "Giáo dục thể chất",
    "AmNhac": "Âm nhạc",
    "MiThuat": "Mĩ thuật",
    "HoatDongTraiNghiem": "Hoạt động trải nghiệm",
    "TiengDanToc": "Tiếng dân tộc",
    "NgoaiNgu2": "Ngoại ngữ 2",
}
#: Primary subjects with a periodic test score (Thông tư 27/2020, art. 7).
TESTED_PRIMARY_SUBJECTS: frozenset[str] = frozenset(
    {"TiengViet", "Toan", "NgoaiNgu1", "LichSuDiaLi", "KhoaHoc", "TinHocCongNghe"}
)

#: Secondary subjects: code -> printed name.
SECONDARY_SUBJECTS: dict[str, str] = {
    "NguVan": "Ngữ văn",
    "Toan": "Toán",
    "NgoaiNgu1": "Ngoại ngữ 1",
    "NgoaiNgu2": "Ngoại ngữ 2",
    "GiaoDucCongDan": "Giáo dục công dân",
    "LichSuDiaLi": "Lịch sử và Địa lí",
    "LichSu": "Lịch sử",
    "DiaLi": "Địa lí",
    "KhoaHocTuNhien": "Khoa học tự nhiên",
    "VatLi": "Vật lí",
    "HoaHoc": "Hoá học",
    "SinhHoc": "Sinh học",
    "CongNghe": "Công nghệ",
    "TinHoc": "Tin học",
    "GiaoDucKinhTePhapLuat": "Giáo dục kinh tế và pháp luật",
    "GiaoDucQuocPhongAnNinh": "Giáo dục quốc phòng và an ninh",
    "GiaoDucTheChat": "Giáo dục thể chất",
    "NgheThuat": "Nghệ thuật",
    "AmNhac": "Âm nhạc",
    "MiThuat": "Mĩ thuật",
    "HoatDongTraiNghiemHuongNghiep": "Hoạt động trải nghiệm, hướng nghiệp",
    "GiaoDucDiaPhuong": "Nội dung giáo dục của địa phương",
    "TiengDanToc": "Tiếng dân tộc",
}

#: The five main qualities (phẩm chất chủ yếu).
QUALITIES: dict[str, str] = {
    "YeuNuoc": "Yêu nước",
    "NhanAi": "Nhân ái",
    "ChamChi": "Chăm chỉ",
    "TrungThuc": "Trung thực",
    "TrachNhiem": "Trách nhiệm",
}
#: The three general competencies (năng lực chung).
GENERAL_COMPETENCIES: dict[str, str] = {
    "TuChuTuHoc": "Tự chủ và tự học",
    "GiaoTiepHopTac": "Giao tiếp và hợp tác",
    "GiaiQuyetVanDeSangTao": "Giải quyết vấn đề và sáng tạo",
}
#: The seven specific competencies (năng lực đặc thù).
SPECIFIC_COMPETENCIES: dict[str, str] = {
    "NgonNgu": "Ngôn ngữ",
    "TinhToan": "Tính toán",
    "KhoaHoc": "Khoa học",
    "CongNghe": "Công nghệ",
    "TinHoc": "Tin học",
    "ThamMi": "Thẩm mĩ",
    "TheChat": "Thể chất",
}

RELATIONS: tuple[str, ...] = ("Cha", "Mẹ", "Người giám hộ")


# --- Values ------------------------------------------------------------------------------

@dataclass(frozen=True)
class School:
    name: str
    code: str  # MOET school code (mã trường)
    province: str
    commune: str | None = None


@dataclass(frozen=True)
class Parent:
    relation: str  # one of RELATIONS
    name: str
    occupation: str | None = None


@dataclass(frozen=True)
class Identity:
    """The identity block (``<HocSinh>``)."""

    id: str
    full_name: str
    sex: str  # "Nam" | "Nữ"
    birth_date: dt.date
    ethnicity: str
    nationality: str
    place_of_birth: str
    home_town: str
    address: str
    parents: tuple[Parent, ...]
    personal_id: str  # 12 digits
    school: School
    register_number: str
    enrolment_date: dt.date | None = None


@dataclass(frozen=True)
class SubjectResult:
    """A primary subject: level T/H/C, optional periodic test score, comment."""

    code: str
    name: str
    level: str
    comment: str
    score: Decimal | None = None


@dataclass(frozen=True)
class Assessment:
    """A quality or competency: level T/Đ/C with a comment."""

    code: str
    name: str
    level: str
    comment: str


@dataclass(frozen=True)
class PrimaryResults:
    subjects: tuple[SubjectResult, ...]
    qualities: tuple[Assessment, ...]
    general_competencies: tuple[Assessment, ...]
    specific_competencies: tuple[Assessment, ...]
    overall: str  # one of PRIMARY_RESULTS

    level: Level = field(default="primary", init=False)


@dataclass(frozen=True)
class ScoredSubject:
    """A secondary subject assessed by scores: semester averages and the year average."""

    code: str
    name: str
    semester1: Decimal
    semester2: Decimal
    year: Decimal
    comment: str | None = None


@dataclass(frozen=True)
class AssessedSubject:
    """A secondary subject assessed by comments only: Đạt / Chưa đạt."""

    code: str
    name: str
    result: str
    comment: str | None = None


@dataclass(frozen=True)
class SecondaryResults:
    scored: tuple[ScoredSubject, ...]
    assessed: tuple[AssessedSubject, ...]
    learning: str  # one of SECONDARY_RESULTS
    conduct: str  # one of SECONDARY_RESULTS

    level: Level = field(default="secondary", init=False)


@dataclass(frozen=True)
class SchoolYear:
    """One school year's block (``<NamHoc>``), signed on its own."""

    id: str
    school_year: str  # "2025-2026"
    grade: int
    version: int
    class_name: str
    school: School
    results: PrimaryResults | SecondaryResults
    promotion: str
    homeroom_teacher: str
    principal: str
    confirmed_on: dt.date
    awards: tuple[str, ...] = ()
    days_absent: int | None = None

    @property
    def level(self) -> Level:
        return self.results.level


@dataclass(frozen=True)
class RecordBook:
    """One pupil's record book: the identity and the school years, oldest first."""

    id: str
    identity: Identity
    years: tuple[SchoolYear, ...]

    @property
    def latest(self) -> SchoolYear:
        return max(self.years, key=lambda y: (y.school_year, y.version))

    def year(self, school_year: str) -> SchoolYear:
        for y in self.years:
            if y.school_year == school_year:
                return y
        raise KeyError(school_year)


def identity_id(record_id: str) -> str:
    """Id convention of the identity block."""
    return f"{record_id}-hocsinh"


def year_id(record_id: str, school_year: str, version: int) -> str:
    """Id convention of a school-year block: a re-issued year gets a new Id."""
    return f"{record_id}-{school_year}-v{version}"
