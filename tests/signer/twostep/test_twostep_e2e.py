"""End to end: the service prepares 20 records (PDF and XML), the reference client signs
every digest on a SoftHSM2 token after one login, a restarted service finishes them, and
every record verifies in hocba verify, pdfsig and xmlsec1."""
from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from certs.pki import PkiLayout
from ground.config import Config
from tests.signer._xades_fixtures import xmlsec_verify
from tests.tooling import require_tool
from tests.tokens import SOFTHSM_MODULE as MODULE, pdfsig_blocks
from ground.i18n import t
from tests.signer.twostep.conftest import AUTH, TOKEN, hocba

pytestmark = [pytest.mark.xdist_group("twostep-e2e"), pytest.mark.slow]

DS = "http://www.w3.org/2000/09/xmldsig#"


@pytest.fixture(scope="module")
def e2e(test_config: Config, trust_services: Any, sample_records: list[tuple[str, bytes]],
        principal_certs: list[bytes], softhsm_env: dict[str, str],
        tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from signer.service import create_app

    d = tmp_path_factory.mktemp("twostep-e2e")
    conf = {"HOCBA_CONFIG_OBJ": test_config, "TWOSTEP_TOKEN": TOKEN,
            "TWOSTEP_STATE_DIR": str(d / "state"), "TESTING": True}
    # 1. The school system prepares the batch (JSON body, base64 records).
    first = create_app(conf).test_client()
    resp = first.post("/api/v1/twostep/batches", headers=AUTH, json={
        "role": "principal", "level": "B-T",
        "certificates": [c.decode() for c in principal_certs],
        "records": [{"name": n, "data": base64.b64encode(b).decode()} for n, b in sample_records]})
    assert resp.status_code == 201, resp.get_json()
    batch = resp.get_json()
    (d / "batch.json").write_text(json.dumps(batch))
    # 2. The key holder signs every digest on the token, one login.
    env = {**softhsm_env, "HOCBA_PIN": "123456"}
    signed = hocba("twostep", "sign-digests", "--batch", str(d / "batch.json"),
                   "--pkcs11-module", str(MODULE), "--token-label", "hocba",
                   "--key-label", "principal", "--out", str(d / "values.json"), env=env)
    values = json.loads((d / "values.json").read_text()) if signed.returncode == 0 else None
    # 3. A new service instance on the same state_dir (a restart) finishes the batch.
    second = create_app(conf).test_client()
    fin = second.post(f"/api/v1/twostep/batches/{batch['batch_id']}/finish", headers=AUTH,
                      json=values)
    out = d / "out"
    out.mkdir()
    result = fin.get_json()
    for rec in result.get("records", []):
        if rec["ok"]:
            (out / rec["name"]).write_bytes(base64.b64decode(rec["data"]))
    return {"batch_file": d / "batch.json", "env": env, "batch": batch, "signed": signed, "finish": fin, "result": result, "out": out,
            "client": second, "values": values}


def test_twenty_records_prepared_with_a_digest_each(e2e: dict[str, Any]) -> None:
    batch = e2e["batch"]
    assert len(batch["items"]) == 20 and batch["refused"] == []
    assert {i["format"] for i in batch["items"]} == {"pdf", "xml"}
    for item in batch["items"]:
        assert item["digest_algorithm"] == "sha256"
        assert item["signature_algorithm"] == "rsassa_pkcs1v15"
        assert len(base64.b64decode(item["digest"])) == 32


def test_reference_client_signs_all_digests_after_one_login(e2e: dict[str, Any]) -> None:
    assert e2e["signed"].returncode == 0, e2e["signed"].stderr
    assert "1 lần đăng nhập" in e2e["signed"].stderr
    assert len(e2e["values"]["signatures"]) == 20


def test_restarted_service_finishes_every_record(e2e: dict[str, Any]) -> None:
    assert e2e["finish"].status_code == 200, e2e["result"]
    assert e2e["result"]["signed"] == 20, [r["error"] for r in e2e["result"]["records"]]
    assert len(list(e2e["out"].iterdir())) == 20


def test_every_record_verifies_with_hocba_verify(e2e: dict[str, Any], test_pki: PkiLayout) -> None:
    files = sorted(str(p) for p in e2e["out"].iterdir())
    proc = hocba("verify", "--config", str(test_pki.config), "--require-roles", "principal",
                 "--format", "json", "--lang", "en", *files, timeout=300)
    reports = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    assert len(reports) == 20, proc.stderr
    bad = [(r["file"], r["indication"], r["message"]) for r in reports
           if r["indication"] != "TOTAL_PASSED"]
    assert not bad and proc.returncode == 0, bad
    for r in reports:
        (sig,) = [s for s in r["signatures"] if s["role"] == "principal"]
        assert sig["claimed_role"] in ("principal", None) and sig["level"] == "B-T"


def test_every_pdf_valid_in_pdfsig(e2e: dict[str, Any], nssdb: str) -> None:
    for p in sorted(e2e["out"].glob("*.pdf")):
        blocks = pdfsig_blocks(nssdb, p)
        assert blocks.get("Sig_principal", "").startswith("Signature is Valid"), (p.name, blocks)


def test_every_xml_valid_in_xmlsec1(e2e: dict[str, Any], test_pki: PkiLayout,
                                    tmp_path: Path) -> None:
    xmlsec1 = require_tool("xmlsec1")
    for p in sorted(e2e["out"].glob("*.xml")):
        data = p.read_bytes()
        # the homeroom teacher's signature (made before the batch) and the principal's
        ids = [s.get("Id") for s in etree.fromstring(data).iterchildren(f"{{{DS}}}Signature")]
        assert len(ids) == 2, ids
        for sig_id in ids:
            proc = xmlsec_verify(xmlsec1, data, sig_id, tmp_path, test_pki.anchor,
                                 [Path(test_pki.cert("interm"))])
            assert proc.returncode == 0 and "OK" in proc.stdout + proc.stderr, (p.name, proc.stderr)


def test_finished_batch_cannot_be_finished_twice(e2e: dict[str, Any]) -> None:
    resp = e2e["client"].post(f"/api/v1/twostep/batches/{e2e['batch']['batch_id']}/finish",
                              headers=AUTH, json=e2e["values"])
    assert resp.status_code == 409
    body = resp.get_json()
    assert body["error"] == "batch_already_finished" and "đã hoàn tất" in body["detail"]


def test_finished_batch_status_keeps_results_until_expiry(e2e: dict[str, Any]) -> None:
    resp = e2e["client"].get(f"/api/v1/twostep/batches/{e2e['batch']['batch_id']}?data=1",
                             headers=AUTH)
    body = resp.get_json()
    assert resp.status_code == 200 and body["status"] == "finished"
    assert body["result"]["signed"] == 20
    assert all(r["data"] for r in body["result"]["records"])


def test_wrong_pin_is_one_clear_line_and_signs_nothing(e2e: dict[str, Any],
                                                      tmp_path: Path) -> None:
    out = tmp_path / "values.json"
    proc = hocba("twostep", "sign-digests", "--batch", str(e2e["batch_file"]),
                 "--pkcs11-module", str(MODULE), "--token-label", "hocba",
                 "--out", str(out), env={**e2e["env"], "HOCBA_PIN": "000000"})
    assert proc.returncode == 1 and "PIN" in proc.stderr and "Traceback" not in proc.stderr
    assert not out.exists()


def test_batch_for_another_certificate_is_refused_by_the_token(e2e: dict[str, Any],
                                                               test_pki: PkiLayout,
                                                               tmp_path: Path) -> None:
    from asn1crypto import pem

    forged = dict(e2e["batch"])
    forged["signer_certificate"] = base64.b64encode(
        pem.unarmor(test_pki.cert("seal").read_bytes())[2]).decode()
    (tmp_path / "b.json").write_text(json.dumps(forged))
    proc = hocba("twostep", "sign-digests", "--batch", str(tmp_path / "b.json"),
                 "--pkcs11-module", str(MODULE), "--token-label", "hocba", env=e2e["env"])
    assert proc.returncode == 1, proc.stderr
    assert t("signer.twostep.pkcs11.wrong_token", "vi") in proc.stderr, proc.stderr
    assert not (tmp_path / "b.signatures.json").exists()


def test_batch_file_with_altered_digest_is_refused_by_the_client(e2e: dict[str, Any],
                                                                 tmp_path: Path) -> None:
    forged = json.loads(json.dumps(e2e["batch"]))
    forged["items"][3]["digest"] = base64.b64encode(b"\x00" * 32).decode()
    (tmp_path / "b.json").write_text(json.dumps(forged))
    proc = hocba("twostep", "sign-digests", "--batch", str(tmp_path / "b.json"),
                 "--pkcs11-module", str(MODULE), "--token-label", "hocba", env=e2e["env"])
    assert proc.returncode == 2, proc.stderr
    assert t("signer.twostep.pkcs11.digest_mismatch", "vi",
             name=forged["items"][3]["name"]) in proc.stderr, proc.stderr
