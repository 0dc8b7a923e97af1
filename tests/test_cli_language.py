"""Every user-facing text of the command line in Vietnamese and English (issue 16 item 4).

``hocba --help`` and the help of every command and option say it in Vietnamese
first, then in English (as ``hocba sign`` and ``verify`` always did); the summary
of ``hocba sign`` names the role as people say it; configuration errors are
bilingual.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from hocba.cli import build_parser

VI_LETTERS = set("ăâđêôơưàảãáạằẳẵắặầẩẫấậèẻẽéẹềểễếệìỉĩíịòỏõóọồổỗốộờởỡớợùủũúụừửữứựỳỷỹýỵ")
# Commands whose help another change owns (verify: the ETSI report work of issue 17).
OWNED_ELSEWHERE: set[str] = set()


def vietnamese(text: str) -> bool:
    return bool(VI_LETTERS & set(text.lower()))


def english(text: str) -> bool:
    """Three ASCII words in a row (Vietnamese words nearly all carry a diacritic)."""
    run = 0
    for word in text.split():
        w = word.strip(".,;:()[]'\"")
        if w.isascii() and any(c.isalpha() for c in w):
            run += 1
            if run >= 3:
                return True
        else:
            run = 0
    return False


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


def command_parsers() -> list[object]:
    return [pytest.param(path, p, listed, id="hocba " + " ".join(path))
            for path, p, listed in parsers(build_parser()) if not (set(path) & OWNED_ELSEWHERE)]


@pytest.mark.parametrize("path, parser, listed", command_parsers())
def test_help_is_vietnamese_then_english(path: tuple[str, ...], parser: argparse.ArgumentParser,
                                         listed: str | None) -> None:
    where = "hocba " + " ".join(path)
    texts: list[tuple[str, str]] = []
    if listed is not None:
        texts.append(("listed help", listed))
    if path:  # the top level has its description; every command needs one too
        assert parser.description, f"{where}: no description"
    if parser.description:
        texts.append(("description", parser.description))
    for action in parser._actions:
        if isinstance(action, (argparse._HelpAction, argparse._VersionAction,
                               argparse._SubParsersAction)):
            continue
        name = "/".join(action.option_strings) or action.dest
        assert action.help, f"{where} {name}: no help"
        texts.append((name, str(action.help)))
    for what, text in texts:
        assert vietnamese(text), f"{where} {what}: no Vietnamese: {text!r}"
        assert english(text), f"{where} {what}: no English: {text!r}"


def test_top_level_help_lists_every_command_bilingually_and_the_exit_codes() -> None:
    r = subprocess.run([sys.executable, "-m", "hocba", "--help"], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0
    for code in ("0", "1", "2", "3"):
        assert f"  {code} " in r.stdout, r.stdout
    assert "không phải PDF/XML" in r.stdout and "not a PDF/XML" in r.stdout, r.stdout


@pytest.mark.parametrize("command", [["certs"], ["certs", "demo"], ["certs", "serve"],
                                     ["serve"], ["demo"], ["records", "sample"], ["trust"]])
def test_command_help_shows_vietnamese_first(command: list[str]) -> None:
    r = subprocess.run([sys.executable, "-m", "hocba", *command, "--help"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0
    body = r.stdout.split("\n\n", 1)[1]  # after the usage lines
    assert vietnamese(body.split(".", 1)[0]), body[:200]  # the first sentence is Vietnamese


def test_sign_summary_names_the_role_in_words(tmp_path: Path, test_pki: object,
                                              trust_services: object, pin: str) -> None:
    from certs.pki import PkiLayout
    from recordbook.sample import sample_record
    from recordbook.xmlio import to_xml

    assert isinstance(test_pki, PkiLayout)
    f = tmp_path / "hs.xml"
    f.write_bytes(to_xml(sample_record(0)))
    r = subprocess.run([sys.executable, "-m", "hocba", "sign", "--config", str(test_pki.config),
                        "--role", "teacher", "--key", str(test_pki.p12("teacher")),
                        "--level", "B-B", "--in-place", str(f)],
                       capture_output=True, text=True, timeout=120,
                       env={**__import__("os").environ, "HOCBA_PIN": pin})
    assert r.returncode == 0, r.stderr
    last = r.stderr.strip().splitlines()[-1]
    assert "(Giáo viên chủ nhiệm, B-B)" in last and "(homeroom teacher, B-B)" in last, last
    assert "(teacher," not in last


@pytest.mark.parametrize("toml, vi, en", [
    ("[nope]\n", "không có mục [nope]", "unknown section [nope]"),
    ("[revocation]\nmode = \"sometimes\"\n", "revocation.mode phải là một trong",
     "revocation.mode must be one of"),
    ("[trust]\nanchors = 3\n", "[trust.anchors] phải là danh sách đường dẫn",
     "[trust.anchors] must be a list of path strings"),
    ("[trust]\nanchors = [\"missing.pem\"]\n", "không tìm thấy tệp", "file not found"),
    ("not toml = = =\n", "không phải TOML hợp lệ", "not valid TOML"),
], ids=["section", "mode", "type", "anchor", "toml"])
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


@pytest.mark.parametrize("lang, needle", [("vi", "không tìm thấy tệp cấu hình"),
                                          ("en", "configuration file not found")])
def test_missing_config_file_in_the_cli_language(tmp_path: Path, lang: str, needle: str) -> None:
    r = subprocess.run([sys.executable, "-m", "hocba", "sign", "--config",
                        str(tmp_path / "none.toml"), "--role", "teacher", "--key", "k.p12",
                        "--out", str(tmp_path), "x.pdf"], capture_output=True, text=True,
                       timeout=60, env={**os.environ, "HOCBA_LANG": lang})
    assert r.returncode == 2
    assert needle in r.stderr
