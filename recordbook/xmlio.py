"""Reading, writing and validating record-book XML (``recordbook.xsd``).

Everything is parsed through :func:`hocba.xmlsafe.parse_xml`, the project's one
hardened parser (no DTD, no entities, no network). Validation is strict: the
XSD, unique ``Id`` values across the whole document (signatures included),
Unicode NFC text, and the record rules of :mod:`records.rules`. Problems are
reported as :class:`RecordSchemaError` naming the line and the element.
"""
from __future__ import annotations

import datetime as dt
import re
import threading
import unicodedata
from collections.abc import Iterable
from decimal import Decimal
from importlib import resources
from typing import TypeAlias

from lxml import etree

from ground.errors import UsageError
from ground.findings import Finding
from ground.vocab import RECORD_NS, nfc
from ground.xmlsafe import parse_xml
from recordbook.model import (
    AssessedSubject,
    Assessment,
    Identity,
    Parent,
    PrimaryResults,
    RecordBook,
    School,
    SchoolYear,
    ScoredSubject,
    SecondaryResults,
    SubjectResult,
)
from recordbook.rules import check_record

DSIG_NS = "http://www.w3.org/2000/09/xmldsig#"
SCHEMA_FILE = "recordbook.xsd"

ROOT_TAG = f"{{{RECORD_NS}}}HocBa"
IDENTITY_TAG = f"{{{RECORD_NS}}}HocSinh"
YEAR_TAG = f"{{{RECORD_NS}}}NamHoc"

XmlInput: TypeAlias = bytes | etree._ElementTree | etree._Element


class RecordSchemaError(UsageError):
    """The XML is not a valid record book; the message names the line and the element."""

    def __init__(self, problems: "list[Finding]") -> None:
        self.problems = tuple(problems)
        more = len(problems) - 1
        if more:
            super().__init__("recordbook.err.schema_more", detail=problems[0], more=more,
                             s="s" if more > 1 else "")
        else:
            super().__init__("recordbook.err.schema", detail=problems[0])


def _q(local: str) -> str:
    return f"{{{RECORD_NS}}}{local}"


# --- The schema ----------------------------------------------------------------------------

_local = threading.local()


def schema() -> etree.XMLSchema:
    """The compiled record-book schema (one per thread: lxml validators keep per-call state)."""
    s: etree.XMLSchema | None = getattr(_local, "schema", None)
    if s is None:
        data = resources.files("recordbook").joinpath(SCHEMA_FILE).read_bytes()
        s = etree.XMLSchema(parse_xml(data))
        _local.schema = s
    return s


def schema_bytes() -> bytes:
    return resources.files("recordbook").joinpath(SCHEMA_FILE).read_bytes()


# --- Validation ----------------------------------------------------------------------------

_SCORE_ELEMENTS = {"Diem", "DiemHK1", "DiemHK2", "DiemCaNam"}
# elements and attributes whose values have a description (catalog msg.record_desc_<name>)
_DESCRIPTIONS: frozenset[str] = frozenset({
    "GioiTinh",
    "Id",
    "KetQuaGiaoDuc",
    "KetQuaHocTap",
    "KetQuaRenLuyen",
    "LenLop",
    "Lop",
    "Ma",
    "MaTruong",
    "MucDat",
    "NgayNhapHoc",
    "NgaySinh",
    "NgayXacNhan",
    "SoDinhDanh",
    "SoNgayNghi",
    "grade",
    "quanHe",
    "schoolYear",
    "version",
})
_MSG = re.compile(r"^Element '(?P<el>[^']+)'(?:, attribute '(?P<attr>[^']+)')?: (?P<rest>.*?)\.?$",
                  re.DOTALL)
_FACET = re.compile(r"^\[facet '(?P<facet>\w+)'\] The value '(?P<value>.*?)' ")
_ENUM_SET = re.compile(r"the set \{(?P<set>.*)\}")
_ATOMIC = re.compile(r"^'(?P<value>.*?)' is not a valid value of the (?:atomic|local atomic) type")
_UNIQUE = re.compile(r"Duplicate key-sequence \[(?P<value>.*?)\] in unique identity-constraint")


def _local_name(clark: str) -> str:
    return clark.rsplit("}", 1)[-1]


