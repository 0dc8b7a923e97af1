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


def build_parser() -> argparse.ArgumentParser:
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
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"hocba.commands.{name}")
        except ModuleNotFoundError as e:
            if e.name == f"hocba.commands.{name}":
                continue
            raise
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from ground.i18n import set_cli_lang

    # --lang en / $HOCBA_LANG: the language of every text of this run
    lang = set_cli_lang(list(argv) if argv is not None else None)
    parser = build_parser()
    args = parser.parse_args(argv)
    from verifier.runtime import configure_process

    configure_process()  # the verifier's process-wide opt-ins (verifier/runtime.py)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
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
