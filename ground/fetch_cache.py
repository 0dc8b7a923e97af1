"""Revocation cache: what was fetched online, shared across files and validations.

The cache sits *inside the fetchers*: a cached OCSP response, CRL or AIA certificate is
handed to pyhanko-certvalidator exactly where a network fetch would have returned it,
and only when the validation would fetch. A verdict therefore depends on (bytes,
policy, validation time, the revocation data the CA publishes) and never on which files
the process judged before. Nothing else (no verdict, no path) is kept across
validations.

Built on pyhanko-certvalidator's public fetcher interface only (``OCSPFetcher``,
``CRLFetcher``, ``CertificateFetcher``, ``FetcherBackend``): each caching fetcher wraps
a requests-based fetcher of the same kind (composition, no private hooks).
"""
from __future__ import annotations

import threading
from collections.abc import AsyncGenerator, Iterable
from datetime import datetime, timedelta, timezone
from typing import Any

from asn1crypto import crl, ocsp, x509
from pyhanko_certvalidator.fetchers.api import (CertificateFetcher, CRLFetcher, FetcherBackend,
                                                Fetchers, FetchLimits, OCSPFetcher)
from pyhanko_certvalidator.fetchers.common_utils import FetchBudget, enumerate_delivery_point_urls
from pyhanko_certvalidator.fetchers.requests_fetchers.cert_fetch_client import (
    RequestsCertificateFetcher)
from pyhanko_certvalidator.fetchers.requests_fetchers.crl_client import RequestsCRLFetcher
from pyhanko_certvalidator.fetchers.requests_fetchers.ocsp_client import RequestsOCSPFetcher
from pyhanko_certvalidator.util import get_relevant_crl_dps, issuer_serial

NO_NEXT_UPDATE_TTL = timedelta(minutes=5)  # OCSP/CRL without nextUpdate
CERT_TTL = timedelta(hours=1)  # issuer certificates fetched through AIA caIssuers
CACHE_MAX = 20000


def ocsp_meta(resp: ocsp.OCSPResponse) -> tuple[list[int], datetime] | None:
    """(serials the response speaks about, the moment it goes stale) or None if unreadable."""
    try:
        basic = resp["response_bytes"]["response"].parsed
        single = basic["tbs_response_data"]["responses"]
        serials = [int(s["cert_id"]["serial_number"].native) for s in single]
        nu = single[0]["next_update"].native
        tu = single[0]["this_update"].native
        return serials, nu or (tu + NO_NEXT_UPDATE_TTL)
    except Exception:
        return None


def crl_expiry(c: crl.CertificateList) -> datetime | None:
    try:
        tbs = c["tbs_cert_list"]
        nu = tbs["next_update"].native
        return nu or (tbs["this_update"].native + NO_NEXT_UPDATE_TTL)  # type: ignore[no-any-return]
    except Exception:
        return None


