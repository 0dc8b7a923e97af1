"""Certificate judgement: the ONE place certificates are judged, for PDF and XML.

A :class:`TrustEngine` is built once per :class:`~verifier.core.Verifier` and
shared by every thread. It holds the parsed trust anchors and intermediates and
the fetchers (with timeouts) behind a thread-safe cache of what they fetched
(OCSP responses and CRLs until their nextUpdate, AIA certificates for an hour).
Path building and validation are pyhanko-certvalidator's; this module adds the
EN 319 102-1 reading of the result:

- 5.2.6 X.509 certificate validation at the validation time, with the validation
  data embedded in the file first (PAdES DSS/VRI, XAdES values), then (if allowed
  and judging "now") OCSP/CRL online through the fetch cache;
- 5.6.2.1 past signature validation: when the current-time validation fails
  (expired, revoked, no fresh revocation data) and a trusted timestamp proves the
  signature existed at an earlier time (POE), the chain is validated again *at
  that time* with the validation data at hand; a certificate revoked after the
  POE is valid at the POE, one revoked at or before it is REVOKED;
- 5.2.8 cryptographic constraints: RSA ≥ 2048, ECDSA ≥ 256, SHA-256 or stronger;
- the mapping of every failure to an EN 319 102-1 indication and sub-indication.

Determinism: a verdict is a function of (certificate and validation data offered,
policy, validation time, POE, usage) and of what the CA publishes online. No
verdict, path or fetched item is reused except through the fetch cache, which
answers only where a fetch would have been made, so the order in which a process
judges files never changes a report.
"""
from __future__ import annotations

import asyncio
import hashlib
import threading
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterable, Sequence

from asn1crypto import cms, crl, ocsp, tsp, x509
from pyhanko_certvalidator import CertificateValidator, ValidationContext
from pyhanko_certvalidator import errors as cv_errors
from pyhanko_certvalidator.fetchers.api import Fetchers
from pyhanko_certvalidator.policy_decl import (
    LEGACY_POLICY_MAP, NO_REVOCATION, REQUIRE_REVINFO, CertRevTrustPolicy,
    DisallowWeakAlgorithmsPolicy, RevocationCheckingPolicy, RevocationCheckingRule)

from ground.fetch_cache import CachingFetcherBackend, RevocationCache
from ground.fetch_cache import crl_expiry as _crl_expiry
from ground.fetch_cache import ocsp_meta as _ocsp_meta
from ground.names import issuer_string, subject_string
from ground.roles import role_from_certificate
from ground.vocab import Indication, SubIndication
from ground.policy import Policy
from ground.findings import (Finding, Foreign, RevocationInfo, SignerInfo, TimestampInfo,
                             fmt_time)

__all__ = ["CachingFetcherBackend", "CertResult", "RevocationCache", "TimestampResult", "TrustEngine"]

I, S = Indication, SubIndication



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
    # The OCSP responses and CRLs (asn1crypto) about the path's certificates that were
    # at hand (embedded or fetched): the validation objects of an ETSI report.
    revinfo: tuple[Any, ...] = ()

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


# -- revocation cache: ground.fetch_cache (public fetcher interface) ---------------------

@dataclass(frozen=True)
class _Job:
    """The inputs of one certificate validation (TrustEngine.validate_certificate)."""

    cert: x509.Certificate
    usage: str
    other_certs: tuple[x509.Certificate, ...]
    others: tuple[x509.Certificate, ...]  # the file's certificates plus the policy's
    embedded_o: tuple[ocsp.OCSPResponse, ...]
    embedded_c: tuple[crl.CertificateList, ...]
    mode: str
    online: bool
    validation_time: datetime
    poe_time: datetime | None
    claimed_time: datetime | None
    explicit_time: bool
    used_at: datetime | None


@dataclass(frozen=True)
class _Attempt:
    """One path validation's outcome: the path or the error, its context, what it
    fetched, and whether it went online."""

    path: Any
    err: Exception | None
    vc: ValidationContext
    fetched: "_Fetched"
    online: bool

    def as_tuple(self) -> tuple[Any, Exception | None, ValidationContext, "_Fetched"]:
        return self.path, self.err, self.vc, self.fetched


@dataclass(frozen=True)
class _Fetched:
    """What one online validation attempt fetched (or took from the cache)."""

    ocsps: tuple[ocsp.OCSPResponse, ...] = ()
    crls: tuple[crl.CertificateList, ...] = ()
    certs: tuple[x509.Certificate, ...] = ()

    @classmethod
    def of(cls, fetchers: Fetchers | None) -> "_Fetched":
        if fetchers is None:
            return cls()
        try:
            return cls(tuple(fetchers.ocsp_fetcher.fetched_responses()),
                       tuple(fetchers.crl_fetcher.fetched_crls()),
                       tuple(fetchers.cert_fetcher.fetched_certs()))
        except Exception:  # bookkeeping only; the validation result stands on its own
            return cls()


