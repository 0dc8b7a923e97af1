"""Role evidence beyond the title (CONTRACT 8, issue 13), on the VN-profile test PKI:
personal certificates without title (CN, UID=CCCD:…, ST, C=VN), the school's organisation
certificate, and a role registry CSV.

Each rule has its positive path and the attacks on it:
- registry: the entry valid at the (timestamped) signing time gives the role; an entry
  outside its dates, or of another school, does not;
- seal: a declared role counts when a later valid seal of the record's school covers
  it; a seal of another school vouches for nothing; a declaration without either is
  never TOTAL_PASSED;
- a teacher's certificate (title) declaring "principal" never passes, seal or not.
"""
from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest

from certs.pki import DEMO_PIN, PkiLayout, cert_sha256
from ground.config import Config, load_config
from ground.policy import Policy
from ground.vocab import Indication, Level, Role
from verifier.core import Verifier
from verifier.report import Report

pytestmark = pytest.mark.slow

PDF, XML = "pdf", "xml"


@pytest.fixture(scope="module")
def vn_config(vn_pki: PkiLayout) -> Config:
    return load_config(vn_pki.config)


@pytest.fixture(scope="module")
def records() -> dict[str, bytes]:
    from recordbook.pdf import render_pdf
    from recordbook.sample import sample_class
    from recordbook.xmlio import to_xml

    [rec] = sample_class(1, seed=7)
    return {PDF: render_pdf(rec), XML: to_xml(rec)}


@pytest.fixture(scope="module")
def sign(vn_pki: PkiLayout, vn_config: Config) -> Callable[..., bytes]:
    """``sign(data, label, role, precheck=True, claim=False)`` with the project's signer at B-T."""
    from signer.batch import Batch
    from signer.keys import KeySource

    cache: dict[tuple[str, str, bool, bool], Batch] = {}

    def go(data: bytes, label: str, role: str, *, precheck: bool = True,
           claim: bool = False) -> bytes:
        k = (label, role, precheck, claim)
        if k not in cache:
            cache[k] = Batch(vn_config, Role(role), Level.B_T, KeySource(p12=vn_pki.p12(label)),
                             DEMO_PIN, precheck=precheck, claim_role=claim)
        return cache[k].sign(data)[1]

    yield go  # type: ignore[misc]
    for b in cache.values():
        b.close()


def _verifier(cfg: Config) -> Verifier:
    return Verifier(Policy.from_config(cfg))


def _registry(tmp: Path, vn_pki: PkiLayout, rows: list[tuple[str, str, str, str, str]]) -> Path:
    p = tmp / "roles.csv"
    p.write_text("sha256,role,school_code,valid_from,valid_to\n"
                 + "".join(",".join(r) + "\n" for r in rows), encoding="utf-8")
    return p


def _with_registry(cfg: Config, registry: Path | None) -> Config:
    return cfg.with_overrides(roles=dataclasses.replace(cfg.roles, registry=registry))


def _summary(r: Report) -> list[tuple[str | None, str | None, str | None]]:
    return [(s.role, s.claimed_role, s.role_source) for s in r.signatures]


@pytest.fixture(params=[PDF, XML])
def fmt(request: pytest.FixtureRequest) -> Iterator[str]:
    yield request.param


def test_registry_gives_roles_to_title_less_certificates(fmt: str, records: dict[str, bytes],
                                                         sign: Callable[..., bytes],
                                                         vn_config: Config) -> None:
    data = sign(sign(sign(records[fmt], "teacher", "teacher"), "principal", "principal"),
                "seal", "seal")
    r = _verifier(vn_config).verify(data, name=f"r.{fmt}")
    assert r.indication is Indication.TOTAL_PASSED, r.to_dict("en")
    assert _summary(r) == [("teacher", "teacher", "registry"), ("principal", "principal", "registry"),
                           ("seal", "seal", "certificate")]
    d = r.to_dict("vi")
    assert d["signatures"][0]["role_source"] == "registry"
    assert "danh sách vai trò" in " ".join(d["signatures"][0]["findings"])


