"""Benchmark helpers: a demo PKI's trust services in their own process, the TSA latency proxy.

certomancer re-loads (and re-validates) the RSA private key for every token and OCSP
response it signs (about 80 ms) and rebuilds each token through asn1crypto (15-40 ms),
so its TSA answers about 12 requests per second, on the same two cores as the signer
being measured. A production TSA keeps its key loaded (in an HSM) and answers in
milliseconds plus the network. ``serve`` therefore runs the same
``certs.services.TrustServices`` with each key loaded once and the TSA's tokens built
from DER templates (:class:`FastTsa`: the same token structure, the same key and
certificates); ``--slow-tsa`` in the benchmarks keeps certomancer as it is.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Any

REPO = Path(__file__).resolve().parents[1]


def _fast_keys() -> None:
    # certomancer's signing backend looks this function up on every call.
    from cryptography.hazmat.primitives import serialization

    loaded: dict[bytes, Any] = {}
    orig_load = serialization.load_der_private_key

    def load_once(data: bytes, password: Any = None, **kw: Any) -> Any:
        if password is None and not kw:
            key = loaded.get(data)
            if key is None:
                key = loaded[data] = orig_load(data, password=None)
            return key
        return orig_load(data, password=password, **kw)

    serialization.load_der_private_key = load_once  # type: ignore[assignment]


class FastTsa:
    """WSGI middleware answering RFC 3161 requests for certomancer's TSAs from templates.

    certomancer rebuilds (and deep-copies) the whole token through asn1crypto for every
    request, ~15-40 ms of CPU, which on this 2-core machine is CPU taken from the signer
    being measured. This builds the same token (TSTInfo with the request's imprint and
    nonce; SignedData v3 with content-type, signing-time, ESS signing-certificate and
    message-digest signed attributes; the TSA certificate and its chain) from DER pieces
    encoded once, signing with the key loaded once: well under a millisecond of Python.
    """

    def __init__(self, app: Any, certomancer_yml: Path) -> None:
        from certs.pki import load_certomancer

        self.app = app
        self.cfg = load_certomancer(certomancer_yml)
        self.tsas: dict[str, Any] = {}

    def _tsa(self, arch: str, label: str) -> Any:
        key = f"{arch}/{label}"
        got = self.tsas.get(key)
        if got is None:
            import hashlib as h

            from asn1crypto import x509
            from certomancer.registry import ArchLabel, ServiceLabel
            from cryptography.hazmat.primitives import serialization

            from signer.cms import _attribute, _oid, tlv

            ts = self.cfg.pki_archs[ArchLabel(arch)].service_registry.summon_timestamper(
                ServiceLabel(label))
            cert: x509.Certificate = ts.tsa_cert
            ders = {cert.dump()} | {c.dump() for c in ts.certs_to_embed}
            got = self.tsas[key] = {
                "key": serialization.load_der_private_key(ts.tsa_key.dump(), password=None),
                "policy": _oid(ts.policy.dotted),
                "tsa_name": x509.GeneralName({"directory_name": cert.subject}).dump(),
                "certs": tlv(0xA0, b"".join(sorted(ders))),
                "sid": tlv(0x30, cert.issuer.dump() + tlv(0x02, _int(cert.serial_number))),
                "ess": _attribute("1.2.840.113549.1.9.16.2.12", tlv(0x30, tlv(0x30, tlv(
                    0x30, tlv(0x04, h.sha1(cert.dump()).digest()))))),
                "ctype": _attribute("1.2.840.113549.1.9.3", _oid("1.2.840.113549.1.9.16.1.4")),
                "sha256": tlv(0x30, _oid("2.16.840.1.101.3.4.2.1") + b"\x05\x00"),
                "rsa_sha256": tlv(0x30, _oid("1.2.840.113549.1.1.11") + b"\x05\x00"),
            }
        return got

    def token(self, t: dict[str, Any], req_der: bytes) -> bytes:
        import hashlib as h
        import secrets
        from datetime import datetime, timezone

        from asn1crypto import tsp
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        from signer.cms import _attribute, _oid, tlv

        req = tsp.TimeStampReq.load(req_der)
        now = datetime.now(timezone.utc)
        gen = now.strftime("%Y%m%d%H%M%S.%f").rstrip("0").rstrip(".") + "Z"
        nonce = req["nonce"]
        tst_info = tlv(0x30, b"".join((
            b"\x02\x01\x01", t["policy"], req["message_imprint"].dump(),
            tlv(0x02, _int(secrets.randbits(63))), tlv(0x18, gen.encode()),
            nonce.dump() if nonce.native is not None else b"",
            tlv(0xA0, t["tsa_name"]))))
        attrs = [t["ctype"], t["ess"],
                 _attribute("1.2.840.113549.1.9.5", tlv(0x17, now.strftime("%y%m%d%H%M%SZ")
                                                       .encode())),
                 _attribute("1.2.840.113549.1.9.4", tlv(0x04, h.sha256(tst_info).digest()))]
        signed = tlv(0x31, b"".join(sorted(attrs)))
        sig = t["key"].sign(signed, padding.PKCS1v15(), hashes.SHA256())
        signer_info = tlv(0x30, b"".join((b"\x02\x01\x01", t["sid"], t["sha256"],
                                          b"\xa0" + signed[1:], t["rsa_sha256"],
                                          tlv(0x04, sig))))
        signed_data = tlv(0x30, b"".join((
            b"\x02\x01\x03", tlv(0x31, t["sha256"]),
            tlv(0x30, _oid("1.2.840.113549.1.9.16.1.4") + tlv(0xA0, tlv(0x04, tst_info))),
            t["certs"], tlv(0x31, signer_info))))
        token = tlv(0x30, _oid("1.2.840.113549.1.7.2") + tlv(0xA0, signed_data))
        return tlv(0x30, tlv(0x30, b"\x02\x01\x00") + token)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        parts = environ.get("PATH_INFO", "").strip("/").split("/")
        if environ.get("REQUEST_METHOD") == "POST" and len(parts) == 3 and parts[1] == "tsa":
            t = self._tsa(parts[0], parts[2])
            n = int(environ.get("CONTENT_LENGTH") or 0)
            body = self.token(t, environ["wsgi.input"].read(n))
            start_response("200 OK", [("Content-Type", "application/timestamp-reply"),
                                      ("Content-Length", str(len(body)))])
            return [body]
        return self.app(environ, start_response)


def _int(n: int) -> bytes:
    return n.to_bytes(n.bit_length() // 8 + 1, "big", signed=False)


def serve(config: str, fast: bool = True) -> int:
    """Run the config's trust services in the foreground until stdin closes."""
    sys.path[:0] = [str(REPO)]
    from certs.services import TrustServices
    from ground.config import load_config

    cfg = load_config(config)
    assert cfg.services.certomancer is not None
    svc = TrustServices(cfg.services.certomancer, port=cfg.services.port)
    if fast:
        _fast_keys()
        svc._app = FastTsa(svc._app, cfg.services.certomancer)  # type: ignore[assignment]
    with svc:
        print("ready", flush=True)
        sys.stdin.read()
    return 0


