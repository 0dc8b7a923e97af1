"""Distinguished-name comparison remembered by DER (issue 14).

asn1crypto compares names as RFC 5280 7.1 says: every attribute value goes through the
LDAP string preparation (RFC 4518: Unicode normalisation, case folding, space
handling) on *every* comparison and every ``Name.hashable``. pyHanko's ESS
signing-certificate check (``match_issuer_serial``), its certificate partitioning and
pyhanko-certvalidator's path building compare the same few names again and again,
in every signature of every file: about a sixth of a PDF's verification time.

The answers are functions of the DER encodings alone (asn1crypto parses the same bytes
into the same values), so they are remembered per process, keyed by the exact DER:

- ``NameTypeAndValue.prepped_value`` by the attribute's DER;
- ``Name.hashable`` by the name's DER;
- ``Name.__eq__`` by the pair of DER encodings (different encodings may still be
  equal names: asn1crypto's own comparison decides, once per pair).

A computation that raises is not remembered: it raises again, as before.

Certificates embedded in CMS signatures (the signer's chain, the TSA's) are the same
few in every file of a batch, yet each file's copy is parsed field by field again
(issuer, serial, extensions, public key) by pyHanko's signer identification and
everything after it. ``pyhanko.sign.general._partition_certs``, through which
``extract_certificate_info`` passes every embedded certificate, is given one parsed
:class:`~asn1crypto.x509.Certificate` per DER encoding instead, loaded from exactly
those bytes the first time (same bytes, same values; asn1crypto objects are not
mutated by the validation code, only their lazy parse caches fill). Measured on
two-signature B-T record PDFs in one process: about 1.03x per file.

The ESS signing-certificate check (``check_ess_certid``: the certificate's hash and
issuer/serial against the signed attribute's ESSCertID) is remembered by the pair of
DER encodings and the ESSCertID version: the same signer certificate and the same
attribute value in every signature a signer makes.

The tables are bounded (cleared when full). Installed once, idempotently, by
:func:`verifier.runtime.configure_process`.
"""
from __future__ import annotations

from typing import Any

from asn1crypto import x509

_MAX = 8192
_prepped: dict[bytes, str] = {}
_hashable: dict[bytes, str] = {}
_equal: dict[tuple[bytes, bytes], bool] = {}
_certs: dict[bytes, x509.Certificate] = {}
_ess: dict[tuple[type, bytes, bytes], bool] = {}


def _put(table: dict[Any, Any], key: Any, value: Any) -> None:
    if len(table) >= _MAX:
        table.clear()
    table[key] = value


def canonical_certificate(cert: Any) -> Any:
    """The process's one parsed certificate with ``cert``'s DER (``cert`` itself when it is
    not a certificate or cannot be encoded: then whoever uses it meets the problem)."""
    if not isinstance(cert, x509.Certificate):
        return cert
    try:
        der = cert.dump()
    except Exception:  # noqa: BLE001 - left as it is
        return cert
    shared = _certs.get(der)
    if shared is None:
        try:
            shared = x509.Certificate.load(der)
        except Exception:  # noqa: BLE001
            return cert
        _put(_certs, der, shared)
    return shared


def install() -> None:
    if getattr(x509.Name.__eq__, "_hocba_memo", False):
        return
    _install_certificates()
    prepped_fget = x509.NameTypeAndValue.prepped_value.fget
    hashable_fget = x509.Name.hashable.fget
    name_eq = x509.Name.__eq__

    def prepped_value(self: x509.NameTypeAndValue) -> str:
        if self._prepped is None:
            key = self.dump()
            value = _prepped.get(key)
            if value is None:
                value = prepped_fget(self)
                _put(_prepped, key, value)
            self._prepped = value
        return self._prepped  # type: ignore[no-any-return]

    def hashable(self: x509.Name) -> str:
        key = self.dump()
        value = _hashable.get(key)
        if value is None:
            value = hashable_fget(self)
            _put(_hashable, key, value)
        return value

    def eq(self: x509.Name, other: object) -> bool:
        if not isinstance(other, x509.Name):
            return name_eq(self, other)  # type: ignore[no-any-return]
        key = (self.dump(), other.dump())
        value = _equal.get(key)
        if value is None:
            value = bool(name_eq(self, other))
            _put(_equal, key, value)
        return value

    eq._hocba_memo = True  # type: ignore[attr-defined]
    x509.NameTypeAndValue.prepped_value = property(prepped_value)
    x509.Name.hashable = property(hashable)
    x509.Name.__eq__ = eq


def _install_certificates() -> None:
    from pyhanko.sign import general

    partition: Any = general._partition_certs

    def partition_certs(certs: Any, signer_info: Any) -> Any:
        return partition([canonical_certificate(c) for c in certs], signer_info)

    general._partition_certs = partition_certs

    from pyhanko.sign.validation import generic_cms

    check: Any = general.check_ess_certid

    def check_ess_certid(cert: Any, certid: Any) -> bool:
        try:
            key = (type(certid), cert.dump(), certid.dump())
        except Exception:  # noqa: BLE001 - pyHanko's own check meets the problem
            return bool(check(cert, certid))
        value = _ess.get(key)
        if value is None:
            value = bool(check(cert, certid))
            _put(_ess, key, value)
        return value

    general.check_ess_certid = check_ess_certid
    setattr(generic_cms, "check_ess_certid", check_ess_certid)  # imported there by name
