"""The one translation catalog: every user-facing text of hocba, in Vietnamese and English.

The texts live in gettext catalogs (``ground/locale/<lang>/LC_MESSAGES/hocba.po``,
compiled to ``.mo`` with Babel: ``make catalog``). Message ids are keys, not sentences
(``msg.all_passed``, ``ui.title``, ``cli.verify.lang``): both languages are translations,
so neither is hidden in the code, and a key that is missing in one language is caught by
``tests/test_catalog.py``. Templates use ``str.format`` fields (``{count}``), the same in
both languages. The CLI, the text/HTML/JSON reports, the signer's messages and the web
page (through Flask-Babel, same files) all read from here. Text is NFC.

Lookups never fail in production: a missing key renders as the key itself, a missing
argument leaves the template as written. With ``HOCBA_I18N_STRICT=1`` (set by the test
suite) both raise :class:`MissingText`, so a gap fails the test that reaches it.
"""
from __future__ import annotations

import gettext
import os
import re
import string
import sys
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import cache
from pathlib import Path

LANGS: tuple[str, ...] = ("vi", "en")
DEFAULT_LANG = "vi"
DOMAIN = "hocba"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"


class MissingText(LookupError):
    """A key without a translation, or a template whose field was not given (strict mode)."""


def lang_of(value: str | None) -> str:
    """A language code as hocba uses it: "en" for English, Vietnamese otherwise."""
    return "en" if (value or "").strip().lower()[:2] == "en" else DEFAULT_LANG


_CLI_LANG: str | None = None


@contextmanager
def cli_language(argv: "Sequence[str]") -> Iterator[str]:
    """The command line's language for one run, from its own argv (``--lang`` /
    $HOCBA_LANG), while the run lasts (``hocba.cli.main``): in-process calls each get
    theirs, and none is left behind for the caller."""
    global _CLI_LANG
    previous = _CLI_LANG
    _CLI_LANG = None
    _CLI_LANG = cli_lang(list(argv))
    try:
        yield _CLI_LANG
    finally:
        _CLI_LANG = previous


def cli_lang(argv: list[str] | None = None) -> str:
    """The command line's language: ``--lang en`` on the command line, else $HOCBA_LANG,
    else Vietnamese."""
    if argv is None and _CLI_LANG is not None:
        return _CLI_LANG
    args = sys.argv[1:] if argv is None else argv
    for i, arg in enumerate(args):
        if arg == "--lang" and i + 1 < len(args):
            return lang_of(args[i + 1])
        if arg.startswith("--lang="):
            return lang_of(arg.split("=", 1)[1])
    return lang_of(os.environ.get("HOCBA_LANG"))


def _strict() -> bool:
    return os.environ.get("HOCBA_I18N_STRICT", "") not in ("", "0")


@cache
def catalog(lang: str) -> dict[str, str]:
    """All texts of one language, key -> template (read once from the compiled catalog)."""
    with open(LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.mo", "rb") as fh:
        translations = gettext.GNUTranslations(fh)
    raw: dict[object, str] = translations._catalog  # type: ignore[attr-defined]
    return {k: unicodedata.normalize("NFC", v) for k, v in raw.items()
            if isinstance(k, str) and k}


_KEY = re.compile(r"[a-z][a-z0-9_]*(\.[A-Za-z0-9_]+)+")


def is_key(text: str) -> bool:
    """Whether ``text`` has the shape of a catalog key (``cli.verify.lang``)."""
    return _KEY.fullmatch(text) is not None


def has(key: str, lang: str = DEFAULT_LANG) -> bool:
    return key in catalog(lang_of(lang))


def template(key: str, lang: str = DEFAULT_LANG) -> str:
    """The raw template of ``key`` (fields not filled)."""
    found = catalog(lang_of(lang)).get(key)
    if found is None:
        if _strict():
            raise MissingText(f"no text for {key!r} in {lang_of(lang)!r}")
        return key
    return found


def t(key: str, lang: str = DEFAULT_LANG, /, **args: object) -> str:
    """The text of ``key`` in ``lang`` with its fields filled from ``args``."""
    text = template(key, lang)
    if not args and "{" not in text:
        return text
    try:
        return text.format(**args)
    except (KeyError, IndexError, ValueError) as e:
        if _strict():
            raise MissingText(f"{key!r} ({lang_of(lang)}): field {e} not given") from None
        return text


def fields(text: str) -> set[str]:
    """The ``str.format`` field names of a template."""
    return {name.split(".")[0].split("[")[0]
            for _, name, _, _ in string.Formatter().parse(text) if name}


class Labels(Mapping[str, str]):
    """The texts of one prefix in one language, as a read-only mapping:
    ``Labels("check", "en")["roles"]`` is ``t("check.roles", "en")``. Missing keys raise
    KeyError (so ``.get(name, name)`` falls back), never render the key."""

    def __init__(self, prefix: str, lang: str = DEFAULT_LANG) -> None:
        self.prefix, self.lang = prefix + ".", lang_of(lang)

    def __getitem__(self, key: object) -> str:
        found = catalog(self.lang).get(self.prefix + str(key))
        if found is None:
            raise KeyError(key)
        return found

    def __iter__(self) -> Iterator[str]:
        n = len(self.prefix)
        return (k[n:] for k in catalog(self.lang) if k.startswith(self.prefix))

    def __len__(self) -> int:
        return sum(1 for _ in self)


def labels(prefix: str, lang: str = DEFAULT_LANG) -> Labels:
    return Labels(prefix, lang)