def wait_port(port: int, timeout: float = 30.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listening on port {port}")


class Child:
    """A helper process that runs until its stdin closes (then it is waited for)."""

    def __init__(self, args: list[str]) -> None:
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        self.proc = subprocess.Popen([sys.executable, *args], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, cwd=str(REPO), env=env)
        assert self.proc.stdout is not None
        self.first_line = self.proc.stdout.readline().strip()

    def ask(self, line: str) -> str:
        stdin: IO[str] | None = self.proc.stdin
        assert stdin is not None and self.proc.stdout is not None
        stdin.write(line + "\n")
        stdin.flush()
        return self.proc.stdout.readline().strip()

    def stop(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.terminate()
            self.proc.wait(timeout=10)


def start_services(config: Path, fast: bool = True) -> Child:
    args = [str(Path(__file__).resolve()), "serve", str(config)] + ([] if fast else ["--slow"])
    child = Child(args)
    if child.first_line != "ready":
        raise RuntimeError("trust services did not start")
    return child


def start_proxy(upstream: str, delay: float) -> Child:
    return Child(["-m", "tests.tsa_proxy", "--upstream", upstream, "--delay", str(delay)])


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "serve":
        raise SystemExit(serve(sys.argv[2], fast="--slow" not in sys.argv))
    raise SystemExit("usage: _services.py serve CONFIG [--slow]")
