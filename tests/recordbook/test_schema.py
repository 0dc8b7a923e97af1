"""The record-book schema: strict, and every refusal names the line and the element.

Negative vectors edit a valid sample record as text, so the expected line
number is the line of the edited element.
"""
from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from ground.errors import UsageError
from ground.vocab import RECORD_NS
from ground.xmlsafe import XmlFormatError
from recordbook.sample import sample_record
from recordbook.xmlio import RecordSchemaError, schema, schema_bytes, to_xml, validate

NS = f"{{{RECORD_NS}}}"
DSIG = "http://www.w3.org/2000/09/xmldsig#"


@pytest.fixture(scope="module")
def base() -> str:
    return to_xml(sample_record(0, seed=7)).decode("utf-8")


@pytest.fixture(scope="module")
def secondary_base() -> str:
    return to_xml(sample_record(0, seed=7, level="secondary")).decode("utf-8")


def edit(xml: str, pattern: str, repl: str | Callable[[re.Match[str]], str], nth: int = 0
         ) -> tuple[bytes, int]:
    """Replace the ``nth`` match of ``pattern``; return the document and the edited line."""
    matches = list(re.finditer(pattern, xml))
    assert len(matches) > nth, f"pattern {pattern!r} not found"
    m = matches[nth]
    new = repl(m) if callable(repl) else m.expand(repl)
    same = len(os.path.commonprefix([m[0], new]))
    # the line of the element the edit lands in
    at = xml.rfind("<", 0, m.start() + same + 1) if same else m.start()
    line = xml.count("\n", 0, max(at, m.start())) + 1
    return (xml[:m.start()] + new + xml[m.end():]).encode("utf-8"), line


def refused(data: bytes) -> RecordSchemaError:
    with pytest.raises(RecordSchemaError) as e:
        validate(data)
    return e.value


@dataclass(frozen=True)
class Vector:
    pattern: str
    repl: str
    expected: tuple[str, ...]
    nth: int = 0


SCHEMA_VECTORS = {
    "unknown_subject_level": Vector(
        r"(<MonHoc>\s*<Ma>\w+</Ma>\s*<Ten>[^<]*</Ten>\s*)<MucDat>\w</MucDat>",
        r"\1<MucDat>A</MucDat>",
        (f"element {NS}MucDat", "'A' is not a valid level", "T, H, C")),
    "subject_level_on_quality_scale": Vector(
        r"(<PhamChat>\s*<Ma>\w+</Ma>\s*<Ten>[^<]*</Ten>\s*)<MucDat>\w</MucDat>",
        r"\1<MucDat>H</MucDat>",
        (f"element {NS}MucDat", "'H' is not a valid level", "T, Đ, C")),
    "score_of_11": Vector(
        r"<Diem>\d+</Diem>", "<Diem>11</Diem>",
        (f"element {NS}Diem: '11' is not a valid score (0–10",)),
    "score_with_two_decimals": Vector(
        r"<Diem>\d+</Diem>", "<Diem>9.25</Diem>",
        (f"element {NS}Diem: '9.25' is not a valid score",)),
    "negative_score": Vector(
        r"<Diem>\d+</Diem>", "<Diem>-1</Diem>", (f"element {NS}Diem: '-1' is not a valid score",)),
    "score_not_a_number": Vector(
        r"<Diem>\d+</Diem>", "<Diem>chín</Diem>", (f"element {NS}Diem: 'chín' is not a valid",)),
    "year_block_without_id": Vector(
        r'(<NamHoc) Id="[^"]*"', r"\1",
        (f"element {NS}NamHoc: attribute 'Id' is required but missing",
         "every school-year block needs an Id")),
    "identity_block_without_id": Vector(
        r'(<HocSinh) Id="[^"]*"', r"\1",
        (f"element {NS}HocSinh: attribute 'Id' is required but missing",)),
    "id_not_an_xml_name": Vector(
        r'(<NamHoc) Id="[^"]*"', r'\1 Id="2025 năm"',
        (f"element {NS}NamHoc, attribute 'Id'", "is not a valid Id")),
    "unknown_overall_result": Vector(
        r"<KetQuaGiaoDuc>[^<]*</KetQuaGiaoDuc>", "<KetQuaGiaoDuc>Giỏi</KetQuaGiaoDuc>",
        (f"element {NS}KetQuaGiaoDuc", "'Giỏi' is not a valid overall result",
         "Hoàn thành xuất sắc")),
    "unknown_promotion": Vector(
        r"<LenLop>[^<]*</LenLop>", "<LenLop>Lên lớp thẳng</LenLop>",
        (f"element {NS}LenLop", "not a valid promotion decision")),
    "personal_id_of_11_digits": Vector(
        r"<SoDinhDanh>(\d{11})\d</SoDinhDanh>", r"<SoDinhDanh>\1</SoDinhDanh>",
        (f"element {NS}SoDinhDanh", "personal ID number (12 digits)")),
    "grade_13": Vector(
        r'grade="\d+"', 'grade="13"', (f"element {NS}NamHoc, attribute 'grade'",)),
    "unknown_element_in_identity": Vector(
        r"<GioiTinh>", "<GhiChu>x</GhiChu><GioiTinh>",
        (f"element {NS}GhiChu", "not expected")),
    "missing_comment": Vector(
        r"<NhanXet>[^<]*</NhanXet>", "", (f"element {NS}MonHoc", "NhanXet")),
    "empty_name": Vector(
        r"<HoTen>[^<]*</HoTen>", "<HoTen></HoTen>", (f"element {NS}HoTen",)),
    "name_with_line_break": Vector(
        r"<HoTen>(\w+) ", "<HoTen>\\1\n ", (f"element {NS}HoTen",)),
    "same_school_year_twice": Vector(
        r'schoolYear="2024-2025"', 'schoolYear="2023-2024"',
        (f"element {NS}NamHoc", "appears more than once")),
    "subject_listed_twice": Vector(
        r"<Ma>Toan</Ma>\s*<Ten>Toán</Ten>", "<Ma>TiengViet</Ma><Ten>Toán</Ten>",
        ("'TiengViet'", "appears more than once")),
    "quality_missing": Vector(
        r"(?s)<PhamChat>(?:(?!</PhamChat>).)*</PhamChat>", "",
        (f"element {NS}PhamChatChuYeu", "Missing child element")),
}


