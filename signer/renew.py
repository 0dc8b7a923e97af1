"""Renew the archive timestamps of long-term (B-LTA) records.

A B-LTA record stays verifiable only while the certificate of its LAST archive
timestamp's TSA is valid and its algorithms are strong (EN 319 102-1 5.6.3: the
archive timestamp is the proof of existence of everything before it). Before
that, the archive is timestamped again:

* PDF — ETSI EN 319 142-1 5.5 (B-LTA): validation data for the last document
  timestamp goes into the DSS (a fresh OCSP/CRL for its TSA chain), then a new
  document timestamp covers the whole file. pyHanko's
  ``PdfTimeStamper.update_archival_timestamp_chain`` does exactly this; it first
  validates the last timestamp (a broken chain is refused, not extended).
* XML — EN 319 132-1 5.5.2: on the last XAdES signature, a
  ``xadesv141:TimeStampValidationData`` with the certificate and revocation values
  of the previous ``ArchiveTimeStamp``'s TSA chain, then a new
  ``xadesv141:ArchiveTimeStamp`` whose input (5.5.2.2) covers everything before it,
  that validation data and the previous archive timestamp included. The previous
  archive timestamp's imprint is checked first, its TSA chain validated now.

No key and no PIN: only the TSA and the revocation services are contacted.
A :class:`Renewer` holds what a batch shares — one RFC 3161 client
(:mod:`signer.tsa`: concurrent requests, retries, checked tokens) and one
:class:`ValidationContext` (fetched OCSP responses/CRLs reused across files). Files
are renewed as coroutines through the signing batch's pipeline
(:func:`signer.batch.pipeline`), so their timestamp requests overlap, and are written
atomically like ``hocba sign``.
"""
from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import os
from pathlib import Path
from typing import Any, Callable, Sequence

from ground.config import Config
from ground.errors import HocbaError, UsageError
from signer.batch import (FileResult, async_process_item, async_process_path, detect_format,
                          pipeline, process_item, process_path)

__all__ = ["Renewer", "renew", "renew_files"]


