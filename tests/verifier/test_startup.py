"""Start-up cost of verification (issue 14): reading a record PDF's identity does not
import fpdf2 (the page layout library, about a third of a second per process; every
``hocba verify`` process and every batch worker would pay it on its first record)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

PROBE = """
import io, sys
from pyhanko.pdf_utils.reader import PdfFileReader
from verifier.pdf import _record_meta
reader = PdfFileReader(io.BytesIO(open(sys.argv[1], "rb").read()), strict=False)
meta = _record_meta(reader, reader.xrefs.total_revisions - 1)
assert meta is not None and meta["student"], meta
assert "fpdf" not in sys.modules, "fpdf2 imported to read a record's identity"
print("ok")
"""


def test_reading_a_record_identity_does_not_import_fpdf(tmp_path: Path) -> None:
    from recordbook.pdf import render_pdf
    from recordbook.sample import sample_record

    pdf = tmp_path / "record.pdf"
    pdf.write_bytes(render_pdf(sample_record(3)))
    out = subprocess.run([sys.executable, "-c", PROBE, str(pdf)], capture_output=True,
                         text=True, cwd=str(REPO), timeout=120,
                         env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-2000:]
