"""Archive-timestamp chains (EN 319 102-1 5.6.3 validation process for LTA).

A record signed teacher B-T -> principal B-T (normal TSA) -> seal B-LTA with the test
PKI's short-lived TSA (``tsa_short``, certificate valid two years), then renewed
(``signer.renew``) with the normal TSA. (In XML the seal's references cover the record's
data, not the other signatures, so only the seal's own archive timestamps vouch for it:
teacher and principal signature timestamps from the short TSA would have nothing to
extend them.) Verified offline at +3 years, when the
short TSA's certificate has expired: the newest archive timestamp is judged at the
validation time, the older one at the time the newer one proves, and the record is
TOTAL_PASSED. Without the renewal the same record is INDETERMINATE.
"""
from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone

import pytest

from certs.pki import PkiLayout, service_urls
from certs.services import TrustServices
from hocba.config import Config
from hocba.vocab import Indication
from verifier.core import Verifier
from verifier.policy import Policy
from verifier.report import Report

YEAR = timedelta(days=365)
FORMATS = ["xml", "pdf"]


def _sign(cfg: Config, pki: PkiLayout, pin: str, data: bytes, name: str, role: str,
          level: str) -> bytes:
    from signer.api import sign_bytes

    [res] = sign_bytes([(name, data)], config=cfg, role=role, key=pki.p12(role), pin=pin,
                       level=level)
    assert res.ok, res.error
    assert res.data is not None
    return res.data


@pytest.fixture(scope="module")
def chain_records(test_config: Config, test_pki: PkiLayout, trust_services: TrustServices,
                  pin: str) -> dict[str, bytes]:
    from records.pdf import render_pdf
    from records.sample import sample_record
    from records.xmlio import to_xml
    from signer.renew import renew

    short = service_urls(test_config.services.port)["tsa_short"]
    short_cfg = dataclasses.replace(
        test_config, timestamp=dataclasses.replace(test_config.timestamp, url=short))
    rec = sample_record(11)
    out: dict[str, bytes] = {}
    for fmt, data in (("xml", to_xml(rec)), ("pdf", render_pdf(rec))):
        name = f"chain.{fmt}"
        data = _sign(test_config, test_pki, pin, data, name, "teacher", "B-T")
        data = _sign(test_config, test_pki, pin, data, name, "principal", "B-T")
        # the seal's signature timestamp and first archive timestamp from the short TSA
        data = _sign(short_cfg, test_pki, pin, data, name, "seal", "B-LTA")
        out[fmt] = data
        out[f"{fmt}-renewed"] = renew(data, test_config)
    return out


def _verify(cfg: Config, data: bytes, name: str, at: datetime) -> Report:
    return Verifier(Policy.from_config(cfg)).verify(data, name=name, validation_time=at)


def _summary(rep: Report) -> str:
    return "; ".join(f"{s.id}: {s.indication.value}/{s.subindication.value if s.subindication else '-'}"
                     f" {[f.render('en') for f in s.findings[:3]]}" for s in rep.signatures)


@pytest.mark.parametrize("fmt", FORMATS)
def test_renewed_archive_chain_passes_after_first_tsa_expired(
        chain_records: dict[str, bytes], test_config: Config, services_down: None,
        fmt: str) -> None:
    rep = _verify(test_config, chain_records[f"{fmt}-renewed"], f"chain.{fmt}",
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
        chain_records: dict[str, bytes], test_config: Config, services_down: None,
        fmt: str) -> None:
    rep = _verify(test_config, chain_records[fmt], f"chain.{fmt}",
                  datetime.now(timezone.utc) + 3 * YEAR)
    assert rep.indication is Indication.INDETERMINATE, _summary(rep)


@pytest.mark.parametrize("fmt", FORMATS)
def test_renewed_record_passes_now(chain_records: dict[str, bytes], test_config: Config,
                                   services_down: None, fmt: str) -> None:
    rep = _verify(test_config, chain_records[f"{fmt}-renewed"], f"chain.{fmt}",
                  datetime.now(timezone.utc))
    assert rep.indication is Indication.TOTAL_PASSED, _summary(rep)
