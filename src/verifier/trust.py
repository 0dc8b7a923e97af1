"""Certificate judgement: the ONE place certificates are judged, for PDF and XML.

A :class:`TrustEngine` is built once per :class:`~verifier.core.Verifier` and
shared by every thread. It holds the parsed trust anchors and intermediates, a
thread-safe cache of OCSP responses and CRLs (kept until their nextUpdate) and
the fetchers (with timeouts). Path building and validation are
pyhanko-certvalidator's; this module adds the EN 319 102-1 reading of the result:

- 5.2.6 X.509 certificate validation at the validation time, using embedded
  revocation data first (PAdES DSS/VRI, XAdES values), then the cache, then (if
  allowed) OCSP/CRL online;
- 5.6.2.1 past signature validation: when the current-time validation fails
  (expired, revoked, no fresh revocation data) and a trusted timestamp proves the
  signature existed at an earlier time (POE), the chain is validated again *at
  that time* with the embedded revocation data;
- 5.2.8 cryptographic constraints: RSA ≥ 2048, ECDSA ≥ 256, SHA-256 or stronger;
- the mapping of every failure to an EN 319 102-1 indication and sub-indication.
"""
from __future__ import annotations

import asyncio
import hashlib
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterable, Sequence

from asn1crypto import cms, crl, ocsp, tsp, x509
from cryptography import x509 as cx509
from pyhanko_certvalidator import CertificateValidator, ValidationContext
from pyhanko_certvalidator import errors as cv_errors
from pyhanko_certvalidator.fetchers.requests_fetchers import RequestsFetcherBackend
from pyhanko_certvalidator.policy_decl import DisallowWeakAlgorithmsPolicy

from hocba.roles import role_from_certificate
from hocba.vocab import Indication, SubIndication
from verifier import messages
from verifier.policy import Policy
from verifier.report import Finding, RevocationInfo, SignerInfo, TimestampInfo

__all__ = ["CertResult", "TrustEngine", "TimestampResult", "RevocationCache"]

I, S = Indication, SubIndication

messages.register("cert_ok", "Chứng thư số hợp lệ, chuỗi tin cậy đến {root}.",
                  "The certificate is valid and chains to {root}.")
messages.register("cert_ok_at_poe",
                  "Chứng thư số hợp lệ tại thời điểm ký {time} (có dấu thời gian chứng minh); {why} sau đó.",
                  "The certificate was valid at signing time {time} (proven by a timestamp); {why} afterwards.")
messages.register("no_chain", "Không tìm thấy chuỗi chứng thư đến một CA gốc tin cậy ({detail}).",
                  "No certificate chain to a trusted root CA ({detail}).")
messages.register("cert_revoked", "Chứng thư số đã bị thu hồi từ {time}, trước thời điểm ký.",
                  "The certificate was revoked on {time}, before the signature was made.")
messages.register("cert_revoked_no_poe",
                  "Chứng thư số đã bị thu hồi từ {time}; không có dấu thời gian chứng minh chữ ký có trước đó.",
                  "The certificate was revoked on {time}; no timestamp proves the signature was made before.")
messages.register("cert_expired", "Chứng thư số đã hết hạn ngày {time}, trước thời điểm ký.",
                  "The certificate expired on {time}, before the signature was made.")
messages.register("cert_expired_no_poe",
                  "Chứng thư số đã hết hạn ngày {time}; không có dấu thời gian chứng minh chữ ký được tạo khi còn hạn.",
                  "The certificate expired on {time}; no timestamp proves the signature was made while it was valid.")
messages.register("cert_not_yet_valid", "Chứng thư số chưa có hiệu lực (từ {time}).",
                  "The certificate is not yet valid (valid from {time}).")
messages.register("weak_algorithm", "Thuật toán yếu không được chấp nhận: {detail}.",
                  "Weak algorithm not accepted: {detail}.")
