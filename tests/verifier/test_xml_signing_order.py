"""Signing order of XML records from signed evidence only (CONTRACT 6).

Evidence: a later signature's reference to an earlier ``ds:SignatureValue``, and
trusted signature-timestamp times. Where a ``ds:Signature`` element stands in the file
is not evidence: re-serialising a genuine record in another order keeps it valid, and
moving a principal-first forgery's elements into the "right" order does not rescue it.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from lxml import etree

from certs.pki import PkiLayout
from ground.config import Config
from ground.vocab import Indication
from tests.signing import sign_one
from tests.verifier._xml_fixtures import DS, add_signature_timestamp, dsig_sign, record_xml
from verifier.core import Verifier

pytestmark = pytest.mark.xdist_group("xml-verify")

Sign = Callable[..., bytes]


@pytest.fixture(scope="module")
def xsign(test_pki: PkiLayout, pin: str) -> Sign:
    def sign(xml: bytes, label: str, role: str, **kw: Any) -> bytes:
        return dsig_sign(xml, test_pki.p12(label), pin, role=role, **kw)
    return sign


def check(report: Any, name: str) -> Any:
    return next(c for c in report.checks if c.name == name)


def reorder(xml: bytes, order: list[str]) -> bytes:
    """Re-serialise the record with its top-level ds:Signature elements in ``order``
    (by the role in their Id)."""
    root = etree.fromstring(xml)
    sigs = root.findall(f"{{{DS}}}Signature")
    for s in sigs:
        root.remove(s)
    for role in order:
        root.append(next(s for s in sigs if role in (s.get("Id") or "")))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


@pytest.fixture(scope="module")
def hocba_record(test_config: Config, test_pki: PkiLayout, trust_services: object) -> bytes:
    """Made by hocba's signer: teacher -> principal -> seal at B-T."""
    data = record_xml()
    for role in ("teacher", "principal", "seal"):
        data = sign_one(test_config, test_pki, data, role, level="B-T")
    return data


def test_genuine_record_with_signature_elements_reversed_still_passes(
        verifier: Verifier, hocba_record: bytes) -> None:
    root = etree.fromstring(hocba_record)
    sigs = root.findall(f"{{{DS}}}Signature")
    assert len(sigs) == 3
    for s in sigs:
        root.remove(s)
    for s in reversed(sigs):
        root.append(s)
    data = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    r = verifier.verify(data, name="reversed.xml")
    assert r.indication is Indication.TOTAL_PASSED, r.to_dict("en")
    assert check(r, "signing_order").passed
    # reported in signing order, whatever the file order
    assert [s.role for s in r.signatures] == ["teacher", "principal", "seal"]


def test_principal_first_forgery_with_teacher_element_moved_first_fails_signing_order(
        verifier: Verifier, xsign: Sign) -> None:
    # The principal signs first; the teacher signs afterwards (covering the principal's
    # value, as any countersigning tool would); then the teacher's element is moved first.
    data = xsign(record_xml(), "principal", "principal")
    data = xsign(data, "teacher", "teacher", first=True)
    root = etree.fromstring(data)
    assert "teacher" in root.find(f"{{{DS}}}Signature").get("Id")  # file order looks right
    r = verifier.verify(data, name="principal-first.xml")
    order = check(r, "signing_order")
    assert not order.passed and order.indication is Indication.TOTAL_FAILED
    assert r.indication is Indication.TOTAL_FAILED


def test_independent_signatures_without_evidence_are_not_called_in_order(
        verifier: Verifier, xsign: Sign) -> None:
    # Another vendor's record: teacher and principal each sign the blocks, neither covers
    # the other, no timestamps. Nothing proves who signed first.
    data = xsign(xsign(record_xml(), "teacher", "teacher", cover_values=False),
                 "principal", "principal", cover_values=False)
    r = verifier.verify(data, name="no-evidence.xml")
    order = check(r, "signing_order")
    assert not order.passed and order.indication is Indication.INDETERMINATE
    assert r.indication is Indication.INDETERMINATE
    assert "cannot be established" in order.detail.render("en")


def test_trusted_signature_timestamps_order_independent_signatures(
        verifier: Verifier, xsign: Sign, test_config: Config, trust_services: object) -> None:
    url = test_config.timestamp.url
    assert url
    data = xsign(record_xml(), "teacher", "teacher", cover_values=False, sig_id="sig-teacher")
    data = add_signature_timestamp(data, "sig-teacher", url)
    time.sleep(1.1)  # the TSA's genTime has one-second resolution
    data = xsign(data, "principal", "principal", cover_values=False, sig_id="sig-principal",
                 first=True)
    data = add_signature_timestamp(data, "sig-principal", url)
    r = verifier.verify(data, name="timestamped.xml")
    assert check(r, "signing_order").passed, r.to_dict("en")
    assert r.indication is Indication.TOTAL_PASSED, r.to_dict("en")
    assert [s.role for s in r.signatures] == ["teacher", "principal"]


def test_timestamps_showing_principal_before_teacher_fail_signing_order(
        verifier: Verifier, xsign: Sign, test_config: Config, trust_services: object) -> None:
    url = test_config.timestamp.url
    assert url
    data = xsign(record_xml(), "principal", "principal", cover_values=False,
                 sig_id="sig-principal")
    data = add_signature_timestamp(data, "sig-principal", url)
    time.sleep(1.1)
    data = xsign(data, "teacher", "teacher", cover_values=False, sig_id="sig-teacher",
                 first=True)
    data = add_signature_timestamp(data, "sig-teacher", url)
    r = verifier.verify(data, name="ts-wrong-order.xml")
    order = check(r, "signing_order")
    assert not order.passed and order.indication is Indication.TOTAL_FAILED