def test_registry_alone_suffices_without_a_seal(fmt: str, records: dict[str, bytes],
                                               sign: Callable[..., bytes], vn_config: Config) -> None:
    data = sign(sign(records[fmt], "teacher", "teacher"), "principal", "principal")
    r = _verifier(vn_config).verify(data, name=f"r.{fmt}")
    assert r.indication is Indication.TOTAL_PASSED, r.to_dict("en")


def test_seal_vouches_for_a_declared_role(fmt: str, records: dict[str, bytes],
                                         sign: Callable[..., bytes], vn_config: Config) -> None:
    data = sign(sign(sign(records[fmt], "substitute", "teacher", claim=True),
                     "principal", "principal"), "seal", "seal")
    r = _verifier(vn_config).verify(data, name=f"r.{fmt}")
    assert r.indication is Indication.TOTAL_PASSED, r.to_dict("en")
    assert _summary(r)[0] == ("teacher", "teacher", "seal")


def test_declared_role_without_registry_or_seal_is_never_passed(
        fmt: str, records: dict[str, bytes], sign: Callable[..., bytes], vn_config: Config) -> None:
    data = sign(sign(records[fmt], "substitute", "teacher", claim=True), "principal", "principal")
    r = _verifier(vn_config).verify(data, name=f"r.{fmt}")
    assert r.indication is Indication.INDETERMINATE, r.to_dict("en")
    assert _summary(r)[0] == (None, "teacher", None)
    d = r.to_dict("vi")
    assert "tự khai" in d["message"] and "Giáo viên chủ nhiệm" in d["message"]
    assert not next(c for c in d["checks"] if c["name"] == "required_roles")["passed"]


def test_seal_of_another_school_vouches_for_nothing(fmt: str, records: dict[str, bytes],
                                                   sign: Callable[..., bytes],
                                                   vn_config: Config) -> None:
    data = sign(sign(sign(records[fmt], "substitute", "teacher", claim=True),
                     "principal", "principal"), "seal_other", "seal")
    r = _verifier(vn_config).verify(data, name=f"r.{fmt}")
    assert r.indication is not Indication.TOTAL_PASSED, r.to_dict("en")
    assert _summary(r)[0] == (None, "teacher", None)
    assert any("Nguyễn Du" in f for f in r.to_dict("vi")["signatures"][0]["findings"])


def test_registry_entry_outside_its_dates_does_not_count(
        fmt: str, records: dict[str, bytes], sign: Callable[..., bytes], vn_config: Config,
        vn_pki: PkiLayout, tmp_path: Path) -> None:
    data = sign(sign(sign(records[fmt], "teacher", "teacher"), "principal", "principal"),
                "seal", "seal")
    today = date.today()
    old = (str(today - timedelta(days=900)), str(today - timedelta(days=400)))
    reg = _registry(tmp_path, vn_pki, [
        (cert_sha256(vn_pki.cert("teacher")), "teacher", "99000101", *old),
        (cert_sha256(vn_pki.cert("principal")), "principal", "99000101", "", ""),
    ])
    r = _verifier(_with_registry(vn_config, reg)).verify(data, name=f"r.{fmt}")
    assert r.indication is not Indication.TOTAL_PASSED, r.to_dict("en")
    # the expired entry counts for nothing, and the seal does not override it
    assert _summary(r)[0] == (None, "teacher", None)
    assert any("chỉ trong thời gian" in f for f in r.to_dict("vi")["signatures"][0]["findings"])


def test_registry_entry_not_yet_valid_does_not_count(
        records: dict[str, bytes], sign: Callable[..., bytes], vn_config: Config,
        vn_pki: PkiLayout, tmp_path: Path) -> None:
    data = sign(sign(records[PDF], "teacher", "teacher"), "principal", "principal")
    later = str(date.today() + timedelta(days=30))
    reg = _registry(tmp_path, vn_pki, [
        (cert_sha256(vn_pki.cert("teacher")), "teacher", "", later, ""),
        (cert_sha256(vn_pki.cert("principal")), "principal", "", "", ""),
    ])
    r = _verifier(_with_registry(vn_config, reg)).verify(data, name="r.pdf")
    assert r.indication is not Indication.TOTAL_PASSED
    assert _summary(r)[0][0] is None