messages.register("revocation_unknown",
                  "Không xác định được tình trạng thu hồi của chứng thư số ({detail}).",
                  "The revocation status of the certificate cannot be established ({detail}).")
messages.register("revocation_off", "Không kiểm tra tình trạng thu hồi (chế độ off).",
                  "Revocation status not checked (mode off).")
messages.register("revocation_soft_fail",
                  "Cảnh báo: không kiểm tra được tình trạng thu hồi ({detail}).",
                  "Warning: the revocation status could not be checked ({detail}).")
messages.register("key_usage_missing",
                  "Chứng thư số không được phép dùng để ký (thiếu digitalSignature/nonRepudiation).",
                  "The certificate may not be used for signing (no digitalSignature/nonRepudiation key usage).")
messages.register("tsa_usage_missing",
                  "Chứng thư của đơn vị cấp dấu thời gian không có mục đích timeStamping.",
                  "The time-stamping authority's certificate lacks the timeStamping purpose.")
messages.register("chain_invalid", "Chuỗi chứng thư không hợp lệ ({detail}).",
                  "The certificate chain is not valid ({detail}).")
messages.register("tst_imprint_mismatch", "Dấu thời gian không khớp với nội dung được đóng dấu.",
                  "The timestamp does not match the data it stamps.")
messages.register("tst_signature_invalid", "Chữ ký của dấu thời gian không hợp lệ.",
                  "The timestamp's signature is not valid.")
messages.register("tst_malformed", "Dấu thời gian không đọc được ({detail}).",
                  "The timestamp cannot be read ({detail}).")
messages.register("tsa_not_trusted", "Đơn vị cấp dấu thời gian không được tin cậy ({detail}).",
                  "The time-stamping authority is not trusted ({detail}).")


# -- results ---------------------------------------------------------------------

@dataclass(frozen=True)
class CertResult:
    """The judgement of one certificate (EN 319 102-1 5.2.6 / 5.6.2.1)."""

    indication: Indication
    subindication: SubIndication | None
    chain: tuple[str, ...] = ()  # subjects, signer first
    revocation: RevocationInfo | None = None
    findings: tuple[Finding, ...] = ()
    path: Any = None  # pyhanko_certvalidator ValidationPath when a path was found
    validated_at: datetime | None = None  # the moment the certificate was found valid

    @property
    def passed(self) -> bool:
        return self.indication is Indication.TOTAL_PASSED


@dataclass(frozen=True)
class TimestampResult:
    """A timestamp token's judgement: the token's facts and its TSA's chain."""

    info: TimestampInfo | None  # None when the token cannot be read at all
    intact: bool
    cert: CertResult | None
    findings: tuple[Finding, ...]

    @property
    def valid(self) -> bool:
        return self.info is not None and self.info.valid

    @property
    def time(self) -> datetime | None:
        return self.info.time if self.info else None


# -- revocation cache --------------------------------------------------------------

_NO_NEXT_UPDATE_TTL = timedelta(minutes=5)
# How long a current-time "valid" verdict is reused at most (also bounded by the
# nextUpdate of the revocation data behind it).
_VERDICT_TTL = timedelta(minutes=5)


