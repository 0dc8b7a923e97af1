"""Two-step signing: prepare → the key holder signs digests → finish (issue 9).

The school system's server never touches the key. It *prepares* every record
(all checks, the signature structure, the bytes to be signed), hands the key
holder one digest per record, and *finishes* each record with the value the key
holder returns. One PIN entry or one remote approval covers the whole batch.

    from signer.twostep import TwoStep
    ts = TwoStep(config)                                  # state_dir, TTL from [twostep]
    batch = ts.prepare([("a.pdf", pdf), ("a.xml", xml)], role="principal",
                       level="B-T", certificates=[cert_pem, interm_pem])
    # batch.to_dict() → the key holder; it returns {item id: raw signature value}
    done = ts.finish(batch.batch_id, values)
    for r in done.records: r.ok, r.error, r.data

Pre-signing checks happen in :meth:`TwoStep.prepare`, before anyone is asked
for a PIN: the certificate (chain to a configured anchor, validity, revocation,
key usage, role; :func:`signer.precheck.precheck_certificate`) once for the
batch; per record the format code's own checks (record schema, role order).
:meth:`TwoStep.finish` checks the certificate's revocation status again, then
verifies every value against the certificate over exactly the prepared bytes
before embedding it: a wrong or swapped value is refused for that record only.

The digest to sign and how (``digest_algorithm``, ``signature_algorithm``):
RSA PKCS#1 v1.5 signs ``DigestInfo(digest)``; RSASSA-PSS uses MGF1 with the
same hash and a salt as long as the hash; ECDSA signs the digest (the value
may come back DER-encoded or as raw ``r || s``, as PKCS#11 returns it).
One implementation per format: :class:`signer.twostep_pdf.TwoStepPades` (the
PAdES signer on pyHanko's interrupted signing) and
:meth:`signer.xades.XadesSigner.prepare`/``finish``.
"""
from __future__ import annotations

import asyncio
import base64
import hashlib
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

from asn1crypto import algos
from asn1crypto import x509 as asn1_x509

from ground.config import Config
from ground.errors import HocbaError, UsageError
from ground.i18n import cli_lang, lang_of, t
from ground.vocab import Level, Role
from signer.batch import pipeline
from signer.context import SigningContext
from signer.twostep_store import (
    TwoStepError,
    TwoStepStore,
    iso,
    open_store,
    utcnow,
)

__all__ = ["TwoStep", "PreparedBatch", "ToSign", "Refused", "FinishedBatch", "FinishedRecord",
           "TwoStepError", "load_certificates", "signature_mechanism", "verify_value"]

FORMAT_VERSION = 1


# -- values ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class ToSign:
    """One digest for the key holder."""

    id: str
    name: str
    format: str  # "pdf" | "xml"
    digest_algorithm: str  # sha256 | sha384 | sha512
    signature_algorithm: str  # rsassa_pkcs1v15 | rsassa_pss | ecdsa
    digest: bytes
    tbs: bytes  # the data whose digest this is (for hash-and-sign keys)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "format": self.format,
                "digest_algorithm": self.digest_algorithm,
                "signature_algorithm": self.signature_algorithm,
                "digest": _b64(self.digest), "tbs": _b64(self.tbs)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ToSign:
        return cls(id=str(d["id"]), name=str(d["name"]), format=str(d["format"]),
                   digest_algorithm=str(d["digest_algorithm"]),
                   signature_algorithm=str(d["signature_algorithm"]),
                   digest=base64.b64decode(d["digest"]), tbs=base64.b64decode(d["tbs"]))


@dataclass(frozen=True)
class Refused:
    name: str
    error: str

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "error": self.error}


