"""What the signer refuses, and that a refusal never touches a file."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from certs.pki import PkiLayout
from ground.i18n import cli_lang, t
from ground.vocab import Role

Runner = Callable[..., tuple[int, str]]


def _write(tmp_path: Path, pdf: bytes, name: str = "rec.pdf") -> Path:
    p = tmp_path / name
    p.write_bytes(pdf)
    return p


def test_principal_before_the_homeroom_teacher_refused_file_unchanged(
        hocba_sign: Runner, test_pki: PkiLayout, trust_services: object,
        record_pdfs: list[bytes], tmp_path: Path) -> None:
    """CONTRACT 4: a principal cannot sign a record the homeroom teacher has not signed;
    the message names the missing role, the file stays byte-identical."""
    p = _write(tmp_path, record_pdfs[0])
    rc, err = hocba_sign("--role", "principal", "--level", "B-B",
                         "--key", str(test_pki.p12("principal")), "--in-place", str(p))
    assert rc == 1
    lang = cli_lang()  # as `hocba sign` just set it (Vietnamese: no --lang, no HOCBA_LANG)
    assert t("signer.pades.order_missing", lang, missing=Role.TEACHER.label(lang),
             role=Role.PRINCIPAL.label(lang)) in err
    assert "Giáo viên chủ nhiệm" in err
    assert p.read_bytes() == record_pdfs[0]
    assert not [f for f in tmp_path.iterdir() if f.name.startswith(".")]  # no temp files left


def test_out_of_order_teacher_after_principal_refused_file_unchanged(
        hocba_sign: Runner, test_pki: PkiLayout, trust_services: object,
        record_pdfs: list[bytes], tmp_path: Path) -> None:
    # A school whose policy requires only the principal: the principal signs first...
    cfg = test_pki.config.parent / "principal-only.toml"  # beside it: same relative paths
    cfg.write_text(test_pki.config.read_text().replace(
        'required_roles = ["teacher", "principal"]', 'required_roles = ["principal"]'))
    assert cfg.read_text() != test_pki.config.read_text()
    p = _write(tmp_path, record_pdfs[0])
    rc, err = hocba_sign("--config", str(cfg), "--role", "principal", "--level", "B-B",
                         "--key", str(test_pki.p12("principal")), "--in-place", str(p))
    assert rc == 0, err
    before = p.read_bytes()
    # ... and a teacher after the principal is still refused: the order holds both ways.
    rc, err = hocba_sign("--role", "teacher", "--level", "B-B",
                         "--key", str(test_pki.p12("teacher")), "--in-place", str(p))
    assert rc == 1
    lang = cli_lang()
    assert t("signer.pades.order_later", lang, first=Role.PRINCIPAL.label(lang),
             field="Sig_principal", role=Role.TEACHER.label(lang)) in err, err
    assert "sai thứ tự ký" in err
    assert p.read_bytes() == before


@pytest.mark.parametrize("label,role,expect", [
    pytest.param("teacher_expired", "teacher", "hết hạn", id="expired-certificate"),
    pytest.param("teacher_revoked", "teacher", t("signer.precheck.refused.revoked", "vi"),
                 id="revoked-certificate"),
    pytest.param("teacher_nousage", "teacher", "không có mục đích ký số", id="no-signing-key-usage"),
    pytest.param("rogue_teacher", "teacher", t("signer.precheck.refused.untrusted", "vi"),
                 id="untrusted-rogue-root"),
    pytest.param("principal", "teacher", t(
        "signer.precheck.role_mismatch", "vi", actual=Role.PRINCIPAL.label("vi"),
        role=Role.TEACHER.label("vi")), id="role-mismatch-principal-as-teacher"),
    pytest.param("teacher", "seal", t(
        "signer.precheck.role_mismatch", "vi", actual=Role.TEACHER.label("vi"),
        role=Role.SEAL.label("vi")), id="role-mismatch-teacher-as-seal"),
])
def test_bad_certificate_refused(hocba_sign: Runner, test_pki: PkiLayout, trust_services: object,
                                 record_pdfs: list[bytes], tmp_path: Path, label: str, role: str,
                                 expect: str) -> None:
    p = _write(tmp_path, record_pdfs[1])
    out = tmp_path / "out"
    out.mkdir()
    rc, err = hocba_sign("--role", role, "--level", "B-B", "--key", str(test_pki.p12(label)),
                         "--out", str(out), str(p))
    assert rc == 1, err
    assert expect in err, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    # the signer named in words of the message's language, never asn1crypto's English
    assert "Common Name" not in err and "Title:" not in err, err
    if label.startswith(("teacher_", "rogue")):  # refused by the judge: names the signer
        assert "Tên: " in err, err
    assert p.read_bytes() == record_pdfs[1]
    assert list(out.iterdir()) == []


def test_batch_with_garbage_file_signs_the_rest(hocba_sign: Runner, test_pki: PkiLayout,
                                                trust_services: object, record_pdfs: list[bytes],
                                                tmp_path: Path) -> None:
    good = [_write(tmp_path, pdf, f"r{i}.pdf") for i, pdf in enumerate(record_pdfs[:2])]
    garbage = _write(tmp_path, b"\x00\x01not a record at all", "garbage.pdf")
    truncated = _write(tmp_path, record_pdfs[2][:4000], "truncated.pdf")
    out = tmp_path / "out"
    out.mkdir()
    rc, err = hocba_sign("--role", "teacher", "--level", "B-B", "--key",
                         str(test_pki.p12("teacher")), "--out", str(out),
                         str(good[0]), str(garbage), str(truncated), str(good[1]))
    assert rc == 1
    assert "garbage.pdf" in err and "truncated.pdf" in err and "Traceback" not in err
    assert sorted(f.name for f in out.iterdir()) == ["r0.pdf", "r1.pdf"]
    assert garbage.read_bytes() == b"\x00\x01not a record at all"
    assert truncated.read_bytes() == record_pdfs[2][:4000]
    assert "2/4" in err


def test_same_role_twice_refused(hocba_sign: Runner, test_pki: PkiLayout, trust_services: object,
                                 record_pdfs: list[bytes], tmp_path: Path) -> None:
    p = _write(tmp_path, record_pdfs[0])
    args = ("--role", "teacher", "--level", "B-B", "--key", str(test_pki.p12("teacher")),
            "--in-place", str(p))
    assert hocba_sign(*args)[0] == 0
    before = p.read_bytes()
    rc, err = hocba_sign(*args)
    lang = cli_lang()
    assert rc == 1 and t("signer.pades.already_signed", lang, role=Role.TEACHER.label(lang),
                         field="Sig_teacher") in err, err
    assert p.read_bytes() == before


def test_no_pin_without_terminal_is_usage_error(monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str],
                                                test_pki: PkiLayout, tmp_path: Path) -> None:
    from hocba.cli import main

    monkeypatch.delenv("HOCBA_PIN", raising=False)
    monkeypatch.setattr("sys.stdin", open("/dev/null"))
    p = _write(tmp_path, b"%PDF-1.4\n")
    rc = main(["sign", "--config", str(test_pki.config), "--role", "teacher",
               "--key", str(test_pki.p12("teacher")), "--in-place", str(p)])
    assert rc == 2
    assert "HOCBA_PIN" in capsys.readouterr().err


def test_out_directory_is_created_like_records_sample_does(
        hocba_sign: Runner, test_pki: PkiLayout, trust_services: object,
        record_pdfs: list[bytes], tmp_path: Path) -> None:
    p = _write(tmp_path, record_pdfs[0])
    out = tmp_path / "new" / "signed"
    rc, err = hocba_sign("--role", "teacher", "--level", "B-B",
                         "--key", str(test_pki.p12("teacher")), "--out", str(out), str(p))
    assert rc == 0, err
    assert (out / p.name).read_bytes().startswith(b"%PDF") and p.read_bytes() == record_pdfs[0]


def test_missing_pkcs11_module_is_named(hocba_sign: Runner, record_pdfs: list[bytes],
                                        tmp_path: Path) -> None:
    p = _write(tmp_path, record_pdfs[0])
    lib = tmp_path / "no-such-pkcs11.so"
    rc, err = hocba_sign("--role", "teacher", "--pkcs11-module", str(lib), "--token-label", "t",
                         "--in-place", str(p))
    assert rc == 2
    assert t("signer.keys.module_not_found", cli_lang(), module=str(lib)) in err, err
    assert p.read_bytes() == record_pdfs[0]


# -- a B-B batch in worker processes: the pre-check runs while the workers sign ---------------

def _slow_precheck(monkeypatch: pytest.MonkeyPatch, finished: list[float]) -> None:
    """The pre-check takes a second (a slow OCSP responder): long enough for the workers to
    sign, and to write if anything let them before the pre-check decided."""
    import time

    import signer.precheck as precheck

    original = precheck.precheck_signer

    def slow(*a: object, **kw: object) -> object:
        time.sleep(1.0)
        try:
            return original(*a, **kw)  # type: ignore[arg-type]
        finally:
            finished.append(time.time())

    monkeypatch.setattr(precheck, "precheck_signer", slow)


@pytest.mark.parametrize("label,role", [
    pytest.param("teacher_revoked", "teacher", id="revoked-certificate"),
    pytest.param("principal", "teacher", id="role-mismatch-principal-as-teacher"),
])
@pytest.mark.parametrize("in_place", [False, True], ids=["out-dir", "in-place"])
def test_parallel_batch_refused_by_deferred_precheck_writes_nothing(
        hocba_sign: Runner, test_pki: PkiLayout, trust_services: object,
        record_pdfs: list[bytes], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        label: str, role: str, in_place: bool) -> None:
    from signer.batch import PARALLEL_THRESHOLD

    finished: list[float] = []
    _slow_precheck(monkeypatch, finished)
    src = tmp_path / "in"
    src.mkdir()
    files = [_write(src, record_pdfs[i % 3], f"r{i:03d}.pdf") for i in range(PARALLEL_THRESHOLD + 4)]
    out = tmp_path / "out"
    where = ("--in-place",) if in_place else ("--out", str(out))
    rc, err = hocba_sign("--role", role, "--level", "B-B", "--key", str(test_pki.p12(label)),
                         *where, *map(str, files))
    assert finished, "the pre-check did not run"
    assert rc == 1, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    assert all(f.read_bytes() == record_pdfs[i % 3] for i, f in enumerate(files))
    assert sorted(p.name for p in src.iterdir()) == [f.name for f in files]  # no temp files
    assert not out.exists() or list(out.iterdir()) == []


def test_parallel_batch_writes_only_after_the_deferred_precheck_passed(
        hocba_sign: Runner, test_pki: PkiLayout, trust_services: object,
        record_pdfs: list[bytes], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from signer.batch import PARALLEL_THRESHOLD

    finished: list[float] = []
    _slow_precheck(monkeypatch, finished)
    files = [_write(tmp_path, record_pdfs[i % 3], f"r{i:03d}.pdf")
             for i in range(PARALLEL_THRESHOLD + 4)]
    out = tmp_path / "out"
    rc, err = hocba_sign("--role", "teacher", "--level", "B-B", "--key",
                         str(test_pki.p12("teacher")), "--out", str(out), *map(str, files))
    assert rc == 0, err
    written = sorted(out.iterdir())
    assert [p.name for p in written] == [f.name for f in files]
    for p, f in zip(written, files):  # each an incremental update adding a signature
        signed, original = p.read_bytes(), f.read_bytes()
        assert signed.startswith(original) and b"/ByteRange" in signed[len(original):]
    # nothing reached the disk before the pre-check had passed
    assert min(p.stat().st_mtime for p in written) >= finished[0] - 0.01
