"""Record rules the XSD cannot express: results consistent with the levels and scores.

Primary: Thông tư 27/2020/TT-BGDĐT (art. 7: periodic tests; art. 10: overall
result; art. 11–12: completion and promotion). Secondary: Thông tư
22/2021/TT-BGDĐT (art. 9: learning result; art. 12–13: promotion).
The generator (``records.sample``) derives results with these functions, and
``records.xmlio.validate`` checks every year block against them.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from ground.findings import Finding

from recordbook.model import (
    COMPLETED_LOWER_SECONDARY,
    COMPLETED_PRIMARY,
    COMPLETED_UPPER_SECONDARY,
    FAIL,
    PASS,
    PROMOTED,
    REPEAT,
    RESULT_DONE,
    RESULT_EXCELLENT,
    RESULT_GOOD,
    RESULT_NOT_DONE,
    SUMMER_RETEST,
    SUMMER_TRAINING,
    TESTED_PRIMARY_SUBJECTS,
    AssessedSubject,
    Assessment,
    PrimaryResults,
    RecordBook,
    SchoolYear,
    ScoredSubject,
    SecondaryResults,
    SubjectResult,
)

PRIMARY_GRADES = range(1, 6)
SECONDARY_GRADES = range(6, 13)
#: More days absent than this and a secondary pupil cannot be promoted (Thông tư 22/2021, art. 12).
MAX_DAYS_ABSENT = 45


@dataclass(frozen=True)
class RuleViolation:
    """A broken rule; ``year_id`` is None for the record as a whole."""

    year_id: str | None
    element: str  # local name of the element or attribute concerned
    problem: Finding  # rendered in the report's or message's language (msg.record_rule_*)


def primary_overall(
    subjects: Iterable[SubjectResult], assessments: Iterable[Assessment]
) -> str:
    """The overall result of a primary year (Thông tư 27/2020, art. 10)."""
    subjects = tuple(subjects)
    assessments = tuple(assessments)
    levels = {s.level for s in subjects}
    pc_levels = {a.level for a in assessments}
    scores = [s.score for s in subjects if s.score is not None]
    low = min(scores, default=Decimal(10))
    if levels <= {"T"} and pc_levels <= {"T"}:
        if low >= 9:
            return RESULT_EXCELLENT
        if low >= 7:
            return RESULT_GOOD
    if levels <= {"T", "H"} and pc_levels <= {"T", "Đ"} and low >= 5:
        return RESULT_DONE
    return RESULT_NOT_DONE


def year_average(semester1: Decimal, semester2: Decimal) -> Decimal:
    """ĐTBmcn = (ĐTBmhkI + 2 × ĐTBmhkII) / 3, rounded half up to one decimal (TT 22, art. 9)."""
    return ((semester1 + 2 * semester2) / 3).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def secondary_learning(scored: Iterable[ScoredSubject], assessed: Iterable[AssessedSubject]) -> str:
    """The year's learning result (Thông tư 22/2021, art. 9, khoản 2)."""
    years = [s.year for s in scored]
    fails = sum(1 for a in assessed if a.result == FAIL)
    if fails == 0 and all(y >= Decimal("6.5") for y in years) and sum(y >= 8 for y in years) >= 6:
        return "Tốt"
    if fails == 0 and all(y >= 5 for y in years) and sum(y >= Decimal("6.5") for y in years) >= 6:
        return "Khá"
    if fails <= 1 and sum(y >= 5 for y in years) >= 6 and all(y >= Decimal("3.5") for y in years):
        return "Đạt"
    return FAIL


def completion_for_grade(grade: int) -> str | None:
    """What a pupil who passes ``grade`` gets instead of "Được lên lớp" at the end of a level."""
    return {5: COMPLETED_PRIMARY, 9: COMPLETED_LOWER_SECONDARY, 12: COMPLETED_UPPER_SECONDARY}.get(
        grade
    )


def primary_promotion(grade: int, overall: str) -> str:
    if overall == RESULT_NOT_DONE:
        return SUMMER_TRAINING
    return completion_for_grade(grade) or PROMOTED


