"""Small record-like PDFs for signing tests and the benchmark (until records.sample is used).

An fpdf2 page in Vietnamese (Be Vietnam Pro embedded) with the three empty
signature fields the real record PDFs carry: ``Sig_teacher``, ``Sig_principal``,
``Sig_seal`` at the foot of the year page.
"""
from __future__ import annotations

import io
from pathlib import Path

FIELD_BOXES = {
    "Sig_teacher": (40, 60, 220, 150),
    "Sig_principal": (225, 60, 405, 150),
    "Sig_seal": (420, 40, 560, 180),
}


def font_path(style: str = "Regular") -> str:
    import fontpkg_be_vietnam_pro

    return str(Path(fontpkg_be_vietnam_pro.__file__).parent / "files" / f"BeVietnamPro-{style}.ttf")


def record_pdf(student: str = "Nguyễn Văn An", n: int = 0, with_fields: bool = True) -> bytes:
    from fpdf import FPDF

    pdf = FPDF(unit="pt", format="A4")
    pdf.add_font("bvp", "", font_path())
    pdf.set_font("bvp", size=12)
    pdf.add_page()
    pdf.cell(0, 20, "HỌC BẠ SỐ – Trường Tiểu học Lê Quý Đôn", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 20, f"Học sinh: {student} (#{n})", new_x="LMARGIN", new_y="NEXT")
    for subj, lvl in (("Tiếng Việt", "T"), ("Toán", "T"), ("Đạo đức", "H"), ("Tự nhiên và Xã hội", "H")):
        pdf.cell(0, 18, f"{subj}: {lvl}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_author("hocba tests")
    data = bytes(pdf.output())
    if not with_fields:
        return data
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields

    w = IncrementalPdfFileWriter(io.BytesIO(data))
    for name, box in FIELD_BOXES.items():
        fields.append_signature_field(w, fields.SigFieldSpec(name, on_page=0, box=box))
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


def sample_pdfs(count: int, seed: int = 0) -> list[bytes]:
    """Real sample record PDFs (records.sample + records.pdf) when available, else fpdf2 ones."""
    try:
        from recordbook.pdf import render_pdf
        from recordbook.sample import sample_class

        return [render_pdf(rec) for rec in sample_class(count, seed=seed)]
    except Exception:  # records package not there (yet): small fixtures instead
        return [record_pdf(n=i) for i in range(count)]