@dataclass(frozen=True)
class PreparedBatch:
    """What ``prepare`` returns and the key holder receives (``to_dict`` is the JSON)."""

    batch_id: str
    role: Role
    level: Level
    expires_at: str
    certificate: bytes  # DER of the signer's certificate
    signature_mechanism: bytes  # DER AlgorithmIdentifier (with PSS parameters)
    items: tuple[ToSign, ...]
    refused: tuple[Refused, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "hocba_twostep": FORMAT_VERSION,
            "batch_id": self.batch_id, "role": self.role.value, "level": self.level.value,
            "expires_at": self.expires_at,
            "signer_certificate": _b64(self.certificate),
            "signature_mechanism": _b64(self.signature_mechanism),
            "items": [i.to_dict() for i in self.items],
            "refused": [r.to_dict() for r in self.refused],
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> PreparedBatch:
        try:
            return cls(batch_id=str(d["batch_id"]), role=Role.parse(d["role"]),
                       level=Level(d["level"]), expires_at=str(d["expires_at"]),
                       certificate=base64.b64decode(d["signer_certificate"]),
                       signature_mechanism=base64.b64decode(d["signature_mechanism"]),
                       items=tuple(ToSign.from_dict(i) for i in d["items"]),
                       refused=tuple(Refused(str(r["name"]), str(r["error"]))
                                     for r in d.get("refused", ())))
        except (KeyError, TypeError, ValueError) as e:
            raise UsageError("signer.twostep.bad_batch_file", detail=str(e)) from None

    def mechanism(self) -> algos.SignedDigestAlgorithm:
        return algos.SignedDigestAlgorithm.load(self.signature_mechanism)


@dataclass(frozen=True)
class FinishedRecord:
    id: str
    name: str
    format: str
    ok: bool
    error: str | None = None
    data: bytes | None = None

    def to_dict(self, with_data: bool = True) -> dict[str, Any]:
        d: dict[str, Any] = {"id": self.id, "name": self.name, "format": self.format,
                             "ok": self.ok, "error": self.error}
        if with_data:
            d["data"] = _b64(self.data) if self.data is not None else None
        return d


@dataclass(frozen=True)
class FinishedBatch:
    batch_id: str
    records: tuple[FinishedRecord, ...]
    finished_at: str = ""

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.records)

    def to_dict(self, with_data: bool = True) -> dict[str, Any]:
        return {"batch_id": self.batch_id, "finished_at": self.finished_at,
                "signed": sum(1 for r in self.records if r.ok),
                "failed": sum(1 for r in self.records if not r.ok),
                "records": [r.to_dict(with_data) for r in self.records]}


# -- helpers -------------------------------------------------------------------------------

def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def load_certificates(blobs: Iterable[bytes | str | asn1_x509.Certificate]) -> list[asn1_x509.Certificate]:
    """PEM (bundles too), DER or base64-DER certificates, in the order given."""
    from ground.certificates import NotACertificate, parse_certificates

    out: list[asn1_x509.Certificate] = []
    for blob in blobs:
        if isinstance(blob, asn1_x509.Certificate):
            out.append(blob)
            continue
        try:
            out.extend(parse_certificates(blob))
        except NotACertificate as e:
            raise UsageError("signer.twostep.bad_certificate", detail=str(e)) from None
    if not out:
        raise UsageError("signer.twostep.no_certificate")
    return out


def signature_mechanism(cert: asn1_x509.Certificate, config: Config) -> algos.SignedDigestAlgorithm:
    """The mechanism the batch is signed with; the same choice the key sources make."""
    from signer.keys import pss_mechanism

    digest = config.signing.digest
    algo = cert.public_key.algorithm
    if algo == "rsa":
        if config.signing.rsa_padding == "pss":
            return pss_mechanism(digest)
        return algos.SignedDigestAlgorithm({"algorithm": f"{digest}_rsa"})
    if algo == "ec":
        return algos.SignedDigestAlgorithm({"algorithm": f"{digest}_ecdsa"})
    raise UsageError("signer.twostep.key_algorithm", algorithm=algo)


def _mechanism_name(mech: algos.SignedDigestAlgorithm) -> str:
    return str(mech.signature_algo)


def _ec_len(cert: asn1_x509.Certificate) -> int:
    return int(cert.public_key.bit_size + 7) // 8


def ecdsa_der(value: bytes, cert: asn1_x509.Certificate) -> bytes:
    """ECDSA value as DER (CMS form); raw ``r || s`` (PKCS#11 form) is converted."""
    n = _ec_len(cert)
    if len(value) == 2 * n and not (value[:1] == b"\x30" and len(value) == value[1] + 2):
        r, s = int.from_bytes(value[:n], "big"), int.from_bytes(value[n:], "big")
        return bytes(algos.DSASignature({"r": r, "s": s}).dump())
    return value


def verify_value(value: bytes, tbs: bytes, cert: asn1_x509.Certificate,
                 mech: algos.SignedDigestAlgorithm) -> bytes:
    """Check ``value`` signs ``tbs`` under ``cert``; return it in CMS form, else raise."""
    from cryptography.exceptions import InvalidSignature
    from pyhanko_certvalidator.sig_validate import DefaultSignatureValidator

    if cert.public_key.algorithm == "ec":
        value = ecdsa_der(value, cert)
    try:
        DefaultSignatureValidator().validate_signature(value, tbs, cert.public_key, mech)
    except (InvalidSignature, ValueError, TypeError):
        raise HocbaError("signer.twostep.value_mismatch") from None
    return value


