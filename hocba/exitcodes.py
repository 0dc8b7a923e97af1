"""The exit codes of every ``hocba`` command: one rule (CONTRACT 1, issue 16 item 6).

- 0: success (``verify``: every file TOTAL_PASSED).
- 1: the work was done and did not pass: a file judged not valid (a PDF or XML that is
  damaged, unsigned or not a record book is judged: FORMAT_FAILURE), a file that could
  not be signed, or the key or certificate refused before anything was signed (wrong
  PIN, a certificate that may not sign as that role, expired, revoked or untrusted).
- 2: the work could not be done as asked: an unreadable path, a bad option, a bad
  configuration, no PIN given, or a file that is not a PDF or XML at all (random bytes,
  a .docx), which ``verify`` cannot judge (CONTRACT 5).
- 3 (``verify`` only): nothing failed, but at least one file is INDETERMINATE.

The rule as users read it is in the catalog, in the run's language: :func:`rule` (one
paragraph, for ``verify --help``) and :func:`table` (for the ``hocba --help`` epilog).
"""
from __future__ import annotations

from ground.i18n import t

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INDETERMINATE = 0, 1, 2, 3


def rule(lang: str) -> str:
    """The rule in one paragraph (argparse descriptions)."""
    return t("cli.exit.rule", lang)


def table(lang: str) -> str:
    """The rule as a table, one code a row (``hocba --help``, RawDescriptionHelpFormatter)."""
    return t("cli.exit.table", lang)
