"""Red team: the two HTTP services (verifier CONTRACT 7, two-step signing issue 9) under hostile input.

Every attack must end in a well-formed answer: never a 500, never a traceback in
the body, errors as JSON ``{"error", "detail"}`` (the no-JS page answers HTML),
nothing written to disk by the verifier, bounded time.
"""
from __future__ import annotations

import base64
import dataclasses
import hmac
import inspect
import io
import json
import os
import re
import socket
import struct
import threading
import time
import unicodedata
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from certs.pki import PkiLayout
from ground.config import Config
from ground.vocab import Level, Role
from tests.verifier.web.conftest import make_app as make_verifier_app, sign_chain, zip_of

pytestmark = pytest.mark.slow  # end to end: not in the fast suite (pytest -m "not slow")

API = "/api/v1/verify"
TOKEN = "redteam-token-9c2e"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
TS = "/api/v1/twostep/batches"
XSS_NAME = "<img src=x onerror=alert(1)>.pdf"
XSS_PUPIL = "<script>alert(1)</script> Nguyễn"
TRACE_MARKERS = ("Traceback", "File \"/", "werkzeug/", ".py\", line")


def _sane(r: Any) -> None:
    """Never a 500, never a traceback."""
    assert r.status_code < 500, (r.status_code, r.data[:400])
    body = r.get_data(as_text=True)
    for m in TRACE_MARKERS:
        assert m not in body, body[:600]


def _json_error(r: Any, status: int | tuple[int, ...]) -> dict[str, Any]:
    _sane(r)
    statuses = (status,) if isinstance(status, int) else status
    assert r.status_code in statuses, (r.status_code, r.data[:400])
    assert r.mimetype == "application/json", r.mimetype
    body = r.get_json()
    assert isinstance(body, dict) and set(body) == {"error", "detail"}, body
    assert isinstance(body["error"], str) and body["error"]
    assert isinstance(body["detail"], str)
    return body


def _headers(r: Any) -> None:
    h = r.headers
    assert "default-src 'self'" in h.get("Content-Security-Policy", "")
    assert h.get("X-Content-Type-Options") == "nosniff"
    assert h.get("X-Frame-Options") == "DENY"
    assert h.get("Cache-Control") == "no-store"


# ============================================================================================
# Verifier service
# ============================================================================================

@pytest.fixture(scope="module")
def vapp(test_config: Config, trust_services: Any) -> Flask:
    return make_verifier_app(test_config)


@pytest.fixture
def vc(vapp: Flask) -> Iterator[FlaskClient]:
    with vapp.test_client() as c:
        yield c


TINY_XML = b"<?xml version='1.0'?><x/>"


@pytest.fixture(scope="module")
def xss_records(test_pki: PkiLayout, test_config: Config, trust_services: Any,
                pin: str) -> tuple[bytes, bytes]:
    """An XML and a PDF record whose pupil is named ``<script>...``, signed by the teacher (B-B)."""
    from recordbook.pdf import render_pdf
    from recordbook.sample import sample_record
    from recordbook.xmlio import to_xml

    rec = sample_record(3)
    rec = dataclasses.replace(rec, identity=dataclasses.replace(rec.identity, full_name=XSS_PUPIL))
    steps = (("teacher", Role.TEACHER, Level.B_B),)
    return (sign_chain(to_xml(rec), test_pki, test_config, pin, steps),
            sign_chain(render_pdf(rec), test_pki, test_config, pin, steps))


def _page_post(c: FlaskClient, files: list[tuple[bytes, str]], query: str = "") -> Any:
    return c.post("/" + query, data={"file": [(io.BytesIO(d), n) for d, n in files]},
                  content_type="multipart/form-data", headers={"Accept": "text/html"})


def _data_urls(page: str) -> dict[str, str]:
    out = {}
    for mime, b64 in re.findall(r'data:(text/html|application/json);charset=utf-8;base64,'
                                r'([A-Za-z0-9+/=]+)', page):
        out[mime] = base64.b64decode(b64).decode("utf-8")
    return out


def test_attack_hundreds_of_tiny_parts_bounded(vc: FlaskClient) -> None:
    t = time.monotonic()
    r = vc.post(API, data={"file": [(io.BytesIO(TINY_XML), f"f{i}.xml") for i in range(300)]},
                content_type="multipart/form-data")
    _sane(r)
    assert r.status_code == 200
    assert len(r.json["results"]) == 300
    assert time.monotonic() - t < 60


