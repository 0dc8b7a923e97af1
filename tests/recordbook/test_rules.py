"""The record rules, case by case (Thông tư 27/2020 art. 10; Thông tư 22/2021 art. 9)."""
from __future__ import annotations

from decimal import Decimal

import pytest

from recordbook.model import FAIL, PASS, AssessedSubject, Assessment, ScoredSubject, SubjectResult
from recordbook.rules import (
    primary_overall,
    primary_promotion,
    secondary_learning,
    secondary_promotion,
    year_average,
)

D = Decimal


def subjects(*items: tuple[str, int | None]) -> list[SubjectResult]:
    return [SubjectResult(f"S{i}", f"Môn {i}", level, "Nhận xét.",
                          None if score is None else D(score))
            for i, (level, score) in enumerate(items)]


def pcnl(*levels: str) -> list[Assessment]:
    return [Assessment(f"A{i}", f"PC {i}", lv, "Nhận xét.") for i, lv in enumerate(levels)]


PRIMARY_CASES = {
    "all_T_scores_9": (subjects(("T", 9), ("T", 10), ("T", None)), pcnl("T", "T"),
                       "Hoàn thành xuất sắc"),
    "all_T_one_score_8": (subjects(("T", 9), ("T", 8)), pcnl("T", "T"), "Hoàn thành tốt"),
    "one_quality_Đ": (subjects(("T", 10), ("T", 10)), pcnl("T", "Đ"), "Hoàn thành"),
    "one_subject_H": (subjects(("H", 10), ("T", 10)), pcnl("T", "T"), "Hoàn thành"),
    "all_T_score_6": (subjects(("T", 6), ("T", 10)), pcnl("T", "T"), "Hoàn thành"),
    "subject_C": (subjects(("C", 6), ("T", 10)), pcnl("T", "T"), "Chưa hoàn thành"),
    "competency_C": (subjects(("T", 9), ("T", 9)), pcnl("T", "C"), "Chưa hoàn thành"),
    "score_below_5": (subjects(("H", 4), ("T", 9)), pcnl("T", "T"), "Chưa hoàn thành"),
}


@pytest.mark.parametrize("subs,assess,expected", PRIMARY_CASES.values(), ids=PRIMARY_CASES.keys())
def test_primary_overall(subs: list[SubjectResult], assess: list[Assessment], expected: str
                         ) -> None:
    assert primary_overall(subs, assess) == expected


def test_primary_promotion() -> None:
    assert primary_promotion(3, "Hoàn thành") == "Được lên lớp"
    assert primary_promotion(5, "Hoàn thành tốt") == "Hoàn thành chương trình tiểu học"
    assert primary_promotion(2, "Chưa hoàn thành") == "Rèn luyện trong hè"


@pytest.mark.parametrize("s1,s2,expected", [
    ("6.8", "6.9", "6.9"), ("5.5", "6.5", "6.2"), ("10.0", "10.0", "10.0"), ("7.0", "8.0", "7.7"),
])
def test_year_average(s1: str, s2: str, expected: str) -> None:
    assert year_average(D(s1), D(s2)) == D(expected)


def scored(*years: str) -> list[ScoredSubject]:
    return [ScoredSubject(f"M{i}", f"Môn {i}", D(y), D(y), D(y)) for i, y in enumerate(years)]


def assessed(*results: str) -> list[AssessedSubject]:
    return [AssessedSubject(f"N{i}", f"Môn {i}", r) for i, r in enumerate(results)]


SECONDARY_CASES = {
    "tot": (scored("8.0", "8.0", "8.0", "8.0", "8.0", "8.0", "6.5", "7.0"), assessed(PASS), "Tốt"),
    "kha_one_below_6_5": (scored("9", "9", "9", "9", "9", "9", "6.4", "9"), assessed(PASS),
                          "Khá"),
    "kha_only_five_above_8": (scored("8", "8", "8", "8", "8", "7.9", "7", "7"), assessed(PASS),
                              "Khá"),
    "dat_one_comment_fail": (scored("9", "9", "9", "9", "9", "9", "9", "9"),
                             assessed(PASS, FAIL), "Đạt"),
    "chua_dat_two_comment_fail": (scored("9", "9", "9", "9", "9", "9", "9", "9"),
                                  assessed(FAIL, FAIL), "Chưa đạt"),
    "chua_dat_one_below_3_5": (scored("9", "9", "9", "9", "9", "9", "9", "3.4"), assessed(PASS),
                               "Chưa đạt"),
}


@pytest.mark.parametrize("sc,asd,expected", SECONDARY_CASES.values(), ids=SECONDARY_CASES.keys())
def test_secondary_learning(sc: list[ScoredSubject], asd: list[AssessedSubject], expected: str
                            ) -> None:
    assert secondary_learning(sc, asd) == expected


def test_secondary_promotion() -> None:
    assert secondary_promotion(8, "Khá", "Tốt", 3) == "Được lên lớp"
    assert secondary_promotion(9, "Đạt", "Đạt", 0) == "Hoàn thành chương trình trung học cơ sở"
    assert secondary_promotion(8, FAIL, "Tốt", 0) == "Kiểm tra lại trong hè"
    assert secondary_promotion(8, "Tốt", FAIL, 0) == "Rèn luyện trong hè"
    assert secondary_promotion(8, "Tốt", "Tốt", 46) == "Ở lại lớp"
