"""One error root for the whole project; the CLI maps these to exit codes once."""
from __future__ import annotations


class HocbaError(Exception):
    """An operation failed (exit code 1). The message is shown to the user as one line."""

    exit_code = 1


class UsageError(HocbaError):
    """Bad option, unreadable input or bad configuration (exit code 2)."""

    exit_code = 2


class ConfigError(UsageError):
    """The configuration file is invalid; the message names the key and the file."""
