"""PAdES signing end to end: teacher (B-T) → principal (B-T) → seal (B-LTA), checked by
poppler's pdfsig and pyHanko's AdES LTA validation with the trust services stopped."""
from __future__ import annotations

import asyncio
import io
from pathlib import Path

import pytest

from certs.pki import PkiLayout
from tests.tokens import pdfsig_output, sig_blocks

ROLES_IN_ORDER = (("teacher", "B-T"), ("principal", "B-T"), ("seal", "B-LTA"))


@pytest.fixture(scope="session")
def signed_chain(test_pki: PkiLayout, trust_services: object, record_pdfs: list[bytes],
                 tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Two records signed by all three roles through the CLI, in place."""
    import os

    from hocba.cli import main

    d = tmp_path_factory.mktemp("chain")
    paths = []
    for i, pdf in enumerate(record_pdfs[:2]):
        p = d / f"record-{i}.pdf"
        p.write_bytes(pdf)
        paths.append(p)
    old = os.environ.get("HOCBA_PIN")
    os.environ["HOCBA_PIN"] = "123456"
    try:
        for role, level in ROLES_IN_ORDER:
            rc = main(["sign", "--config", str(test_pki.config), "--role", role, "--level", level,
                       "--key", str(test_pki.p12(role)), "--in-place", *map(str, paths)])
            assert rc == 0, f"{role} signing failed"
    finally:
        if old is None:
            os.environ.pop("HOCBA_PIN", None)
        else:
            os.environ["HOCBA_PIN"] = old
    return paths


def test_every_signature_valid_in_pdfsig(signed_chain: list[Path], nssdb: str) -> None:
    for path in signed_chain:
        blocks = sig_blocks(pdfsig_output(nssdb, path))
        regular = {k: v for k, v in blocks.items() if k.startswith("Sig_")}
        assert set(regular) == {"Sig_teacher", "Sig_principal", "Sig_seal"}, blocks
        for name, verdict in regular.items():
            assert verdict.startswith("Signature is Valid"), (path.name, name, verdict)


def test_declared_roles_and_locks(signed_chain: list[Path]) -> None:
    from pyhanko.pdf_utils.reader import PdfFileReader

    from signer.pades import declared_role

    r = PdfFileReader(io.BytesIO(signed_chain[0].read_bytes()))
    sigs = r.embedded_regular_signatures
    assert [declared_role(s) for s in sigs] == ["teacher", "principal", "seal"]
    # first signature certifies with DocMDP P=2; every field locks itself (FieldMDP)
    assert sigs[0].docmdp_level is not None and sigs[0].docmdp_level.value == 2
    for s in sigs:
        lock = s.sig_field["/Lock"]
        assert [str(f) for f in lock["/Fields"]] == [s.field_name]
    assert "(role=principal)" in str(sigs[1].sig_object["/Reason"])
    assert len(r.embedded_timestamp_signatures) >= 1  # B-LTA document timestamp


def _lta_spec(test_pki: PkiLayout) -> object:
    from pyhanko.keys import load_cert_from_pemder
    from pyhanko.sign.validation.policy_decl import (
        PdfSignatureValidationSpec, RevocationInfoGatheringSpec, RevinfoOnlineFetchingRule,
        SignatureValidationSpec)
    from pyhanko_certvalidator.context import CertValidationPolicySpec
    from pyhanko_certvalidator.policy_decl import REQUIRE_REVINFO, CertRevTrustPolicy
    from pyhanko_certvalidator.registry import SimpleTrustManager

    root = load_cert_from_pemder(str(test_pki.anchor))
    return PdfSignatureValidationSpec(SignatureValidationSpec(
        cert_validation_policy=CertValidationPolicySpec(
            trust_manager=SimpleTrustManager.build(trust_roots=[root]),
            revinfo_policy=CertRevTrustPolicy(REQUIRE_REVINFO)),
        revinfo_gathering_policy=RevocationInfoGatheringSpec(
            online_fetching_rule=RevinfoOnlineFetchingRule.LOCAL_ONLY),
    ))


@pytest.fixture(scope="module")
def offline_chain(offline_pki: PkiLayout, offline_services: object,
                  record_pdfs: list[bytes]) -> list[bytes]:
    """As ``signed_chain`` (same roles and levels), under the offline tests' own PKI."""
    from ground.config import load_config
    from tests.signing import sign_one

    cfg = load_config(offline_pki.config)
    out = []
    for pdf in record_pdfs[:2]:
        for role, level in ROLES_IN_ORDER:
            pdf = sign_one(cfg, offline_pki, pdf, role, level=level)
        out.append(pdf)
    return out


@pytest.mark.slow
def test_ades_lta_validation_offline(offline_chain: list[bytes], offline_pki: PkiLayout,
                                     offline_services_down: None) -> None:
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.ades.report import AdESPassed
    from pyhanko.sign.validation.ades import ades_lta_validation

    spec = _lta_spec(offline_pki)
    for data in offline_chain:
        r = PdfFileReader(io.BytesIO(data))
        sigs = r.embedded_regular_signatures
        assert len(sigs) == 3
        for sig in sigs:
            result = asyncio.run(ades_lta_validation(sig, spec))  # type: ignore[arg-type]
            assert result.ades_subindic == AdESPassed.OK, (
                sig.field_name, result.ades_subindic,
                result.api_status.pretty_print_details() if result.api_status else None)
