"""Configuration errors name the key and the file; paths resolve relative to the file."""
from __future__ import annotations

from pathlib import Path

import pytest

from certs.pki import PkiLayout
from hocba.cli import main
from ground.config import Config, load_config
from ground.errors import ConfigError
from ground.i18n import t


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


@pytest.mark.parametrize("text,key,needle", [
    ('[trust]\nanchors = ["root.pem"]\nanchor_typo = 1\n', "config.err.unknown_key",
     "trust.anchor_typo"),
    ('[trsut]\nanchors = []\n', "config.err.unknown_section", "[trsut]"),
    ('[trust]\nanchors = []\n', "config.err.no_anchors", "trust.anchors"),
    ('[trust]\nanchors = ["missing.pem"]\n', "config.err.missing_file", "trust.anchors"),
    ('[revocation]\nmode = "maybe"\n', "config.err.not_one_of", "revocation.mode"),
    ('[revocation]\ntimeout = "ten"\n', "config.err.type.float", "revocation.timeout"),
    ('[policy]\nrequired_roles = ["dean"]\n', "config.err.unknown_role", "policy.required_roles"),
    ('[trust\n', "config.err.not_toml", None),
], ids=["unknown-key", "unknown-section", "empty-trust-store", "missing-anchor",
        "bad-revocation-mode", "wrong-type", "unknown-role", "syntax-error"])
def test_config_errors_name_key_and_file(tmp_path: Path, text: str, key: str,
                                         needle: str | None) -> None:
    p = _write(tmp_path, text)
    with pytest.raises(ConfigError) as e:
        load_config(p)
    assert e.value.key == key
    for lang in ("vi", "en"):
        text = e.value.render(lang)
        assert text.startswith(f"{p}: ") and (needle is None or needle in text), text
        assert text == t(key, lang, **e.value.fields)


def test_config_error_messages_in_each_language(tmp_path: Path) -> None:
    p = _write(tmp_path, '[trust]\nanchors = ["missing.pem"]\n')
    with pytest.raises(ConfigError) as e:
        load_config(p)
    missing = tmp_path / "missing.pem"
    assert e.value.render("vi") == f"{p}: trust.anchors: không tìm thấy tệp {missing}"
    assert e.value.render("en") == f"{p}: trust.anchors: file not found: {missing}"
    p = _write(tmp_path, '[policy]\nrequired_roles = ["teacher", "dean"]\n')
    with pytest.raises(ConfigError) as e:
        load_config(p)
    assert e.value.fields["role"] == "'dean'"
    assert "không có vai trò 'dean'" in e.value.render("vi")
    assert "unknown role 'dean'" in e.value.render("en")


def test_config_error_cause_is_rendered_in_the_same_language(tmp_path: Path) -> None:
    p = _write(tmp_path, '[trust]\nbundles = ["nope"]\n')
    with pytest.raises(ConfigError) as e:
        load_config(p)
    assert e.value.key == "config.err.bundle"
    assert e.value.render("vi").startswith(f"{p}: trust.bundles: không có bộ chứng thư 'nope'")
    assert e.value.render("en").startswith(f"{p}: trust.bundles: unknown trust bundle 'nope'")
    (tmp_path / "roles.csv").write_text("sha256,role\n", encoding="utf-8")
    p = _write(tmp_path, '[roles]\nregistry = "roles.csv"\n')
    with pytest.raises(ConfigError) as e:
        load_config(p)
    assert e.value.key == "config.err.registry"
    assert "dòng 1: dòng tiêu đề thiếu school_code" in e.value.render("vi")
    assert "line 1: header lacks school_code" in e.value.render("en")


def test_unreadable_anchor_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "root.pem").write_text("not a certificate")
    p = _write(tmp_path, '[trust]\nanchors = ["root.pem"]\n')
    with pytest.raises(ConfigError) as e:
        load_config(p)
    assert e.value.key == "config.err.not_certificate"
    assert "not a PEM or DER certificate" in e.value.render("en")
    assert "không phải chứng thư PEM hay DER" in e.value.render("vi")


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_missing_config_file_exits_2_with_one_line(tmp_path: Path, lang: str,
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("HOCBA_LANG", lang)
    nope = tmp_path / "nope.toml"
    rc = main(["certs", "serve", "--config", str(nope)])
    err = capsys.readouterr().err
    assert rc == 2
    assert t("config.err.file_not_found", lang, file=nope) in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


# -- [jobs] visibility timeout (issue 14) ----------------------------------------------

def test_jobs_visibility_timeout_key_env_override_and_default(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """[jobs] visibility_timeout_seconds sets the Celery visibility timeout;
    $HOCBA_JOBS_VISIBILITY_TIMEOUT overrides it; without both, max(300, 2 x hard limit)."""
    from verifier.jobs import engine

    monkeypatch.delenv("HOCBA_JOBS_VISIBILITY_TIMEOUT", raising=False)
    cfg = load_config(_write(tmp_path, '[jobs]\nbroker = "redis://127.0.0.1:1/0"\n'
                                       'visibility_timeout_seconds = 900\n'))
    assert cfg.jobs.visibility_timeout_seconds == 900
    assert engine.visibility_timeout(cfg) == 900
    assert engine.make_celery(cfg).conf.broker_transport_options["visibility_timeout"] == 900
    monkeypatch.setenv("HOCBA_JOBS_VISIBILITY_TIMEOUT", "4")
    assert engine.visibility_timeout(cfg) == 4
    monkeypatch.delenv("HOCBA_JOBS_VISIBILITY_TIMEOUT")
    assert Config().jobs.visibility_timeout_seconds is None
    assert engine.visibility_timeout(Config()) == max(300, int(2 * (120.0 + 30)))


@pytest.mark.parametrize("value,needle", [
    ("0", "jobs.visibility_timeout_seconds"),
    ("-5", "jobs.visibility_timeout_seconds"),
    ('"300"', "jobs.visibility_timeout_seconds"),
    ("300.5", "jobs.visibility_timeout_seconds"),
], ids=["zero", "negative", "string", "fraction"])
def test_jobs_visibility_timeout_must_be_whole_positive_seconds(
        tmp_path: Path, value: str, needle: str) -> None:
    p = _write(tmp_path, f"[jobs]\nvisibility_timeout_seconds = {value}\n")
    with pytest.raises(ConfigError) as e:
        load_config(p)
    assert needle in str(e.value) and str(p) in str(e.value)
