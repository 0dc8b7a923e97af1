"""An inspector asking about a moment before the record was signed gets a plain answer
(issue 16 item 3): INDETERMINATE / NO_POE, saying the chosen time is before the
signature, in the report's language - not a revocation-data error from a library."""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone

from ground.vocab import Indication, Level, SubIndication
from verifier.core import Verifier


def test_validation_time_before_signing_is_explained(
        verifier: Verifier, base_pdf: bytes, sign_pdf: Callable[..., bytes],
        trust_services: object) -> None:
    pdf = sign_pdf(base_pdf, "teacher", "teacher", Level.B_T)
    r = verifier.verify(pdf, name="x.pdf",
                        validation_time=datetime(2020, 1, 1, tzinfo=timezone.utc))
    assert (r.indication, r.subindication) == (Indication.INDETERMINATE, SubIndication.NO_POE)
    vi, en = r.to_dict("vi"), r.to_dict("en")
    assert "sớm hơn lúc chữ ký được tạo" in vi["message"] and "01/01/2020" in vi["message"]
    assert "before the signature was made" in en["message"]
    assert "CRL" not in vi["message"] and "too recent" not in en["message"]


def test_a_forged_record_before_its_signing_time_stays_failed(
        verifier: Verifier, base_pdf: bytes, sign_pdf: Callable[..., bytes],
        trust_services: object) -> None:
    pdf = bytearray(sign_pdf(base_pdf, "teacher", "teacher", Level.B_B))
    i = pdf.index(b"/MediaBox")
    pdf[i + 1] ^= 0x20  # inside the signed bytes
    r = verifier.verify(bytes(pdf), name="x.pdf",
                        validation_time=datetime(2020, 1, 1, tzinfo=timezone.utc))
    assert r.indication is Indication.TOTAL_FAILED