def _external_signer(cert: asn1_x509.Certificate, chain: Sequence[asn1_x509.Certificate],
                     mech: algos.SignedDigestAlgorithm) -> Any:
    from pyhanko.sign.signers.pdf_cms import ExternalSigner
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    registry = SimpleCertificateStore()  # type: ignore[no-untyped-call]
    registry.register_multiple(list(chain))
    if cert.public_key.algorithm == "ec":
        n = _ec_len(cert)
        placeholder = algos.DSASignature({"r": (1 << (8 * n)) - 1, "s": (1 << (8 * n)) - 1}).dump()
    else:
        placeholder = bytes((cert.public_key.bit_size + 7) // 8)
    return ExternalSigner(cert, registry, signature_value=placeholder, signature_mechanism=mech)


def _timestamper(config: Config, level: Level) -> Any:
    if level.rank < Level.B_T.rank:
        return None
    if not config.timestamp.url:
        raise UsageError("signer.tsa.need_url")
    from signer.tsa import timestamper_for

    return timestamper_for(config)


def _format_of(data: bytes) -> str:
    from signer.batch import detect_format

    return detect_format(data)


# -- the service core ------------------------------------------------------------------------

@dataclass
class _Signers:
    """Per-call format signers, built on first use."""

    ctx: SigningContext
    _pdf: Any = None
    _xml: Any = None
    _instr: Any = field(default=None)
    _instr_done: bool = False

    def pdf(self) -> Any:
        if self._pdf is None:
            from signer.twostep_pdf import TwoStepPades

            self._pdf = TwoStepPades(self.ctx)
        return self._pdf

    def xml(self) -> Any:
        if self._xml is None:
            from signer.xades import XadesSigner

            self._xml = XadesSigner(self.ctx)
        return self._xml

    def close(self) -> None:
        if self._xml is not None:
            self._xml.close()


class TwoStep:
    """Prepare and finish batches; holds no key. Safe to share: no per-call state on ``self``."""

    def __init__(self, config: Config, *, state_dir: Path | None = None,
                 ttl_minutes: float | None = None,
                 clock: Callable[[], Any] = utcnow) -> None:
        self.config = config
        root = state_dir or config.twostep.state_dir
        if root is None:
            base = config.source.parent if config.source is not None else Path.cwd()
            root = base / "hocba-twostep"
        ttl = config.twostep.batch_ttl_minutes if ttl_minutes is None else ttl_minutes
        if ttl <= 0:
            raise UsageError("signer.twostep.ttl")
        # [twostep] store: the filesystem (default) or Redis shared by several instances.
        self.store: TwoStepStore = open_store(config.twostep.store, Path(root),
                                              timedelta(minutes=ttl), clock=clock)

    # -- prepare ------------------------------------------------------------------------

    def prepare(self, records: Sequence[tuple[str, bytes]], *, role: Role | str,
                level: Level | str = Level.B_T,
                certificates: Sequence[bytes | str | asn1_x509.Certificate],
                precheck: bool = True, lang: str | None = None) -> PreparedBatch:
        """Check and prepare ``records`` (name, bytes); persist; return the digests to sign.

        Raises :class:`TwoStepError` when the batch as a whole cannot go on
        (certificate refused, no record could be prepared); a record that
        fails its own checks is listed in ``refused`` and the others go on, its
        reason written in ``lang`` (the request's; default: the command line's).
        """
        lang = cli_lang() if lang is None else lang_of(lang)
        r = Role.parse(role) if isinstance(role, str) else role
        try:
            lv = Level(level) if isinstance(level, str) else level
        except ValueError:
            raise TwoStepError("signer.twostep.bad_level", status=400, value=repr(level),
                               choices=", ".join(x.value for x in Level)) from None
        if not records:
            raise TwoStepError("signer.twostep.no_records", status=400)
        if len(records) > self.config.limits.max_zip_entries:
            raise TwoStepError("signer.twostep.too_many", status=413, count=len(records),
                               limit=self.config.limits.max_zip_entries)
        certs = load_certificates(certificates)
        cert, chain = certs[0], certs[1:]
        mech = signature_mechanism(cert, self.config)
        self.store.purge_expired()
        # EN 319 102-1 / Thông tư 15/2025: the signer's certificate is checked before signing.
        vc = None
        if precheck:
            from signer.precheck import PrecheckError, precheck_certificate

            try:
                vc = precheck_certificate(cert, list(chain), r, self.config)
            except PrecheckError as e:
                raise TwoStepError("signer.twostep.certificate_refused", status=422,
                                   code="certificate_refused", cause=e) from None
        elif lv.rank >= Level.B_LT.rank:
            from signer.precheck import build_validation_context

            vc = build_validation_context(self.config, extra_certs=list(chain))
        ctx = SigningContext(signer=_external_signer(cert, chain, mech), role=r, level=lv,
                             config=self.config, timestamper=_timestamper(self.config, lv),
                             validation_context=vc)
        signers = _Signers(ctx)
        digest = self.config.signing.digest
        max_bytes = int(self.config.limits.max_file_mb * 1024 * 1024)
        items: list[ToSign] = []
        states: dict[str, bytes] = {}
        meta: list[dict[str, Any]] = []
        refused: list[Refused] = []
        try:
            for name, data in records:
                name = str(name)
                try:
                    if len(data) > max_bytes:
                        raise HocbaError("signer.twostep.file_too_large",
                                         limit=self.config.limits.max_file_mb)
                    fmt = _format_of(data)
                    item_id = str(len(items))
                    if fmt == "pdf":
                        p = signers.pdf().prepare(data)
                        tbs, state_bytes, extra = p.tbs, p.data, p.state()
                    else:
                        px = signers.xml().prepare(data)
                        tbs, state_bytes, extra = px.tbs, px.to_bytes(), {
                            "signature_id": px.signature_id}
                except HocbaError as e:
                    refused.append(Refused(name, e.render(lang)))
                    continue
                except Exception as e:  # one bad record never stops the batch
                    refused.append(Refused(name, t("signer.twostep.internal", lang,
                                                   detail=f"{type(e).__name__}: {e}")))
                    continue
                items.append(ToSign(id=item_id, name=name, format=fmt, digest_algorithm=digest,
                                    signature_algorithm=_mechanism_name(mech),
                                    digest=hashlib.new(digest, tbs).digest(), tbs=tbs))
                states[item_id] = state_bytes
                meta.append({"id": item_id, "name": name, "format": fmt,
                             "tbs": _b64(tbs), "state": extra})
        finally:
            signers.close()
        if not items:
            detail = "; ".join(f"{x.name}: {x.error}" for x in refused[:5])
            raise TwoStepError("signer.twostep.nothing_prepared", status=422,
                               code="nothing_prepared", detail=detail)
        batch_id = self.store.new_id()
        expires = iso(self.store.expires_at())
        manifest = {
            "hocba_twostep": FORMAT_VERSION, "batch_id": batch_id, "status": "prepared",
            "created_at": iso(self.store.clock()), "expires_at": expires,
            "role": r.value, "level": lv.value, "digest": digest,
            "certificates": [_b64(c.dump()) for c in certs],
            "signature_mechanism": _b64(mech.dump()),
            "items": meta, "refused": [x.to_dict() for x in refused],
        }
        self.store.create(batch_id, manifest, states)
        return PreparedBatch(batch_id=batch_id, role=r, level=lv, expires_at=expires,
                             certificate=cert.dump(), signature_mechanism=mech.dump(),
                             items=tuple(items), refused=tuple(refused))

    # -- finish -------------------------------------------------------------------------

    def finish(self, batch_id: str, values: Mapping[str, bytes], *,
               recheck: bool = True, lang: str | None = None) -> FinishedBatch:
        """Embed each value (checked first), then timestamps and validation data per level.

        A record's error is written in ``lang`` (the request's; default: the command line's).
        """
        lang = cli_lang() if lang is None else lang_of(lang)
        with self.store.claim(batch_id) as stored:
            m = stored.manifest
            certs = load_certificates(base64.b64decode(c) for c in m["certificates"])
            cert, chain = certs[0], certs[1:]
            mech = algos.SignedDigestAlgorithm.load(base64.b64decode(m["signature_mechanism"]))
            role, level = Role.parse(m["role"]), Level(m["level"])
            known = {i["id"] for i in m["items"]}
            unknown = sorted(set(values) - known)
            if unknown:
                raise TwoStepError("signer.twostep.unknown_items", status=400,
                                   items=", ".join(unknown[:5]))
            # Revocation data current at signing (Thông tư 15/2025): checked again now.
            vc = None
            if recheck:
                from signer.precheck import PrecheckError, precheck_certificate

                try:
                    vc = precheck_certificate(cert, list(chain), role, self.config)
                except PrecheckError as e:
                    raise TwoStepError("signer.twostep.certificate_refused", status=422,
                                       code="certificate_refused", cause=e) from None
            elif level.rank >= Level.B_LT.rank:
                from signer.precheck import build_validation_context

                vc = build_validation_context(self.config, extra_certs=list(chain))
            ctx = SigningContext(signer=_external_signer(cert, chain, mech), role=role,
                                 level=level, config=self.config,
                                 timestamper=_timestamper(self.config, level),
                                 validation_context=vc)
            signers = _Signers(ctx)
            outputs: dict[str, bytes] = {}

            async def run() -> list[FinishedRecord]:
                # Every record of the batch through one pipeline: their timestamp requests
                # overlap, up to [timestamp] concurrency in flight (signer.tsa).
                if any(i["format"] == "pdf" for i in m["items"]):
                    signers._instr = await signers.pdf().post_sign_instructions()
                    signers._instr_done = True
                ts = ctx.timestamper
                return await pipeline(
                    m["items"], lambda item: self._finish_one(
                        stored, item, values.get(item["id"]), cert, mech, signers, lang),
                    2 * ts.concurrency if ts is not None else 1)

            try:
                records = asyncio.run(run())
            finally:
                signers.close()
                if ctx.timestamper is not None:
                    ctx.timestamper.close()
            for rec in records:
                if rec.ok and rec.data is not None:
                    outputs[rec.id] = rec.data
            result = FinishedBatch(batch_id=batch_id, records=tuple(records),
                                   finished_at=iso(self.store.clock()))
            self.store.complete(stored, result.to_dict(with_data=False), outputs)
            return result

    async def _finish_one(self, stored: Any, item: Mapping[str, Any], value: bytes | None,
                          cert: asn1_x509.Certificate, mech: algos.SignedDigestAlgorithm,
                          signers: _Signers, lang: str) -> FinishedRecord:
        item_id, name, fmt = str(item["id"]), str(item["name"]), str(item["format"])

        def fail(msg: str) -> FinishedRecord:
            return FinishedRecord(item_id, name, fmt, False, error=msg)

        if value is None:
            return fail(t("signer.twostep.no_value", lang))
        tbs = base64.b64decode(item["tbs"])
        try:
            cms_value = verify_value(value, tbs, cert, mech)
            state = stored.item(item_id)
            if fmt == "pdf":
                from signer.twostep_pdf import PreparedPdf

                pades = signers.pdf()
                if not signers._instr_done:
                    signers._instr = await pades.post_sign_instructions()
                    signers._instr_done = True
                prepared = PreparedPdf.from_state(state, item["state"], tbs)
                data = await pades.async_finish(prepared, cms_value, signers._instr)
            else:
                from signer.xades import PreparedXml

                xades = signers.xml()
                px = PreparedXml.from_bytes(state, item["state"]["signature_id"],
                                            self.config.limits.max_xml_depth)
                if px.tbs != tbs:
                    raise HocbaError("signer.twostep.state_mismatch")
                data = await xades.async_finish(px, xades.xmldsig_value(value))
        except HocbaError as e:
            return fail(e.render(lang))
        except Exception as e:  # one bad record never stops the batch
            return fail(t("signer.twostep.internal", lang, detail=f"{type(e).__name__}: {e}"))
        return FinishedRecord(item_id, name, fmt, True, data=data)

    # -- status -------------------------------------------------------------------------

    def status(self, batch_id: str, *, with_data: bool = False) -> dict[str, Any]:
        stored = self.store.load(batch_id, allow_finished=True)
        m = stored.manifest
        out: dict[str, Any] = {
            "batch_id": batch_id, "status": m.get("status"), "role": m["role"],
            "level": m["level"], "created_at": m.get("created_at"),
            "expires_at": m["expires_at"], "finished_at": m.get("finished_at"),
            "items": [{"id": i["id"], "name": i["name"], "format": i["format"]}
                      for i in m["items"]],
            "refused": m.get("refused", []),
        }
        if m.get("status") == "finished":
            res, data = self.store.result(stored)
            if res is not None:
                recs = res.get("records", [])
                if with_data:
                    for r in recs:
                        r["data"] = _b64(data[r["id"]]) if r["id"] in data else None
                out["result"] = {**res, "records": recs}
        return out
