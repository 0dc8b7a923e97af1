"""POST /api/v1/verify and friends (CONTRACT 7), with real signed records."""
from __future__ import annotations

import io
import json
import logging
import os
import zipfile
from typing import Any

import pytest
from flask.testing import FlaskClient

from ground.config import Config
from tests.verifier.web import schema_check
from tests.verifier.web.conftest import Records, XmlRecords, make_app, zip_of

API = "/api/v1/verify"


@pytest.fixture(scope="module")
def spec(app: Any) -> dict[str, Any]:
    with app.test_client() as c:
        r = c.get("/openapi.json")
    assert r.status_code == 200
    return dict(r.json)


def results(r: Any, spec: dict[str, Any]) -> list[dict[str, Any]]:
    assert r.status_code == 200, r.data[:500]
    assert r.mimetype == "application/json"
    schema_check.check(spec, API, "post", 200, r.json)
    return list(r.json["results"])


def error(r: Any, status: int, spec: dict[str, Any]) -> dict[str, Any]:
    assert r.status_code == status, (r.status_code, r.data[:300])
    assert r.mimetype == "application/json"
    problems = schema_check.errors(r.json, spec["components"]["schemas"]["Error"], spec)
    assert not problems, problems
    return dict(r.json)


# -- 200 --------------------------------------------------------------------------------

def test_raw_pdf_body_signed_record_passes(client: FlaskClient, records: Records,
                                           spec: dict[str, Any]) -> None:
    r = client.post(API, data=records.signed, content_type="application/pdf")
    [rep] = results(r, spec)
    assert rep["indication"] == "TOTAL_PASSED", rep["message"]
    assert rep["format"] == "pdf" and rep["file"] == "upload.pdf"
    assert [s["role"] for s in rep["signatures"]] == ["teacher", "principal", "seal"]
    assert rep["record"]["student"] == records.student


def test_multipart_many_files_one_result_each_in_order(client: FlaskClient, records: Records,
                                                       spec: dict[str, Any]) -> None:
    r = client.post(API, data={"file": [(io.BytesIO(records.signed), "a.pdf"),
                                        (io.BytesIO(records.tampered), "b.pdf")]},
                    content_type="multipart/form-data")
    a, b = results(r, spec)
    assert (a["file"], a["indication"]) == ("a.pdf", "TOTAL_PASSED")
    assert (b["file"], b["indication"], b["subindication"]) == ("b.pdf", "TOTAL_FAILED",
                                                                "HASH_FAILURE")


@pytest.mark.parametrize("ctype", ["application/xml", "text/xml"])
def test_raw_xml_body_signed_and_tampered(ctype: str, client: FlaskClient,
                                          xml_records: XmlRecords, spec: dict[str, Any]) -> None:
    [ok] = results(client.post(API, data=xml_records.signed, content_type=ctype), spec)
    assert (ok["format"], ok["indication"], ok["file"]) == ("xml", "TOTAL_PASSED", "upload.xml")
    [ko] = results(client.post(API, data=xml_records.tampered, content_type=ctype), spec)
    assert (ko["indication"], ko["subindication"]) == ("TOTAL_FAILED", "HASH_FAILURE")


def test_multipart_mixed_pdf_and_xml(client: FlaskClient, records: Records,
                                     xml_records: XmlRecords, spec: dict[str, Any]) -> None:
    r = client.post(API, data={"file": [(io.BytesIO(records.signed), "hs.pdf"),
                                        (io.BytesIO(xml_records.signed), "hs.xml")]},
                    content_type="multipart/form-data")
    assert [(x["format"], x["indication"]) for x in results(r, spec)] == [
        ("pdf", "TOTAL_PASSED"), ("xml", "TOTAL_PASSED")]


