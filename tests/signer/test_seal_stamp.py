"""The school seal's stamp keeps its texts clear of its rings (issue 16 item 12).

The "Ký bởi" line used to cross the inner ring (a 4 pt floor on the font size let a long
name overflow) and the name around the top touched the outer ring (accented capitals
reach above the cap height). Checked twice: on the layout's geometry (the ink of every
text, diacritics included, against the rings with a margin) for short and long names,
and on the stamp as poppler renders it in a signed record (no red pixel in the clear
zones beside each ring). The rendering goes to test-artifacts/seal-stamp.png.
"""
from __future__ import annotations

import io
import math
import subprocess
from pathlib import Path
from typing import Any

import pytest

from certs.pki import PkiLayout, SCHOOL
from ground.config import Config
from signer.appearance import AppearanceFactory, SealLayout, SignerText

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
BOX = (174.0, 80.0)  # the record's seal field (recordbook.pdf FIELD_WIDTH x FIELD_HEIGHT)
NAMES = [
    SCHOOL,
    "Trường Tiểu học Số 1",
    "Trường Trung học cơ sở Nguyễn Văn Trỗi",
    "Trường Trung học phổ thông chuyên Lê Hồng Phong – Thành phố Hồ Chí Minh",
]


def seal_layout(org: str, box: tuple[float, float] = BOX) -> SealLayout:
    text = SignerText(name=org, title="", organization=org, role_label="Con dấu đơn vị",
                      seal=True)
    lay = AppearanceFactory(text).layout_for(*box)
    assert isinstance(lay, SealLayout)
    return lay


@pytest.mark.parametrize("org", NAMES)
@pytest.mark.parametrize("box", [BOX, (120.0, 120.0), (174.0, 60.0)],
                         ids=["record", "square", "low"])
def test_texts_stay_clear_of_the_rings(org: str, box: tuple[float, float]) -> None:
    g = seal_layout(org, box).geometry
    (outer_r, outer_w), (inner_r, inner_w), m = g.outer, g.inner, g.margin
    band = (inner_r + inner_w / 2 + m, outer_r - outer_w / 2 - m)
    eps = 1e-6
    for name, lo, hi in g.arcs:  # radial extent of the arc text's ink
        assert band[0] - eps <= lo < hi <= band[1] + eps, (name, lo, hi, band)
    inside = inner_r - inner_w / 2 - m
    assert len(g.lines) >= 4
    for t, x0, y0, x1, y1 in g.lines:  # every corner of every line's ink box
        for x, y in ((x0, y0), (x0, y1), (x1, y0), (x1, y1)):
            assert math.hypot(x - g.cx, y - g.cy) <= inside + eps, (t, x, y, inside)
    # lines do not overlap, top to bottom
    for (_, _, lo_a, _, _), (_, _, _, _, hi_b) in zip(g.lines, g.lines[1:]):
        assert hi_b <= lo_a + eps
    # readable on the record: the signer's lines at least 2.5 pt of ink height
    if box == BOX:
        assert all(y1 - y0 >= 2.5 for _, _, y0, _, y1 in g.lines), g.lines


def test_signer_text_never_shrinks_to_nothing_but_wraps() -> None:
    g = seal_layout(NAMES[2]).geometry
    texts = [t for t, *_ in g.lines]
    assert texts[0] == "ĐÃ KÝ SỐ"
    signer = [t for t in texts[1:] if not t.startswith("Ngày ký") and "(+07:00)" not in t]
    assert len(signer) == 2 and " ".join(signer).replace("Ký bởi: ", "").replace(
        "Ký bởi:", "").strip() == NAMES[2]


# -- the stamp as a reader renders it ----------------------------------------------------

def _render_seal(pdf: bytes, tmp: Path, dpi: int) -> tuple[Any, float]:
    from PIL import Image
    from pyhanko.pdf_utils.reader import PdfFileReader

    from tests.tooling import require_tool

    pdftoppm = require_tool("pdftoppm")
    reader = PdfFileReader(io.BytesIO(pdf))
    rect = None
    page_no = 1
    kids = [k.get_object() for k in reader.root["/Pages"]["/Kids"]]  # flat: fpdf2 makes it
    for i, page in enumerate(kids):
        for annot in page.get("/Annots", []):
            a = annot.get_object()
            if a.get("/T") == "Sig_seal":
                rect, page_no = [float(v) for v in a["/Rect"]], i + 1
    assert rect is not None
    src = tmp / "signed.pdf"
    src.write_bytes(pdf)
    subprocess.run([pdftoppm, "-r", str(dpi), "-f", str(page_no), "-l", str(page_no), "-png",
                    str(src), str(tmp / "page")], check=True, timeout=120)
    (png,) = tmp.glob("page*.png")
    im = Image.open(png).convert("RGB")
    scale = dpi / 72
    page_h = im.height / scale
    x0, y0, x1, y1 = rect
    crop = im.crop((round(x0 * scale), round((page_h - y1) * scale),
                    round(x1 * scale), round((page_h - y0) * scale)))
    return crop, scale


@pytest.mark.slow
@pytest.mark.tool
def test_rendered_stamp_has_clear_zones_beside_its_rings(
        tmp_path: Path, test_pki: PkiLayout, test_config: Config, trust_services: Any,
        pin: str) -> None:
    from recordbook.pdf import render_pdf
    from recordbook.sample import sample_record
    from signer.batch import Batch
    from signer.keys import KeySource
    from ground.vocab import Level, Role

    data = render_pdf(sample_record(0))
    for label, role in (("teacher", Role.TEACHER), ("principal", Role.PRINCIPAL),
                        ("seal", Role.SEAL)):
        with Batch(test_config, role, Level.B_B, KeySource(p12=test_pki.p12(label)), pin,
                   precheck=False) as batch:
            _, data = batch.sign(data)
    dpi = 600
    crop, scale = _render_seal(data, tmp_path, dpi)
    ARTIFACTS.mkdir(exist_ok=True)
    crop.save(ARTIFACTS / "seal-stamp.png")
    g = seal_layout(SCHOOL).geometry
    (outer_r, outer_w), (inner_r, inner_w), m = g.outer, g.inner, g.margin
    aa = 1.5 / scale  # anti-aliasing: a pixel and a half
    clear = [  # (from, to) radii, in points, where nothing may be drawn
        (inner_r - inner_w / 2 - m + aa, inner_r - inner_w / 2 - aa),  # inside the inner ring
        (inner_r + inner_w / 2 + aa, inner_r + inner_w / 2 + m - aa),  # outside it
        (outer_r - outer_w / 2 - m + aa, outer_r - outer_w / 2 - aa),  # inside the outer ring
    ]
    h = crop.height / scale
    px = crop.load()
    hits: dict[int, int] = {0: 0, 1: 0, 2: 0}
    ring_pixels = 0
    for j in range(crop.height):
        for i in range(crop.width):
            r_, g_, b_ = px[i, j]
            if r_ - g_ < 60:  # not red ink
                continue
            x, y = (i + 0.5) / scale, h - (j + 0.5) / scale
            d = math.hypot(x - g.cx, y - g.cy)
            if abs(d - inner_r) <= inner_w / 2 + aa:
                ring_pixels += 1
            for k, (lo, hi) in enumerate(clear):
                if lo < d < hi:
                    hits[k] += 1
    assert ring_pixels > 1000  # the rings are where the geometry says
    assert hits == {0: 0, 1: 0, 2: 0}, hits