def _explain(entry: etree._LogEntry) -> Finding:
    """Turn one libxml2 schema error into one clear line (libxml2's own words where we
    have none: a detail as libxml2 wrote it)."""
    m = _MSG.match(entry.message)
    if not m:
        return Finding.of("record_line", line=entry.line, detail=entry.message)
    el, attr, rest = m["el"], m["attr"], m["rest"]
    subject = _local_name(attr or el)
    desc = Finding.of("record_desc_" + (subject if subject in _DESCRIPTIONS else "value"))
    text: Finding | str = rest
    if f := _FACET.match(rest):
        value = f["value"]
        if subject in _SCORE_ELEMENTS:
            text = Finding.of("record_bad_score", value=value)
        elif f["facet"] == "enumeration" and (s := _ENUM_SET.search(rest)):
            choices = ", ".join(c.strip().strip("'") for c in s["set"].split(","))
            text = Finding.of("record_bad_choice", value=value, desc=desc, choices=choices)
        elif subject in _DESCRIPTIONS:
            text = Finding.of("record_bad_value", value=value, desc=desc)
        elif f["facet"] in ("pattern", "minLength"):
            text = Finding.of("record_bad_text", value=value)
        elif f["facet"] == "maxLength":
            text = Finding.of("record_too_long")
    elif a := _ATOMIC.match(rest):
        value = a["value"]
        text = (Finding.of("record_bad_score", value=value) if subject in _SCORE_ELEMENTS
                else Finding.of("record_bad_value", value=value, desc=desc))
    elif "is required but missing" in rest:
        text = rest.replace("The attribute", "attribute")
        if attr is None and _local_name(el) == "NamHoc" and "'Id'" in rest:
            text = Finding.of("record_year_needs_id", detail=text)
    elif u := _UNIQUE.search(rest):
        text = Finding.of("record_not_unique", value=u["value"])
    if attr:
        return Finding.of("record_at_attr", line=entry.line, element=el, attr=attr, detail=text)
    return Finding.of("record_at", line=entry.line, element=el, detail=text)


def _check_ids(root: etree._Element) -> list[Finding]:
    """Every ``Id`` in the document, signatures included, must be unique (no ID wrapping)."""
    seen: dict[str, int] = {}
    problems = []
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        value = el.get("Id")
        if value is None:
            continue
        if value in seen:
            problems.append(Finding.of("record_duplicate_id", line=el.sourceline,
                                       element=el.tag, value=value, first=seen[value]))
        else:
            seen[value] = el.sourceline or 0
    return problems


def _check_nfc(root: etree._Element) -> list[Finding]:
    # Fast path: collect every text and attribute value in one XPath call (C) and
    # check each; only when something is not NFC walk the tree to name the element.
    values = [t for t in root.xpath("//text() | //@*") if isinstance(t, str)]
    if all(unicodedata.is_normalized("NFC", v) for v in values):
        return []
    problems = []
    for el in root.iter():
        if not isinstance(el.tag, str) or el.tag.startswith(f"{{{DSIG_NS}}}"):
            continue
        texts = [el.text or "", *el.attrib.values()]
        if any(not unicodedata.is_normalized("NFC", t) for t in texts):
            problems.append(Finding.of("record_not_nfc", line=el.sourceline, element=el.tag))
    return problems


def validate(data: bytes, *, rules: bool = True) -> etree._ElementTree:
    """Parse and validate a record book; return the tree or raise :class:`RecordSchemaError`.

    A DTD, entities or malformed XML are refused by the hardened parser
    (:class:`hocba.xmlsafe.XmlFormatError`, also a :class:`UsageError`).
    """
    tree = parse_xml(data)
    validate_tree(tree, rules=rules)
    return tree


def validate_tree(tree: etree._ElementTree | etree._Element, *, rules: bool = True) -> None:
    """Validate an already parsed record book (parsed with :func:`hocba.xmlsafe.parse_xml`)."""
    root = tree.getroot() if isinstance(tree, etree._ElementTree) else tree
    if root.tag != ROOT_TAG:
        raise RecordSchemaError([Finding.of("record_not_root", line=root.sourceline,
                                            element=root.tag, expected=ROOT_TAG)])
    problems = _check_ids(root)
    if problems:
        raise RecordSchemaError(problems)
    s = schema()
    if not s.validate(root):
        seen: set[tuple[int, str]] = set()
        for entry in s.error_log:
            m = _MSG.match(entry.message)
            key = (entry.line, m["el"] + (m["attr"] or "") if m else entry.message)
            if key in seen:
                continue
            seen.add(key)
            problems.append(_explain(entry))
        raise RecordSchemaError(problems or [Finding.of("record_schema_mismatch")])
    problems = _check_nfc(root)
    if problems:
        raise RecordSchemaError(problems)
    if rules:
        record = _build(root)
        violations = check_record(record)
        if violations:
            lines = {y.get("Id"): y for y in root.iterchildren(YEAR_TAG)}
            for v in violations:
                el = lines.get(v.year_id) if v.year_id else root
                line = el.sourceline if el is not None else root.sourceline
                problems.append(Finding.of("record_rule", line=line, element=YEAR_TAG,
                                           year=v.year_id, field=v.element, detail=v.problem))
            raise RecordSchemaError(problems)


