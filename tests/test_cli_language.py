"""The command line speaks ONE language per run (issue 15; issue 16 item 4).

Vietnamese by default; English with ``HOCBA_LANG=en`` or ``--lang en``. That holds for the
help of every command and option, for the exit-code table (``hocba --help``, ``verify
--help``, ``sign --help``), for argparse's own words ("usage:", "options:", "show this
help message and exit", the "hocba: error:" line) and for the messages of a run. The
one line of ``hocba --help`` that tells how to switch language says it in both
languages, on purpose (``cli.main.lang_hint``).
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ground import i18n
from ground.i18n import t
from hocba.cli import build_parser, main

VI_LETTERS = set("ăâđêôơưàảãáạằẳẵắặầẩẫấậèẻẽéẹềểễếệìỉĩíịòỏõóọồổỗốộờởỡớợùủũúụừửữứựỳỷỹýỵ")
# argparse's own English words: none of them in a Vietnamese run.
ARGPARSE_WORDS = ("usage:", "options:", "positional arguments", "show this help message and exit",
                  "show program's version number and exit")


def vietnamese(text: str) -> bool:
    return bool(VI_LETTERS & set(text.lower()))


def _word(token: str) -> bool:
    """An ASCII word of prose (not an option, path, placeholder, acronym or number)."""
    w = token.strip(".,;:()[]'\"!?")
    if not w or not w.isascii() or not w.replace("'", "").isalpha():
        return False
    return not (len(w) > 1 and w.isupper())  # FILE, PKI, CSC: names, not language


# Short words English sentences cannot do without (and Vietnamese does not use).
GLUE = {"a", "an", "the", "of", "to", "and", "or", "with", "for", "from", "by", "is", "are",
        "be", "it", "its", "each", "every", "as", "at", "on", "this", "that", "not", "no",
        "when", "if", "then", "else", "all", "one", "was", "has", "have", "any"}


def english_sentences(text: str) -> list[str]:
    """Runs of three or more ASCII words of prose with an English glue word among them
    (Vietnamese words nearly all carry a diacritic; the few that do not, "cho", "khi",
    "trang", are not glue words). Code in backticks is not language."""
    found, run = [], []
    for token in re.sub(r"`[^`]*`", " ", text).split() + [""]:
        if _word(token):
            run.append(token)
            continue
        words = {w.strip(".,;:()[]'\"!?").lower() for w in run}
        if len(run) >= 3 and words & GLUE:
            found.append(" ".join(run))
        run = []
    return found


def english(text: str) -> bool:
    return bool(english_sentences(text))


def has_words(text: str) -> bool:
    """Some prose at all (not only names, options and placeholders)."""
    return any(_word(w) and len(w.strip(".,;:()[]'\"!?")) >= 3 for w in text.split())


def without_hint(text: str, lang: str) -> str:
    """``text`` without the bilingual language hint (a flowing help may wrap it)."""
    hint = " ".join(t("cli.main.lang_hint", lang).split())
    return " ".join(text.split()).replace(hint, "")


@pytest.fixture
def cli_lang_restored() -> Iterator[None]:
    saved = i18n._CLI_LANG
    yield
    i18n._CLI_LANG = saved


def parser_in(lang: str) -> argparse.ArgumentParser:
    i18n._CLI_LANG = i18n.lang_of(lang)  # as main does for --lang (reset after each test)
    return build_parser()


def parsers(p: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> Iterator[
        tuple[tuple[str, ...], argparse.ArgumentParser, str | None]]:
    """(command path, parser, the help line its parent lists it with)."""
    yield path, p, None
    for action in p._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help for a in action._choices_actions}
            for name, sub in action.choices.items():
                for sub_path, parser, listed in parsers(sub, (*path, name)):
                    yield sub_path, parser, listed if sub_path != (*path, name) else helps.get(name)


def command_paths() -> list[tuple[str, ...]]:
    saved = i18n._CLI_LANG
    try:
        return [path for path, _, _ in parsers(parser_in("vi"))]
    finally:
        i18n._CLI_LANG = saved


def help_texts(parser: argparse.ArgumentParser, listed: str | None,
               where: str) -> list[tuple[str, str]]:
    """(what, text) of every piece of help a parser shows, argparse's own words included."""
    texts: list[tuple[str, str]] = []
    if listed is not None:
        texts.append(("listed help", listed))
    assert parser.description, f"{where}: no description"
    texts.append(("description", parser.description))
    if parser.epilog:
        texts.append(("epilog", parser.epilog))
    for group in parser._action_groups:
        if group._group_actions:
            assert group.title, f"{where}: a group without a title"
            texts.append(("group title", group.title))
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            continue
        name = "/".join(action.option_strings) or action.dest
        assert action.help, f"{where} {name}: no help"
        texts.append((name, str(action.help)))
    return texts


