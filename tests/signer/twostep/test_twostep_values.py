"""Finish checks every value before embedding it; prepare runs every check before a PIN is asked.

Negative vectors are named for the attack: a tampered value, two values swapped
between records, a value for the wrong certificate, a batch replayed after it
was finished or after it expired, a role signing out of order.
"""
from __future__ import annotations

import base64
import json
from datetime import timedelta
from pathlib import Path
from typing import Any, Callable

import pytest

from certs.pki import PkiLayout, load_pkcs12
from ground.config import Config
from ground.i18n import t
from tests.signer.twostep.conftest import AUTH, Clock, sign_digest

pytestmark = [pytest.mark.xdist_group("twostep-values"), pytest.mark.slow]


def _prepare(client: Any, records: list[tuple[str, bytes]], certs: list[bytes],
             role: str = "principal", level: str = "B-T") -> Any:
    return client.post("/api/v1/twostep/batches", headers=AUTH, json={
        "role": role, "level": level, "certificates": [c.decode() for c in certs],
        "records": [{"name": n, "data": base64.b64encode(b).decode()} for n, b in records]})


def _finish(client: Any, batch_id: str, values: dict[str, bytes]) -> Any:
    return client.post(f"/api/v1/twostep/batches/{batch_id}/finish", headers=AUTH, json={
        "signatures": [{"id": k, "value": base64.b64encode(v).decode()} for k, v in values.items()]})


def _values(batch: dict[str, Any], key: Any) -> dict[str, bytes]:
    return {i["id"]: sign_digest(key, base64.b64decode(i["digest"])) for i in batch["items"]}


def test_tampered_and_swapped_values_are_refused_for_their_records_only(
        make_app: Callable[..., Any], sample_records: list[tuple[str, bytes]],
        principal_certs: list[bytes], principal_key: Any) -> None:
    client = make_app().test_client()
    records = sample_records[:5]  # pdf, xml, pdf, xml, pdf
    batch = _prepare(client, records, principal_certs).get_json()
    values = _values(batch, principal_key)
    tampered = bytearray(values["0"])
    tampered[17] ^= 0x01
    values["0"] = bytes(tampered)
    values["1"], values["2"] = values["2"], values["1"]  # swapped between two records
    del values["4"]  # no value at all
    resp = _finish(client, batch["batch_id"], values)
    assert resp.status_code == 200
    recs = {r["id"]: r for r in resp.get_json()["records"]}
    for i in ("0", "1", "2"):
        assert not recs[i]["ok"] and recs[i]["data"] is None
        assert recs[i]["error"] == t("signer.twostep.value_mismatch", "vi")
    assert not recs["4"]["ok"] and recs["4"]["error"] == t("signer.twostep.no_value", "vi")
    assert recs["3"]["ok"] and recs["3"]["data"]


def test_value_from_another_key_is_refused(make_app: Callable[..., Any], test_pki: PkiLayout,
                                           sample_records: list[tuple[str, bytes]],
                                           principal_certs: list[bytes]) -> None:
    client = make_app().test_client()
    batch = _prepare(client, sample_records[:2], principal_certs).get_json()
    seal_key, _, _ = load_pkcs12(test_pki.p12("seal"), "123456")
    resp = _finish(client, batch["batch_id"], _values(batch, seal_key))
    assert [r["ok"] for r in resp.get_json()["records"]] == [False, False]


def test_ecdsa_values_raw_or_der_are_accepted(make_app: Callable[..., Any], test_pki: PkiLayout,
                                              sample_records: list[tuple[str, bytes]]) -> None:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, decode_dss_signature

    client = make_app().test_client()
    certs = [test_pki.cert("principal_ec").read_bytes(), test_pki.cert("interm").read_bytes()]
    batch = _prepare(client, sample_records[:2], certs).get_json()
    assert {i["signature_algorithm"] for i in batch["items"]} == {"ecdsa"}
    key, _, _ = load_pkcs12(test_pki.p12("principal_ec"), "123456")
    values = {}
    for i in batch["items"]:
        der = key.sign(base64.b64decode(i["digest"]), ec.ECDSA(Prehashed(hashes.SHA256())))
        if i["id"] == "0":  # raw r || s, as PKCS#11 CKM_ECDSA returns it
            r, s = decode_dss_signature(der)
            values[i["id"]] = r.to_bytes(32, "big") + s.to_bytes(32, "big")
        else:
            values[i["id"]] = der
    resp = _finish(client, batch["batch_id"], values)
    assert all(r["ok"] for r in resp.get_json()["records"]), resp.get_json()