_MEMO_TTL = timedelta(minutes=5)
_MEMO_MAX = 10000


def _memo_key(cert: x509.Certificate, usage: str, other_certs: Sequence[x509.Certificate],
              ocsps: Sequence[ocsp.OCSPResponse], crls: Sequence[crl.CertificateList]
              ) -> tuple[Any, ...]:
    """Everything a current-time validation depends on besides the engine's policy."""
    def digests(items: Iterable[Any]) -> frozenset[bytes]:
        return frozenset(hashlib.sha256(i.dump()).digest() for i in items)

    return (cert.sha256, usage, frozenset(c.sha256 for c in other_certs),
            digests(ocsps), digests(crls))


def _verdict_key(job: "_Job") -> tuple[Any, ...]:
    """Every input of an offline validation (:class:`_Job`) by value: the certificates and
    revocation data by the SHA-256 of their DER, in the order given, and every time.
    The engine's own inputs (anchors, intermediates, policy) are fixed per engine."""
    def digests(items: Iterable[Any]) -> tuple[bytes, ...]:
        return tuple(hashlib.sha256(i.dump()).digest() for i in items)

    assert not job.online
    return (job.cert.sha256, job.usage, digests(job.other_certs), digests(job.others),
            digests(job.embedded_o), digests(job.embedded_c), job.mode, job.online,
            job.validation_time, job.poe_time, job.claimed_time, job.explicit_time,
            job.used_at)


def _checking_policy(mode: str, *, ee: bool = True) -> RevocationCheckingPolicy:
    """The revocation checking rules for the policy's mode; ``ee=False``: the signer's
    own status is already established (EN 319 102-1 5.6.2.1), check only the CAs."""
    base = {"off": NO_REVOCATION, "require": REQUIRE_REVINFO}.get(
        mode, LEGACY_POLICY_MAP["soft-fail"])
    if ee:
        return base
    return RevocationCheckingPolicy(ee_certificate_rule=RevocationCheckingRule.NO_CHECK,
                                    intermediate_ca_cert_rule=base.intermediate_ca_cert_rule)


# -- helpers --------------------------------------------------------------------------


def _first_attr(name: x509.Name, attr: str) -> str | None:
    for rdn in name.chosen:
        for ava in rdn:
            if ava["type"].native == attr:
                v = ava["value"].native
                return v if isinstance(v, str) else str(v)
    return None


def _fmt_time(d: datetime | None) -> str:
    return fmt_time(d) if d is not None else "?"