@pytest.mark.parametrize("path", command_paths(), ids=lambda p: "hocba " + " ".join(p))
@pytest.mark.parametrize("lang", ["vi", "en"])
def test_help_of_every_command_and_option_is_in_the_runs_language(
        path: tuple[str, ...], lang: str, cli_lang_restored: None) -> None:
    found = {p: (parser, listed) for p, parser, listed in parsers(parser_in(lang))}
    parser, listed = found[path]
    where = f"hocba {' '.join(path)} ({lang})"
    short = {"group title"}  # "options": one or two words
    for what, text in help_texts(parser, listed, where):
        text = without_hint(text, lang)
        if lang == "vi":
            assert vietnamese(text), f"{where} {what}: no Vietnamese: {text!r}"
            assert not english(text), f"{where} {what}: English in it: {text!r}"
        else:
            assert not vietnamese(text), f"{where} {what}: Vietnamese in it: {text!r}"
            assert what in short or has_words(text), f"{where} {what}: no English: {text!r}"
    shown = parser.format_help()
    for word in ARGPARSE_WORDS:
        if lang == "vi":
            assert word not in shown, (where, word)
        elif word != "positional arguments" or parser._positionals._group_actions:
            assert word in shown or word.startswith("show program"), (where, word)
    assert shown.startswith(t("cli.argparse.usage", lang) + " "), shown[:80]
    if lang == "en":
        assert not vietnamese(without_hint(shown, "en")), shown


def hocba(*args: str, lang: str | None = None, **kw: object) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("HOCBA_LANG", "HOCBA_CONFIG")}
    if lang is not None:
        env["HOCBA_LANG"] = lang
    env.update(kw.pop("env", {}))  # type: ignore[arg-type]
    return subprocess.run([sys.executable, "-m", "hocba", *args], capture_output=True,
                          text=True, timeout=120, env=env, stdin=subprocess.DEVNULL, **kw)


