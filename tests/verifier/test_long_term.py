"""Long-term validation: a B-LTA record verifies offline years after its signers'
certificates expired (EN 319 102-1 5.6.3 validation process for LTA, EN 319 142-1 B-LTA).

Records: ``records.sample`` PDF and XML signed teacher B-T -> principal B-T -> seal B-LTA
with the real test trust services; verified with the services stopped at now, +3.5 and
+13 years (signer certificates expired, TSA and CAs still valid: TOTAL_PASSED), +25 years
(the TSA certificate expired too and no newer archive timestamp: INDETERMINATE), and a
record without LTA (teacher B-T + principal B-T, no validation data) at +3.5 years
(INDETERMINATE: nothing proves the signer's status when it signed).
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import pytest

from certs.pki import PkiLayout
from certs.services import TrustServices
from ground.config import Config
from ground.vocab import Indication, SubIndication
from verifier.core import Verifier
from ground.policy import Policy
from verifier.report import Report
from tests.signing import sign_one

pytestmark = pytest.mark.slow  # end to end: not in the fast suite (pytest -m "not slow")

YEAR = timedelta(days=365)


def _now() -> datetime:
    # Taken when the test runs, after the records were signed: with xdist a module-level
    # "now" can be minutes older than the embedded OCSP responses ("too recent").
    return datetime.now(timezone.utc)


def _sign(cfg: Config, pki: PkiLayout, pin: str, data: bytes, name: str, role: str,
          level: str) -> bytes:
    return sign_one(cfg, pki, data, role, name=name, level=level, pin=pin)


@pytest.fixture(scope="session")
def lt_records(offline_config: Config, offline_pki: PkiLayout, offline_services: TrustServices,
               pin: str) -> dict[str, bytes]:
    from recordbook.pdf import render_pdf
    from recordbook.sample import sample_record
    from recordbook.xmlio import to_xml

    rec = sample_record(7)
    out: dict[str, bytes] = {}
    for fmt, data in (("pdf", render_pdf(rec)), ("xml", to_xml(rec))):
        name = f"lt.{fmt}"
        bt = _sign(offline_config, offline_pki, pin, data, name, "teacher", "B-T")
        bt = _sign(offline_config, offline_pki, pin, bt, name, "principal", "B-T")
        out[f"{fmt}-bt"] = bt
        out[f"{fmt}-lta"] = _sign(offline_config, offline_pki, pin, bt, name, "seal", "B-LTA")
    return out


@pytest.fixture(scope="session")
def lt_verify(offline_config: Config) -> Callable[[bytes, str, datetime], Report]:
    verifier = Verifier(Policy.from_config(offline_config))

    def verify(data: bytes, name: str, at: datetime) -> Report:
        return verifier.verify(data, name=name, validation_time=at)

    return verify


def _summary(rep: Report) -> str:
    return "; ".join(f"{s.id}: {s.indication.value}/{s.subindication.value if s.subindication else '-'}"
                     f" {s.findings[0].render('en') if s.findings else ''}" for s in rep.signatures)


@pytest.mark.parametrize("fmt", ["pdf", "xml"])
@pytest.mark.parametrize("years", [0, 3.5, 13])
def test_lta_record_passes_offline_after_signer_certificates_expired(
        lt_records: dict[str, bytes], lt_verify: Callable[[bytes, str, datetime], Report],
        offline_services_down: None, fmt: str, years: float) -> None:
    at = _now() + years * YEAR
    rep = lt_verify(lt_records[f"{fmt}-lta"], f"lt.{fmt}", at)
    assert rep.indication is Indication.TOTAL_PASSED, _summary(rep)
    sigs = [s for s in rep.signatures if not s.is_document_timestamp]
    assert [s.role for s in sigs] == ["teacher", "principal", "seal"]
    assert all(s.indication is Indication.TOTAL_PASSED for s in rep.signatures)
    assert sigs[-1].level == "B-LTA"
    if years:
        # The signers' certificates expired since; the report says they were valid
        # at the time proven by the timestamps.
        codes = {f.code for s in sigs for f in s.findings}
        assert "cert_poe_expired_ok" in codes, _summary(rep)


@pytest.mark.parametrize("fmt", ["pdf", "xml"])
def test_lta_record_after_tsa_expiry_needs_renewed_archive_timestamp(
        lt_records: dict[str, bytes], lt_verify: Callable[[bytes, str, datetime], Report],
        offline_services_down: None, fmt: str) -> None:
    rep = lt_verify(lt_records[f"{fmt}-lta"], f"lt.{fmt}", _now() + 25 * YEAR)
    assert rep.indication is Indication.INDETERMINATE, _summary(rep)
    assert all(s.indication is Indication.INDETERMINATE for s in rep.signatures), _summary(rep)


@pytest.mark.parametrize("fmt", ["pdf", "xml"])
def test_record_without_lta_is_indeterminate_offline_after_expiry(
        lt_records: dict[str, bytes], lt_verify: Callable[[bytes, str, datetime], Report],
        offline_services_down: None, fmt: str) -> None:
    rep = lt_verify(lt_records[f"{fmt}-bt"], f"lt.{fmt}", _now() + 3.5 * YEAR)
    assert rep.indication is Indication.INDETERMINATE, _summary(rep)
    assert all(s.indication is Indication.INDETERMINATE for s in rep.signatures), _summary(rep)
    assert {s.subindication for s in rep.signatures} <= {
        SubIndication.OUT_OF_BOUNDS_NO_POE, SubIndication.REVOCATION_OUT_OF_BOUNDS_NO_POE,
        SubIndication.TRY_LATER}, _summary(rep)
