"""Archive-timestamp chains (EN 319 102-1 5.6.3 validation process for LTA).

A record signed teacher B-T -> principal B-T (normal TSA) -> seal B-LTA with the test
PKI's short-lived TSA (``tsa_short``, certificate valid two years), then renewed
(``signer.renew``) with the normal TSA. Verified offline at +3 years, when the
short TSA's certificate has expired: the newest archive timestamp is judged at the
validation time, the older one at the time the newer one proves, and the record is
TOTAL_PASSED. Without the renewal the same record is INDETERMINATE.

XML also extracts POE across signatures: the seal references the earlier signatures'
``ds:SignatureValue``, so its valid timestamps prove them (``poe_records`` below).
"""
from __future__ import annotations

import base64
import dataclasses
from datetime import datetime, timedelta, timezone

import pytest

from certs.pki import PkiLayout, service_urls
from certs.services import TrustServices
from ground.config import Config
from ground.vocab import Indication
from verifier.core import Verifier
from ground.policy import Policy
from verifier.report import Report
from tests.signing import sign_one

pytestmark = pytest.mark.slow  # end to end: not in the fast suite (pytest -m "not slow")

YEAR = timedelta(days=365)
FORMATS = ["xml", "pdf"]


def _sign(cfg: Config, pki: PkiLayout, pin: str, data: bytes, name: str, role: str,
          level: str) -> bytes:
    return sign_one(cfg, pki, data, role, name=name, level=level, pin=pin)


@pytest.fixture(scope="module")
def chain_records(offline_config: Config, offline_pki: PkiLayout, offline_services: TrustServices,
                  pin: str) -> dict[str, bytes]:
    from recordbook.pdf import render_pdf
    from recordbook.sample import sample_record
    from recordbook.xmlio import to_xml
    from signer.renew import renew

    short = service_urls(offline_config.services.port)["tsa_short"]
    short_cfg = dataclasses.replace(
        offline_config, timestamp=dataclasses.replace(offline_config.timestamp, url=short))
    rec = sample_record(11)
    out: dict[str, bytes] = {}
    for fmt, data in (("xml", to_xml(rec)), ("pdf", render_pdf(rec))):
        name = f"chain.{fmt}"
        data = _sign(offline_config, offline_pki, pin, data, name, "teacher", "B-T")
        data = _sign(offline_config, offline_pki, pin, data, name, "principal", "B-T")
        # the seal's signature timestamp and first archive timestamp from the short TSA
        data = _sign(short_cfg, offline_pki, pin, data, name, "seal", "B-LTA")
        out[fmt] = data
        out[f"{fmt}-renewed"] = renew(data, offline_config)
    return out


def _verify(cfg: Config, data: bytes, name: str, at: datetime) -> Report:
    return Verifier(Policy.from_config(cfg)).verify(data, name=name, validation_time=at)


def _summary(rep: Report) -> str:
    return "; ".join(f"{s.id}: {s.indication.value}/{s.subindication.value if s.subindication else '-'}"
                     f" {[f.render('en') for f in s.findings[:3]]}" for s in rep.signatures)


@pytest.mark.parametrize("fmt", FORMATS)
def test_renewed_archive_chain_passes_after_first_tsa_expired(
        chain_records: dict[str, bytes], offline_config: Config, offline_services_down: None,
        fmt: str) -> None:
    rep = _verify(offline_config, chain_records[f"{fmt}-renewed"], f"chain.{fmt}",
                  datetime.now(timezone.utc) + 3 * YEAR)
    assert rep.indication is Indication.TOTAL_PASSED, _summary(rep)
    assert all(s.indication is Indication.TOTAL_PASSED for s in rep.signatures), _summary(rep)
    codes = [f.code for s in rep.signatures for f in s.findings]
    assert "archive_timestamp_invalid" not in codes, _summary(rep)
    if fmt == "xml":
        # both archive timestamps of the seal's signature are valid: the old one at the
        # time proven by the renewal
        assert codes.count("archive_timestamp_ok") == 2, _summary(rep)


