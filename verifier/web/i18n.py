"""The web page's and the service's texts, from the one catalog (:mod:`ground.i18n`).

Keys: ``ui.*`` (page), ``error.*`` (service errors, ``detail`` of ``{"error", "detail"}``
and the page's error line; raised as :class:`verifier.web.errors.Problem` subclasses),
``reason.<SUBINDICATION>`` (plain-language reasons). Templates use Flask-Babel's
``_()`` on the same catalog.
"""
from __future__ import annotations

from ground.i18n import has, labels, t
from ground.vocab import Indication, Role, SubIndication, nfc
from verifier.text import display_name, check_label as _check_label


def megabytes(n_bytes: int | float | None) -> str:
    """A byte limit as people read it: 20, 0.5 (MB), not 0.4999990463."""
    return f"{round((n_bytes or 0) / (1024 * 1024), 2):g}"


def error_text(key: str, lang: str, **params: object) -> str:
    """An error message of :data:`ERRORS` in ``lang`` (vi unless "en"), fields filled."""
    return nfc(t("error." + key, lang, **params))


def http_text(status: int, lang: str) -> str:
    """A plain sentence for an HTTP status whose error carries no message of its own."""
    key = f"http_{status}"
    if has("error." + key):
        return error_text(key, lang)
    return error_text("http_other", lang, status=status)


def ui(lang: str) -> dict[str, str]:
    """The page's texts in ``lang`` (a mapping over the catalog's ``ui.*`` keys)."""
    return labels("ui", lang)  # type: ignore[return-value]


def verdict(indication: Indication, lang: str) -> str:
    return indication.label(lang)


def role_label(role: str | None, lang: str) -> str:
    if role is None:
        return t("ui.role_unknown", lang)
    try:
        return Role(role).label(lang)
    except ValueError:
        return role


def reason(sub: SubIndication | None, lang: str) -> str | None:
    if sub is None:
        return None
    return nfc(labels("reason", lang).get(sub.value, sub.value))


def check_label(name: str, lang: str) -> str:
    return _check_label(name, lang)


def name(rfc4514: str, lang: str) -> str:
    """A certificate name with its attribute types in words (``Chức vụ: …``)."""
    return display_name(rfc4514, lang)
