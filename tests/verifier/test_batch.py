"""Many files on every core (verifier/batch.py, ``hocba verify --jobs``): the same reports
as one after another, in the order given, from worker processes; a worker that dies
costs only its own file."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import verifier.batch as batch
from certs.pki import PkiLayout
from ground.vocab import Indication, SubIndication
from verifier.batch import Unreadable, verify_paths
from verifier.core import Verifier
from verifier.report import Report


def _tampered(pdf: bytes) -> bytes:
    """One byte changed inside what the first signature covers."""
    i = pdf.index(b"/Producer") if b"/Producer" in pdf else len(pdf) // 3
    return pdf[:i + 2] + bytes([pdf[i + 2] ^ 0x01]) + pdf[i + 3:]


def _files(tmp_path: Path, two_signed: bytes) -> list[str]:
    (tmp_path / "dir.pdf").mkdir()
    kinds = [two_signed, _tampered(two_signed), b"not a record", two_signed]
    names = []
    for i in range(8):
        p = tmp_path / f"f{i}.pdf"
        p.write_bytes(kinds[i % len(kinds)])
        names.append(str(p))
    names.insert(3, str(tmp_path / "missing.pdf"))
    names.insert(6, str(tmp_path / "dir.pdf"))
    return names


def _comparable(o: Any) -> Any:
    if isinstance(o, Unreadable):
        return ("unreadable", o.name)
    assert isinstance(o, Report)
    d = o.to_dict("en")
    d.pop("validation_time", None)
    return json.dumps(d, sort_keys=True)


def test_parallel_reports_equal_sequential_and_keep_file_order(
        tmp_path: Path, two_signed: bytes, verifier: Verifier, trust_services: object,
        monkeypatch: pytest.MonkeyPatch) -> None:
    names = _files(tmp_path, two_signed)
    sequential = list(verify_paths(verifier, names, jobs=1))
    pids = tmp_path / "pids"
    pids.mkdir()
    inner = batch._verify_path

    def recording(v: Verifier, name: str, *a: Any) -> Any:
        (pids / str(os.getpid())).touch()
        return inner(v, name, *a)

    monkeypatch.setattr(batch, "_verify_path", recording)
    parallel = list(verify_paths(verifier, names, jobs=2))
    assert [_comparable(o) for o in parallel] == [_comparable(o) for o in sequential]
    assert [o.name if isinstance(o, Unreadable) else o.file for o in parallel] == names
    workers = {int(p.name) for p in pids.iterdir()}
    assert len(workers) == 2 and os.getpid() not in workers  # really two other processes
    got = [o.indication if isinstance(o, Report) else None for o in parallel]
    assert got[0] is Indication.TOTAL_PASSED and got[1] is Indication.TOTAL_FAILED
    assert got[3] is None and got[6] is None  # missing file, a directory


@pytest.mark.parametrize("failure", [
    pytest.param("dies", id="worker-killed-mid-file"),  # OOM killer, a crash in a C library
    pytest.param("raises", id="worker-raises-or-report-cannot-come-back"),
])
def test_failing_worker_costs_only_the_file_it_was_verifying(
        tmp_path: Path, two_signed: bytes, verifier: Verifier, trust_services: object,
        monkeypatch: pytest.MonkeyPatch, failure: str) -> None:
    """The other files get their real reports, in order; the culprit is reported; the CLI
    never sees a traceback."""
    names = _files(tmp_path, two_signed)
    culprit = tmp_path / "culprit.pdf"
    culprit.write_bytes(two_signed)
    names.insert(4, str(culprit))
    sequential = list(verify_paths(verifier, names, jobs=1))
    inner = batch._verify_path

    def fails_on_culprit(v: Verifier, name: str, *a: Any) -> Any:
        if name.endswith("culprit.pdf"):
            if failure == "dies":
                os._exit(9)
            raise MemoryError("no room for this one")
        return inner(v, name, *a)

    monkeypatch.setattr(batch, "_verify_path", fails_on_culprit)
    parallel = list(verify_paths(verifier, names, jobs=2))
    assert len(parallel) == len(names)
    for i, (p, s) in enumerate(zip(parallel, sequential)):
        if i == 4:
            assert isinstance(p, Report) and p.file == str(culprit)
            assert p.indication is Indication.TOTAL_FAILED
            assert p.subindication is SubIndication.FORMAT_FAILURE
            assert p.checks[0].detail.code == "worker_died"
        else:
            assert _comparable(p) == _comparable(s), names[i]


def test_few_files_stay_in_this_process(tmp_path: Path, two_signed: bytes, verifier: Verifier,
                                        trust_services: object,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    p = tmp_path / "one.pdf"
    p.write_bytes(two_signed)
    seen: list[int] = []
    inner = batch._verify_path
    def recording(v: Verifier, n: str, *a: Any) -> Any:
        seen.append(os.getpid())
        return inner(v, n, *a)

    monkeypatch.setattr(batch, "_verify_path", recording)
    out = list(verify_paths(verifier, [str(p)], jobs=8))
    assert seen == [os.getpid()] and isinstance(out[0], Report)


@pytest.mark.slow
def test_cli_jobs_same_output_as_one_process(tmp_path: Path, two_signed: bytes,
                                             test_pki: PkiLayout,
                                             trust_services: object) -> None:
    names = [n for n in _files(tmp_path, two_signed) if "dir.pdf" not in n]

    def run(*extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "hocba", "verify", "--config",
                               str(test_pki.config), "--format", "json", *extra, *names],
                              capture_output=True, text=True, timeout=300)

    one, two = run("--jobs", "1"), run("--jobs", "2")
    assert one.returncode == two.returncode == 2  # garbage + a missing file: input errors
    strip: Callable[[str], list[str]] = lambda out: [  # noqa: E731
        json.dumps({k: v for k, v in json.loads(line).items() if k != "validation_time"},
                   sort_keys=True) for line in out.splitlines()]
    assert strip(two.stdout) == strip(one.stdout) and len(strip(one.stdout)) == 8
    assert two.stderr == one.stderr and "missing.pdf" in two.stderr
    bad = run("--jobs", "-1")
    assert bad.returncode == 2 and "--jobs" in bad.stderr and "Traceback" not in bad.stderr
