"""Pipelined timestamping (issue 14, CONTRACT 10): a batch keeps up to ``[timestamp]
concurrency`` RFC 3161 requests in flight, retries a TSA that stumbles, refuses every token
that is not the answer to its own request or not from a trusted TSA, and leaves each file
untouched when it has no token. The TSA sits behind ``tests.tsa_proxy.TsaProxy``
(latency, failures, swapped/replayed answers), in front of the test PKI's certomancer TSA.
"""
from __future__ import annotations

import dataclasses
import re
import time
from pathlib import Path

import pytest

from certs.pki import PkiLayout
from certs.services import TrustServices
from ground.config import Config
from ground.vocab import Indication, Level, Role
from tests.tsa_proxy import TsaProxy, proxied_config

# End-to-end through a latency/fault-injecting proxy in front of a real TSA: the full
# suite (`make test`) runs it; the fast suite leaves it out.
pytestmark = pytest.mark.slow


def _says(text: str | None, key: str) -> bool:
    """``text`` holds the catalog message ``key`` in the command line's language (every
    fixed part of its template, whatever the fields)."""
    from ground.i18n import cli_lang, template

    parts = [p for p in re.split(r"\{[^{}]*\}", template(key, cli_lang())) if p.strip()]
    return bool(parts) and all(p in (text or "") for p in parts)


def _cfg(cfg: Config, url: str, **ts: object) -> Config:
    return dataclasses.replace(cfg, timestamp=dataclasses.replace(cfg.timestamp, url=url, **ts))


@pytest.fixture(scope="module")
def records() -> list[tuple[str, bytes]]:
    """10 record books as PDF and as XML: 20 unsigned records (the teacher signs first)."""
    from recordbook.pdf import render_pdf
    from recordbook.sample import sample_class
    from recordbook.xmlio import to_xml

    out: list[tuple[str, bytes]] = []
    for i, rec in enumerate(sample_class(10, seed=14)):
        out.append((f"hb{i:02d}.pdf", render_pdf(rec)))
        out.append((f"hb{i:02d}.xml", to_xml(rec)))
    return out


def _write(tmp: Path, recs: list[tuple[str, bytes]]) -> list[Path]:
    paths = []
    for name, data in recs:
        p = tmp / name
        p.write_bytes(data)
        paths.append(p)
    return paths


def _sign(cfg: Config, pki: PkiLayout, pin: str, paths: list[Path], *, level: Level = Level.B_T,
          jobs: int = 1, role: Role = Role.TEACHER) -> list[object]:
    from signer.batch import run_files
    from signer.keys import KeySource

    return run_files(cfg, role, level, KeySource(p12=pki.p12(role.value)), pin, paths, None,
                     jobs=jobs)  # type: ignore[return-value]


def _verify_bt(cfg: Config, data: bytes, name: str, level: str = "B-T") -> None:
    from ground.policy import Policy
    from verifier.core import Verifier

    rep = Verifier(Policy.from_config(cfg).replace(required_roles=(Role.TEACHER,))).verify(
        data, name=name)
    assert rep.indication is Indication.TOTAL_PASSED, (name, rep.to_dict("en"))
    sig = [s for s in rep.signatures if not s.is_document_timestamp][0]
    assert sig.level == level and sig.timestamp is not None, (name, sig.level)


@pytest.mark.slow
def test_pipelined_bt_keeps_concurrency_requests_in_flight(
        test_config: Config, test_pki: PkiLayout, trust_services: TrustServices, pin: str,
        records: list[tuple[str, bytes]], tmp_path: Path) -> None:
    """20 records (PDF and XML) through a TSA 50 ms away, concurrency 4: every record gets
    a token that verifies, the requests overlapped, and never more than 4 were in flight."""
    assert test_config.timestamp.url
    paths = _write(tmp_path, records)
    with TsaProxy(test_config.timestamp.url, delay=0.05) as proxy:
        cfg = _cfg(test_config, proxy.url, concurrency=4)
        t = time.perf_counter()
        results = _sign(cfg, test_pki, pin, paths)
        elapsed = time.perf_counter() - t
    assert all(r.ok for r in results), [r.error for r in results if not r.ok]  # type: ignore[attr-defined]
    assert proxy.requests == len(paths) + 1  # + the batch's one size-estimate request
    assert 2 <= proxy.max_in_flight <= 4, proxy.max_in_flight
    # One after another, 21 requests at 50 ms would take over a second of waiting alone.
    print(f"20 records B-T via 50 ms TSA, concurrency 4: {elapsed:.2f} s, "
          f"max in flight {proxy.max_in_flight}")
    for p in paths:
        _verify_bt(test_config, p.read_bytes(), p.name)


