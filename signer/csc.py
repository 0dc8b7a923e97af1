"""Remote signing through the Cloud Signature Consortium API v1 (ETSI TS 119 432), on pyHanko.

The key sits in a remote-signing service (a cloud HSM, approved on a phone).
This backend is a key holder for two-step signing (:mod:`signer.twostep`):
every record is prepared first, so all the batch's hashes are known before the
service is asked for anything. Then, per group of at most ``multisign`` hashes
(the credential's limit, CSC v1 ``credentials/info``):

1. ONE ``credentials/authorize`` call carrying all of the group's hashes (hash
   pinning, SCAL 2; one approval by the signer for the whole batch), through
   :class:`BatchAuthorizationManager` (a pyHanko ``CSCAuthorizationManager``);
2. ONE ``signatures/signHash`` call: pyHanko's ``CSCSigner`` with
   ``batch_size`` = the group size collects every hash and commits them together.

A batch within the credential's ``multisign`` is therefore signed with a single
authorisation and a single ``signHash`` call. The values then go through
``TwoStep.finish`` like any other key holder's: each checked against the
certificate before it is embedded.

``hocba sign --csc-url URL --csc-credential ID`` uses :func:`sign_files_csc`;
the OAuth2 access token comes from ``$HOCBA_CSC_TOKEN`` and an authorisation
PIN (explicit auth mode) from ``$HOCBA_PIN`` when set.
"""
from __future__ import annotations

import asyncio
import base64
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from asn1crypto import x509 as asn1_x509

from ground.config import Config
from ground.errors import HocbaError, UsageError
from ground.i18n import cli_lang, t
from ground.vocab import Level, Role
from signer.twostep import FinishedBatch, PreparedBatch, TwoStep

TOKEN_ENV = "HOCBA_CSC_TOKEN"


@dataclass(frozen=True)
class CscSource:
    """Where the remote key is: service base URL (before ``/csc/v1``) and credential id."""

    url: str
    credential_id: str
    token: str | None = None  # OAuth2 bearer token for the service
    pin: str | None = None  # credentials/authorize PIN (explicit authMode)
    otp: str | None = None
    timeout: int = 300

    def describe(self) -> str:
        return f"CSC {self.url} credential {self.credential_id!r}"


@dataclass
class CscStats:
    """How many calls a batch took (the point is: one of each per ``multisign`` hashes)."""

    authorizations: int = 0
    sign_hash_calls: int = 0
    signatures: int = 0
    groups: list[int] = field(default_factory=list)


def _session_info(source: CscSource) -> Any:
    from pyhanko.sign.signers.csc_signer import CSCServiceSessionInfo

    return CSCServiceSessionInfo(service_url=source.url.rstrip("/"),
                                 credential_id=source.credential_id, oauth_token=source.token)


def _make_auth_manager() -> type:
    from pyhanko.sign.general import SigningError
    from pyhanko.sign.signers.csc_signer import CSCAuthorizationInfo, CSCAuthorizationManager

    class BatchAuthorizationManager(CSCAuthorizationManager):
        """Authorises exactly once, for exactly the hashes of one ``signHash`` batch."""

        def __init__(self, session_info: Any, credential_info: Any, http: Any,
                     source: CscSource, stats: CscStats, description: str) -> None:
            super().__init__(session_info, credential_info)
            self.http, self.source, self.stats = http, source, stats
            self.description = description
            self._used = False

        async def authorize_signature(self, hash_b64s: list[str]) -> CSCAuthorizationInfo:
            import aiohttp

            if self._used:
                raise SigningError("authorisation already used for this batch")
            self._used = True
            req = self.format_csc_auth_request(
                num_signatures=len(hash_b64s), pin=self.source.pin, otp=self.source.otp,
                hash_b64s=list(hash_b64s), description=self.description)
            url = self.csc_session_info.endpoint_url(  # type: ignore[no-untyped-call]
                "credentials/authorize")
            try:
                async with self.http.post(url, headers=self.auth_headers, json=req,
                                          raise_for_status=True,
                                          timeout=aiohttp.ClientTimeout(total=self.source.timeout)
                                          ) as resp:
                    data = await resp.json()
            except aiohttp.ClientError as e:
                raise SigningError(f"credentials/authorize failed: {e}") from e
            self.stats.authorizations += 1
            return self.parse_csc_auth_response(data)

    return BatchAuthorizationManager


async def _credential(http: Any, source: CscSource) -> Any:
    from pyhanko.sign.general import SigningError
    from pyhanko.sign.signers.csc_signer import fetch_certs_in_csc_credential

    try:
        return await fetch_certs_in_csc_credential(http, _session_info(source), timeout=30)
    except SigningError as e:
        raise HocbaError("signer.csc.credential_failed", source=source.describe(),
                         detail=str(e.__cause__ or e)) from None


def fetch_credential(source: CscSource) -> Any:
    """``credentials/info``: a pyHanko ``CSCCredentialInfo`` (certificate, chain, limits)."""
    import aiohttp

    async def run() -> Any:
        async with aiohttp.ClientSession() as http:
            return await _credential(http, source)

    return asyncio.run(run())


