"""CSC v1 remote signing against certomancer-csc-dummy on loopback: one authorisation and one
signatures/signHash call for a whole batch; the records verify."""
from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from certs.pki import PkiLayout
from ground.config import Config
from ground.vocab import Level, Role
from tests.signer.twostep._csc import CscDummy

pytestmark = [pytest.mark.xdist_group("twostep-csc"), pytest.mark.slow]

CREDENTIAL = "hocba/principal"


@pytest.fixture(scope="module")
def csc(test_pki: PkiLayout) -> Iterator[CscDummy]:
    dummy = CscDummy(test_pki.certomancer, multisign=50).start()
    yield dummy
    dummy.stop()


def _files(records: list[tuple[str, bytes]], d: Path) -> list[Path]:
    d.mkdir(parents=True, exist_ok=True)
    out = []
    for name, data in records:
        (d / name).write_bytes(data)
        out.append(d / name)
    return out


def _verify(test_pki: PkiLayout, files: list[Path],
            capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    from hocba.cli import main

    capsys.readouterr()
    rc = main(["verify", "--config", str(test_pki.config), "--require-roles", "principal",
               "--format", "json", "--lang", "en", *map(str, files)])
    reports = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]
    assert rc == 0, [(r["file"], r["indication"], r["message"]) for r in reports]
    return reports


