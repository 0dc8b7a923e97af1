"""The ``hocba`` command: one exit boundary (CONTRACT 1).

Each sub-command lives in ``hocba.commands.<name>`` and exposes
``register(subparsers)``; the handler it sets returns an exit code. Errors are
mapped to one line on stderr here, once; ``--debug`` shows the traceback.

Every text of the command line is in ONE language per run (``--lang`` /
``$HOCBA_LANG``, Vietnamese by default; :func:`ground.i18n.cli_lang`), argparse's own
words included: :class:`Parser` and :class:`Formatter` give it translated titles, a
translated ``usage:`` prefix, our own ``-h`` and a translated error lead (argparse's
detail, English, is a field of it), without touching argparse's module globals.
"""
from __future__ import annotations

import argparse
import gc
import importlib
import sys
from typing import Any, Sequence

from hocba import __version__
from ground.errors import HocbaError
from ground.i18n import cli_lang, t

COMMANDS = ("certs", "records", "sign", "timestamp", "verify", "serve", "demo", "twostep", "trust",
            "worker")


class Formatter(argparse.HelpFormatter):
    """argparse's formatter with the ``usage:`` prefix in the run's language."""

    def add_usage(self, usage: str | None, actions: Any, groups: Any,
                  prefix: str | None = None) -> None:
        if prefix is None:
            prefix = t("cli.argparse.usage", cli_lang()) + " "
        super().add_usage(usage, actions, groups, prefix)


class RawFormatter(Formatter, argparse.RawDescriptionHelpFormatter):
    """The same, keeping the description's and epilog's line breaks (the exit-code table)."""


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose own words (group titles, -h, the error line) are in the
    run's language."""

    def __init__(self, formatter_class: Any = Formatter, add_help: bool = True,
                 **kwargs: Any) -> None:
        super().__init__(formatter_class=formatter_class, add_help=False, **kwargs)
        lang = cli_lang()
        self._positionals.title = t("cli.argparse.positionals", lang)
        self._optionals.title = t("cli.argparse.options", lang)
        if add_help:
            self.add_argument("-h", "--help", action="help", default=argparse.SUPPRESS,
                              help=t("cli.argparse.help", lang))

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        print(t("cli.main.usage_error", cli_lang(), detail=message), file=sys.stderr)
        raise SystemExit(2)


# The old private name (kept for code that subclassed it).
_Parser = Parser


def add_lang_option(p: argparse.ArgumentParser, key: str = "cli.opt.lang") -> None:
    """``--lang vi|en``: the language of the run (read by :func:`ground.i18n.cli_lang`
    before the parser is built; here so that argparse accepts it and documents it)."""
    p.add_argument("--lang", choices=("vi", "en"), default=cli_lang(), help=t(key, cli_lang()))


def _command_named(argv: Sequence[str]) -> str | None:
    """The sub-command ``argv`` names, if a known one (of the global options only --lang
    takes a value)."""
    skip = False
    for arg in argv:
        if arg == "--":
            return None
        if arg == "--lang" or skip:
            skip = not skip  # --lang takes a value
            continue
        if not arg.startswith("-"):
            return arg if arg in COMMANDS else None
    return None


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The whole command line; with ``argv`` naming a command, only that command's parser
    is built (start-up: the other commands' modules are not imported)."""
    from hocba import exitcodes

    lang = cli_lang()
    parser = Parser(
        prog="hocba",
        description=t("cli.main.description", lang) + "\n" + t("cli.main.lang_hint", lang),
        epilog=exitcodes.table(lang),
        formatter_class=RawFormatter,
    )
    parser.add_argument("--version", action="version", version=f"hocba {__version__}",
                        help=t("cli.argparse.version", lang))
    parser.add_argument("--debug", action="store_true", help=t("cli.main.opt.debug", lang))
    add_lang_option(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    named = _command_named(argv) if argv is not None else None
    for name in (named,) if named else COMMANDS:
        try:
            module = importlib.import_module(f"hocba.commands.{name}")
        except ModuleNotFoundError as e:
            if e.name == f"hocba.commands.{name}":
                continue
            raise
        module.register(sub)
    return parser


def run() -> int:
    """The ``hocba`` program (console script and ``python -m hocba``): :func:`main`, and
    then everything still alive is moved out of the cyclic GC's sight before the
    interpreter ends. Its final collection would otherwise walk every object the
    command made (pyHanko's and pydantic's modules and caches): ~0.2 s of a ~1.4 s
    ``hocba sign`` of 100 files, spent after the last file was written. ``atexit``
    handlers and the standard streams' flush still run; only cyclic garbage left at
    exit is not finalized, and every file hocba writes is closed (and synced) before
    the command returns."""
    code = main()
    gc.freeze()
    return code


def main(argv: Sequence[str] | None = None) -> int:
    from ground import i18n

    args = sys.argv[1:] if argv is None else list(argv)
    # --lang en / $HOCBA_LANG: the language of every text of this run, and of no other
    with i18n.cli_language(args) as lang:
        return _main_gc(args, lang)


def _main_gc(argv: list[str], lang: str) -> int:
    # Start-up allocates many long-lived objects (modules, classes) and next to no garbage
    # cycles: the cyclic GC stays off during it (about a tenth of the imports' time).
    global _startup_gc_off
    if not gc.isenabled():
        return _main(argv, lang)
    gc.disable()
    _startup_gc_off = True
    try:
        return _main(argv, lang)
    finally:
        end_startup()


_startup_gc_off = False


def end_startup() -> None:
    """The command's imports and set-up are done: the cyclic GC runs as usual again (a
    command whose parser sets ``ends_startup`` calls this itself, before its per-file
    work; for every other command it runs before the command does)."""
    global _startup_gc_off
    if _startup_gc_off:
        _startup_gc_off = False
        gc.enable()


def _main(argv: list[str], lang: str) -> int:
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    if getattr(args, "defer_aiohttp", False):
        # before anything imports pyHanko's signing package (configure_process does):
        # its aiohttp clients load only if this command uses them (signer/lazy_imports.py)
        from signer.lazy_imports import defer_pyhanko_aiohttp

        defer_pyhanko_aiohttp()
    from verifier.runtime import configure_process

    configure_process()  # the verifier's process-wide opt-ins (verifier/runtime.py)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    if not getattr(args, "ends_startup", False):
        end_startup()
    try:
        return int(args.func(args) or 0)
    except HocbaError as e:
        if args.debug:
            raise
        print(f"hocba: {e.render(lang)}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print(t("cli.main.interrupted", lang), file=sys.stderr)
        return 130
    except Exception as e:  # the one place an unexpected error becomes one line
        if args.debug:
            raise
        print(t("cli.main.internal_error", lang, error=f"{type(e).__name__}: {e}"),
              file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
