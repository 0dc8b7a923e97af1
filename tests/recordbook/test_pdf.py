"""The printable PDF: Vietnamese text that tools can read, empty signature fields, identity info."""
from __future__ import annotations

import io
import itertools
import re
import subprocess
import time
import unicodedata
from pathlib import Path

import pytest
from fpdf import FPDF
from lxml import etree
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.fields import enumerate_sig_fields

from recordbook.model import RecordBook
from recordbook.pdf import (
    FIELD_HEIGHT,
    FIELD_WIDTH,
    SIGNATURE_FIELDS,
    read_pdf_record_meta,
    read_pdf_year_meta,
    render_pdf,
)
from recordbook.xmlio import identity_element, to_xml, validate, year_elements
from tests.tooling import require_tool

NOT_PRINTED = {"Ma"}  # subject/quality codes: machine identifiers, not shown on paper


def nfc_collapsed(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split())


def pdftotext(path: Path, *args: str) -> str:
    tool = require_tool("pdftotext")
    out = subprocess.run([tool, "-enc", "UTF-8", *args, str(path), "-"], check=True,
                         capture_output=True)
    return out.stdout.decode("utf-8")


def printed_strings(xml: bytes, school_year: str | None = None) -> list[str]:
    """The Vietnamese strings of the identity block and of the year the PDF is for."""
    root = validate(xml).getroot()
    years = year_elements(root)
    year = (max(years, key=lambda y: y.get("schoolYear", "")) if school_year is None
            else next(y for y in years if y.get("schoolYear") == school_year))
    out = []
    for block in (identity_element(root), year):
        for el in block.iter():
            if not isinstance(el.tag, str) or etree.QName(el).localname in NOT_PRINTED:
                continue
            text = (el.text or "").strip()
            if text and any(c.isalpha() for c in text):
                out.append(text)
    return out


def missing_strings(pdf: Path, xml: bytes, school_year: str | None = None) -> list[str]:
    text = nfc_collapsed(pdftotext(pdf))
    return [s for s in printed_strings(xml, school_year) if nfc_collapsed(s) not in text]


@pytest.mark.slow
def test_every_sample_pdf_has_the_pupils_name_and_the_xml_strings(sample_dir: Path) -> None:
    pdfs = sorted(sample_dir.glob("*.pdf"))
    assert len(pdfs) == 40
    problems = {}
    for pdf in pdfs:
        xml = pdf.with_suffix(".xml").read_bytes()
        name = identity_element(validate(xml).getroot()).findtext(
            "{urn:hocba:hocbaso:1}HoTen")
        assert name and nfc_collapsed(name) in nfc_collapsed(pdftotext(pdf)), pdf.name
        if missing := missing_strings(pdf, xml):
            problems[pdf.name] = missing
    assert problems == {}


@pytest.mark.slow
def test_secondary_pdfs_have_the_xml_strings(secondary_dir: Path) -> None:
    problems = {}
    for pdf in sorted(secondary_dir.glob("*.pdf")):
        if missing := missing_strings(pdf, pdf.with_suffix(".xml").read_bytes()):
            problems[pdf.name] = missing
    assert problems == {}


@pytest.mark.slow
def test_dates_and_scores_are_printed_the_vietnamese_way(sample_dir: Path) -> None:
    pdf = min(sample_dir.glob("*.pdf"))
    root = validate(pdf.with_suffix(".xml").read_bytes()).getroot()
    birth = identity_element(root).findtext("{urn:hocba:hocbaso:1}NgaySinh")
    assert birth
    y, m, d = birth.split("-")
    assert f"{d}/{m}/{y}" in pdftotext(pdf)


def test_an_earlier_reissued_year_prints_its_own_block(tmp_path: Path) -> None:
    from recordbook.sample import sample_class

    record, year = next((r, y) for seed in range(10) for r in sample_class(40, seed=seed)
                        for y in r.years if y.version == 2)
    path = tmp_path / "year.pdf"
    path.write_bytes(render_pdf(record, year.school_year))
    assert missing_strings(path, to_xml(record), year.school_year) == []
    text = nfc_collapsed(pdftotext(path))
    assert "Lần cấp: 2" in text
    meta = read_pdf_year_meta(PdfFileReader(io.BytesIO(path.read_bytes())))
    assert meta and meta["school_year"] == year.school_year and meta["version"] == "2"
    assert meta["year_id"] == year.id


@pytest.fixture(scope="module")
def one(primary_class: list[RecordBook]) -> tuple[RecordBook, bytes]:
    record = primary_class[5]
    return record, render_pdf(record)