def test_csc_batch_signed_with_a_single_authorisation_verifies(
        csc: CscDummy, test_config: Config, test_pki: PkiLayout, trust_services: Any,
        sample_records: list[tuple[str, bytes]], tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    from signer.csc import CscSource, CscStats, sign_files_csc

    files = _files(sample_records[:8], tmp_path / "in")
    (tmp_path / "out").mkdir()
    before = dict(csc.calls)
    stats = CscStats()
    results = sign_files_csc(files, config=test_config, role=Role.PRINCIPAL, level=Level.B_T,
                             source=CscSource(csc.url, CREDENTIAL), out_dir=tmp_path / "out",
                             stats=stats)
    assert all(r.ok for r in results), [r.error for r in results]
    calls = {k: v - before.get(k, 0) for k, v in csc.calls.items()}
    assert calls.get("credentials/authorize") == 1 and calls.get("signatures/signHash") == 1
    assert (stats.authorizations, stats.sign_hash_calls, stats.signatures) == (1, 1, 8)
    reports = _verify(test_pki, sorted((tmp_path / "out").iterdir()), capsys)
    assert {r["format"] for r in reports} == {"pdf", "xml"}


def test_batch_larger_than_multisign_takes_one_authorisation_per_group(
        test_config: Config, test_pki: PkiLayout, trust_services: Any,
        sample_records: list[tuple[str, bytes]], tmp_path: Path) -> None:
    from signer.csc import CscSource, CscStats, sign_files_csc

    small = CscDummy(test_pki.certomancer, multisign=4).start()
    try:
        files = _files(sample_records[:6], tmp_path / "in")
        stats = CscStats()
        results = sign_files_csc(files, config=test_config, role=Role.PRINCIPAL,
                                 level=Level.B_B, source=CscSource(small.url, CREDENTIAL),
                                 out_dir=None, stats=stats)
        assert all(r.ok for r in results), [r.error for r in results]
        assert stats.groups == [4, 2] and stats.authorizations == 2
        assert small.calls["signatures/signHash"] == 2
    finally:
        small.stop()


def test_csc_key_holder_through_twostep_cli(csc: CscDummy, test_pki: PkiLayout,
                                            trust_services: Any,
                                            sample_records: list[tuple[str, bytes]],
                                            tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    from hocba.cli import main

    files = _files(sample_records[2:6], tmp_path / "in")
    state, out = tmp_path / "state", tmp_path / "out"
    out.mkdir()
    batch = tmp_path / "batch.json"
    assert main(["twostep", "prepare", "--config", str(test_pki.config), "--state-dir", str(state),
                 "--role", "principal", "--cert", str(test_pki.cert("principal")),
                 "--cert", str(test_pki.cert("interm")), "--batch", str(batch),
                 *map(str, files)]) == 0, capsys.readouterr().err
    before = csc.calls["credentials/authorize"]
    assert main(["twostep", "sign-digests", "--batch", str(batch), "--csc-url", csc.url,
                 "--csc-credential", CREDENTIAL]) == 0, capsys.readouterr().err
    assert csc.calls["credentials/authorize"] == before + 1
    assert main(["twostep", "finish", "--config", str(test_pki.config), "--state-dir", str(state),
                 "--batch", str(batch), "--signatures",
                 str(tmp_path / "batch.signatures.json"), "--out", str(out)]) == 0
    _verify(test_pki, sorted(out.iterdir()), capsys)


def test_csc_credential_of_another_person_is_refused(
        csc: CscDummy, test_config: Config, test_pki: PkiLayout, trust_services: Any,
        sample_records: list[tuple[str, bytes]], tmp_path: Path) -> None:
    from ground.errors import HocbaError
    from signer.csc import CscSource, sign_batch_csc
    from signer.twostep import TwoStep

    batch = TwoStep(test_config, state_dir=tmp_path).prepare(
        sample_records[1:2], role="principal",
        certificates=[test_pki.cert("principal").read_bytes(), test_pki.cert("interm").read_bytes()])
    with pytest.raises(HocbaError) as e:
        sign_batch_csc(batch, CscSource(csc.url, "hocba/seal"))
    assert e.value.key == "signer.csc.certificate_differs"


def test_unreachable_csc_service_is_one_clear_error(test_config: Config, tmp_path: Path) -> None:
    from ground.errors import HocbaError
    from signer.csc import CscSource, fetch_certificates

    with pytest.raises(HocbaError) as e:
        fetch_certificates(CscSource("http://127.0.0.1:9", CREDENTIAL))
    assert e.value.key == "signer.csc.credential_failed"
    assert "http://127.0.0.1:9" in e.value.render("en") and "CSC credentials/info" in str(e.value)


def test_hocba_sign_with_csc_backend_single_authorisation(
        csc: CscDummy, test_pki: PkiLayout, trust_services: Any,
        sample_records: list[tuple[str, bytes]], tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    from hocba.cli import main

    files = _files(sample_records[10:16], tmp_path / "in")
    before = dict(csc.calls)
    capsys.readouterr()
    rc = main(["sign", "--config", str(test_pki.config), "--role", "principal", "--level", "B-LT",
               "--csc-url", csc.url, "--csc-credential", CREDENTIAL, "--in-place",
               *map(str, files)])
    err = capsys.readouterr().err
    assert rc == 0, err
    assert "6/6" in err and "1 lần xác nhận" in err
    calls = {k: v - before.get(k, 0) for k, v in csc.calls.items()}
    assert calls.get("credentials/authorize") == 1 and calls.get("signatures/signHash") == 1
    reports = _verify(test_pki, files, capsys)
    # the principal's CSC signatures are B-LT (the teacher signed B-B before the batch)
    assert {s["level"] for r in reports for s in r["signatures"]
            if s["role"] == "principal"} == {"B-LT"}


def test_hocba_sign_csc_with_a_key_file_too_is_a_usage_error(
        test_pki: PkiLayout, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from hocba.cli import main

    (tmp_path / "a.pdf").write_bytes(b"%PDF-1.7")
    rc = main(["sign", "--config", str(test_pki.config), "--role", "principal",
               "--csc-url", "http://127.0.0.1:9", "--csc-credential", CREDENTIAL,
               "--key", str(test_pki.p12("principal")), "--out", str(tmp_path),
               str(tmp_path / "a.pdf")])
    assert rc == 2 and "--csc-url" in capsys.readouterr().err
