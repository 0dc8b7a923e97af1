"""Renewal of archive timestamps (``hocba timestamp``, ``signer.renew``).

EN 319 142-1 5.5 (B-LTA): a renewed PDF gains validation data for its last document
timestamp and one more document timestamp; every earlier signature still verifies
(the renewal is "signatures_only" for the strict diff policy), offline, and pdfsig
agrees. A PDF without signatures (or without an archive timestamp) is refused.
EN 319 132-1 5.5.2: a renewed XML record's last signature gains TimeStampValidationData
and a new ArchiveTimeStamp (twice: a chain of three), and verifies offline; a record whose
last archive timestamp no longer matches what it covers is refused, not extended.
"""
from __future__ import annotations

import io
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import pytest

from certs.pki import PkiLayout
from certs.services import TrustServices
from ground.config import Config
from ground.errors import HocbaError
from ground.vocab import Indication
from tests.tokens import pdfsig_output, sig_blocks
from tests.signing import sign_one

pytestmark = pytest.mark.slow  # end to end: not in the fast suite (pytest -m "not slow")


def _sign(cfg: Config, pki: PkiLayout, pin: str, data: bytes, name: str, role: str,
          level: str) -> bytes:
    return sign_one(cfg, pki, data, role, name=name, level=level, pin=pin)


def _sign_lta(cfg: Config, pki: PkiLayout, pin: str, data: bytes, name: str) -> bytes:
    """teacher B-T -> principal B-T -> seal B-LTA, as a school signs a record."""
    for role, level in (("teacher", "B-T"), ("principal", "B-T"), ("seal", "B-LTA")):
        data = _sign(cfg, pki, pin, data, name, role, level)
    return data


@pytest.fixture(scope="session")
def record_pdf_plain() -> bytes:
    from recordbook.pdf import render_pdf
    from recordbook.sample import sample_record

    return render_pdf(sample_record(11))


@pytest.fixture(scope="session")
def lta_pdf(test_config: Config, test_pki: PkiLayout, trust_services: TrustServices, pin: str,
            record_pdf_plain: bytes) -> bytes:
    return _sign_lta(test_config, test_pki, pin, record_pdf_plain, "r.pdf")


@pytest.fixture(scope="session")
def renewed_pdf(lta_pdf: bytes, test_config: Config, trust_services: TrustServices) -> bytes:
    from signer.renew import renew

    return renew(lta_pdf, test_config)


def _doc_timestamps(data: bytes) -> int:
    from pyhanko.pdf_utils.reader import PdfFileReader

    r = PdfFileReader(io.BytesIO(data), strict=False)
    return len(r.embedded_timestamp_signatures)


def test_renewed_pdf_has_one_more_document_timestamp(lta_pdf: bytes, renewed_pdf: bytes) -> None:
    assert renewed_pdf.startswith(lta_pdf)  # incremental update: nothing before is rewritten
    assert _doc_timestamps(renewed_pdf) == _doc_timestamps(lta_pdf) + 1


@pytest.fixture(scope="module")
def offline_renewed_pdf(record_pdf_plain: bytes, offline_config: Config, offline_pki: PkiLayout,
                        offline_services: TrustServices, pin: str) -> bytes:
    """As ``renewed_pdf``, under the offline tests' own PKI (its services can be stopped)."""
    from signer.renew import renew

    data = _sign_lta(offline_config, offline_pki, pin, record_pdf_plain, "r.pdf")
    return renew(data, offline_config)


def test_renewed_pdf_verifies_offline_with_signatures_only_changes(
        offline_renewed_pdf: bytes, offline_config: Config, offline_services_down: None) -> None:
    from verifier.core import Verifier
    from ground.policy import Policy

    rep = Verifier(Policy.from_config(offline_config)).verify(
        offline_renewed_pdf, name="r.pdf", validation_time=datetime.now(timezone.utc))
    detail = rep.to_dict("en")
    assert rep.indication is Indication.TOTAL_PASSED, detail
    sigs = [s for s in rep.signatures if not s.is_document_timestamp]
    assert [s.role for s in sigs] == ["teacher", "principal", "seal"], detail
    assert all(s.indication is Indication.TOTAL_PASSED for s in rep.signatures), detail
    assert [s.modifications_after for s in sigs] == ["signatures_only"] * 3, detail
    assert sum(1 for s in rep.signatures if s.is_document_timestamp) == 2, detail