def test_lang_en_switches_messages(client: FlaskClient, records: Records,
                                   spec: dict[str, Any]) -> None:
    vi = results(client.post(API, data=records.tampered, content_type="application/pdf"), spec)
    en = results(client.post(API + "?lang=en", data=records.tampered,
                             content_type="application/pdf"), spec)
    assert vi[0]["message"] != en[0]["message"]
    assert en[0]["message"].isascii()


def test_validation_time_is_honoured(client: FlaskClient, records: Records,
                                     spec: dict[str, Any]) -> None:
    [rep] = results(client.post(API + "?validation_time=2031-01-01T00:00:00Z",
                                data=records.signed, content_type="application/pdf"), spec)
    assert rep["validation_time"].startswith("2031-01-01T00:00:00")


def test_zip_batch_gives_a_result_per_entry(client: FlaskClient, records: Records,
                                            spec: dict[str, Any]) -> None:
    inner = zip_of({"x.pdf": records.signed})
    batch = zip_of({"lop12A/": b"", "lop12A/hs01.pdf": records.signed,
                    "lop12A/hs02.pdf": records.tampered, "ghi-chu.txt": b"xin chao",
                    "nested.zip": inner, "__MACOSX/._hs01.pdf": b"\x00\x05\x16\x07"})
    r = client.post(API, data={"file": (io.BytesIO(batch), "dot1.zip")},
                    content_type="multipart/form-data")
    got = {x["file"]: x for x in results(r, spec)}
    assert list(got) == ["dot1.zip/lop12A/hs01.pdf", "dot1.zip/lop12A/hs02.pdf",
                         "dot1.zip/ghi-chu.txt", "dot1.zip/nested.zip"]
    assert got["dot1.zip/lop12A/hs01.pdf"]["indication"] == "TOTAL_PASSED"
    assert got["dot1.zip/lop12A/hs02.pdf"]["subindication"] == "HASH_FAILURE"
    for name in ("dot1.zip/ghi-chu.txt", "dot1.zip/nested.zip"):  # reported, not expanded
        assert got[name]["subindication"] == "FORMAT_FAILURE"


def test_raw_zip_body(client: FlaskClient, records: Records, spec: dict[str, Any]) -> None:
    batch = zip_of({"a.pdf": records.signed, "b.pdf": records.unsigned})
    out = results(client.post(API + "?name=lo.zip", data=batch,
                              content_type="application/zip"), spec)
    assert [(x["file"], x["indication"]) for x in out] == [
        ("lo.zip/a.pdf", "TOTAL_PASSED"), ("lo.zip/b.pdf", "TOTAL_FAILED")]


def test_zip_entry_names_are_only_labels(client: FlaskClient, records: Records,
                                         spec: dict[str, Any], tmp_path: Any) -> None:
    batch = zip_of({"../../../../tmp/evil.pdf": records.signed, "/etc/passwd.pdf": b"%PDF-1.7"})
    out = results(client.post(API, data=batch, content_type="application/zip"), spec)
    assert [x["file"] for x in out] == ["upload.zip/../../../../tmp/evil.pdf",
                                        "upload.zip//etc/passwd.pdf"]
    assert not os.path.exists("/tmp/evil.pdf")


# -- malformed input: FORMAT_FAILURE reports --------------------------------------------