# --- Locating blocks -----------------------------------------------------------------------

def is_record_book(root: etree._Element) -> bool:
    return bool(root.tag == ROOT_TAG)


def identity_element(root: etree._Element) -> etree._Element:
    el = root.find(IDENTITY_TAG)
    if el is None:
        raise RecordSchemaError([Finding.of("record_no_identity", line=root.sourceline,
                                            element=root.tag)])
    return el


def year_elements(root: etree._Element) -> list[etree._Element]:
    return list(root.iterchildren(YEAR_TAG))


def record_summary(
    identity: etree._Element, years: Iterable[etree._Element] = ()
) -> dict[str, str | None]:
    """``{"student", "school", "school_year"}`` from an identity block and year blocks.

    Pass only elements you have established as signed (e.g. the elements the
    verified references point at); nothing outside them is read. ``school_year``
    is the latest of the given years, or None when no year is given.
    """
    if identity.tag != IDENTITY_TAG:
        raise RecordSchemaError([Finding.of("record_not_identity", line=identity.sourceline,
                                            element=identity.tag, expected=IDENTITY_TAG)])
    latest: str | None = None
    for y in years:
        if y.tag != YEAR_TAG:
            raise RecordSchemaError([Finding.of("record_not_year", line=y.sourceline,
                                                element=y.tag, expected=YEAR_TAG)])
        sy = y.get("schoolYear")
        if sy and (latest is None or sy > latest):
            latest = sy
    student = identity.findtext(_q("HoTen"))
    school = identity.findtext(f"{_q('Truong')}/{_q('TenTruong')}")
    code = identity.findtext(f"{_q('Truong')}/{_q('MaTruong')}")
    return {
        "student": nfc(student.strip()) if student else None,
        "school": nfc(school.strip()) if school else None,
        "school_year": latest,
        "school_code": code.strip() if code else None,
    }


# --- Reading -------------------------------------------------------------------------------

def from_xml(src: XmlInput) -> RecordBook:
    """Validate (schema, Ids, NFC, rules) and read a record book."""
    if isinstance(src, (bytes, bytearray)):
        root = validate(bytes(src)).getroot()
    else:
        root = src.getroot() if isinstance(src, etree._ElementTree) else src
        validate_tree(root)
    return _build(root)


def _text(el: etree._Element, local: str) -> str:
    value: str | None = el.findtext(_q(local))
    if value is None:
        raise RecordSchemaError([Finding.of("record_missing", line=el.sourceline,
                                            element=el.tag, name=local)])
    return value


def _opt(el: etree._Element, local: str) -> str | None:
    value: str | None = el.findtext(_q(local))
    return value


def _date(value: str) -> dt.date:
    return dt.date.fromisoformat(value)


def _school(el: etree._Element) -> School:
    return School(name=_text(el, "TenTruong"), code=_text(el, "MaTruong"),
                  province=_text(el, "TinhThanh"), commune=_opt(el, "XaPhuong"))


def _identity(el: etree._Element) -> Identity:
    enrol = _opt(el, "NgayNhapHoc")
    truong = el.find(_q("Truong"))
    assert truong is not None  # guaranteed by the schema
    return Identity(
        id=el.get("Id", ""),
        full_name=_text(el, "HoTen"),
        sex=_text(el, "GioiTinh"),
        birth_date=_date(_text(el, "NgaySinh")),
        ethnicity=_text(el, "DanToc"),
        nationality=_text(el, "QuocTich"),
        place_of_birth=_text(el, "NoiSinh"),
        home_town=_text(el, "QueQuan"),
        address=_text(el, "NoiO"),
        parents=tuple(
            Parent(relation=p.get("quanHe", ""), name=_text(p, "HoTen"),
                   occupation=_opt(p, "NgheNghiep"))
            for p in el.iterchildren(_q("PhuHuynh"))
        ),
        personal_id=_text(el, "SoDinhDanh"),
        school=_school(truong),
        register_number=_text(el, "SoDangBo"),
        enrolment_date=_date(enrol) if enrol else None,
    )


def _assessments(parent: etree._Element | None, tag: str) -> tuple[Assessment, ...]:
    if parent is None:
        return ()
    return tuple(
        Assessment(code=_text(a, "Ma"), name=_text(a, "Ten"), level=_text(a, "MucDat"),
                   comment=_text(a, "NhanXet"))
        for a in parent.iterchildren(_q(tag))
    )


