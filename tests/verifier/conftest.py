"""Verifier fixtures: records signed by code against the test PKI (no binaries checked in)."""
from __future__ import annotations

import io
from collections.abc import Callable

import pytest

from certs.pki import PkiLayout
from ground.config import Config
from ground.vocab import Level, Role
from verifier.core import Verifier
from ground.policy import Policy


@pytest.fixture(scope="session")
def base_pdf() -> bytes:
    """A record PDF with empty Sig_teacher / Sig_principal / Sig_seal fields."""
    from tests.signer.pdfs import sample_pdfs

    return sample_pdfs(1)[0]


@pytest.fixture(scope="session")
def sign_pdf(test_pki: PkiLayout, test_config: Config, pin: str
             ) -> Callable[..., bytes]:
    """``sign_pdf(pdf, label, role, level=B_B)`` with the project's PAdES signer, no pre-check
    (so negative certificates can sign)."""
    from signer.batch import Batch
    from signer.keys import KeySource

    cache: dict[tuple[str, str, str], Batch] = {}

    def sign(pdf: bytes, label: str, role: str, level: Level = Level.B_B) -> bytes:
        key = (label, role, level.value)
        if key not in cache:
            cache[key] = Batch(test_config, Role(role), level, KeySource(p12=test_pki.p12(label)),
                               pin, precheck=False)
        return cache[key].sign(pdf)[1]

    return sign


@pytest.fixture(scope="session")
def raw_sign_pdf(test_pki: PkiLayout, pin: str) -> Callable[..., bytes]:
    """Sign with pyHanko directly (bypasses the project's order rules): for order attacks."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers
    from pyhanko.sign.fields import SigSeedSubFilter

    def sign(pdf: bytes, label: str, field: str, md: str = "sha256") -> bytes:
        s = signers.SimpleSigner.load_pkcs12(str(test_pki.p12(label)), passphrase=pin.encode())
        assert s is not None
        w = IncrementalPdfFileWriter(io.BytesIO(pdf))
        out = signers.sign_pdf(w, signers.PdfSignatureMetadata(
            field_name=field, md_algorithm=md, subfilter=SigSeedSubFilter.PADES), signer=s)
        return out.getvalue()

    return sign


@pytest.fixture(scope="session")
def verifier(test_config: Config) -> Verifier:
    return Verifier(Policy.from_config(test_config))


@pytest.fixture(scope="session")
def two_signed(base_pdf: bytes, sign_pdf: Callable[..., bytes], trust_services: object) -> bytes:
    """teacher + principal at B-T: the good record the attacks start from."""
    pdf = sign_pdf(base_pdf, "teacher", "teacher", Level.B_T)
    return sign_pdf(pdf, "principal", "principal", Level.B_T)


@pytest.fixture(scope="session")
def lta_record(base_pdf: bytes, sign_pdf: Callable[..., bytes], trust_services: object) -> bytes:
    # Every signature at B-LTA: each later signer adds DSS data after earlier DSS updates
    # and document timestamps; none of that may count as a modification.
    pdf = sign_pdf(base_pdf, "teacher", "teacher", Level.B_LTA)
    pdf = sign_pdf(pdf, "principal", "principal", Level.B_LTA)
    return sign_pdf(pdf, "seal", "seal", Level.B_LTA)
