"""Reports in words, not in codes (issue 16 items 7 and 12).

- Certificate names show their attribute types in words ("Chức vụ: …" / "Title: …"),
  never the title's OID ``2.5.4.12=``; the revocation source is "nhúng trong tệp" /
  "embedded in the file", "OCSP", "CRL", never ``EMBEDDED``; the TSA by its name.
- On a tampered record, "Dấu thời gian hợp lệ" next to "Nội dung đã bị sửa sau khi ký"
  says that the timestamp proves only when the original was signed.
Checked on the page (Flask client and headless Chromium), the HTML report and the text
report of ``hocba verify``.
"""
from __future__ import annotations

import io
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from certs.pki import PkiLayout
from tests.verifier.web.conftest import Records

HTML = {"Accept": "text/html"}
TS_NOTE = {"vi": "chứng minh thời điểm của bản gốc", "en": "proves only when the original"}
RAW = ("2.5.4.12=", "EMBEDDED", "nguồn: embedded)", "source: embedded)", "CN=")


def card_html(client: FlaskClient, data: bytes, lang: str) -> str:
    r = client.post(f"/?fragment=1&lang={lang}", data={"file": (io.BytesIO(data), "hs.pdf")},
                    headers=HTML)
    assert r.status_code == 200
    return r.get_data(as_text=True)


def visible_text(html: str) -> str:
    """The card's text without tags and attributes (data: URLs hold the JSON report)."""
    html = re.sub(r'href="data:[^"]*"', "", html)
    return re.sub(r"<[^>]+>", " ", html)


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_page_names_and_sources_in_words(client: FlaskClient, records: Records,
                                         lang: str) -> None:
    text = visible_text(card_html(client, records.signed, lang))
    for raw in RAW:
        assert raw not in text, raw
    if lang == "vi":
        assert "Chức vụ: Giáo viên chủ nhiệm" in text  # the chain, in words
        assert "(nguồn: nhúng trong tệp)" in text or "(nguồn: OCSP)" in text
    else:
        assert "Title: Giáo viên chủ nhiệm" in text
        assert "(source: embedded in the file)" in text or "(source: OCSP)" in text
    assert "Dịch vụ cấp dấu thời gian Sông Hương" in text  # the TSA by name
    assert TS_NOTE[lang] not in text  # an intact record needs no such note


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_tampered_card_says_the_timestamp_proves_only_the_original(
        client: FlaskClient, records: Records, lang: str) -> None:
    html = card_html(client, records.tampered, lang)
    text = visible_text(html)
    changed = "Nội dung đã bị sửa sau khi ký" if lang == "vi" else "changed after signing"
    assert changed in text
    # in the notes of each signature, and beside its timestamp
    notes = re.findall(r'<ul class="sig-reasons">(.*?)</ul>', html, re.S)
    assert notes and all(TS_NOTE[lang] in n for n in notes[:3]), notes
    assert html.count('class="note ts-original"') >= 3


def test_html_report_names_in_words_and_timestamp_note(records: Records, app: Flask) -> None:
    from verifier.html import render_html

    verifier = app.extensions["hocba"]["verifier"]
    good = verifier.verify(records.signed, name="good.pdf")
    bad = verifier.verify(records.tampered, name="bad.pdf")
    for lang in ("vi", "en"):
        html = render_html([good, bad], lang)
        text = visible_text(html)
        for raw in RAW:
            assert raw not in text, (lang, raw)
        assert ("Chức vụ: Giáo viên chủ nhiệm" if lang == "vi"
                else "Title: Giáo viên chủ nhiệm") in text
        good_part, bad_part = text.split("bad.pdf", 1)
        assert TS_NOTE[lang] in bad_part and TS_NOTE[lang] not in good_part
        # check names in words, not codes
        assert ">signing_order<" not in html and ">required_roles<" not in html


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_text_report_of_hocba_verify(records: Records, test_pki: PkiLayout, tmp_path: Path,
                                     trust_services: Any, lang: str) -> None:
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(records.tampered)
    r = subprocess.run([sys.executable, "-m", "hocba", "verify", "--config",
                        str(test_pki.config), "--lang", lang, str(bad)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 1, r.stderr
    for raw in RAW:
        assert raw not in r.stdout, raw
    assert TS_NOTE[lang] in r.stdout
    assert ("✗ Đủ chữ ký theo vai trò bắt buộc" if lang == "vi"
            else "✗ Required roles present") in r.stdout
    assert "Dịch vụ cấp dấu thời gian Sông Hương" in r.stdout


def test_display_name_words_and_fallbacks() -> None:
    from verifier.text import display_name

    subject = "CN=Nguyễn Thị Hoa,2.5.4.12=Giáo viên chủ nhiệm,O=Trường A,C=VN"
    assert display_name(subject, "vi") == ("Tên: Nguyễn Thị Hoa; Chức vụ: Giáo viên chủ nhiệm; "
                                           "Tổ chức: Trường A; Quốc gia: VN")
    assert display_name(subject, "en") == ("Name: Nguyễn Thị Hoa; Title: Giáo viên chủ nhiệm; "
                                           "Organisation: Trường A; Country: VN")
    assert display_name("UID=CCCD:099185001234,CN=X", "vi") == "Mã định danh: CCCD:099185001234; Tên: X"
    assert display_name("1.2.3.4=x", "vi") == "1.2.3.4: x"  # an unknown type keeps its OID
    assert display_name("not a name", "vi") == "not a name"


# -- the tampered card in headless Chromium ----------------------------------------------

@pytest.fixture(scope="module")
def live_url(app: Flask) -> Iterator[str]:
    from tests.tooling import serve_wsgi

    with serve_wsgi(app) as url:
        yield url


@pytest.mark.tool
@pytest.mark.slow
def test_browser_tampered_card_timestamp_note(live_url: str, records: Records,
                                              tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from tests.verifier.web.test_browser import _driver

    bad = tmp_path / "hoc-ba-bi-sua.pdf"
    bad.write_bytes(records.tampered)
    driver = _driver(tmp_path / "profile")
    try:
        driver.get(live_url + "/")
        driver.find_element(By.ID, "file-input").send_keys(str(bad))
        WebDriverWait(driver, 60).until(
            lambda d: d.find_elements(By.CSS_SELECTOR, "article.card[data-indication]"))
        card = driver.find_element(By.CSS_SELECTOR, "article.card[data-indication]")
        sig = card.find_elements(By.CSS_SELECTOR, "section.sig")[0]
        text = sig.text
    finally:
        driver.quit()
    assert "Nội dung đã bị sửa sau khi ký" in text
    assert ("dấu thời gian hợp lệ: chứng minh thời điểm của bản gốc, không phải nội dung đã sửa"
            in text), text
    assert "Dấu thời gian hợp lệ:" in text and "chỉ chứng minh thời điểm của bản gốc" in text
    assert "2.5.4.12" not in text and "EMBEDDED" not in text