def _primary(el: etree._Element) -> PrimaryResults:
    subjects = []
    for s in el.iterchildren(_q("MonHoc")):
        score = _opt(s, "Diem")
        subjects.append(SubjectResult(code=_text(s, "Ma"), name=_text(s, "Ten"),
                                      level=_text(s, "MucDat"), comment=_text(s, "NhanXet"),
                                      score=Decimal(score) if score is not None else None))
    return PrimaryResults(
        subjects=tuple(subjects),
        qualities=_assessments(el.find(_q("PhamChatChuYeu")), "PhamChat"),
        general_competencies=_assessments(el.find(_q("NangLucChung")), "NangLuc"),
        specific_competencies=_assessments(el.find(_q("NangLucDacThu")), "NangLuc"),
        overall=_text(el, "KetQuaGiaoDuc"),
    )


def _secondary(el: etree._Element) -> SecondaryResults:
    return SecondaryResults(
        scored=tuple(
            ScoredSubject(code=_text(s, "Ma"), name=_text(s, "Ten"),
                          semester1=Decimal(_text(s, "DiemHK1")),
                          semester2=Decimal(_text(s, "DiemHK2")),
                          year=Decimal(_text(s, "DiemCaNam")), comment=_opt(s, "NhanXet"))
            for s in el.iterchildren(_q("MonHoc"))
        ),
        assessed=tuple(
            AssessedSubject(code=_text(s, "Ma"), name=_text(s, "Ten"),
                            result=_text(s, "MucDat"), comment=_opt(s, "NhanXet"))
            for s in el.iterchildren(_q("MonDanhGia"))
        ),
        learning=_text(el, "KetQuaHocTap"),
        conduct=_text(el, "KetQuaRenLuyen"),
    )


def _year(el: etree._Element) -> SchoolYear:
    primary = el.find(_q("TieuHoc"))
    secondary = el.find(_q("TrungHoc"))
    results: PrimaryResults | SecondaryResults
    if primary is not None:
        results = _primary(primary)
    elif secondary is not None:
        results = _secondary(secondary)
    else:
        raise RecordSchemaError([Finding.of("record_no_results", line=el.sourceline,
                                            element=el.tag)])
    truong = el.find(_q("Truong"))
    assert truong is not None  # guaranteed by the schema
    absent = _opt(el, "SoNgayNghi")
    return SchoolYear(
        id=el.get("Id", ""),
        school_year=el.get("schoolYear", ""),
        grade=int(el.get("grade", "0")),
        version=int(el.get("version", "0")),
        class_name=_text(el, "Lop"),
        school=_school(truong),
        results=results,
        awards=tuple(a.text or "" for a in el.iterchildren(_q("KhenThuong"))),
        promotion=_text(el, "LenLop"),
        homeroom_teacher=_text(el, "GiaoVienChuNhiem"),
        principal=_text(el, "HieuTruong"),
        confirmed_on=_date(_text(el, "NgayXacNhan")),
        days_absent=int(absent) if absent is not None else None,
    )


def _build(root: etree._Element) -> RecordBook:
    return RecordBook(
        id=root.get("Id", ""),
        identity=_identity(identity_element(root)),
        years=tuple(_year(y) for y in year_elements(root)),
    )


# --- Writing -------------------------------------------------------------------------------

def _fmt_score(value: Decimal, *, always_decimal: bool) -> str:
    q = value.quantize(Decimal("0.1"))
    if not always_decimal and q == q.to_integral_value():
        return str(int(q))
    return f"{q:.1f}"


class _Builder:
    def __init__(self) -> None:
        self.nsmap = {None: RECORD_NS}

    def sub(self, parent: etree._Element, local: str, text: str | None = None,
            **attrs: str) -> etree._Element:
        el = etree.SubElement(parent, _q(local), {k: nfc(v) for k, v in attrs.items()})
        if text is not None:
            el.text = nfc(text)
        return el


def _write_school(b: _Builder, parent: etree._Element, school: School) -> None:
    el = b.sub(parent, "Truong")
    b.sub(el, "TenTruong", school.name)
    b.sub(el, "MaTruong", school.code)
    if school.commune:
        b.sub(el, "XaPhuong", school.commune)
    b.sub(el, "TinhThanh", school.province)


