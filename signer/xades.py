"""XAdES signing of XML record books (ETSI EN 319 132-1), levels B-B to B-LTA.

One :class:`XadesSigner` is built per batch from a
:class:`~signer.context.SigningContext`; :meth:`XadesSigner.sign` takes a record
book's bytes and returns them with one more ``ds:Signature`` appended as the
last child of the root. Design notes and the decisions behind them:
``docs/xades-design.md``. In short:

* Every signature references the blocks it vouches for **by Id** (identity
  block ``HocSinh`` and school-year blocks ``NamHoc``), each with an exclusive
  C14N transform -- never the whole document with an enveloped-signature
  transform, which a second signature would break (signxml issue #249).
* A new signature also references the ``ds:SignatureValue`` of every earlier
  signature over the same years: a signed proof of order (countersignature
  semantics) that does not cover the earlier signatures' unsigned properties,
  so those can still be extended to B-LT/B-LTA later.
* The signature value always comes from the batch's pyHanko ``Signer``
  (PKCS#12, PKCS#11 token or CSC remote signing).
* Signing is two halves, one implementation: :meth:`XadesSigner.prepare`
  (checks, the whole signature but its value; ``tbs`` = C14N(SignedInfo)) and
  :meth:`XadesSigner.finish` (value, then timestamps and validation data).
  ``sign`` runs both with the batch's key; two-step signing
  (:mod:`signer.twostep`) runs them on either side of a remote key holder.
"""
from __future__ import annotations

import asyncio
import base64
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Iterable, Sequence

from asn1crypto import algos, cms, crl, keys, ocsp, tsp
from asn1crypto import x509 as asn1_x509
from lxml import etree

from signer.pades import OrderError, missing_earlier_roles
from ground.errors import HocbaError, UsageError
from ground.i18n import cli_lang, lang_of, t
from ground.names import CertName
from ground.vocab import RECORD_NS, Level, Role
from ground.xmlsafe import parse_xml
from signer.context import SigningContext
from signer.keys import pss_mechanism

# --- Namespaces and algorithm identifiers -------------------------------------------------

DS_NS = "http://www.w3.org/2000/09/xmldsig#"
XADES_NS = "http://uri.etsi.org/01903/v1.3.2#"
XADES141_NS = "http://uri.etsi.org/01903/v1.4.1#"
NSMAP = {"ds": DS_NS, "xades": XADES_NS}

EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
SIGNED_PROPERTIES_TYPE = "http://uri.etsi.org/01903#SignedProperties"

DIGEST_URIS: dict[str, str] = {
    "sha256": "http://www.w3.org/2001/04/xmlenc#sha256",
    "sha384": "http://www.w3.org/2001/04/xmldsig-more#sha384",
    "sha512": "http://www.w3.org/2001/04/xmlenc#sha512",
}
RSA_URIS: dict[str, str] = {
    "sha256": "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
    "sha384": "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384",
    "sha512": "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512",
}
# RFC 6931 clause 2.3.10: RSASSA-PSS "without parameters": MGF1 with the same
# hash, salt length = hash length, trailer field 1. The identifiers DSS and
# xmlsec >= 1.3 implement (see docs/xades-design.md for why not "#rsa-pss").
PSS_URIS: dict[str, str] = {
    "sha256": "http://www.w3.org/2007/05/xmldsig-more#sha256-rsa-MGF1",
    "sha384": "http://www.w3.org/2007/05/xmldsig-more#sha384-rsa-MGF1",
    "sha512": "http://www.w3.org/2007/05/xmldsig-more#sha512-rsa-MGF1",
}
ECDSA_URIS: dict[str, str] = {
    "sha256": "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256",
    "sha384": "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384",
    "sha512": "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512",
}
_HASH_LEN = {"sha256": 32, "sha384": 48, "sha512": 64}

IDENTITY_TAG = f"{{{RECORD_NS}}}HocSinh"
YEAR_TAG = f"{{{RECORD_NS}}}NamHoc"
ROOT_TAG = f"{{{RECORD_NS}}}HocBa"


def _ds(local: str) -> str:
    return f"{{{DS_NS}}}{local}"


def _xa(local: str) -> str:
    return f"{{{XADES_NS}}}{local}"


def c14n(el: etree._Element) -> bytes:
    """Exclusive XML canonicalization without comments (the only C14N used here)."""
    return bytes(etree.tostring(el, method="c14n", exclusive=True, with_comments=False))


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


class _Roles(HocbaError):
    """Role names as one field of a message, in the language the message is rendered in
    (``signer.xades.role`` per role, comma-separated). A field, never raised."""

    def __init__(self, key: str, /, **fields: Any) -> None:
        super().__init__(key, **fields)

    def render(self, lang: str | None = None) -> str:
        lang = cli_lang() if lang is None else lang_of(lang)
        roles: Sequence[Role] = self.fields["roles"]
        return ", ".join(t(self.key, lang, role=r.label(lang)) for r in roles)


