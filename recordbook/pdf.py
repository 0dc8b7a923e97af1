"""The printable record book: one school year per PDF, in the structure of the MOET template.

One PDF = the identity page + that year's page(s), ending with three empty
signature fields (homeroom teacher, principal, school seal). A signed PDF
cannot gain pages without invalidating earlier signatures, so each year is
its own PDF; the XML carries the whole book (see ``docs/record-pdf.md``).

fpdf2 lays out the pages with Be Vietnam Pro (embedded, subset, selectable
text); pyHanko then copies them into a single clean revision, adds the empty
``/FT /Sig`` fields and the record identity in the document information
dictionary, which :func:`read_pdf_record_meta` reads back.
"""
from __future__ import annotations

import datetime as dt
import functools
import hashlib
import io
import os
import tempfile
from collections.abc import Iterable
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import cast

from fpdf import FPDF
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.writer import copy_into_new_writer
from pyhanko.sign.fields import SigFieldSpec, append_signature_field

from ground.errors import UsageError
from ground.vocab import nfc
# The document-information keys and their readers live in recordbook.pdf_meta (the
# verifier reads them without importing fpdf2); imported here for the writers and callers.
from recordbook.pdf_meta import (
    INFO_RECORD_ID,
    INFO_SCHOOL,
    INFO_SCHOOL_CODE,
    INFO_SCHOOL_YEAR,
    INFO_STUDENT,
    INFO_VERSION,
    INFO_YEAR_ID,
)
from recordbook.pdf_meta import read_pdf_record_meta as read_pdf_record_meta
from recordbook.pdf_meta import read_pdf_year_meta as read_pdf_year_meta
from recordbook.model import (
    QUALITY_LEVELS,
    SUBJECT_LEVELS,
    Assessment,
    PrimaryResults,
    RecordBook,
    SchoolYear,
    SecondaryResults,
)

#: Names of the empty signature fields at the foot of the year page, in signing order.
SIGNATURE_FIELDS: tuple[str, ...] = ("Sig_teacher", "Sig_principal", "Sig_seal")
#: Size of each signature field, in points (room for a visible signature stamp).
FIELD_WIDTH = 174.0
FIELD_HEIGHT = 80.0


_FONT = "bvp"
_MARGIN = 28.0
_INK = (20, 20, 20)
_MUTED = (90, 90, 90)
_RULE = (150, 150, 150)
_HEAD_FILL = (232, 236, 242)
_LINE_H = 9.8
# Column widths (% of the line): name, level, [score,] comment.
_COLS_SUBJECT = (27.5, 12.5, 11.5, 48.5)
_COLS_ASSESS = (27.5, 12.5, 60.0)
_PAD_V = 1.6
_PAD_H = 4.0
_GROUP_FILL = (245, 246, 248)


_FONT_STYLES = (("", "Regular"), ("B", "Bold"), ("I", "Italic"))
_LEAN_FONT_VERSION = "1"


@functools.lru_cache(maxsize=1)
def _font_files() -> dict[str, Path]:
    """Be Vietnam Pro, preferably as cached unhinted copies (same glyphs and metrics).

    fpdf2 subsets the embedded fonts for every document; without TrueType
    hinting instructions that is about twice as fast and the PDFs are ~40%
    smaller. If no cache directory is writable, the packaged files are used.
    """
    base = resources.files("fontpkg_be_vietnam_pro").joinpath("files")
    out = {}
    for style, name in _FONT_STYLES:
        path = Path(str(base.joinpath(f"BeVietnamPro-{name}.ttf")))
        if not path.is_file():
            raise UsageError("recordbook.pdf.err.font_missing", path=path)
        out[style] = _lean_font(path) or path
    return out


def _cache_dir() -> Path:
    root = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(root) / "hocba" / "fonts"


