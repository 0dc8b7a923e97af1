"""Errors of the service in the request's language (issue 16 item 4).

The page in Vietnamese used to show "Lỗi 413: the request is over the limit…" and
"no file: send one or more multipart parts…"; the API, whose default language is
Vietnamese, answered with an English ``detail``. Each error now speaks the language
asked for: ``?lang=en`` (or the page form's ``lang``), Vietnamese otherwise.
"""
from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from ground.config import Config
from tests.verifier.web.conftest import make_app

API = "/api/v1/verify"
HTML = {"Accept": "text/html"}
VI_LETTERS = set("ăâđêôơưàảãáạằẳẵắặầẩẫấậèẻẽéẹềểễếệìỉĩíịòỏõóọồổỗốộờởỡớợùủũúụừửữứựỳỷỹýỵ")


def vietnamese(text: str) -> bool:
    return bool(VI_LETTERS & set(text.lower()))


@pytest.fixture(scope="module")
def small(test_config: Config) -> FlaskClient:
    return make_app(test_config, max_file_mb=0.05).test_client()


def test_api_no_file_detail_is_vietnamese_by_default_english_on_request(
        client: FlaskClient) -> None:
    vi = client.post(API, data={"other": "x"}, content_type="multipart/form-data")
    en = client.post(API + "?lang=en", data={"other": "x"}, content_type="multipart/form-data")
    assert vi.status_code == en.status_code == 400
    assert vi.json["error"] == en.json["error"] == "no_file"  # the code stays the same
    assert vi.json["detail"].startswith("Chưa có tệp"), vi.json
    assert en.json["detail"].startswith("No file"), en.json
    assert not vietnamese(en.json["detail"])


def test_api_413_detail_in_both_languages(small: FlaskClient) -> None:
    big = b"%PDF-1.7\n" + b"x" * 80_000
    vi = small.post(API, data=big, content_type="application/pdf")
    en = small.post(API + "?lang=en", data=big, content_type="application/pdf")
    assert vi.status_code == en.status_code == 413
    assert "vượt quá giới hạn 0.05 MB" in vi.json["detail"], vi.json
    assert "over the limit of 0.05 MB" in en.json["detail"], en.json


@pytest.mark.parametrize("ctype, body, vi_part, en_part", [
    ("image/png", b"\x89PNG\r\n\x1a\n", "không được hỗ trợ", "Unsupported Content-Type"),
    ("application/x-www-form-urlencoded", b"a=b", "multipart/form-data", "multipart/form-data"),
])
def test_api_415_detail_in_both_languages(ctype: str, body: bytes, vi_part: str, en_part: str,
                                         client: FlaskClient) -> None:
    vi = client.post(API, data=body, content_type=ctype)
    en = client.post(API + "?lang=en", data=body, content_type=ctype)
    assert vi.status_code == en.status_code == 415
    assert vietnamese(vi.json["detail"]) and vi_part in vi.json["detail"], vi.json
    assert not vietnamese(en.json["detail"]) and en_part in en.json["detail"], en.json


def test_werkzeug_errors_get_a_sentence_in_the_language(client: FlaskClient) -> None:
    vi = client.get("/khong-co")
    en = client.get("/khong-co?lang=en")
    assert vi.status_code == en.status_code == 404
    assert vi.json["detail"] == "Không tìm thấy địa chỉ này."
    assert en.json["detail"] == "Nothing at this address."
    r = client.get(API)
    assert r.status_code == 405 and vietnamese(r.json["detail"])


def test_page_form_post_errors_are_vietnamese_on_the_vietnamese_page(
        client: FlaskClient, small: FlaskClient) -> None:
    r = client.post("/", data={"lang": "vi"}, headers=HTML, content_type="multipart/form-data")
    page = r.get_data(as_text=True)
    assert r.status_code == 400 and "Chưa có tệp" in page and "no file" not in page.lower()
    r = client.post("/?lang=en", data={"lang": "en"}, headers=HTML,
                    content_type="multipart/form-data")
    assert r.status_code == 400 and "No file: send one or more" in r.get_data(as_text=True)
    big = b"%PDF-1.7\n" + b"x" * 80_000
    r = small.post("/", data={"lang": "vi", "file": (io.BytesIO(big), "a.pdf")}, headers=HTML)
    page = r.get_data(as_text=True)
    assert r.status_code == 413 and "Yêu cầu vượt quá giới hạn 0.05 MB" in page
    assert "over the limit" not in page