def test_attack_parts_over_file_limit_is_413(test_config: Config, trust_services: Any) -> None:
    app = make_verifier_app(test_config, max_zip_entries=5)
    with app.test_client() as c:
        for n in (6, 40):  # over the file limit; over werkzeug's MAX_FORM_PARTS
            r = c.post(API, data={"file": [(io.BytesIO(TINY_XML), f"f{i}.xml")
                                           for i in range(n)]},
                       content_type="multipart/form-data")
            _json_error(r, 413)
            _headers(r)


def _multipart(parts: list[tuple[bytes, bytes]], boundary: bytes = b"XyZbound") -> bytes:
    """Hand-built multipart: (raw Content-Disposition value, body) per part."""
    out = b""
    for disp, body in parts:
        out += (b"--" + boundary + b"\r\nContent-Disposition: " + disp +
                b"\r\nContent-Type: application/octet-stream\r\n\r\n" + body + b"\r\n")
    return out + b"--" + boundary + b"--\r\n"


def _post_raw_multipart(c: FlaskClient, body: bytes, path: str = API,
                        headers: dict[str, str] | None = None) -> Any:
    return c.post(path, data=body, content_type="multipart/form-data; boundary=XyZbound",
                  headers=headers or {})


def test_attack_part_without_filename_is_a_clear_400(vc: FlaskClient) -> None:
    # curl -F 'file=<rec.pdf' sends no filename: werkzeug files it as a text form field,
    # decoded with replacement characters. Verifying those altered bytes would give a
    # wrong verdict, so the answer says how to send the file instead.
    r = _post_raw_multipart(vc, _multipart([(b'form-data; name="file"', b"%PDF-1.7\n\xff\xfe")]))
    body = _json_error(r, 400)
    # Vietnamese by default, as every answer of the service (issue 16 item 4)
    assert "không có tên tệp" in body["detail"] and "curl -F file=@" in body["detail"]
    r = _post_raw_multipart(vc, _multipart([(b'form-data; name="file"', b"%PDF-1.7\n\xff\xfe")]),
                            path=API + "?lang=en")
    assert "filename" in _json_error(r, 400)["detail"]
    _headers(r)


@pytest.mark.parametrize("raw_name", [
    b"../../../../tmp/redteam-evil.xml",
    b"..\\..\\windows\\evil.xml",
    b"/etc/passwd.xml",
    b"a\x00b.xml",
    b"\xff\xfe\xfa.xml",  # not UTF-8
    b"n" * 5000 + b".xml",
    "Học bạ ".encode() + b"\r\n.xml",
])
def test_attack_hostile_filenames_are_labels(vc: FlaskClient, raw_name: bytes) -> None:
    disp = b'form-data; name="file"; filename="' + raw_name.replace(b'"', b"") + b'"'
    r = _post_raw_multipart(vc, _multipart([(disp, TINY_XML)]))
    _sane(r)
    if r.status_code == 200:
        [rep] = r.json["results"]
        assert len(rep["file"]) <= 255
        assert "\x00" not in rep["file"] and "\n" not in rep["file"]
        assert rep["file"] == unicodedata.normalize("NFC", rep["file"])
    else:
        _json_error(r, (400, 413))
    assert not Path("/tmp/redteam-evil.xml").exists()


def test_attack_xss_filename_escaped_in_page_fragment_and_reports(vc: FlaskClient) -> None:
    for query in ("", "?fragment=1"):
        r = _page_post(vc, [(TINY_XML, XSS_NAME)], query)
        _sane(r)
        assert r.status_code == 200 and r.mimetype == "text/html"
        page = r.get_data(as_text=True)
        assert "<img src=x" not in page
        assert "&lt;img src=x onerror=alert(1)&gt;" in page
        _headers(r)
        reports = _data_urls(page)
        assert "text/html" in reports
        assert "<img src=x" not in reports["text/html"]
        assert json.loads(reports["application/json"])["file"] == XSS_NAME


def test_attack_xss_pupil_name_escaped_in_page_and_html_report(
        vc: FlaskClient, xss_records: tuple[bytes, bytes]) -> None:
    for data, name in zip(xss_records, ("r.xml", "r.pdf")):
        api = vc.post(API, data=data, content_type="application/octet-stream")
        assert api.status_code == 200
        [rep] = api.json["results"]
        assert rep["record"] and rep["record"]["student"] == XSS_PUPIL, (name, rep["record"])
        r = _page_post(vc, [(data, name)])
        _sane(r)
        page = r.get_data(as_text=True)
        assert "<script>alert" not in page, name
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
        html_report = _data_urls(page)["text/html"]
        assert "<script>alert" not in html_report
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html_report


