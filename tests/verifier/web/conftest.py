"""Fixtures of the verifier service tests: real records signed with the test PKI.

Session-scoped: one sample record rendered and signed by teacher (B-T),
principal (B-T) and seal (B-LT), a tampered copy, and one app built from the
test PKI's hocba.toml, verifying against the live test trust services.
"""
from __future__ import annotations

import dataclasses
import io
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from certs.pki import PkiLayout
from ground.config import Config
from ground.vocab import Level, Role


@dataclasses.dataclass(frozen=True)
class Records:
    unsigned: bytes
    signed: bytes
    tampered: bytes
    student: str


def sign_chain(pdf: bytes, test_pki: PkiLayout, cfg: Config, pin: str,
               steps: tuple[tuple[str, Role, Level], ...]) -> bytes:
    from signer.batch import Batch
    from signer.keys import KeySource

    data = pdf
    for label, role, level in steps:
        with Batch(cfg, role, level, KeySource(p12=test_pki.p12(label)), pin,
                   precheck=False) as batch:
            _, data = batch.sign(data)
    return data


FULL_CHAIN = (("teacher", Role.TEACHER, Level.B_T), ("principal", Role.PRINCIPAL, Level.B_T),
              ("seal", Role.SEAL, Level.B_LT))


@pytest.fixture(scope="session")
def records(test_pki: PkiLayout, test_config: Config, trust_services: Any, pin: str) -> Records:
    from recordbook.pdf import render_pdf
    from recordbook.sample import sample_record

    rec = sample_record(0)
    unsigned = render_pdf(rec)
    signed = sign_chain(unsigned, test_pki, test_config, pin, FULL_CHAIN)
    # Edit the first revision in place (same length, so the file still parses):
    # the signed school year changes, every signature's digest must then fail.
    marker = b"/HocbaSchoolYear ("
    at = signed.index(marker) + len(marker)
    end = signed.index(b")", at)
    old = signed[at:end]
    new = old[:-1] + (b"9" if old[-1:] != b"9" else b"8")
    tampered = signed[:at] + new + signed[end:]
    assert len(tampered) == len(signed) and tampered != signed
    return Records(unsigned=unsigned, signed=signed, tampered=tampered,
                   student=rec.identity.full_name)


@dataclasses.dataclass(frozen=True)
class XmlRecords:
    signed: bytes
    tampered: bytes


@pytest.fixture(scope="session")
def xml_records(test_pki: PkiLayout, test_config: Config, trust_services: Any,
                pin: str) -> XmlRecords:
    import re

    from recordbook.sample import sample_record
    from recordbook.xmlio import to_xml

    signed = sign_chain(to_xml(sample_record(1)), test_pki, test_config, pin, FULL_CHAIN)
    # Raise the first signed mark: a grade changed after signing.
    m = re.search(rb"<Diem>([0-9.]+)</Diem>", signed)
    assert m is not None
    new = b"10" if m.group(1) != b"10" else b"9"
    return XmlRecords(signed=signed, tampered=signed[:m.start(1)] + new + signed[m.end(1):])


def make_app(test_config: Config, **limits: Any) -> Flask:
    from verifier.app import create_app

    cfg = test_config
    if limits:
        cfg = cfg.with_overrides(limits=dataclasses.replace(cfg.limits, **limits))
    app = create_app({"HOCBA_CONFIG_OBJ": cfg, "TESTING": True})
    return app


@pytest.fixture(scope="session")
def app(test_config: Config, trust_services: Any) -> Flask:
    from verifier.app import create_app

    return create_app({"HOCBA_CONFIG": str(test_config.source), "TESTING": True})


@pytest.fixture
def client(app: Flask) -> Iterator[FlaskClient]:
    with app.test_client() as c:
        yield c


def zip_of(entries: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        for name, data in entries.items():
            if name.endswith("/"):
                zf.writestr(zipfile.ZipInfo(name), b"")
            else:
                zf.writestr(name, data)
    return buf.getvalue()
