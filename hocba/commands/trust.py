"""``hocba trust list|add|check`` (CONTRACT 9): the trust anchors in effect.

``list`` shows the anchors a verification would use (the config's ``[trust] anchors``,
its ``[trust] bundles`` and any ``--trust-bundle``) and the untrusted intermediates
offered to path building; ``add`` imports one CA certificate, chosen by its SHA-256
fingerprint, from a PEM, DER or PKCS#7 (.p7b) file into the config's anchors;
``check`` warns about anchors that expired or expire soon.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import stat
import sys
import tempfile
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from asn1crypto import x509

from ground.config import Config, load_config
from ground.errors import HocbaError, UsageError

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

_COMMON_HELP = {
    "config": "hocba.toml (mặc định: $HOCBA_CONFIG) — the configuration (default: $HOCBA_CONFIG)",
    "bundle": ("thêm một bộ chứng thư đi kèm (lặp lại được), ví dụ vn — add a shipped trust "
               "bundle (repeatable), e.g. vn: the Vietnamese national roots (NEAC, VGCA) and "
               "licensed CAs of config/trust/vn"),
    "lang": "ngôn ngữ: vi (mặc định) hoặc en — output language: vi (default) or en",
}


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    p = sub.add_parser(
        "trust",
        help="chứng thư gốc tin cậy: liệt kê, thêm, kiểm tra — trust anchors: list, add, "
             "check the anchors in effect",
        description=(
            "Quản lý chứng thư số gốc tin cậy (trust anchors) dùng khi xác thực. "
            "Manage the trust anchors used for verification: the config's [trust] anchors, "
            "its [trust] bundles and shipped bundles given with --trust-bundle "
            "(config/trust/README.md lists every shipped certificate with its SHA-256 and source)."),
    )
    tsub = p.add_subparsers(dest="trust_command", metavar="ACTION", required=True)

    ls = tsub.add_parser(
        "list",
        help="liệt kê chứng thư gốc đang dùng — list the anchors in effect",
        description=(
            "Liệt kê các chứng thư gốc tin cậy đang có hiệu lực (tên, thời hạn, SHA-256, nguồn), "
            "sau đó là các chứng thư trung gian dùng để dựng chuỗi. "
            "Lists the trust anchors in effect (subject, validity, SHA-256, where each comes "
            "from), then the untrusted intermediates offered to path building. "
            "Exit codes: 0 at least one anchor; 1 no anchor at all (verification would refuse "
            "to run); 2 usage or configuration error."),
    )
    _common(ls)
    ls.add_argument("--format", choices=("text", "json"), default="text",
                    help="text (mặc định) hoặc json — output as text (the default) or as "
                         "JSON")
    ls.set_defaults(func=run_list)

    add = tsub.add_parser(
        "add",
        help="thêm chứng thư gốc vào cấu hình — import a trust anchor into the config",
        description=(
            "Nhập chứng thư CA có vân tay SHA-256 đã cho từ tệp PEM, DER hoặc PKCS#7 (.p7b) "
            "(tải từ rootca.gov.vn / ca.gov.vn) vào [trust] anchors của cấu hình. "
            "Imports the CA certificate with the given SHA-256 fingerprint from a PEM, DER or "
            "PKCS#7 (.p7b) file (as downloaded from rootca.gov.vn / ca.gov.vn): it is written "
            "as PEM to trust/<name>-<first 8 hex>.pem beside the config and appended to the "
            "config's [trust] anchors; the rest of the config, comments included, is kept. "
            "Compare the fingerprint with one published by the CA, never with the file itself. "
            "Exit codes: 0 imported or already present; 1 refused (no certificate in the file "
            "has that fingerprint, or it is not a CA certificate), nothing changed; 2 usage "
            "error (no config, unreadable file, not a certificate, bad fingerprint)."),
    )
    add.add_argument("file", type=Path, metavar="FILE",
                     help="tệp chứng thư PEM, DER hoặc PKCS#7 (.p7b) — a PEM, DER or PKCS#7 "
                          "(.p7b) file")
    add.add_argument("--sha256", required=True, metavar="HEX",
                     help="vân tay SHA-256 của chứng thư cần nhập (có hoặc không có dấu ':' / "
                          "khoảng trắng, chữ hoa hay thường) — the SHA-256 fingerprint of the "
                          "certificate to import (colons/spaces and case do not matter)")
    add.add_argument("--config", type=Path, default=None,
                     help="hocba.toml cần sửa (mặc định: $HOCBA_CONFIG; bắt buộc) — the config to "
                          "change (default: $HOCBA_CONFIG; one of them is required)")
    add.add_argument("--lang", choices=("vi", "en"), default="vi", help=_COMMON_HELP["lang"])
    add.set_defaults(func=run_add)

    chk = tsub.add_parser(
        "check",
        help="kiểm tra hạn của chứng thư gốc — check anchors for expiry",
        description=(
            "Liệt kê chứng thư gốc đã hết hạn hoặc sắp hết hạn; chứng thư trung gian hết hạn chỉ "
            "được nêu để biết (vẫn giữ để xác thực chữ ký cũ có dấu thời gian). "
            "Lists anchors that have expired and anchors that expire within --within-days; "
            "expired intermediates are reported as information only (they are kept to verify "
            "old signatures with proof of existence). "
            "Exit codes: 0 no anchor in effect has expired (anchors expiring soon are warnings); "
            "1 an anchor in effect has expired, or there is no anchor at all; 2 usage or "
            "configuration error."),
    )
    _common(chk)
    chk.add_argument("--within-days", type=int, default=365, metavar="N",
                     help="cảnh báo chứng thư gốc hết hạn trong N ngày tới (mặc định 365) — warn "
                          "about anchors expiring within N days (default 365)")
    chk.add_argument("--format", choices=("text", "json"), default="text",
                     help="text (mặc định) hoặc json — output as text (the default) or as "
                          "JSON")
    chk.set_defaults(func=run_check)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", type=Path, default=None, help=_COMMON_HELP["config"])
    p.add_argument("--trust-bundle", action="append", default=[], metavar="NAME",
                   help=_COMMON_HELP["bundle"])
    p.add_argument("--lang", choices=("vi", "en"), default="vi", help=_COMMON_HELP["lang"])


# -- the certificates in effect -----------------------------------------------------------
@dataclass
class Entry:
    cert: x509.Certificate
    sources: list[str]

    @property
    def sha256(self) -> str:
        digest: bytes = self.cert.sha256
        return digest.hex()

    @property
    def not_before(self) -> datetime:
        value: datetime = self.cert["tbs_certificate"]["validity"]["not_before"].native
        return value

    @property
    def not_after(self) -> datetime:
        value: datetime = self.cert["tbs_certificate"]["validity"]["not_after"].native
        return value

    def to_dict(self, now: datetime) -> dict[str, Any]:
        return {
            "subject": subject_string(self.cert),
            "issuer": issuer_string(self.cert),
            "not_before": self.not_before.isoformat(),
            "not_after": self.not_after.isoformat(),
            "sha256": self.sha256,
            "expired": self.not_after < now,
            "sources": list(self.sources),
        }


def _name_string(cert: x509.Certificate, which: str) -> str:
    """RFC 4514 text (CN first), Vietnamese diacritics intact, NFC."""
    from cryptography import x509 as cx509

    try:
        c = cx509.load_der_x509_certificate(cert.dump())
        text = (c.subject if which == "subject" else c.issuer).rfc4514_string()
    except Exception:
        name: x509.Name = cert.subject if which == "subject" else cert.issuer
        text = str(name.human_friendly)
    return unicodedata.normalize("NFC", text)


def subject_string(cert: x509.Certificate) -> str:
    return _name_string(cert, "subject")


def issuer_string(cert: x509.Certificate) -> str:
    return _name_string(cert, "issuer")


def _display(path: Path, base: Path | None) -> str:
    if base is not None:
        try:
            return path.relative_to(base).as_posix()
        except ValueError:
            pass
    return str(path)


def _collect(cfg: Config, extra_bundles: list[str]) -> tuple[list[Entry], list[Entry]]:
    """``(anchors, intermediates)`` in effect, each once (by SHA-256), with their origins."""
    from ground.bundles import UnknownBundle, bundle_files
    from ground.certificates import load_certificates

    anchors: dict[bytes, Entry] = {}
    helpers: dict[bytes, Entry] = {}

    def put(into: dict[bytes, Entry], path: Path, origin: str) -> None:
        for c in load_certificates(path):
            e = into.get(c.sha256)
            if e is None:
                into[c.sha256] = Entry(c, [origin])
            elif origin not in e.sources:
                e.sources.append(origin)

    base = cfg.source.parent if cfg.source is not None else None
    for p in cfg.trust.anchors:
        put(anchors, p, f"file {_display(p, base)}")
    for p in cfg.trust.intermediates:
        put(helpers, p, f"file {_display(p, base)}")
    for name in dict.fromkeys((*cfg.trust.bundles, *extra_bundles)):
        try:
            files = bundle_files(name)
        except UnknownBundle as e:
            raise UsageError(str(e)) from None
        for p in files.anchors:
            put(anchors, p, f"bundle {name}: {_display(p, files.directory)}")
        for p in files.intermediates:
            put(helpers, p, f"bundle {name}: {_display(p, files.directory)}")
    # An anchor offered again as an intermediate is listed once, as an anchor.
    for k in list(helpers):
        if k in anchors:
            del helpers[k]
    return list(anchors.values()), list(helpers.values())


def _tr(lang: str, vi: str, en: str) -> str:
    return unicodedata.normalize("NFC", vi if lang == "vi" else en)


def _fmt_entry(e: Entry, lang: str, now: datetime) -> str:
    from ground.findings import fmt_time

    state = ""
    if e.not_after < now:
        state = _tr(lang, "  [ĐÃ HẾT HẠN]", "  [EXPIRED]")
    return "\n".join((
        f"  {subject_string(e.cert)}{state}",
        _tr(lang, "    Hiệu lực: từ ", "    Valid: from ") + fmt_time(e.not_before)
        + _tr(lang, " đến ", " to ") + fmt_time(e.not_after),
        f"    SHA-256: {e.sha256}",
        _tr(lang, "    Nguồn: ", "    Source: ") + "; ".join(e.sources),
    ))


def _no_anchors(lang: str) -> str:
    return _tr(
        lang,
        "Không có chứng thư gốc tin cậy nào: hãy khai báo [trust] anchors hoặc "
        "[trust] bundles = [\"vn\"] trong cấu hình, hoặc dùng --trust-bundle vn.",
        "No trust anchors: set [trust] anchors or [trust] bundles = [\"vn\"] in the "
        "configuration, or pass --trust-bundle vn.")


# -- list ---------------------------------------------------------------------------------
def run_list(args: argparse.Namespace) -> int:
    cfg = load_config(args.config)
    anchors, helpers = _collect(cfg, args.trust_bundle)
    now = datetime.now(timezone.utc)
    lang = args.lang
    if args.format == "json":
        out = {
            "config": str(cfg.source) if cfg.source else None,
            "anchors": [e.to_dict(now) for e in anchors],
            "intermediates": [e.to_dict(now) for e in helpers],
        }
        sys.stdout.write(json.dumps(out, ensure_ascii=False, indent=2) + "\n")
        if not anchors:
            print(f"hocba: {_no_anchors(lang)}", file=sys.stderr)
        return EXIT_OK if anchors else EXIT_FAILED
    if not anchors:
        print(_no_anchors(lang))
        return EXIT_FAILED
    lines = [_tr(lang, f"Chứng thư gốc tin cậy ({len(anchors)}):",
                 f"Trust anchors ({len(anchors)}):")]
    lines += [_fmt_entry(e, lang, now) for e in anchors]
    if helpers:
        lines.append("")
        lines.append(_tr(lang,
                         f"Chứng thư trung gian dùng để dựng chuỗi, không phải gốc tin cậy "
                         f"({len(helpers)}):",
                         f"Intermediates offered to path building, not trusted as anchors "
                         f"({len(helpers)}):"))
        lines += [_fmt_entry(e, lang, now) for e in helpers]
    sys.stdout.write("\n".join(lines) + "\n")
    return EXIT_OK


# -- check --------------------------------------------------------------------------------
def run_check(args: argparse.Namespace) -> int:
    from ground.findings import fmt_time

    if args.within_days < 0:
        raise UsageError(f"--within-days phải ≥ 0 — must be 0 or more, got {args.within_days}")
    cfg = load_config(args.config)
    anchors, helpers = _collect(cfg, args.trust_bundle)
    lang = args.lang
    now = datetime.now(timezone.utc)
    soon = now + timedelta(days=args.within_days)
    expired = [e for e in anchors if e.not_after < now]
    expiring = [e for e in anchors if now <= e.not_after < soon]
    old_helpers = [e for e in helpers if e.not_after < now]
    code = EXIT_FAILED if expired or not anchors else EXIT_OK
    if args.format == "json":
        out = {
            "anchors": len(anchors),
            "expired_anchors": [e.to_dict(now) for e in expired],
            "expiring_anchors": [e.to_dict(now) for e in expiring],
            "expired_intermediates": [e.to_dict(now) for e in old_helpers],
            "within_days": args.within_days,
            "ok": code == EXIT_OK,
        }
        sys.stdout.write(json.dumps(out, ensure_ascii=False, indent=2) + "\n")
        if not anchors:
            print(f"hocba: {_no_anchors(lang)}", file=sys.stderr)
        return code
    if not anchors:
        print(_no_anchors(lang))
        return code
    lines: list[str] = []

    def row(e: Entry) -> str:
        past = e.not_after < now
        return (f"  {subject_string(e.cert)} — "
                + (_tr(lang, "đã hết hạn ", "expired ") if past else
                   _tr(lang, "hết hạn ", "expires ")) + fmt_time(e.not_after)
                + f"\n    SHA-256: {e.sha256}\n    "
                + _tr(lang, "Nguồn: ", "Source: ") + "; ".join(e.sources))

    if expired:
        lines.append(_tr(lang, f"LỖI: {len(expired)} chứng thư gốc đã hết hạn "
                               "(hãy thay bằng chứng thư gốc mới):",
                         f"ERROR: {len(expired)} trust anchor(s) have expired "
                         "(replace them with current roots):"))
        lines += [row(e) for e in expired]
    if expiring:
        lines.append(_tr(lang, f"CẢNH BÁO: {len(expiring)} chứng thư gốc hết hạn trong "
                               f"{args.within_days} ngày tới:",
                         f"WARNING: {len(expiring)} trust anchor(s) expire within "
                         f"{args.within_days} days:"))
        lines += [row(e) for e in expiring]
    if old_helpers:
        lines.append(_tr(lang, f"Thông tin: {len(old_helpers)} chứng thư trung gian đã hết hạn, "
                               "vẫn được giữ để xác thực chữ ký cũ có dấu thời gian:",
                         f"Info: {len(old_helpers)} intermediate(s) have expired; they are kept "
                         "to verify old signatures with a timestamp:"))
        lines += [row(e) for e in old_helpers]
    valid = len(anchors) - len(expired)
    if code == EXIT_OK:
        lines.append(_tr(lang, f"Chứng thư gốc: {valid}/{len(anchors)} còn hạn"
                               + (", có cảnh báo." if expiring else "; không có vấn đề."),
                         f"Trust anchors: {valid}/{len(anchors)} valid"
                         + (", with warnings." if expiring else "; no problems.")))
    else:
        lines.append(_tr(lang, f"Chứng thư gốc: {valid}/{len(anchors)} còn hạn.",
                         f"Trust anchors: {valid}/{len(anchors)} valid."))
    sys.stdout.write("\n".join(lines) + "\n")
    return code


# -- add ----------------------------------------------------------------------------------
_HEX = re.compile(r"[0-9a-f]{64}")


def normalise_fingerprint(value: str) -> str:
    """``AB:CD ...`` / ``abcd...`` / ``sha256:...`` -> 64 lower-case hex digits."""
    v = value.strip().lower()
    if v.startswith("sha256:") or v.startswith("sha-256:"):
        v = v.split(":", 1)[1]
    v = re.sub(r"[\s:\-]", "", v)
    if not _HEX.fullmatch(v):
        raise UsageError(
            f"--sha256: cần 64 chữ số hex — expected 64 hexadecimal digits, got {value!r}")
    return v


def sanitised_name(cert: x509.Certificate) -> str:
    """An ASCII file-name stem from the certificate's CN (else O), diacritics removed."""
    subject = cert.subject.native
    name = str(subject.get("common_name") or subject.get("organization_name") or "ca")
    if isinstance(subject.get("common_name"), list):  # several CNs
        name = str(subject["common_name"][0])
    name = name.replace("đ", "d").replace("Đ", "D")
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    stem = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:48].strip("-")
    return stem or "ca"


