"""Start-up cost of ``hocba sign`` (issue 14, per-core efficiency): pyHanko's aiohttp clients
are loaded only when used, and the appearance font subset is made once per machine."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

PROBE = """
import sys
from signer.lazy_imports import defer_pyhanko_aiohttp
assert defer_pyhanko_aiohttp()
import signer.batch, signer.pades, signer.precheck, signer.xades
assert "aiohttp" not in sys.modules, "aiohttp imported by a B-B signing process"
from pyhanko_certvalidator.fetchers import _default_fetcher_backend
from pyhanko_certvalidator.fetchers.aiohttp_fetchers import AIOHttpFetcherBackend
backend = _default_fetcher_backend()
assert type(backend).__module__.endswith("aiohttp_fetchers"), type(backend)
from pyhanko.sign.timestamps import HTTPTimeStamper
ts = HTTPTimeStamper("http://127.0.0.1:9/tsa")
from pyhanko.sign.timestamps.aiohttp_client import HTTPTimeStamper as Real
assert isinstance(ts, Real) and "aiohttp" in sys.modules
import pyhanko.sign.timestamps as t
assert t.HTTPTimeStamper is Real
print("ok")
"""


def test_pyhanko_aiohttp_clients_load_only_when_used() -> None:
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                         cwd=str(REPO), env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
                         timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-2000:]


WHOLE = """
import sys
from hocba.cli import main
code = main(sys.argv[1:])
assert code == 0, code
assert "aiohttp" not in sys.modules, "aiohttp imported by hocba sign at B-B"
print("ok")
"""


def test_hocba_sign_b_b_never_imports_aiohttp(tmp_path: Path, test_pki: object,
                                              trust_services: object, pin: str) -> None:
    """The whole command, not just the signer's modules: the CLI's process-wide set-up
    (verifier/runtime.py imports pyHanko's signing package) must come after the deferral."""
    from certs.pki import PkiLayout
    from recordbook.pdf import render_pdf
    from recordbook.sample import sample_record

    assert isinstance(test_pki, PkiLayout)
    f = tmp_path / "hs.pdf"
    f.write_bytes(render_pdf(sample_record(0)))
    out = subprocess.run(
        [sys.executable, "-c", WHOLE, "sign", "--config", str(test_pki.config), "--role",
         "teacher", "--key", str(test_pki.p12("teacher")), "--level", "B-B", "--in-place",
         str(f)], capture_output=True, text=True, cwd=str(REPO), timeout=120,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin", "HOCBA_PIN": pin})
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-2000:]


def test_font_subset_cache_gives_the_same_font(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from signer import appearance
    from signer.fontcache import cached

    monkeypatch.setenv("HOCBA_CACHE_DIR", str(tmp_path))
    path = appearance.font_file("Regular")
    chars = "Hiệu trưởng Nguyễn Văn Đạt 0123456789/:"
    made = cached(appearance.EmbeddedFont, path, chars, "ABCDEF+BeVietnamPro-Regular")
    assert len(list(tmp_path.glob("font-*.json"))) == 1
    again = cached(appearance.EmbeddedFont, path, chars, "ABCDEF+BeVietnamPro-Regular")
    assert again is not made and vars(again) == vars(made)
    assert again.encode("Đạt") == made.encode("Đạt") and again.width("ư", 10) > 0
    # A damaged cache file is ignored (and replaced), never trusted.
    for f in tmp_path.glob("font-*.json"):
        f.write_text("{not json")
    third = cached(appearance.EmbeddedFont, path, chars, "ABCDEF+BeVietnamPro-Regular")
    # Made anew: the same font but for the subset's 'head' modification time.
    same = {k: v for k, v in vars(third).items() if k != "font_data"}
    assert same == {k: v for k, v in vars(made).items() if k != "font_data"}