@pytest.mark.slow
def test_forked_workers_share_the_bound(
        test_config: Config, test_pki: PkiLayout, trust_services: TrustServices, pin: str,
        records: list[tuple[str, bytes]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Worker processes (PKCS#12, large batch) each pipeline their slices with their share
    of the concurrency: together still at most ``concurrency`` requests in flight."""
    from signer import batch as batch_mod

    assert test_config.timestamp.url
    monkeypatch.setattr(batch_mod, "PARALLEL_THRESHOLD", 1)
    paths = _write(tmp_path, records)
    with TsaProxy(test_config.timestamp.url, delay=0.05) as proxy:
        results = _sign(_cfg(test_config, proxy.url, concurrency=4), test_pki, pin, paths,
                        jobs=2)
    assert all(r.ok for r in results), [r.error for r in results if not r.ok]  # type: ignore[attr-defined]
    assert [Path(r.name).name for r in results] == [p.name for p in paths]  # type: ignore[attr-defined]
    assert 2 <= proxy.max_in_flight <= 4, proxy.max_in_flight
    for p in paths[:4]:
        _verify_bt(test_config, p.read_bytes(), p.name)


def test_retries_after_503_then_succeed(
        test_config: Config, test_pki: PkiLayout, trust_services: TrustServices, pin: str,
        records: list[tuple[str, bytes]], tmp_path: Path) -> None:
    assert test_config.timestamp.url
    paths = _write(tmp_path, records[:4])
    with TsaProxy(test_config.timestamp.url, fail_first=3) as proxy:
        results = _sign(_cfg(test_config, proxy.url, retries=3, backoff=0.02), test_pki, pin,
                        paths)
    assert all(r.ok for r in results), [r.error for r in results if not r.ok]  # type: ignore[attr-defined]
    assert proxy.requests == 3 + len(paths) + 1
    _verify_bt(test_config, paths[0].read_bytes(), paths[0].name)


def test_retries_after_a_timeout(
        test_config: Config, test_pki: PkiLayout, trust_services: TrustServices, pin: str,
        records: list[tuple[str, bytes]], tmp_path: Path) -> None:
    assert test_config.timestamp.url
    paths = _write(tmp_path, records[:2])
    # The first request is held 4 s and dropped; the client gives up after 2 s and retries
    # (2 s leaves room for the in-process test TSA on a busy machine).
    with TsaProxy(test_config.timestamp.url, hang_first=1, hang=4.0) as proxy:
        results = _sign(_cfg(test_config, proxy.url, timeout=2.0, backoff=0.02), test_pki, pin,
                        paths)
    assert all(r.ok for r in results), [r.error for r in results if not r.ok]  # type: ignore[attr-defined]
    assert proxy.requests == 1 + len(paths) + 1


@pytest.mark.parametrize("mode,why", [
    ("swap", "signer.tsa.imprint"),     # two answers exchanged between requests in flight
    ("stale", "signer.tsa.imprint"),    # the first answer replayed for every later request
    ("imprint", "signer.tsa.imprint"),  # a token for other data, with the request's own nonce
], ids=["swapped_answers", "replayed_token", "token_for_other_data"])
def test_a_token_for_another_request_is_refused_and_the_file_untouched(
        test_config: Config, test_pki: PkiLayout, trust_services: TrustServices, pin: str,
        records: list[tuple[str, bytes]], tmp_path: Path, mode: str, why: str) -> None:
    assert test_config.timestamp.url
    recs = records[:8]
    paths = _write(tmp_path, recs)
    with TsaProxy(test_config.timestamp.url, delay=0.05, mode=mode, pair_wait=0.5) as proxy:
        results = _sign(_cfg(test_config, proxy.url, concurrency=8), test_pki, pin, paths)
    failed = [r for r in results if not r.ok]  # type: ignore[attr-defined]
    if mode == "swap":
        assert proxy.swapped >= 2 and len(failed) >= 2, (proxy.swapped, len(failed))
    elif mode == "stale":
        # The first answer is genuine for the first request (the size estimate, or a
        # file's when the estimate was made earlier): every replay of it is refused.
        assert len(failed) >= len(paths) - 1, [r.error for r in results]  # type: ignore[attr-defined]
    else:
        assert len(failed) == len(paths), [r.error for r in results]  # type: ignore[attr-defined]
    for r in results:
        p = Path(r.name)  # type: ignore[attr-defined]
        original = dict(recs)[p.name]
        if r.ok:  # type: ignore[attr-defined]
            _verify_bt(test_config, p.read_bytes(), p.name)
            continue
        assert _says(r.error, why), r.error  # type: ignore[attr-defined]
        assert p.read_bytes() == original, f"{p.name} changed although its token was refused"


def test_a_tsa_outside_the_trust_anchors_is_refused(
        test_config: Config, test_pki: PkiLayout, trust_services: TrustServices, pin: str,
        vn_pki: PkiLayout, records: list[tuple[str, bytes]], tmp_path: Path) -> None:
    """A token that is the right answer, but from a TSA that does not chain to the
    configured anchors (another PKI's TSA): refused, files untouched."""
    from ground.config import load_config

    other_tsa = load_config(vn_pki.config).timestamp.url
    assert other_tsa
    recs = records[:2]
    paths = _write(tmp_path, recs)
    results = _sign(_cfg(test_config, other_tsa), test_pki, pin, paths)
    for r, (name, data) in zip(results, recs):
        assert not r.ok and _says(r.error, "signer.tsa.untrusted"), r.error  # type: ignore[attr-defined]
        assert (tmp_path / name).read_bytes() == data


def _cli(config: Path, pin: str, monkeypatch: pytest.MonkeyPatch,
         capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    from hocba.cli import main

    monkeypatch.setenv("HOCBA_PIN", pin)
    capsys.readouterr()
    rc = main(["sign", "--config", str(config), *args])
    return rc, capsys.readouterr().err


@pytest.mark.parametrize("how", ["503", "refused"], ids=["tsa_answers_503", "nothing_listening"])
def test_tsa_down_every_file_fails_clearly_and_stays_untouched(
        test_config: Config, test_pki: PkiLayout, trust_services: TrustServices, pin: str,
        records: list[tuple[str, bytes]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str], how: str) -> None:
    from tests.conftest import free_port

    assert test_config.timestamp.url
    recs = records[:6]
    paths = _write(tmp_path, recs)
    with TsaProxy(test_config.timestamp.url, down=True) as proxy:
        url = proxy.url if how == "503" else f"http://127.0.0.1:{free_port()}/tsa"
        cfg = proxied_config(test_pki.config, url, f"down-{how}", retries=2, backoff=0.02)
        t = time.perf_counter()
        rc, err = _cli(cfg, pin, monkeypatch, capsys, "--role", "teacher", "--level", "B-T",
                       "--in-place", *map(str, paths))
        elapsed = time.perf_counter() - t
    assert rc == 1, err
    for p, (name, data) in zip(paths, recs):
        assert p.read_bytes() == data, f"{name} changed"
        line = next(ln for ln in err.splitlines() if ln.startswith(f"hocba: {p}:"))
        assert _says(line, "signer.tsa.unavailable"), line
    assert "Đã ký 0/6 tệp" in err
    if how == "503":  # retried, then the rest of the batch fails fast (one attempt each)
        assert proxy.requests < 3 * (len(paths) + 1), proxy.requests
    assert elapsed < 30


@pytest.mark.slow
def test_b_lta_and_renewal_use_the_pipeline(
        test_config: Config, test_pki: PkiLayout, trust_services: TrustServices, pin: str,
        records: list[tuple[str, bytes]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """B-LTA signing (signature + document/archive timestamps) and ``hocba timestamp``
    renewals go through the same client: overlapping requests, within the bound."""
    assert test_config.timestamp.url
    recs = records[:6]
    paths = _write(tmp_path, recs)
    with TsaProxy(test_config.timestamp.url, delay=0.05) as proxy:
        cfg = _cfg(test_config, proxy.url, concurrency=3)
        results = _sign(cfg, test_pki, pin, paths, level=Level.B_LTA)
        assert all(r.ok for r in results), [r.error for r in results if not r.ok]  # type: ignore[attr-defined]
        assert 2 <= proxy.max_in_flight <= 3, proxy.max_in_flight
        signed = {p.name: p.read_bytes() for p in paths}
        proxy.reset_counts()
        cfg_file = proxied_config(test_pki.config, proxy.url, "renew", concurrency=3)
        from hocba.cli import main

        capsys.readouterr()
        rc = main(["timestamp", "--config", str(cfg_file), "--in-place", *map(str, paths)])
        err = capsys.readouterr().err
        assert rc == 0, err
        assert 2 <= proxy.max_in_flight <= 3, proxy.max_in_flight
    for p in paths:
        assert p.read_bytes() != signed[p.name]
        _verify_bt(test_config, p.read_bytes(), p.name, level="B-LTA")