def test_api_parameter_errors_have_their_messages(client: FlaskClient) -> None:
    """The messages api.py raises for its parameters (lang, validation_time, format)."""
    from verifier.web.errors import BadParameter, describe

    cases = {
        BadParameter("bad_validation_time", value="'hôm qua'"): ("ISO 8601", "ISO 8601"),
        BadParameter("bad_format", value="'pdf'"): ("phải là 'json' hoặc 'etsi'",
                                                   "must be 'json' or 'etsi'"),
        BadParameter("etsi_one_file", count=2): ("đúng một tệp", "exactly one file"),
        BadParameter("bad_lang", value="'fr'"): ("'vi' hoặc 'en'", "must be 'vi' or 'en'"),
    }
    with client.application.test_request_context("/"):
        for e, (vi, en) in cases.items():
            assert e.code == 400
            assert vi in describe(e, "vi") and vietnamese(describe(e, "vi"))
            assert en in describe(e, "en")


# -- the page in a real browser (JavaScript path: one request per file) --------------

@pytest.fixture(scope="module")
def small_url(test_config: Config) -> Iterator[str]:
    from tests.tooling import serve_wsgi

    with serve_wsgi(make_app(test_config, max_file_mb=0.05)) as url:
        yield url


@pytest.mark.tool
@pytest.mark.slow
@pytest.mark.parametrize("lang", ["vi", "en"])
def test_browser_error_cards_in_the_page_language(small_url: str, tmp_path: Path,
                                                  lang: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from tests.verifier.web.test_browser import _driver

    big = tmp_path / "hoc-ba-qua-lon.pdf"
    big.write_bytes(b"%PDF-1.7\n" + b"x" * 80_000)
    photo = tmp_path / "anh.png"
    photo.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    driver: Any = _driver(tmp_path / "profile")
    try:
        driver.get(small_url + ("/?lang=en" if lang == "en" else "/"))
        driver.find_element(By.ID, "file-input").send_keys(f"{big}\n{photo}")
        WebDriverWait(driver, 60).until(
            lambda d: len(d.find_elements(By.CSS_SELECTOR, "article.error-card")) == 2)
        cards = {c.get_attribute("data-file"): c.text
                 for c in driver.find_elements(By.CSS_SELECTOR, "article.error-card")}
    finally:
        driver.quit()
    if lang == "vi":
        assert "Lỗi 413: Yêu cầu vượt quá giới hạn 0.05 MB" in cards[big.name], cards
        assert "Lỗi 415: Phần thứ 1 ('anh.png') không phải PDF, XML hay ZIP." in cards[photo.name]
    else:
        assert "Error 413: The request is over the limit of 0.05 MB" in cards[big.name], cards
        assert "Error 415: Part 1 ('anh.png') is neither PDF, XML nor ZIP." in cards[photo.name]


def test_api_parameter_errors_over_http_in_vietnamese(client: FlaskClient) -> None:
    r = client.post(API + "?validation_time=hôm-qua", data=b"%PDF-1.7",
                    content_type="application/pdf")
    assert r.status_code == 400
    assert r.json["detail"].startswith("validation_time phải là ngày giờ ISO 8601"), r.json
    r = client.post(API + "?format=pdf", data=b"%PDF-1.7", content_type="application/pdf")
    assert r.json["detail"].startswith("Tham số format phải là 'json' hoặc 'etsi'"), r.json


def test_api_parameter_errors_over_http_are_never_english_only(client: FlaskClient) -> None:
    """Until api.py raises its own messages: Vietnamese first, its English text after."""
    r = client.post(API + "?validation_time=hôm-qua", data=b"%PDF-1.7",
                    content_type="application/pdf")
    assert r.status_code == 400 and vietnamese(r.json["detail"]), r.json
    en = client.post(API + "?lang=en&validation_time=x", data=b"%PDF-1.7",
                     content_type="application/pdf")
    assert en.json["detail"].startswith("validation_time must be"), en.json
