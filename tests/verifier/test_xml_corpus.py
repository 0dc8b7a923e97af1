"""Third-party XML corpus (EU DSS, pyHanko trusted lists, signxml/defusedxml, pysaml2 XSW).

* intact   -> every signature intact (integrity true) and none TOTAL_FAILED: their roots
  are not in our trust store, so INDETERMINATE is right (signature level). The
  document-level ``unsigned_content`` check may still fail for files that carry
  content their signature does not cover (Signature-X-SK_DIT-1's DataEnvelope);
* tampered -> never TOTAL_PASSED; TOTAL_FAILED where the integrity is broken;
* reject   -> FORMAT_FAILURE, nothing expanded, fast.
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from hocba.vocab import Indication, SubIndication
from tests.tooling import CORPUS, corpus_dir
from verifier.core import Verifier

pytestmark = pytest.mark.xdist_group("xml-verify")


def _entries() -> list[tuple[str, str]]:
    manifest = CORPUS / "manifest.json"
    if not manifest.exists():
        return [("missing", "missing")]
    m = json.loads(manifest.read_text())
    return sorted((k, v["expect"]) for k, v in m.items() if k.startswith("xml/"))


# Tampered vectors whose integrity (hash/signature value/Id uniqueness/coverage) is broken:
# these must be TOTAL_FAILED, not merely not passed.
MUST_FAIL = {
    "dss--dss-signed-altered-refRemoved.xml", "dss--dss-signed-altered-signedPropsRemoved.xml",
    "dss--xsw--XSW-enveloped-fake-content-misplaced.xml",
    "dss--xsw--XSW-enveloped-fake-content-two-same-id.xml",
    "dss--xsw--XSW-enveloped-fake-content.xml", "dss--xsw--XSW-enveloped-fake-signedProperties.xml",
    "dss--xsw--XSW-enveloping-fake-manifest.xml", "dss--xsw--XSW-enveloping-fake-object.xml",
    "dss--xades-counter-signature-injected.xml", "dss--xades-fake-counter-signature.xml",
}


@pytest.fixture(scope="module")
def corpus_verifier(verifier: Verifier) -> Verifier:
    # No network for foreign certificates: their status is not ours to fetch in CI.
    return Verifier(verifier.policy.replace(online=False))


@pytest.mark.parametrize("path,expect", _entries(), ids=[p for p, _ in _entries()])
def test_xml_corpus(corpus_verifier: Verifier, path: str, expect: str) -> None:
    f: Path = corpus_dir() / path
    data = f.read_bytes()
    t = time.monotonic()
    r = corpus_verifier.verify(data, name=f.name)
    elapsed = time.monotonic() - t
    d: dict[str, Any] = r.to_dict("en")
    if expect == "reject":
        assert r.indication is Indication.TOTAL_FAILED
        assert r.subindication is SubIndication.FORMAT_FAILURE
        assert elapsed < 2
        assert "root:x:0:0" not in json.dumps(d) and not r.signatures
    elif expect == "tampered":
        assert r.indication is not Indication.TOTAL_PASSED, d
        if f.name in MUST_FAIL:
            assert r.indication is Indication.TOTAL_FAILED, d
    else:
        assert r.signatures, d
        for s in r.signatures:
            assert s.integrity, (s.id, [x.render("en") for x in s.findings])
            assert s.indication is not Indication.TOTAL_FAILED, (s.id, s.subindication)
        assert next(c for c in r.checks if c.name == "duplicate_ids").passed