class RevocationCache:
    """Thread-safe store of fetched OCSP responses, CRLs and AIA certificates.

    OCSP: keyed by the certificate's issuer and serial and the issuing authority (as
    certvalidator keys its own per-validation cache); CRLs: by the distribution point
    URLs (a CA's CRL serves all its certificates); certificates: by the caIssuers URLs.
    An entry lives until its nextUpdate (CRL lists: the earliest; certificates:
    :data:`CERT_TTL`). Failed fetches are never cached.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: dict[tuple[str, Any], tuple[Any, datetime]] = {}

    def get(self, kind: str, tag: Any, now: datetime | None = None) -> Any:
        now = now or datetime.now(timezone.utc)
        with self._lock:
            hit = self._items.get((kind, tag))
            if hit is None:
                return None
            if hit[1] <= now:
                del self._items[(kind, tag)]
                return None
            return hit[0]

    def put(self, kind: str, tag: Any, value: Any, now: datetime | None = None) -> None:
        now = now or datetime.now(timezone.utc)
        expiry: datetime | None
        if kind == "ocsp":
            meta = ocsp_meta(value) if isinstance(value, ocsp.OCSPResponse) else None
            expiry = meta[1] if meta else None
        elif kind == "crl":
            items = value if isinstance(value, (list, tuple)) else [value]
            times = [crl_expiry(c) if isinstance(c, crl.CertificateList) else None for c in items]
            expiry = None if not times or None in times else min(t for t in times if t)
        else:
            expiry = now + CERT_TTL
        if expiry is None or expiry <= now:
            return
        with self._lock:
            if len(self._items) >= CACHE_MAX:
                self._items.clear()
            self._items[(kind, tag)] = (value, expiry)

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)


class CachingOCSPFetcher(OCSPFetcher):
    def __init__(self, inner: OCSPFetcher, store: RevocationCache) -> None:
        self._inner, self._store = inner, store
        self._got: list[tuple[Any, ocsp.OCSPResponse]] = []

    async def fetch(self, cert: Any, authority: Any) -> ocsp.OCSPResponse:
        tag = (issuer_serial(cert), authority.hashable)
        resp = self._store.get("ocsp", tag)
        if resp is None:
            resp = await self._inner.fetch(cert, authority)
            self._store.put("ocsp", tag, resp)
        self._got.append((tag, resp))
        return resp

    def fetched_responses(self) -> Iterable[ocsp.OCSPResponse]:
        return [r for _, r in self._got]

    def fetched_responses_for_cert(self, cert: Any) -> Iterable[ocsp.OCSPResponse]:
        target = issuer_serial(cert)
        return [r for (subject, _), r in self._got if subject == target]


def _crl_urls(cert: Any, use_deltas: bool) -> tuple[str, ...]:
    try:
        return tuple(sorted(url for dp in get_relevant_crl_dps(cert, use_deltas=use_deltas)
                            for url in enumerate_delivery_point_urls(dp)))
    except Exception:  # noqa: BLE001 - no usable distribution point: nothing to share
        return ()


class CachingCRLFetcher(CRLFetcher):
    def __init__(self, inner: CRLFetcher, store: RevocationCache) -> None:
        self._inner, self._store = inner, store
        self._by_cert: dict[Any, list[crl.CertificateList]] = {}

    async def fetch(self, cert: Any, *, use_deltas: Any = True) -> Iterable[crl.CertificateList]:
        key = issuer_serial(cert)
        if key in self._by_cert:
            return self._by_cert[key]
        urls = _crl_urls(cert, bool(use_deltas))
        tag = (urls, bool(use_deltas))
        hit = self._store.get("crl", tag) if urls else None
        if hit is not None:
            results = list(hit)
        else:
            results = list(await self._inner.fetch(cert, use_deltas=use_deltas))
            if urls and results:
                self._store.put("crl", tag, tuple(results))
        self._by_cert[key] = results
        return results

    def fetched_crls(self) -> Iterable[crl.CertificateList]:
        seen: dict[bytes, crl.CertificateList] = {}
        for lst in self._by_cert.values():
            for c in lst:
                seen.setdefault(c.dump(), c)
        return list(seen.values())

    def fetched_crls_for_cert(self, cert: Any) -> Iterable[crl.CertificateList]:
        return self._by_cert[issuer_serial(cert)]


def _ca_issuer_urls(cert: Any) -> tuple[str, ...]:
    try:
        aia = cert.authority_information_access_value
        if aia is None:
            return ()
        return tuple(sorted(str(ad["access_location"].native) for ad in aia
                            if ad["access_method"].native == "ca_issuers"))
    except Exception:  # noqa: BLE001
        return ()


class CachingCertificateFetcher(CertificateFetcher):
    def __init__(self, inner: CertificateFetcher, store: RevocationCache) -> None:
        self._inner, self._store = inner, store
        self._got: list[x509.Certificate] = []

    async def fetch_cert_issuers(self, cert: Any) -> AsyncGenerator[x509.Certificate, None]:
        urls = _ca_issuer_urls(cert)
        hit = self._store.get("cert", urls) if urls else None
        if hit is None:
            hit = []
            async for c in self._inner.fetch_cert_issuers(cert):
                hit.append(c)
            if urls and hit:
                self._store.put("cert", urls, tuple(hit))
        for c in hit:
            self._got.append(c)
            yield c

    async def fetch_crl_issuers(self, certificate_list: Any) -> AsyncGenerator[x509.Certificate, None]:
        async for c in self._inner.fetch_crl_issuers(certificate_list):
            self._got.append(c)
            yield c

    def fetched_certs(self) -> Iterable[x509.Certificate]:
        return list(self._got)


class CachingFetcherBackend(FetcherBackend):
    """pyhanko-certvalidator's requests fetchers (with a fetch budget) behind a shared
    :class:`RevocationCache`; one fresh set of fetchers per validation attempt."""

    def __init__(self, store: RevocationCache, per_request_timeout: float = 10.0) -> None:
        self.store = store
        self.per_request_timeout = per_request_timeout

    def get_fetchers(self) -> Fetchers:
        budget = FetchBudget(FetchLimits())
        to = self.per_request_timeout
        o = RequestsOCSPFetcher(per_request_timeout=to, budget=budget)
        c = RequestsCRLFetcher(per_request_timeout=to, budget=budget)  # type: ignore[no-untyped-call]
        k = RequestsCertificateFetcher(per_request_timeout=to, budget=budget)
        return Fetchers(ocsp_fetcher=CachingOCSPFetcher(o, self.store),
                        crl_fetcher=CachingCRLFetcher(c, self.store),
                        cert_fetcher=CachingCertificateFetcher(k, self.store))

    async def close(self) -> None:
        return None
