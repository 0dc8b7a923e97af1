"""The page in a real browser: Debian's chromium + chromedriver through Selenium.

Runs the app on a free loopback port (werkzeug, threaded), uploads a signed and
a tampered record through the file input (JavaScript path: one request per
file, cards inserted), checks verdicts and reasons, then the same with
JavaScript disabled (plain form post). Screenshots go to test-artifacts/.
"""
from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.tooling import require_path, require_tool
from tests.verifier.web.conftest import Records

pytestmark = [pytest.mark.tool, pytest.mark.slow]
ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts"


@pytest.fixture(scope="module")
def base_url(app: Any) -> Iterator[str]:
    from tests.tooling import serve_wsgi

    with serve_wsgi(app) as url:
        yield url


def _driver(tmp: Path, javascript: bool = True) -> Any:
    driver_path = require_tool("chromedriver")
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    require_path(Path(chromium), "chromium")
    from selenium import webdriver

    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run", "--window-size=1200,900",
                "--lang=vi", f"--user-data-dir={tmp}"):
        opts.add_argument(arg)
    if not javascript:
        opts.add_experimental_option(
            "prefs", {"profile.managed_default_content_settings.javascript": 2})
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=webdriver.ChromeService(executable_path=driver_path),
                            options=opts)


def _files(tmp: Path, records: Records) -> tuple[Path, Path]:
    good, bad = tmp / "hoc-ba-hop-le.pdf", tmp / "hoc-ba-bi-sua.pdf"
    good.write_bytes(records.signed)
    bad.write_bytes(records.tampered)
    return good, bad


def _full_screenshot(driver: Any, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1200, min(int(height) + 40, 6000))
    driver.save_screenshot(str(path))


def test_upload_signed_and_tampered_with_javascript(base_url: str, records: Records,
                                                    tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    good, bad = _files(tmp_path, records)
    driver = _driver(tmp_path / "profile")
    try:
        driver.get(base_url + "/")
        assert driver.title == "Xác thực học bạ số"
        assert "js" in driver.find_element(By.TAG_NAME, "html").get_attribute("class")
        # nothing to clear yet: no "Xóa kết quả" button on the empty page
        assert not driver.find_element(By.ID, "clear").is_displayed()
        driver.find_element(By.ID, "file-input").send_keys(f"{good}\n{bad}")
        WebDriverWait(driver, 60).until(
            lambda d: len(d.find_elements(By.CSS_SELECTOR, "article.card[data-indication]")) == 2)
        assert driver.find_element(By.ID, "clear").is_displayed()
        cards = driver.find_elements(By.CSS_SELECTOR, "article.card[data-indication]")
        by_file = {c.get_attribute("data-file"): c for c in cards}
        ok, ko = by_file[good.name], by_file[bad.name]
        assert ok.find_element(By.CLASS_NAME, "verdict-label").text == "Hợp lệ"
        assert ko.find_element(By.CLASS_NAME, "verdict-label").text == "Không hợp lệ"
        assert "Nội dung đã bị sửa sau khi ký" in ko.text
        roles = [e.text for e in ok.find_elements(By.CSS_SELECTOR, ".sig .role")]
        assert roles == ["Giáo viên chủ nhiệm", "Hiệu trưởng", "Con dấu đơn vị"]
        assert records.student in ok.find_element(By.CLASS_NAME, "student").text
        assert ok.find_element(By.CSS_SELECTOR, "a.dl-json").get_attribute(
            "href").startswith("data:application/json")
        # The ETSI TS 119 102-2 report beside JSON and HTML (issue 17), as a real XML file.
        etsi = ok.find_element(By.CSS_SELECTOR, "a.dl-etsi")
        assert etsi.get_attribute("download").endswith(".validation-report.xml")
        assert etsi.text == "Tải báo cáo ETSI (XML)"
        href = etsi.get_attribute("href")
        assert href.startswith("data:application/xml")
        import base64 as _b64
        from urllib.parse import unquote

        payload = href.split(",", 1)[1]
        xml = _b64.b64decode(payload) if ";base64" in href.split(",", 1)[0] \
            else unquote(payload).encode()
        assert b"http://uri.etsi.org/19102/v1.2.1#" in xml and b"total-passed" in xml
        # Colour: the verdict header of a valid record is green, of a tampered one red.
        green = ok.find_element(By.CLASS_NAME, "verdict-label").value_of_css_property("color")
        red = ko.find_element(By.CLASS_NAME, "verdict-label").value_of_css_property("color")
        assert green != red
        # No CSP violation or script error in the console.
        severe = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        assert not severe, severe
        _full_screenshot(driver, ARTIFACTS / "verifier-page.png")

        driver.find_element(By.ID, "lang-switch").click()
        WebDriverWait(driver, 10).until(
            lambda d: d.title == "Student record book verification")
    finally:
        driver.quit()


def test_upload_without_javascript_uses_the_form_post(base_url: str, records: Records,
                                                      tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    good, bad = _files(tmp_path, records)
    driver = _driver(tmp_path / "profile", javascript=False)
    try:
        driver.get(base_url + "/?lang=en")
        assert "js" not in (driver.find_element(By.TAG_NAME, "html").get_attribute("class") or "")
        driver.find_element(By.ID, "file-input").send_keys(f"{good}\n{bad}")
        driver.find_element(By.ID, "submit").click()
        WebDriverWait(driver, 60).until(
            lambda d: len(d.find_elements(By.CSS_SELECTOR, "article.card[data-indication]")) == 2)
        labels = [e.text for e in driver.find_elements(By.CLASS_NAME, "verdict-label")]
        assert labels == ["Valid", "Invalid"]
        assert "The content was changed after signing." in driver.page_source
        _full_screenshot(driver, ARTIFACTS / "verifier-page-nojs-en.png")
    finally:
        driver.quit()
