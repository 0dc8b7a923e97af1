"""The sample class: deterministic per seed, Vietnamese, and consistent with the rules."""
from __future__ import annotations

import re
import unicodedata
from collections import Counter
from decimal import Decimal

import pytest

from recordbook import sample
from recordbook.model import (
    PRIMARY_RESULTS,
    RESULT_EXCELLENT,
    RESULT_GOOD,
    RESULT_NOT_DONE,
    PrimaryResults,
    RecordBook,
    SecondaryResults,
)
from recordbook.rules import check_record, secondary_learning, year_average
from recordbook.sample import sample_class, sample_record
from recordbook.xmlio import to_xml, validate

VIETNAMESE_LETTERS = re.compile(r"[ăâđêôơưáàảãạấầẩẫậắằẳẵặéèẻẽẹếềểễệíìỉĩịóòỏõọốồổỗộớờởỡợúùủũụ"
                                r"ứừửữựýỳỷỹỵ]", re.IGNORECASE)


def test_same_seed_same_class() -> None:
    a = [to_xml(r) for r in sample_class(10, seed=42)]
    b = [to_xml(r) for r in sample_class(10, seed=42)]
    assert a == b


def test_different_seed_different_class() -> None:
    a = {r.identity.full_name for r in sample_class(10, seed=1)}
    b = {r.identity.full_name for r in sample_class(10, seed=2)}
    assert a != b


def test_pupil_does_not_depend_on_class_size() -> None:
    assert to_xml(sample_class(5, seed=3)[2]) == to_xml(sample_class(30, seed=3)[2])


def test_string_seeds_work() -> None:
    assert to_xml(sample_record(0, seed="lớp 3A")) == to_xml(sample_record(0, seed="lớp 3A"))


def test_default_class_shape(primary_class: list[RecordBook]) -> None:
    assert len(primary_class) == 40
    ids = [r.id for r in primary_class]
    assert ids == [f"HS-99000101-{n:04d}" for n in range(1, 41)]
    for r in primary_class:
        assert [(y.school_year, y.grade) for y in r.years] == [
            ("2023-2024", 1), ("2024-2025", 2), ("2025-2026", 3)]
        assert r.latest.class_name == "3A"
        assert r.identity.school == sample.PRIMARY_SCHOOL
        assert r.identity.school.name.startswith("Trường Tiểu học ")
        assert re.fullmatch(r"\d{12}", r.identity.personal_id)
        assert r.identity.personal_id.startswith(sample.PERSONAL_ID_PREFIX)


def test_every_record_validates_with_rules(primary_class: list[RecordBook],
                                            secondary_class: list[RecordBook]) -> None:
    for r in primary_class + secondary_class:
        assert check_record(r) == []
        validate(to_xml(r))


def test_names_are_vietnamese_nfc_and_unique(primary_class: list[RecordBook]) -> None:
    names = [r.identity.full_name for r in primary_class]
    assert len(set(names)) == len(names)
    for name in names:
        assert unicodedata.is_normalized("NFC", name)
        parts = name.split()
        assert 3 <= len(parts) <= 5, name
        assert all(p[0].isupper() for p in parts), name
    # diacritics actually occur (not ASCII-folded names)
    assert sum(bool(VIETNAMESE_LETTERS.search(n)) for n in names) > 30


def test_surname_of_father_is_the_pupils(primary_class: list[RecordBook]) -> None:
    for r in primary_class:
        fathers = [p for p in r.identity.parents if p.relation == "Cha"]
        for f in fathers:
            assert f.name.split()[0] == r.identity.full_name.split()[0]


def test_comments_are_vietnamese_sentences(primary_class: list[RecordBook]) -> None:
    for r in primary_class:
        res = r.latest.results
        assert isinstance(res, PrimaryResults)
        for item in (*res.subjects, *res.qualities, *res.general_competencies,
                     *res.specific_competencies):
            assert item.comment.endswith(".") and VIETNAMESE_LETTERS.search(item.comment)
            assert unicodedata.is_normalized("NFC", item.comment)


def _primary_years(seeds: range) -> list[PrimaryResults]:
    out = []
    for seed in seeds:
        for r in sample_class(40, seed=seed):
            for y in r.years:
                assert isinstance(y.results, PrimaryResults)
                out.append(y.results)
    return out


@pytest.fixture(scope="module")
def many_primary_years() -> list[PrimaryResults]:
    return _primary_years(range(6))