def _lean_font(source: Path) -> Path | None:
    """An unhinted copy of ``source`` in the user's cache, made once; None if impossible."""
    try:
        data = source.read_bytes()
        digest = hashlib.sha256(data).hexdigest()[:16]
        target = _cache_dir() / f"{source.stem}-{digest}-lean{_LEAN_FONT_VERSION}.ttf"
        if target.is_file():
            return target
        from fontTools import subset
        from fontTools.ttLib import TTFont

        options = subset.Options()
        options.hinting = False
        options.layout_features = []
        options.notdef_outline = True
        options.glyph_names = True
        font = TTFont(io.BytesIO(data))
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=font.getBestCmap().keys(), glyphs=font.getGlyphOrder())
        subsetter.subset(font)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                font.save(f)
            os.replace(tmp, target)
        finally:
            Path(tmp).unlink(missing_ok=True)
        return target
    except Exception:  # noqa: BLE001 - any failure: use the packaged font, just slower
        return None


def _vn_date(d: dt.date) -> str:
    return d.strftime("%d/%m/%Y")


def _vn_score(d: Decimal | None, *, decimals: bool = False) -> str:
    """Scores printed the Vietnamese way, comma as decimal separator: 9, 8,5; or 6,0."""
    if d is None:
        return ""
    if not decimals and d == d.to_integral_value():
        text = str(int(d))
    else:
        text = f"{d.quantize(Decimal('0.1')):.1f}"
    return text.replace(".", ",")


def _level_title(grade: int) -> str:
    if grade <= 5:
        return "TIỂU HỌC"
    if grade <= 9:
        return "TRUNG HỌC CƠ SỞ"
    return "TRUNG HỌC PHỔ THÔNG"


class _Doc(FPDF):
    def __init__(self, footer_text: str) -> None:
        super().__init__(orientation="P", unit="pt", format="A4")
        self._footer_text = footer_text
        for style, path in _font_files().items():
            self.add_font(_FONT, style, str(path))
        self.set_margins(_MARGIN, 30, _MARGIN)
        self.set_auto_page_break(True, margin=40)
        self.set_text_color(*_INK)
        self.set_draw_color(*_RULE)
        self.set_line_width(0.5)
        self.alias_nb_pages()

    def footer(self) -> None:
        self.set_y(-28)
        self.set_font(_FONT, "", 7.5)
        self.set_text_color(*_MUTED)
        self.cell(self.epw / 2, 10, self._footer_text, align="L")
        self.cell(self.epw / 2, 10, f"Trang {self.page_no()}/{{nb}}", align="R")
        self.set_text_color(*_INK)

    # --- small helpers ------------------------------------------------------------------

    def font(self, style: str = "", size: float = 10) -> None:
        self.set_font(_FONT, style, size)

    def centered(self, text: str, style: str = "", size: float = 10, h: float | None = None
                 ) -> None:
        self.font(style, size)
        self.cell(0, h or size * 1.45, nfc(text), align="C", new_x="LMARGIN", new_y="NEXT")

    def fields(self, items: Iterable[tuple[str, str, float]], h: float = 16) -> None:
        """One line of "label: value" pairs; each pair gets the given share of the line."""
        x0 = self.l_margin
        y = self.get_y()
        for label, value, share in items:
            w = self.epw * share
            self.set_xy(x0, y)
            self.font("", 10)
            lw = self.get_string_width(label + ": ") + 1
            self.cell(lw, h, label + ":")
            self.font("B", 10)
            self.cell(w - lw, h, nfc(value))
            # dotted leader under the value, as on the paper form
            self.set_draw_color(*_RULE)
            self.set_dash_pattern(dash=0.8, gap=1.6)
            self.line(x0 + lw, y + h - 3, x0 + w - 6, y + h - 3)
            self.set_dash_pattern()
            x0 += w
        self.set_xy(self.l_margin, y + h)

    def section(self, text: str) -> None:
        self.ln(3)
        self.font("B", 10.5)
        self.cell(0, 15, nfc(text), new_x="LMARGIN", new_y="NEXT")
        self.ln(1)

    def grid(self, widths: tuple[float, ...], aligns: str, header: tuple[str, ...],
             rows: Iterable[tuple[str, ...] | str], *, size: float = 8.5) -> None:
        """A bordered table: ``widths`` in % of the line, ``aligns`` one of L/C per column.

        A row given as a plain string is a group heading spanning all columns.
        Rows never split across pages; the header repeats after a page break.
        """
        cols = [self.epw * w / 100 for w in widths]
        saved_margin = self.c_margin
        self.c_margin = 0

        def draw(cells: tuple[str, ...], style: str, fill: tuple[int, int, int] | None,
                 spans: tuple[float, ...], align: str, repeat_header: bool) -> None:
            self.font(style, size)
            wrapped = [cast(list[str], self.multi_cell(w - 2 * _PAD_H, _LINE_H, nfc(text),
                                                       dry_run=True, output="LINES"))
                       if text else [""] for w, text in zip(spans, cells)]
            n = max(len(lines) for lines in wrapped)
            h = n * _LINE_H + 2 * _PAD_V
            if repeat_header and self.get_y() + h > self.page_break_trigger:
                self.add_page()
                draw(header, "B", _HEAD_FILL, tuple(cols), aligns, False)
                self.font(style, size)
            x, y = self.l_margin, self.get_y()
            for w, a, lines in zip(spans, align, wrapped):
                if fill:
                    self.set_fill_color(*fill)
                self.set_draw_color(*_RULE)
                self.rect(x, y, w, h, style="DF" if fill else "D")
                top = y + _PAD_V + (n - len(lines)) * _LINE_H / 2
                for i, line in enumerate(lines):
                    self.set_xy(x + _PAD_H, top + i * _LINE_H)
                    self.cell(w - 2 * _PAD_H, _LINE_H, line, align=a)
                x += w
            self.set_xy(self.l_margin, y + h)

        draw(header, "B", _HEAD_FILL, tuple(cols), aligns, True)
        for row in rows:
            if isinstance(row, str):
                draw((row,), "B", _GROUP_FILL, (self.epw,), "L", True)
            else:
                draw(row, "", None, tuple(cols), aligns, True)
        self.c_margin = saved_margin


