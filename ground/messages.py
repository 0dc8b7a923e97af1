"""Findings and check details rendered as sentences, from the one catalog.

A finding is a message code plus arguments; its text is ``msg.<code>`` in the
translation catalog (:mod:`ground.i18n`), so the JSON report, the text report and the
web page say the same thing in the same words. Templates use ``str.format`` fields named
after the finding's arguments.
"""
from __future__ import annotations

import re

from ground import i18n
from ground.vocab import nfc

_ROLE_ARGS = frozenset({"roles", "role", "first", "second", "claimed", "actual", "declared"})


def _localise_roles(args: dict[str, str], lang: str) -> dict[str, str]:
    """Role codes in arguments ("teacher, principal") become labels in the report language."""
    from ground.vocab import Role

    out = dict(args)
    for key in _ROLE_ARGS & args.keys():
        parts = [p.strip() for p in args[key].split(",")]
        try:
            out[key] = ", ".join(Role(p).label(lang) for p in parts)
        except ValueError:
            pass  # not role codes: leave as is
    return out


def _tidy(text: str) -> str:
    """What is left of a sentence once a left-out detail is removed: no "()" or ": ."."""
    text = re.sub(r"\s*\(\s*\)", "", text)
    text = re.sub(r"\s*[:\u2014-]\s*(?=[.;)]|$)", "", text)
    return re.sub(r"\s{2,}", " ", text).strip()


def known(code: str) -> bool:
    return i18n.has("msg." + code)


def render(code: str, args: dict[str, str], lang: str = "vi") -> str:
    from ground.findings import Foreign

    lang = i18n.lang_of(lang)
    dropped = lang != "en" and any(isinstance(v, Foreign) for v in args.values())
    if dropped:
        args = {k: ("" if isinstance(v, Foreign) else v) for k, v in args.items()}
    args = _localise_roles(args, lang)
    if not known(code) and not i18n._strict():
        return nfc(code + (": " + ", ".join(f"{k}={v}" for k, v in args.items()) if args else ""))
    out = i18n.t("msg." + code, lang, **args)
    return nfc(_tidy(out) if dropped else out)
