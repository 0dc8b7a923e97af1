"""The ``hocba`` command: one exit boundary (CONTRACT 1).

Each sub-command lives in ``hocba.commands.<name>`` and exposes
``register(subparsers)``; the handler it sets returns an exit code. Errors are
mapped to one line on stderr here, once; ``--debug`` shows the traceback.
"""
from __future__ import annotations

import argparse
import importlib
import sys
from typing import Sequence

from hocba import __version__
from ground.errors import HocbaError

COMMANDS = ("certs", "records", "sign", "timestamp", "verify", "serve", "demo", "twostep", "trust",
            "worker")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        print(f"hocba: error: {message}", file=sys.stderr)
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    from hocba import exitcodes

    parser = _Parser(
        prog="hocba",
        description="Ký số và xác thực học bạ số (PAdES/XAdES).\n"
        "Signing and verification of Vietnam's digital student record books.\n"
        "`hocba COMMAND --help`: cách dùng từng lệnh / how to use each command.",
        epilog=exitcodes.TABLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"hocba {__version__}")
    parser.add_argument("--debug", action="store_true",
                        help="hiện traceback khi có lỗi — show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
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

    set_cli_lang(argv)  # --lang en / $HOCBA_LANG: the language of every text of this run
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
        print(f"hocba: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("hocba: interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # the one place an unexpected error becomes one line
        if args.debug:
            raise
        print(f"hocba: internal error: {type(e).__name__}: {e} (run with --debug for details)",
              file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