@pytest.mark.parametrize("fmt", FORMATS)
def test_unrenewed_record_is_indeterminate_after_its_tsa_expired(
        chain_records: dict[str, bytes], offline_config: Config, offline_services_down: None,
        fmt: str) -> None:
    rep = _verify(offline_config, chain_records[fmt], f"chain.{fmt}",
                  datetime.now(timezone.utc) + 3 * YEAR)
    assert rep.indication is Indication.INDETERMINATE, _summary(rep)


@pytest.mark.parametrize("fmt", FORMATS)
def test_renewed_record_passes_now(chain_records: dict[str, bytes], offline_config: Config,
                                   offline_services_down: None, fmt: str) -> None:
    rep = _verify(offline_config, chain_records[f"{fmt}-renewed"], f"chain.{fmt}",
                  datetime.now(timezone.utc))
    assert rep.indication is Indication.TOTAL_PASSED, _summary(rep)


# --- POE extraction across signatures (EN 319 102-1 5.6.2.x) --------------------------------
# Teacher and principal B-T with timestamps from tsa_short (expired at +3 years), seal B-LTA
# with the normal TSA, renewed once. The seal's SignedInfo references the teacher's and the
# principal's ds:SignatureValue, so its valid archive timestamps prove they existed early.

@pytest.fixture(scope="module")
def poe_records(offline_config: Config, offline_pki: PkiLayout, offline_services: TrustServices,
                pin: str) -> dict[str, bytes]:
    from recordbook.sample import sample_record
    from recordbook.xmlio import to_xml
    from signer.renew import renew

    short = service_urls(offline_config.services.port)["tsa_short"]
    short_cfg = dataclasses.replace(
        offline_config, timestamp=dataclasses.replace(offline_config.timestamp, url=short))
    name = "poe.xml"
    teacher = _sign(short_cfg, offline_pki, pin, to_xml(sample_record(12)), name, "teacher", "B-T")
    data = _sign(short_cfg, offline_pki, pin, teacher, name, "principal", "B-T")
    data = _sign(offline_config, offline_pki, pin, data, name, "seal", "B-LTA")
    return {"teacher-only": teacher, "sealed": renew(data, offline_config)}


def test_seal_archive_timestamp_gives_earlier_signatures_poe(
        poe_records: dict[str, bytes], offline_config: Config, offline_services_down: None) -> None:
    rep = _verify(offline_config, poe_records["sealed"], "poe.xml",
                  datetime.now(timezone.utc) + 3 * YEAR)
    assert rep.indication is Indication.TOTAL_PASSED, _summary(rep)
    assert all(s.indication is Indication.TOTAL_PASSED for s in rep.signatures), _summary(rep)
    # the teacher's and the principal's own timestamps are no longer valid: their POE
    # comes from the seal
    codes = [[f.code for f in s.findings] for s in rep.signatures]
    assert sum("poe_other_signature" in c for c in codes) == 2, _summary(rep)


def test_altered_teacher_signature_value_is_not_rescued_by_the_seal_poe(
        poe_records: dict[str, bytes], offline_config: Config, offline_services_down: None) -> None:
    from lxml import etree

    root = etree.fromstring(poe_records["sealed"])
    value = root.find("{http://www.w3.org/2000/09/xmldsig#}Signature/"
                      "{http://www.w3.org/2000/09/xmldsig#}SignatureValue")
    assert value is not None and value.text
    raw = bytearray(base64.b64decode(value.text))
    raw[10] ^= 0x01
    value.text = base64.b64encode(bytes(raw)).decode()
    rep = _verify(offline_config, etree.tostring(root), "poe.xml",
                  datetime.now(timezone.utc) + 3 * YEAR)
    assert rep.indication is Indication.TOTAL_FAILED, _summary(rep)
    assert rep.signatures[0].indication is Indication.TOTAL_FAILED, _summary(rep)
    assert not rep.signatures[0].integrity


def test_teacher_not_covered_by_a_timestamped_signature_stays_indeterminate(
        poe_records: dict[str, bytes], offline_config: Config, offline_services_down: None) -> None:
    rep = _verify(offline_config, poe_records["teacher-only"], "poe.xml",
                  datetime.now(timezone.utc) + 3 * YEAR)
    assert rep.indication is Indication.INDETERMINATE, _summary(rep)
    assert not any(f.code == "poe_other_signature" for s in rep.signatures for f in s.findings)