class Renewer:
    """One TSA client and one validation context for a batch of renewals."""

    def __init__(self, config: Config) -> None:
        from signer.precheck import build_validation_context
        from signer.tsa import timestamper_for

        if not config.timestamp.url:
            raise UsageError("signer.renew.needs_tsa")
        self.config = config
        self.timestamper = timestamper_for(config)
        # Validation of the last timestamp "now" and its fresh revocation data (fetched
        # once per batch: every file of a batch shares the TSA chain).
        self.validation_context = build_validation_context(config)
        # TSA certificate fingerprint -> (certificates, OCSP responses, CRLs), per batch.
        self._tsa_values: dict[bytes, tuple[list[bytes], list[bytes], list[bytes]]] = {}

    def renew(self, data: bytes) -> tuple[str, bytes]:
        return asyncio.run(self.async_renew(data))

    async def async_renew(self, data: bytes) -> tuple[str, bytes]:
        fmt = detect_format(data)
        if fmt == "pdf":
            return fmt, await self._renew_pdf(data)
        return fmt, await self._renew_xml(data)

    def renew_item(self, name: str, data: bytes) -> FileResult:
        return process_item(name, data, self.renew)

    async def async_renew_item(self, name: str, data: bytes) -> FileResult:
        return await async_process_item(name, data, self.async_renew)

    def close(self) -> None:
        self.timestamper.close()

    # -- PAdES (EN 319 142-1 5.5) ---------------------------------------------------------

    async def _renew_pdf(self, data: bytes) -> bytes:
        from pyhanko.pdf_utils.misc import PdfError
        from pyhanko.pdf_utils.reader import PdfFileReader
        from pyhanko.sign.signers.pdf_signer import PdfTimeStamper

        try:
            reader = PdfFileReader(io.BytesIO(data), strict=False)
            if reader.encrypted:
                raise HocbaError("signer.pades.encrypted")
            sigs = reader.embedded_signatures
        except (PdfError, ValueError, KeyError, IndexError, TypeError) as e:
            raise HocbaError("signer.pades.unreadable", detail=str(e)) from None
        if not sigs:
            raise HocbaError("signer.renew.pdf_unsigned")
        if not any(s.sig_object_type == "/DocTimeStamp" for s in sigs):
            raise HocbaError("signer.renew.pdf_no_archive")
        stamper = PdfTimeStamper(self.timestamper)
        try:
            # EN 319 142-1 5.5: DSS for the last document timestamp, then a new one.
            out = await stamper.async_update_archival_timestamp_chain(
                reader, self.validation_context, in_place=False)
        except HocbaError:
            raise
        except Exception as e:
            raise HocbaError("signer.renew.pdf_failed", kind=type(e).__name__,
                             detail=str(e)) from None
        return bytes(out.getvalue())

    # -- XAdES (EN 319 132-1 5.5.2) -------------------------------------------------------

    async def _renew_xml(self, data: bytes) -> bytes:
        from lxml import etree

        from ground.xmlsafe import parse_xml
        from signer.xades import (DS_NS, EXC_C14N, XADES141_NS, XADES_NS,
                                  archive_timestamp_input)

        tree = parse_xml(data, max_depth=self.config.limits.max_xml_depth)
        root = tree.getroot()
        qp_path = (f"{{{DS_NS}}}Object/{{{XADES_NS}}}QualifyingProperties")
        sigs = [s for s in root.iter(f"{{{DS_NS}}}Signature") if s.find(qp_path) is not None]
        if not sigs:
            raise HocbaError("signer.renew.xml_unsigned")
        sig = sigs[-1]  # the last signature carries the archive timestamp chain
        usp = sig.find(f"{qp_path}/{{{XADES_NS}}}UnsignedProperties/"
                       f"{{{XADES_NS}}}UnsignedSignatureProperties")
        ats_tag = f"{{{XADES141_NS}}}ArchiveTimeStamp"
        prev = [p for p in usp if p.tag == ats_tag] if usp is not None else []
        if usp is None or not prev:
            raise HocbaError("signer.renew.xml_no_archive")
        last = prev[-1]
        cm = last.find(f"{{{DS_NS}}}CanonicalizationMethod")
        enc = last.find(f"{{{XADES_NS}}}EncapsulatedTimeStamp")
        if cm is None or cm.get("Algorithm") != EXC_C14N or enc is None:
            raise HocbaError("signer.renew.last_not_exc_c14n")
        try:
            token_der = base64.b64decode(enc.text or "", validate=True)
        except ValueError:
            raise HocbaError("signer.renew.last_not_base64") from None
        # 5.5.2.2: the previous archive timestamp must still match what it covers.
        self._check_imprint(token_der, archive_timestamp_input(sig, before=last))
        tsa = _token_signer_cert(token_der)
        if tsa is None:
            raise HocbaError("signer.renew.no_tsa_certificate")
        certs, ocsps, crls = await self._tsa_material(tsa, token_der)
        # EN 319 132-1 5.5.3 (TimeStampValidationData): the values for the previous
        # archive timestamp's TSA chain, placed right before the new archive timestamp.
        tsvd = etree.SubElement(usp, f"{{{XADES141_NS}}}TimeStampValidationData",
                                {"Id": f"{sig.get('Id')}-tsvd-{len(prev)}"},
                                nsmap={"xades141": XADES141_NS})
        cv = etree.SubElement(tsvd, f"{{{XADES_NS}}}CertificateValues")
        for der in certs:
            etree.SubElement(cv, f"{{{XADES_NS}}}EncapsulatedX509Certificate").text = _b64(der)
        rv = etree.SubElement(tsvd, f"{{{XADES_NS}}}RevocationValues")
        if crls:
            cl = etree.SubElement(rv, f"{{{XADES_NS}}}CRLValues")
            for der in crls:
                etree.SubElement(cl, f"{{{XADES_NS}}}EncapsulatedCRLValue").text = _b64(der)
        if ocsps:
            ol = etree.SubElement(rv, f"{{{XADES_NS}}}OCSPValues")
            for der in ocsps:
                etree.SubElement(ol, f"{{{XADES_NS}}}EncapsulatedOCSPValue").text = _b64(der)
        # EN 319 132-1 5.5.2: the new archive timestamp covers everything before it.
        digest = hashlib.sha256(archive_timestamp_input(sig)).digest()
        try:
            token = await self.timestamper.async_timestamp(digest, "sha256")
        except Exception as e:  # the TSA is remote: any failure is one line for the user
            # a TimestampError (ours) renders in the message's language; others as written
            raise HocbaError("signer.renew.timestamp_failed",
                             detail=e if isinstance(e, HocbaError) else str(e)) from None
        ats = etree.SubElement(usp, ats_tag, {"Id": f"{sig.get('Id')}-archts-{len(prev) + 1}"},
                               nsmap={"xades141": XADES141_NS})
        etree.SubElement(ats, f"{{{DS_NS}}}CanonicalizationMethod", Algorithm=EXC_C14N)
        etree.SubElement(ats, f"{{{XADES_NS}}}EncapsulatedTimeStamp").text = _b64(token.dump())
        return bytes(etree.tostring(tree, xml_declaration=True, encoding="UTF-8"))

    @staticmethod
    def _check_imprint(token_der: bytes, covered: bytes) -> None:
        from asn1crypto import cms

        try:
            info = cms.ContentInfo.load(token_der)["content"]["encap_content_info"]["content"].parsed
            imprint = info["message_imprint"]
            algo = imprint["hash_algorithm"]["algorithm"].native
            ok = hashlib.new(algo, covered).digest() == imprint["hashed_message"].native
        except (ValueError, KeyError, TypeError, IndexError) as e:
            raise HocbaError("signer.renew.last_unreadable", detail=str(e)) from None
        if not ok:
            raise HocbaError("signer.renew.last_mismatch")

    async def _tsa_material(self, tsa: Any, token_der: bytes
                            ) -> tuple[list[bytes], list[bytes], list[bytes]]:
        """Certificates, OCSP responses and CRLs of the TSA chain, validated now."""
        from asn1crypto import cms
        from pyhanko_certvalidator import CertificateValidator
        from pyhanko_certvalidator.errors import PathBuildingError, PathValidationError

        from signer.xades import _ocsp_about, _ocsp_certs

        fp = hashlib.sha256(tsa.dump()).digest()
        got = self._tsa_values.get(fp)
        if got is not None:
            return got
        vc = self.validation_context
        extra = [c.chosen for c in cms.ContentInfo.load(token_der)["content"]["certificates"]
                 if c.name == "certificate"]
        validator = CertificateValidator(tsa, intermediate_certs=extra, validation_context=vc)
        try:
            path = await validator.async_validate_usage(  # type: ignore[no-untyped-call]
                set(), {"time_stamping"})
        except (PathBuildingError, PathValidationError) as e:
            raise HocbaError("signer.renew.tsa_certificate_invalid", detail=str(e)) from None
        path_certs = list(path.iter_certs(include_root=True))
        certs = [c.dump() for c in path_certs]
        ocsps: list[bytes] = []
        for resp in vc.ocsps:
            if _ocsp_about(resp, path_certs):
                ocsps.append(resp.dump())
                certs.extend(c.dump() for c in _ocsp_certs(resp) if c.dump() not in certs)
        crls = [cl.dump() for cl in vc.crls if any(cl.issuer == c.subject for c in path_certs)]
        got = (certs, ocsps, crls)
        self._tsa_values[fp] = got
        return got


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _token_signer_cert(der: bytes) -> Any:
    from signer.xades import _token_signer_cert as find

    return find(der)


def renew(data: bytes, config: Config) -> bytes:
    """Renew one record's archive timestamp; returns the renewed bytes."""
    return Renewer(config).renew(data)[1]


def renew_path(renewer: Renewer, path: Path, out_dir: Path | None) -> FileResult:
    return process_path(path, out_dir, renewer.renew_item)


def renew_files(config: Config, paths: Sequence[str | os.PathLike[str]],
                out_dir: str | os.PathLike[str] | None, *,
                on_result: Callable[[FileResult], None] | None = None) -> list[FileResult]:
    """Renew ``paths`` to ``out_dir/<same name>`` (``None`` = in place, atomically)."""
    out = Path(out_dir) if out_dir is not None else None
    if out is not None and not out.is_dir():
        raise UsageError("signer.batch.out_dir_missing", path=out)
    renewer = Renewer(config)

    async def run() -> list[FileResult]:
        return await pipeline(
            [Path(p) for p in paths],
            lambda p: async_process_path(p, out, renewer.async_renew_item),
            2 * renewer.timestamper.concurrency, on_result)

    try:
        return asyncio.run(run())
    finally:
        renewer.close()