def test_renewed_pdf_pdfsig_every_signature_valid(renewed_pdf: bytes, nssdb: str,
                                                  tmp_path: Path) -> None:
    p = tmp_path / "renewed.pdf"
    p.write_bytes(renewed_pdf)
    blocks = sig_blocks(pdfsig_output(nssdb, p))
    assert len(blocks) == 5, blocks  # three signatures, two document timestamps
    regular = {k: v for k, v in blocks.items() if k.startswith("Sig_")}
    assert set(regular) == {"Sig_teacher", "Sig_principal", "Sig_seal"}, blocks
    assert all(v == "Signature is Valid." for v in regular.values()), blocks
    # poppler does not verify ETSI.RFC3161 document timestamps ("not yet been verified",
    # exactly as for the first one); it must not call any of them invalid.
    assert not any("invalid" in v.lower() or "mismatch" in v.lower()
                   for v in blocks.values()), blocks


def test_renew_refuses_unsigned_pdf(record_pdf_plain: bytes, test_config: Config) -> None:
    from signer.renew import renew

    with pytest.raises(HocbaError) as e:
        renew(record_pdf_plain, test_config)
    assert e.value.key == "signer.renew.pdf_unsigned"


def test_renew_refuses_pdf_without_archive_timestamp(
        test_config: Config, test_pki: PkiLayout, trust_services: TrustServices, pin: str,
        record_pdf_plain: bytes) -> None:
    from signer.renew import renew

    bt = _sign(test_config, test_pki, pin, record_pdf_plain, "r.pdf", "teacher", "B-T")
    with pytest.raises(HocbaError) as e:
        renew(bt, test_config)
    assert e.value.key == "signer.renew.pdf_no_archive"


@pytest.fixture
def hocba_timestamp(capsys: pytest.CaptureFixture[str],
                    test_pki: PkiLayout) -> Callable[..., tuple[int, str]]:
    from hocba.cli import main

    def run(*args: str) -> tuple[int, str]:
        capsys.readouterr()
        rc = main(["timestamp", "--config", str(test_pki.config), *args])
        return rc, capsys.readouterr().err

    return run


def test_cli_renews_in_place_and_refuses_unsigned(
        hocba_timestamp: Callable[..., tuple[int, str]], lta_pdf: bytes, record_pdf_plain: bytes,
        trust_services: TrustServices, tmp_path: Path) -> None:
    signed, plain = tmp_path / "a.pdf", tmp_path / "b.pdf"
    signed.write_bytes(lta_pdf)
    plain.write_bytes(record_pdf_plain)
    rc, err = hocba_timestamp("--in-place", str(signed), str(plain))
    assert rc == 1, err
    from ground.i18n import cli_lang, t

    assert t("signer.renew.pdf_unsigned", cli_lang()) in err and "Traceback" not in err, err
    assert _doc_timestamps(signed.read_bytes()) == _doc_timestamps(lta_pdf) + 1
    assert plain.read_bytes() == record_pdf_plain  # a refused file is left untouched
    out = tmp_path / "out"
    out.mkdir()
    rc, err = hocba_timestamp("--out", str(out), str(signed))
    assert rc == 0, err
    assert _doc_timestamps((out / "a.pdf").read_bytes()) == _doc_timestamps(lta_pdf) + 2


def test_cli_missing_output_directory_is_usage_error(
        hocba_timestamp: Callable[..., tuple[int, str]], tmp_path: Path) -> None:
    f = tmp_path / "x.pdf"
    f.write_bytes(b"%PDF-1.7\n")
    rc, err = hocba_timestamp("--out", str(tmp_path / "nope"), str(f))
    assert rc == 2, err


# -- XML (EN 319 132-1 5.5.2) -------------------------------------------------------------

@pytest.fixture(scope="session")
def record_xml_plain() -> bytes:
    from recordbook.sample import sample_record
    from recordbook.xmlio import to_xml

    return to_xml(sample_record(11))


@pytest.fixture(scope="session")
def lta_xml(test_config: Config, test_pki: PkiLayout, trust_services: TrustServices, pin: str,
            record_xml_plain: bytes) -> bytes:
    return _sign_lta(test_config, test_pki, pin, record_xml_plain, "r.xml")


