"""The web page without a browser: Vietnamese/English, no-JavaScript form post, assets."""
from __future__ import annotations

import base64
import io
import json
import re
from html.parser import HTMLParser
from typing import Any

from flask.testing import FlaskClient

from ground.config import Config
from tests.verifier.web.conftest import Records, make_app

HTML = {"Accept": "text/html,application/xhtml+xml"}


class _Scan(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[dict[str, str | None]] = []
        self.inline_handlers: list[str] = []
        self.styles: list[str] = []
        self.urls: list[str] = []
        self.in_script = False
        self.script_text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "script":
            self.scripts.append(a)
            self.in_script = True
        if tag == "style":
            self.styles.append(tag)
        for k, v in attrs:
            if k.startswith("on"):
                self.inline_handlers.append(f"{tag}.{k}")
            if k == "style":
                self.styles.append(f"{tag}[style]")
            if k in ("src", "href", "action") and v:
                self.urls.append(v)

    def handle_endtag(self, tag: str) -> None:
        self.in_script = False if tag == "script" else self.in_script

    def handle_data(self, data: str) -> None:
        if self.in_script:
            self.script_text += data


def scan(html: str) -> _Scan:
    s = _Scan()
    s.feed(html)
    return s


def test_index_is_vietnamese_with_english_switch(client: FlaskClient) -> None:
    r = client.get("/")
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and r.mimetype == "text/html"
    assert '<html lang="vi">' in html and "Xác thực học bạ số" in html
    assert 'href="/?lang=en"' in html
    en = client.get("/?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in en and "Student record book verification" in en
    assert 'href="/?lang=vi"' in en


def test_page_has_no_inline_script_or_style_and_only_local_assets(client: FlaskClient) -> None:
    s = scan(client.get("/").get_data(as_text=True))
    assert s.scripts and all(x.get("src", "").startswith("/static/") for x in s.scripts)
    assert not s.script_text.strip() and not s.inline_handlers and not s.styles
    assert all(u.startswith(("/", "?")) for u in s.urls), s.urls
    for u in s.urls:
        if u.startswith("/static/"):
            assert client.get(u).status_code == 200, u
    js = client.get("/static/app.js").get_data(as_text=True)
    css = client.get("/static/app.css").get_data(as_text=True)
    assert "http://" not in js + css and "https://" not in js + css


def test_form_post_without_javascript_renders_result_cards(client: FlaskClient,
                                                           records: Records) -> None:
    r = client.post("/", data={"lang": "vi", "file": [(io.BytesIO(records.signed), "hs01.pdf"),
                                                      (io.BytesIO(records.tampered), "hs02.pdf")]},
                    headers=HTML)
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    assert html.count('class="card verdict-') == 2
    assert 'data-indication="TOTAL_PASSED" data-file="hs01.pdf"' in html
    assert 'data-indication="TOTAL_FAILED" data-file="hs02.pdf"' in html
    for text in ("Hợp lệ", "Không hợp lệ", "Nội dung đã bị sửa sau khi ký",
                 "Giáo viên chủ nhiệm", "Hiệu trưởng", "Con dấu đơn vị", records.student,
                 "Trường Tiểu học", "Thứ tự ký", "Hiệu lực chứng thư", "Dấu thời gian"):
        assert text in html, text
    assert not scan(html).inline_handlers


def test_downloads_are_the_same_report_as_the_api(client: FlaskClient, records: Records) -> None:
    html = client.post("/?fragment=1", data={"file": (io.BytesIO(records.tampered), "hs.pdf")},
                       headers=HTML).get_data(as_text=True)
    assert html.lstrip().startswith("<article")
    m = re.search(r'download="hs\.report\.json" href="data:application/json;charset=utf-8;'
                  r'base64,([A-Za-z0-9+/=]+)"', html)
    assert m, html[:500]
    from_page = json.loads(base64.b64decode(m.group(1)))
    api = client.post("/api/v1/verify?name=hs.pdf", data=records.tampered,
                      content_type="application/pdf").json["results"][0]
    for key in ("sha256", "indication", "subindication", "message", "signatures"):
        assert from_page[key] == api[key] or key == "signatures" and len(from_page[key]) == len(
            api[key])
    m = re.search(r'download="hs\.report\.html" href="data:text/html;charset=utf-8;'
                  r'base64,([A-Za-z0-9+/=]+)"', html)
    assert m
    report = base64.b64decode(m.group(1)).decode("utf-8")
    assert "Không hợp lệ" in report and "hs.pdf" in report
    assert "<script" not in report


def test_english_cards(client: FlaskClient, records: Records) -> None:
    html = client.post("/?fragment=1&lang=en",
                       data={"file": (io.BytesIO(records.tampered), "hs.pdf")},
                       headers=HTML).get_data(as_text=True)
    assert "Invalid" in html and "The content was changed after signing." in html
    assert "Homeroom teacher" in html


def test_form_post_errors_keep_the_page_and_status(client: FlaskClient) -> None:
    r = client.post("/", data={"file": (io.BytesIO(b"\xff\xd8\xffJFIF"), "anh.jpg")},
                    headers=HTML)
    assert r.status_code == 415 and r.mimetype == "text/html"
    assert 'role="alert"' in r.get_data(as_text=True)


def test_fragment_errors_are_json(client: FlaskClient) -> None:
    r = client.post("/?fragment=1", data={"file": (io.BytesIO(b"\xff\xd8\xffJFIF"), "anh.jpg")},
                    headers=HTML)
    assert r.status_code == 415 and r.json["error"] == "unsupported_media_type"


def test_file_names_are_escaped(client: FlaskClient, records: Records) -> None:
    html = client.post("/?fragment=1", data={"file": (io.BytesIO(records.unsigned),
                                                      '<img src=x onerror=alert(1)>.pdf')},
                       headers=HTML).get_data(as_text=True)
    assert "<img" not in html and "&lt;img" in html




def test_oversized_form_post_is_413_not_500(test_config: Config) -> None:
    c = make_app(test_config, max_file_mb=0.5).test_client()
    big = b"%PDF-1.7" + b"x" * 700_000
    r = c.post("/", data={"lang": "en", "file": (io.BytesIO(big), "a.pdf")}, headers=HTML)
    assert r.status_code == 413 and 'role="alert"' in r.get_data(as_text=True)
    r = c.post("/?fragment=1", data={"file": (io.BytesIO(big), "a.pdf")}, headers=HTML)
    assert r.status_code == 413 and r.json["error"] == "payload_too_large"
