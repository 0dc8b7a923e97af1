"""`hocba records sample` (CONTRACT 3): files, summary line, determinism, usage errors."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from hocba.cli import main
from recordbook.pdf import read_pdf_record_meta
from recordbook.xmlio import from_xml

pytestmark = pytest.mark.slow  # end to end: not in the fast suite (pytest -m "not slow")


def test_default_class_is_40_xml_and_pdf_pairs(sample_dir: Path) -> None:
    names = sorted(p.name for p in sample_dir.iterdir())
    ids = [f"HS-99000101-{n:04d}" for n in range(1, 41)]
    assert names == sorted([f"{i}.xml" for i in ids] + [f"{i}.pdf" for i in ids])
    for i in ids:
        record = from_xml((sample_dir / f"{i}.xml").read_bytes())
        assert record.id == i
        pdf = (sample_dir / f"{i}.pdf").read_bytes()
        assert pdf.startswith(b"%PDF-")


def test_pdf_names_the_same_pupil_as_the_xml(sample_dir: Path) -> None:
    import io

    from pyhanko.pdf_utils.reader import PdfFileReader

    for xml in sorted(sample_dir.glob("*.xml"))[:5]:
        record = from_xml(xml.read_bytes())
        meta = read_pdf_record_meta(PdfFileReader(io.BytesIO(
            xml.with_suffix(".pdf").read_bytes())))
        assert meta == {"student": record.identity.full_name,
                        "school": record.identity.school.name,
                        "school_year": record.latest.school_year, "record_id": record.id,
                        "school_code": record.identity.school.code}


def test_summary_line_and_determinism(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    assert main(["records", "sample", "--out", str(a), "--count", "3", "--seed", "11"]) == 0
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert re.match(r"hocba: đã ghi 3 học bạ \(tiểu học, lớp 3A, năm học 2025-2026, seed 11\) "
                    r"dạng XML và PDF vào .* trong [0-9.]+ s$", err.strip()), err
    assert main(["records", "sample", "--lang", "en", "--out", str(a), "--count", "3",
                 "--seed", "11"]) == 0
    err = capsys.readouterr().err
    assert re.match(r"hocba: wrote 3 record books \(primary, class 3A, school year 2025-2026, "
                    r"seed 11\) as XML and PDF to ", err), err
    assert main(["records", "sample", "--out", str(b), "--count", "3", "--seed", "11"]) == 0
    for xml in a.glob("*.xml"):
        assert xml.read_bytes() == (b / xml.name).read_bytes()


def test_secondary_level_and_school_year(tmp_path: Path) -> None:
    assert main(["records", "sample", "--out", str(tmp_path), "--count", "2", "--level",
                 "secondary", "--school-year", "2024-2025"]) == 0
    record = from_xml((tmp_path / "HS-99000201-0001.xml").read_bytes())
    assert [(y.school_year, y.grade) for y in record.years] == [
        ("2022-2023", 6), ("2023-2024", 7), ("2024-2025", 8)]


@pytest.mark.parametrize("args,message", [
    (["--count", "0"], "--count phải từ 1 đến 10000"),
    (["--school-year", "2025-2027"], "--school-year phải có dạng 2025-2026"),
    (["--school-year", "năm nay"], "--school-year phải có dạng 2025-2026"),
], ids=["count_zero", "school_year_not_consecutive", "school_year_not_a_year"])
def test_usage_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                             args: list[str], message: str) -> None:
    assert main(["records", "sample", "--out", str(tmp_path / "x"), *args]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_output_path_that_is_a_file_exits_2(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["records", "sample", "--out", str(blocker / "sub"), "--count", "1"]) == 2
    assert "không tạo được thư mục" in capsys.readouterr().err


def test_bad_option_value_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as e:
        main(["records", "sample", "--out", str(tmp_path), "--count", "many"])
    assert e.value.code == 2


def test_records_without_subcommand_shows_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["records"]) == 2
    assert "sample" in capsys.readouterr().err
