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
from ground.i18n import cli_lang, t
from hocba.cli import add_lang_option

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    lang = cli_lang()
    p = sub.add_parser("trust", help=t("cli.trust.help", lang),
                       description=t("cli.trust.desc", lang))
    add_lang_option(p)
    tsub = p.add_subparsers(dest="trust_command", metavar="ACTION", required=True)

    ls = tsub.add_parser("list", help=t("cli.trust.list.help", lang),
                         description=t("cli.trust.list.desc", lang))
    _common(ls)
    ls.add_argument("--format", choices=("text", "json"), default="text",
                    help=t("cli.trust.opt.format", lang))
    ls.set_defaults(func=run_list)

    add = tsub.add_parser("add", help=t("cli.trust.add.help", lang),
                          description=t("cli.trust.add.desc", lang))
    add.add_argument("file", type=Path, metavar="FILE", help=t("cli.trust.add.opt.file", lang))
    add.add_argument("--sha256", required=True, metavar="HEX",
                     help=t("cli.trust.add.opt.sha256", lang))
    add.add_argument("--config", type=Path, default=None,
                     help=t("cli.trust.add.opt.config", lang))
    add_lang_option(add)
    add.set_defaults(func=run_add)

    chk = tsub.add_parser("check", help=t("cli.trust.check.help", lang),
                          description=t("cli.trust.check.desc", lang))
    _common(chk)
    chk.add_argument("--within-days", type=int, default=365, metavar="N",
                     help=t("cli.trust.check.opt.within_days", lang))
    chk.add_argument("--format", choices=("text", "json"), default="text",
                     help=t("cli.trust.opt.format", lang))
    chk.set_defaults(func=run_check)


def _common(p: argparse.ArgumentParser) -> None:
    lang = cli_lang()
    p.add_argument("--config", type=Path, default=None, help=t("cli.opt.config", lang))
    p.add_argument("--trust-bundle", action="append", default=[], metavar="NAME",
                   help=t("cli.trust.opt.bundle", lang))
    add_lang_option(p)


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
            raise UsageError("cli.trust.err.bundle", name=name, detail=str(e)) from None
        for p in files.anchors:
            put(anchors, p, f"bundle {name}: {_display(p, files.directory)}")
        for p in files.intermediates:
            put(helpers, p, f"bundle {name}: {_display(p, files.directory)}")
    # An anchor offered again as an intermediate is listed once, as an anchor.
    for k in list(helpers):
        if k in anchors:
            del helpers[k]
    return list(anchors.values()), list(helpers.values())


def _fmt_entry(e: Entry, lang: str, now: datetime) -> str:
    from ground.findings import fmt_time

    state = t("cli.trust.l_expired", lang) if e.not_after < now else ""
    return "\n".join((
        f"  {subject_string(e.cert)}{state}",
        "    " + t("cli.trust.l_validity", lang, start=fmt_time(e.not_before),
                   end=fmt_time(e.not_after)),
        f"    SHA-256: {e.sha256}",
        "    " + t("cli.trust.l_sources", lang, sources="; ".join(e.sources)),
    ))


def _no_anchors(lang: str) -> str:
    return t("cli.trust.msg.no_anchors", lang)


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
    lines = [t("cli.trust.list.anchors", lang, n=len(anchors))]
    lines += [_fmt_entry(e, lang, now) for e in anchors]
    if helpers:
        lines.append("")
        lines.append(t("cli.trust.list.intermediates", lang, n=len(helpers)))
        lines += [_fmt_entry(e, lang, now) for e in helpers]
    sys.stdout.write("\n".join(lines) + "\n")
    return EXIT_OK


# -- check --------------------------------------------------------------------------------
def run_check(args: argparse.Namespace) -> int:
    from ground.findings import fmt_time

    if args.within_days < 0:
        raise UsageError("cli.trust.check.err.within_days", value=args.within_days)
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
        when = t("cli.trust.check.expired_on" if past else "cli.trust.check.expires_on", lang,
                 time=fmt_time(e.not_after))
        return (f"  {subject_string(e.cert)} — {when}\n    SHA-256: {e.sha256}\n    "
                + t("cli.trust.l_sources", lang, sources="; ".join(e.sources)))

    if expired:
        lines.append(t("cli.trust.check.expired", lang, n=len(expired)))
        lines += [row(e) for e in expired]
    if expiring:
        lines.append(t("cli.trust.check.expiring", lang, n=len(expiring),
                       days=args.within_days))
        lines += [row(e) for e in expiring]
    if old_helpers:
        lines.append(t("cli.trust.check.old_intermediates", lang, n=len(old_helpers)))
        lines += [row(e) for e in old_helpers]
    valid = len(anchors) - len(expired)
    if code == EXIT_OK:
        lines.append(t("cli.trust.check.ok_warnings" if expiring else "cli.trust.check.ok", lang,
                       valid=valid, n=len(anchors)))
    else:
        lines.append(t("cli.trust.check.failed", lang, valid=valid, n=len(anchors)))
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
        raise UsageError("cli.trust.add.err.sha256", value=repr(value))
    return v


def sanitised_name(cert: x509.Certificate) -> str:
    """An ASCII file-name stem from the certificate's CN (else O), diacritics removed."""
    subject = cert.subject.native
    name = str(subject.get("common_name") or subject.get("organization_name") or "ca")
    if isinstance(subject.get("common_name"), list):  # several CNs
        name = str(subject["common_name"][0])
    name = name.translate({0x111: "d", 0x110: "D"})  # đ, Đ: no decomposition to d, D
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
    raise UsageError("cli.trust.add.err.no_config")


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
        raise UsageError("cli.trust.add.err.cannot_read", path=file,
                         detail=e.strerror or str(e)) from None
    try:
        certs = parse_certificates(data)
    except NotACertificate:
        certs = []
    if not certs:
        raise UsageError("cli.trust.add.err.not_certificates", path=file)
    match = next((c for c in certs if c.sha256.hex() == wanted), None)
    if match is None:
        held = ", ".join(f"{c.sha256.hex()} ({subject_string(c)})" for c in certs)
        raise HocbaError("cli.trust.add.err.no_match", path=file, sha256=wanted, held=held)
    if not _is_ca(match):
        raise HocbaError("cli.trust.add.err.not_ca", path=file, subject=subject_string(match))
    anchors, _ = _collect(cfg, [])
    for present in anchors:
        if present.cert.sha256 == match.sha256:
            where = "; ".join(present.sources)
            print(t("cli.trust.add.msg.present", lang, where=where,
                    subject=subject_string(match)))
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
    print(t("cli.trust.add.msg.added", lang, subject=subject_string(match), sha256=wanted,
            file=pem_path, config=cfg_file, rel=rel))
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
    raise HocbaError("cli.trust.add.err.too_many", dir=base / "trust", stem=stem)


def _config_with_anchor(cfg_file: Path, rel: str) -> str:
    """The config's text with ``rel`` appended to ``[trust] anchors``; all else kept."""
    import tomlkit
    from tomlkit.exceptions import TOMLKitError

    try:
        text = cfg_file.read_bytes().decode("utf-8")
        doc = tomlkit.parse(text)
    except (OSError, UnicodeDecodeError, TOMLKitError) as e:
        raise UsageError("cli.trust.add.err.cannot_edit", config=cfg_file, detail=str(e)) from None
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
            raise HocbaError("cli.trust.add.err.would_not_load", config=cfg_file, cause=e) from None
        os.replace(tmp, cfg_file)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