@pytest.mark.parametrize("vector", SCHEMA_VECTORS.values(), ids=SCHEMA_VECTORS.keys())
def test_schema_refuses_with_line_and_element(base: str, vector: Vector) -> None:
    data, line = edit(base, vector.pattern, vector.repl, vector.nth)
    err = refused(data)
    assert isinstance(err, UsageError)
    message = err.render("en")
    for part in vector.expected:
        assert part in message, message
    assert message.startswith("line "), message
    reported = int(message.split(",")[0].split()[1])
    # the element itself, or (for content-model errors) its parent a few lines up
    assert line - 12 <= reported <= line + 1, (line, message)


def test_score_of_11_message_is_exact(base: str) -> None:
    data, line = edit(base, r"<Diem>\d+</Diem>", "<Diem>11</Diem>")
    message = refused(data).render("en")
    assert message.startswith(f"line {line}, element {NS}Diem: '11' is not a valid score (0–10")


def test_duplicate_id_between_blocks(base: str) -> None:
    first = re.search(r'<NamHoc Id="([^"]+)"', base)
    assert first
    data, line = edit(base, r'(<NamHoc) Id="[^"]+"', rf'\1 Id="{first[1]}"', nth=1)
    message = refused(data).render("en")
    assert message.startswith(f"line {line}, element {NS}NamHoc: duplicate Id '{first[1]}'")


def test_duplicate_id_of_identity_and_year(base: str) -> None:
    ident = re.search(r'<HocSinh Id="([^"]+)"', base)
    assert ident
    data, line = edit(base, r'(<NamHoc) Id="[^"]+"', rf'\1 Id="{ident[1]}"', nth=2)
    assert f"line {line}, element {NS}NamHoc: duplicate Id" in refused(data).render("en")


def test_duplicate_id_hidden_in_a_signature(base: str) -> None:
    """An Id reused inside ds:Signature (processContents=skip) is still caught: no ID wrapping."""
    year = re.search(r'<NamHoc Id="([^"]+)"', base)
    assert year
    wrapper = (f'<ds:Signature xmlns:ds="{DSIG}" Id="sig-1"><ds:Object>'
               f'<NamHoc xmlns="{RECORD_NS}" Id="{year[1]}"/></ds:Object></ds:Signature>')
    data = base.replace("</HocBa>", wrapper + "</HocBa>").encode()
    assert f"duplicate Id '{year[1]}'" in refused(data).render("en")


def test_signatures_after_the_blocks_are_allowed(base: str) -> None:
    sig = (f'<ds:Signature xmlns:ds="{DSIG}" Id="sig-teacher"><ds:SignedInfo/>'
           f'<ds:SignatureValue>AAAA</ds:SignatureValue></ds:Signature>')
    data = base.replace("</HocBa>", sig + sig.replace("sig-teacher", "sig-principal")
                        + "</HocBa>").encode()
    assert validate(data).getroot().tag == f"{NS}HocBa"


def test_signature_inside_a_year_block_is_refused(base: str) -> None:
    sig = f'<ds:Signature xmlns:ds="{DSIG}" Id="sig-x"/>'
    data = base.replace("<LenLop>", sig + "<LenLop>", 1).encode()
    assert f"element {{{DSIG}}}Signature" in refused(data).render("en")


def test_other_foreign_elements_at_the_end_are_refused(base: str) -> None:
    data = base.replace("</HocBa>", '<x:Note xmlns:x="urn:other">hi</x:Note></HocBa>').encode()
    assert "{urn:other}Note" in refused(data).render("en")


DTD_VECTORS = {
    "internal_subset_entity_bomb": (
        '<?xml version="1.0"?>\n<!DOCTYPE HocBa [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>\n'),
    "external_dtd": '<?xml version="1.0"?>\n<!DOCTYPE HocBa SYSTEM "http://127.0.0.1:9/x.dtd">\n',
    "external_entity": (
        '<?xml version="1.0"?>\n<!DOCTYPE HocBa [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'),
}


