"""Message catalogue for findings and check details, in Vietnamese and English.

Every user-facing sentence of the verifier lives here, keyed by a code, so the
JSON report, the text report and the web page say the same thing. Templates use
``str.format`` fields named after the finding's arguments. Text is NFC.
"""
from __future__ import annotations

import re

from ground.vocab import nfc

MESSAGES: dict[str, dict[str, str]] = {
    "all_passed": {
        "vi": "Hồ sơ hợp lệ: {count} chữ ký đều hợp lệ, nội dung không bị thay đổi sau khi ký.",
        "en": "The record is valid: all {count} signatures are valid and nothing changed after signing.",
    },
    "no_signatures": {
        "vi": "Tệp không có chữ ký số nào.",
        "en": "The file carries no digital signature.",
    },
    "signature_not_passed": {
        "vi": "Chữ ký {id} không hợp lệ.",
        "en": "Signature {id} is not valid.",
    },
    "format_error": {
        "vi": "Không đọc được tệp: {detail}",
        "en": "The file cannot be read: {detail}",
    },
}


_ROLE_ARGS = frozenset({"roles", "role", "first", "second", "claimed", "actual", "declared"})


def _localise_roles(args: dict[str, str], lang: str) -> dict[str, str]:
    """Role codes in arguments ("teacher, principal") become labels in the report language."""
    from ground.vocab import ROLE_LABELS, Role

    out = dict(args)
    for key in _ROLE_ARGS & args.keys():
        parts = [p.strip() for p in args[key].split(",")]
        try:
            out[key] = ", ".join(ROLE_LABELS[lang][Role(p)] for p in parts)
        except ValueError:
            pass  # not role codes: leave as is
    return out


def _tidy(text: str) -> str:
    """What is left of a sentence once a left-out detail is removed: no "()" or ": ."."""
    text = re.sub(r"\s*\(\s*\)", "", text)
    text = re.sub(r"\s*[:\u2014-]\s*(?=[.;)]|$)", "", text)
    return re.sub(r"\s{2,}", " ", text).strip()


def render(code: str, args: dict[str, str], lang: str = "vi") -> str:
    from ground.findings import Foreign

    lang = lang if lang in ("vi", "en") else "vi"
    dropped = lang != "en" and any(isinstance(v, Foreign) for v in args.values())
    if dropped:
        args = {k: ("" if isinstance(v, Foreign) else v) for k, v in args.items()}
    args = _localise_roles(args, lang)
    entry = MESSAGES.get(code)
    if entry is None:
        return nfc(code + (": " + ", ".join(f"{k}={v}" for k, v in args.items()) if args else ""))
    try:
        out = entry[lang].format(**args)
    except (KeyError, IndexError):
        out = entry[lang]
    return nfc(_tidy(out) if dropped else out)


def register(code: str, vi: str, en: str) -> None:
    """Add a message (used by format modules to keep their messages next to their checks)."""
    MESSAGES[code] = {"vi": nfc(vi), "en": nfc(en)}
