"""PAdES signing of record-book PDFs (ETSI EN 319 142-1 baseline B-B to B-LTA) on pyHanko.

One :class:`PadesSigner` per batch; ``sign(pdf) -> bytes`` per file.

- Role order (subject_teacher → teacher → principal → seal): the roles already
  in the file are read (declared role, else the certificate's role); signing a
  role that must come before one present is refused and nothing is written.
- The role is declared in the signature itself: CAdES signer-attributes-v2,
  claimed attribute id-at-role (2.5.4.72) = ``urn:hocba:role:<role>`` (see
  :mod:`signer.cms`); the ``/Reason`` repeats it for people, in Vietnamese like the
  record book itself (catalog ``signer.pades.reason``: "Vai trò: Hiệu trưởng
  (role=principal)"). :func:`declared_role` reads it.
- Locking: the first signature certifies (DocMDP P=2, ISO 32000-1 12.8.2.2);
  every signature locks its own field (FieldMDP /Include [own field]).
- Field: the empty ``Sig_<role>`` field when present, else a new visible field
  at the foot of the last page in the role's position.
- Levels: B-B; B-T adds a signature-time-stamp (EN 319 142-1 5.3); B-LT adds a
  DSS with certificates, OCSP responses and CRLs for every signature in the
  file and their timestamps (5.4); B-LTA adds a document timestamp (5.5).
"""
from __future__ import annotations

import io
from datetime import datetime, timezone
from typing import Any

from asn1crypto import x509
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.fields import MDPPerm, SigSeedSubFilter
from pyhanko.sign.general import SigningError

from ground import aio
from ground.errors import HocbaError
from ground.i18n import t
from ground.roles import role_from_certificate
from ground.vocab import Level, Role, nfc
from signer.appearance import AppearanceFactory, SignerText
from ground.declared_role import pdf_declared_role
from signer.cms import TemplateSigner
from signer.context import SigningContext

# Role positions at the foot of the last page (x1, y1, x2, y2 in points) for new fields.
ROLE_BOXES: dict[Role, tuple[int, int, int, int]] = {
    Role.SUBJECT_TEACHER: (40, 150, 220, 230),
    Role.TEACHER: (40, 50, 220, 130),
    Role.PRINCIPAL: (230, 50, 410, 130),
    Role.SEAL: (425, 30, 565, 170),
}


class OrderError(HocbaError):
    """Signing now would break the role order (exit 1, file untouched). Its role fields
    are rendered as labels in the message's language."""



def missing_earlier_roles(me: Role, present: set[Role], required: Any) -> list[Role]:
    """Required roles (``[policy] required_roles``) that come before ``me`` in the signing
    order and have not signed yet (CONTRACT 4: a principal cannot sign a record the
    homeroom teacher has not signed)."""
    out = []
    for name in required:
        try:
            r = Role.parse(str(name))
        except ValueError:
            continue
        if r.rank < me.rank and r not in present:
            out.append(r)
    return sorted(out, key=lambda r: r.rank)


def order_missing_error(me: Role, missing: list[Role], year: str | None = None) -> OrderError:
    """The refusal when ``missing`` roles must sign (school year ``year``) before ``me``."""
    if year:
        return OrderError("signer.pades.order_missing_year", missing=missing, role=me, year=year)
    return OrderError("signer.pades.order_missing", missing=missing, role=me)


# -- reading roles back: the shared codec (ground.declared_role) ---------------------

declared_role = pdf_declared_role


def roles_present(reader: PdfFileReader, policy: Any) -> list[tuple[str, Role | None]]:
    """(field name, role) of every signature already in the file, in file order."""
    out: list[tuple[str, Role | None]] = []
    for sig in reader.embedded_regular_signatures:
        name = declared_role(sig)
        role: Role | None = None
        if name:
            try:
                role = Role.parse(name)
            except ValueError:
                role = None
        if role is None:
            try:
                role = role_from_certificate(sig.signer_cert, policy)
            except Exception:
                role = None
        out.append((sig.field_name, role))
    return out


# -- the signer --------------------------------------------------------------------------

def _subject_attr(cert: x509.Certificate, name: str) -> str:
    for rdn in cert.subject.chosen:
        for ava in rdn:
            if ava["type"].native == name:
                v = ava["value"].native
                if isinstance(v, str):
                    return nfc(v)
    return ""


