"""The RFC 3161 client of a signing batch: requests in flight together, retries, checked tokens.

One :class:`BatchTimeStamper` per batch (``hocba sign``, ``hocba timestamp``, two-step
finish, report signing), shared by both formats. It is a pyHanko ``TimeStamper``, so
pyHanko's PAdES signer, document timestamps and archive-timestamp renewal use it as
they use their own clients; what it adds:

* **Concurrency.** Each request runs in a thread pool of ``[timestamp] concurrency``
  threads (default 8, CONTRACT 10): a batch signing files as coroutines in one event
  loop (:func:`signer.batch.pipeline`) keeps that many requests in flight while the
  loop goes on signing other files. Never more: the pool is the bound. After a fork
  (batch worker processes) the pool and the HTTP connections are made anew in the
  child, and :meth:`BatchTimeStamper.share` gives each worker its part of the bound.
* **Retries.** A timeout, a connection error or an HTTP 5xx is retried up to
  ``[timestamp] retries`` times, after ``backoff``, ``2 x backoff``, ... seconds (with a
  little jitter). Once a request has used up its retries the TSA counts as down for the
  batch: later requests get one attempt each (every file gets its clear error quickly)
  until one succeeds again.
* **Checks before a token is used** (RFC 3161 2.4.2, EN 319 122-1 5.3): status granted;
  the nonce is the request's; the message imprint is the request's hash algorithm and
  digest; the token's CMS signature verifies under the TSA certificate it names; and that
  certificate chains to the configured anchors with the timeStamping extended key usage
  (validated once per TSA certificate and batch). A token that fails any of these is
  refused: :class:`TimestampError`, the file is not written.
"""
from __future__ import annotations

import asyncio
import hashlib
import os
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from asn1crypto import cms, tsp
from asn1crypto import x509 as asn1_x509
from pyhanko.sign.timestamps.api import TimeStamper

from ground.config import Config
from ground.errors import HocbaError, UsageError
from ground.names import CertName

__all__ = ["BatchTimeStamper", "TimestampError", "TsaUnavailable", "check_token",
           "timestamper_for", "LoopLock"]


class TimestampError(HocbaError):
    """No usable timestamp token: the TSA refused, failed or answered with a wrong token."""


class TsaUnavailable(TimestampError):
    """The TSA did not answer (timeouts, connection errors, 5xx) after every retry."""


class _Retryable(Exception):
    """A failed attempt worth retrying; ``args[0]`` is why (a :class:`TimestampError`)."""


class LoopLock:
    """An ``asyncio.Lock`` for whichever event loop is running (a batch object may be
    used from ``asyncio.run`` calls one after another, each with its own loop)."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock: asyncio.Lock | None = None

    def get(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        if self._lock is None or self._loop is not loop:
            self._loop, self._lock = loop, asyncio.Lock()
        return self._lock


def _token_parts(token: cms.ContentInfo) -> tuple[cms.SignedData, tsp.TSTInfo]:
    sd = token["content"]
    info = sd["encap_content_info"]["content"].parsed
    if not isinstance(info, tsp.TSTInfo):
        raise ValueError("the token does not encapsulate a TSTInfo")
    return sd, info


def check_token(token: cms.ContentInfo, message_digest: bytes, md_algorithm: str,
                nonce: int | None) -> asn1_x509.Certificate:
    """Refuse a token that is not the answer to this request; return the TSA certificate.

    RFC 3161 2.4.2: the imprint must be the request's (hash algorithm and value) and the
    nonce the request's; the token's signature must verify under the signer certificate it
    carries (requested with certReq). Trust in that certificate is checked separately
    (:meth:`BatchTimeStamper.check_tsa`), once per certificate.
    """
    from pyhanko.sign.general import extract_certificate_info
    from pyhanko.sign.validation.generic_cms import validate_sig_integrity

    try:
        sd, info = _token_parts(token)
        imprint = info["message_imprint"]
        algo = imprint["hash_algorithm"]["algorithm"].native
        value = imprint["hashed_message"].native
        got_nonce = info["nonce"].native
    except (ValueError, KeyError, TypeError, IndexError) as e:
        raise TimestampError("signer.tsa.unreadable", detail=str(e)) from None
    if algo != md_algorithm or value != message_digest:
        raise TimestampError("signer.tsa.imprint",
                             expected=f"{md_algorithm}:{message_digest.hex()[:16]}…",
                             got=f"{algo}:{(value or b'').hex()[:16]}…")
    if nonce is not None and got_nonce != nonce:
        raise TimestampError("signer.tsa.nonce")
    try:
        cert = extract_certificate_info(sd).signer_cert
        si = sd["signer_infos"][0]
        content = bytes(sd["encap_content_info"]["content"])
        digest = hashlib.new(si["digest_algorithm"]["algorithm"].native, content).digest()
        ok = _verify_tst_signature(si, cert, digest)
        if ok is None:  # an algorithm the fast path does not know: pyHanko's full check
            intact, valid = validate_sig_integrity(si, cert, "tst_info", digest)
            ok = intact and valid
    except Exception as e:  # noqa: BLE001 - any structural problem refuses the token
        raise TimestampError("signer.tsa.signature_unchecked",
                             detail=f"{type(e).__name__}: {e}") from None
    if not ok:
        raise TimestampError("signer.tsa.signature_invalid")
    return cert


_PUBLIC_KEYS: dict[bytes, Any] = {}


def _verify_tst_signature(si: cms.SignerInfo, cert: asn1_x509.Certificate,
                          content_digest: bytes) -> bool | None:
    """RFC 5652 5.4: content-type ``tst_info`` and message-digest in the signed attributes,
    the signature over their DER; RSA PKCS#1 v1.5 and ECDSA only (None: another algorithm).
    The TSA's key is loaded once per certificate."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

    algo = si["signature_algorithm"].signature_algo
    if algo not in ("rsassa_pkcs1v15", "ecdsa"):
        return None
    attrs = si["signed_attrs"]
    found: dict[str, Any] = {}
    for attr in attrs:
        name = attr["type"].native
        if name in found or len(attr["values"]) != 1:
            return False  # RFC 5652 5.3: each once, one value
        found[name] = attr["values"][0].native
    if found.get("content_type") != "tst_info" or found.get("message_digest") != content_digest:
        return False
    der = cert.public_key.dump()
    key = _PUBLIC_KEYS.get(der)
    if key is None:
        key = _PUBLIC_KEYS[der] = serialization.load_der_public_key(der)
    md = getattr(hashes, si["digest_algorithm"]["algorithm"].native.upper())()
    tbs = attrs.untag().dump()  # as received (pyHanko does the same: DER deviations tolerated)
    sig = si["signature"].native
    try:
        if algo == "rsassa_pkcs1v15" and isinstance(key, rsa.RSAPublicKey):
            key.verify(sig, tbs, padding.PKCS1v15(), md)
        elif algo == "ecdsa" and isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(sig, tbs, ec.ECDSA(md))
        else:
            return False
    except InvalidSignature:
        return False
    return True


