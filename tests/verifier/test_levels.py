"""One definition of a signature's level for PDF and XML (issue 16 item 8): what the
file provides for validating that signature. The same record signed the same way gets
the same level per signature in both formats."""
from __future__ import annotations

import pytest

from certs.pki import PkiLayout
from ground.config import Config
from ground.policy import Policy
from tests.signing import sign_one
from tests.verifier._xml_fixtures import record_xml
from verifier.core import Verifier

pytestmark = pytest.mark.slow


def _levels(cfg: Config, data: bytes, name: str) -> list[tuple[str | None, str | None]]:
    r = Verifier(Policy.from_config(cfg)).verify(data, name=name)
    return [(s.role, s.level) for s in r.signatures if not s.is_document_timestamp]


@pytest.mark.parametrize("seal_level,expected", [
    # the seal's B-LTA material (validation data for every signer, archive/document
    # timestamp over all of it) protects the earlier B-T signatures as well
    ("B-LTA", ["B-LTA", "B-LTA", "B-LTA"]),
    ("B-LT", ["B-LT", "B-LT", "B-LT"]),
    ("B-T", ["B-T", "B-T", "B-T"]),
])
def test_same_record_same_levels_in_pdf_and_xml(seal_level: str, expected: list[str],
                                               base_pdf: bytes, test_config: Config,
                                               test_pki: PkiLayout, trust_services: object) -> None:
    out = {}
    for name, data in (("r.pdf", base_pdf), ("r.xml", record_xml())):
        d = sign_one(test_config, test_pki, data, "teacher", level="B-T")
        d = sign_one(test_config, test_pki, d, "principal", level="B-T")
        d = sign_one(test_config, test_pki, d, "seal", level=seal_level)
        out[name] = _levels(test_config, d, name)
    assert out["r.pdf"] == out["r.xml"], out
    assert [lv for _, lv in out["r.pdf"]] == expected, out


def test_b_b_signature_stays_b_b_even_under_a_later_lta_seal(
        base_pdf: bytes, test_config: Config, test_pki: PkiLayout, trust_services: object) -> None:
    """No signature timestamp of its own: nothing proves when it was made (B-B)."""
    for name, data in (("r.pdf", base_pdf), ("r.xml", record_xml())):
        d = sign_one(test_config, test_pki, data, "teacher", level="B-B")
        d = sign_one(test_config, test_pki, d, "principal", level="B-T")
        d = sign_one(test_config, test_pki, d, "seal", level="B-LTA")
        assert _levels(test_config, d, name)[0] == ("teacher", "B-B"), name
