"""One error root for the whole project; the CLI maps these to exit codes once.

An error carries a catalog key and its fields, never a sentence: the text is rendered
at the edge (the CLI's language, an HTTP request's language) from :mod:`ground.i18n`.
A field may be another :class:`HocbaError` (a cause inside a message), a role or roles
(shown as their labels), a finding (rendered through ``msg.*``), a certificate name
(in words), or text written by a library (shown as written).
"""
from __future__ import annotations

from typing import Any


class HocbaError(Exception):
    """An operation failed (exit code 1). Its text is shown to the user as one line."""

    exit_code = 1

    def __init__(self, key: str, /, **fields: Any) -> None:
        super().__init__(key)
        self.key = key
        self.fields = fields

    def render(self, lang: str | None = None) -> str:
        """The message in ``lang`` (default: the command line's language)."""
        from ground import i18n

        lang = i18n.cli_lang() if lang is None else i18n.lang_of(lang)
        if not i18n.is_key(self.key):
            return self.key  # a sentence from before the catalog (tests/test_catalog.py)
        values = {k: localised(v, lang) for k, v in self.fields.items()}
        return i18n.t(self.key, lang, **values)

    def __str__(self) -> str:
        return self.render()


def localised(value: Any, lang: str) -> Any:
    """A message field in ``lang``: a role as its label, roles as their labels, a finding
    or a cause (another error) rendered without its full stop, a certificate name
    (:class:`ground.names.CertName`) in words; anything else as it is."""
    from ground.findings import Finding
    from ground.names import CertName
    from ground.vocab import Role

    if isinstance(value, (HocbaError, Finding)):
        return value.render(lang).rstrip(".")
    if isinstance(value, (Role, CertName)):
        return value.render(lang) if isinstance(value, CertName) else value.label(lang)
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, Role) for v in value):
        return ", ".join(v.label(lang) for v in value)
    return value


class UsageError(HocbaError):
    """Bad option, unreadable input or bad configuration (exit code 2)."""

    exit_code = 2


class ConfigError(UsageError):
    """The configuration file is invalid; the message names the key and the file."""