def _write_identity(b: _Builder, root: etree._Element, ident: Identity) -> None:
    el = b.sub(root, "HocSinh", Id=ident.id)
    b.sub(el, "HoTen", ident.full_name)
    b.sub(el, "GioiTinh", ident.sex)
    b.sub(el, "NgaySinh", ident.birth_date.isoformat())
    b.sub(el, "DanToc", ident.ethnicity)
    b.sub(el, "QuocTich", ident.nationality)
    b.sub(el, "NoiSinh", ident.place_of_birth)
    b.sub(el, "QueQuan", ident.home_town)
    b.sub(el, "NoiO", ident.address)
    for p in ident.parents:
        pe = b.sub(el, "PhuHuynh", quanHe=p.relation)
        b.sub(pe, "HoTen", p.name)
        if p.occupation:
            b.sub(pe, "NgheNghiep", p.occupation)
    b.sub(el, "SoDinhDanh", ident.personal_id)
    _write_school(b, el, ident.school)
    b.sub(el, "SoDangBo", ident.register_number)
    if ident.enrolment_date:
        b.sub(el, "NgayNhapHoc", ident.enrolment_date.isoformat())


def _write_assessments(b: _Builder, parent: etree._Element, wrapper: str, tag: str,
                       items: tuple[Assessment, ...]) -> None:
    w = b.sub(parent, wrapper)
    for a in items:
        el = b.sub(w, tag)
        b.sub(el, "Ma", a.code)
        b.sub(el, "Ten", a.name)
        b.sub(el, "MucDat", a.level)
        b.sub(el, "NhanXet", a.comment)


def _write_year(b: _Builder, root: etree._Element, y: SchoolYear) -> None:
    el = b.sub(root, "NamHoc", Id=y.id, schoolYear=y.school_year, grade=str(y.grade),
               version=str(y.version))
    b.sub(el, "Lop", y.class_name)
    _write_school(b, el, y.school)
    if y.days_absent is not None:
        b.sub(el, "SoNgayNghi", str(y.days_absent))
    res = y.results
    if isinstance(res, PrimaryResults):
        th = b.sub(el, "TieuHoc")
        for s in res.subjects:
            se = b.sub(th, "MonHoc")
            b.sub(se, "Ma", s.code)
            b.sub(se, "Ten", s.name)
            b.sub(se, "MucDat", s.level)
            if s.score is not None:
                b.sub(se, "Diem", _fmt_score(s.score, always_decimal=False))
            b.sub(se, "NhanXet", s.comment)
        _write_assessments(b, th, "PhamChatChuYeu", "PhamChat", res.qualities)
        _write_assessments(b, th, "NangLucChung", "NangLuc", res.general_competencies)
        _write_assessments(b, th, "NangLucDacThu", "NangLuc", res.specific_competencies)
        b.sub(th, "KetQuaGiaoDuc", res.overall)
    else:
        tr = b.sub(el, "TrungHoc")
        for sc in res.scored:
            se = b.sub(tr, "MonHoc")
            b.sub(se, "Ma", sc.code)
            b.sub(se, "Ten", sc.name)
            b.sub(se, "DiemHK1", _fmt_score(sc.semester1, always_decimal=True))
            b.sub(se, "DiemHK2", _fmt_score(sc.semester2, always_decimal=True))
            b.sub(se, "DiemCaNam", _fmt_score(sc.year, always_decimal=True))
            if sc.comment:
                b.sub(se, "NhanXet", sc.comment)
        for a in res.assessed:
            se = b.sub(tr, "MonDanhGia")
            b.sub(se, "Ma", a.code)
            b.sub(se, "Ten", a.name)
            b.sub(se, "MucDat", a.result)
            if a.comment:
                b.sub(se, "NhanXet", a.comment)
        b.sub(tr, "KetQuaHocTap", res.learning)
        b.sub(tr, "KetQuaRenLuyen", res.conduct)
    for award in y.awards:
        b.sub(el, "KhenThuong", award)
    b.sub(el, "LenLop", y.promotion)
    b.sub(el, "GiaoVienChuNhiem", y.homeroom_teacher)
    b.sub(el, "HieuTruong", y.principal)
    b.sub(el, "NgayXacNhan", y.confirmed_on.isoformat())


def to_element(record: RecordBook) -> etree._Element:
    b = _Builder()
    root = etree.Element(ROOT_TAG, {"Id": nfc(record.id), "version": "1"}, nsmap=b.nsmap)
    _write_identity(b, root, record.identity)
    for y in record.years:
        _write_year(b, root, y)
    return root


def to_xml(record: RecordBook) -> bytes:
    """The record book as UTF-8 XML, NFC text, indented, deterministic."""
    root = to_element(record)
    etree.indent(root, space="  ")
    data: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return data