def _identity_page(pdf: _Doc, record: RecordBook, year: SchoolYear) -> None:
    ident = record.identity
    pdf.add_page()
    pdf.centered("CỘNG HOÀ XÃ HỘI CHỦ NGHĨA VIỆT NAM", "B", 12)
    pdf.centered("Độc lập - Tự do - Hạnh phúc", "B", 11)
    y = pdf.get_y() + 2
    pdf.set_draw_color(*_INK)
    pdf.line(pdf.w / 2 - 75, y, pdf.w / 2 + 75, y)
    pdf.ln(40)
    pdf.centered("HỌC BẠ", "B", 34, h=44)
    pdf.centered(_level_title(year.grade), "B", 16, h=24)
    pdf.ln(4)
    pdf.centered(f"Mã học bạ: {record.id}", "", 9)
    pdf.ln(30)

    pdf.fields([("Họ và tên học sinh", ident.full_name, 0.68), ("Giới tính", ident.sex, 0.32)])
    pdf.fields([("Ngày, tháng, năm sinh", _vn_date(ident.birth_date), 0.42),
                ("Dân tộc", ident.ethnicity, 0.26), ("Quốc tịch", ident.nationality, 0.32)])
    pdf.fields([("Nơi sinh", ident.place_of_birth, 1.0)])
    pdf.fields([("Quê quán", ident.home_town, 1.0)])
    pdf.fields([("Nơi ở hiện nay", ident.address, 1.0)])
    labels = {"Cha": "Họ và tên cha", "Mẹ": "Họ và tên mẹ", "Người giám hộ": "Người giám hộ"}
    for p in ident.parents:
        pdf.fields([(labels.get(p.relation, p.relation), p.name, 0.62),
                    ("Nghề nghiệp", p.occupation or "", 0.38)])
    pdf.fields([("Số định danh cá nhân", ident.personal_id, 1.0)])
    pdf.ln(8)
    pdf.fields([("Trường", ident.school.name, 0.68), ("Mã trường", ident.school.code, 0.32)])
    pdf.fields([("Xã/Phường", ident.school.commune or "", 0.5),
                ("Tỉnh/Thành phố", ident.school.province, 0.5)])
    pdf.fields([("Số đăng bộ", ident.register_number, 0.5),
                ("Ngày nhập học",
                 _vn_date(ident.enrolment_date) if ident.enrolment_date else "", 0.5)])

    pdf.ln(20)
    pdf.centered("QUÁ TRÌNH HỌC TẬP", "B", 12)
    pdf.ln(4)
    shown = [y for y in record.years if y.school_year <= year.school_year]
    pdf.grid((16, 10, 44, 16, 14), "CCLCC",
             ("Năm học", "Lớp", "Tên trường", "Số đăng bộ", "Lần cấp"),
             [(y.school_year, y.class_name, y.school.name, ident.register_number,
               str(y.version)) for y in shown], size=9)

    pdf.set_y(max(pdf.get_y() + 24, pdf.page_break_trigger - 40))
    pdf.font("I", 8.5)
    pdf.set_text_color(*_MUTED)
    pdf.multi_cell(0, 12, nfc(
        f"Tệp này là học bạ số của năm học {year.school_year}: trang thông tin học sinh và "
        "trang kết quả năm học, ký số bởi giáo viên chủ nhiệm, hiệu trưởng và nhà trường. "
        "Mỗi năm học là một tệp riêng; bản XML chứa toàn bộ học bạ."),
        align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(*_INK)


def _year_header(pdf: _Doc, record: RecordBook, year: SchoolYear, continued: bool = False
                 ) -> None:
    pdf.fields([("Họ và tên học sinh", record.identity.full_name, 0.5),
                ("Lớp", year.class_name, 0.2), ("Năm học", year.school_year, 0.3)])
    if not continued:
        absent = "" if year.days_absent is None else str(year.days_absent)
        pdf.fields([("Trường", year.school.name, 0.7), ("Số ngày nghỉ", absent, 0.3)])
        if year.version > 1:
            pdf.font("I", 8.5)
            pdf.set_text_color(*_MUTED)
            pdf.cell(0, 13, f"Lần cấp: {year.version} (thay thế các lần cấp trước của năm học "
                            f"này; mã khối: {year.id})", new_x="LMARGIN", new_y="NEXT")
            pdf.set_text_color(*_INK)


def _primary_tables(pdf: _Doc, res: PrimaryResults) -> None:
    pdf.section("1. Các môn học và hoạt động giáo dục")
    pdf.grid(_COLS_SUBJECT, "LCCL",
             ("Môn học và hoạt động giáo dục", "Mức đạt được", "Điểm KTĐK", "Nhận xét"),
             [(s.name, s.level, _vn_score(s.score), s.comment) for s in res.subjects])

    pdf.section("2. Những phẩm chất chủ yếu")
    _assessment_table(pdf, "Phẩm chất", [(None, res.qualities)])
    pdf.section("3. Những năng lực cốt lõi")
    _assessment_table(pdf, "Năng lực", [("Năng lực chung", res.general_competencies),
                                        ("Năng lực đặc thù", res.specific_competencies)])
    pdf.font("I", 7)
    pdf.set_text_color(*_MUTED)
    subj = "/".join(SUBJECT_LEVELS) + ": " + "/".join(SUBJECT_LEVELS.values())
    qual = "/".join(QUALITY_LEVELS) + ": " + "/".join(QUALITY_LEVELS.values())
    pdf.multi_cell(0, 9, f"Môn học – {subj}. Phẩm chất, năng lực – {qual}. "
                         "KTĐK: kiểm tra định kì cuối năm.", new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(*_INK)


def _assessment_table(pdf: _Doc, first: str,
                      groups: list[tuple[str | None, tuple[Assessment, ...]]]) -> None:
    rows: list[tuple[str, ...] | str] = []
    for title, items in groups:
        if title:
            rows.append(title)
        rows.extend((a.name, a.level, a.comment) for a in items)
    pdf.grid(_COLS_ASSESS, "LCL", (first, "Mức đạt được", "Nhận xét"), rows)


def _secondary_tables(pdf: _Doc, res: SecondaryResults) -> None:
    pdf.section("1. Các môn học đánh giá bằng nhận xét kết hợp với đánh giá bằng điểm số")
    pdf.grid((27, 12.5, 12.5, 12, 36), "LCCCL",
             ("Môn học", "ĐTB học kì I", "ĐTB học kì II", "ĐTB cả năm", "Nhận xét"),
             [(s.name, _vn_score(s.semester1, decimals=True),
               _vn_score(s.semester2, decimals=True), _vn_score(s.year, decimals=True),
               s.comment or "") for s in res.scored])
    if res.assessed:
        pdf.section("2. Các môn học và hoạt động giáo dục đánh giá bằng nhận xét")
        pdf.grid((38, 11, 51), "LCL", ("Môn học, hoạt động giáo dục", "Kết quả", "Nhận xét"),
                 [(a.name, a.result, a.comment or "") for a in res.assessed])


def _result_lines(pdf: _Doc, year: SchoolYear) -> None:
    res = year.results
    lines: list[tuple[str, str]]
    if isinstance(res, PrimaryResults):
        completion = ("Hoàn thành chương trình lớp học/chương trình tiểu học" if year.grade == 5
                      else "Hoàn thành chương trình lớp học")
        lines = [("4. Đánh giá kết quả giáo dục", res.overall),
                 ("5. Khen thưởng", "; ".join(year.awards) or "Không"),
                 (f"6. {completion}", year.promotion)]
    else:
        n = 3 if res.assessed else 2
        lines = [(f"{n}. Kết quả học tập cả năm", res.learning),
                 (f"{n + 1}. Kết quả rèn luyện cả năm", res.conduct),
                 (f"{n + 2}. Khen thưởng", "; ".join(year.awards) or "Không"),
                 (f"{n + 3}. Lên lớp, hoàn thành chương trình", year.promotion)]
    pdf.ln(4)
    for label, value in lines:
        pdf.font("B", 10)
        lw = pdf.get_string_width(label + ": ") + 2
        pdf.cell(lw, 14, label + ":")
        pdf.font("", 10)
        pdf.multi_cell(pdf.epw - lw, 14, nfc(value), new_x="LMARGIN", new_y="NEXT")


# date line, captions, field, one line of name
_SIG_BLOCK_HEIGHT = 4 + 16 + 4 + 26 + FIELD_HEIGHT + 4 + 14


def _signature_block(pdf: _Doc, record: RecordBook, year: SchoolYear
                     ) -> list[tuple[str, int, tuple[float, float, float, float]]]:
    """Captions, dashed boxes and names; returns (field, page index, PDF box) per field."""
    if pdf.get_y() + _SIG_BLOCK_HEIGHT > pdf.page_break_trigger:
        pdf.add_page()
        _year_header(pdf, record, year, continued=True)
    pdf.ln(4)
    place = (year.school.commune or year.school.province)
    d = year.confirmed_on
    pdf.font("I", 10)
    pdf.cell(0, 16, nfc(f"{place}, ngày {d.day} tháng {d.month} năm {d.year}"), align="R",
             new_x="LMARGIN", new_y="NEXT")
    gap = (pdf.epw - 3 * FIELD_WIDTH) / 2
    columns = (
        ("Giáo viên chủ nhiệm", "(Ký và ghi rõ họ tên)", year.homeroom_teacher),
        ("Hiệu trưởng", "(Ký và ghi rõ họ tên)", year.principal),
        ("Xác nhận của nhà trường", "(Ký số, đóng dấu của đơn vị)", year.school.name),
    )
    top = pdf.get_y() + 4
    page = pdf.page - 1
    boxes = []
    for i, (caption, hint, name) in enumerate(columns):
        x = pdf.l_margin + i * (FIELD_WIDTH + gap)
        pdf.set_xy(x, top)
        pdf.font("B", 10)
        pdf.cell(FIELD_WIDTH, 14, caption, align="C")
        pdf.set_xy(x, top + 14)
        pdf.font("I", 8)
        pdf.set_text_color(*_MUTED)
        pdf.cell(FIELD_WIDTH, 12, hint, align="C")
        pdf.set_text_color(*_INK)
        box_top = top + 26
        pdf.set_draw_color(*_RULE)
        pdf.set_dash_pattern(dash=3, gap=2)
        pdf.rect(x, box_top, FIELD_WIDTH, FIELD_HEIGHT)
        pdf.set_dash_pattern()
        pdf.set_xy(x, box_top + FIELD_HEIGHT + 4)
        size = 10.0
        pdf.font("B", size)
        while size > 8 and pdf.get_string_width(nfc(name)) > FIELD_WIDTH - 2 * pdf.c_margin:
            size -= 0.5
            pdf.font("B", size)
        pdf.multi_cell(FIELD_WIDTH, 13, nfc(name), align="C")
        # PDF user space has its origin at the bottom left.
        boxes.append((SIGNATURE_FIELDS[i], page,
                      (x, pdf.h - box_top - FIELD_HEIGHT, x + FIELD_WIDTH, pdf.h - box_top)))
    pdf.set_xy(pdf.l_margin, top + 26 + FIELD_HEIGHT + 32)
    return boxes


def _year_pages(pdf: _Doc, record: RecordBook, year: SchoolYear
                ) -> list[tuple[str, int, tuple[float, float, float, float]]]:
    pdf.add_page()
    pdf.centered(f"NĂM HỌC {year.school_year} – LỚP {year.class_name}", "B", 13, h=18)
    pdf.ln(2)
    _year_header(pdf, record, year)
    if isinstance(year.results, PrimaryResults):
        _primary_tables(pdf, year.results)
    else:
        _secondary_tables(pdf, year.results)
    _result_lines(pdf, year)
    return _signature_block(pdf, record, year)


def _text(value: str) -> generic.TextStringObject:
    s = generic.TextStringObject(nfc(value))
    if not value.isascii():
        s.force_output_encoding = generic.TextStringEncoding.UTF16BE
    return s


def render_pdf(record: RecordBook, school_year: str | None = None) -> bytes:
    """The printable PDF of one school year (default: the latest) with empty signature fields."""
    year = record.year(school_year) if school_year else record.latest
    ident = record.identity
    pdf = _Doc(footer_text=nfc(f"Học bạ số {record.id} · Năm học {year.school_year} · "
                               f"Lần cấp {year.version}"))
    pdf.set_lang("vi")
    title = nfc(f"Học bạ – {ident.full_name} – Năm học {year.school_year}")
    pdf.set_title(title)
    pdf.set_creation_date(dt.datetime.combine(year.confirmed_on, dt.time(12, 0),
                                              tzinfo=dt.UTC))
    _identity_page(pdf, record, year)
    boxes = _year_pages(pdf, record, year)
    raw = bytes(pdf.output())

    # One clean revision: copy fpdf2's output into a new writer, add fields and metadata.
    writer = copy_into_new_writer(PdfFileReader(io.BytesIO(raw)))
    for name, page, box in boxes:
        append_signature_field(writer, SigFieldSpec(
            sig_field_name=name, on_page=page,
            box=tuple(round(v) for v in box),  # type: ignore[arg-type]
        ))
    info_ref = writer._info  # pyHanko keeps the imported /Info here
    info: generic.DictionaryObject = (
        info_ref.get_object() if info_ref is not None  # type: ignore[no-untyped-call]
        else generic.DictionaryObject())  # type: ignore[no-untyped-call]
    info[generic.NameObject("/Title")] = _text(title)
    info[generic.NameObject("/Author")] = _text(year.school.name)
    info[generic.NameObject("/Subject")] = _text(f"Học bạ số năm học {year.school_year}")
    info[generic.NameObject(INFO_RECORD_ID)] = _text(record.id)
    info[generic.NameObject(INFO_STUDENT)] = _text(ident.full_name)
    info[generic.NameObject(INFO_SCHOOL)] = _text(ident.school.name)
    info[generic.NameObject(INFO_SCHOOL_CODE)] = _text(ident.school.code)
    info[generic.NameObject(INFO_SCHOOL_YEAR)] = _text(year.school_year)
    info[generic.NameObject(INFO_YEAR_ID)] = _text(year.id)
    info[generic.NameObject(INFO_VERSION)] = _text(str(year.version))
    if info_ref is None:
        writer.set_info(info)
    out = io.BytesIO()
    writer.write(out)  # type: ignore[no-untyped-call]
    return out.getvalue()
