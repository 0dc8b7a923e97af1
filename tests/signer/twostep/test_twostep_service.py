"""The signing service's HTTP surface: authentication, and JSON 4xx for every bad request."""
from __future__ import annotations

import base64
from typing import Any, Callable

import pytest

from ground.config import Config
from ground.errors import ConfigError
from ground.i18n import t
from tests.signer.twostep.conftest import AUTH, TOKEN

pytestmark = [pytest.mark.xdist_group("twostep-service"), pytest.mark.slow]

PREPARE = "/api/v1/twostep/batches"


@pytest.fixture
def client(make_app: Callable[..., Any]) -> Any:
    return make_app().test_client()


def _json_error(resp: Any, status: int, error: str | None = None) -> dict[str, Any]:
    assert resp.status_code == status, (resp.status_code, resp.get_data(as_text=True)[:300])
    assert resp.mimetype == "application/json"
    body = resp.get_json()
    assert set(body) == {"error", "detail"} and body["detail"]
    if error is not None:
        assert body["error"] == error, body
    return body


@pytest.mark.parametrize("headers", [
    {}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"},
    {"Authorization": "Bearer "},
], ids=["no_token", "wrong_token", "wrong_scheme", "empty_token"])
@pytest.mark.parametrize("method,path", [
    ("post", PREPARE), ("get", f"{PREPARE}/AAAAAAAAAAAAAAAAAAAAAAAA"),
    ("post", f"{PREPARE}/AAAAAAAAAAAAAAAAAAAAAAAA/finish"), ("get", "/nowhere"),
], ids=["prepare", "status", "finish", "unknown_path"])
def test_unauthenticated_calls_are_refused(client: Any, headers: dict[str, str], method: str,
                                           path: str) -> None:
    resp = getattr(client, method)(path, headers=headers, json={})
    _json_error(resp, 401, "unauthorized")
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")


def test_healthz_needs_no_token(client: Any) -> None:
    assert client.get("/healthz").get_json() == {"status": "ok"}


def test_service_refuses_to_start_without_a_token(test_config: Config, tmp_path: Any) -> None:
    from signer.service import create_app

    with pytest.raises(ConfigError, match="token"):
        create_app({"HOCBA_CONFIG_OBJ": test_config, "TWOSTEP_STATE_DIR": str(tmp_path)})


def _cert(principal_certs: list[bytes]) -> list[str]:
    return [c.decode() for c in principal_certs]


def _rec(data: bytes = b"%PDF-1.7 x") -> list[dict[str, str]]:
    return [{"name": "a.pdf", "data": base64.b64encode(data).decode()}]


BAD_PREPARE: list[tuple[str, Any, int, str]] = [
    ("not_json", b"{not json", 400, "bad_request"),
    ("json_array", b"[1, 2]", 400, "bad_request"),
    ("missing_role", {"records": "R", "certificates": "C"}, 400, "bad_request"),
    ("unknown_role", {"role": "janitor", "records": "R", "certificates": "C"}, 400, "bad_request"),
    ("bad_level", {"role": "principal", "level": "B-X", "records": "R", "certificates": "C"},
     400, "bad_request"),
    ("records_not_list", {"role": "principal", "records": "x", "certificates": "C"},
     400, "bad_request"),
    ("record_not_base64", {"role": "principal", "certificates": "C",
                           "records": [{"name": "a", "data": "%%%"}]}, 400, "bad_request"),
    ("record_data_missing", {"role": "principal", "certificates": "C",
                             "records": [{"name": "a"}]}, 400, "bad_request"),
    ("no_records", {"role": "principal", "certificates": "C", "records": []}, 400, "bad_request"),
    ("certificates_missing", {"role": "principal", "records": "R"}, 400, "bad_request"),
    ("certificate_garbage", {"role": "principal", "records": "R",
                             "certificates": ["MIIBbad"]}, 400, "bad_request"),
    ("certificate_empty_list", {"role": "principal", "records": "R", "certificates": []},
     400, "bad_request"),
]


@pytest.mark.parametrize("body,status,error", [c[1:] for c in BAD_PREPARE],
                         ids=[c[0] for c in BAD_PREPARE])
def test_bad_prepare_requests_get_json_4xx(client: Any, principal_certs: list[bytes],
                                           body: Any, status: int, error: str) -> None:
    if isinstance(body, dict):
        body = dict(body)
        if body.get("records") == "R":
            body["records"] = _rec()
        if body.get("certificates") == "C":
            body["certificates"] = _cert(principal_certs)
        resp = client.post(PREPARE, headers=AUTH, json=body)
    else:
        resp = client.post(PREPARE, headers={**AUTH, "Content-Type": "application/json"},
                           data=body)
    _json_error(resp, status, error)


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_errors_are_in_the_requests_language(client: Any, principal_certs: list[bytes],
                                             lang: str) -> None:
    """``?lang=en`` for English, Vietnamese without it; the body keeps its shape."""
    q = "?lang=en" if lang == "en" else ""
    resp = client.post(PREPARE + q, headers={**AUTH, "Content-Type": "application/json"},
                       data=b"[1, 2]")
    assert _json_error(resp, 400, "bad_request")["detail"] == t("signer.service.json_object", lang)
    resp = client.get(f"{PREPARE}/{'A' * 24}{q}", headers=AUTH)
    assert _json_error(resp, 404, "batch_not_found")["detail"] == t(
        "signer.store.not_found", lang, batch_id="A" * 24)
    resp = client.get("/healthz-nowhere" + q, headers=AUTH)
    assert _json_error(resp, 404)["detail"] == t("signer.service.http_404", lang)
    resp = client.get(PREPARE + q)
    assert _json_error(resp, 401, "unauthorized")["detail"] == t("signer.service.unauthorized",
                                                                 lang)
    # a record's own refusal, inside the batch's error, is in the same language
    resp = client.post(PREPARE + q, headers=AUTH, json={
        "role": "principal", "certificates": _cert(principal_certs), "records": _rec(b"junk")})
    detail = _json_error(resp, 422, "nothing_prepared")["detail"]
    assert detail.startswith(t("signer.twostep.nothing_prepared", lang, detail="a.pdf: ")), detail