@pytest.mark.parametrize("prolog", DTD_VECTORS.values(), ids=DTD_VECTORS.keys())
def test_dtd_is_refused(base: str, prolog: str) -> None:
    body = base.split("?>", 1)[1].lstrip()
    with pytest.raises(XmlFormatError) as e:
        validate((prolog + body).encode())
    assert isinstance(e.value, UsageError)
    assert "DTD" in e.value.render("vi") and "DTD" in e.value.render("en")


def test_text_not_in_nfc_is_refused(base: str) -> None:
    name = re.search(r"<HoTen>([^<]+)</HoTen>", base)
    assert name
    nfd = unicodedata.normalize("NFD", name[1])
    assert nfd != name[1]
    data, line = edit(base, r"<HoTen>[^<]+</HoTen>", f"<HoTen>{nfd}</HoTen>")
    assert refused(data).render("en").startswith(f"line {line}, element {NS}HoTen: text is not in "
                                         "Unicode NFC")


def test_not_a_record_book() -> None:
    err = refused(b'<?xml version="1.0"?><HocBa xmlns="urn:other"/>')
    assert "not a record book" in err.render("en")


def test_malformed_xml_is_a_usage_error() -> None:
    with pytest.raises(UsageError) as e:
        validate(b"<HocBa xmlns='urn:hocba:hocbaso:1'><HocSinh></HocBa>")
    assert e.value.render("en").startswith("XML is not well-formed: ")
    assert e.value.render("vi").startswith("XML không đúng cú pháp: ")
    assert "(line 1)" in e.value.render("en") and "(dòng 1)" in e.value.render("vi")


def test_all_problems_are_kept(base: str) -> None:
    data = re.sub(r"<Diem>\d+</Diem>", "<Diem>11</Diem>", base).encode()
    err = refused(data)
    assert len(err.problems) > 1
    assert f"(and {len(err.problems) - 1} more problems)" in err.render("en")


# --- Record rules: what the XSD cannot say --------------------------------------------------

RULE_VECTORS = {
    "score_on_an_untested_subject": Vector(
        r"(<Ma>DaoDuc</Ma>\s*<Ten>[^<]*</Ten>\s*<MucDat>\w</MucDat>)", r"\1<Diem>9</Diem>",
        ("Diem", "subject DaoDuc has no periodic test")),
    "tested_subject_without_score": Vector(
        r"(<Ma>Toan</Ma>\s*<Ten>[^<]*</Ten>\s*<MucDat>\w</MucDat>)\s*<Diem>\d+</Diem>", r"\1",
        ("Diem", "subject Toan needs its periodic test score")),
    "primary_block_in_grade_7": Vector(
        r'grade="3"', 'grade="7"', ("grade", "must be grade 1–5")),
    "school_year_not_consecutive": Vector(
        r'schoolYear="2025-2026"', 'schoolYear="2025-2027"', ("two consecutive years",)),
    "years_out_of_order": Vector(
        r'schoolYear="2024-2025"', 'schoolYear="2022-2023"', ("oldest first",)),
}


@pytest.mark.parametrize("vector", RULE_VECTORS.values(), ids=RULE_VECTORS.keys())
def test_rules_refuse_with_the_year_block(base: str, vector: Vector) -> None:
    data, _ = edit(base, vector.pattern, vector.repl, vector.nth)
    message = refused(data).render("en")
    assert f"element {NS}NamHoc (Id " in message, message
    for part in vector.expected:
        assert part in message, message
    validate(data, rules=False)  # schema-valid: only the rules object


def test_overall_result_must_follow_from_levels(base: str) -> None:
    def swap(m: re.Match[str]) -> str:
        new = "Hoàn thành" if m[1] == "Hoàn thành xuất sắc" else "Hoàn thành xuất sắc"
        return f"<KetQuaGiaoDuc>{new}</KetQuaGiaoDuc>"

    data, _ = edit(base, r"<KetQuaGiaoDuc>([^<]*)</KetQuaGiaoDuc>", swap, nth=2)
    message = refused(data).render("en")
    assert "KetQuaGiaoDuc" in message and "does not follow from the levels and scores" in message


def test_promotion_must_match_the_result(base: str) -> None:
    data, _ = edit(base, r"<LenLop>Được lên lớp</LenLop>", "<LenLop>Ở lại lớp</LenLop>")
    assert "contradicts results that pass the year" in refused(data).render("en")


def test_secondary_year_average_must_be_computed(secondary_base: str) -> None:
    def bump(m: re.Match[str]) -> str:
        value = float(m[1])
        return f"<DiemCaNam>{value - 1 if value >= 1 else value + 1:.1f}</DiemCaNam>"

    data, _ = edit(secondary_base, r"<DiemCaNam>([\d.]+)</DiemCaNam>", bump)
    message = refused(data).render("en")
    assert "DiemCaNam" in message and "(HK1 + 2×HK2)/3" in message


def test_schema_is_a_compilable_xsd_1_0() -> None:
    assert schema_bytes().startswith(b"<?xml")
    assert schema() is schema()  # cached per thread