def secondary_promotion(grade: int, learning: str, conduct: str, days_absent: int | None) -> str:
    if days_absent is not None and days_absent > MAX_DAYS_ABSENT:
        return REPEAT
    if conduct == FAIL:
        return SUMMER_TRAINING
    if learning == FAIL:
        return SUMMER_RETEST
    return completion_for_grade(grade) or PROMOTED


def check_year(year: SchoolYear) -> list[RuleViolation]:
    out: list[RuleViolation] = []

    def bad(element: str, rule: str, **args: object) -> None:
        out.append(RuleViolation(year.id, element, Finding.of("record_rule_" + rule, **args)))

    res = year.results
    passed: bool
    if isinstance(res, PrimaryResults):
        if year.grade not in PRIMARY_GRADES:
            bad("grade", "primary_grade", grade=year.grade)
        for s in res.subjects:
            if s.score is not None and s.code not in TESTED_PRIMARY_SUBJECTS:
                bad("Diem", "no_test_score", subject=s.code)
            if s.score is None and s.code in TESTED_PRIMARY_SUBJECTS:
                bad("Diem", "needs_score", subject=s.code)
        expected = primary_overall(
            res.subjects, res.qualities + res.general_competencies + res.specific_competencies
        )
        if res.overall != expected:
            bad("KetQuaGiaoDuc", "overall", got=res.overall, expected=expected)
        passed = res.overall != RESULT_NOT_DONE
    else:
        if year.grade not in SECONDARY_GRADES:
            bad("grade", "secondary_grade", grade=year.grade)
        for sc in res.scored:
            avg = year_average(sc.semester1, sc.semester2)
            if sc.year != avg:
                bad("DiemCaNam", "average", subject=sc.code, got=sc.year, expected=avg)
        learning = secondary_learning(res.scored, res.assessed)
        if res.learning != learning:
            bad("KetQuaHocTap", "learning", got=res.learning, expected=learning)
        passed = res.learning != FAIL and res.conduct != FAIL
        if year.days_absent is not None and year.days_absent > MAX_DAYS_ABSENT:
            passed = False

    completion = completion_for_grade(year.grade)
    if year.promotion in (PROMOTED, COMPLETED_PRIMARY, COMPLETED_LOWER_SECONDARY,
                          COMPLETED_UPPER_SECONDARY):
        if not passed:
            bad("LenLop", "promotion_impossible", promotion=year.promotion)
        elif year.promotion != (completion or PROMOTED):
            bad("LenLop", "promotion_grade", promotion=year.promotion, grade=year.grade,
                expected=completion or PROMOTED)
    elif passed and year.promotion in (SUMMER_TRAINING, SUMMER_RETEST, REPEAT):
        bad("LenLop", "contradicts", promotion=year.promotion)
    return out


def check_record(record: RecordBook) -> list[RuleViolation]:
    """Every rule for every year, plus the order of the years."""
    out: list[RuleViolation] = []
    previous: SchoolYear | None = None
    for y in record.years:
        start, end = (int(p) for p in y.school_year.split("-"))
        if end != start + 1:
            out.append(RuleViolation(y.id, "schoolYear",
                                     Finding.of("record_rule_year_span", year=y.school_year)))
        if previous is not None:
            if y.school_year <= previous.school_year:
                out.append(RuleViolation(y.id, "schoolYear",
                                         Finding.of("record_rule_year_order")))
            elif y.grade < previous.grade:
                out.append(RuleViolation(y.id, "grade", Finding.of(
                    "record_rule_grade_order", grade=y.grade, previous=previous.grade)))
        out.extend(check_year(y))
        previous = y
    return out


def result_passes(results: PrimaryResults | SecondaryResults) -> bool:
    if isinstance(results, PrimaryResults):
        return results.overall != RESULT_NOT_DONE
    return results.learning != FAIL and results.conduct != FAIL


__all__ = [
    "MAX_DAYS_ABSENT", "PASS", "RuleViolation", "check_record", "check_year",
    "completion_for_grade", "primary_overall", "primary_promotion", "result_passes",
    "secondary_learning", "secondary_promotion", "year_average",
]
