"""../shared/corpus: signed files made by other software, judged by its README.

* intact   -> no tamper evidence and not TOTAL_FAILED (their roots are not ours, so
  INDETERMINATE is the usual verdict); a file marked ``unsigned_content_ok`` may fail
  the strict ``unsigned_content`` check, and that alone;
* tampered -> tamper evidence, never TOTAL_PASSED;
* reject   -> TOTAL_FAILED / FORMAT_FAILURE within seconds, nothing expanded.
"""
from __future__ import annotations

import json
import time

import pytest

from tests.corpus_rules import manifest, tamper_evidence
from tests.tooling import corpus_dir, time_limit
from verifier.core import Verifier

pytestmark = pytest.mark.xdist_group("corpus")

# Tampered XML whose integrity (digest, value, Id uniqueness, coverage) is broken:
# TOTAL_FAILED, not merely "not passed".
MUST_FAIL = {
    "dss--dss-signed-altered-refRemoved.xml", "dss--dss-signed-altered-signedPropsRemoved.xml",
    "dss--xsw--XSW-enveloped-fake-content-misplaced.xml",
    "dss--xsw--XSW-enveloped-fake-content-two-same-id.xml",
    "dss--xsw--XSW-enveloped-fake-content.xml", "dss--xsw--XSW-enveloped-fake-signedProperties.xml",
    "dss--xsw--XSW-enveloping-fake-manifest.xml", "dss--xsw--XSW-enveloping-fake-object.xml",
    "dss--xades-counter-signature-injected.xml", "dss--xades-fake-counter-signature.xml",
}

CASES = sorted(manifest().items()) or [("missing", {"expect": "missing"})]


@pytest.fixture(scope="module")
def corpus_verifier(verifier: Verifier) -> Verifier:
    # No network for foreign certificates: their status is not ours to fetch.
    return Verifier(verifier.policy.replace(online=False))




@pytest.mark.parametrize("rel, entry", CASES, ids=[c[0] for c in CASES])
def test_corpus(corpus_verifier: Verifier, rel: str, entry: dict[str, str]) -> None:
    path = corpus_dir() / rel
    t = time.monotonic()
    with time_limit(30, rel):
        report = corpus_verifier.verify(path.read_bytes(), name=path.name)
    elapsed = time.monotonic() - t
    d = report.to_dict("en")
    expect = entry["expect"]
    ok_unsigned = entry.get("strict_policy") == "unsigned_content_ok"
    evidence = tamper_evidence(d, unsigned_content_ok=ok_unsigned)
    if expect == "reject":
        assert (d["indication"], d["subindication"]) == ("TOTAL_FAILED", "FORMAT_FAILURE"), d
        assert not d["signatures"] and elapsed < 5
        assert "root:x:0:0" not in json.dumps(d)  # nothing fetched or expanded
    elif expect == "tampered":
        assert evidence, d
        assert d["indication"] != "TOTAL_PASSED", d
        if path.name in MUST_FAIL or path.suffix == ".pdf":
            assert d["indication"] == "TOTAL_FAILED", d
    else:
        assert d["signatures"], d
        assert not evidence, (evidence, d)
        failed = {c["name"] for c in d["checks"] if not c["passed"]}
        if d["indication"] == "TOTAL_FAILED":
            # only the strict unsigned-content rule may fail such a file
            assert ok_unsigned and failed <= {"unsigned_content", "required_roles",
                                              "signing_order"}, d
            assert any(c["name"] == "unsigned_content" and not c["passed"]
                       for c in d["checks"]), d
        # a genuine file is never judged "changed" because another tool wrote it
        assert all(s["integrity"] is not False for s in d["signatures"]), d