@pytest.fixture(scope="session")
def renewed_xml(lta_xml: bytes, test_config: Config, trust_services: TrustServices) -> bytes:
    from signer.renew import Renewer

    renewer = Renewer(test_config)  # one batch, two renewals: a chain of three
    return renewer.renew(renewer.renew(lta_xml)[1])[1]


X141 = "{http://uri.etsi.org/01903/v1.4.1#}"


def _last_usp_tags(data: bytes) -> list[str]:
    from ground.xmlsafe import parse_xml

    root = parse_xml(data).getroot()
    sigs = list(root.iter("{http://www.w3.org/2000/09/xmldsig#}Signature"))
    usp = next(sigs[-1].iter("{http://uri.etsi.org/01903/v1.3.2#}UnsignedSignatureProperties"))
    return [el.tag.split("}")[1] for el in usp if isinstance(el.tag, str)]


def test_renewed_xml_chains_archive_timestamps(lta_xml: bytes, renewed_xml: bytes) -> None:
    before = _last_usp_tags(lta_xml)
    after = _last_usp_tags(renewed_xml)
    assert after[:len(before)] == before
    assert after[len(before):] == ["TimeStampValidationData", "ArchiveTimeStamp"] * 2


@pytest.fixture(scope="module")
def offline_renewed_xml(record_xml_plain: bytes, offline_config: Config, offline_pki: PkiLayout,
                        offline_services: TrustServices, pin: str) -> bytes:
    """As ``renewed_xml`` (two renewals), under the offline tests' own PKI."""
    from signer.renew import Renewer

    data = _sign_lta(offline_config, offline_pki, pin, record_xml_plain, "r.xml")
    renewer = Renewer(offline_config)
    return renewer.renew(renewer.renew(data)[1])[1]


def test_renewed_xml_verifies_offline(offline_renewed_xml: bytes, offline_config: Config,
                                      offline_services_down: None) -> None:
    from verifier.core import Verifier
    from ground.policy import Policy

    rep = Verifier(Policy.from_config(offline_config)).verify(
        offline_renewed_xml, name="r.xml", validation_time=datetime.now(timezone.utc))
    detail = rep.to_dict("en")
    assert rep.indication is Indication.TOTAL_PASSED, detail
    assert [s.role for s in rep.signatures] == ["teacher", "principal", "seal"], detail
    assert all(s.indication is Indication.TOTAL_PASSED for s in rep.signatures), detail
    seal = rep.signatures[-1]
    assert seal.level == "B-LTA", detail
    assert sum(1 for f in seal.findings if f.code == "archive_timestamp_ok") == 3, detail
    assert not any(f.code == "archive_timestamp_invalid" for f in seal.findings), detail


def test_renew_refuses_xml_whose_archive_timestamp_no_longer_matches(
        lta_xml: bytes, test_config: Config, trust_services: TrustServices) -> None:
    from signer.renew import renew

    # Tamper with an unsigned property the archive timestamp covers (a revocation value).
    forged = lta_xml.replace(b"<xades:EncapsulatedOCSPValue>",
                             b"<xades:EncapsulatedOCSPValue>AAAA", 1)
    assert forged != lta_xml
    with pytest.raises(HocbaError) as e:
        renew(forged, test_config)
    assert e.value.key == "signer.renew.last_mismatch"


def test_renew_refuses_xml_without_archive_timestamp(
        test_config: Config, test_pki: PkiLayout, trust_services: TrustServices, pin: str,
        record_xml_plain: bytes) -> None:
    from signer.renew import renew

    with pytest.raises(HocbaError) as e:
        renew(record_xml_plain, test_config)
    assert e.value.key == "signer.renew.xml_unsigned"
    bt = _sign(test_config, test_pki, pin, record_xml_plain, "r.xml", "teacher", "B-T")
    with pytest.raises(HocbaError) as e:
        renew(bt, test_config)
    assert e.value.key == "signer.renew.xml_no_archive"


def test_cli_renews_xml(hocba_timestamp: Callable[..., tuple[int, str]], lta_xml: bytes,
                        trust_services: TrustServices, tmp_path: Path) -> None:
    f = tmp_path / "r.xml"
    f.write_bytes(lta_xml)
    rc, err = hocba_timestamp("--in-place", str(f))
    assert rc == 0, err
    assert _last_usp_tags(f.read_bytes())[-2:] == ["TimeStampValidationData", "ArchiveTimeStamp"]
