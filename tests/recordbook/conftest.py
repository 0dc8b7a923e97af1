"""Fixtures for the record-book tests: sample classes and one CLI run of `hocba records sample`."""
from __future__ import annotations

from pathlib import Path

import pytest

from hocba.cli import main
from recordbook.model import RecordBook
from recordbook.sample import sample_class

SAMPLE_SEED = 7


@pytest.fixture(scope="session")
def primary_class() -> list[RecordBook]:
    return sample_class(40, seed=SAMPLE_SEED)


@pytest.fixture(scope="session")
def secondary_class() -> list[RecordBook]:
    return sample_class(12, seed=SAMPLE_SEED, level="secondary")


@pytest.fixture(scope="session")
def sample_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default class (40 pupils) written by the CLI, as a user would get it."""
    out = tmp_path_factory.mktemp("sample")
    assert main(["records", "sample", "--out", str(out), "--seed", str(SAMPLE_SEED)]) == 0
    return out


@pytest.fixture(scope="session")
def secondary_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sample-secondary")
    assert main(["records", "sample", "--out", str(out), "--count", "6", "--level", "secondary",
                 "--seed", str(SAMPLE_SEED)]) == 0
    return out
