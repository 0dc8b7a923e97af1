"""The third-party PDF corpus (../shared/corpus), one case per manifest entry.

tampered -> TOTAL_FAILED, never PASSED; reject -> FORMAT_FAILURE report (never a
crash or hang); intact -> every signature intact, no modification failure (their
roots are not ours, so INDETERMINATE is the expected verdict).
"""
from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest

from hocba.vocab import Indication, SubIndication
from tests.tooling import CORPUS, corpus_dir
from verifier.core import Verifier


def _cases() -> list[tuple[str, str]]:
    manifest = CORPUS / "manifest.json"
    if not manifest.is_file():
        return [("missing", "missing")]
    data = json.loads(manifest.read_text())
    return [(k, v["expect"]) for k, v in sorted(data.items()) if k.startswith("pdf/")]


def _verify_with_timeout(verifier: Verifier, path: Path, seconds: int = 30):  # type: ignore[no-untyped-def]
    def on_alarm(*_: object) -> None:
        raise TimeoutError(f"{path.name} took more than {seconds}s")

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(seconds)
    try:
        return verifier.verify(path.read_bytes(), name=path.name)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


@pytest.mark.parametrize("rel, expect", _cases(), ids=[c[0].split("/")[-1] for c in _cases()])
def test_corpus_pdf(rel: str, expect: str, verifier: Verifier) -> None:
    root = corpus_dir()
    r = _verify_with_timeout(verifier, root / rel)
    if expect == "tampered":
        assert r.indication is Indication.TOTAL_FAILED, r.to_dict("en")
    elif expect == "reject":
        assert r.indication is Indication.TOTAL_FAILED
        assert r.subindication is SubIndication.FORMAT_FAILURE
        assert not r.signatures
    else:
        assert r.signatures, r.to_dict("en")
        assert all(s.integrity for s in r.signatures), r.to_dict("en")
        assert all(s.modifications_after != "other" for s in r.signatures), r.to_dict("en")
        assert not any(c.name in ("modifications", "coverage", "format") and not c.passed
                       for c in r.checks)
        assert r.indication is not Indication.TOTAL_PASSED  # foreign roots are not trusted
