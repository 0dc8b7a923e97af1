"""The ``hocba`` command: one exit boundary (CONTRACT 1).

Each sub-command lives in ``hocba.commands.<name>`` and exposes
``register(subparsers)``; the handler it sets returns an exit code. Errors are
mapped to one line on stderr here, once; ``--debug`` shows the traceback.
"""
from __future__ import annotations

import argparse
import gc
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


def _command_named(argv: Sequence[str]) -> str | None:
    """The sub-command ``argv`` names (the global options take no values), if a known one."""
    for arg in argv:
        if arg == "--":
            return None
        if not arg.startswith("-"):
            return arg if arg in COMMANDS else None
    return None


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The whole command line; with ``argv`` naming a command, only that command's parser
    is built (start-up: the other commands' modules are not imported)."""
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


def main(argv: Sequence[str] | None = None) -> int:
    # Start-up allocates many long-lived objects (modules, classes) and next to no garbage
    # cycles: the cyclic GC stays off during it (about a tenth of the imports' time).
    global _startup_gc_off
    if not gc.isenabled():
        return _main(argv)
    gc.disable()
    _startup_gc_off = True
    try:
        return _main(argv)
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


def _main(argv: Sequence[str] | None) -> int:
    if argv is None:
        argv = sys.argv[1:]
    parser = build_parser(argv)
    args = parser.parse_args(argv)
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