def test_attack_zip_entry_names_with_traversal_are_labels(vc: FlaskClient) -> None:
    z = zip_of({"../../../tmp/redteam-zip-evil.xml": TINY_XML, "/abs/evil.xml": TINY_XML,
                "a/../../b.xml": TINY_XML})
    for r in (vc.post(API, data=z, content_type="application/zip"),
              vc.post(API, data={"file": [(io.BytesIO(z), "batch.zip")]},
                      content_type="multipart/form-data")):
        _sane(r)
        assert r.status_code == 200
        files = [x["file"] for x in r.json["results"]]
        assert len(files) == 3
        assert all(f.endswith(".xml") for f in files)
    assert not Path("/tmp/redteam-zip-evil.xml").exists()


def _patch_central_sizes(z: bytes, file_size: int) -> bytes:
    """Rewrite every central-directory entry's uncompressed size (the local header keeps the truth)."""
    out = bytearray(z)
    i = 0
    while (i := out.find(b"PK\x01\x02", i)) >= 0:
        struct.pack_into("<I", out, i + 24, file_size)
        i += 4
    return bytes(out)


def test_attack_zip_huge_declared_size_small_actual(vc: FlaskClient) -> None:
    z = _patch_central_sizes(zip_of({"a.xml": TINY_XML}), 0xFFFF0000)
    r = vc.post(API, data=z, content_type="application/zip")
    # Refused up front on the declared size (or judged as damaged): never expanded.
    if r.status_code == 200:
        assert r.json["results"][0]["indication"] == "TOTAL_FAILED"
    else:
        _json_error(r, 413)


def test_attack_zip_declared_smaller_than_actual(vc: FlaskClient) -> None:
    big = b"<?xml version='1.0'?><x>" + b"A" * 200_000 + b"</x>"
    z = _patch_central_sizes(zip_of({"a.xml": big}, zipfile.ZIP_STORED), 10)
    r = vc.post(API, data=z, content_type="application/zip")
    _sane(r)
    if r.status_code == 200:
        [rep] = r.json["results"]
        assert rep["indication"] == "TOTAL_FAILED"
    else:
        _json_error(r, 413)


