"""config/hocba.example.toml is a valid configuration and states the defaults it claims."""
from __future__ import annotations

from pathlib import Path

from ground.config import Config, JobsConfig, load_config

EXAMPLE = Path(__file__).resolve().parents[1] / "config" / "hocba.example.toml"


def test_example_config_loads_and_matches_the_defaults() -> None:
    cfg = load_config(EXAMPLE)
    d = Config()
    assert cfg.revocation == d.revocation
    assert cfg.policy == d.policy
    assert cfg.limits == d.limits
    assert cfg.timestamp.url is None
    # [jobs] is shown with its broker commented out: jobs stay disabled until one is set.
    assert cfg.jobs == d.jobs == JobsConfig()