def test_all_results_occur_in_realistic_shares(many_primary_years: list[PrimaryResults]) -> None:
    counts = Counter(res.overall for res in many_primary_years)
    assert set(counts) == set(PRIMARY_RESULTS)
    total = sum(counts.values())
    assert counts[RESULT_NOT_DONE] / total < 0.05  # rare, as in real schools
    assert counts[RESULT_EXCELLENT] / total > 0.15


def test_excellent_only_with_all_t_and_scores_of_9(many_primary_years: list[PrimaryResults]
                                                   ) -> None:
    for res in many_primary_years:
        assessments = res.qualities + res.general_competencies + res.specific_competencies
        if res.overall == RESULT_EXCELLENT:
            assert all(s.level == "T" for s in res.subjects)
            assert all(a.level == "T" for a in assessments)
            assert all(s.score >= 9 for s in res.subjects if s.score is not None)
        if res.overall == RESULT_GOOD:
            assert all(s.level == "T" for s in res.subjects)
            assert all(s.score >= 7 for s in res.subjects if s.score is not None)


def test_not_done_only_with_some_c(many_primary_years: list[PrimaryResults]) -> None:
    for res in many_primary_years:
        levels = [x.level for x in (*res.subjects, *res.qualities, *res.general_competencies,
                                    *res.specific_competencies)]
        assert (res.overall == RESULT_NOT_DONE) == ("C" in levels)


def test_scores_only_on_tested_subjects_and_whole(primary_class: list[RecordBook]) -> None:
    from recordbook.model import TESTED_PRIMARY_SUBJECTS

    for r in primary_class:
        for y in r.years:
            assert isinstance(y.results, PrimaryResults)
            for s in y.results.subjects:
                assert (s.score is not None) == (s.code in TESTED_PRIMARY_SUBJECTS)
                if s.score is not None:
                    assert s.score == s.score.to_integral_value()  # TT 27: whole numbers


def test_summer_remediation_reissues_earlier_years() -> None:
    """Earlier years that ended "Chưa hoàn thành" are held as re-issued version 2."""
    reissued = [y for seed in range(6) for r in sample_class(40, seed=seed) for y in r.years
                if y.version > 1]
    assert reissued
    for y in reissued:
        assert y.school_year != "2025-2026"
        assert isinstance(y.results, PrimaryResults)
        assert y.results.overall != RESULT_NOT_DONE
        assert y.promotion == "Được lên lớp"
        assert y.id.endswith("-v2")
        assert y.confirmed_on.month == 8  # after the summer


def test_awards_follow_results(many_primary_years: list[PrimaryResults]) -> None:
    for seed in range(3):
        for r in sample_class(40, seed=seed):
            for y in r.years:
                assert isinstance(y.results, PrimaryResults)
                assert ("Học sinh Xuất sắc" in y.awards) == (y.results.overall == RESULT_EXCELLENT)
                if y.results.overall == RESULT_NOT_DONE:
                    assert y.awards == ()
                    assert y.promotion == "Rèn luyện trong hè"


def test_secondary_class(secondary_class: list[RecordBook]) -> None:
    for r in secondary_class:
        assert r.id.startswith("HS-99000201-")
        assert [y.grade for y in r.years] == [6, 7, 8]
        assert "Trung học cơ sở" in r.identity.school.name
        for y in r.years:
            res = y.results
            assert isinstance(res, SecondaryResults)
            assert len(res.scored) == 8 and len(res.assessed) == 4
            for s in res.scored:
                assert s.year == year_average(s.semester1, s.semester2)
                for v in (s.semester1, s.semester2, s.year):
                    assert Decimal(0) <= v <= Decimal(10)
            assert res.learning == secondary_learning(res.scored, res.assessed)
            if "Học sinh Giỏi" in y.awards or "Học sinh Xuất sắc" in y.awards:
                assert res.learning == res.conduct == "Tốt"


def test_demo_school_matches_the_demo_pki() -> None:
    """A signed sample names the school and people of the demo certificates."""
    from certs import pki

    assert sample.PRIMARY_SCHOOL.name == pki.SCHOOL
    assert sample.PROVINCE == pki.PROVINCE
    assert sample.CITY == pki.SCHOOL_LOCALITY
    assert sample.HOMEROOM_TEACHER == pki.ROLE_CERTS["teacher"][0]
    assert sample.PRINCIPAL == pki.ROLE_CERTS["principal"][0]