def _roles(*roles: Role) -> _Roles:
    return _Roles("signer.xades.role", roles=roles)


def _both(key: str) -> str:
    """A label written into the signed document: Vietnamese, then English in parentheses
    (document content, the same whatever the user's language)."""
    return f"{t(key, 'vi')} ({t(key, 'en')})"


def _sub(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    el = etree.SubElement(parent, tag, attrs)
    if text is not None:
        el.text = text
    return el


# --- Existing signatures ------------------------------------------------------------------

@dataclass(frozen=True)
class ExistingSignature:
    """What signing needs to know about a signature already in the document."""

    id: str | None
    roles: tuple[str, ...]  # SignerRoleV2 / SignerRole claimed roles
    covered_ids: frozenset[str]  # Ids its ds:References point at
    value_id: str | None  # Id of its ds:SignatureValue (for the order reference)
    cert_digest: bytes | None  # first SigningCertificate(V2) CertDigest value

    @property
    def role(self) -> Role | None:
        for r in self.roles:
            try:
                return Role.parse(r)
            except ValueError:
                continue
        return None


def existing_signatures(root: etree._Element) -> list[ExistingSignature]:
    """The ``ds:Signature`` children of the root, in document order."""
    out = []
    for sig in root.iterchildren(_ds("Signature")):
        roles = tuple(
            (el.text or "").strip()
            for el in sig.iterfind(
                f"{_ds('Object')}/{_xa('QualifyingProperties')}/{_xa('SignedProperties')}/"
                f"{_xa('SignedSignatureProperties')}/*/{_xa('ClaimedRoles')}/{_xa('ClaimedRole')}"
            )
        )
        covered = frozenset(
            uri[1:]
            for ref in sig.iterfind(f"{_ds('SignedInfo')}/{_ds('Reference')}")
            if (uri := ref.get("URI") or "").startswith("#")
        )
        value = sig.find(_ds("SignatureValue"))
        digest_el = sig.find(
            f".//{_xa('SignedSignatureProperties')}/*/{_xa('Cert')}/{_xa('CertDigest')}/{_ds('DigestValue')}"
        )
        cert_digest = None
        if digest_el is not None and digest_el.text:
            try:
                cert_digest = base64.b64decode(digest_el.text)
            except ValueError:
                cert_digest = None
        out.append(ExistingSignature(
            id=sig.get("Id"), roles=roles, covered_ids=covered,
            value_id=value.get("Id") if value is not None else None, cert_digest=cert_digest,
        ))
    return out


# --- Record validation --------------------------------------------------------------------

def validate_record(tree: etree._ElementTree, *, rules: bool = False) -> None:
    """Refuse anything that is not a schema-valid record book (message names the element).

    Decision: this signer signs record books only. Other XML, even in the record
    namespace, is refused: a signature over an unvalidated document would lend
    the school's authority to arbitrary data. The schema check is the XSD,
    unique ``Id`` values and NFC text; ``rules`` adds :mod:`records.rules`
    (results consistent with levels and scores), which costs about twice the
    signature itself (see docs/xades-design.md).
    """
    root = tree.getroot()
    if root.tag != ROOT_TAG:
        raise HocbaError("signer.xades.not_record", root=root.tag, expected=ROOT_TAG)
    try:
        from recordbook.xmlio import RecordSchemaError, validate_tree
    except ImportError:  # pragma: no cover - only before the records package is installed
        _check_blocks(root)
        return
    try:
        validate_tree(tree, rules=rules)
    except RecordSchemaError as e:
        raise HocbaError("signer.xades.invalid_record", cause=e) from None


def _check_blocks(root: etree._Element) -> None:
    """The structure signing relies on: identity and year blocks with unique Ids."""
    seen: set[str] = set()
    for el in root.iter():
        if isinstance(el.tag, str) and (v := el.get("Id")) is not None:
            if v in seen:
                raise HocbaError("signer.xades.duplicate_id", tag=el.tag, value=v)
            seen.add(v)
    for el in [root.find(IDENTITY_TAG), *root.iterchildren(YEAR_TAG)]:
        if el is None or not el.get("Id"):
            tag = IDENTITY_TAG if el is None else el.tag
            raise HocbaError("signer.xades.missing_block", tag=tag)


# --- The signer ---------------------------------------------------------------------------

@dataclass(frozen=True)
class PreparedXml:
    """A record with its new ``ds:Signature`` complete except the value.

    ``tbs`` (to be signed) is the canonicalized ``ds:SignedInfo``; the key
    signs it with the batch's signature method. Serialize with
    :meth:`to_bytes`, restore with :meth:`from_bytes` (two-step signing keeps
    prepared records on disk between prepare and finish).
    """

    tree: etree._ElementTree
    signature_id: str
    tbs: bytes

    def signature(self) -> etree._Element:
        for sig in self.tree.getroot().iterchildren(_ds("Signature")):
            if sig.get("Id") == self.signature_id:
                return sig
        raise HocbaError("signer.xades.no_prepared_signature", id=self.signature_id)

    def to_bytes(self) -> bytes:
        return bytes(etree.tostring(self.tree, xml_declaration=True, encoding="UTF-8"))

    @classmethod
    def from_bytes(cls, data: bytes, signature_id: str, max_depth: int = 64) -> PreparedXml:
        tree = parse_xml(data, max_depth=max_depth)
        probe = cls(tree=tree, signature_id=signature_id, tbs=b"")
        signed_info = probe.signature().find(_ds("SignedInfo"))
        if signed_info is None:
            raise HocbaError("signer.xades.no_signed_info")
        return cls(tree=tree, signature_id=signature_id, tbs=c14n(signed_info))


@dataclass(frozen=True)
class _KeyMaterial:
    """Everything about the key and its certificate that is fixed for a batch."""

    cert: asn1_x509.Certificate
    key_info_certs: tuple[bytes, ...]  # DER: signer first, then its CA certificates
    digest: str
    signature_method: str
    ecdsa_len: int | None  # bytes per r/s for ECDSA signatures, else None
    signing_cert_v2: bytes  # serialized xades:SigningCertificateV2 (copied per signature)


class XadesSigner:
    """XAdES signer for record books; build once per batch, call :meth:`sign` per file.

    ``years``: sign only these school years (``schoolYear`` values such as
    ``"2025-2026"``) instead of the default scope (see :meth:`scope`).
    ``check_rules``: also refuse records that break :mod:`records.rules`.
    """

    def __init__(self, ctx: SigningContext, *, years: Sequence[str] | None = None,
                 check_rules: bool = False) -> None:
        self.check_rules = check_rules
        self.ctx = ctx
        self.role = ctx.role
        self.level = ctx.level
        self.years = tuple(years) if years else None
        self._signer = _fast_signer(ctx.signer, ctx.config.signing.rsa_padding,
                                    ctx.config.signing.digest)
        self._key = _key_material(self._signer, ctx.config.signing.digest,
                                  ctx.config.signing.rsa_padding)
        if self.level.rank >= Level.B_T.rank and ctx.timestamper is None:
            raise HocbaError("signer.xades.need_tsa", level=self.level.value)
        self._vc = ctx.validation_context
        # B-LT material gathered once per batch and per TSA certificate.
        self._lt_cache: dict[bytes, tuple[list[bytes], list[bytes], list[bytes]]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None

    # -- public API --

    def sign(self, data: bytes) -> bytes:
        """Return ``data`` with one more XAdES signature; raise HocbaError, never touching input."""
        # One event loop per batch: the validation context's fetchers keep an
        # HTTP session bound to the loop that opened it.
        if self._loop is None or self._loop.is_closed():
            self._loop = asyncio.new_event_loop()
        return self._loop.run_until_complete(self.async_sign(data))

    def close(self) -> None:
        """Release the batch's event loop (optional; also done at garbage collection)."""
        if self._loop is not None and not self._loop.is_closed():
            self._loop.close()
        self._loop = None

    async def async_sign(self, data: bytes) -> bytes:
        prepared = self.prepare(data)
        value = await self._sign_raw(prepared.tbs)
        return await self.async_finish(prepared, value)

    # -- the two halves of signing (also used by two-step signing, signer.twostep) --

    def prepare(self, data: bytes) -> PreparedXml:
        """Every check and the whole ``ds:Signature`` except its value (no key needed).

        The returned :attr:`PreparedXml.tbs` is what the key signs: the
        canonicalized ``ds:SignedInfo`` (XMLDSig core 3.1.2).
        """
        tree = parse_xml(data, max_depth=self.ctx.config.limits.max_xml_depth)
        validate_record(tree, rules=self.check_rules)
        root = tree.getroot()
        existing = existing_signatures(root)
        if len(existing) >= self.ctx.config.limits.max_signatures:
            raise HocbaError("signer.xades.too_many", count=len(existing))
        years = self.scope(root, existing)
        self._check_order(root, existing, years)
        sig = self._build_signature(root, existing, years)
        signed_info = sig.find(_ds("SignedInfo"))
        assert signed_info is not None
        return PreparedXml(tree=tree, signature_id=str(sig.get("Id")), tbs=c14n(signed_info))

    async def async_finish(self, prepared: PreparedXml, value: bytes) -> bytes:
        """Insert the signature value (XMLDSig form), then B-T/B-LT/B-LTA properties."""
        sig = prepared.signature()
        value_el = sig.find(_ds("SignatureValue"))
        assert value_el is not None
        value_el.text = _b64(value)
        if self.level.rank >= Level.B_T.rank:
            await self._add_signature_timestamp(sig)
        if self.level.rank >= Level.B_LT.rank:
            await self._add_lt_values(sig)
        if self.level.rank >= Level.B_LTA.rank:
            await self._add_archive_timestamp(sig)
        return bytes(etree.tostring(prepared.tree, xml_declaration=True, encoding="UTF-8"))

    def finish(self, prepared: PreparedXml, value: bytes) -> bytes:
        if self._loop is None or self._loop.is_closed():
            self._loop = asyncio.new_event_loop()
        return self._loop.run_until_complete(self.async_finish(prepared, value))

    def xmldsig_value(self, raw: bytes) -> bytes:
        """A raw value as a key returns it, in XMLDSig form (ECDSA: DER or r||s → r||s)."""
        n = self._key.ecdsa_len
        if n is None:
            return bytes(raw)
        if len(raw) == 2 * n:
            return bytes(raw)
        # XMLDSig 1.1 clause 6.4.3: ECDSA values are r || s, not DER.
        dss = algos.DSASignature.load(raw)
        return int(dss["r"].native).to_bytes(n, "big") + int(dss["s"].native).to_bytes(n, "big")

    def scope(self, root: etree._Element, existing: list[ExistingSignature]) -> list[etree._Element]:
        """The year blocks this signature covers (the identity block is always covered).

        Default: every year block not yet signed by this role -- so the homeroom
        teacher of grade 2 signs the new year without re-signing grade 1 (which
        the principal may already have signed). Subject teachers are several
        people in one role: for them "this role" means "this certificate".
        """
        blocks = list(root.iterchildren(YEAR_TAG))
        if self.years is not None:
            chosen = [b for b in blocks if b.get("schoolYear") in self.years]
            missing = set(self.years) - {b.get("schoolYear") for b in chosen}
            if missing:
                raise HocbaError("signer.xades.no_year", years=", ".join(sorted(missing)))
            return chosen
        mine = [s for s in existing if self._same_signer(s)]
        covered = set().union(*(s.covered_ids for s in mine)) if mine else set()
        return [b for b in blocks if b.get("Id") not in covered]

    # -- order (CONTRACT 4) --

    def _same_signer(self, s: ExistingSignature) -> bool:
        if s.role != self.role:
            return False
        if self.role is Role.SUBJECT_TEACHER:
            return s.cert_digest == hashlib.new(self._key.digest, self._key.cert.dump()).digest()
        return True

    def _check_order(self, root: etree._Element, existing: list[ExistingSignature],
                     years: list[etree._Element]) -> None:
        later = [s for s in existing if s.role is not None and s.role.rank > self.role.rank]
        ids = {b.get("Id") for b in years}
        for s in later:
            hit = s.covered_ids & ids
            if hit:
                assert s.role is not None
                raise HocbaError("signer.xades.order_later", me=_roles(self.role),
                                 later=_roles(s.role), blocks=", ".join(sorted(hit)))
        required = self.ctx.config.policy.required_roles
        for block in years:
            have = {s.role for s in existing if s.role is not None
                    and block.get("Id") in s.covered_ids}
            missing = missing_earlier_roles(self.role, have, required)
            if missing:
                raise OrderError("signer.xades.order_missing", me=_roles(self.role),
                                 missing=_roles(*missing),
                                 year=block.get("schoolYear") or block.get("Id"))
        if not years:
            if later:
                s = later[0]
                assert s.role is not None
                raise HocbaError("signer.xades.order_signed", me=_roles(self.role),
                                 later=_roles(s.role))
            raise HocbaError("signer.xades.all_signed", me=_roles(self.role))

    # -- B-B: ds:Signature with XAdES SignedProperties (EN 319 132-1 clauses 4, 5.2) --

    def _build_signature(self, root: etree._Element, existing: list[ExistingSignature],
                         years: list[etree._Element]) -> etree._Element:
        key = self._key
        used = {str(v) for v in root.xpath("//@Id")}
        sid = _fresh_id(f"sig-{self.role.value}", used)
        identity = root.find(IDENTITY_TAG)
        if identity is None or not identity.get("Id"):
            raise HocbaError("signer.xades.no_identity")
        # DataObjectFormat descriptions: document content, bilingual whatever the user's language.
        year_vi, year_en = t("signer.xades.doc.year", "vi"), t("signer.xades.doc.year", "en")
        targets: list[tuple[etree._Element, str]] = [
            (identity, _both("signer.xades.doc.identity")),
            *((y, f"{year_vi} {y.get('schoolYear')} ({year_en})") for y in years),
        ]
        # Order proof: the SignatureValue of each earlier signature over these years.
        year_ids = {y.get("Id") for y in years}
        for s in existing:
            if s.value_id and s.covered_ids & year_ids:
                el = _by_id(root, s.value_id)
                targets.append((el, f"{t('signer.xades.doc.earlier', 'vi')} "
                                    f"({s.roles[0] if s.roles else '?'}) "
                                    f"({t('signer.xades.doc.earlier', 'en')})"))

        sk = signature_skeleton(root, sid, key)
        sig, signed_info, sp, ssp = sk.sig, sk.signed_info, sk.signed_props, sk.ssp
        ssp.append(etree.fromstring(key.signing_cert_v2))
        role_el = _sub(ssp, _xa("SignerRoleV2"))
        claimed = _sub(role_el, _xa("ClaimedRoles"))
        _sub(claimed, _xa("ClaimedRole"), self.role.value)
        sdop = _sub(sp, _xa("SignedDataObjectProperties"))

        for i, (el, description) in enumerate(targets):
            ref_id = f"{sid}-ref-{i}"
            self._reference(signed_info, el, Id=ref_id, URI=f"#{el.get('Id')}")
            dof = _sub(sdop, _xa("DataObjectFormat"), ObjectReference=f"#{ref_id}")
            _sub(dof, _xa("Description"), description)
            _sub(dof, _xa("MimeType"), "text/xml")
        # SignedProperties last: its DataObjectFormats are complete now.
        self._reference(signed_info, sp, Type=SIGNED_PROPERTIES_TYPE, URI=f"#{sp.get('Id')}")
        # ds:SignatureValue stays empty until the key has signed (see prepare/finish).
        return sig

    def _reference(self, signed_info: etree._Element, target: etree._Element, **attrs: str) -> None:
        ref = _sub(signed_info, _ds("Reference"), **attrs)
        transforms = _sub(ref, _ds("Transforms"))
        _sub(transforms, _ds("Transform"), Algorithm=EXC_C14N)
        _sub(ref, _ds("DigestMethod"), Algorithm=DIGEST_URIS[self._key.digest])
        _sub(ref, _ds("DigestValue"), _b64(hashlib.new(self._key.digest, c14n(target)).digest()))

    async def _sign_raw(self, data: bytes) -> bytes:
        raw = await self._signer.async_sign_raw(data, self._key.digest)
        return self.xmldsig_value(raw)

    # -- B-T: SignatureTimeStamp (EN 319 132-1 clause 5.3) --

    def _unsigned(self, sig: etree._Element) -> etree._Element:
        qp = sig.find(f"{_ds('Object')}/{_xa('QualifyingProperties')}")
        assert qp is not None
        up = qp.find(_xa("UnsignedProperties"))
        if up is None:
            up = _sub(qp, _xa("UnsignedProperties"))
        usp = up.find(_xa("UnsignedSignatureProperties"))
        if usp is None:
            usp = _sub(up, _xa("UnsignedSignatureProperties"))
        return usp

    async def _timestamp(self, data: bytes) -> cms.ContentInfo:
        digest = hashlib.sha256(data).digest()
        try:
            token: cms.ContentInfo = await self.ctx.timestamper.async_timestamp(digest, "sha256")
        except Exception as e:  # the TSA is remote: any failure is one line for the user
            raise HocbaError("signer.xades.tsa_failed",
                             cause=e if isinstance(e, HocbaError) else str(e)) from None
        return token

    async def _add_signature_timestamp(self, sig: etree._Element) -> None:
        value = sig.find(_ds("SignatureValue"))
        assert value is not None
        # Clause 5.3: the input is the ds:SignatureValue element, canonicalized
        # with the algorithm named in the timestamp container.
        token = await self._timestamp(c14n(value))
        usp = self._unsigned(sig)
        ts = _sub(usp, _xa("SignatureTimeStamp"), Id=f"{sig.get('Id')}-sigts")
        _sub(ts, _ds("CanonicalizationMethod"), Algorithm=EXC_C14N)
        _sub(ts, _xa("EncapsulatedTimeStamp"), _b64(token.dump()))

    # -- B-LT: CertificateValues and RevocationValues (EN 319 132-1 clauses 5.4.1, 5.4.2) --

    async def _add_lt_values(self, sig: etree._Element) -> None:
        # Like a PAdES DSS, the values cover every signature in the record, not only this
        # one: the earlier signers' (B-T) certificates and their timestamps' TSAs too, so
        # that B-LT/B-LTA on the last signature makes the whole record verifiable offline.
        root = sig.getroottree().getroot()
        tsa_certs = [_token_signer_cert(base64.b64decode(el.text or ""))
                     for el in root.iterfind(
                         f".//{_xa('SignatureTimeStamp')}/{_xa('EncapsulatedTimeStamp')}")]
        others: list[asn1_x509.Certificate] = []
        for el in root.iterfind(f".//{_ds('Signature')}/{_ds('KeyInfo')}//{_ds('X509Certificate')}"):
            try:
                others.append(asn1_x509.Certificate.load(base64.b64decode(el.text or "")))
            except (ValueError, TypeError):
                continue
        certs, ocsps, crls = await self._lt_material([])
        for extra in [c for c in tsa_certs if c is not None] + others:
            try:  # best effort for the others: a foreign chain must not block this signature
                more = await self._lt_material([extra])
            except HocbaError:
                continue
            for acc, items in zip((certs, ocsps, crls), more):
                acc.extend(d for d in items if d not in acc)
        in_key_info = set(self._key.key_info_certs)
        usp = self._unsigned(sig)
        cv = _sub(usp, _xa("CertificateValues"))
        for der in certs:
            if der not in in_key_info:
                _sub(cv, _xa("EncapsulatedX509Certificate"), _b64(der))
        rv = _sub(usp, _xa("RevocationValues"))
        if crls:
            crl_values = _sub(rv, _xa("CRLValues"))
            for der in crls:
                _sub(crl_values, _xa("EncapsulatedCRLValue"), _b64(der))
        if ocsps:
            ocsp_values = _sub(rv, _xa("OCSPValues"))
            for der in ocsps:
                _sub(ocsp_values, _xa("EncapsulatedOCSPValue"), _b64(der))

    async def _lt_material(
        self, tsa_certs: list[asn1_x509.Certificate]
    ) -> tuple[list[bytes], list[bytes], list[bytes]]:
        """Certificates, OCSP responses and CRLs for the signer and TSA chains (cached per batch)."""
        certs: list[bytes] = []
        ocsps: list[bytes] = []
        crls: list[bytes] = []
        for cert in [self._key.cert, *tsa_certs]:
            fp = hashlib.sha256(cert.dump()).digest()
            got = self._lt_cache.get(fp)
            if got is None:
                got = await self._collect(cert)
                self._lt_cache[fp] = got
            for acc, items in zip((certs, ocsps, crls), got):
                acc.extend(d for d in items if d not in acc)
        return certs, ocsps, crls

    async def _collect(self, cert: asn1_x509.Certificate) -> tuple[list[bytes], list[bytes], list[bytes]]:
        from pyhanko_certvalidator import CertificateValidator
        from pyhanko_certvalidator.errors import PathBuildingError, PathValidationError

        vc = self._validation_context()
        validator = CertificateValidator(
            cert, intermediate_certs=list(self._signer.cert_registry), validation_context=vc
        )
        try:
            path = await validator.async_validate_path()
        except (PathBuildingError, PathValidationError) as e:
            raise HocbaError("signer.xades.lt_data", subject=CertName.subject_of(cert),
                             detail=str(e)) from None
        certs = [c.dump() for c in path.iter_certs(include_root=True)]
        ocsps: list[bytes] = []
        crls: list[bytes] = []
        path_certs = list(path.iter_certs(include_root=True))
        for resp in vc.ocsps:
            if _ocsp_about(resp, path_certs):
                ocsps.append(resp.dump())
                for c in _ocsp_certs(resp):
                    if c.dump() not in certs:
                        certs.append(c.dump())
        for cl in vc.crls:
            if any(cl.issuer == c.subject for c in path_certs):
                crls.append(cl.dump())
        return certs, ocsps, crls

    def _validation_context(self) -> Any:
        if self._vc is None:
            from signer.precheck import build_validation_context

            try:  # the configured anchors and shipped bundles (CONTRACT 9)
                self._vc = build_validation_context(self.ctx.config, fetch=True)
            except UsageError:
                raise HocbaError("signer.xades.need_anchors") from None
        return self._vc

    # -- B-LTA: ArchiveTimeStamp (EN 319 132-1 clause 5.5.2, XAdES 1.4.1 namespace) --

    async def _add_archive_timestamp(self, sig: etree._Element) -> None:
        data = archive_timestamp_input(sig)
        token = await self._timestamp(data)
        usp = self._unsigned(sig)
        ats = etree.SubElement(usp, f"{{{XADES141_NS}}}ArchiveTimeStamp",
                               {"Id": f"{sig.get('Id')}-archts"}, nsmap={"xades141": XADES141_NS})
        _sub(ats, _ds("CanonicalizationMethod"), Algorithm=EXC_C14N)
        _sub(ats, _xa("EncapsulatedTimeStamp"), _b64(token.dump()))


# --- Helpers ------------------------------------------------------------------------------

@dataclass
class Skeleton:
    """A ``ds:Signature`` appended to ``root`` with everything but its references,
    value and signing-certificate property: SignedInfo (C14N and signature method),
    an empty SignatureValue, KeyInfo with the chain, and QualifyingProperties with
    SignedProperties/SignedSignatureProperties/SigningTime (now)."""

    sig: etree._Element
    signed_info: etree._Element
    value: etree._Element
    qualifying: etree._Element
    signed_props: etree._Element
    ssp: etree._Element


def signature_skeleton(root: etree._Element, sid: str, key: _KeyMaterial) -> Skeleton:
    sig = etree.SubElement(root, _ds("Signature"), {"Id": sid}, nsmap=NSMAP)
    sig.tail = "\n"
    signed_info = _sub(sig, _ds("SignedInfo"))
    _sub(signed_info, _ds("CanonicalizationMethod"), Algorithm=EXC_C14N)
    _sub(signed_info, _ds("SignatureMethod"), Algorithm=key.signature_method)
    value = _sub(sig, _ds("SignatureValue"), Id=f"{sid}-value")
    key_info = _sub(sig, _ds("KeyInfo"))
    x509_data = _sub(key_info, _ds("X509Data"))
    for der in key.key_info_certs:
        _sub(x509_data, _ds("X509Certificate"), _b64(der))
    obj = _sub(sig, _ds("Object"))
    qp = _sub(obj, _xa("QualifyingProperties"), Target=f"#{sid}")
    sp = _sub(qp, _xa("SignedProperties"), Id=f"{sid}-signedprops")
    ssp = _sub(sp, _xa("SignedSignatureProperties"))
    _sub(ssp, _xa("SigningTime"),
         datetime.now(timezone.utc).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ"))
    return Skeleton(sig, signed_info, value, qp, sp, ssp)


def archive_timestamp_input(sig: etree._Element, before: etree._Element | None = None) -> bytes:
    """EN 319 132-1 clause 5.5.2.2 (not-distributed case), exclusive C14N throughout.

    1. the output of each ds:Reference (all ours: exc-c14n of the element with that Id);
    2. ds:SignedInfo, ds:SignatureValue, ds:KeyInfo;
    3. the unsigned signature properties present before this ArchiveTimeStamp, in order;
    4. ds:Object elements other than the one holding the QualifyingProperties.
    """
    root = sig.getroottree().getroot()
    parts: list[bytes] = []
    for ref in sig.iterfind(f"{_ds('SignedInfo')}/{_ds('Reference')}"):
        uri = ref.get("URI") or ""
        if not uri.startswith("#"):
            raise HocbaError("signer.xades.reference_uri", uri=repr(uri))
        parts.append(c14n(_by_id(root, uri[1:])))
    for local in ("SignedInfo", "SignatureValue", "KeyInfo"):
        el = sig.find(_ds(local))
        if el is not None:
            parts.append(c14n(el))
    usp = sig.find(f"{_ds('Object')}/{_xa('QualifyingProperties')}/{_xa('UnsignedProperties')}/"
                   f"{_xa('UnsignedSignatureProperties')}")
    if usp is not None:
        for prop in usp:
            if prop is before:
                break
            if isinstance(prop.tag, str):
                parts.append(c14n(prop))
    for obj in sig.iterchildren(_ds("Object")):
        if obj.find(_xa("QualifyingProperties")) is None:
            parts.append(c14n(obj))
    return b"".join(parts)


def _by_id(root: etree._Element, value: str) -> etree._Element:
    found = [el for el in root.iter() if isinstance(el.tag, str) and el.get("Id") == value]
    if len(found) != 1:
        raise HocbaError("signer.xades.id_count", value=value, count=len(found))
    return found[0]


def _fresh_id(prefix: str, used: set[str]) -> str:
    while True:
        candidate = f"{prefix}-{secrets.token_hex(4)}"
        if candidate not in used:
            return candidate


def _token_signer_cert(der: bytes) -> asn1_x509.Certificate | None:
    try:
        sd = cms.ContentInfo.load(der)["content"]
        sid = sd["signer_infos"][0]["sid"]
        for choice in sd["certificates"]:
            c = choice.chosen
            if sid.name == "issuer_and_serial_number":
                ias = sid.chosen
                if c.issuer == ias["issuer"] and c.serial_number == ias["serial_number"].native:
                    return c
            elif c.key_identifier == sid.chosen.native:
                return c
    except (ValueError, KeyError, TypeError, IndexError):
        return None
    return None


def _ocsp_basic(resp: ocsp.OCSPResponse) -> ocsp.BasicOCSPResponse | None:
    try:
        return resp["response_bytes"]["response"].parsed
    except (KeyError, ValueError, TypeError):
        return None


def _ocsp_about(resp: ocsp.OCSPResponse, path: Iterable[asn1_x509.Certificate]) -> bool:
    basic = _ocsp_basic(resp)
    if basic is None:
        return False
    serials = {c.serial_number for c in path}
    return any(r["cert_id"]["serial_number"].native in serials
               for r in basic["tbs_response_data"]["responses"])


def _ocsp_certs(resp: ocsp.OCSPResponse) -> list[asn1_x509.Certificate]:
    basic = _ocsp_basic(resp)
    if basic is None or not basic["certs"]:
        return []
    return list(basic["certs"])


def _key_material(signer: Any, digest: str, rsa_padding: str) -> _KeyMaterial:
    cert: asn1_x509.Certificate | None = signer.signing_cert
    if cert is None:
        raise HocbaError("signer.xades.no_certificate")
    algo = cert.public_key.algorithm
    ecdsa_len = None
    if algo == "rsa":
        method = (PSS_URIS if rsa_padding == "pss" else RSA_URIS)[digest]
    elif algo == "ec":
        method = ECDSA_URIS[digest]
        ecdsa_len = (cert.public_key.bit_size + 7) // 8
    else:
        raise HocbaError("signer.xades.key_algorithm", algorithm=algo)
    chain = [cert.dump()]
    for c in signer.cert_registry:
        der = c.dump()
        if der not in chain and c.self_signed == "no":
            chain.append(der)
    return _KeyMaterial(
        cert=cert, key_info_certs=tuple(chain), digest=digest, signature_method=method,
        ecdsa_len=ecdsa_len, signing_cert_v2=_signing_certificate_v2(cert, digest),
    )


def _signing_certificate_v2(cert: asn1_x509.Certificate, digest: str) -> bytes:
    """xades:SigningCertificateV2 (EN 319 132-1 clause 5.2.2): CertDigest + IssuerSerialV2."""
    el = etree.Element(_xa("SigningCertificateV2"), nsmap=NSMAP)
    c = _sub(el, _xa("Cert"))
    cd = _sub(c, _xa("CertDigest"))
    _sub(cd, _ds("DigestMethod"), Algorithm=DIGEST_URIS[digest])
    _sub(cd, _ds("DigestValue"), _b64(hashlib.new(digest, cert.dump()).digest()))
    # IssuerSerialV2: base64 of the DER IssuerSerial of RFC 5035.
    issuer_serial = tsp.IssuerSerial({
        "issuer": [asn1_x509.GeneralName({"directory_name": cert.issuer})],
        "serial_number": cert.serial_number,
    })
    _sub(c, _xa("IssuerSerialV2"), _b64(issuer_serial.dump()))
    return bytes(etree.tostring(el))


def _fast_signer(signer: Any, rsa_padding: str, digest: str) -> Any:
    """The batch's pyHanko signer, set up for this batch's mechanism.

    For RSA with ``rsa_padding = "pss"`` the mechanism must be the one the
    XMLDSig identifier promises (MGF1 with the same hash, salt = hash length).
    pyHanko 0.38's ``SimpleSigner.sign_raw`` re-parses the PKCS#8 key on every
    call (~30 ms of RSA key checks per signature); a PKCS#12 signer is therefore
    re-wrapped once per batch in :class:`_LoadedKeySigner`, still a pyHanko
    ``SimpleSigner`` using pyHanko's mechanism selection. Token and remote
    signers are used as they are.
    """
    from pyhanko.sign.signers.pdf_cms import SimpleSigner

    cert = signer.signing_cert
    pss = rsa_padding == "pss" and cert is not None and cert.public_key.algorithm == "rsa"
    mechanism = pss_mechanism(digest) if pss else None
    if type(signer) is SimpleSigner:
        return _LoadedKeySigner(
            signing_cert=cert, signing_key=signer.signing_key,
            cert_registry=signer.cert_registry,
            signature_mechanism=mechanism or signer.signature_mechanism,
        )
    if pss:
        current = signer.get_signature_mechanism_for_digest(digest)
        if current["algorithm"].native != "rsassa_pss" or \
                current["parameters"]["salt_length"].native != _HASH_LEN[digest]:
            if signer.signature_mechanism is not None:
                raise HocbaError("signer.xades.pss_fixed")
            signer._signature_mechanism = mechanism  # pyHanko keeps it here; no public setter
    return signer


def _make_loaded_key_signer() -> type:
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
    from pyhanko_certvalidator.util import get_pyca_cryptography_hash
    from pyhanko_certvalidator.util import process_pss_params
    from pyhanko.sign.signers.pdf_cms import SimpleSigner

    class LoadedKeySigner(SimpleSigner):
        """SimpleSigner whose private key is parsed once, not per signature."""

        def __init__(self, **kw: Any) -> None:
            super().__init__(**kw)
            self._loaded = serialization.load_der_private_key(self.signing_key.dump(), password=None)

        def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
            mech = self.get_signature_mechanism_for_digest(digest_algorithm)
            name = mech.signature_algo
            key = self._loaded
            if name == "rsassa_pkcs1v15" and isinstance(key, rsa.RSAPrivateKey):
                return key.sign(data, padding.PKCS1v15(), get_pyca_cryptography_hash(digest_algorithm))
            if name == "rsassa_pss" and isinstance(key, rsa.RSAPrivateKey):
                pad, md = process_pss_params(mech["parameters"])
                return key.sign(data, pad, md)
            if name == "ecdsa" and isinstance(key, ec.EllipticCurvePrivateKey):
                return key.sign(data, ec.ECDSA(get_pyca_cryptography_hash(digest_algorithm)))
            return bytes(super().sign_raw(data, digest_algorithm))

    del hashes
    return LoadedKeySigner


class _LazyLoadedKeySigner:
    cls: type | None = None

    def __call__(self, **kw: Any) -> Any:
        if self.cls is None:
            self.cls = _make_loaded_key_signer()
        return self.cls(**kw)


_LoadedKeySigner = _LazyLoadedKeySigner()
