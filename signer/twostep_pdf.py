"""PDF half of two-step signing: pyHanko's interrupted signing with the PAdES signer's settings.

:class:`TwoStepPades` *is* a :class:`signer.pades.PadesSigner` (same field
choice, appearance, role declaration, DocMDP/FieldMDP locking, order checks,
CAdES templates); it stops where the key is needed and resumes with a value:

* :meth:`prepare`: ``PdfSigner.async_digest_doc_for_signing`` writes the
  document in its final pre-signing state (placeholder for ``/Contents``) and
  gives the ``/ByteRange`` digest; the CAdES signed attributes over that
  digest (EN 319 122-1 5.2: content-type, message-digest, signing-certificate-v2,
  CMS algorithm protection, signer-attributes-v2 with the role) are the bytes
  the key signs. Everything needed later is plain data (:class:`PreparedPdf`).
* :meth:`finish`: the CMS is assembled from the same templates with the
  external value (plus the signature-time-stamp at B-T, EN 319 122-1 5.3),
  ``PdfTBSDocument.async_finish_signing`` fills the placeholder and runs the
  post-signing steps: DSS (B-LT, EN 319 142-1 5.4) and the document
  timestamp (B-LTA, 5.5).
"""
from __future__ import annotations

import asyncio
import io
from dataclasses import dataclass
from typing import Any

from pyhanko.sign.general import SigningError
from pyhanko.sign.signers.pdf_byterange import PreparedByteRangeDigest
from pyhanko.sign.signers.pdf_signer import (
    PdfTBSDocument,
    PostSignInstructions,
    PreSignValidationStatus,
)

from ground.errors import HocbaError
from ground.vocab import Level
from signer.pades import PadesSigner


@dataclass(frozen=True)
class PreparedPdf:
    """A PDF in its final pre-signing state and where its signature goes."""

    data: bytes  # the whole file, /Contents still a zero placeholder
    document_digest: bytes  # over /ByteRange
    region_start: int
    region_end: int
    tbs: bytes  # DER of the CAdES signed attributes: what the key signs

    def state(self) -> dict[str, Any]:
        return {"document_digest": self.document_digest.hex(), "region_start": self.region_start,
                "region_end": self.region_end}

    @classmethod
    def from_state(cls, data: bytes, state: dict[str, Any], tbs: bytes) -> PreparedPdf:
        return cls(data=data, document_digest=bytes.fromhex(state["document_digest"]),
                   region_start=int(state["region_start"]), region_end=int(state["region_end"]),
                   tbs=tbs)


class TwoStepPades(PadesSigner):
    """The PAdES signer, split at the key (one instance per prepare or finish call)."""

    # -- prepare -------------------------------------------------------------------------

    def prepare(self, pdf: bytes) -> PreparedPdf:
        # The PAdES signer's own setup: field, appearance, role, DocMDP/FieldMDP, order.
        writer, pdf_signer = self.pdf_signer_for(pdf)
        reserved = self._reserve()
        try:
            prepared, _tbs_doc, output = asyncio.run(
                pdf_signer.async_digest_doc_for_signing(writer, bytes_reserved=reserved))
        except SigningError as e:
            raise HocbaError("signer.twostep.pdf.prepare_failed", detail=str(e)) from None
        data = output.getvalue() if hasattr(output, "getvalue") else output.read()
        tbs = self.cms_signer.signed_attrs_der(prepared.document_digest)
        return PreparedPdf(data=bytes(data), document_digest=prepared.document_digest,
                           region_start=prepared.reserved_region_start,
                           region_end=prepared.reserved_region_end, tbs=tbs)

    # -- finish --------------------------------------------------------------------------

    async def post_sign_instructions(self) -> PostSignInstructions | None:
        """What pyHanko's signing session would hand to the post-signing step (B-LT, B-LTA).

        Rebuilt at finish time (the prepare-time objects did not survive the
        restart): the signer's validated path and the TSA's paths, with the
        revocation data the validation context fetched for them now.
        """
        if self.level.rank < Level.B_LT.rank:
            return None
        from pyhanko_certvalidator import CertificateValidator

        vc = self.ctx.validation_context
        cert = self.ctx.signer.signing_cert
        chain = [c for c in (self.ctx.signer.cert_registry or ()) if c.dump() != cert.dump()]
        validator = CertificateValidator(cert, intermediate_certs=chain, validation_context=vc)
        signer_path = await validator.async_validate_usage(set())  # type: ignore[no-untyped-call]
        ts_paths = []
        if self.timestamper is not None:
            async for p in self.timestamper.validation_paths(vc):
                ts_paths.append(p)
        status = PreSignValidationStatus(
            signer_path=signer_path, validation_paths=[signer_path, *ts_paths],
            ts_validation_paths=ts_paths, ocsps_to_embed=list(vc.ocsps),
            crls_to_embed=list(vc.crls))
        return PostSignInstructions(
            validation_info=status, timestamp_md_algorithm=self.digest,
            timestamper=self.timestamper if self.level is Level.B_LTA else None,
            embed_roots=True, strict=False)

    def finish(self, prepared: PreparedPdf, cms_value: bytes,
               instructions: PostSignInstructions | None) -> bytes:
        """Embed the CMS for ``cms_value`` (the raw signature, CMS form) and post-process."""
        return asyncio.run(self.async_finish(prepared, cms_value, instructions))

    async def async_finish(self, prepared: PreparedPdf, cms_value: bytes,
                           instructions: PostSignInstructions | None) -> bytes:
        """:meth:`finish` as a coroutine: a batch's records are finished through the
        pipeline (:func:`signer.batch.pipeline`), their timestamp requests overlapping."""
        try:
            cms_der = await self.cms_signer.build_cms(prepared.document_digest,
                                                      self.timestamper, signature=cms_value)
            out = io.BytesIO(prepared.data)
            await PdfTBSDocument.async_finish_signing(
                out, PreparedByteRangeDigest(prepared.document_digest, prepared.region_start,
                                             prepared.region_end),
                cms_der, post_sign_instr=instructions,
                validation_context=self.ctx.validation_context)
            data = out.getvalue()
        except SigningError as e:
            raise HocbaError("signer.twostep.pdf.finish_failed", detail=str(e)) from None
        if self.level is Level.B_LTA:
            data = await self._async_dss_for_doc_timestamp(data)
        return data
