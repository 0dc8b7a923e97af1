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

A computation that raises is not remembered: it raises again, as before. The tables are
bounded (cleared when full). Installed once, idempotently, by
:func:`verifier.runtime.configure_process`.
"""
from __future__ import annotations

from typing import Any

from asn1crypto import x509

_MAX = 8192
_prepped: dict[bytes, str] = {}
_hashable: dict[bytes, str] = {}
_equal: dict[tuple[bytes, bytes], bool] = {}


def _put(table: dict[Any, Any], key: Any, value: Any) -> None:
    if len(table) >= _MAX:
        table.clear()
    table[key] = value


def install() -> None:
    if getattr(x509.Name.__eq__, "_hocba_memo", False):
        return
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
