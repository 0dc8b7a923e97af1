"""The one translation catalog (issue 15): the only source of user-facing text.

- Both languages have the same keys, no empty text, the same ``{fields}``, NFC.
- The compiled .mo files are what ``tools/catalog.py compile`` makes of the .po files.
- A Vietnamese text is Vietnamese and an English text has no Vietnamese (except names).
- Every key the code and the templates use exists (findings, checks, errors, labels).
- No user-facing sentence is written in the code: no Vietnamese string constant outside
  the record-book document modules, no error raised with a sentence instead of a key.
- Strict mode (set by tests/conftest.py) makes any lookup of a missing key, or a
  template rendered without one of its fields, raise in whatever test reaches it.
"""
from __future__ import annotations

import ast
import functools
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ROOMS = ("ground", "hocba", "signer", "verifier", "certs", "recordbook")
VI_LETTERS = set("ăâđêôơưàảãáạằẳẵắặầẩẫấậèẻẽéẹềểễếệìỉĩíịòỏõóọồổỗốộờởỡớợùủũúụừửữứựỳỷỹýỵ")
# Keys whose text is bilingual on purpose, or the other language on purpose.
BILINGUAL = {"ui.switch", "error.bad_lang", "cli.main.lang_hint"}

# Modules whose Vietnamese constants are document content or data, not interface text:
# the record book itself (a Vietnamese legal form, sample pupils), the seal stamp printed
# on it, the demo PKI's names, and the words certificates use for titles.
DATA_MODULES = {
    "recordbook/sample.py", "recordbook/model.py", "recordbook/pdf.py", "recordbook/rules.py",
    "signer/appearance.py", "certs/pki.py",
}

sys.path.insert(0, str(ROOT / "tools"))


def catalog_tool():  # type: ignore[no-untyped-def]
    import catalog

    return catalog


def vietnamese(text: str) -> bool:
    return bool(VI_LETTERS & set(text.lower()))


def _text(template: str) -> str:
    """A template without its {fields} (a field name is not language)."""
    return re.sub(r"\{[^{}]*\}", "", template)


def test_both_languages_have_the_same_keys_fields_and_nfc() -> None:
    found = catalog_tool().problems()
    assert not found, "\n".join(found)


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_compiled_catalog_is_current(lang: str) -> None:
    tool = catalog_tool()
    mo = tool.po_path(lang).with_suffix(".mo")
    assert mo.read_bytes() == tool.mo_bytes(lang), (
        f"{mo} is stale: run `python tools/catalog.py compile`")


def _names_only(vi: str, en: str) -> bool:
    """Vietnamese in an English text is fine when it is a proper name the Vietnamese text
    carries too (a law, "Thông tư 15/2025"; a school's name)."""
    words = [w for w in re.findall(r"[\w/]+", _text(en)) if vietnamese(w)]
    return all(w in vi for w in words)


def test_each_text_is_in_its_language() -> None:
    tool = catalog_tool()
    vi, en = tool.load("vi"), tool.load("en")
    problems = []
    for key in vi:
        v, e = vi[key], en.get(key, "")
        if key in BILINGUAL or _text(v).strip() == "" or v == e:
            continue  # the same language-neutral text (SHA-256, OCSP, CRL, ...)
        if not vietnamese(_text(v)):
            problems.append(f"{key}: the Vietnamese text is not Vietnamese: {v!r}")
        if vietnamese(_text(e)) and not _names_only(v, e):
            problems.append(f"{key}: the English text has Vietnamese in it: {e!r}")
    assert not problems, "\n".join(problems)


# -- the code's use of the catalog ----------------------------------------------------

def _sources() -> Iterator[tuple[str, ast.Module]]:
    return iter(_parsed())


