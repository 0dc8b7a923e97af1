"""`hocba twostep prepare/finish --service URL`: the CLI wrappers against a running service."""
from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Callable

import pytest

from certs.pki import PkiLayout
from tests.signer.twostep.conftest import TOKEN, sign_digest

pytestmark = [pytest.mark.xdist_group("twostep-cli"), pytest.mark.slow]


@pytest.fixture
def service_url(make_app: Callable[..., Any]) -> Iterator[str]:
    from tests.tooling import serve_wsgi

    with serve_wsgi(make_app()) as url:
        yield url


def test_cli_prepare_and_finish_through_the_service(
        service_url: str, test_pki: PkiLayout, sample_records: list[tuple[str, bytes]],
        principal_key: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from hocba.cli import main

    monkeypatch.setenv("HOCBA_TWOSTEP_TOKEN", TOKEN)
    files = []
    for name, data in sample_records[:2]:
        (tmp_path / name).write_bytes(data)
        files.append(str(tmp_path / name))
    batch_file, values_file, out = tmp_path / "b.json", tmp_path / "v.json", tmp_path / "out"
    out.mkdir()
    rc = main(["twostep", "prepare", "--service", service_url, "--role", "principal",
               "--cert", str(test_pki.cert("principal")), "--cert", str(test_pki.cert("interm")),
               "--batch", str(batch_file), *files])
    assert rc == 0, capsys.readouterr().err
    batch = json.loads(batch_file.read_text())
    values_file.write_text(json.dumps({"batch_id": batch["batch_id"], "signatures": [
        {"id": i["id"], "value": base64.b64encode(
            sign_digest(principal_key, base64.b64decode(i["digest"]))).decode()}
        for i in batch["items"]]}))
    rc = main(["twostep", "finish", "--service", service_url, "--batch", str(batch_file),
               "--signatures", str(values_file), "--out", str(out)])
    assert rc == 0, capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == sorted(n for n, _ in sample_records[:2])
    # finishing again: one clear line, exit 1, nothing overwritten
    rc = main(["twostep", "finish", "--service", service_url, "--batch", str(batch_file),
               "--signatures", str(values_file), "--out", str(out)])
    err = capsys.readouterr().err
    assert rc == 1 and "409" in err and "Traceback" not in err


def test_cli_without_service_token_is_a_usage_error(
        service_url: str, test_pki: PkiLayout, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from hocba.cli import main

    monkeypatch.delenv("HOCBA_TWOSTEP_TOKEN", raising=False)
    (tmp_path / "a.pdf").write_bytes(b"%PDF-1.7")
    rc = main(["twostep", "prepare", "--service", service_url, "--role", "principal",
               "--cert", str(test_pki.cert("principal")), "--batch", str(tmp_path / "b.json"),
               str(tmp_path / "a.pdf")])
    assert rc == 2 and "HOCBA_TWOSTEP_TOKEN" in capsys.readouterr().err
