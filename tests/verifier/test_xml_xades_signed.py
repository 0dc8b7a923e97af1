"""Records the project signs with its XAdES signer verify TOTAL_PASSED (B-T online, B-LTA offline)."""
from __future__ import annotations

from typing import Any

import pytest

from certs.pki import PkiLayout
from ground.config import Config
from ground.vocab import Indication, Level, Role
from tests.verifier._xml_fixtures import record_xml
from verifier.core import Verifier

# signed online through the TSA and OCSP services, then verified: the full suite
pytestmark = [pytest.mark.xdist_group("xml-verify"), pytest.mark.slow]


def _sign(offline_pki: PkiLayout, cfg: Config, data: bytes, label: str, role: Role,
          level: Level) -> bytes:
    from pyhanko.keys import load_cert_from_pemder
    from pyhanko.sign.signers import SimpleSigner
    from pyhanko.sign.timestamps import HTTPTimeStamper
    from pyhanko_certvalidator import ValidationContext

    from signer.context import SigningContext
    from signer.xades import XadesSigner

    root = load_cert_from_pemder(str(offline_pki.anchor))
    signer = SimpleSigner.load_pkcs12(offline_pki.p12(label), passphrase=b"123456")
    vc = ValidationContext(trust_roots=[root], allow_fetching=True, revocation_mode="hard-fail")
    ctx = SigningContext(signer=signer, role=role, level=level, config=cfg,
                         timestamper=HTTPTimeStamper(cfg.timestamp.url), validation_context=vc)
    x = XadesSigner(ctx)
    try:
        return x.sign(data)
    finally:
        x.close()


@pytest.fixture(scope="module")
def verifier(offline_config: Config) -> Verifier:
    """Trusts the offline PKI these records are signed under."""
    from ground.policy import Policy

    return Verifier(Policy.from_config(offline_config))


@pytest.fixture(scope="module")
def signed(offline_pki: PkiLayout, offline_config: Config, offline_services: Any) -> dict[str, bytes]:
    bt = _sign(offline_pki, offline_config, record_xml(), "teacher", Role.TEACHER, Level.B_T)
    bt = _sign(offline_pki, offline_config, bt, "principal", Role.PRINCIPAL, Level.B_T)
    lta = _sign(offline_pki, offline_config, record_xml(), "teacher", Role.TEACHER, Level.B_LTA)
    lta = _sign(offline_pki, offline_config, lta, "principal", Role.PRINCIPAL, Level.B_LTA)
    lta = _sign(offline_pki, offline_config, lta, "seal", Role.SEAL, Level.B_LTA)
    return {"bt": bt, "lta": lta}


def _why(r: Any) -> Any:
    return ([(s.id, s.subindication, [f.render("en") for f in s.findings]) for s in r.signatures],
            [(c.name, c.detail.render("en")) for c in r.checks if not c.passed])


def test_xades_b_t_record_passes_online(verifier: Verifier, signed: dict[str, bytes]) -> None:
    r = verifier.verify(signed["bt"], name="bt.xml")
    assert r.indication is Indication.TOTAL_PASSED, _why(r)
    assert [s.level for s in r.signatures] == ["B-T", "B-T"]
    assert all(s.timestamp is not None and s.timestamp.valid for s in r.signatures)
    assert r.record is not None and r.record["student"] == "Nguyễn Văn An"


def test_xades_b_lta_record_passes_with_services_down(
        verifier: Verifier, signed: dict[str, bytes], offline_services_down: None) -> None:
    offline = Verifier(verifier.policy)
    r = offline.verify(signed["lta"], name="lta.xml")
    assert r.indication is Indication.TOTAL_PASSED, _why(r)
    assert [s.level for s in r.signatures] == ["B-LTA"] * 3
    assert [s.role for s in r.signatures] == ["teacher", "principal", "seal"]


def test_xades_record_with_grade_raised_after_signing_fails(
        verifier: Verifier, signed: dict[str, bytes]) -> None:
    data = signed["bt"].replace(b"<Diem>9.5</Diem>", b"<Diem>10</Diem>", 1)
    assert data != signed["bt"]
    r = verifier.verify(data, name="forged.xml")
    assert r.indication is Indication.TOTAL_FAILED
