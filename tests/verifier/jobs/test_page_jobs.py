"""Bulk jobs on the inspector page (issue 14), in a real headless Chromium.

With ``[jobs]`` the page sends a ZIP, or more than ``pages.JOB_THRESHOLD`` files, to
``POST /api/v1/jobs``, shows a ``<progress>`` bar with "k / n", and adds one table row
per report, in submission order, from ``/results?start=K``. A real redis-server and a
real ``hocba worker`` (tests/verifier/jobs/conftest.py); the browser as in tests/verifier/web/test_browser.py.
Screenshots go to test-artifacts/.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from ground.config import Config
from tests.verifier.jobs.conftest import RedisServer, make_jobs_app
from tests.verifier.web.conftest import Records, XmlRecords, make_app, zip_of
from tests.verifier.web.test_browser import ARTIFACTS, _driver, _full_screenshot
from verifier.web.pages import JOB_THRESHOLD

GARBAGE = b"%PDF-1.7\n this is not a record book at all"


# -- the page as served -----------------------------------------------------------------

def test_page_offers_jobs_only_when_configured(jobs_app: Flask, test_config: Config) -> None:
    html = jobs_app.test_client().get("/").get_data(as_text=True)
    assert 'data-jobs="/api/v1/jobs"' in html and f'data-job-threshold="{JOB_THRESHOLD}"' in html
    assert 'id="job-template"' in html and "<progress" in html
    assert "Kiểm tra theo lô" in html and "Đã kiểm tra {done} / {total} tệp" in html
    en = jobs_app.test_client().get("/?lang=en").get_data(as_text=True)
    assert "Checked {done} / {total} files" in en and "Kiểm tra theo lô" not in en
    plain = make_app(test_config).test_client().get("/").get_data(as_text=True)
    assert "data-jobs" not in plain and "job-template" not in plain


# -- in the browser -----------------------------------------------------------------------

@pytest.fixture
def served(request: pytest.FixtureRequest) -> Iterator[Callable[[Flask], str]]:
    from tests.tooling import serve_wsgi

    stack: list[Any] = []

    def serve(app: Flask) -> str:
        cm = serve_wsgi(app)
        stack.append(cm)
        return cm.__enter__()

    try:
        yield serve
    finally:
        for cm in reversed(stack):
            cm.__exit__(None, None, None)


def _wait(driver: Any, what: Callable[[Any], Any], timeout: float = 120) -> Any:
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, poll_frequency=0.1).until(what)


def _job_ids(redis_server: RedisServer) -> list[str]:
    return sorted(k.decode().split("{")[1].split("}")[0]
                  for k in redis_server.client.scan_iter("hocba:job:{*}"))


@pytest.mark.tool
@pytest.mark.slow
def test_zip_of_30_records_progress_bar_rows_in_order(
        jobs_app: Flask, served: Callable[[Flask], str], start_worker: Callable[..., Any],
        redis_clean: RedisServer, records: Records, xml_records: XmlRecords,
        tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    kinds = [("pdf", records.signed, "TOTAL_PASSED"), ("pdf", records.tampered, "TOTAL_FAILED"),
             ("xml", xml_records.signed, "TOTAL_PASSED"),
             ("xml", xml_records.tampered, "TOTAL_FAILED")]
    entries: dict[str, bytes] = {}
    expected: list[tuple[str, str]] = []
    for i in range(30):
        ext, data, verdict = kinds[i % len(kinds)]
        name = f"lop12A/hs{i + 1:02d}.{ext}"
        if i == 16:
            name, data, verdict = "lop12A/hs17-hong.pdf", GARBAGE, "TOTAL_FAILED"
        entries[name] = data
        expected.append((f"lop12A.zip/{name}", verdict))
    archive = tmp_path / "lop12A.zip"
    archive.write_bytes(zip_of(entries))

    base = served(jobs_app)
    start_worker(concurrency=2)
    driver = _driver(tmp_path / "profile")
    try:
        driver.get(base + "/")
        driver.find_element(By.ID, "file-input").send_keys(str(archive))
        box = _wait(driver, lambda d: d.find_element(By.CSS_SELECTOR, "#results .job"), 20)
        bar = box.find_element(By.CSS_SELECTOR, "progress.job-progress")
        assert bar.get_attribute("aria-label") == "Tiến độ kiểm tra"
        status = box.find_element(By.CLASS_NAME, "job-status")
        assert status.get_attribute("aria-live") == "polite"
        # The bar moves while the worker verifies; record what it shows on the way.
        seen: set[str] = set()

        def finished(d: Any) -> bool:
            seen.add(status.text)
            return "job-finished" in (box.get_attribute("class") or "")

        _wait(driver, finished, 180)
        assert bar.get_attribute("max") == "30" and bar.get_attribute("value") == "30"
        assert status.text == "Hoàn tất: đã kiểm tra 30 / 30 tệp"
        assert any(t.startswith("Đã kiểm tra ") and " / 30 tệp" in t for t in seen), seen
        rows = box.find_elements(By.CSS_SELECTOR, "tbody tr")
        got = [(r.get_attribute("data-file"), r.get_attribute("data-indication")) for r in rows]
        assert got == expected
        assert [r.find_element(By.CLASS_NAME, "num").text for r in rows] == \
            [str(i) for i in range(1, 31)]
        ok, bad = rows[0], rows[16]
        assert ok.find_element(By.CLASS_NAME, "badge").text == "Hợp lệ"
        assert records.student in ok.find_element(By.CLASS_NAME, "student").text
        # The garbage entry gets its own error row, in its place.
        assert bad.get_attribute("data-subindication") == "FORMAT_FAILURE"
        assert bad.find_element(By.CLASS_NAME, "badge").text == "Không hợp lệ"
        assert bad.find_element(By.CLASS_NAME, "details").text
        n_passed = sum(v == "TOTAL_PASSED" for _, v in expected)
        counts = box.find_element(By.CLASS_NAME, "job-counts").text
        assert counts == (f"Hợp lệ: {n_passed} · Không hợp lệ: {30 - n_passed} · "
                          "Không xác định: 0")
        csv = box.find_element(By.CSS_SELECTOR, "a.job-csv")
        assert "/results?format=csv" in csv.get_attribute("href")
        assert csv.get_attribute("download").endswith(".csv")
        severe = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        assert not severe, severe
        _full_screenshot(driver, ARTIFACTS / "verifier-page-job.png")

        # "Xóa kết quả" also deletes the job (and its files and reports) on the server.
        [job_id] = _job_ids(redis_clean)
        driver.find_element(By.ID, "clear").click()
        deadline = time.monotonic() + 10
        while _job_ids(redis_clean) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _job_ids(redis_clean), job_id
    finally:
        driver.quit()


@pytest.mark.tool
@pytest.mark.slow
def test_threshold_refusal_and_expired_job_in_english(
        jobs_config: Config, served: Callable[[Flask], str], redis_clean: RedisServer,
        records: Records, trust_services: Any, tmp_path: Path) -> None:
    """No worker runs: a job stays queued. Few files keep one request per file; more than
    the threshold make a job; a refused upload (413) and a job deleted under the page (404)
    are explained in the page's language."""
    from selenium.webdriver.common.by import By

    app = make_jobs_app(jobs_config, max_zip_entries=JOB_THRESHOLD + 5)
    base = served(app)
    two = [tmp_path / "a.pdf", tmp_path / "b.pdf"]
    many = [tmp_path / f"hs{i:02d}.pdf" for i in range(JOB_THRESHOLD + 1)]
    for p in two + many:
        p.write_bytes(records.tampered)
    too_big = tmp_path / "ca-truong.zip"
    too_big.write_bytes(zip_of({f"hs{i}.pdf": GARBAGE for i in range(JOB_THRESHOLD + 6)}))

    driver = _driver(tmp_path / "profile")
    try:
        driver.get(base + "/?lang=en")
        file_input = driver.find_element(By.ID, "file-input")
        # Two files: the page verifies each on its own, as without jobs.
        file_input.send_keys("\n".join(map(str, two)))
        _wait(driver, lambda d: len(d.find_elements(By.CSS_SELECTOR,
                                                    "article.card[data-indication]")) == 2, 60)
        assert not driver.find_elements(By.CSS_SELECTOR, "#results .job")
        assert not _job_ids(redis_clean)

        # A ZIP over the entry limit: the job's 413, explained in English.
        file_input.send_keys(str(too_big))
        err = _wait(driver, lambda d: [e for e in d.find_elements(
            By.CSS_SELECTOR, "#results .job .job-error") if e.is_displayed()], 20)[0]
        assert err.text.startswith("The batch could not be sent (Error 413): ")
        assert f"at most {JOB_THRESHOLD + 5} files per request" in err.text
        assert not err.find_element(By.XPATH, "..").find_element(
            By.CLASS_NAME, "job-status").is_displayed()

        # More than the threshold: a job. No worker, so it waits at 0 / n.
        file_input.send_keys("\n".join(map(str, many)))
        _wait(driver, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#results .job")) == 2, 20)
        box = driver.find_elements(By.CSS_SELECTOR, "#results .job")[1]
        status = box.find_element(By.CLASS_NAME, "job-status")
        _wait(driver, lambda d: status.text == f"Checked 0 / {len(many)} files", 20)
        assert box.find_element(By.TAG_NAME, "progress").get_attribute("max") == str(len(many))
        # The job disappears under the page (expiry or a DELETE): said in English.
        [job_id] = _job_ids(redis_clean)
        assert app.test_client().delete(f"/api/v1/jobs/{job_id}").status_code == 204
        err = _wait(driver, lambda d: [e for e in box.find_elements(By.CLASS_NAME, "job-error")
                                       if e.is_displayed()], 20)[0]
        assert err.text == ("This batch is no longer on the server (it expired or was "
                            "deleted); send the files again. (Error 404)")
        assert box.get_attribute("aria-busy") is None
        severe = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"
                  and "Failed to load resource" not in e["message"]]
        assert not severe, severe
        _full_screenshot(driver, ARTIFACTS / "verifier-page-job-errors-en.png")
    finally:
        driver.quit()
