"""The model and its XML form: round trips, NFC on output, the record summary."""
from __future__ import annotations

import dataclasses
import unicodedata
from decimal import Decimal

import pytest
from lxml import etree

from ground.xmlsafe import parse_xml
from recordbook.model import PrimaryResults, RecordBook, SubjectResult, identity_id, year_id
from recordbook.rules import primary_overall, primary_promotion
from recordbook.xmlio import (
    RecordSchemaError,
    from_xml,
    identity_element,
    is_record_book,
    record_summary,
    to_xml,
    validate,
    year_elements,
)


def test_primary_round_trip(primary_class: list[RecordBook]) -> None:
    for record in primary_class:
        assert from_xml(to_xml(record)) == record


def test_secondary_round_trip(secondary_class: list[RecordBook]) -> None:
    for record in secondary_class:
        assert from_xml(to_xml(record)) == record


def test_from_xml_accepts_a_parsed_tree(primary_class: list[RecordBook]) -> None:
    record = primary_class[0]
    tree = parse_xml(to_xml(record))
    assert from_xml(tree) == record
    assert from_xml(tree.getroot()) == record


def test_output_is_utf8_nfc_and_deterministic(primary_class: list[RecordBook]) -> None:
    record = primary_class[1]
    data = to_xml(record)
    assert data.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    text = data.decode("utf-8")
    assert unicodedata.is_normalized("NFC", text)
    assert to_xml(record) == data


def test_decomposed_text_is_written_as_nfc(primary_class: list[RecordBook]) -> None:
    record = primary_class[0]
    nfd_name = unicodedata.normalize("NFD", "Nguyễn Thị Ánh Tuyết")
    assert not unicodedata.is_normalized("NFC", nfd_name)
    ident = dataclasses.replace(record.identity, full_name=nfd_name)
    back = from_xml(to_xml(dataclasses.replace(record, identity=ident)))
    assert back.identity.full_name == "Nguyễn Thị Ánh Tuyết"
    assert unicodedata.is_normalized("NFC", back.identity.full_name)


def test_decimal_test_score_round_trips(primary_class: list[RecordBook]) -> None:
    record = primary_class[0]
    year = record.latest
    assert isinstance(year.results, PrimaryResults)
    subjects = tuple(
        dataclasses.replace(s, score=Decimal("9.5")) if s.code == "Toan" else s
        for s in year.results.subjects
    )
    # a half point on a tested subject; the result must still follow the rules
    results = dataclasses.replace(year.results, subjects=subjects)
    results = dataclasses.replace(results, overall=primary_overall(
        subjects, results.qualities + results.general_competencies
        + results.specific_competencies))
    new_year = dataclasses.replace(year, results=results,
                                   promotion=primary_promotion(year.grade, results.overall))
    record = dataclasses.replace(record, years=record.years[:-1] + (new_year,))
    data = to_xml(record)
    assert b"<Diem>9.5</Diem>" in data
    back = from_xml(data)
    assert isinstance(back.latest.results, PrimaryResults)
    toan = next(s for s in back.latest.results.subjects if s.code == "Toan")
    assert toan == SubjectResult(toan.code, toan.name, toan.level, toan.comment, Decimal("9.5"))


def test_id_conventions(primary_class: list[RecordBook]) -> None:
    for record in primary_class:
        assert record.identity.id == identity_id(record.id) == f"{record.id}-hocsinh"
        for y in record.years:
            assert y.id == year_id(record.id, y.school_year, y.version)
            assert y.id == f"{record.id}-{y.school_year}-v{y.version}"


def test_record_summary_reads_only_the_blocks_given(primary_class: list[RecordBook]) -> None:
    record = primary_class[3]
    root = validate(to_xml(record)).getroot()
    assert is_record_book(root)
    ident = identity_element(root)
    years = year_elements(root)
    assert [y.get("schoolYear") for y in years] == ["2023-2024", "2024-2025", "2025-2026"]
    assert record_summary(ident, years) == {
        "student": record.identity.full_name,
        "school": record.identity.school.name,
        "school_year": "2025-2026",
        "school_code": record.identity.school.code,
    }
    # only the first two years signed: the summary says so
    assert record_summary(ident, years[:2])["school_year"] == "2024-2025"
    assert record_summary(ident, [])["school_year"] is None
    # works on a detached copy (e.g. the signed subtree a verifier extracted)
    detached = etree.fromstring(etree.tostring(ident))
    assert record_summary(detached)["student"] == record.identity.full_name


def test_record_summary_refuses_other_elements(primary_class: list[RecordBook]) -> None:
    root = validate(to_xml(primary_class[0])).getroot()
    with pytest.raises(RecordSchemaError) as e:
        record_summary(year_elements(root)[0], [])
    assert "not an identity block" in e.value.render("en")
    assert "không phải khối thông tin học sinh" in e.value.render("vi")
    with pytest.raises(RecordSchemaError) as e:
        record_summary(identity_element(root), [identity_element(root)])
    assert "not a school-year block" in e.value.render("en")
    assert "không phải khối năm học" in e.value.render("vi")


def test_latest_year_and_lookup(primary_class: list[RecordBook]) -> None:
    record = primary_class[0]
    assert record.latest.school_year == "2025-2026"
    assert record.year("2023-2024").grade == 1
    with pytest.raises(KeyError):
        record.year("1999-2000")