def _run(coro: Any) -> Any:
    """Run a certvalidator coroutine from synchronous code (thread-safe: the main thread's
    lasting loop, or one loop per call in other threads; see ground.aio)."""
    from ground import aio

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return aio.run(coro)
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
        # Fetched OCSP/CRL/AIA data, shared across files until it goes stale; the only
        # state that outlives one validation (see RevocationCache).
        self.cache = RevocationCache()
        self._backend = CachingFetcherBackend(self.cache, per_request_timeout=policy.fetch_timeout)
        # Current-time "valid" results keyed by every input that affects them (_memo_key).
        self._memo: dict[tuple[Any, ...], tuple[CertResult, datetime]] = {}
        self._memo_lock = threading.Lock()
        # Verdicts at an explicit validation time (no fetching), keyed by the whole job.
        self._verdicts: dict[tuple[Any, ...], CertResult] = {}
        self._algo_policy = DisallowWeakAlgorithmsPolicy(  # type: ignore[no-untyped-call]
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
            subject=subject_string(cert),
            issuer=issuer_string(cert),
            serial=format(cert.serial_number, "x"),
            not_before=v["not_before"].native,
            not_after=v["not_after"].native,
            sha256=cert.sha256.hex(),
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
                bad.append(Finding.of("weak_algorithm", detail=digest))
        if signature_algorithm is not None:
            sa = signature_algorithm.lower()
            if any(w in sa for w in ("md2", "md5", "sha1")):
                bad.append(Finding.of("weak_algorithm", detail=signature_algorithm))
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
        used_at: datetime | None = None,
    ) -> CertResult:
        """Judge ``cert`` for ``usage`` ("signing" = digitalSignature or nonRepudiation,
        "digital_signature", "non_repudiation", or "time_stamping").

        ``poe_time``: a time at which a *trusted* timestamp proves the signature
        existed (enables past signature validation, EN 319 102-1 5.6.2.1).
        ``claimed_time``: the signer's own claimed signing time (not trusted;
        only used to tell REVOKED from REVOKED_NO_POE).
        ``explicit_time``: the caller asked for a past validation time; then nothing
        is fetched online.
        ``used_at``: the time the certificate's key was used, when it is proven (a TSA
        certificate: the genTime of a token whose signature verified). Together with
        ``poe_time`` it lets revocation data issued for that time establish the status
        at a later validation time (EN 319 102-1 5.2.5 / 5.6.3, see step 2b).

        The result is a function of the arguments, the policy and (when fetching is
        allowed) what the CA publishes: the only state shared across calls is the
        fetch cache behind the online step.
        """
        mode = self.policy.revocation_mode
        job = _Job(
            cert=cert, usage=usage, other_certs=tuple(other_certs),
            others=(*other_certs, *self.intermediates),
            embedded_o=tuple(embedded_ocsps) if mode != "off" else (),
            embedded_c=tuple(embedded_crls) if mode != "off" else (),
            mode=mode, online=self.policy.online and not explicit_time,
            validation_time=validation_time, poe_time=poe_time, claimed_time=claimed_time,
            explicit_time=explicit_time, used_at=used_at)
        memo_key: tuple[Any, ...] | None = None
        if not explicit_time:
            memo_key = _memo_key(cert, usage, other_certs, job.embedded_o, job.embedded_c)
            hit = self._memo_get(memo_key)
            if hit is not None:
                return replace(hit, validated_at=validation_time)
        else:
            # A past (or future) validation time: nothing is fetched, so the verdict is a
            # function of the job alone; remembered by every input of the job.
            verdict_key = _verdict_key(job)
            with self._memo_lock:
                done = self._verdicts.get(verdict_key)
            if done is not None:
                return done
            result = self._judge(job, None)
            with self._memo_lock:
                if len(self._verdicts) >= _MEMO_MAX:
                    self._verdicts.clear()
                self._verdicts[verdict_key] = result
            return result
        return self._judge(job, memo_key)

    def _judge(self, job: "_Job", memo_key: tuple[Any, ...] | None) -> CertResult:
        # EN 319 102-1 5.2.6 X.509 certificate validation at the validation time.
        current = self._step_current_time(job)
        if current.err is None and current.path is not None:
            return self._accept_current_time(job, current, memo_key)
        # 5.2.5 revocation freshness with the time of use / 5.6.3 (LTA).
        at_use = self._step_revinfo_at_time_of_use(job, current)
        if isinstance(at_use, CertResult):
            return at_use
        # 5.6.2.1 past signature validation at the POE; otherwise the indication of the
        # failure (5.2.6 mapping).
        return self._step_past_signature_validation(job, at_use, current)

    # -- the validation steps (EN 319 102-1), each returning a result ----------------------

    def _attempt(self, job: "_Job", moment: datetime | None, *, fetch: bool,
                 retro: bool = False, extra: "_Fetched | None" = None,
                 ee_revocation: bool = True, revocation: bool = True,
                 pin: datetime | None = None) -> "_Attempt":
        """One path validation by pyhanko-certvalidator at ``moment`` (None: now), with
        the file's validation data plus ``extra``; online only when ``fetch``."""
        extra = extra or _Fetched()
        fetchers = self._backend.get_fetchers() if fetch else None
        vc = ValidationContext(
            trust_roots=list(self.anchors),
            other_certs=[*job.others, *extra.certs],
            moment=moment,
            best_signature_time=pin or job.poe_time or moment,
            allow_fetching=fetch,
            fetchers=fetchers,
            ocsps=[*job.embedded_o, *extra.ocsps], crls=[*job.embedded_c, *extra.crls],
            revinfo_policy=CertRevTrustPolicy(
                _checking_policy(job.mode, ee=ee_revocation) if revocation else NO_REVOCATION,
                retroactive_revinfo=retro),
            algorithm_usage_policy=self._algo_policy,
        )
        validator = CertificateValidator(job.cert, validation_context=vc)
        try:
            path = _run(validator.async_validate_path())
            err: Exception | None = None
        except (cv_errors.PathBuildingError, cv_errors.PathValidationError,
                cv_errors.InvalidCertificateError, cv_errors.ValidationError) as e:
            path, err = None, e
        return _Attempt(path, err, vc, _Fetched.of(fetchers), fetch)

    def _step_current_time(self, job: "_Job") -> "_Attempt":
        """Step 1 (5.2.6): at the validation time with the validation data the file carries
        (PAdES DSS / CMS revocation values, XAdES values): a B-LT/B-LTA record needs no
        network. Skipped when there is nothing embedded and the online step will run.
        Step 2: revocation data missing -> OCSP/CRL online (through the fetch cache), when
        allowed and judging "now"; also when no path was found (the issuer may be
        reachable through AIA caIssuers)."""
        moment = job.validation_time if job.explicit_time else None
        if job.online and job.mode != "off" and not job.embedded_o and not job.embedded_c:
            need_online = True
            first: _Attempt | None = None
        else:
            first = self._attempt(job, moment, fetch=False)
            err = first.err
            need_online = err is not None and job.online and (
                (isinstance(err, cv_errors.InsufficientRevinfoError) and job.mode != "off")
                or isinstance(err, cv_errors.PathBuildingError))
        if need_online or first is None:
            return self._attempt(job, None, fetch=True)
        return first

    def _accept_current_time(self, job: "_Job", current: "_Attempt",
                             memo_key: tuple[Any, ...] | None) -> CertResult:
        """The chain is valid now: revocation source, then the post-chain constraints
        (key usage, key size); a pass is remembered until its inputs go stale."""
        path, vc, fetched = current.path, current.vc, current.fetched
        findings: list[Finding] = [Finding.of("cert_ok", root=subject_string(path.first))]
        rev = self._revocation_info(job.cert, list(job.embedded_o), list(job.embedded_c),
                                    fetched, current.online, vc)
        if job.mode == "off":
            findings.append(Finding.of("revocation_off"))
        elif vc.soft_fail_exceptions:
            findings.append(Finding.of("revocation_soft_fail",
                                       detail=Foreign(str(vc.soft_fail_exceptions[0])[:160])))
        post = self._post_chain(job.cert, job.usage, path)
        if post is not None:
            return post
        result = CertResult(I.TOTAL_PASSED, None, chain=_chain(path), revocation=rev,
                            findings=tuple(findings), path=path,
                            validated_at=job.validation_time,
                            revinfo=_relevant_revinfo(path, job.embedded_o, job.embedded_c,
                                                      fetched))
        if memo_key is not None and not vc.soft_fail_exceptions:
            self._memo_put(memo_key, result, path, [*job.embedded_o, *fetched.ocsps],
                           [*job.embedded_c, *fetched.crls])
        return result

    def _step_revinfo_at_time_of_use(self, job: "_Job",
                                     current: "_Attempt") -> CertResult | Exception | None:
        """Step 2b (5.2.5 revocation freshness with the time of use; 5.6.3 validation
        process for LTA, the latest archive / document timestamp): the chain is valid at
        the validation time (validity periods, signatures, constraints) and the revocation
        status is established by revocation data that was authoritative at or after the
        time the key was used (nextUpdate not before it: the CRL/OCSP status then current,
        or issued later). A record's embedded 2026 data thus judges its TSA in 2040 while
        the TSA certificate is within its validity; once it expired, only a newer archive
        timestamp helps (INDETERMINATE otherwise).

        Returns the result when this step settles it, else the error to judge further."""
        err, fetched = current.err, current.fetched
        use_time = (job.used_at if job.usage == "time_stamping" and job.used_at is not None
                    else job.poe_time)
        if use_time is None or use_time >= job.validation_time or job.mode == "off" \
                or not isinstance(err, cv_errors.InsufficientRevinfoError) \
                or isinstance(err, cv_errors.RevokedError):
            return err
        chain_now = self._attempt(job, job.validation_time, fetch=False, extra=fetched,
                                  revocation=False)
        if chain_now.err is not None:
            if not isinstance(chain_now.err, cv_errors.InsufficientRevinfoError):
                return chain_now.err
            return err
        at_use = self._attempt(job, use_time, fetch=False, retro=True, extra=fetched,
                               pin=use_time)
        if at_use.err is None:
            rev = self._revocation_info(job.cert, list(job.embedded_o), list(job.embedded_c),
                                        fetched, current.online, at_use.vc)
            post = self._post_chain(job.cert, job.usage, chain_now.path)
            if post is not None:
                return post
            return CertResult(
                I.TOTAL_PASSED, None, chain=_chain(chain_now.path), revocation=rev,
                findings=(Finding.of("cert_ok", root=subject_string(chain_now.path.first)),
                          Finding.of("cert_revinfo_at_use_ok", time=_fmt_time(use_time))),
                path=chain_now.path, validated_at=job.validation_time,
                revinfo=_relevant_revinfo(chain_now.path, job.embedded_o, job.embedded_c,
                                          fetched))
        if isinstance(at_use.err, cv_errors.RevokedError):
            return at_use.err
        return err

    def _step_past_signature_validation(self, job: "_Job", err: Exception | None,
                                        current: "_Attempt") -> CertResult:
        """Step 3 (5.6.2.1 past signature validation): a trusted POE earlier than the
        validation time lets us judge the chain as it was at that time, with the
        validation data of the file and of the online step (used retroactively: issued
        after the POE). Otherwise, and when that fails too, the failure's indication."""
        poe_time, fetched = job.poe_time, current.fetched
        if poe_time is None or poe_time >= job.validation_time or not isinstance(
                err, (cv_errors.ExpiredError, cv_errors.RevokedError,
                      cv_errors.InsufficientRevinfoError)):
            return self._map_error(job.cert, err, poe_time, job.claimed_time, job.validation_time)
        if isinstance(err, cv_errors.RevokedError) and _is_signer_revocation(err):
            return self._past_revoked(
                job.cert, job.usage, err, poe_time, list(job.embedded_o), fetched,
                lambda moment, **kw: self._attempt(job, moment, **kw).as_tuple())
        past = self._attempt(job, poe_time, fetch=False, retro=True, extra=fetched)
        if past.err is None:
            rev = self._revocation_info(job.cert, list(job.embedded_o), list(job.embedded_c),
                                        fetched, current.online, past.vc)
            if isinstance(err, cv_errors.RevokedError):
                rev = RevocationInfo("revoked", rev.source)
            post = self._post_chain(job.cert, job.usage, past.path)
            if post is not None:
                return post
            return CertResult(I.TOTAL_PASSED, None, chain=_chain(past.path), revocation=rev,
                              findings=(Finding.of(_poe_code(err), time=_fmt_time(poe_time)),),
                              path=past.path, validated_at=poe_time,
                              revinfo=_relevant_revinfo(past.path, job.embedded_o,
                                                        job.embedded_c, fetched))
        if isinstance(past.err, cv_errors.RevokedError) or not isinstance(
                past.err, cv_errors.InsufficientRevinfoError):
            err = past.err
        elif isinstance(err, cv_errors.ExpiredError):
            # The timestamp proves the signature predates the expiry, but no revocation
            # data shows the certificate was not revoked then (EN 319 102-1 5.6.2.1 d).
            return self._map_error(job.cert, past.err, poe_time, job.claimed_time,
                                   job.validation_time, expired=getattr(err, "expired_dt", None))
        return self._map_error(job.cert, err, poe_time, job.claimed_time, job.validation_time)

    # -- the "valid now" memo --------------------------------------------------------
    # A certificate found valid at the current time, from exactly the same inputs (the
    # certificate, the certificates and revocation data the file offers, the usage; the
    # POE and claimed time play no part when the current-time validation passes), is
    # valid again until the first of: a certificate of its path expires, the revocation
    # data behind it (embedded or fetched) reaches its nextUpdate, _MEMO_TTL. Within that
    # window recomputing gives the same result from the same cached data, so the memo
    # changes speed only, never a report.

    def _memo_get(self, key: tuple[Any, ...]) -> CertResult | None:
        now = datetime.now(timezone.utc)
        with self._memo_lock:
            hit = self._memo.get(key)
            if hit is None:
                return None
            if hit[1] <= now:
                del self._memo[key]
                return None
            return hit[0]

    def _memo_put(self, key: tuple[Any, ...], result: CertResult, path: Any,
                  ocsps: Sequence[ocsp.OCSPResponse], crls: Sequence[crl.CertificateList]) -> None:
        now = datetime.now(timezone.utc)
        expiry = now + _MEMO_TTL
        try:
            for c in path:
                expiry = min(expiry, c["tbs_certificate"]["validity"]["not_after"].native)
        except Exception:
            return
        for r in ocsps:
            meta = _ocsp_meta(r)
            if meta is not None and meta[1] > now:
                expiry = min(expiry, meta[1])
        for cl in crls:
            nu = _crl_expiry(cl)
            if nu is not None and nu > now:
                expiry = min(expiry, nu)
        if expiry <= now:
            return
        with self._memo_lock:
            if len(self._memo) >= _MEMO_MAX:
                self._memo.clear()
            self._memo[key] = (result, expiry)

    def _past_revoked(self, cert: x509.Certificate, usage: str, err: Any, poe_time: datetime,
                      embedded_o: list[ocsp.OCSPResponse], fetched: _Fetched,
                      attempt: Callable[..., tuple[Any, Exception | None, Any, _Fetched]]
                      ) -> CertResult:
        """EN 319 102-1 5.6.2.1 for a revoked signing certificate with a trusted POE.

        ``err`` carries the revocation time and reason from OCSP/CRL data that
        pyhanko-certvalidator has authenticated (signature and responder checked before
        the status is read). Revoked at or before the POE: the signature was made with a
        revoked certificate (TOTAL_FAILED/REVOKED). Revoked after it: the certificate's
        status at the POE is established (not revoked then), so the chain is validated
        at the POE with only the CAs' revocation checked. EN 319 102-1 applies this to
        every reason, keyCompromise included; we accept that only because the POE here
        always comes from a trusted timestamp (never from the signer's claimed time), and
        the finding names the reason so a reader can weigh a compromise reported late.
        """
        rdt: datetime | None = getattr(err, "revocation_dt", None)
        reason = _reason(err)
        if rdt is None or rdt <= poe_time:
            return CertResult(I.TOTAL_FAILED, S.REVOKED, chain=_chain(err.original_path),
                              revocation=RevocationInfo("revoked", None),
                              findings=(Finding.of("cert_revoked_before_poe",
                                                   time=_fmt_time(rdt), poe=_fmt_time(poe_time),
                                                   reason=reason),))
        p_path, p_err, p_vc, _ = attempt(poe_time, fetch=False, retro=True, extra=fetched,
                                         ee_revocation=False)
        source = "embedded" if _ocsp_covers(embedded_o, cert) else (
            "ocsp" if _ocsp_covers(list(fetched.ocsps), cert) else "crl")
        rev = RevocationInfo("revoked", source)
        if p_err is not None:
            res = self._map_error(cert, p_err, poe_time, None, poe_time)
            return CertResult(res.indication, res.subindication, chain=res.chain, revocation=rev,
                              findings=(Finding.of("cert_revoked_after_poe_unverified",
                                                   time=_fmt_time(rdt), poe=_fmt_time(poe_time),
                                                   detail=res.findings[0]
                                                   if res.findings else "?"),))
        post = self._post_chain(cert, usage, p_path)
        if post is not None:
            return post
        return CertResult(I.TOTAL_PASSED, None, chain=_chain(p_path), revocation=rev,
                          findings=(Finding.of("cert_ok", root=subject_string(p_path.first)),
                                    Finding.of("cert_revoked_after_poe_ok",
                                               poe=_fmt_time(poe_time), time=_fmt_time(rdt),
                                               reason=reason)),
                          path=p_path, validated_at=poe_time,
                          revinfo=_relevant_revinfo(p_path, embedded_o, [], fetched))

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

    def _revocation_info(self, cert: x509.Certificate, embedded_o: list[ocsp.OCSPResponse],
                         embedded_c: list[crl.CertificateList], fetched: _Fetched,
                         went_online: bool, vc: ValidationContext) -> RevocationInfo:
        """Where the (good) status came from: the file's own data first."""
        if self.policy.revocation_mode == "off":
            return RevocationInfo("unknown", None)
        if vc.soft_fail_exceptions:
            return RevocationInfo("unknown", None)
        if _ocsp_covers(embedded_o, cert) or (embedded_c and not went_online):
            return RevocationInfo("good", "embedded")
        if _ocsp_covers(list(fetched.ocsps), cert):
            return RevocationInfo("good", "ocsp")
        if fetched.crls:
            return RevocationInfo("good", "crl")
        return RevocationInfo("good", "embedded")

    def _map_error(self, cert: x509.Certificate, err: Exception | None,
                   poe_time: datetime | None, claimed_time: datetime | None,
                   validation_time: datetime, *, expired: datetime | None = None) -> CertResult:
        """EN 319 102-1 indication for a failed validation. Messages name a timestamp
        only as it is: absent, or proving a time (never "no timestamp" beside a valid one)."""
        # The path certvalidator built, when it got that far (e.g. a weak algorithm in
        # it): the report shows the chain to the anchor, not just the signer.
        built = getattr(err, "original_path", None)
        chain = (_chain(built) or (subject_string(cert),)) if built is not None \
            else (subject_string(cert),)
        detail = Foreign(str(getattr(err, "failure_msg", None) or err)[:200])
        if isinstance(err, cv_errors.PathBuildingError):
            return CertResult(I.INDETERMINATE, S.NO_CERTIFICATE_CHAIN_FOUND, chain=chain, path=built,
                              findings=(Finding.of("no_chain", detail=detail),))
        if isinstance(err, cv_errors.RevokedError):
            rdt = getattr(err, "revocation_dt", None)
            rev = RevocationInfo("revoked", None)
            reason = _reason(err)
            if not _is_signer_revocation(err):
                # A CA in the path (or an OCSP responder / CRL issuer) is revoked.
                return CertResult(I.INDETERMINATE, S.REVOKED_CA_NO_POE, chain=chain, path=built,
                                  revocation=RevocationInfo("unknown", None),
                                  findings=(Finding.of("chain_invalid", detail=detail),))
            # 5.2.6 / 5.6.2.1: revoked before the proven (or the signer's own claimed)
            # signing time -> the signature was made with a revoked certificate.
            if poe_time is not None and rdt is not None and rdt <= poe_time:
                return CertResult(I.TOTAL_FAILED, S.REVOKED, chain=chain, path=built, revocation=rev,
                                  findings=(Finding.of("cert_revoked_before_poe",
                                                       time=_fmt_time(rdt),
                                                       poe=_fmt_time(poe_time),
                                                       reason=reason),))
            if poe_time is None and claimed_time is not None and rdt is not None \
                    and rdt <= claimed_time:
                return CertResult(I.TOTAL_FAILED, S.REVOKED, chain=chain, path=built, revocation=rev,
                                  findings=(Finding.of("cert_revoked", time=_fmt_time(rdt)),))
            if poe_time is not None:
                return CertResult(I.INDETERMINATE, S.REVOKED_NO_POE, chain=chain, path=built, revocation=rev,
                                  findings=(Finding.of("cert_revoked_after_poe_unverified",
                                                       time=_fmt_time(rdt),
                                                       poe=_fmt_time(poe_time),
                                                       detail=detail),))
            return CertResult(I.INDETERMINATE, S.REVOKED_NO_POE, chain=chain, path=built, revocation=rev,
                              findings=(Finding.of("cert_revoked_no_poe", time=_fmt_time(rdt)),))
        if isinstance(err, cv_errors.ExpiredError):
            exp = getattr(err, "expired_dt", None)
            if poe_time is not None and exp is not None and poe_time > exp:
                return CertResult(I.TOTAL_FAILED, S.EXPIRED, chain=chain, path=built,
                                  findings=(Finding.of("cert_expired", time=_fmt_time(exp)),))
            return CertResult(I.INDETERMINATE, S.OUT_OF_BOUNDS_NO_POE, chain=chain, path=built,
                              findings=(Finding.of("cert_expired_no_poe", time=_fmt_time(exp)),))
        if isinstance(err, cv_errors.NotYetValidError):
            vf = getattr(err, "valid_from", None)
            return CertResult(I.TOTAL_FAILED, S.NOT_YET_VALID, chain=chain, path=built,
                              findings=(Finding.of("cert_not_yet_valid", time=_fmt_time(vf)),))
        if isinstance(err, cv_errors.DisallowedAlgorithmError):
            weak = _weak_in_path(built)
            notes: list[Finding] = []
            if built is not None and len(chain) > 1:
                notes.append(Finding.of("chain_to_anchor_ok", root=chain[-1]))
            na = cert["tbs_certificate"]["validity"]["not_after"].native
            if na < validation_time:
                notes.append(Finding.of("cert_expired_since", time=_fmt_time(na)))
            return CertResult(I.INDETERMINATE, S.CRYPTO_CONSTRAINTS_FAILURE, chain=chain, path=built,
                              findings=(weak or (Finding.of("weak_algorithm", detail=detail),))
                              + tuple(notes))
        if isinstance(err, cv_errors.InsufficientRevinfoError):
            sub = S.REVOCATION_OUT_OF_BOUNDS_NO_POE if isinstance(
                err, cv_errors.StaleRevinfoError) else S.TRY_LATER
            finding = Finding.of("revocation_unknown", detail=detail) if expired is None else \
                Finding.of("cert_expired_revinfo_missing", time=_fmt_time(expired),
                           poe=_fmt_time(poe_time), detail=detail)
            return CertResult(I.INDETERMINATE, sub, chain=chain, path=built,
                              revocation=RevocationInfo("unknown", None), findings=(finding,))
        if isinstance(err, cv_errors.InvalidCertificateError):
            return CertResult(I.INDETERMINATE, S.CHAIN_CONSTRAINTS_FAILURE, chain=chain, path=built,
                              findings=(Finding.of("chain_invalid", detail=detail),))
        return CertResult(I.INDETERMINATE, S.CERTIFICATE_CHAIN_GENERAL_FAILURE, chain=chain, path=built,
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
            return TimestampResult(None, False, None, (Finding.of("tst_malformed", detail=Foreign(str(e)[:120])),))
        tsa_name = subject_string(tsa_cert)
        findings: list[Finding] = []
        expected = expected_imprint(algo) if callable(expected_imprint) else expected_imprint
        imprint_ok = expected == imprint
        if not imprint_ok:
            findings.append(Finding.of("tst_imprint_mismatch"))
        try:
            md_algo = signer_info["digest_algorithm"]["algorithm"].native
            content_bytes = bytes(eci["content"].contents)
            digest = hashlib.new(md_algo, content_bytes).digest()
            from ground.cms_sig import SIGNATURE_VALIDATOR

            intact, valid = validate_sig_integrity(signer_info, tsa_cert, "tst_info", digest,
                                                   sig_validator=SIGNATURE_VALIDATOR)
        except Exception:
            intact, valid = False, False
        if not (intact and valid):
            findings.append(Finding.of("tst_signature_invalid"))
        findings.extend(self.check_algorithms(None, digest=algo))
        cert_res = self.validate_certificate(
            tsa_cert, other_certs=cert_info.other_certs, embedded_ocsps=embedded_ocsps,
            embedded_crls=embedded_crls, validation_time=validation_time,
            usage="time_stamping", poe_time=poe_time, claimed_time=gen_time,
            explicit_time=explicit_time,
            # The genTime is the TSA's own signed statement: a time of use only when
            # the token's signature and imprint verify.
            used_at=gen_time if (intact and valid and imprint_ok) else None)
        if not cert_res.passed:
            findings.append(Finding.of(
                "tsa_not_trusted" if cert_res.subindication is S.NO_CERTIFICATE_CHAIN_FOUND
                else "tsa_cert_unverified", detail=cert_res.findings[0]
                                       if cert_res.findings else "?"))
        ok = imprint_ok and intact and valid and cert_res.passed and not self.check_algorithms(
            None, digest=algo)
        return TimestampResult(TimestampInfo(gen_time, tsa_name, ok), imprint_ok and intact and valid,
                               cert_res, tuple(findings))


def _relevant_revinfo(path: Any, ocsps: Sequence[Any], crls: Sequence[Any],
                      fetched: "_Fetched") -> tuple[Any, ...]:
    """The OCSP responses and CRLs about certificates of ``path`` (by serial number and
    issuer): the revocation validation objects the judgement could rest on."""
    try:
        certs = list(path)
    except Exception:
        return ()
    serials = {c.serial_number for c in certs}
    issuers = {c.issuer.dump() for c in certs}
    out: list[Any] = []
    seen: set[bytes] = set()
    for r in (*ocsps, *fetched.ocsps):
        try:
            basic = r["response_bytes"]["response"].parsed["tbs_response_data"]
            ids = {single["cert_id"]["serial_number"].native for single in basic["responses"]}
        except Exception:
            continue
        if ids & serials and r.dump() not in seen:
            seen.add(r.dump())
            out.append(r)
    for cl in (*crls, *fetched.crls):
        try:
            issuer = cl.issuer.dump()
        except Exception:
            continue
        if issuer in issuers and cl.dump() not in seen:
            seen.add(cl.dump())
            out.append(cl)
    return tuple(out)


_WEAK_HASHES = frozenset({"md2", "md5", "sha1"})


def _weak_in_path(path: Any) -> tuple[Finding, ...]:
    """Which certificate of a built path is signed with a weak hash (the anchor's own
    self-signature does not count: an anchor is trusted as configured)."""
    out: list[Finding] = []
    try:
        certs = list(path)
    except Exception:
        return ()
    for c in certs[1:]:
        try:
            algo = c["signature_algorithm"].hash_algo
        except (ValueError, KeyError):
            continue
        if algo in _WEAK_HASHES:
            out.append(Finding.of("weak_algorithm_cert", subject=subject_string(c),
                                  algo=algo.upper().replace("SHA", "SHA-")))
    return tuple(out)


def _chain(path: Any) -> tuple[str, ...]:
    try:
        certs = list(path)
        return tuple(subject_string(c) for c in reversed(certs))
    except Exception:
        return ()


def _poe_code(err: Exception) -> str:
    """The message for a certificate judged valid at the POE, by why "now" failed
    (codes end in ``_ok``: informational, never a failure's reason in the report)."""
    if isinstance(err, cv_errors.ExpiredError):
        return "cert_poe_expired_ok"
    if isinstance(err, cv_errors.RevokedError):
        return "cert_poe_revoked_ok"
    return "cert_poe_revinfo_ok"


def _is_signer_revocation(err: Exception) -> bool:
    """The revocation concerns the certificate under validation itself (not a CA in its
    path, not an OCSP responder or CRL issuer checked on the side)."""
    return bool(getattr(err, "is_ee_cert", False)) and not getattr(err, "is_side_validation", False)


def _reason(err: Exception) -> str:
    r = getattr(err, "reason", None)
    try:
        return str(r.native) if r is not None and r.native is not None else "unspecified"
    except Exception:
        return "unspecified"


def _ocsp_covers(responses: Sequence[ocsp.OCSPResponse], cert: x509.Certificate) -> bool:
    serial = cert.serial_number
    for r in responses:
        meta = _ocsp_meta(r)
        if meta is not None and serial in meta[0]:
            return True
    return False