class BatchTimeStamper(TimeStamper):
    """RFC 3161 over HTTP for one batch: bounded concurrency, retries, checked tokens."""

    def __init__(self, url: str, *, timeout: float = 10.0, concurrency: int = 8,
                 retries: int = 3, backoff: float = 0.5, config: Config | None = None) -> None:
        super().__init__(include_nonce=True)  # type: ignore[no-untyped-call]  # pyHanko: unannotated
        if concurrency < 1:
            raise UsageError("signer.tsa.concurrency", value=concurrency)
        if retries < 0 or backoff < 0:
            raise UsageError("signer.tsa.negative")
        self.url = url
        self.timeout = timeout
        self.concurrency = concurrency
        self.retries = retries
        self.backoff = backoff
        self.config = config
        self._pid = -1
        self._pool: ThreadPoolExecutor | None = None
        self._local = threading.local()
        self._down = False  # a request used up its retries; reset by the next success
        # TSA certificate fingerprint -> None (trusted) or the refusal's fields.
        self._tsa_verdicts: dict[bytes, dict[str, str] | None] = {}
        self._tsa_lock = LoopLock()
        self._vc: Any = None

    @classmethod
    def from_config(cls, config: Config) -> BatchTimeStamper:
        url = config.timestamp.url
        if not url:
            raise UsageError("signer.tsa.need_url")
        t = config.timestamp
        return cls(url, timeout=t.timeout, concurrency=t.concurrency, retries=t.retries,
                   backoff=t.backoff, config=config)

    # -- processes and threads --------------------------------------------------------------

    def share(self, parts: int) -> None:
        """This process is one of ``parts`` workers of a batch: take its share of the bound."""
        self.concurrency = max(1, self.concurrency // max(1, parts))
        self._reset()

    def _reset(self) -> None:
        # Threads and pooled connections do not survive a fork: make them anew here.
        self._pid = os.getpid()
        self._pool = ThreadPoolExecutor(max_workers=self.concurrency,
                                        thread_name_prefix="hocba-tsa")
        self._local = threading.local()

    def executor(self) -> ThreadPoolExecutor:
        if self._pool is None or self._pid != os.getpid():
            self._reset()
        assert self._pool is not None
        return self._pool

    def close(self, *, wait: bool = False) -> None:
        """Stop the pool's threads (they are made again on the next request)."""
        if self._pool is not None and self._pid == os.getpid():
            self._pool.shutdown(wait=wait)
        self._pool = None

    def _session(self) -> Any:
        s = getattr(self._local, "session", None)
        if s is None:
            import requests

            s = self._local.session = requests.Session()
        return s

    # -- one exchange, with retries (runs in a pool thread) --------------------------------

    def _post_once(self, body: bytes) -> bytes:
        import requests

        headers = {"Content-Type": "application/timestamp-query",
                   "Accept": "application/timestamp-reply"}
        try:
            r = self._session().post(self.url, data=body, headers=headers, timeout=self.timeout)
        except requests.Timeout:
            raise _Retryable(TimestampError("signer.tsa.timeout", seconds=self.timeout)) from None
        except requests.ConnectionError as e:
            raise _Retryable(TimestampError("signer.tsa.connect",
                                            detail=type(e).__name__)) from None
        except requests.RequestException as e:
            raise TimestampError("signer.tsa.request_failed", url=self.url, detail=str(e)) from None
        if r.status_code >= 500 or r.status_code == 429:
            raise _Retryable(TimestampError("signer.tsa.http", status=r.status_code))
        if r.status_code != 200:
            raise TimestampError("signer.tsa.http_status", url=self.url, status=r.status_code)
        ctype = r.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if ctype != "application/timestamp-reply":
            raise TimestampError("signer.tsa.content_type", url=self.url,
                                 content_type=ctype or "-")
        return bytes(r.content)

    def exchange(self, body: bytes) -> bytes:
        """POST one request; retry timeouts, connection errors and 5xx with backoff."""
        attempts = 1 if self._down else self.retries + 1
        last: TimestampError | str = ""
        for i in range(attempts):
            if i:
                time.sleep(self.backoff * (2 ** (i - 1)) * (1 + 0.2 * random.random()))
            try:
                data = self._post_once(body)
            except _Retryable as e:
                last = e.args[0]
                continue
            self._down = False
            return data
        self._down = True
        raise TsaUnavailable("signer.tsa.unavailable", url=self.url, attempts=attempts,
                             s="" if attempts == 1 else "s", last=last)

    # -- the pyHanko TimeStamper interface --------------------------------------------------

    async def async_request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        loop = asyncio.get_running_loop()
        raw = await loop.run_in_executor(self.executor(), self.exchange, req.dump())
        try:
            resp = tsp.TimeStampResp.load(raw)
            resp["status"]["status"].native  # noqa: B018 - a malformed answer fails here
        except (ValueError, TypeError, KeyError) as e:
            raise TimestampError("signer.tsa.malformed", detail=str(e)) from None
        return resp

    async def async_timestamp(self, message_digest: bytes, md_algorithm: str) -> cms.ContentInfo:
        nonce, req = self.request_cms(  # type: ignore[no-untyped-call]  # pyHanko: unannotated
            message_digest, md_algorithm)
        resp = await self.async_request_tsa_response(req)
        try:
            status = resp["status"]
            if status["status"].native not in ("granted", "granted_with_mods"):
                text = "; ".join(status["status_string"].native or []) or status["status"].native
                raise TimestampError("signer.tsa.refused", detail=text)
            token: cms.ContentInfo = resp["time_stamp_token"]
            if not isinstance(token, cms.ContentInfo) or token["content_type"].native != \
                    "signed_data":
                raise ValueError("no timestamp token in a granted response")
        except (ValueError, TypeError, KeyError) as e:
            raise TimestampError("signer.tsa.malformed", detail=str(e)) from None
        cert = check_token(token, message_digest, md_algorithm, nonce)
        await self.check_tsa(cert, token)
        return token

    # -- trust in the TSA ------------------------------------------------------------------

    def _validation_context(self) -> Any:
        if self._vc is None:
            assert self.config is not None
            from signer.precheck import build_validation_context

            # The TSA's path to a configured anchor, its validity now and the timeStamping
            # EKU; revocation soft-fail (the verifier judges the TSA fully later).
            self._vc = build_validation_context(self.config, revocation_mode="soft-fail")
        return self._vc

    async def check_tsa(self, cert: asn1_x509.Certificate, token: cms.ContentInfo) -> None:
        """The TSA certificate chains to a configured anchor for time stamping (once per cert)."""
        cfg = self.config
        if cfg is None or not (cfg.trust.anchors or cfg.trust.bundles):
            return  # no anchors to judge against (the signer's pre-check refuses that anyway)
        fp = hashlib.sha256(cert.dump()).digest()
        async with self._tsa_lock.get():
            if fp not in self._tsa_verdicts:
                self._tsa_verdicts[fp] = await self._judge_tsa(cert, token)
        refusal = self._tsa_verdicts[fp]
        if refusal is not None:
            raise TimestampError("signer.tsa.untrusted", **refusal)

    async def _judge_tsa(self, cert: asn1_x509.Certificate,
                         token: cms.ContentInfo) -> dict[str, str] | None:
        from pyhanko_certvalidator import CertificateValidator
        from pyhanko_certvalidator.errors import (InvalidCertificateError, PathBuildingError,
                                                  PathValidationError)

        extra = [c.chosen for c in token["content"]["certificates"] if c.name == "certificate"]
        validator = CertificateValidator(cert, intermediate_certs=extra,
                                         validation_context=self._validation_context())
        try:
            await validator.async_validate_usage(  # type: ignore[no-untyped-call]
                set(), {"time_stamping"})
        except (PathBuildingError, PathValidationError, InvalidCertificateError) as e:
            return {"subject": CertName.subject_of(cert), "detail": str(e)}
        return None


def timestamper_for(config: Config) -> BatchTimeStamper:
    """The batch's TSA client from ``[timestamp]`` (url, timeout, concurrency, retries, backoff)."""
    return BatchTimeStamper.from_config(config)