class PadesSigner:
    """Signs PDFs for one batch; everything that does not change per file is built here."""

    def __init__(self, ctx: SigningContext) -> None:
        self.ctx = ctx
        self.role = ctx.role
        self.level = ctx.level
        digest = ctx.config.signing.digest
        self.digest = digest
        cert: x509.Certificate = ctx.signer.signing_cert
        self.cms_signer = TemplateSigner(ctx.signer, digest, ctx.role.value)
        self.text = SignerText(
            name=_subject_attr(cert, "common_name"),
            title=_subject_attr(cert, "title"),
            organization=_subject_attr(cert, "organization_name"),
            role_label=ctx.role.label("vi"),
            seal=ctx.role is Role.SEAL,
        )
        self.appearance = AppearanceFactory(self.text)
        self.timestamper = None
        if self.level.rank >= Level.B_T.rank:
            self.timestamper = ctx.timestamper
            if self.timestamper is None:
                if not ctx.config.timestamp.url:
                    raise HocbaError("signer.pades.needs_tsa")
                from signer.tsa import timestamper_for

                self.timestamper = timestamper_for(ctx.config)
        if self.level.rank >= Level.B_LT.rank and ctx.validation_context is None:
            raise HocbaError("signer.pades.needs_validation_context")
        # Part of the signed document, Vietnamese like the record book (as the stamp is).
        self.reason = t("signer.pades.reason", "vi", label=ctx.role.label("vi"),
                        role=ctx.role.value)
        self._bytes_reserved: int | None = None
        from signer.tsa import LoopLock

        self._reserve_lock = LoopLock()

    # -- size estimate, measured once per batch ------------------------------------------

    def _reserve(self) -> int:
        if self._bytes_reserved is None:
            return aio.run(self._async_reserve())
        return self._bytes_reserved

    async def _async_reserve(self) -> int:
        # One measurement per batch even when many files start together (one dummy
        # timestamp request, not one per file in flight).
        async with self._reserve_lock.get():
            if self._bytes_reserved is None:
                dummy = await self.cms_signer.build_cms(b"\0" * 64, None)
                size = len(dummy) + 64
                if self.timestamper is not None:
                    tst = await self.timestamper.async_dummy_response(self.digest)
                    size += len(tst.dump()) + 64
                # hex-encoded in /Contents: two characters per byte, plus slack
                self._bytes_reserved = 2 * size + 512
            return self._bytes_reserved

    # -- one file -----------------------------------------------------------------------

    def sign(self, pdf: bytes) -> bytes:
        return aio.run(self.async_sign(pdf))

    async def async_sign(self, pdf: bytes) -> bytes:
        """One file, as a coroutine: a batch runs many at once so that their timestamp
        requests overlap (:func:`signer.batch.pipeline`)."""
        writer, pdf_signer = await self.async_pdf_signer_for(pdf)
        reserved = await self._async_reserve()
        try:
            out = await pdf_signer.async_sign_pdf(writer, bytes_reserved=reserved)
        except SigningError as e:
            raise HocbaError("signer.pades.signing_failed", detail=str(e)) from None
        data: bytes = out.getvalue()
        if self.level is Level.B_LTA:
            data = await self._async_dss_for_doc_timestamp(data)
        return data

    def pdf_signer_for(self, pdf: bytes) -> tuple[IncrementalPdfFileWriter, signers.PdfSigner]:
        """One file's writer and configured ``PdfSigner``, every check done (order, field).

        :meth:`sign` runs it to the end; two-step signing (:mod:`signer.twostep_pdf`)
        interrupts it at the digest with the same field, appearance, role and locking.
        """
        return aio.run(self.async_pdf_signer_for(pdf))

    async def async_pdf_signer_for(self, pdf: bytes
                                   ) -> tuple[IncrementalPdfFileWriter, signers.PdfSigner]:
        try:
            writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
        except (PdfError, ValueError, KeyError, IndexError, TypeError) as e:
            raise HocbaError("signer.pades.unreadable", detail=str(e)) from None
        reader = writer.prev
        if reader.encrypted:
            raise HocbaError("signer.pades.encrypted")
        present = roles_present(reader, self.ctx.config.policy)
        self._check_order(present)
        field_name, new_spec = self._choose_field(writer, reader)
        first = not present
        if first:
            self._lock_empty_fields(writer)
        else:
            self._lock_field(writer, field_name)
        if self.level.rank >= Level.B_LT.rank and present:
            await self._add_dss_for_existing(writer, reader)
        meta = signers.PdfSignatureMetadata(
            field_name=field_name,
            md_algorithm=self.digest,
            subfilter=SigSeedSubFilter.PADES,
            reason=self.reason,
            name=self.text.name or None,
            certify=first,
            docmdp_permissions=MDPPerm.FILL_FORMS,
            embed_validation_info=self.level.rank >= Level.B_LT.rank,
            use_pades_lta=self.level is Level.B_LTA,
            validation_context=(self.ctx.validation_context
                                if self.level.rank >= Level.B_LT.rank else None),
        )
        now = datetime.now(timezone.utc)
        pdf_signer = signers.PdfSigner(meta, self.cms_signer, timestamper=self.timestamper,
                                       stamp_style=self.appearance.style(now),
                                       new_field_spec=new_spec)
        return writer, pdf_signer

    def _check_order(self, present: list[tuple[str, Role | None]]) -> None:
        me = self.role
        later = [(f, r) for f, r in present if r is not None and r.rank > me.rank]
        if later:
            field_name, first = max(later, key=lambda fr: fr[1].rank)
            raise OrderError("signer.pades.order_later", first=first, field=field_name, role=me)
        for field_name, role in present:
            if role is me and me is not Role.SUBJECT_TEACHER:
                raise OrderError("signer.pades.already_signed", role=me, field=field_name)
        missing = missing_earlier_roles(me, {r for _, r in present if r is not None},
                                        self.ctx.config.policy.required_roles)
        if missing:
            raise order_missing_error(me, missing)

    def _choose_field(self, writer: IncrementalPdfFileWriter,
                      reader: PdfFileReader) -> tuple[str, fields.SigFieldSpec | None]:
        base = f"Sig_{self.role.value}"
        existing = {name: value for name, value, _ in fields.enumerate_sig_fields(reader)}
        candidates = [base] + ([f"{base}_{i}" for i in range(2, 50)]
                               if self.role is Role.SUBJECT_TEACHER else [])
        for i, name in enumerate(candidates):
            if name in existing:
                if existing[name] is None:
                    return name, None
                continue
            box = ROLE_BOXES[self.role]
            if i:
                dx = (i % 3) * 185
                box = (box[0] + dx, box[1] + 90 * (i // 3), box[2] + dx, box[3] + 90 * (i // 3))
            last_page = int(reader.root["/Pages"]["/Count"]) - 1
            spec = fields.SigFieldSpec(
                name, on_page=last_page, box=box,
                field_mdp_spec=fields.FieldMDPSpec(fields.FieldMDPAction.INCLUDE, [name]))
            return name, spec
        raise HocbaError("signer.pades.field_signed", field=base)

    def _lock_dict(self, names: list[str]) -> generic.DictionaryObject:
        return generic.DictionaryObject({  # type: ignore[no-untyped-call]  # pyHanko: unannotated
            pdf_name("/Type"): pdf_name("/SigFieldLock"),
            pdf_name("/Action"): pdf_name("/Include"),
            pdf_name("/Fields"): generic.ArrayObject(generic.TextStringObject(n) for n in names),
        })

    def _lock_empty_fields(self, writer: IncrementalPdfFileWriter) -> None:
        # Before the first signature nothing is signed yet, so every empty
        # signature field gets its FieldMDP lock now (each locks itself).
        for name, value, ref in fields.enumerate_sig_fields(writer, filled_status=False):
            obj = ref.get_object()
            if "/Lock" not in obj:
                obj[pdf_name("/Lock")] = self._lock_dict([name])
                writer.update_container(obj)

    def _lock_field(self, writer: IncrementalPdfFileWriter, name: str) -> None:
        for fname, value, ref in fields.enumerate_sig_fields(writer, with_name=name):
            obj = ref.get_object()
            if "/Lock" not in obj:
                obj[pdf_name("/Lock")] = self._lock_dict([name])
                writer.update_container(obj)

    async def _add_dss_for_existing(self, writer: IncrementalPdfFileWriter,
                                    reader: PdfFileReader) -> None:
        """B-LT: validation data for the signatures already in the file (EN 319 142-1 5.4)."""
        from pyhanko.sign.validation.dss import DocumentSecurityStore, collect_validation_info

        vc = self.ctx.validation_context
        for sig in reader.embedded_signatures:
            try:
                paths = await collect_validation_info(sig, vc)
            except Exception as e:
                raise HocbaError("signer.pades.collect_failed", field=sig.field_name,
                                 detail=str(e)) from None
            # No VRI (sig_contents=None): an earlier B-LT signer may have written this
            # signature's VRI entry already, and rewriting a VRI entry is a change that
            # diff analysis (pyHanko's and ours) rightly treats as suspicious. The DSS's
            # top-level Certs/OCSPs/CRLs are what validators use (EN 319 142-1 5.4.2).
            DocumentSecurityStore.supply_dss_in_writer(
                writer, None, validation_context=vc, paths=paths)

    def _dss_for_doc_timestamp(self, data: bytes) -> bytes:
        return aio.run(self._async_dss_for_doc_timestamp(data))

    async def _async_dss_for_doc_timestamp(self, data: bytes) -> bytes:
        """B-LTA: add the document timestamp's own validation data after it."""
        from pyhanko.sign.validation.dss import async_add_validation_info

        reader = PdfFileReader(io.BytesIO(data), strict=False)
        ts = [s for s in reader.embedded_signatures if s.sig_object_type == "/DocTimeStamp"]
        if not ts:
            return data
        try:
            out = await async_add_validation_info(ts[-1], self.ctx.validation_context,
                                                  skip_timestamp=True)
        except Exception as e:
            raise HocbaError("signer.pades.doc_timestamp_dss_failed", detail=str(e)) from None
        return bytes(out.getvalue())


def sign_pdf(ctx: SigningContext, pdf: bytes) -> bytes:
    return PadesSigner(ctx).sign(pdf)