def test_expired_batch_is_refused_with_a_clear_error(make_app: Callable[..., Any],
                                                     sample_records: list[tuple[str, bytes]],
                                                     principal_certs: list[bytes],
                                                     principal_key: Any) -> None:
    clock = Clock()
    app = make_app(TWOSTEP_CLOCK=clock, TWOSTEP_TTL_MINUTES=30)
    client = app.test_client()
    batch = _prepare(client, sample_records[1:2], principal_certs).get_json()
    clock.now += timedelta(minutes=31)
    resp = _finish(client, batch["batch_id"], _values(batch, principal_key))
    assert resp.status_code == 410
    body = resp.get_json()
    assert body["error"] == "batch_expired" and "hết hạn" in body["detail"]
    # and it is gone: asking again says it does not exist
    again = client.get(f"/api/v1/twostep/batches/{batch['batch_id']}", headers=AUTH)
    assert again.status_code == 404 and again.get_json()["error"] == "batch_not_found"


def test_finish_while_another_finish_runs_is_refused(make_app: Callable[..., Any],
                                                     sample_records: list[tuple[str, bytes]],
                                                     principal_certs: list[bytes],
                                                     principal_key: Any, tmp_path: Path) -> None:
    client = make_app().test_client()
    batch = _prepare(client, sample_records[1:2], principal_certs).get_json()
    (tmp_path / "state" / batch["batch_id"] / "finish.lock").write_text("4242 now\n")
    resp = _finish(client, batch["batch_id"], _values(batch, principal_key))
    assert resp.status_code == 409 and resp.get_json()["error"] == "batch_busy"


def test_restart_between_prepare_and_finish_loses_nothing_python_api(
        test_config: Config, trust_services: Any, sample_records: list[tuple[str, bytes]],
        principal_certs: list[bytes], principal_key: Any, tmp_path: Path) -> None:
    from signer.twostep import TwoStep

    batch = TwoStep(test_config, state_dir=tmp_path).prepare(
        sample_records[:2], role="principal", level="B-LTA", certificates=principal_certs)
    del batch  # the process "dies"; only the batch file the key holder got survives
    doc = json.loads((tmp_path / next(p.name for p in tmp_path.iterdir()) /
                      "manifest.json").read_text())
    values = {i["id"]: sign_digest(principal_key, __import__("hashlib").sha256(
        base64.b64decode(i["tbs"])).digest()) for i in doc["items"]}
    done = TwoStep(test_config, state_dir=tmp_path).finish(doc["batch_id"], values)
    assert [r.ok for r in done.records] == [True, True], [r.error for r in done.records]
    assert b"/DocTimeStamp" in done.records[0].data  # B-LTA: the document timestamp is there
    assert b"ArchiveTimeStamp" in done.records[1].data


def test_teacher_after_principal_is_refused_at_prepare(
        make_app: Callable[..., Any], test_pki: PkiLayout, sample_records: list[tuple[str, bytes]],
        principal_certs: list[bytes], principal_key: Any) -> None:
    client = make_app().test_client()
    batch = _prepare(client, sample_records[:2], principal_certs).get_json()
    done = _finish(client, batch["batch_id"], _values(batch, principal_key)).get_json()
    signed = [(r["name"], base64.b64decode(r["data"])) for r in done["records"]]
    teacher = [test_pki.cert("teacher").read_bytes(), test_pki.cert("interm").read_bytes()]
    resp = _prepare(client, signed, teacher, role="teacher")
    assert resp.status_code == 422
    body = resp.get_json()
    assert body["error"] == "nothing_prepared" and "thứ tự" in body["detail"]


def test_bad_record_is_refused_and_the_others_are_prepared(
        make_app: Callable[..., Any], sample_records: list[tuple[str, bytes]],
        principal_certs: list[bytes]) -> None:
    client = make_app().test_client()
    not_a_record = b'<?xml version="1.0"?><Other xmlns="urn:x"><a Id="x">1</a></Other>'
    records = [sample_records[1], ("garbage.bin", b"\x00\x01 nothing"),
               ("other.xml", not_a_record)]
    resp = _prepare(client, records, principal_certs)
    assert resp.status_code == 201
    body = resp.get_json()
    assert [i["name"] for i in body["items"]] == [sample_records[1][0]]
    assert {r["name"] for r in body["refused"]} == {"garbage.bin", "other.xml"}


@pytest.mark.parametrize("label,role,needle", [
    ("teacher_revoked", "teacher", "thu hồi"),
    ("teacher_expired", "teacher", "hết hạn"),
    ("teacher", "principal", "vai trò"),
    ("rogue_teacher", "teacher", "không được cấp bởi CA tin cậy"),
], ids=["revoked", "expired", "role_mismatch", "untrusted_root"])
def test_certificate_is_checked_before_anyone_is_asked_for_a_pin(
        make_app: Callable[..., Any], test_pki: PkiLayout, sample_records: list[tuple[str, bytes]],
        label: str, role: str, needle: str) -> None:
    client = make_app().test_client()
    certs = [test_pki.cert(label).read_bytes(), test_pki.cert("interm").read_bytes()]
    resp = _prepare(client, sample_records[1:2], certs, role=role)
    assert resp.status_code == 422, resp.get_json()
    body = resp.get_json()
    assert body["error"] == "certificate_refused" and needle in body["detail"], body