def test_registry_entry_of_another_school_does_not_count(
        fmt: str, records: dict[str, bytes], sign: Callable[..., bytes], vn_config: Config,
        vn_pki: PkiLayout, tmp_path: Path) -> None:
    data = sign(sign(records[fmt], "teacher", "teacher"), "principal", "principal")
    reg = _registry(tmp_path, vn_pki, [
        (cert_sha256(vn_pki.cert("teacher")), "teacher", "99000999", "", ""),
        (cert_sha256(vn_pki.cert("principal")), "principal", "99000101", "", ""),
    ])
    r = _verifier(_with_registry(vn_config, reg)).verify(data, name=f"r.{fmt}")
    assert r.indication is not Indication.TOTAL_PASSED, r.to_dict("en")
    assert _summary(r)[0] == (None, "teacher", None)
    assert any("99000999" in f for f in r.to_dict("vi")["signatures"][0]["findings"])


def test_registry_switched_off_in_sources_is_not_used(
        records: dict[str, bytes], sign: Callable[..., bytes], vn_config: Config) -> None:
    data = sign(sign(records[PDF], "teacher", "teacher"), "principal", "principal")
    cfg = vn_config.with_overrides(roles=dataclasses.replace(
        vn_config.roles, sources=("certificate", "seal")))
    r = _verifier(cfg).verify(data, name="r.pdf")
    assert r.indication is Indication.INDETERMINATE
    assert [s.role for s in r.signatures] == [None, None]


def test_teacher_certificate_declaring_principal_never_passes(
        fmt: str, records: dict[str, bytes], sign: Callable[..., bytes], vn_config: Config) -> None:
    # The forger bypasses the signer's own refusal (precheck off) and even gets the seal.
    data = sign(sign(sign(records[fmt], "teacher", "teacher"), "teacher_titled", "principal",
                     precheck=False), "seal", "seal")
    r = _verifier(vn_config).verify(data, name=f"r.{fmt}")
    assert r.indication is Indication.TOTAL_FAILED, r.to_dict("en")
    assert _summary(r)[1] == ("teacher", "principal", "certificate")
    assert not next(c for c in r.checks if c.name == "roles").passed


def test_registry_listed_teacher_declaring_principal_never_passes(
        records: dict[str, bytes], sign: Callable[..., bytes], vn_config: Config) -> None:
    # The registry says teacher; a seal after the false declaration changes nothing.
    data = sign(sign(sign(records[PDF], "principal", "teacher", precheck=False),
                     "teacher", "principal", precheck=False), "seal", "seal")
    r = _verifier(vn_config).verify(data, name="r.pdf")
    assert r.indication is Indication.TOTAL_FAILED, r.to_dict("en")


# -- signing with title-less certificates ------------------------------------------------

