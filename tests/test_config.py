"""Configuration errors name the key and the file; paths resolve relative to the file."""
from __future__ import annotations

from pathlib import Path

import pytest

from certs.pki import PkiLayout
from hocba.cli import main
from ground.config import Config, load_config
from ground.errors import ConfigError


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "hocba.toml"
    p.write_text(text, encoding="utf-8")
    return p


def test_generated_config_loads_with_paths_relative_to_file(test_pki: PkiLayout) -> None:
    cfg = load_config(test_pki.config)
    assert cfg.trust.anchors == (test_pki.anchor.resolve(),)
    assert cfg.revocation.mode == "require"
    assert cfg.policy.required_roles == ("teacher", "principal")
    assert cfg.timestamp.url and cfg.timestamp.url.startswith("http://127.0.0.1:")


def test_no_config_means_builtin_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HOCBA_CONFIG", raising=False)
    assert load_config(None) == Config()


def test_env_variable_selects_config(test_pki: PkiLayout, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOCBA_CONFIG", str(test_pki.config))
    assert load_config(None).trust.anchors == (test_pki.anchor.resolve(),)


@pytest.mark.parametrize("text,needle", [
    ('[trust]\nanchors = ["root.pem"]\nanchor_typo = 1\n', "trust.anchor_typo"),
    ('[trsut]\nanchors = []\n', "[trsut]"),
    ('[trust]\nanchors = []\n', "trust.anchors is empty"),
    ('[trust]\nanchors = ["missing.pem"]\n', "trust.anchors: không tìm thấy tệp — file not found"),
    ('[revocation]\nmode = "maybe"\n', "revocation.mode"),
    ('[revocation]\ntimeout = "ten"\n', "revocation.timeout"),
    ('[policy]\nrequired_roles = ["dean"]\n', "policy.required_roles"),
    ('[trust\n', "not valid TOML"),
], ids=["unknown-key", "unknown-section", "empty-trust-store", "missing-anchor",
        "bad-revocation-mode", "wrong-type", "unknown-role", "syntax-error"])
def test_config_errors_name_key_and_file(tmp_path: Path, text: str, needle: str) -> None:
    p = _write(tmp_path, text)
    with pytest.raises(ConfigError) as e:
        load_config(p)
    assert needle in str(e.value)
    assert str(p) in str(e.value)


def test_unreadable_anchor_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "root.pem").write_text("not a certificate")
    p = _write(tmp_path, '[trust]\nanchors = ["root.pem"]\n')
    with pytest.raises(ConfigError, match="not a PEM or DER certificate"):
        load_config(p)


def test_missing_config_file_exits_2_with_one_line(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["certs", "serve", "--config", str(tmp_path / "nope.toml")])
    err = capsys.readouterr().err
    assert rc == 2
    assert "configuration file not found" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
