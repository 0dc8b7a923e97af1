"""The declared-role codec: the one place that writes and reads the role a signature
claims about itself (CONTRACT 8: ``claimed_role``).

* CAdES/PAdES: signer-attributes-v2 (ETSI EN 319 122-1 5.2.6.1, OID 0.4.0.19122.1.1)
  with claimedAttributes holding id-at-role (2.5.4.72) as RFC 5755 ``RoleSyntax``,
  ``roleName`` = the URI ``urn:hocba:role:<role>`` (asn1crypto/pyHanko's model);
  a PDF signature dictionary's ``/Reason`` may also say ``(role=<role>)``.
* XAdES: ``SignerRoleV2/ClaimedRoles/ClaimedRole`` text: the URI, the role name, or a
  role label in Vietnamese or English.

A declared role is only a claim: it counts when the certificate or the evidence says
the same (the verifier decides); this module only encodes and decodes it.
"""
from __future__ import annotations

import re
from typing import Any

from asn1crypto import cms, x509

from ground.i18n import LANGS
from ground.vocab import Role, nfc

ROLE_URN_PREFIX = "urn:hocba:role:"
SIGNER_ATTRIBUTES_V2 = "0.4.0.19122.1.1"
ID_AT_ROLE = "2.5.4.72"
_REASON_RE = re.compile(r"\(role=([a-z_]+)\)")


def cades_role_attribute(role: str) -> Any:
    """signer-attributes-v2 { claimedAttributes { id-at-role: RoleSyntax } } for ``role``."""
    from pyhanko.sign.ades.cades_asn1 import SignerAttributesV2

    role_syntax = cms.RoleSyntax({
        "role_name": x509.GeneralName({"uniform_resource_identifier": ROLE_URN_PREFIX + role}),
    })
    claimed = cms.AttCertAttribute({"type": "role", "values": [role_syntax]})
    return SignerAttributesV2({"claimed_attributes": [claimed]})


def role_from_signer_info(si: cms.SignerInfo) -> str | None:
    """The role claimed in a CMS SignerInfo's signer-attributes-v2, or None."""
    try:
        attrs = si["signed_attrs"]
        if not attrs:
            return None
        for attr in attrs:
            if attr["type"].dotted != SIGNER_ATTRIBUTES_V2:
                continue
            for value in attr["values"]:
                try:
                    claimed = value["claimed_attributes"]
                    if claimed.native is None:
                        continue
                    for ca in claimed:
                        if ca["type"].dotted != ID_AT_ROLE:
                            continue
                        for rs in ca["values"]:
                            name = rs["role_name"]
                            text = name.chosen.native if hasattr(name, "chosen") else name.native
                            if isinstance(text, str):
                                return strip_urn(text)
                except (ValueError, KeyError, TypeError):
                    continue
    except (ValueError, KeyError, TypeError):
        return None
    return None


def strip_urn(text: str) -> str:
    text = text.strip()
    return text[len(ROLE_URN_PREFIX):] if text.startswith(ROLE_URN_PREFIX) else text


def role_from_reason(reason: str) -> str | None:
    """``(role=<role>)`` in a PDF signature's /Reason, as hocba writes it."""
    m = _REASON_RE.search(reason)
    return m.group(1) if m else None


def _signer_info(obj: Any) -> cms.SignerInfo | None:
    if isinstance(obj, cms.SignerInfo):
        return obj
    if isinstance(obj, cms.ContentInfo):
        obj = obj["content"]
    if isinstance(obj, cms.SignedData):
        infos = obj["signer_infos"]
        return infos[0] if len(infos) else None
    si = getattr(obj, "signer_info", None)
    return si if isinstance(si, cms.SignerInfo) else None


def pdf_declared_role(signature: Any) -> str | None:
    """The role a PDF signature declares (a pyHanko ``EmbeddedPdfSignature``, or a CMS
    ``SignerInfo``/``SignedData``/``ContentInfo``): the CAdES claimed role first, then
    ``(role=...)`` in the signature dictionary's /Reason. Pure; no validation."""
    try:
        si = _signer_info(signature)
        if si is not None:
            role = role_from_signer_info(si)
            if role:
                return role
    except Exception:  # noqa: BLE001 - malformed CMS: no declared role
        pass
    sig_obj = getattr(signature, "sig_object", None)
    if sig_obj is not None:
        try:
            return role_from_reason(str(sig_obj.get("/Reason", "")))
        except Exception:  # noqa: BLE001
            return None
    return None


def xades_claimed_role(text: str) -> str | None:
    """Our role name for a XAdES ClaimedRole ("teacher", "urn:hocba:role:teacher", or a
    role label in Vietnamese/English); None when it is not one of ours."""
    t = nfc(text.strip())
    if t.lower().startswith(ROLE_URN_PREFIX):
        t = t[len(ROLE_URN_PREFIX):]
    try:
        return Role.parse(t).value
    except ValueError:
        pass
    for lang in LANGS:
        for role in Role:
            if t.casefold() == role.label(lang).casefold():
                return role.value
    return None
