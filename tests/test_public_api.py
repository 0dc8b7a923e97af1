"""The public surface (hocba/__init__.py) and its runnable example, as the README shows it."""
from __future__ import annotations

import pytest

import doctest

import hocba

pytestmark = pytest.mark.slow  # end to end: not in the fast suite (pytest -m "not slow")


def test_public_names() -> None:
    assert set(hocba.__all__) == {"Verifier", "Policy", "Report", "verify_bytes", "sign_files"}
    for name in hocba.__all__:
        assert getattr(hocba, name) is not None


def test_docstring_example_runs() -> None:
    result = doctest.testmod(hocba, optionflags=doctest.ELLIPSIS, verbose=False)
    assert result.attempted >= 10 and result.failed == 0