def test_attack_zip_central_directory_lies(vc: FlaskClient) -> None:
    z = zip_of({"a.xml": TINY_XML, "b.xml": TINY_XML})
    # 1. the central directory names another file than the local header
    lied = z.replace(b"b.xml", b"c.xml", 1)  # local header of b only (first occurrence)
    # 2. the end record claims 60000 entries and a central directory offset beyond the file
    eocd = z.rfind(b"PK\x05\x06")
    many = bytearray(z)
    struct.pack_into("<HH", many, eocd + 8, 60000, 60000)
    offset = bytearray(z)
    struct.pack_into("<I", offset, eocd + 16, 0x7FFFFFFF)
    # 3. a truncated archive
    for data in (lied, bytes(many), bytes(offset), z[: len(z) // 2], b"PK\x03\x04" + b"\0" * 30):
        t = time.monotonic()
        r = vc.post(API, data=data, content_type="application/zip")
        _sane(r)
        assert time.monotonic() - t < 10
        if r.status_code != 200:
            _json_error(r, (400, 413, 415))
            continue
        for rep in r.json["results"]:
            assert rep["indication"] != "TOTAL_PASSED"


def test_attack_zip_bomb_entry_refused(vc: FlaskClient) -> None:
    z = zip_of({"bomb.xml": b"<x>" + b"\0" * 5_000_000 + b"</x>"})
    r = vc.post(API, data=z, content_type="application/zip")
    _sane(r)
    assert r.status_code == 200
    [rep] = r.json["results"]
    assert rep["indication"] == "TOTAL_FAILED" and rep["subindication"] == "FORMAT_FAILURE"


def test_attack_nested_zip_in_multipart_not_expanded(vc: FlaskClient) -> None:
    inner = zip_of({"a.xml": TINY_XML})
    outer = zip_of({"inner.zip": inner, "b.xml": TINY_XML})
    r = vc.post(API, data={"file": [(io.BytesIO(outer), "o.zip"), (io.BytesIO(TINY_XML), "c.xml")]},
                content_type="multipart/form-data")
    _sane(r)
    assert r.status_code == 200
    assert len(r.json["results"]) == 3


def test_attack_content_type_lies_content_wins(vc: FlaskClient) -> None:
    r = vc.post(API, data=TINY_XML, content_type="application/pdf")
    assert r.status_code == 200 and r.json["results"][0]["format"] == "xml"
    pdf = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    r = vc.post(API, data=pdf, content_type="application/xml")
    _sane(r)
    assert r.status_code == 200 and r.json["results"][0]["format"] == "pdf"
    assert r.json["results"][0]["indication"] == "TOTAL_FAILED"
    # a photo declared as a PDF
    r = vc.post(API, data=b"\x89PNG\r\n\x1a\n" + b"\0" * 100, content_type="application/pdf")
    _sane(r)
    if r.status_code != 200:
        _json_error(r, 415)


@pytest.mark.parametrize("lang", ["xx", "<script>alert(1)</script>", "vi\r\nX-Injected: 1",
                                  "e" * 10000])
def test_attack_lang_injection(vc: FlaskClient, lang: str) -> None:
    r = vc.post(API, data=TINY_XML, content_type="application/xml", query_string={"lang": lang})
    body = _json_error(r, 400)
    assert "X-Injected" not in r.headers
    assert "<script>" not in r.get_data(as_text=True) or r.mimetype == "application/json"
    assert len(body["detail"]) < 2000
    _headers(r)
    page = vc.get("/", query_string={"lang": lang})
    _sane(page)
    assert page.status_code == 200
    assert "<script>alert" not in page.get_data(as_text=True)
    assert "X-Injected" not in page.headers


@pytest.mark.parametrize("vt", ["garbage", "2024-13-45", "9999-12-31T23:59:59Z",
                                "0001-01-01T00:00:00+14:00", "1" * 5000, "2024-01-01T00:00:00+99:00"])
def test_attack_validation_time_garbage(vc: FlaskClient, vt: str) -> None:
    r = vc.post(API, data=TINY_XML, content_type="application/xml",
                query_string={"validation_time": vt})
    _sane(r)
    if r.status_code != 200:
        body = _json_error(r, 400)
        assert len(body["detail"]) < 2000
    page = _page_post(vc, [(TINY_XML, "a.xml")], "?validation_time=" + vt[:200])
    _sane(page)
    assert page.mimetype == "text/html"


def test_attack_methods_head_options_put(vc: FlaskClient) -> None:
    for method in ("PUT", "DELETE", "PATCH", "HEAD", "GET"):
        r = vc.open(API, method=method, data=TINY_XML, content_type="application/xml")
        _sane(r)
        assert r.status_code == 405, (method, r.status_code)
        if method != "HEAD":
            _json_error(r, 405)
        assert "POST" in r.headers.get("Allow", "")
        _headers(r)
    r = vc.options(API)
    _sane(r)
    assert r.status_code in (200, 204)
    r = vc.put("/", data=b"x")
    _json_error(r, 405)


def test_attack_very_long_url(vc: FlaskClient) -> None:
    r = vc.post(API + "?name=" + "a" * 100_000, data=TINY_XML, content_type="application/xml")
    _sane(r)
    assert r.status_code == 200
    assert len(r.json["results"][0]["file"]) <= 255
    r = vc.get("/" + "x" * 100_000)
    _json_error(r, 404)
    _headers(r)


def test_attack_json_body_is_415(vc: FlaskClient) -> None:
    r = vc.post(API, json={"file": "JVBERi0xLjc="})
    _json_error(r, 415)
    _headers(r)
    r = vc.post(API, data=b"a=b", content_type="application/x-www-form-urlencoded")
    _json_error(r, 415)


def test_attack_empty_and_garbage_bodies(vc: FlaskClient) -> None:
    for data, ct in ((b"", "application/pdf"), (b"", ""), (b"\0" * 100, "application/octet-stream"),
                     (b"--x--", "multipart/form-data"), (b"junk", "multipart/form-data; boundary=a"),
                     (b"x", "text/plain; charset=\xff")):
        r = vc.post(API, data=data, content_type=ct) if ct else vc.post(API, data=data)
        _sane(r)
        if r.status_code != 200:
            _json_error(r, (400, 413, 415))


def test_attack_error_responses_carry_security_headers(vc: FlaskClient, vapp: Flask) -> None:
    big = b"<x>" + b"a" * (vapp.config["MAX_CONTENT_LENGTH"] + 10) + b"</x>"
    for r in (vc.post(API, data=big, content_type="application/xml"),
              vc.post(API, data=b"\x89PNG", content_type="image/png"),
              vc.get("/nope"), vc.post(API, query_string={"lang": "zz"}, data=TINY_XML,
                                      content_type="application/xml")):
        _sane(r)
        assert r.status_code >= 400
        _json_error(r, (400, 404, 413, 415))
        _headers(r)


def test_attack_no_js_form_with_hostile_inputs_answers_html(vc: FlaskClient, vapp: Flask) -> None:
    z = zip_of({"../../x.xml": TINY_XML})
    big = b"<x>" + b"a" * (vapp.config["MAX_CONTENT_LENGTH"] + 10) + b"</x>"
    cases = [
        ([(z, "../" + XSS_NAME)], 200),
        ([(b"\x89PNG", XSS_NAME.replace(".pdf", ".png"))], 415),
        ([(big, "big.xml")], 413),
        ([], 400),
    ]
    for files, status in cases:
        r = (_page_post(vc, files) if files else
             vc.post("/", data={"x": "1"}, content_type="multipart/form-data",
                     headers={"Accept": "text/html"}))
        _sane(r)
        assert r.status_code == status, (status, r.status_code, r.data[:300])
        assert r.mimetype == "text/html"
        page = r.get_data(as_text=True)
        assert "<img src=x" not in page
        _headers(r)
    # the same posts from a script (JSON accepted) get JSON errors
    r = vc.post("/", data={"file": [(io.BytesIO(b"\x89PNG"), "a.png")]},
                content_type="multipart/form-data", headers={"Accept": "application/json"})
    _json_error(r, 415)


def test_attack_no_temp_file_written_for_large_part(vc: FlaskClient,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    import tempfile

    def refuse(*a: Any, **k: Any) -> Any:
        raise AssertionError("a temporary file was created for an upload")

    for name in ("TemporaryFile", "NamedTemporaryFile", "SpooledTemporaryFile", "mkstemp"):
        monkeypatch.setattr(tempfile, name, refuse)
    data = b"<?xml version='1.0'?><x>" + b"A" * 3_000_000 + b"</x>"
    r = vc.post(API, data={"file": [(io.BytesIO(data), "big.xml")]},
                content_type="multipart/form-data")
    _sane(r)
    assert r.status_code == 200


def test_attack_certificate_without_expiry_renders(vapp: Flask) -> None:
    """RFC 5280 4.1.2.5: notAfter 99991231235959Z means "no expiry"; UTC+7 of it overflows."""
    from datetime import datetime, timezone

    from ground.vocab import Indication
    from verifier.report import Report, SignatureReport, SignerInfo
    from verifier.web.pages import card

    end = datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone.utc)
    signer = SignerInfo("T", None, None, "CN=T", "CN=CA", "1",
                        datetime(2024, 1, 1, tzinfo=timezone.utc), end)
    sig = SignatureReport("s1", Indication.TOTAL_PASSED, None, role="teacher", signer=signer,
                          signing_time=end, integrity=True)
    rep = Report(file="a.pdf", sha256="0" * 64, format="pdf", signatures=(sig,), checks=())
    with vapp.test_request_context("/"):
        for lang in ("vi", "en"):
            c = card(rep, lang)
            assert c.sigs[0].not_after and "9999" in c.sigs[0].not_after
            assert c.html_url.startswith("data:text/html")


def test_attack_certificate_without_expiry_core_html_renderer() -> None:
    from datetime import datetime, timezone

    from ground.vocab import Indication
    from verifier.html import render_html
    from verifier.report import Report, SignatureReport, SignerInfo

    end = datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone.utc)
    signer = SignerInfo("T", None, None, "CN=T", "CN=CA", "1",
                        datetime(2024, 1, 1, tzinfo=timezone.utc), end)
    sig = SignatureReport("s1", Indication.TOTAL_PASSED, None, role="teacher", signer=signer,
                          integrity=True)
    render_html([Report(file="a.pdf", sha256="0" * 64, format="pdf", signatures=(sig,),
                        checks=())], lang="vi")


# -- a real server: chunked transfer without Content-Length ------------------------------

@pytest.fixture(scope="module")
def live_verifier(test_config: Config, trust_services: Any) -> Iterator[tuple[str, int, int]]:
    from werkzeug.serving import make_server

    app = make_verifier_app(test_config, max_file_mb=1.0)
    srv = make_server("127.0.0.1", 0, app, threaded=True)
    th = threading.Thread(target=srv.serve_forever, daemon=True)
    th.start()
    try:
        yield "127.0.0.1", srv.server_port, app.config["MAX_CONTENT_LENGTH"]
    finally:
        srv.shutdown()
        th.join(5)


def _chunked_post(host: str, port: int, chunks: Iterator[bytes] | list[bytes],
                  timeout: float = 30, path: str = API, ctype: str = "application/xml",
                  ) -> tuple[int, dict[str, str], bytes]:
    with socket.create_connection((host, port), timeout=timeout) as s:
        s.sendall(f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: {ctype}\r\n"
                  "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n".encode())
        try:
            for c in chunks:
                s.sendall(f"{len(c):x}\r\n".encode() + c + b"\r\n")
            s.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed early: that is the point
        buf = b""
        try:
            while True:
                d = s.recv(65536)
                if not d:
                    break
                buf += d
                head, sep, rest = buf.partition(b"\r\n\r\n")
                m = re.search(rb"(?i)content-length:\s*(\d+)", head)
                if sep and m and len(rest) >= int(m.group(1)):
                    break  # werkzeug's dev server may keep reading the unread body
        except ConnectionResetError:
            pass
    head, _, body = buf.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    hdrs = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:])}
    return status, hdrs, body