def test_three_empty_signature_fields_at_the_foot_of_the_year_page(
        one: tuple[RecordBook, bytes], tmp_path: Path) -> None:
    _, data = one
    reader = PdfFileReader(io.BytesIO(data))
    fields = list(enumerate_sig_fields(reader))
    assert [name for name, _, _ in fields] == list(SIGNATURE_FIELDS)
    pages = reader.root["/Pages"]
    last_page = pages["/Kids"][-1]
    media_box = last_page.get("/MediaBox") or pages["/MediaBox"]
    page_width, page_height = float(media_box[2]), float(media_box[3])
    rects = []
    for name, value, ref in fields:
        assert value is None, f"{name} is not empty"
        field = ref.get_object()
        assert field["/FT"] == "/Sig"
        x1, y1, x2, y2 = (float(v) for v in field["/Rect"])
        assert x2 - x1 >= FIELD_WIDTH - 1 and y2 - y1 >= FIELD_HEIGHT - 1
        assert 0 <= x1 and x2 <= page_width and 0 < y1 < y2 < page_height
        annots = [a.get_object() for a in last_page["/Annots"]]
        assert any(a.get("/T") == name for a in annots), f"{name} not on the last page"
        rects.append((name, (x1, y1, x2, y2)))
    # side by side, not overlapping
    for (_, a), (_, b) in itertools.pairwise(rects):
        assert a[2] <= b[0]

    # Nothing printed inside a field; each caption above its field, each name below.
    path = tmp_path / "r.pdf"
    path.write_bytes(data)
    n_pages = len(reader.root["/Pages"]["/Kids"])
    html = pdftotext(path, "-bbox", "-f", str(n_pages), "-l", str(n_pages))
    words = [(float(a), float(b), float(c), float(d), w) for a, b, c, d, w in re.findall(
        r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>',
        html)]
    assert words
    captions = {"Sig_teacher": "Giáo", "Sig_principal": "Hiệu", "Sig_seal": "Xác"}
    for name, (x1, y1, x2, y2) in rects:
        top, bottom = page_height - y2, page_height - y1  # pdftotext: origin top left
        inside = [w for w in words if w[0] < x2 and w[2] > x1 and w[1] < bottom and w[3] > top]
        assert inside == [], f"text printed inside {name}: {inside}"
        above = [w for w in words if w[4] == captions[name] and x1 <= w[0] and w[2] <= x2
                 and w[3] <= top and top - w[3] < 40]
        assert above, f"no caption '{captions[name]}' right above {name}"
        below = [w for w in words if x1 <= w[0] and w[2] <= x2 and w[1] >= bottom
                 and w[1] - bottom < 25]
        assert below, f"no name printed right below {name}"


def test_pdf_is_one_clean_revision_with_embedded_subset_fonts(
        one: tuple[RecordBook, bytes], tmp_path: Path) -> None:
    _, data = one
    reader = PdfFileReader(io.BytesIO(data))
    assert reader.xrefs.total_revisions == 1
    assert reader.root["/Lang"] == "vi"
    path = tmp_path / "r.pdf"
    path.write_bytes(data)
    tool = require_tool("pdffonts")
    lines = subprocess.run([tool, str(path)], check=True, capture_output=True,
                           text=True).stdout.splitlines()[2:]
    assert lines
    for line in lines:
        assert "BeVietnamPro" in line
        assert re.search(r"\byes\s+yes\s+yes\b", line), line  # embedded, subset, ToUnicode


def test_record_identity_in_the_document_info(one: tuple[RecordBook, bytes]) -> None:
    record, data = one
    reader = PdfFileReader(io.BytesIO(data))
    assert read_pdf_record_meta(reader) == {
        "student": record.identity.full_name,
        "school": record.identity.school.name,
        "school_year": "2025-2026",
        "record_id": record.id,
        "school_code": record.identity.school.code,
    }
    info = reader.trailer_view["/Info"]
    assert str(info["/Title"]) == f"Học bạ – {record.identity.full_name} – Năm học 2025-2026"
    assert str(info["/HocbaYearId"]) == record.latest.id
    assert str(info["/HocbaVersion"]) == str(record.latest.version)
    student = info.raw_get("/HocbaStudent")
    assert isinstance(student, generic.TextStringObject)
    if not record.identity.full_name.isascii():
        assert student.autodetected_encoding == generic.TextStringEncoding.UTF16BE


def test_meta_of_a_historical_revision(one: tuple[RecordBook, bytes]) -> None:
    """A later revision may rewrite /Info; the revision a signature covers still says the truth."""
    record, data = one
    w = IncrementalPdfFileWriter(io.BytesIO(data))
    info = w.trailer["/Info"]
    info["/HocbaStudent"] = generic.TextStringObject("Người Khác")
    w.update_container(info)
    out = io.BytesIO()
    w.write(out)
    reader = PdfFileReader(io.BytesIO(out.getvalue()))
    assert reader.xrefs.total_revisions == 2
    assert read_pdf_record_meta(reader)["student"] == "Người Khác"  # type: ignore[index]
    first = read_pdf_record_meta(reader.get_historical_resolver(0))
    assert first and first["student"] == record.identity.full_name


def test_meta_is_none_for_other_pdfs() -> None:
    pdf = FPDF()
    pdf.add_page()
    reader = PdfFileReader(io.BytesIO(bytes(pdf.output())))
    assert read_pdf_record_meta(reader) is None


@pytest.mark.slow
def test_pdf_generation_is_fast(primary_class: list[RecordBook]) -> None:
    render_pdf(primary_class[0])  # warm up (fonts)
    started = time.perf_counter()
    for record in primary_class[:5]:
        render_pdf(record)
    per_pdf = (time.perf_counter() - started) / 5
    # typically ~0.1 s on one core; the bound leaves room for loaded CI machines
    assert per_pdf < 1.0, f"{per_pdf:.2f} s per PDF"