MALFORMED = {
    "truncated_pdf": ("application/pdf", lambda r: r.signed[: len(r.signed) // 2]),
    "empty_pdf": ("application/pdf", lambda r: b""),
    "xml_not_well_formed": ("application/xml", lambda r: b"<HocBa><NamHoc></HocBa>"),
    "xml_billion_laughs": ("text/xml", lambda r: (
        b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">'
        b']><l>&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;</l>')),
    "xml_external_entity": ("application/xml", lambda r: (
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>')),
    "pdf_header_then_garbage": ("application/pdf", lambda r: b"%PDF-1.7\n" + os.urandom(4000)),
    "declared_pdf_random_bytes": ("application/pdf", lambda r: os.urandom(2000)),
}


@pytest.mark.parametrize("kind", list(MALFORMED))
def test_malformed_input_is_a_format_failure_report(kind: str, client: FlaskClient,
                                                    records: Records,
                                                    spec: dict[str, Any]) -> None:
    ctype, make = MALFORMED[kind]
    [rep] = results(client.post(API, data=make(records), content_type=ctype), spec)
    assert (rep["indication"], rep["subindication"]) == ("TOTAL_FAILED", "FORMAT_FAILURE")
    assert "root:" not in json.dumps(rep)  # no expanded external entity


def test_multipart_part_declared_pdf_with_garbage_is_format_failure(
        client: FlaskClient, spec: dict[str, Any]) -> None:
    r = client.post(API, data={"file": (io.BytesIO(b"\x00\x01garbage"), "hs.pdf",
                                        "application/pdf")}, content_type="multipart/form-data")
    [rep] = results(r, spec)
    assert rep["subindication"] == "FORMAT_FAILURE"


def test_damaged_zip_is_a_format_failure_report(client: FlaskClient,
                                                spec: dict[str, Any]) -> None:
    [rep] = results(client.post(API, data=b"PK\x03\x04 broken" * 10,
                                content_type="application/zip"), spec)
    assert rep["subindication"] == "FORMAT_FAILURE"


# -- 4xx ------------------------------------------------------------------------------

@pytest.mark.parametrize("ctype,body", [
    ("image/png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 100),
    ("text/plain", b"hello"),
    ("application/json", b'{"file": "x"}'),
    ("application/x-www-form-urlencoded", b"file=abc"),
    ("application/octet-stream", b"\x89PNG\r\n\x1a\n"),
], ids=["png", "text", "json", "urlencoded", "octet-stream-png"])
def test_unsupported_type_is_415(ctype: str, body: bytes, client: FlaskClient,
                                 spec: dict[str, Any]) -> None:
    e = error(client.post(API, data=body, content_type=ctype), 415, spec)
    assert e["error"] == "unsupported_media_type" and e["detail"]


def test_multipart_photo_is_415(client: FlaskClient, spec: dict[str, Any]) -> None:
    r = client.post(API, data={"file": (io.BytesIO(b"\xff\xd8\xff\xe0JFIF"), "anh.jpg",
                                        "image/jpeg")}, content_type="multipart/form-data")
    error(r, 415, spec)


def test_multipart_without_file_is_400(client: FlaskClient, spec: dict[str, Any]) -> None:
    r = client.post(API, data={"other": "x"}, content_type="multipart/form-data")
    assert error(r, 400, spec)["error"] == "no_file"


def test_bad_query_parameters_are_400(client: FlaskClient, records: Records,
                                      spec: dict[str, Any]) -> None:
    for q in ("?lang=fr", "?validation_time=yesterday"):
        error(client.post(API + q, data=records.signed, content_type="application/pdf"),
              400, spec)


def test_body_over_limit_is_413(test_config: Config, records: Records,
                                spec: dict[str, Any]) -> None:
    small = make_app(test_config, max_file_mb=1.0).test_client()
    big = records.signed + b"%" + b"x" * (1024 * 1024)
    e = error(small.post(API, data=big, content_type="application/pdf"), 413, spec)
    assert e["error"] == "payload_too_large"
    error(small.post(API, data={"file": (io.BytesIO(big), "big.pdf")},
                     content_type="multipart/form-data"), 413, spec)


def test_default_limit_is_20_mb(app: Any) -> None:
    assert app.config["MAX_CONTENT_LENGTH"] == 20 * 1024 * 1024


def test_unknown_path_and_method_are_json(client: FlaskClient, spec: dict[str, Any]) -> None:
    assert error(client.get("/khong-co"), 404, spec)["error"] == "not_found"
    r = client.get(API)
    assert error(r, 405, spec)["error"] == "method_not_allowed"
    assert "POST" in r.headers["Allow"]
    error(client.delete("/healthz"), 405, spec)


# -- zip bombs ----------------------------------------------------------------------------

def test_zip_bomb_too_many_entries_is_413(test_config: Config, spec: dict[str, Any]) -> None:
    c = make_app(test_config, max_zip_entries=5).test_client()
    batch = zip_of({f"hs{i}.pdf": b"%PDF-1.7" for i in range(6)})
    e = error(c.post(API, data=batch, content_type="application/zip"), 413, spec)
    assert e["error"] == "zip_limit_exceeded"


def test_zip_bomb_total_uncompressed_size_is_413(test_config: Config,
                                                 spec: dict[str, Any]) -> None:
    c = make_app(test_config, max_zip_total_mb=1.0, max_zip_ratio=1e9).test_client()
    batch = zip_of({"a.pdf": b"%PDF-1.7" + b"\x00" * (600 * 1024),
                    "b.pdf": b"%PDF-1.7" + b"\x00" * (600 * 1024)})
    assert len(batch) < 20 * 1024
    e = error(c.post(API, data=batch, content_type="application/zip"), 413, spec)
    assert e["error"] == "zip_limit_exceeded"


def test_zip_bomb_ratio_entry_is_not_expanded(client: FlaskClient, records: Records,
                                              spec: dict[str, Any]) -> None:
    bomb = b"%PDF-1.7" + b"\x00" * (8 * 1024 * 1024)  # deflates about 1000:1
    batch = zip_of({"bomb.pdf": bomb, "ok.pdf": records.signed})
    out = results(client.post(API, data=batch, content_type="application/zip"), spec)
    assert out[0]["subindication"] == "FORMAT_FAILURE" and out[0]["sha256"] == ""
    assert out[1]["indication"] == "TOTAL_PASSED"


def test_zip_entry_lying_about_its_size_is_refused(client: FlaskClient,
                                                   spec: dict[str, Any]) -> None:
    batch = bytearray(zip_of({"a.pdf": b"%PDF-1.7" + b"A" * 5000},
                             compression=zipfile.ZIP_STORED))
    # Shrink the declared size in the central directory: zipfile then reads at most
    # that much and the CRC no longer matches: a report, never more bytes than declared.
    cd = batch.rindex(b"PK\x01\x02")
    batch[cd + 24:cd + 28] = (100).to_bytes(4, "little")
    r = client.post(API, data=bytes(batch), content_type="application/zip")
    assert r.status_code in (200, 413)
    if r.status_code == 200:
        assert results(r, spec)[0]["subindication"] == "FORMAT_FAILURE"


# -- never a 500 --------------------------------------------------------------------------

GARBAGE = {
    "multipart_no_boundary": ("multipart/form-data", b"--x\r\n\r\nabc"),
    "multipart_truncated": ("multipart/form-data; boundary=B",
                            b'--B\r\nContent-Disposition: form-data; name="file"; '
                            b'filename="a.pdf"\r\n\r\n%PDF-1.7 trunc'),
    "multipart_bad_header": ("multipart/form-data; boundary=B",
                             b"--B\r\n\x00\x01\x02\r\n\r\n--B--\r\n"),
    "multipart_only_closing": ("multipart/form-data; boundary=B", b"--B--\r\n"),
    "pdf_null_bytes": ("application/pdf", b"\x00" * 10000),
    "xml_utf16_junk": ("application/xml", b"\xff\xfe<\x00a\x00\xd8"),
    "zip_random": ("application/zip", b"PK\x05\x06" + os.urandom(200)),
    "no_content_type": ("", os.urandom(300)),
    "weird_content_type": ("a/b/c;;;=", b"abc"),
    "random_octets": ("application/octet-stream", os.urandom(5000)),
}


@pytest.mark.parametrize("kind", list(GARBAGE))
def test_garbage_never_gets_a_500(kind: str, client: FlaskClient) -> None:
    ctype, body = GARBAGE[kind]
    headers = {"Content-Type": ctype} if ctype else {}
    r = client.post(API, data=body, headers=headers)
    assert r.status_code < 500, r.data[:300]
    assert r.mimetype == "application/json"
    assert "results" in r.json or {"error", "detail"} <= set(r.json)


def test_a_core_crash_is_a_report_and_logged_by_hash_only(
        test_config: Config, caplog: pytest.LogCaptureFixture, spec: dict[str, Any]) -> None:
    from verifier.app import create_app

    class Exploding:
        def verify(self, data: bytes, *, name: str, validation_time: Any = None) -> Any:
            raise ZeroDivisionError("secret content Nguyễn Văn An")

    c = create_app({"HOCBA_CONFIG_OBJ": test_config, "VERIFIER": Exploding()}).test_client()
    with caplog.at_level(logging.INFO, logger="verifier.web"):
        r = c.post(API + "?name=Nguyen_Van_An.pdf", data=b"%PDF-1.7 x",
                   content_type="application/pdf")
    [rep] = results(r, spec)
    assert rep["subindication"] == "FORMAT_FAILURE"
    assert "ZeroDivisionError" in caplog.text
    assert "Nguy" not in caplog.text and "secret" not in caplog.text


def test_time_limit_gives_try_later(test_config: Config, records: Records,
                                    spec: dict[str, Any]) -> None:
    from verifier.app import create_app

    app = create_app({"HOCBA_CONFIG_OBJ": test_config, "HOCBA_REQUEST_TIMEOUT": 0.0})
    out = results(app.test_client().post(API, data={"file": [
        (io.BytesIO(records.signed), "a.pdf"), (io.BytesIO(records.signed), "b.pdf")]},
        content_type="multipart/form-data"), spec)
    assert [(x["indication"], x["subindication"]) for x in out] == [
        ("INDETERMINATE", "TRY_LATER")] * 2


# -- logs, headers, health, openapi ---------------------------------------------------

def test_logs_carry_hash_and_verdict_not_names(client: FlaskClient, records: Records,
                                               caplog: pytest.LogCaptureFixture) -> None:
    import hashlib

    with caplog.at_level(logging.INFO, logger="verifier.web"):
        client.post(API + "?name=Tran_Thanh_Lan.pdf", data=records.tampered,
                    content_type="application/pdf")
    line = next(r.getMessage() for r in caplog.records if r.name == "verifier.web")
    assert hashlib.sha256(records.tampered).hexdigest() in line
    assert "indication=TOTAL_FAILED" in line
    assert "Tran_Thanh" not in caplog.text and records.student not in caplog.text


@pytest.mark.parametrize("path,method", [("/", "get"), ("/healthz", "get"), (API, "post"),
                                         ("/nope", "get"), ("/static/app.js", "get")])
def test_security_headers_everywhere(path: str, method: str, client: FlaskClient) -> None:
    r = getattr(client, method)(path)
    csp = r.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Referrer-Policy"] == "no-referrer"


def test_reports_are_not_cached(client: FlaskClient, records: Records) -> None:
    r = client.post(API, data=records.signed, content_type="application/pdf")
    assert r.headers["Cache-Control"] == "no-store"


def test_healthz(client: FlaskClient, spec: dict[str, Any]) -> None:
    r = client.get("/healthz")
    assert r.status_code == 200
    schema_check.check(spec, "/healthz", "get", 200, r.json)
    assert r.json["trust_anchors"] >= 1


def test_openapi_describes_the_api(spec: dict[str, Any]) -> None:
    assert spec["openapi"].startswith("3.1")
    op = spec["paths"]["/api/v1/verify"]["post"]
    assert set(op["requestBody"]["content"]) >= {"multipart/form-data", "application/pdf",
                                                 "application/xml", "application/zip"}
    assert set(op["responses"]) >= {"200", "400", "413", "415"}
    assert "20 MB" in op["responses"]["413"]["description"]


def _documented(rule: str) -> str:
    """A werkzeug rule as an OpenAPI path: ``/x/<job_id>`` -> ``/x/{job_id}``."""
    import re

    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def test_openapi_documents_every_api_route(app: Any, spec: dict[str, Any]) -> None:
    """Every route of the app under /api/, with each of its methods, is in /openapi.json
    (with its path parameters), and nothing is documented that the app does not serve."""
    served: set[tuple[str, str]] = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            served.add((_documented(rule.rule), method.lower()))
            op = spec["paths"].get(_documented(rule.rule), {}).get(method.lower())
            assert op is not None, f"{method} {rule.rule} is not in /openapi.json"
            params = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
            assert params == set(rule.arguments), (rule.rule, method, params)
            assert op["responses"], (rule.rule, method)
            for status, resp in op["responses"].items():
                if status.startswith(("4", "5")):
                    assert resp["content"]["application/json"]["schema"] == {
                        "$ref": "#/components/schemas/Error"}, (rule.rule, method, status)
    documented = {(path, m) for path, ops in spec["paths"].items() if path.startswith("/api/")
                  for m in ops}
    assert documented == served
    assert {"/api/v1/jobs", "/api/v1/jobs/{job_id}", "/api/v1/jobs/{job_id}/results"} <= \
        {p for p, _ in served}


def test_openapi_describes_the_jobs_api(spec: dict[str, Any]) -> None:
    paths = spec["paths"]
    post = paths["/api/v1/jobs"]["post"]
    assert set(post["requestBody"]["content"]) >= {"multipart/form-data", "application/zip"}
    assert set(post["responses"]) == {"202", "400", "413", "415", "503"}
    assert "20 MB" in post["description"] and "1000 files" in post["description"]
    assert set(paths["/api/v1/jobs/{job_id}"]["get"]["responses"]) == {"200", "404", "503"}
    assert set(paths["/api/v1/jobs/{job_id}"]["delete"]["responses"]) == {"204", "404", "503"}
    results = paths["/api/v1/jobs/{job_id}/results"]["get"]
    assert {p["name"] for p in results["parameters"]} == {"job_id", "format", "start", "lang"}
    ok = results["responses"]["200"]
    assert set(ok["content"]) == {"application/x-ndjson", "text/csv"}
    assert set(ok["headers"]) >= {"X-Hocba-Job-Status", "X-Hocba-Job-Done", "X-Hocba-Job-Total"}
    assert set(spec["components"]["schemas"]["JobStatus"]["required"]) == {
        "job_id", "status", "total", "done", "counts", "results_url"}


def test_uploads_use_in_memory_streams(app: Any) -> None:
    from verifier.app import InMemoryRequest

    assert app.request_class is InMemoryRequest
    with app.test_request_context("/"):
        from flask import request

        stream = request._get_file_stream(50 * 1024 * 1024, "application/pdf", "a.pdf")
    assert isinstance(stream, io.BytesIO)


def test_docx_renamed_pdf_is_not_unpacked(client: Any) -> None:
    """Issue 16 item 5: a ZIP is expanded only when sent as a ZIP; an OOXML document
    renamed .pdf is 'not a PDF or XML record', as in the CLI."""
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        z.writestr("word/document.xml", '<?xml version="1.0"?><w:document xmlns:w="urn:w"/>')
    docx = buf.getvalue()
    r = client.post("/api/v1/verify?lang=en",
                    data={"file": (io.BytesIO(docx), "hocba.pdf", "application/pdf")})
    assert r.status_code == 200, r.data[:300]
    [res] = r.get_json()["results"]
    assert res["file"] == "hocba.pdf"
    assert (res["indication"], res["subindication"]) == ("TOTAL_FAILED", "FORMAT_FAILURE")
    assert not res["signatures"]
    r = client.post("/api/v1/verify", data=docx, content_type="application/pdf")
    [res] = r.get_json()["results"]
    assert res["subindication"] == "FORMAT_FAILURE" and not res["signatures"]