def test_attack_chunked_without_length(live_verifier: tuple[str, int, int]) -> None:
    host, port, limit = live_verifier
    status, hdrs, body = _chunked_post(host, port, [TINY_XML[:10], TINY_XML[10:]])
    assert status == 200, body[:300]
    assert json.loads(body)["results"][0]["format"] == "xml"
    # over the limit, never announced: refused with 413 JSON, in bounded time
    t = time.monotonic()
    chunk = b"A" * 65536
    status, hdrs, body = _chunked_post(host, port, [b"<x>"] + [chunk] * (limit // 65536 + 8))
    assert time.monotonic() - t < 30
    assert status == 413, body[:300]
    assert set(json.loads(body)) == {"error", "detail"}
    assert "default-src 'self'" in hdrs.get("content-security-policy", "")
    # the no-JS page, multipart, chunked, over the limit
    status, hdrs, body = _chunked_post(host, port, _multipart_chunks(limit), path="/",
                                       ctype="multipart/form-data; boundary=XyZbound")
    assert status == 413, body[:300]


def _multipart_chunks(limit: int) -> list[bytes]:
    head = (b'--XyZbound\r\nContent-Disposition: form-data; name="file"; filename="a.xml"\r\n'
            b"Content-Type: application/xml\r\n\r\n<x>")
    return [head] + [b"A" * 65536] * (limit // 65536 + 8) + [b"</x>\r\n--XyZbound--\r\n"]


# ============================================================================================
# Two-step signing service
# ============================================================================================

@pytest.fixture
def ts_app(test_config: Config, trust_services: Any, tmp_path: Path) -> Flask:
    from signer.service import create_app

    return create_app({"HOCBA_CONFIG_OBJ": test_config, "TWOSTEP_TOKEN": TOKEN,
                       "TWOSTEP_STATE_DIR": str(tmp_path / "state"), "TESTING": True})


@pytest.fixture
def tc(ts_app: Flask) -> Iterator[FlaskClient]:
    with ts_app.test_client() as c:
        yield c


@pytest.fixture(scope="module")
def one_xml(test_config: Any, test_pki: PkiLayout, trust_services: object) -> bytes:
    """A record the homeroom teacher signed: the principal may prepare it (CONTRACT 4)."""
    from recordbook.sample import sample_record
    from recordbook.xmlio import to_xml
    from tests.signing import sign_one

    return sign_one(test_config, test_pki, to_xml(sample_record(5)), "teacher", level="B-B")


@pytest.fixture(scope="module")
def p_certs(test_pki: PkiLayout) -> list[str]:
    return [test_pki.cert("principal").read_text(), test_pki.cert("interm").read_text()]


@pytest.fixture(scope="module")
def p_key(test_pki: PkiLayout) -> Any:
    from certs.pki import load_pkcs12

    return load_pkcs12(test_pki.p12("principal"), "123456")[0]


def _sign(key: Any, digest: bytes) -> bytes:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding
    from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

    return bytes(key.sign(digest, padding.PKCS1v15(), Prehashed(hashes.SHA256())))


def _prepare(tc: FlaskClient, certs: list[str], records: list[tuple[str, bytes]]) -> Any:
    return tc.post(TS, headers=AUTH, json={
        "role": "principal", "level": "B-B", "certificates": certs,
        "records": [{"name": n, "data": base64.b64encode(d).decode()} for n, d in records]})


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer ", "Bearer wrong",
                                    f"Basic {TOKEN}", f"Bearer {TOKEN}x", f"Bearer {TOKEN[:-1]}",
                                    "Bearer " + "é" * 10, f"bearer  {TOKEN}extra"])
def test_attack_ts_bad_tokens(tc: FlaskClient, header: str | None) -> None:
    headers = {} if header is None else {"Authorization": header}
    for r in (tc.post(TS, headers=headers, json={}), tc.get(f"{TS}/{'a' * 24}", headers=headers),
              tc.post(f"{TS}/{'a' * 24}/finish", headers=headers, json={})):
        _json_error(r, 401)
        assert r.headers.get("WWW-Authenticate", "").startswith("Bearer")


def test_attack_ts_token_in_query_string_refused(tc: FlaskClient) -> None:
    for q in ("access_token", "token", "bearer", "Authorization"):
        r = tc.post(TS, query_string={q: TOKEN}, json={})
        _json_error(r, 401)
    r = tc.post(TS, data={"access_token": TOKEN}, content_type="application/x-www-form-urlencoded")
    _json_error(r, 401)


def test_attack_ts_token_comparison_is_constant_time() -> None:
    from signer import service

    src = inspect.getsource(service._authenticate)
    assert "hmac.compare_digest(" in src
    assert not re.search(r"(given|token|expected)[^\n]*==|==[^\n]*(given|expected)", src)
    assert service.hmac is hmac


@pytest.mark.parametrize("bid", ["../../etc", "..%2F..%2Fetc", "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
                                 "." * 20, "a" * 15, "a" * 65, "A" * 20 + "%00", "A" * 20 + "\n",
                                 "..", "%252e%252e"])
def test_attack_ts_batch_id_path_traversal(tc: FlaskClient, bid: str) -> None:
    for r in (tc.get(f"{TS}/{bid}", headers=AUTH),
              tc.post(f"{TS}/{bid}/finish", headers=AUTH, json={"signatures": []})):
        _json_error(r, (400, 404, 405))


def test_attack_ts_prepare_bad_certificates(tc: FlaskClient, one_xml: bytes) -> None:
    for certs in (["not a certificate"], ["-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----"],
                  [base64.b64encode(b"\x30\x03\x02\x01\x01").decode()], ["MAMCAQE="],
                  [base64.b64encode(b"\x30\x82\xff\xff" + b"\0" * 20).decode()], ["\x30garbage"],
                  ["-----BEGIN CERTIFICATE-----\n" + "é" * 50 + "\n-----END CERTIFICATE-----"],
                  [], [""]):
        r = _prepare(tc, certs, [("a.xml", one_xml)])
        body = _json_error(r, (400, 422))
        assert "Traceback" not in body["detail"]


def test_attack_ts_prepare_record_counts_and_size(test_config: Config, trust_services: Any,
                                                  tmp_path: Path, p_certs: list[str],
                                                  one_xml: bytes) -> None:
    from signer.service import create_app

    cfg = test_config.with_overrides(limits=dataclasses.replace(test_config.limits,
                                                               max_zip_entries=3))
    app = create_app({"HOCBA_CONFIG_OBJ": cfg, "TWOSTEP_TOKEN": TOKEN,
                      "TWOSTEP_STATE_DIR": str(tmp_path / "s"), "TESTING": True,
                      "MAX_CONTENT_LENGTH": 2 * 1024 * 1024})
    with app.test_client() as c:
        _json_error(_prepare(c, p_certs, []), 400)
        _json_error(_prepare(c, p_certs, [(f"{i}.xml", one_xml) for i in range(4)]), 413)
        big = _prepare(c, p_certs, [("big.xml", b"<x>" + b"A" * 3 * 1024 * 1024 + b"</x>")])
        _json_error(big, 413)
        parts = {"role": "principal", "certificate": p_certs[0],
                 "file": [(io.BytesIO(one_xml), f"{i}.xml") for i in range(40)]}
        _json_error(c.post(TS, headers=AUTH, data=parts, content_type="multipart/form-data"), 413)
    assert not list((tmp_path / "s").glob("*")) or all(
        p.name.startswith(".") for p in (tmp_path / "s").iterdir())


@pytest.mark.parametrize("body", [
    [], "x", 1, None,
    {"role": 1, "certificates": ["x"], "records": []},
    {"role": ["principal"], "certificates": ["x"], "records": []},
    {"role": "principal", "level": 3, "certificates": ["x"], "records": [{"data": "AA=="}]},
    {"role": "principal", "certificates": "PEM", "records": []},
    {"role": "principal", "certificates": [1, 2], "records": []},
    {"role": "principal", "certificates": ["x"], "records": {"a": "b"}},
    {"role": "principal", "certificates": ["x"], "records": [1]},
    {"role": "principal", "certificates": ["x"], "records": [{"name": "a", "data": 5}]},
    {"role": "principal", "certificates": ["x"], "records": [{"name": "a", "data": "!!!"}]},
    {"role": "principal", "certificates": ["x"], "records": [{"name": {"x": 1}, "data": "AA=="}]},
    {"role": "king", "certificates": ["x"], "records": [{"name": "a", "data": "AA=="}]},
    {"role": "principal", "level": "Z-Z", "certificates": ["x"], "records": [{"name": "a", "data": "AA=="}]},
])
def test_attack_ts_prepare_json_wrong_types(tc: FlaskClient, body: Any) -> None:
    r = tc.post(TS, headers=AUTH, data=json.dumps(body), content_type="application/json")
    _json_error(r, (400, 422))


def test_attack_ts_prepare_wrong_media_types(tc: FlaskClient) -> None:
    _json_error(tc.post(TS, headers=AUTH, data=b"role=principal",
                        content_type="application/x-www-form-urlencoded"), 415)
    _json_error(tc.post(TS, headers=AUTH, data=b"{not json", content_type="application/json"), 400)
    _json_error(tc.put(TS, headers=AUTH, json={}), 405)


@pytest.fixture
def prepared(tc: FlaskClient, p_certs: list[str], one_xml: bytes) -> dict[str, Any]:
    r = _prepare(tc, p_certs, [("a.xml", one_xml)])
    assert r.status_code == 201, r.data[:500]
    return dict(r.json)


def test_attack_ts_finish_bad_values_do_not_consume_batch(tc: FlaskClient, prepared: dict[str, Any],
                                                          p_key: Any) -> None:
    bid = prepared["batch_id"]
    url = f"{TS}/{bid}/finish"
    for sigs in ([{"id": "99", "value": "AAAA"}], [{"id": "../0", "value": "AAAA"}],
                 {"0": "not base64!"}, [{"id": "0", "value": 12}], [{"value": "AAAA"}], ["AAAA"],
                 "AAAA", None, {"0": ["x"]}, [{"id": ["0"], "value": "AA=="}]):
        r = tc.post(url, headers=AUTH, json={"signatures": sigs})
        _json_error(r, (400, 422))
    _json_error(tc.post(url, headers=AUTH, json=[1, 2]), 400)
    _json_error(tc.post(url, headers=AUTH, data=b"x", content_type="text/plain"), 415)
    # still finishable
    item = prepared["items"][0]
    value = _sign(p_key, base64.b64decode(item["digest"]))
    r = tc.post(url, headers=AUTH, json={"signatures": [
        {"id": item["id"], "value": base64.b64encode(value).decode()}]})
    assert r.status_code == 200, r.data[:500]
    assert r.json["signed"] == 1


def test_attack_ts_finish_huge_value(ts_app: Flask, tc: FlaskClient,
                                     prepared: dict[str, Any]) -> None:
    bid = prepared["batch_id"]
    huge = base64.b64encode(os.urandom(ts_app.config["MAX_CONTENT_LENGTH"])).decode()
    _json_error(tc.post(f"{TS}/{bid}/finish", headers=AUTH,
                        json={"signatures": [{"id": "0", "value": huge}]}), 413)
    # large but within the body limit: refused for the record, quickly
    t = time.monotonic()
    big = base64.b64encode(os.urandom(2 * 1024 * 1024)).decode()
    r = tc.post(f"{TS}/{bid}/finish", headers=AUTH, json={"signatures": [{"id": "0", "value": big}]})
    _sane(r)
    assert time.monotonic() - t < 20
    assert r.status_code in (200, 400, 413, 422)
    if r.status_code == 200:
        assert r.json["signed"] == 0


def test_attack_ts_finish_concurrently_twice_one_wins(ts_app: Flask, prepared: dict[str, Any],
                                                      p_key: Any) -> None:
    item = prepared["items"][0]
    value = base64.b64encode(_sign(p_key, base64.b64decode(item["digest"]))).decode()
    url = f"{TS}/{prepared['batch_id']}/finish"
    barrier = threading.Barrier(4)
    results: list[tuple[int, Any]] = []
    lock = threading.Lock()

    def go() -> None:
        with ts_app.test_client() as c:
            barrier.wait()
            r = c.post(url, headers=AUTH, json={"signatures": [{"id": item["id"], "value": value}]})
            with lock:
                results.append((r.status_code, r.get_json()))

    threads = [threading.Thread(target=go) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    codes = sorted(c for c, _ in results)
    assert codes.count(200) == 1, results
    assert all(c == 409 for c in codes if c != 200), results
    for c, body in results:
        if c == 409:
            assert set(body) == {"error", "detail"}


def test_attack_ts_record_names_are_nfc_labels(tc: FlaskClient, p_certs: list[str],
                                               one_xml: bytes) -> None:
    nfd = unicodedata.normalize("NFD", "Nguyễn Thị Hằng.xml")
    hostile = "../../etc/passwd\x00\r\n<b>.xml"
    r = _prepare(tc, p_certs, [(nfd, one_xml), (hostile, one_xml)])
    assert r.status_code == 201, r.data[:300]
    names = [i["name"] for i in r.json["items"]]
    assert names[0] == unicodedata.normalize("NFC", nfd)
    assert "\x00" not in names[1] and "\n" not in names[1]
    st = tc.get(f"{TS}/{r.json['batch_id']}", headers=AUTH)
    assert [i["name"] for i in st.json["items"]] == names