def test_sign_title_less_without_registry_entry_is_refused_and_file_untouched(
        vn_pki: PkiLayout, records: dict[str, bytes], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from hocba.cli import main

    f = tmp_path / "r.pdf"
    f.write_bytes(records[PDF])
    monkeypatch.setenv("HOCBA_PIN", DEMO_PIN)
    rc = main(["sign", "--config", str(vn_pki.config), "--role", "teacher", "--key",
               str(vn_pki.p12("substitute")), "--in-place", str(f)])
    assert rc == 1
    assert f.read_bytes() == records[PDF]
    err = capsys.readouterr().err
    assert "--claim-role" in err and "Traceback" not in err


def test_sign_title_less_with_claim_role_declares_it(
        vn_pki: PkiLayout, records: dict[str, bytes], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, vn_config: Config) -> None:
    from hocba.cli import main

    out = tmp_path / "out"
    f = tmp_path / "r.xml"
    f.write_bytes(records[XML])
    monkeypatch.setenv("HOCBA_PIN", DEMO_PIN)
    assert main(["sign", "--config", str(vn_pki.config), "--role", "teacher", "--key",
                 str(vn_pki.p12("substitute")), "--claim-role", "--level", "B-B",
                 "--out", str(out), str(f)]) == 0
    r = _verifier(vn_config).verify((out / "r.xml").read_bytes(), name="r.xml")
    assert _summary(r) == [(None, "teacher", None)]


def test_sign_title_less_with_registry_entry(vn_pki: PkiLayout, records: dict[str, bytes],
                                             tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             vn_config: Config) -> None:
    from hocba.cli import main

    out = tmp_path / "out"
    f = tmp_path / "r.pdf"
    f.write_bytes(records[PDF])
    monkeypatch.setenv("HOCBA_PIN", DEMO_PIN)
    assert main(["sign", "--config", str(vn_pki.config), "--role", "teacher",
                 "--level", "B-B", "--out", str(out), str(f)]) == 0
    r = _verifier(vn_config).verify((out / "r.pdf").read_bytes(), name="r.pdf")
    assert _summary(r) == [("teacher", "teacher", "registry")]


def test_sign_registry_role_differs_from_role_is_refused_even_with_claim_role(
        vn_pki: PkiLayout, records: dict[str, bytes], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from hocba.cli import main

    f = tmp_path / "r.pdf"
    f.write_bytes(records[PDF])
    monkeypatch.setenv("HOCBA_PIN", DEMO_PIN)
    rc = main(["sign", "--config", str(vn_pki.config), "--role", "principal", "--key",
               str(vn_pki.p12("teacher")), "--claim-role", "--in-place", str(f)])
    assert rc == 1 and f.read_bytes() == records[PDF]
    assert "danh sách vai trò" in capsys.readouterr().err


def test_sign_titled_teacher_as_principal_refused_even_with_claim_role(
        vn_pki: PkiLayout, records: dict[str, bytes], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from hocba.cli import main

    f = tmp_path / "r.pdf"
    f.write_bytes(records[PDF])
    monkeypatch.setenv("HOCBA_PIN", DEMO_PIN)
    rc = main(["sign", "--config", str(vn_pki.config), "--role", "principal", "--key",
               str(vn_pki.p12("teacher_titled")), "--claim-role", "--in-place", str(f)])
    assert rc == 1 and f.read_bytes() == records[PDF]


def test_role_registry_errors_name_the_line(tmp_path: Path) -> None:
    from ground.registry import RegistryError, load_registry

    p = tmp_path / "roles.csv"
    p.write_text("sha256,role,school_code,valid_from,valid_to\n" + "ab" * 32
                 + ",teacher,1,,\n" + "zz,teacher,1,,\n", encoding="utf-8")
    with pytest.raises(RegistryError) as e:
        load_registry(p)
    assert e.value.render("en") == f"{p}, line 3: sha256 is not 64 hex digits"
    assert e.value.render("vi") == f"{p}, dòng 3: sha256 không phải 64 chữ số thập lục phân"
    p.write_text("sha256,role,school_code,valid_from,valid_to\n" + "ab" * 32
                 + ",janitor,1,,\n", encoding="utf-8")
    with pytest.raises(RegistryError) as e:
        load_registry(p)
    assert re.match(rf"{re.escape(str(p))}, line 2: unknown role 'janitor'", e.value.render("en"))
    assert re.match(rf"{re.escape(str(p))}, dòng 2: không có vai trò 'janitor'",
                    e.value.render("vi"))
    p.write_text("sha256,role,school_code,valid_from,valid_to\n" + "ab" * 32
                 + ",teacher,1,2026-13-01,\n", encoding="utf-8")
    with pytest.raises(RegistryError) as e:
        load_registry(p)
    assert e.value.render("en").startswith(f"{p}, line 2: valid_from is not an ISO date")
    assert e.value.render("vi").startswith(f"{p}, dòng 2: valid_from không phải ngày ISO")
