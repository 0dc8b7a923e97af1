"""The Python API (sign_bytes / sign_files), ECDSA keys, RSASSA-PSS, format detection."""
from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import pytest

from certs.pki import PkiLayout
from ground.config import Config


def _validate(data: bytes, test_pki: PkiLayout) -> list[str]:
    from pyhanko.keys import load_cert_from_pemder
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    vc = ValidationContext(trust_roots=[load_cert_from_pemder(str(test_pki.anchor))])
    r = PdfFileReader(io.BytesIO(data))
    out = []
    for sig in r.embedded_regular_signatures:
        st = validate_pdf_signature(sig, vc)
        assert st.intact and st.valid, st.pretty_print_details()
        out.append(st.md_algorithm + "/" + sig.signer_info["signature_algorithm"]["algorithm"].native)
    return out


@pytest.mark.slow
def test_sign_bytes_ecdsa_teacher_then_pss_principal(test_pki: PkiLayout, test_config: Config,
                                                     trust_services: object,
                                                     record_pdfs: list[bytes]) -> None:
    from signer.api import sign_bytes
    from signer.pades import declared_role

    res = sign_bytes([("a.pdf", record_pdfs[0]), ("junk.bin", b"GIF89a...")],
                     config=test_config, role="teacher", key=str(test_pki.p12("teacher_ec")),
                     pin="123456", level="B-B")
    assert res[0].ok and res[0].format == "pdf" and res[0].data
    from ground.i18n import cli_lang, t

    assert not res[1].ok and res[1].error == t("signer.batch.unknown_format", cli_lang())
    pss = dataclasses.replace(test_config, signing=dataclasses.replace(
        test_config.signing, rsa_padding="pss"))
    res2 = sign_bytes([("a.pdf", res[0].data)], config=pss, role="principal",
                      key=str(test_pki.p12("principal")), pin="123456", level="B-T")
    assert res2[0].ok, res2[0].error
    algos = _validate(res2[0].data or b"", test_pki)
    assert algos == ["sha256/sha256_ecdsa", "sha256/rsassa_pss"]
    from pyhanko.pdf_utils.reader import PdfFileReader

    sigs = PdfFileReader(io.BytesIO(res2[0].data or b"")).embedded_regular_signatures
    assert [declared_role(s) for s in sigs] == ["teacher", "principal"]


def test_sign_files_in_place_uses_config_default_key(test_pki: PkiLayout, trust_services: object,
                                                     record_pdfs: list[bytes],
                                                     tmp_path: Path) -> None:
    from signer.api import sign_files

    p = tmp_path / "x.pdf"
    p.write_bytes(record_pdfs[1])
    res = sign_files([p], config=str(test_pki.config), role="teacher", pin="123456",
                     level="B-B", in_place=True)
    assert res[0].ok, res[0].error
    assert p.read_bytes().startswith(record_pdfs[1])  # incremental update
    assert _validate(p.read_bytes(), test_pki)


def test_wrong_pin_is_a_refusal_not_a_usage_error(test_pki: PkiLayout,
                                                  test_config: Config) -> None:
    """The key refused the PIN: an operation that failed (exit 1), as a certificate refused
    for the role; not a usage error (issue 16 item 6, hocba/exitcodes.py)."""
    from ground.errors import HocbaError, UsageError
    from signer.api import sign_bytes
    from signer.keys import WrongPin

    with pytest.raises(WrongPin) as e:
        sign_bytes([], config=test_config, role="teacher", key=str(test_pki.p12("teacher")),
                   pin="000000")
    assert isinstance(e.value, HocbaError) and not isinstance(e.value, UsageError)
    assert e.value.exit_code == 1
    assert e.value.key == "signer.keys.wrong_pin" and "PIN" in e.value.render("vi")


def test_detect_format() -> None:
    from ground.errors import HocbaError
    from signer.batch import detect_format

    assert detect_format(b"%PDF-1.7\n...") == "pdf"
    assert detect_format(b"<?xml version='1.0'?><a/>") == "xml"
    with pytest.raises(HocbaError):
        detect_format(b"<!DOCTYPE a [<!ENTITY x 'y'>]><a>&x;</a>")
    with pytest.raises(HocbaError) as e:
        detect_format(b"PK\x03\x04zip")
    assert e.value.key == "signer.batch.unknown_format"
