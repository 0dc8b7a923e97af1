"""Every user-facing string source, walked in both languages (issue 16 item 4).

Each catalogue has the same keys in Vietnamese and English; every text is NFC; a
Vietnamese entry is written in Vietnamese (with its diacritics) unless it is the same
language-neutral text in both (SHA-256, OCSP, a placeholder); an English entry has no
Vietnamese in it unless it is such a neutral text or a deliberate bilingual one. Every
record check the verifier can report has a label in both languages.
"""
from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
VI_LETTERS = set("ăâđêôơưàảãáạằẳẵắặầẩẫấậèẻẽéẹềểễếệìỉĩíịòỏõóọồổỗốộờởỡớợùủũúụừửữứựỳỷỹýỵ")
# Entries that are meant to be in the other language, or bilingual on purpose.
BILINGUAL = {"switch", "bad_lang"}


def vietnamese(text: str) -> bool:
    return bool(VI_LETTERS & set(text.lower()))


def _text(template: str) -> str:
    """A template without its {fields} (a field name is not language)."""
    return re.sub(r"\{[^{}]*\}", "", template)


def catalogues() -> dict[str, tuple[dict[Any, str], dict[Any, str]]]:
    """name -> (vi, en) of every catalogue of user-facing text."""
    from ground.messages import MESSAGES
    from ground.vocab import INDICATION_LABELS, ROLE_LABELS
    from hocba.commands.demo import TEXT as DEMO
    from verifier import html, text
    from verifier.web import i18n

    out: dict[str, tuple[dict[Any, str], dict[Any, str]]] = {
        "web UI": (i18n.UI["vi"], i18n.UI["en"]),
        "web errors": (i18n.ERRORS["vi"], i18n.ERRORS["en"]),
        "reasons": (i18n.REASONS["vi"], i18n.REASONS["en"]),
        "text labels": (text.LABELS["vi"], text.LABELS["en"]),
        "check labels": (text.CHECK_LABELS["vi"], text.CHECK_LABELS["en"]),
        "name attributes": (text.NAME_ATTRS["vi"], text.NAME_ATTRS["en"]),
        "role sources": (text.ROLE_SOURCE_LABELS["vi"], text.ROLE_SOURCE_LABELS["en"]),
        "html index": (html._INDEX["vi"], html._INDEX["en"]),
        "html title": ({"t": html._TITLE["vi"]}, {"t": html._TITLE["en"]}),
        "demo": (DEMO["vi"], DEMO["en"]),
        "indications": (dict(INDICATION_LABELS["vi"]), dict(INDICATION_LABELS["en"])),
        "roles": (dict(ROLE_LABELS["vi"]), dict(ROLE_LABELS["en"])),
        "messages": ({k: v["vi"] for k, v in MESSAGES.items()},
                     {k: v["en"] for k, v in MESSAGES.items()}),
    }
    return out


@pytest.mark.parametrize("name", sorted(catalogues()))
def test_catalogue_in_both_languages(name: str) -> None:
    vi, en = catalogues()[name]
    assert set(vi) == set(en), f"{name}: keys only in one language: {set(vi) ^ set(en)}"
    problems = []
    for key in vi:
        v, e = vi[key], en[key]
        for lang, s in (("vi", v), ("en", e)):
            if not unicodedata.is_normalized("NFC", s):
                problems.append(f"{key} ({lang}) is not NFC")
        if str(key) in BILINGUAL or _text(v).strip() == "":
            continue
        if v == e:
            continue  # the same language-neutral text (SHA-256, OCSP, CRL, ...)
        if not vietnamese(_text(v)):
            problems.append(f"{key}: the Vietnamese text is not Vietnamese: {v!r}")
        if vietnamese(_text(e)) and not _names_only(v, e):
            problems.append(f"{key}: the English text has Vietnamese in it: {e!r}")
    assert not problems, f"{name}:\n" + "\n".join(problems)


def _names_only(vi: str, en: str) -> bool:
    """Vietnamese in an English text is fine when it is a proper name the Vietnamese text
    carries too (a law, "Thông tư 15/2025"; a school's name)."""
    words = [w for w in re.findall(r"[\w/]+", _text(en)) if vietnamese(w)]
    return all(w in vi for w in words)


def test_every_record_check_has_a_label() -> None:
    """The check names the verifier reports (Check("name", ...)), each with a label."""
    from verifier.text import CHECK_LABELS

    names: set[str] = set()
    for folder in ("verifier", "ground"):
        for path in (ROOT / folder).rglob("*.py"):
            names |= set(re.findall(r'\bCheck\(\s*"([a-z_]+)"', path.read_text("utf-8")))
    assert names, "no Check(...) found: the scan is broken"
    for lang in ("vi", "en"):
        missing = names - set(CHECK_LABELS[lang])
        assert not missing, f"check names without a {lang} label: {sorted(missing)}"


def test_page_strings_render_in_each_language_only() -> None:
    """The page's template strings: the Vietnamese page shows no English sentence of the
    catalogue and the English page no Vietnamese one (other than the language switch)."""
    from verifier.web import i18n

    for lang, other in (("vi", "en"), ("en", "vi")):
        t = i18n.ui(lang)
        for key, value in t.items():
            if key in BILINGUAL or not value or value == i18n.ui(other)[key]:
                continue
            assert value != i18n.ui(other)[key]
            assert vietnamese(value) == (lang == "vi"), (lang, key, value)
