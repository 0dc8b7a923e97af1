"""Shared two-step state (issue 14): ``[twostep] store = "redis://..."`` lets several
signing-service instances share prepared batches, finishing each exactly once.

A real ``redis-server`` (Debian's) runs on a free loopback port for this module, without
persistence, and is stopped by its PID at the end. Two apps are made by
``signer.service:create_app`` from two configuration files (``HOCBA_CONFIG``) that share
only the Redis URL (each has its own ``state_dir``): prepare on one, finish on the other
→ 200; a second finish on either → 409; two finishes at once → one 200, one 409.
"""
from __future__ import annotations

import base64
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from certs.pki import PkiLayout
from ground.config import Config
from tests.signer.twostep.conftest import AUTH, TOKEN, sign_digest

pytestmark = [pytest.mark.xdist_group("twostep-redis"), pytest.mark.slow]

REDIS = shutil.which("redis-server") or "/usr/bin/redis-server"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not Path(REDIS).exists():
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    port = _free_port()
    workdir = tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen(
        [REDIS, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(workdir), "--protected-mode", "yes"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        import redis

        client = redis.Redis(host="127.0.0.1", port=port)
        for _ in range(100):
            try:
                if client.ping():
                    break
            except redis.ConnectionError:
                time.sleep(0.05)
        else:
            pytest.fail("redis-server did not start")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def _config_file(test_pki: PkiLayout, name: str, redis_url: str, state: Path) -> Path:
    text = test_pki.config.read_text(encoding="utf-8")
    text += (f'\n[twostep]\ntoken = "{TOKEN}"\nstore = "{redis_url}"\n'
             f'state_dir = "{state}"\nbatch_ttl_minutes = 30\n')
    out = test_pki.config.with_name(f"hocba-redis-{name}.toml")
    out.write_text(text, encoding="utf-8")
    return out


@pytest.fixture
def two_instances(test_pki: PkiLayout, trust_services: Any, redis_url: str, tmp_path: Path,
                  monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Any]:
    from signer.service import create_app

    apps = []
    for name in ("a", "b"):
        cfg = _config_file(test_pki, name, redis_url, tmp_path / f"state-{name}")
        monkeypatch.setenv("HOCBA_CONFIG", str(cfg))
        apps.append(create_app({"TESTING": True}))
    return apps[0].test_client(), apps[1].test_client()


def _prepare(client: Any, records: list[tuple[str, bytes]], certs: list[bytes]) -> Any:
    return client.post("/api/v1/twostep/batches", headers=AUTH, json={
        "role": "principal", "level": "B-T", "certificates": [c.decode() for c in certs],
        "records": [{"name": n, "data": base64.b64encode(b).decode()} for n, b in records]})


def _finish(client: Any, batch: dict[str, Any], key: Any) -> Any:
    return client.post(f"/api/v1/twostep/batches/{batch['batch_id']}/finish", headers=AUTH,
                       json={"signatures": [
                           {"id": i["id"], "value": base64.b64encode(
                               sign_digest(key, base64.b64decode(i["digest"]))).decode()}
                           for i in batch["items"]]})


def test_prepare_on_one_instance_finish_on_the_other_once(
        two_instances: tuple[Any, Any], sample_records: list[tuple[str, bytes]],
        principal_certs: list[bytes], principal_key: Any, test_config: Config,
        tmp_path: Path) -> None:
    a, b = two_instances
    resp = _prepare(a, sample_records[:4], principal_certs)  # pdf, xml, pdf, xml
    assert resp.status_code == 201, resp.get_json()
    batch = resp.get_json()
    # Nothing on either instance's disk: the state is in Redis.
    assert not (tmp_path / "state-a" / batch["batch_id"]).exists()
    assert b.get(f"/api/v1/twostep/batches/{batch['batch_id']}",
                 headers=AUTH).get_json()["status"] == "prepared"

    done = _finish(b, batch, principal_key)
    assert done.status_code == 200, done.get_json()
    records = done.get_json()["records"]
    assert [r["ok"] for r in records] == [True] * 4, [r["error"] for r in records]

    for client in (a, b):
        again = _finish(client, batch, principal_key)
        assert again.status_code == 409, again.get_json()
        assert again.get_json()["error"] == "batch_already_finished"
    status = a.get(f"/api/v1/twostep/batches/{batch['batch_id']}?data=1", headers=AUTH).get_json()
    assert status["status"] == "finished"
    assert [r["data"] for r in status["result"]["records"]] == [r["data"] for r in records]

    from ground.policy import Policy
    from ground.vocab import Indication
    from verifier.core import Verifier

    data = base64.b64decode(records[0]["data"])
    rep = Verifier(Policy.from_config(test_config)).verify(data, name=records[0]["name"])
    assert rep.indication is Indication.TOTAL_PASSED, rep.to_dict("en")


def test_two_finishes_at_once_on_two_instances_one_wins(
        two_instances: tuple[Any, Any], sample_records: list[tuple[str, bytes]],
        principal_certs: list[bytes], principal_key: Any) -> None:
    a, b = two_instances
    batch = _prepare(a, sample_records[4:8], principal_certs).get_json()
    answers: list[Any] = [None, None]
    start = threading.Barrier(2)

    def run(i: int, client: Any) -> None:
        start.wait()
        answers[i] = _finish(client, batch, principal_key)

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate((a, b))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    codes = sorted(r.status_code for r in answers)
    assert codes == [200, 409], [(r.status_code, r.get_json()) for r in answers]
    loser = next(r for r in answers if r.status_code == 409)
    assert loser.get_json()["error"] in ("batch_busy", "batch_already_finished")


def test_unknown_batch_on_the_shared_store_is_404(two_instances: tuple[Any, Any]) -> None:
    a, _ = two_instances
    resp = a.get("/api/v1/twostep/batches/AAAAAAAAAAAAAAAAAAAAAAAA", headers=AUTH)
    assert resp.status_code == 404 and resp.get_json()["error"] == "batch_not_found"


def test_expired_batch_is_gone_from_redis(test_config: Config, redis_url: str,
                                          sample_records: list[tuple[str, bytes]],
                                          principal_certs: list[bytes],
                                          trust_services: Any) -> None:
    """Every key of a batch carries the batch's expiry (TTL = batch_ttl_minutes)."""
    import dataclasses

    import redis

    from signer.twostep import TwoStep

    cfg = dataclasses.replace(test_config, twostep=dataclasses.replace(
        test_config.twostep, store=redis_url, batch_ttl_minutes=0.05))  # 3 seconds
    ts = TwoStep(cfg)
    batch = ts.prepare(sample_records[:1], role="principal", certificates=principal_certs)
    r = redis.Redis.from_url(redis_url)
    keys = r.keys(f"hocba:twostep:{batch.batch_id}:*")
    assert keys and all(0 < r.pttl(k) <= 3000 for k in keys)
    time.sleep(3.2)
    assert not r.keys(f"hocba:twostep:{batch.batch_id}:*")
    from signer.twostep_store import BatchNotFound

    with pytest.raises(BatchNotFound):
        ts.status(batch.batch_id)
