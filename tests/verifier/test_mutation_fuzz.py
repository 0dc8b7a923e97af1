"""Mutation fuzzing (about a minute): signed PDF and XML records, hocba's and another
tool's, mutated by code (tests/fuzzing.py). Never a traceback, never a hang, never
TOTAL_PASSED unless what the signatures sign is unchanged. ``bench/fuzz_mutations.py``
runs the same with more mutants and seeds."""
from __future__ import annotations

from collections.abc import Callable

import pytest

from certs.pki import PkiLayout
from ground.config import Config
from ground.vocab import Indication
from tests.fuzzing import (PDF_MUTATORS, XML_MUTATORS, mutants, pdf_signed_unchanged,
                           xml_signed_unchanged)
from tests.signing import sign_one
from tests.tooling import time_limit
from tests.verifier._xml_fixtures import dsig_sign, record_xml
from verifier.core import Verifier

pytestmark = pytest.mark.slow

PER_FILE = 150  # mutants per base file




@pytest.fixture(scope="module")
def offline(verifier: Verifier) -> Verifier:
    return Verifier(verifier.policy.replace(online=False))


@pytest.fixture(scope="module")
def hocba_pdf(base_pdf: bytes, test_config: Config, test_pki: PkiLayout,
              trust_services: object) -> bytes:
    data = sign_one(test_config, test_pki, base_pdf, "teacher", level="B-LT")
    return sign_one(test_config, test_pki, data, "principal", level="B-LT")


@pytest.fixture(scope="module")
def hocba_xml(test_config: Config, test_pki: PkiLayout, trust_services: object) -> bytes:
    data = sign_one(test_config, test_pki, record_xml(), "teacher", level="B-LT")
    return sign_one(test_config, test_pki, data, "principal", level="B-LT")


@pytest.fixture(scope="module")
def other_tool_xml(test_pki: PkiLayout, pin: str) -> bytes:
    data = dsig_sign(record_xml(), test_pki.p12("teacher"), pin, role="teacher")
    return dsig_sign(data, test_pki.p12("principal"), pin, role="principal")


def _fuzz(v: Verifier, base: bytes, mutators: dict[str, Callable[..., bytes]],
          unchanged: Callable[[bytes, bytes], bool], seed: int) -> dict[str, int]:
    passed: dict[str, int] = {}
    for name, m in mutants(base, mutators, PER_FILE, seed):
        with time_limit(20):
            r = v.verify(m, name=f"mutant-{name}")  # never raises: a report for anything
        d = r.to_dict("en")  # renders every message: no template error either
        assert d["indication"] in ("TOTAL_PASSED", "TOTAL_FAILED", "INDETERMINATE")
        if r.indication is Indication.TOTAL_PASSED:
            assert unchanged(base, m), f"{name} mutant passed although its signed content changed"
            passed[name] = passed.get(name, 0) + 1
    return passed


def test_own_pdf_mutants(offline: Verifier, hocba_pdf: bytes) -> None:
    assert offline.verify(hocba_pdf, name="base.pdf").indication is Indication.TOTAL_PASSED
    _fuzz(offline, hocba_pdf, PDF_MUTATORS, pdf_signed_unchanged, seed=1)


def test_own_xml_mutants(offline: Verifier, hocba_xml: bytes) -> None:
    assert offline.verify(hocba_xml, name="base.xml").indication is Indication.TOTAL_PASSED
    passed = _fuzz(offline, hocba_xml, XML_MUTATORS, xml_signed_unchanged, seed=2)
    # re-serialising the signatures in another order is not a change (CONTRACT 6)
    assert passed.get("swap_signatures", 0) > 0


def test_other_tool_xml_mutants(verifier: Verifier, other_tool_xml: bytes,
                                trust_services: object) -> None:
    assert verifier.verify(other_tool_xml, name="base.xml").indication is Indication.TOTAL_PASSED
    _fuzz(verifier, other_tool_xml, XML_MUTATORS, xml_signed_unchanged, seed=3)


CORPUS_BASES = ["pdf/intact/pyhanko--pdf--minimal-two-fields-signed-twice.pdf",
                "pdf/intact/dss--PAdES-LT.pdf", "xml/intact/dss--xades-lta-valid.xml",
                "xml/intact/signxml--signature_with_inclusivenamespaces.xml"]


@pytest.mark.parametrize("rel", CORPUS_BASES)
def test_other_software_file_mutants(offline: Verifier, rel: str) -> None:
    """Files made by other software (their roots are not trusted: the point is no crash,
    no hang, and a report that renders)."""
    from tests.tooling import corpus_dir

    base = (corpus_dir() / rel).read_bytes()
    if rel.endswith(".pdf"):
        _fuzz(offline, base, PDF_MUTATORS, pdf_signed_unchanged, seed=4)
    else:
        _fuzz(offline, base, XML_MUTATORS, xml_signed_unchanged, seed=5)