def test_only_garbage_records_give_422_naming_them(client: Any,
                                                    principal_certs: list[bytes]) -> None:
    resp = client.post(PREPARE, headers=AUTH, json={
        "role": "principal", "certificates": _cert(principal_certs), "records": _rec(b"junk")})
    body = _json_error(resp, 422, "nothing_prepared")
    assert "a.pdf" in body["detail"]


def test_unsupported_media_type_is_415(client: Any) -> None:
    resp = client.post(PREPARE, headers={**AUTH, "Content-Type": "text/plain"}, data=b"hello")
    _json_error(resp, 415, "unsupported_media_type")


def test_wrong_method_is_405_json(client: Any) -> None:
    _json_error(client.get(PREPARE, headers=AUTH), 405)


def test_body_over_the_limit_is_413(make_app: Callable[..., Any]) -> None:
    client = make_app(MAX_CONTENT_LENGTH=1024).test_client()
    resp = client.post(PREPARE, headers=AUTH, json={"role": "principal", "certificates": [],
                                                    "records": _rec(b"x" * 4096)})
    _json_error(resp, 413, "payload_too_large")


@pytest.mark.parametrize("batch_id", ["nope", "A" * 24, "..%2F..%2Fetc", "A" * 200],
                         ids=["short", "unknown", "traversal", "long"])
def test_unknown_batches_are_404(client: Any, batch_id: str) -> None:
    _json_error(client.get(f"{PREPARE}/{batch_id}", headers=AUTH), 404)
    _json_error(client.post(f"{PREPARE}/{batch_id}/finish", headers=AUTH,
                            json={"signatures": []}), 404)


@pytest.fixture
def prepared(client: Any, principal_certs: list[bytes],
             sample_records: list[tuple[str, bytes]]) -> str:
    name, data = sample_records[1]
    resp = client.post(PREPARE, headers=AUTH, json={
        "role": "principal", "certificates": _cert(principal_certs),
        "records": [{"name": name, "data": base64.b64encode(data).decode()}]})
    assert resp.status_code == 201, resp.get_json()
    return str(resp.get_json()["batch_id"])


BAD_FINISH: list[tuple[str, Any, int]] = [
    ("signatures_missing", {}, 400),
    ("signatures_string", {"signatures": "x"}, 400),
    ("entry_without_id", {"signatures": [{"value": "AA=="}]}, 400),
    ("value_not_base64", {"signatures": [{"id": "0", "value": "%%%"}]}, 400),
    ("value_not_string", {"signatures": [{"id": "0", "value": 5}]}, 400),
    ("unknown_item", {"signatures": [{"id": "7", "value": "AA=="}]}, 400),
]


@pytest.mark.parametrize("body,status", [c[1:] for c in BAD_FINISH], ids=[c[0] for c in BAD_FINISH])
def test_bad_finish_requests_get_json_4xx_and_leave_the_batch_usable(
        client: Any, prepared: str, body: Any, status: int) -> None:
    _json_error(client.post(f"{PREPARE}/{prepared}/finish", headers=AUTH, json=body), status)
    assert client.get(f"{PREPARE}/{prepared}", headers=AUTH).get_json()["status"] == "prepared"


def test_finish_needs_json(client: Any, prepared: str) -> None:
    resp = client.post(f"{PREPARE}/{prepared}/finish",
                       headers={**AUTH, "Content-Type": "text/plain"}, data=b"x")
    _json_error(resp, 415)


def test_multipart_prepare_works_like_json(client: Any, principal_certs: list[bytes],
                                           sample_records: list[tuple[str, bytes]]) -> None:
    import io

    name, data = sample_records[0]
    resp = client.post(PREPARE, headers=AUTH, content_type="multipart/form-data", data={
        "role": "principal", "level": "B-T",
        "certificate": [(io.BytesIO(c), f"c{i}.pem") for i, c in enumerate(principal_certs)],
        "file": [(io.BytesIO(data), name)]})
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert [i["name"] for i in body["items"]] == [name]
    assert resp.headers["Location"].endswith(body["batch_id"])


def test_corrupt_batch_state_is_409_not_500(client: Any, prepared: str, tmp_path: Any) -> None:
    (tmp_path / "state" / prepared / "manifest.json").write_bytes(b"{half a manifest")
    _json_error(client.post(f"{PREPARE}/{prepared}/finish", headers=AUTH,
                            json={"signatures": []}), 409, "state_corrupt")
