"""A verdict is a function of (bytes, policy, validation time, revocation data available),
never of what the process verified before.

The red team saw a file pass only after another file had been checked. The causes were
state shared across files in :class:`ground.judge.TrustEngine`: a per-certificate
"valid now" verdict reused for 5 minutes whatever the next file carried (a file without
its issuing CA passed once the same certificate had been seen with it), fetched
OCSP/CRL responses and AIA certificates reused where a fresh verifier fetches nothing
(``--validation-time``, past validation at the POE). Each test here verifies files in
one shared Verifier, in two orders, and compares every report with the file judged
alone by a brand-new Verifier (and once in a brand-new process).
"""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from certs.pki import PkiLayout
from ground.config import Config
from ground.vocab import Level
from verifier.core import Verifier
from ground.policy import Policy
from verifier.report import Report

pytestmark = pytest.mark.slow  # end to end: not in the fast suite (pytest -m "not slow")


def _key(rep: Report) -> tuple[Any, ...]:
    """What must not depend on history: indications and revocation, per signature."""
    return (rep.indication.value, rep.subindication.value if rep.subindication else None,
            tuple((s.id, s.indication.value, s.subindication.value if s.subindication else None,
                   s.revocation.status if s.revocation else None,
                   s.revocation.source if s.revocation else None, s.modifications_after)
                  for s in rep.signatures))


def _dict_key(d: dict[str, Any]) -> tuple[Any, ...]:
    return (d["indication"], d["subindication"],
            tuple((s["id"], s["indication"], s["subindication"],
                   s["revocation"]["status"] if s["revocation"] else None,
                   s["revocation"]["source"] if s["revocation"] else None,
                   s["modifications_after"]) for s in d["signatures"]))


@pytest.fixture(scope="module")
def policy(test_config: Config) -> Policy:
    return Policy.from_config(test_config)


@pytest.fixture(scope="module")
def teacher_without_chain(base_pdf: bytes, test_pki: PkiLayout, pin: str,
                          trust_services: object) -> bytes:
    """The teacher's signature with only her own certificate embedded (the test PKI has
    no AIA caIssuers): no path to the root can be built from this file alone."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers
    from pyhanko.sign.fields import SigSeedSubFilter
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    full = signers.SimpleSigner.load_pkcs12(str(test_pki.p12("teacher")), passphrase=pin.encode())
    assert full is not None
    bare = signers.SimpleSigner(signing_cert=full.signing_cert, signing_key=full.signing_key,
                                cert_registry=SimpleCertificateStore())
    w = IncrementalPdfFileWriter(io.BytesIO(base_pdf))
    return signers.sign_pdf(w, signers.PdfSignatureMetadata(
        field_name="Sig_teacher", subfilter=SigSeedSubFilter.PADES), signer=bare).getvalue()


@pytest.fixture(scope="module")
def files(two_signed: bytes, lta_record: bytes, teacher_without_chain: bytes,
          base_pdf: bytes, sign_pdf: Callable[..., bytes], trust_services: object
          ) -> dict[str, bytes]:
    return {
        "good_bt": two_signed,
        "lta": lta_record,
        "no_chain": teacher_without_chain,
        "revoked": sign_pdf(base_pdf, "teacher_revoked", "teacher", Level.B_B),
        "expired": sign_pdf(base_pdf, "teacher_expired", "teacher", Level.B_B),
        "teacher_bt": sign_pdf(base_pdf, "teacher", "teacher", Level.B_T),
    }


def _alone(policy: Policy, name: str, data: bytes, when: datetime | None) -> tuple[Any, ...]:
    return _key(Verifier(policy).verify(data, name=name, validation_time=when))


def test_no_chain_file_after_same_certificate_with_chain(
        policy: Policy, files: dict[str, bytes]) -> None:
    """The old per-certificate verdict cache: B (no issuing CA in the file) passed once the
    same teacher certificate had been validated from A (which carries its chain)."""
    alone = _alone(policy, "b.pdf", files["no_chain"], None)
    assert alone[2][0][1:3] == ("INDETERMINATE", "NO_CERTIFICATE_CHAIN_FOUND"), alone
    v = Verifier(policy)
    v.verify(files["teacher_bt"], name="a.pdf")
    assert _key(v.verify(files["no_chain"], name="b.pdf")) == alone


def test_validation_time_after_online_verification(policy: Policy, files: dict[str, bytes]) -> None:
    """The old fetch cache used retroactively: with --validation-time nothing is fetched, so a
    B-T file without embedded revocation data cannot be settled - not even when the same
    Verifier has just fetched OCSP responses for the same certificates."""
    when = datetime.now(timezone.utc) - timedelta(seconds=1)
    alone = _alone(policy, "b.pdf", files["good_bt"], when)
    assert alone[0] != "TOTAL_PASSED", alone
    v = Verifier(policy)
    for name, data in files.items():
        v.verify(data, name=name)  # online, fills the fetch cache
    assert _key(v.verify(files["good_bt"], name="b.pdf", validation_time=when)) == alone


@pytest.mark.parametrize("explicit", [False, True], ids=["now", "validation_time"])
def test_every_order_gives_the_reports_of_files_judged_alone(
        policy: Policy, files: dict[str, bytes], explicit: bool) -> None:
    when = datetime.now(timezone.utc) - timedelta(seconds=1) if explicit else None
    alone = {n: _alone(policy, n, d, when) for n, d in files.items()}
    for order in (list(files), list(reversed(files))):
        v = Verifier(policy)
        for _ in range(2):  # second round: everything the first one fetched is cached
            for name in order:
                got = _key(v.verify(files[name], name=name, validation_time=when))
                assert got == alone[name], (name, order)
    # and the expected verdicts, so that "the same" is not "the same wrong"
    if not explicit:
        assert alone["good_bt"][0] == "TOTAL_PASSED"
        assert alone["lta"][0] == "TOTAL_PASSED"
        assert alone["revoked"][2][0][1:3] == ("TOTAL_FAILED", "REVOKED")
        assert alone["expired"][2][0][1:3] == ("INDETERMINATE", "OUT_OF_BOUNDS_NO_POE")


def test_fresh_process_agrees_with_a_warm_verifier(
        policy: Policy, files: dict[str, bytes], test_pki: PkiLayout, tmp_path: Path) -> None:
    """``hocba verify`` in a new process on B alone == B after the others in one Verifier."""
    v = Verifier(policy)
    for name, data in files.items():
        v.verify(data, name=name)
    warm = {n: _key(v.verify(files[n], name=n)) for n in ("no_chain", "good_bt", "revoked")}
    paths = []
    for n in warm:
        (tmp_path / f"{n}.pdf").write_bytes(files[n])
        paths.append(str(tmp_path / f"{n}.pdf"))
    env = {k: val for k, val in os.environ.items() if k != "HOCBA_CONFIG"}
    r = subprocess.run([str(Path(sys.executable).parent / "hocba"), "verify", "--config",
                        str(test_pki.config), "--format", "json", *paths],
                       capture_output=True, text=True, timeout=120, env=env)
    lines = [json.loads(line) for line in r.stdout.strip().splitlines()]
    assert len(lines) == len(warm), r.stderr
    for n, d in zip(warm, lines):
        assert _dict_key(d) == warm[n], n