def _is_ca(cert: x509.Certificate) -> bool:
    bc = cert.basic_constraints_value
    return bool(bc is not None and bc["ca"].native)


def _config_path(args: argparse.Namespace) -> Path:
    if args.config is not None:
        return Path(args.config)
    env = os.environ.get("HOCBA_CONFIG")
    if env:
        return Path(env)
    raise UsageError("trust add: cần một cấu hình (--config hoặc HOCBA_CONFIG) — needs a "
                     "configuration to change: give --config FILE or set HOCBA_CONFIG")


def run_add(args: argparse.Namespace) -> int:
    from ground.certificates import NotACertificate, parse_certificates

    lang = args.lang
    wanted = normalise_fingerprint(args.sha256)
    cfg_path = _config_path(args)
    cfg = load_config(cfg_path)  # a bad config is refused before anything is read or written
    cfg_file = cfg_path.resolve()
    file: Path = args.file
    try:
        data = file.read_bytes()
    except OSError as e:
        raise UsageError(f"{file}: không đọc được — cannot read: {e.strerror or e}") from None
    try:
        certs = parse_certificates(data)
    except NotACertificate:
        certs = []
    if not certs:
        raise UsageError(f"{file}: không phải tệp chứng thư số — not a PEM, DER or PKCS#7 "
                         "certificate file")
    match = next((c for c in certs if c.sha256.hex() == wanted), None)
    if match is None:
        held = ", ".join(f"{c.sha256.hex()} ({subject_string(c)})" for c in certs)
        raise HocbaError(f"{file}: không có chứng thư nào có SHA-256 {wanted}; không thay đổi gì "
                         f"— no certificate in the file has SHA-256 {wanted}, nothing changed; "
                         f"the file holds: {held}")
    if not _is_ca(match):
        raise HocbaError(f"{file}: {subject_string(match)} không phải chứng thư CA "
                         "(basicConstraints cA) nên không thể là gốc tin cậy; không thay đổi gì — "
                         "not a CA certificate (no basicConstraints cA=TRUE): an end-entity "
                         "certificate is not a trust anchor; nothing changed")
    anchors, _ = _collect(cfg, [])
    for present in anchors:
        if present.cert.sha256 == match.sha256:
            where = "; ".join(present.sources)
            print(_tr(lang, f"Đã có sẵn trong chứng thư gốc tin cậy ({where}): "
                            f"{subject_string(match)}; không thay đổi gì.",
                      f"Already a trust anchor ({where}): "
                      f"{subject_string(match)}; nothing changed."))
            return EXIT_OK
    rel, pem_path, pem_new = _pem_target(cfg_file.parent, match)
    new_text = _config_with_anchor(cfg_file, rel)
    created_dir = not pem_path.parent.exists()
    try:
        if pem_new:
            pem_path.parent.mkdir(parents=True, exist_ok=True)
            _atomic_write(pem_path, _pem(match).encode("ascii"), mode=0o644)
        _replace_config(cfg_file, new_text)
    except BaseException:
        if pem_new:
            pem_path.unlink(missing_ok=True)
            if created_dir:
                try:
                    pem_path.parent.rmdir()
                except OSError:
                    pass
        raise
    print(_tr(lang, f"Đã thêm chứng thư gốc tin cậy {subject_string(match)}\n"
                    f"  SHA-256: {wanted}\n  Tệp: {pem_path}\n  Cấu hình: {cfg_file} "
                    f"([trust] anchors += \"{rel}\")",
              f"Added trust anchor {subject_string(match)}\n"
              f"  SHA-256: {wanted}\n  File: {pem_path}\n  Config: {cfg_file} "
              f"([trust] anchors += \"{rel}\")"))
    return EXIT_OK