def fetch_certificates(source: CscSource) -> list[asn1_x509.Certificate]:
    """The credential's certificate first, then its chain."""
    cred = fetch_credential(source)
    return [cred.signing_cert, *cred.chain]


def sign_batch_csc(batch: PreparedBatch, source: CscSource, stats: CscStats | None = None,
                   credential: Any = None) -> dict[str, bytes]:
    """Sign every digest of ``batch`` remotely; {item id: raw value}."""
    import aiohttp
    from pyhanko.sign.general import SigningError
    from pyhanko.sign.signers.csc_signer import CSCSigner

    stats = stats if stats is not None else CscStats()
    auth_cls = _make_auth_manager()

    async def run() -> dict[str, bytes]:
        async with aiohttp.ClientSession() as http:
            cred = credential if credential is not None else await _credential(http, source)
            if cred.signing_cert.dump() != batch.certificate:
                raise HocbaError("signer.csc.certificate_differs")
            mech = batch.mechanism()
            name = mech["algorithm"].native
            if cred.supported_mechanisms and name not in cred.supported_mechanisms:
                raise HocbaError("signer.csc.mechanism_unsupported", mechanism=name,
                                 supported=", ".join(sorted(cred.supported_mechanisms)))
            size = max(1, int(cred.max_batch_size or 1))
            items = list(batch.items)
            out: dict[str, bytes] = {}
            for start in range(0, len(items), size):
                group = items[start:start + size]
                digests = {i.digest_algorithm for i in group}
                if len(digests) != 1:
                    raise HocbaError("signer.csc.one_digest")
                # shown to the signer when approving (on a phone): the command line's language
                description = t("signer.csc.authorisation", cli_lang(), count=len(group),
                                s="" if len(group) == 1 else "s", batch=batch.batch_id)
                auth = auth_cls(_session_info(source), cred, http, source, stats, description)
                signer = CSCSigner(http, auth, sign_timeout=source.timeout,
                                   batch_size=len(group), batch_autocommit=True)
                signer._signature_mechanism = mech  # the batch's mechanism; no public setter
                try:
                    values = await asyncio.gather(*(
                        signer.async_sign_raw(i.tbs, i.digest_algorithm) for i in group))
                except SigningError as e:
                    cause = f": {e.__cause__}" if e.__cause__ else ""
                    raise HocbaError("signer.csc.signing_failed", detail=f"{e}{cause}") from None
                stats.sign_hash_calls += 1
                stats.signatures += len(values)
                stats.groups.append(len(group))
                for item, value in zip(group, values):
                    out[item.id] = bytes(value)
            return out

    return asyncio.run(run())


@dataclass(frozen=True)
class CscFileResult:
    name: str
    ok: bool
    error: str | None = None
    output: str | None = None


def sign_files_csc(paths: Sequence[Path], *, config: Config, role: Role, level: Level,
                   source: CscSource, out_dir: Path | None,
                   stats: CscStats | None = None) -> list[CscFileResult]:
    """``hocba sign`` with a CSC key: prepare all → one authorisation → signHash → finish.

    ``out_dir`` None replaces each input atomically. A record refused at any
    step is reported and never written; the others go on.
    """
    from signer.batch import atomic_write, cannot_read, cannot_write

    if out_dir is not None and not out_dir.is_dir():
        raise UsageError("signer.batch.out_dir_missing", path=out_dir)
    cred = fetch_credential(source)
    certs = [cred.signing_cert, *cred.chain]
    results: list[CscFileResult] = []
    records: list[tuple[str, bytes]] = []
    for p in paths:
        try:
            records.append((str(p), p.read_bytes()))
        except OSError as e:
            results.append(CscFileResult(str(p), False, cannot_read(str(p), e).error))
    if not records:
        return results
    with tempfile.TemporaryDirectory(prefix="hocba-csc-") as state:
        ts = TwoStep(config, state_dir=Path(state), ttl_minutes=max(
            60.0, config.twostep.batch_ttl_minutes))
        batch = ts.prepare(records, role=role, level=level, certificates=certs)
        results += [CscFileResult(r.name, False, r.error) for r in batch.refused]
        values = sign_batch_csc(batch, source, stats, credential=cred)
        done: FinishedBatch = ts.finish(batch.batch_id, values, recheck=False)
    for rec in done.records:
        if not rec.ok or rec.data is None:
            results.append(CscFileResult(rec.name, False, rec.error))
            continue
        src = Path(rec.name)
        target = src if out_dir is None else out_dir / src.name
        try:
            atomic_write(target, rec.data)
        except OSError as e:
            results.append(CscFileResult(rec.name, False, cannot_write(rec.name, target, e).error))
            continue
        results.append(CscFileResult(rec.name, True, output=str(target)))
    return results


def source_from_env(url: str, credential_id: str) -> CscSource:
    return CscSource(url=url, credential_id=credential_id, token=os.environ.get(TOKEN_ENV) or None,
                     pin=os.environ.get("HOCBA_PIN") or None)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
