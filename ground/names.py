"""Certificate names as people read them, in the report's or the message's language:
``Tên: …; Chức vụ: …; Tổ chức: …`` (attribute types from the catalog, ``name_attr.*``).
Shared by the verifier's reports and the signer's refusals."""
from __future__ import annotations

from typing import Any

from ground.i18n import labels


class CertName(str):
    """A certificate's name (RFC 4514) inside a message: rendered in words, in the
    message's language, when the message is (see :func:`ground.errors.localised`)."""

    __slots__ = ()

    @classmethod
    def subject_of(cls, cert: Any) -> "CertName":
        """The subject of an asn1crypto certificate."""
        return cls(subject_string(cert))

    def render(self, lang: str) -> str:
        return display_name(self, lang)


def display_name(rfc4514: str, lang: str) -> str:
    """A certificate name for people: ``Tên: …; Chức vụ: …; Tổ chức: …`` (most specific
    first, as RFC 4514 writes it), attribute types in words; unknown types keep their
    dotted OID. A string that is not RFC 4514 is shown as it is."""
    from cryptography import x509

    attrs = labels("name_attr", lang)
    try:
        name = x509.Name.from_rfc4514_string(rfc4514)
    except (ValueError, TypeError):
        return rfc4514
    parts = []
    for rdn in reversed(list(name.rdns)):
        for attr in rdn:
            value = attr.value if isinstance(attr.value, str) else attr.value.hex()
            label = attrs.get(attr.oid.dotted_string, attr.oid.dotted_string)
            parts.append(f"{label}: {value}")
    return "; ".join(parts) or rfc4514


def common_name(rfc4514: str) -> str:
    """The CN of a name (a TSA, a CA) for a short mention; the whole name in words
    when it has none."""
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    try:
        cns = x509.Name.from_rfc4514_string(rfc4514).get_attributes_for_oid(
            NameOID.COMMON_NAME)
    except (ValueError, TypeError):
        return rfc4514
    return str(cns[0].value) if cns else display_name(rfc4514, "vi")


# Both names of a certificate by its DER: the same few certificates sign every file of a
# batch, and cryptography's RFC 4514 rendering is Python code (bounded, cleared when full).
# (subject, issuer), None where cryptography cannot render it.
_NAMES: dict[bytes, tuple[str | None, str | None]] = {}
_NAMES_MAX = 4096


def _rfc4514(cert: Any, which: int) -> str | None:
    from cryptography import x509

    try:
        der = cert.dump()
    except Exception:
        return None
    found = _NAMES.get(der)
    if found is None:
        subject = issuer = None
        try:
            parsed = x509.load_der_x509_certificate(der)
            subject = parsed.subject.rfc4514_string()
            issuer = parsed.issuer.rfc4514_string()
        except Exception:
            pass
        found = (subject, issuer)
        if len(_NAMES) >= _NAMES_MAX:
            _NAMES.clear()
        _NAMES[der] = found
    return found[which]


def subject_string(cert: Any) -> str:
    """An asn1crypto certificate's subject as RFC 4514 (asn1crypto's own English text when
    cryptography cannot read the certificate)."""
    text = _rfc4514(cert, 0)
    return text if text is not None else str(cert.subject.human_friendly)


def issuer_string(cert: Any) -> str:
    """An asn1crypto certificate's issuer as RFC 4514 (as :func:`subject_string`)."""
    text = _rfc4514(cert, 1)
    return text if text is not None else str(cert.issuer.human_friendly)