def _pem(cert: x509.Certificate) -> str:
    from asn1crypto import pem

    text: bytes = pem.armor("CERTIFICATE", cert.dump())
    return text.decode("ascii")


def _pem_target(base: Path, cert: x509.Certificate) -> tuple[str, Path, bool]:
    """``(path relative to the config, absolute path, must be written)``."""
    stem = f"{sanitised_name(cert)}-{cert.sha256.hex()[:8]}"
    for n in range(1, 100):
        name = f"{stem}.pem" if n == 1 else f"{stem}-{n}.pem"
        path = base / "trust" / name
        if not path.exists():
            return f"trust/{name}", path, True
        try:
            from ground.certificates import parse_certificates

            if [c.sha256 for c in parse_certificates(path.read_bytes())] == [cert.sha256]:
                return f"trust/{name}", path, False  # the same certificate is already there
        except (OSError, ValueError):
            pass
    raise HocbaError(f"{base / 'trust'}: quá nhiều tệp trùng tên — too many files named {stem}*")


def _config_with_anchor(cfg_file: Path, rel: str) -> str:
    """The config's text with ``rel`` appended to ``[trust] anchors``; all else kept."""
    import tomlkit
    from tomlkit.exceptions import TOMLKitError

    try:
        text = cfg_file.read_bytes().decode("utf-8")
        doc = tomlkit.parse(text)
    except (OSError, UnicodeDecodeError, TOMLKitError) as e:
        raise UsageError(f"{cfg_file}: không sửa được cấu hình — cannot edit the "
                         f"configuration: {e}") from None
    trust = doc.get("trust")
    if trust is None:
        table = tomlkit.table()
        table.add("anchors", _array(rel))
        doc.add("trust", table)
    else:
        anchors = trust.get("anchors")
        if anchors is None:
            trust["anchors"] = _array(rel)
        else:
            anchors.append(rel)
    return tomlkit.dumps(doc)


def _array(item: str) -> Any:
    import tomlkit

    arr = tomlkit.array()
    arr.append(item)
    return arr


def _atomic_write(path: Path, data: bytes, mode: int) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _replace_config(cfg_file: Path, text: str) -> None:
    """Write the new config beside the old one, check that it loads, then swap it in."""
    from ground.errors import ConfigError

    mode = stat.S_IMODE(cfg_file.stat().st_mode)
    fd, tmp = tempfile.mkstemp(dir=cfg_file.parent, prefix=f".{cfg_file.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(text.encode("utf-8"))
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        try:
            load_config(tmp)
        except ConfigError as e:
            raise HocbaError(f"{cfg_file}: cấu hình mới không hợp lệ, không thay đổi gì — the "
                             f"updated configuration would not load, nothing changed: {e}") from None
        os.replace(tmp, cfg_file)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