class RevocationCache:
    """Thread-safe OCSP/CRL store shared across files, each kept until its nextUpdate."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ocsp: dict[int, list[tuple[ocsp.OCSPResponse, datetime]]] = {}
        self._crl: dict[bytes, list[tuple[crl.CertificateList, datetime]]] = {}
        self._certs: dict[bytes, x509.Certificate] = {}

    @staticmethod
    def _ocsp_meta(resp: ocsp.OCSPResponse) -> tuple[list[int], datetime] | None:
        try:
            basic = resp["response_bytes"]["response"].parsed
            single = basic["tbs_response_data"]["responses"]
            serials = [int(s["cert_id"]["serial_number"].native) for s in single]
            nu = single[0]["next_update"].native
            tu = single[0]["this_update"].native
            return serials, nu or (tu + _NO_NEXT_UPDATE_TTL)
        except Exception:
            return None

    def add_ocsp(self, resp: ocsp.OCSPResponse) -> None:
        meta = self._ocsp_meta(resp)
        if meta is None:
            return
        serials, expiry = meta
        with self._lock:
            for s in serials:
                lst = [(r, e) for r, e in self._ocsp.get(s, []) if r.dump() != resp.dump()]
                lst.append((resp, expiry))
                self._ocsp[s] = lst[-4:]

    def add_crl(self, c: crl.CertificateList) -> None:
        try:
            issuer = c["tbs_cert_list"]["issuer"].sha256
            nu = c["tbs_cert_list"]["next_update"].native
            expiry = nu or (c["tbs_cert_list"]["this_update"].native + _NO_NEXT_UPDATE_TTL)
        except Exception:
            return
        with self._lock:
            lst = [(r, e) for r, e in self._crl.get(issuer, []) if r.dump() != c.dump()]
            lst.append((c, expiry))
            self._crl[issuer] = lst[-4:]

    def add_cert(self, cert: x509.Certificate) -> None:
        with self._lock:
            self._certs.setdefault(cert.sha256, cert)

    def lookup(self, certs: Iterable[x509.Certificate], now: datetime
               ) -> tuple[list[ocsp.OCSPResponse], list[crl.CertificateList]]:
        ocsps: list[ocsp.OCSPResponse] = []
        crls: list[crl.CertificateList] = []
        with self._lock:
            for cert in certs:
                serial = cert.serial_number
                live = [(r, e) for r, e in self._ocsp.get(serial, []) if e > now]
                if serial in self._ocsp:
                    self._ocsp[serial] = live
                ocsps.extend(r for r, _ in live)
                issuer = cert.issuer.sha256
                live_c = [(r, e) for r, e in self._crl.get(issuer, []) if e > now]
                if issuer in self._crl:
                    self._crl[issuer] = live_c
                crls.extend(r for r, _ in live_c)
        return ocsps, crls

    def certs(self) -> list[x509.Certificate]:
        with self._lock:
            return list(self._certs.values())


# -- helpers --------------------------------------------------------------------------

def _subject_string(cert: x509.Certificate) -> str:
    try:
        return cx509.load_der_x509_certificate(cert.dump()).subject.rfc4514_string()
    except Exception:
        return cert.subject.human_friendly


def _issuer_string(cert: x509.Certificate) -> str:
    try:
        return cx509.load_der_x509_certificate(cert.dump()).issuer.rfc4514_string()
    except Exception:
        return cert.issuer.human_friendly


def _first_attr(name: x509.Name, attr: str) -> str | None:
    for rdn in name.chosen:
        for ava in rdn:
            if ava["type"].native == attr:
                v = ava["value"].native
                return v if isinstance(v, str) else str(v)
    return None


def _fmt_time(d: datetime | None) -> str:
    if d is None:
        return "?"
    return d.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def _run(coro: Any) -> Any:
    """Run a certvalidator coroutine from synchronous code (thread-safe: one loop per call)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    # Called from inside an event loop (e.g. an async web server): use a worker thread.
    result: dict[str, Any] = {}

    def target() -> None:
        try:
            result["v"] = asyncio.run(coro)
        except BaseException as e:  # noqa: BLE001 - re-raised below
            result["e"] = e

    t = threading.Thread(target=target)
    t.start()
    t.join()
    if "e" in result:
        raise result["e"]
    return result["v"]


SIGNING_USAGES = frozenset({"digital_signature", "non_repudiation"})


# -- the engine ---------------------------------------------------------------------