@functools.cache
def _parsed() -> tuple[tuple[str, ast.Module], ...]:
    """Every module of the rooms, parsed once per test session."""
    out = []
    for room in ROOMS:
        for path in sorted((ROOT / room).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            out.append((rel, ast.parse(path.read_text("utf-8"), rel)))
    return tuple(out)


def _call_name(node: ast.Call) -> str:
    f = node.func
    if isinstance(f, ast.Name):
        return f.id
    if isinstance(f, ast.Attribute):
        return f.attr if not isinstance(f.value, ast.Name) else f"{f.value.id}.{f.attr}"
    return ""


def _first_literal(node: ast.Call) -> str | None:
    if node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
        return node.args[0].value
    return None


def _error_classes() -> set[str]:
    """Names of the project's exception classes rooted at HocbaError."""
    names = {"HocbaError", "UsageError", "ConfigError"}
    changed = True
    trees = list(_sources())
    while changed:
        changed = False
        for _, tree in trees:
            for node in ast.walk(tree):
                if isinstance(node, ast.ClassDef) and node.name not in names and any(
                        (isinstance(b, ast.Name) and b.id in names)
                        or (isinstance(b, ast.Attribute) and b.attr in names) for b in node.bases):
                    names.add(node.name)
                    changed = True
    return names


@functools.cache
def _error_classes_cached() -> frozenset[str]:
    return frozenset(_error_classes())


def used_keys() -> dict[str, set[str]]:
    """key -> files that use it literally."""
    from ground.i18n import is_key

    errors = _error_classes_cached()
    out: dict[str, set[str]] = {}

    def use(key: str, where: str) -> None:
        out.setdefault(key, set()).add(where)

    for rel, tree in _sources():
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name, lit = _call_name(node), _first_literal(node)
            if lit is None:
                continue
            short = name.split(".")[-1]
            if short in ("t", "template", "has") and is_key(lit):
                use(lit, rel)
            elif name == "Finding.of" or (short == "Finding" and not node.keywords):
                use("msg." + lit, rel)
            elif short == "Check":
                use("check." + lit, rel)
            elif short in errors and is_key(lit):
                use(lit, rel)
            elif short in ("BadParameter", "error_text") or (short.endswith("Problem")):
                if re.fullmatch(r"[a-z_0-9]+", lit):
                    use("error." + lit, rel)
    for tpl in (ROOT / "verifier" / "web" / "templates").glob("*.html"):
        for key in re.findall(r"""\b_\(\s*["']([^"']+)["']""", tpl.read_text("utf-8")):
            use(key, tpl.relative_to(ROOT).as_posix())
    return out


def test_scan_finds_the_uses() -> None:
    """The scan below is not vacuous: it sees findings, checks, errors and templates."""
    keys = used_keys()
    prefixes = {k.split(".")[0] for k in keys}
    assert {"msg", "check", "ui"} <= prefixes, prefixes
    assert len(keys) > 150


def test_every_key_the_code_uses_exists() -> None:
    from ground.i18n import catalog

    missing = {k: sorted(v) for k, v in used_keys().items()
               if k not in catalog("vi") or k not in catalog("en")}
    assert not missing, "keys used but not in the catalog:\n" + "\n".join(
        f"{k} ({', '.join(v)})" for k, v in sorted(missing.items()))


def test_every_label_prefix_exists() -> None:
    from ground.i18n import catalog

    prefixes = set()
    for rel, tree in _sources():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _call_name(node).split(".")[-1] in ("labels", "Labels"):
                lit = _first_literal(node)
                if lit:
                    prefixes.add(lit)
    assert prefixes
    for p in prefixes:
        assert any(k.startswith(p + ".") for k in catalog("vi")), p


def _docstrings(tree: ast.Module) -> set[int]:
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                out.add(id(body[0].value))
    return out


def inline_texts() -> dict[str, list[str]]:
    """file -> user-facing sentences written in the code instead of the catalog."""
    from ground.i18n import is_key

    errors = _error_classes_cached()
    out: dict[str, list[str]] = {}
    for rel, tree in _sources():
        docs = _docstrings(tree)
        found: list[str] = []
        if rel not in DATA_MODULES:
            for node in ast.walk(tree):
                if (isinstance(node, ast.Constant) and isinstance(node.value, str)
                        and id(node) not in docs and vietnamese(node.value)):
                    found.append(f"line {node.lineno}: {node.value[:60]!r}")
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _call_name(node).split(".")[-1] in errors:
                arg = node.args[0] if node.args else None
                if isinstance(arg, ast.JoinedStr) or (
                        isinstance(arg, ast.Constant) and isinstance(arg.value, str)
                        and not is_key(arg.value)):
                    found.append(f"line {node.lineno}: an error raised with a sentence")
        if found:
            out[rel] = found
    return out


def test_no_user_text_outside_the_catalog() -> None:
    found = inline_texts()
    unexpected = found
    assert not unexpected, "\n".join(f"{k}:\n  " + "\n  ".join(v[:8])
                                     for k, v in sorted(unexpected.items()))


def test_every_record_check_has_a_label() -> None:
    from ground.i18n import catalog

    names: set[str] = set()
    for folder in ("verifier", "ground"):
        for path in (ROOT / folder).rglob("*.py"):
            names |= set(re.findall(r'\bCheck\(\s*"([a-z_]+)"', path.read_text("utf-8")))
    assert names, "no Check(...) found: the scan is broken"
    for lang in ("vi", "en"):
        missing = {n for n in names if f"check.{n}" not in catalog(lang)}
        assert not missing, f"check names without a {lang} label: {sorted(missing)}"


def test_strict_mode_raises_on_a_missing_key_and_a_missing_field() -> None:
    from ground import i18n

    with pytest.raises(i18n.MissingText):
        i18n.t("msg.no_such_message_anywhere")
    with pytest.raises(i18n.MissingText):
        i18n.t("msg.all_passed", "vi")  # {count} not given
    assert "3" in i18n.t("msg.all_passed", "en", count=3)


def test_page_strings_render_in_each_language_only() -> None:
    from ground.i18n import labels

    for lang, other in (("vi", "en"), ("en", "vi")):
        mine, theirs = labels("ui", lang), labels("ui", other)
        for key, value in mine.items():
            if "ui." + key in BILINGUAL or value == theirs[key]:
                continue
            assert vietnamese(_text(value)) == (lang == "vi"), (lang, key, value)