def flat(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("how", [[], ["--lang", "vi"], ["--lang", "en"], ["HOCBA_LANG=en"]],
                         ids=["default", "--lang vi", "--lang en", "HOCBA_LANG=en"])
def test_top_level_help_lists_every_command_and_the_exit_codes_in_one_language(
        how: list[str]) -> None:
    from hocba import exitcodes

    lang = "en" if "en" in " ".join(how) else "vi"
    env_lang = "en" if how == ["HOCBA_LANG=en"] else None
    args = [] if env_lang else how
    r = hocba(*args, "--help", lang=env_lang)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert exitcodes.table(lang) in out
    for code in ("0", "1", "2", "3"):
        assert f"\n  {code}  " in out, out
    if lang == "vi":
        assert "không phải PDF/XML" in out and "not a PDF/XML" not in out, out
        assert "mã thoát" in out.lower() and "Exit codes" not in out
    else:
        assert "not a PDF/XML" in out and "TOTAL_PASSED" in out, out
        assert not vietnamese(without_hint(out, "en")), out
    # how to switch, readable in the other language too
    assert "--lang en" in out and "HOCBA_LANG=en" in out and "English" in out
    assert "HOCBA_LANG=vi" in out and "tiếng Việt" in out


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_verify_and_sign_help_state_the_exit_codes_in_the_runs_language(lang: str) -> None:
    from hocba import exitcodes

    verify = flat(hocba("verify", "--help", lang=lang).stdout)
    assert flat(exitcodes.rule(lang)) in verify
    sign = flat(hocba("sign", "--help", lang=lang).stdout)
    if lang == "vi":
        assert "không phải PDF/XML" in verify and "bị hỏng" in verify
        assert "sai mã PIN" in sign and "wrong PIN" not in sign
    else:
        assert "not a PDF/XML" in verify and "damaged or unsigned" in verify
        assert "wrong PIN" in sign
        assert not vietnamese(verify) and not vietnamese(sign)


@pytest.mark.slow
@pytest.mark.parametrize("command", [["certs"], ["certs", "demo"], ["certs", "serve"],
                                     ["serve"], ["demo"], ["records", "sample"], ["trust"],
                                     ["trust", "add"], ["twostep", "finish"], ["worker"]])
def test_command_help_in_either_language(command: list[str]) -> None:
    vi = hocba(*command, "--help")
    assert vi.returncode == 0, vi.stderr
    body = vi.stdout.split("\n\n", 1)[1]  # after the usage lines
    assert vietnamese(body.split(".", 1)[0]), body[:200]  # the first sentence is Vietnamese
    for word in ARGPARSE_WORDS:
        assert word not in vi.stdout, word
    # --lang en anywhere on the command line (or before the command) switches it all
    for args in ([*command, "--lang", "en", "--help"], ["--lang", "en", *command, "--help"]):
        en = hocba(*args)
        assert en.returncode == 0, en.stderr
        assert en.stdout.startswith("usage: hocba") and "show this help message and exit" \
            in en.stdout, en.stdout[:300]
        assert not vietnamese(en.stdout), en.stdout


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_argparse_errors_lead_in_the_runs_language(lang: str) -> None:
    r = hocba("sign", "--in-place", "x.pdf", lang=lang)  # --role missing
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert lines[0].startswith(t("cli.argparse.usage", lang) + " hocba sign"), r.stderr
    lead = t("cli.main.usage_error", lang, detail="")
    assert lines[-1].startswith(lead) and "--role" in lines[-1], r.stderr
    if lang == "vi":
        assert "usage:" not in r.stderr and "hocba: error:" not in r.stderr, r.stderr
    r = hocba("nosuchcommand", lang=lang)
    assert r.returncode == 2 and r.stderr.strip().splitlines()[-1].startswith(lead), r.stderr


def test_argparse_module_is_not_patched(cli_lang_restored: None) -> None:
    """The translations live in our subclasses; argparse itself still says its own words
    (other programs in the same process are not affected)."""
    parser_in("vi").format_help()
    plain = argparse.ArgumentParser(prog="other")
    text = plain.format_help()
    assert text.startswith("usage: other") and "show this help message and exit" in text
    assert argparse._("usage: ") == "usage: "


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["vi", "en"])
def test_messages_of_a_run_are_in_its_language(lang: str, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str],
                                               cli_lang_restored: None) -> None:
    out = tmp_path / "x"
    assert main(["records", "sample", "--lang", lang, "--out", str(out), "--count", "0"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == "hocba: " + t("cli.err.count_range", lang, count=0), err
    assert main(["--lang", lang, "records", "sample", "--out", str(out), "--count", "1",
                 "--seed", "3"]) == 0
    err = capsys.readouterr().err.strip()
    assert err.startswith(t("cli.records.msg.written", lang, n=1, s="",
                            level=t("cli.records.level.primary", lang), class_name="3A",
                            school_year="2025-2026", seed=3, dir=out, seconds=0.0)[:40]), err
    if lang == "vi":
        assert vietnamese(err) and not english_sentences(err.replace(str(out), "")), err
    else:
        assert not vietnamese(err) and "record book" in err, err


@pytest.mark.slow
@pytest.mark.parametrize("lang, words", [("vi", "(Giáo viên chủ nhiệm, B-B)"),
                                         ("en", "(homeroom teacher, B-B)")])
def test_sign_summary_names_the_role_in_words(tmp_path: Path, test_pki: object,
                                              trust_services: object, pin: str, lang: str,
                                              words: str) -> None:
    from certs.pki import PkiLayout
    from recordbook.sample import sample_record
    from recordbook.xmlio import to_xml

    assert isinstance(test_pki, PkiLayout)
    f = tmp_path / "hs.xml"
    f.write_bytes(to_xml(sample_record(0)))
    r = hocba("sign", "--config", str(test_pki.config), "--role", "teacher", "--key",
              str(test_pki.p12("teacher")), "--level", "B-B", "--in-place", str(f), lang=lang,
              env={"HOCBA_PIN": pin})
    assert r.returncode == 0, r.stderr
    last = r.stderr.strip().splitlines()[-1]
    assert words in last and "(teacher," not in last, last
    assert vietnamese(last) == (lang == "vi"), last


@pytest.mark.parametrize("toml, vi, en", [
    ("[nope]\n", "không có mục [nope]", "unknown section [nope]"),
    ("[revocation]\nmode = \"sometimes\"\n", "revocation.mode phải là một trong",
     "revocation.mode must be one of"),
    ("[trust]\nanchors = 3\n", "[trust.anchors] phải là danh sách đường dẫn",
     "[trust.anchors] must be a list of path strings"),
    ("[trust]\nanchors = [\"missing.pem\"]\n", "không tìm thấy tệp", "file not found"),
    ("not toml = = =\n", "không phải TOML hợp lệ", "not valid TOML"),
], ids=["section", "mode", "type", "anchor", "toml"])
@pytest.mark.slow
def test_config_errors_are_one_line_exit_2_in_the_cli_language(tmp_path: Path, toml: str,
                                                               vi: str, en: str) -> None:
    cfg = tmp_path / "hocba.toml"
    cfg.write_text(toml, encoding="utf-8")
    for lang, needle in (("vi", vi), ("en", en)):
        r = subprocess.run([sys.executable, "-m", "hocba", "trust", "list", "--config", str(cfg)],
                           capture_output=True, text=True, timeout=60,
                           env={**os.environ, "HOCBA_LANG": lang})
        assert r.returncode == 2, r.stderr
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1, lines
        assert needle in lines[0] and str(cfg) in lines[0], lines[0]
        assert vietnamese(lines[0].replace(str(cfg), "")) == (lang == "vi"), lines[0]


@pytest.mark.slow
@pytest.mark.parametrize("lang, needle", [("vi", "không tìm thấy tệp cấu hình"),
                                          ("en", "configuration file not found")])
def test_missing_config_file_in_the_cli_language(tmp_path: Path, lang: str, needle: str) -> None:
    r = subprocess.run([sys.executable, "-m", "hocba", "sign", "--config",
                        str(tmp_path / "none.toml"), "--role", "teacher", "--key", "k.p12",
                        "--out", str(tmp_path), "x.pdf"], capture_output=True, text=True,
                       timeout=60, env={**os.environ, "HOCBA_LANG": lang})
    assert r.returncode == 2
    assert needle in r.stderr


def test_an_in_process_run_leaves_no_language_behind(capsys: pytest.CaptureFixture[str]) -> None:
    """``main(["--lang", "en", ...])`` in a long-lived process (tests, an embedding
    program) must not switch later messages of that process to English."""
    from ground.i18n import cli_lang
    from hocba.cli import main

    assert cli_lang() == "vi"
    with pytest.raises(SystemExit):
        main(["--lang", "en", "verify", "--help"])
    assert "usage:" in capsys.readouterr().out
    assert cli_lang() == "vi"