class TrustEngine:
    """Anchors, intermediates, revocation cache and fetchers; judges certificates."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.anchors: tuple[x509.Certificate, ...] = policy.trust_anchors
        self.intermediates: tuple[x509.Certificate, ...] = policy.intermediates
        self._anchor_hashes = frozenset(c.sha256 for c in self.anchors)
        self.cache = RevocationCache()
        self._verdicts: dict[tuple[bytes, str], tuple[CertResult, datetime]] = {}
        self._verdict_lock = threading.Lock()
        self._backend = RequestsFetcherBackend(per_request_timeout=policy.fetch_timeout)
        self._algo_policy = DisallowWeakAlgorithmsPolicy(
            weak_hash_algos=frozenset({"md2", "md5", "sha1"}),
            rsa_key_size_threshold=policy.min_rsa_bits,
        )

    # -- facts about a certificate ------------------------------------------------
    def signer_info(self, cert: x509.Certificate) -> SignerInfo:
        v = cert["tbs_certificate"]["validity"]
        return SignerInfo(
            common_name=_first_attr(cert.subject, "common_name"),
            organization=_first_attr(cert.subject, "organization_name"),
            title=_first_attr(cert.subject, "title"),
            subject=_subject_string(cert),
            issuer=_issuer_string(cert),
            serial=format(cert.serial_number, "x"),
            not_before=v["not_before"].native,
            not_after=v["not_after"].native,
        )

    def role(self, cert: x509.Certificate) -> str | None:
        r = role_from_certificate(cert, self.policy.roles)
        return r.value if r is not None else None

    # -- 5.2.8 cryptographic constraints ----------------------------------------------
    def check_algorithms(self, cert: x509.Certificate | None = None, *,
                         digest: str | None = None,
                         signature_algorithm: str | None = None) -> list[Finding]:
        """Findings for every algorithm below the policy (empty list = all fine)."""
        bad: list[Finding] = []
        if digest is not None:
            d = digest.lower().replace("-", "").replace("_", "")
            allowed = {a.replace("_", "") for a in self.policy.allowed_digests}
            if d not in allowed:
                bad.append(Finding.of("weak_algorithm", detail=f"digest {digest}"))
        if signature_algorithm is not None:
            sa = signature_algorithm.lower()
            if any(w in sa for w in ("md2", "md5", "sha1")):
                bad.append(Finding.of("weak_algorithm", detail=f"signature {signature_algorithm}"))
        if cert is not None:
            pk = cert.public_key
            algo = pk.algorithm
            try:
                bits = pk.bit_size
            except Exception:
                bits = 0
            if algo in ("rsa", "rsassa_pss") and bits < self.policy.min_rsa_bits:
                bad.append(Finding.of("weak_algorithm", detail=f"RSA-{bits}"))
            elif algo == "ec" and bits < self.policy.min_ec_bits:
                bad.append(Finding.of("weak_algorithm", detail=f"ECDSA-{bits}"))
            elif algo == "dsa":
                bad.append(Finding.of("weak_algorithm", detail=f"DSA-{bits}"))
        return bad

    # -- 5.2.6 / 5.6.2.1 certificate validation ------------------------------------------
    def validate_certificate(
        self,
        cert: x509.Certificate,
        *,
        other_certs: Sequence[x509.Certificate] = (),
        embedded_ocsps: Sequence[ocsp.OCSPResponse] = (),
        embedded_crls: Sequence[crl.CertificateList] = (),
        validation_time: datetime,
        usage: str = "signing",
        poe_time: datetime | None = None,
        claimed_time: datetime | None = None,
        explicit_time: bool = False,
    ) -> CertResult:
        """Judge ``cert`` for ``usage`` ("signing" = digitalSignature or nonRepudiation,
        "digital_signature", "non_repudiation", or "time_stamping").

        ``poe_time``: a time at which a *trusted* timestamp proves the signature
        existed (enables past signature validation, EN 319 102-1 5.6.2.1).
        ``claimed_time``: the signer's own claimed signing time (not trusted;
        only used to tell REVOKED from REVOKED_NO_POE).
        ``explicit_time``: the caller asked for a past validation time; then nothing
        is fetched online.
        """
        findings: list[Finding] = []
        mode = self.policy.revocation_mode
        now = datetime.now(timezone.utc)
        # A certificate found valid *now* stays valid until the revocation data that
        # proved it goes stale: reuse that verdict across files (bulk verification).
        vkey = (cert.sha256, usage)
        if not explicit_time:
            hit = self._verdicts.get(vkey)
            if hit is not None and hit[1] > now:
                res = hit[0]
                if res.revocation is not None and res.revocation.status == "good" and any(
                        cert.serial_number in (RevocationCache._ocsp_meta(r) or ([], None))[0]
                        for r in embedded_ocsps):
                    from dataclasses import replace

                    res = replace(res, revocation=RevocationInfo("good", "embedded"))
                return res
        others = [*other_certs, *self.intermediates, *self.cache.certs()]
        embedded_o = list(embedded_ocsps)
        embedded_c = list(embedded_crls)

        def attempt(moment: datetime | None, fetch: bool, retro: bool) -> tuple[Any, Exception | None, Any]:
            lookup_certs = [cert, *others]
            cached_o, cached_c = self.cache.lookup(lookup_certs, now)
            fetchers = self._backend.get_fetchers() if fetch else None
            if mode == "off":
                o, c, cv_mode = [], [], "soft-fail"
            else:
                o, c = embedded_o + cached_o, embedded_c + cached_c
                cv_mode = "require" if mode == "require" else "soft-fail"
            vc = ValidationContext(
                trust_roots=list(self.anchors),
                other_certs=others,
                moment=moment,
                best_signature_time=poe_time or moment,
                allow_fetching=fetch,
                fetchers=fetchers,
                ocsps=o, crls=c,
                revocation_mode=cv_mode,
                retroactive_revinfo=retro,
                algorithm_usage_policy=self._algo_policy,
            )
            validator = CertificateValidator(cert, validation_context=vc)
            try:
                path = _run(validator.async_validate_path())
                err: Exception | None = None
            except (cv_errors.PathBuildingError, cv_errors.PathValidationError,
                    cv_errors.InvalidCertificateError, cv_errors.ValidationError) as e:
                path, err = None, e
            if fetchers is not None:
                self._harvest(fetchers)
            return path, err, vc

        # Step 1: validation at the validation time, embedded + cached data only.
        moment = validation_time if explicit_time else None
        path, err, vc = attempt(moment, False, False)
        fetched = False
        # Step 2: revocation data missing -> fetch online (if allowed and judging "now").
        # (Also when no path was found: the issuer may be reachable through AIA caIssuers.)
        if (err is not None and self.policy.online and not explicit_time and (
                (isinstance(err, cv_errors.InsufficientRevinfoError) and mode != "off")
                or isinstance(err, cv_errors.PathBuildingError))):
            path, err, vc = attempt(None, True, False)
            fetched = True
        if err is None:
            rev = self._revocation_info(cert, path, embedded_o, fetched, vc)
            if mode == "off":
                findings.append(Finding.of("revocation_off"))
            elif vc.soft_fail_exceptions:
                findings.append(Finding.of("revocation_soft_fail",
                                           detail=str(vc.soft_fail_exceptions[0])[:160]))
            findings.insert(0, Finding.of("cert_ok", root=_subject_string(path.first)))
            post = self._post_chain(cert, usage, path)
            if post is not None:
                return post
            result = CertResult(I.TOTAL_PASSED, None, chain=_chain(path), revocation=rev,
                                findings=tuple(findings), path=path, validated_at=validation_time)
            if not explicit_time and mode != "off" and not vc.soft_fail_exceptions:
                self._remember(vkey, result, cert, vc, now)
            return result

        # Step 3 (5.6.2.1 past signature validation): a trusted POE earlier than the
        # validation time lets us judge the chain as it was at that time, with the
        # revocation data embedded in the file (retroactive use: issued after the POE).
        if poe_time is not None and poe_time < validation_time and isinstance(
                err, (cv_errors.ExpiredError, cv_errors.RevokedError,
                      cv_errors.InsufficientRevinfoError)):
            why = _why(err)
            p_path, p_err, p_vc = attempt(poe_time, False, True)
            if p_err is None:
                rev = self._revocation_info(cert, p_path, embedded_o, False, p_vc)
                if isinstance(err, cv_errors.RevokedError):
                    rev = RevocationInfo("revoked", rev.source if rev else None)
                findings.append(Finding.of("cert_ok_at_poe", time=_fmt_time(poe_time), why=why))
                post = self._post_chain(cert, usage, p_path)
                if post is not None:
                    return post
                return CertResult(I.TOTAL_PASSED, None, chain=_chain(p_path), revocation=rev,
                                  findings=tuple(findings), path=p_path, validated_at=poe_time)
            if not isinstance(p_err, cv_errors.InsufficientRevinfoError):
                err = p_err
        return self._map_error(cert, err, poe_time, claimed_time, validation_time)

    def _remember(self, key: tuple[bytes, str], result: CertResult, cert: x509.Certificate,
                  vc: ValidationContext, now: datetime) -> None:
        expiry = min(now + _VERDICT_TTL, cert["tbs_certificate"]["validity"]["not_after"].native)
        for r in vc.ocsps:
            meta = RevocationCache._ocsp_meta(r)
            if meta is not None and meta[1] > now:
                expiry = min(expiry, meta[1])
        for c in vc.crls:
            try:
                nu = c["tbs_cert_list"]["next_update"].native
            except Exception:
                nu = None
            if nu is not None and nu > now:
                expiry = min(expiry, nu)
        with self._verdict_lock:
            if len(self._verdicts) > 10000:
                self._verdicts.clear()
            self._verdicts[key] = (result, expiry)

    def _post_chain(self, cert: x509.Certificate, usage: str, path: Any) -> CertResult | None:
        """Constraints judged once the chain is trusted: key usage, then key size."""
        usage_finding = self._check_usage(cert, usage)
        if usage_finding is not None:
            # The certificate itself forbids this use: a definitive failure of the
            # signature constraints (EN 319 102-1 5.2.6 / 5.2.8 validation constraints).
            return CertResult(I.TOTAL_FAILED, S.SIG_CONSTRAINTS_FAILURE, chain=_chain(path),
                              findings=(usage_finding,), path=path)
        weak = self.check_algorithms(cert)
        if weak:
            return CertResult(I.INDETERMINATE, S.CRYPTO_CONSTRAINTS_FAILURE, chain=_chain(path),
                              findings=tuple(weak), path=path)
        return None

    def _check_usage(self, cert: x509.Certificate, usage: str) -> Finding | None:
        ku = cert.key_usage_value
        kus = set(ku.native) if ku is not None else set()
        if usage == "time_stamping":
            eku = cert.extended_key_usage_value
            if eku is None or "time_stamping" not in eku.native:
                return Finding.of("tsa_usage_missing")
            return None
        wanted = SIGNING_USAGES if usage == "signing" else {usage}
        if not kus & wanted:
            return Finding.of("key_usage_missing")
        return None

    def _harvest(self, fetchers: Any) -> None:
        try:
            for r in fetchers.ocsp_fetcher.fetched_responses():
                self.cache.add_ocsp(r)
            for c in fetchers.crl_fetcher.fetched_crls():
                self.cache.add_crl(c)
            for cert in fetchers.cert_fetcher.fetched_certs():
                self.cache.add_cert(cert)
        except Exception:  # the cache is an optimisation; never fail a validation over it
            pass

    def _revocation_info(self, cert: x509.Certificate, path: Any,
                         embedded_o: list[ocsp.OCSPResponse], fetched: bool,
                         vc: ValidationContext) -> RevocationInfo:
        if self.policy.revocation_mode == "off":
            return RevocationInfo("unknown", None)
        serial = cert.serial_number
        emb_serials = set()
        for r in embedded_o:
            meta = RevocationCache._ocsp_meta(r)
            if meta:
                emb_serials.update(meta[0])
        if serial in emb_serials:
            return RevocationInfo("good", "embedded")
        for r in vc.ocsps:
            meta = RevocationCache._ocsp_meta(r)
            if meta and serial in meta[0]:
                return RevocationInfo("good", "ocsp")
        if vc.soft_fail_exceptions:
            return RevocationInfo("unknown", None)
        return RevocationInfo("good", "crl")

    def _map_error(self, cert: x509.Certificate, err: Exception | None,
                   poe_time: datetime | None, claimed_time: datetime | None,
                   validation_time: datetime) -> CertResult:
        chain = (_subject_string(cert),)
        detail = str(getattr(err, "failure_msg", None) or err)[:200]
        if isinstance(err, cv_errors.PathBuildingError):
            return CertResult(I.INDETERMINATE, S.NO_CERTIFICATE_CHAIN_FOUND, chain=chain,
                              findings=(Finding.of("no_chain", detail=detail),))
        if isinstance(err, cv_errors.RevokedError):
            rdt = getattr(err, "revocation_dt", None)
            rev = RevocationInfo("revoked", None)
            # 5.2.6 / 5.6.2.1: revoked before the (proven or claimed) signing time -> FAILED.
            ref = poe_time or claimed_time
            if rdt is not None and ref is not None and rdt <= ref:
                return CertResult(I.TOTAL_FAILED, S.REVOKED, chain=chain, revocation=rev,
                                  findings=(Finding.of("cert_revoked", time=_fmt_time(rdt)),))
            return CertResult(I.INDETERMINATE, S.REVOKED_NO_POE, chain=chain, revocation=rev,
                              findings=(Finding.of("cert_revoked_no_poe", time=_fmt_time(rdt)),))
        if isinstance(err, cv_errors.ExpiredError):
            exp = getattr(err, "expired_dt", None)
            if poe_time is not None and exp is not None and poe_time > exp:
                return CertResult(I.TOTAL_FAILED, S.EXPIRED, chain=chain,
                                  findings=(Finding.of("cert_expired", time=_fmt_time(exp)),))
            return CertResult(I.INDETERMINATE, S.OUT_OF_BOUNDS_NO_POE, chain=chain,
                              findings=(Finding.of("cert_expired_no_poe", time=_fmt_time(exp)),))
        if isinstance(err, cv_errors.NotYetValidError):
            vf = getattr(err, "valid_from", None)
            return CertResult(I.TOTAL_FAILED, S.NOT_YET_VALID, chain=chain,
                              findings=(Finding.of("cert_not_yet_valid", time=_fmt_time(vf)),))
        if isinstance(err, cv_errors.DisallowedAlgorithmError):
            return CertResult(I.INDETERMINATE, S.CRYPTO_CONSTRAINTS_FAILURE, chain=chain,
                              findings=(Finding.of("weak_algorithm", detail=detail),))
        if isinstance(err, cv_errors.InsufficientRevinfoError):
            sub = S.REVOCATION_OUT_OF_BOUNDS_NO_POE if isinstance(
                err, cv_errors.StaleRevinfoError) else S.TRY_LATER
            return CertResult(I.INDETERMINATE, sub, chain=chain,
                              revocation=RevocationInfo("unknown", None),
                              findings=(Finding.of("revocation_unknown", detail=detail),))
        if isinstance(err, cv_errors.InvalidCertificateError):
            return CertResult(I.INDETERMINATE, S.CHAIN_CONSTRAINTS_FAILURE, chain=chain,
                              findings=(Finding.of("chain_invalid", detail=detail),))
        return CertResult(I.INDETERMINATE, S.CERTIFICATE_CHAIN_GENERAL_FAILURE, chain=chain,
                          findings=(Finding.of("chain_invalid", detail=detail),))

    # -- timestamps (RFC 3161; EN 319 102-1 5.4 time-stamp validation) ------------------
    def validate_timestamp_token(
        self,
        token: cms.ContentInfo | cms.SignedData,
        expected_imprint: bytes | Callable[[str], bytes],
        validation_time: datetime,
        *,
        embedded_ocsps: Sequence[ocsp.OCSPResponse] = (),
        embedded_crls: Sequence[crl.CertificateList] = (),
        poe_time: datetime | None = None,
        explicit_time: bool = False,
    ) -> TimestampResult:
        """Imprint, token signature, TSA chain and its timeStamping purpose.

        ``expected_imprint``: the digest the token must carry, or a function of the
        token's hash algorithm name returning it (the hash algorithm is the token's).
        """
        from pyhanko.sign.general import extract_certificate_info, extract_signer_info
        from pyhanko.sign.validation.generic_cms import validate_sig_integrity

        try:
            sd = token["content"] if isinstance(token, cms.ContentInfo) else token
            eci = sd["encap_content_info"]
            raw = eci["content"]
            tst_info = raw.parsed if hasattr(raw, "parsed") else None
            if not isinstance(tst_info, tsp.TSTInfo):
                tst_info = tsp.TSTInfo.load(bytes(raw.contents if hasattr(raw, "contents") else raw))
            gen_time: datetime = tst_info["gen_time"].native
            mi = tst_info["message_imprint"]
            algo = mi["hash_algorithm"]["algorithm"].native
            imprint = mi["hashed_message"].native
            signer_info = extract_signer_info(sd)
            cert_info = extract_certificate_info(sd)
            tsa_cert = cert_info.signer_cert
        except Exception as e:
            return TimestampResult(None, False, None, (Finding.of("tst_malformed", detail=str(e)[:120]),))
        tsa_name = _subject_string(tsa_cert)
        findings: list[Finding] = []
        expected = expected_imprint(algo) if callable(expected_imprint) else expected_imprint
        imprint_ok = expected == imprint
        if not imprint_ok:
            findings.append(Finding.of("tst_imprint_mismatch"))
        try:
            md_algo = signer_info["digest_algorithm"]["algorithm"].native
            content_bytes = bytes(eci["content"].contents)
            digest = hashlib.new(md_algo, content_bytes).digest()
            intact, valid = validate_sig_integrity(signer_info, tsa_cert, "tst_info", digest)
        except Exception:
            intact, valid = False, False
        if not (intact and valid):
            findings.append(Finding.of("tst_signature_invalid"))
        findings.extend(self.check_algorithms(None, digest=algo))
        cert_res = self.validate_certificate(
            tsa_cert, other_certs=cert_info.other_certs, embedded_ocsps=embedded_ocsps,
            embedded_crls=embedded_crls, validation_time=validation_time,
            usage="time_stamping", poe_time=poe_time, claimed_time=gen_time,
            explicit_time=explicit_time)
        if not cert_res.passed:
            findings.append(Finding.of("tsa_not_trusted", detail=cert_res.findings[0].render("en")
                                       if cert_res.findings else "?"))
        ok = imprint_ok and intact and valid and cert_res.passed and not self.check_algorithms(
            None, digest=algo)
        return TimestampResult(TimestampInfo(gen_time, tsa_name, ok), imprint_ok and intact and valid,
                               cert_res, tuple(findings))


def _chain(path: Any) -> tuple[str, ...]:
    try:
        certs = list(path)
        return tuple(_subject_string(c) for c in reversed(certs))
    except Exception:
        return ()


def _why(err: Exception) -> str:
    if isinstance(err, cv_errors.ExpiredError):
        return "hết hạn / expired"
    if isinstance(err, cv_errors.RevokedError):
        return "bị thu hồi / revoked"
    return "không còn dữ liệu thu hồi mới / no fresh revocation data"
