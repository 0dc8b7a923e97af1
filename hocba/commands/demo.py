"""``hocba demo``: the main job in one command, on built-in defaults.

Builds the demo PKI (if absent), runs its OCSP/CRL/TSA in-process, writes a
class of sample record books, signs every PDF and XML as homeroom teacher
(B-T) → principal (B-T) → school seal (B-LTA), stops the trust services,
verifies everything offline, prints a summary and writes the HTML reports.
``--serve`` then opens the verifier page with the signed files ready to try.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ground.i18n import cli_lang, labels, t
from ground.errors import HocbaError, UsageError
from hocba.cli import add_lang_option
from hocba.ports import free_port, port_free

STEPS = (("teacher", "B-T"), ("principal", "B-T"), ("seal", "B-LTA"))

# A signing step: (key label, role, level, --claim-role)
Step = tuple[str, str, str, bool]
# A group of the class: (name, how its roles are proven, steps, expected verdict)
DEFAULT_GROUPS: tuple[tuple[str, str, tuple[Step, ...], str], ...] = (
    ("class", "title",
     tuple((r, r, lv, False) for r, lv in STEPS), "TOTAL_PASSED"),
)
# The VN profile (issue 13): personal certificates without title. The class is split
# in three: roles from the registry; a substitute teacher's declared role vouched for
# by the school's seal; the same declaration without the seal (never TOTAL_PASSED).
VN_GROUPS: tuple[tuple[str, str, tuple[Step, ...], str], ...] = (
    ("registry", "registry",
     (("teacher", "teacher", "B-T", False), ("principal", "principal", "B-T", False),
      ("seal", "seal", "B-LTA", False)), "TOTAL_PASSED"),
    ("seal", "seal",
     (("substitute", "teacher", "B-T", True), ("principal", "principal", "B-T", False),
      ("seal", "seal", "B-LTA", False)), "TOTAL_PASSED"),
    ("neither", "neither",
     (("substitute", "teacher", "B-T", True), ("principal", "principal", "B-LTA", False)),
     "INDETERMINATE"),
)



def register(sub: Any) -> None:
    lang = cli_lang()
    p = sub.add_parser("demo", help=t("cli.demo.help", lang),
                       description=t("cli.demo.desc", lang))
    p.add_argument("--out", type=Path, default=Path("demo-out"), metavar="DIR",
                   help=t("cli.demo.opt.out", lang))
    p.add_argument("--count", type=int, default=40, metavar="N",
                   help=t("cli.demo.opt.count", lang))
    p.add_argument("--profile", choices=("default", "vn"), default="default",
                   help=t("cli.demo.opt.profile", lang))
    p.add_argument("--port", type=int, default=None, help=t("cli.demo.opt.port", lang))
    add_lang_option(p, "cli.demo.opt.lang")
    p.add_argument("--serve", action="store_true", help=t("cli.demo.opt.serve", lang))
    p.add_argument("--serve-port", type=int, default=None, metavar="PORT",
                   help=t("cli.demo.opt.serve_port", lang))
    p.set_defaults(func=run)


def _services_port(pki_dir: Path, requested: int | None, default: int) -> int:
    """The trust services' port: the one asked for (a clear error when it is taken), else
    the existing demo PKI's port when free, else the default when free, else any free
    port. The demo PKI is scratch: when its port is taken it is made again on a free one
    (its certificates carry the service URLs)."""
    from ground.config import load_config

    if requested is not None:
        if not port_free(requested):
            raise UsageError("cli.err.port_in_use", port=requested)
        if (pki_dir / "hocba.toml").exists() and \
                load_config(pki_dir / "hocba.toml").services.port != requested:
            shutil.rmtree(pki_dir)
        return requested
    if (pki_dir / "hocba.toml").exists():
        existing = load_config(pki_dir / "hocba.toml").services.port
        if port_free(existing):
            return existing
        shutil.rmtree(pki_dir)
    return default if port_free(default) else free_port()


def _say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    from certs.pki import DEFAULT_PORT, DEMO_PIN, create_pki
    from certs.services import TrustServices
    from ground.config import load_config
    from ground.vocab import Indication, Level, Role
    from recordbook.pdf import render_pdf
    from recordbook.sample import sample_class
    from recordbook.xmlio import to_xml
    from signer.batch import Progress, run_files
    from signer.keys import KeySource
    from verifier.core import Verifier
    from verifier.html import render_html, render_index
    from ground.policy import Policy

    if not 1 <= args.count <= 10000:
        raise UsageError("cli.err.count_range", count=args.count)
    T = labels("demo", args.lang)
    out: Path = args.out.resolve()
    vn = args.profile == "vn"
    pki_dir = out / ("pki-vn" if vn else "pki")
    unsigned_dir, signed_dir, reports_dir = (
        out / "records", out / ("signed-vn" if vn else "signed"),
        out / ("reports-vn" if vn else "reports"))
    t0 = time.perf_counter()

    port = _services_port(pki_dir, args.port, DEFAULT_PORT)
    layout, created = create_pki(pki_dir, port=port, profile=args.profile)
    _say(T["pki_created" if created else "pki_existing"].format(dir=pki_dir))
    cfg = load_config(layout.config)

    unsigned_dir.mkdir(parents=True, exist_ok=True)
    records = sample_class(args.count, seed=0)
    for rec in records:
        (unsigned_dir / f"{rec.id}.xml").write_bytes(to_xml(rec))
        (unsigned_dir / f"{rec.id}.pdf").write_bytes(render_pdf(rec))
    _say(T["records"].format(n=len(records), dir=unsigned_dir, s="" if len(records) == 1 else "s"))

    if signed_dir.exists():
        shutil.rmtree(signed_dir)
    signed_dir.mkdir(parents=True)
    files = sorted(unsigned_dir.glob("*.pdf")) + sorted(unsigned_dir.glob("*.xml"))
    for f in files:
        shutil.copyfile(f, signed_dir / f.name)
    targets = [signed_dir / f.name for f in files]
    groups = VN_GROUPS if vn else DEFAULT_GROUPS
    # Pupils are split into the groups (a pupil's PDF and XML stay together).
    ids = [rec.id for rec in records]
    member = {rid: groups[min(len(groups) - 1, i * len(groups) // len(ids))][0]
              for i, rid in enumerate(ids)}
    group_of = {t: member.get(t.stem, groups[0][0]) for t in targets}

    services = TrustServices(layout.certomancer, host=cfg.services.host, port=cfg.services.port)
    try:
        services.start()
    except OSError as e:
        raise HocbaError("demo.services_failed", port=cfg.services.port,
                         error=e.strerror or str(e)) from None
    sign_seconds = 0.0
    signatures = 0
    try:
        _say(T["services"].format(url=services.base_url))
        for gname, how, steps, _ in groups:
            group_targets = [t for t in targets if group_of[t] == gname]
            if vn:
                _say(T["group"].format(name=gname, n=len(group_targets), how=T["how_" + how]))
            for label_key, role, level, claim in steps:
                seconds, count = _sign_step(cfg, layout.p12(label_key), Role(role), Level(level),
                                            claim, group_targets, args.lang)
                sign_seconds += seconds
                signatures += count
    finally:
        services.stop()
    _say(T["offline"])

    policy = Policy.from_config(cfg)
    verifier = Verifier(policy)
    started = time.perf_counter()
    reports = [verifier.verify(t.read_bytes(), name=t.name) for t in targets]
    verify_seconds = time.perf_counter() - started
    reports_dir.mkdir(parents=True, exist_ok=True)
    for rep in reports:
        (reports_dir / f"{rep.file}.html").write_text(render_html([rep], args.lang),
                                                       encoding="utf-8")
    (reports_dir / "index.html").write_text(
        render_index(reports, [f"{rep.file}.html" for rep in reports], args.lang),
        encoding="utf-8")

    verdicts = Counter(r.indication for r in reports)
    by_format = Counter((r.format, r.indication) for r in reports)
    lang = "en" if args.lang == "en" else "vi"

    def row(label: str, value: object) -> str:
        return f"  {label:<26}: {value}"

    pdfs = sum(1 for t in targets if t.suffix == ".pdf")
    lines = [
        "",
        T["summary"],
        row(T["l_records"], T["v_records"].format(pupils=len(records), files=len(targets),
                                                  pdf=pdfs, xml=len(targets) - pdfs,
                                                  s="" if len(records) == 1 else "s")),
        row(T["l_signatures"], T["v_signatures"].format(
            n=signatures, seconds=sign_seconds, rate=signatures / max(sign_seconds, 1e-9))),
    ]
    for ind in Indication:
        lines.append(row(ind.label(lang), f"{verdicts.get(ind, 0)}"
                     f"  (PDF {by_format.get(('pdf', ind), 0)}, XML {by_format.get(('xml', ind), 0)})"
                     f"  [{ind.value}]"))
    lines += [
        row(T["l_verification"], T["v_verification"].format(
            n=len(reports), seconds=verify_seconds,
            rate=len(reports) / max(verify_seconds, 1e-9))),
        row(T["l_reports"], reports_dir / "index.html"),
        row(T["l_signed"], signed_dir),
        row(T["l_total"], f"{time.perf_counter() - t0:.1f} s"),
    ]
    expected = {g[0]: g[3] for g in groups}
    by_name = {t.name: group_of[t] for t in targets}
    if vn:
        lines.append(row(T["l_groups"], ""))
        for gname, how, _, want in groups:
            got = Counter(r.indication.value for r in reports if by_name[r.file] == gname)
            lines.append(f"    {gname:<9} {T['how_' + how]}: " + ", ".join(
                f"{k} {v}" for k, v in sorted(got.items()))
                + f" ({T['expected'].format(want=want)})")
        sample = next((r for r in reports if by_name[r.file] == "neither"), None)
        if sample is not None:
            lines.append(T["example"].format(message=sample.message(lang)))
    print("\n".join(lines))
    bad = [rep for rep in reports if rep.indication.value != expected[by_name[rep.file]]]
    for rep in bad[:5]:
        sub = rep.subindication.value if rep.subindication else ""
        _say(f"  {rep.file}: {rep.indication.value} {sub} — {rep.message(args.lang)}")

    if args.serve:
        serve_port = args.serve_port
        if serve_port is None:
            serve_port = 8080 if port_free(8080) else free_port()
        elif not port_free(serve_port):
            raise UsageError("cli.demo.err.serve_port_in_use", port=serve_port)
        _serve(layout.config, serve_port, signed_dir, T)
    return 0 if not bad else 1


def _sign_step(cfg: Any, key: Path, role: Any, level: Any, claim: bool,
               targets: list[Path], lang: str = "vi") -> tuple[float, int]:
    """Sign ``targets`` in place as ``role``; (seconds, signatures made). A failure ends the demo."""
    from certs.pki import DEMO_PIN
    from signer.batch import Progress, run_files
    from signer.keys import KeySource

    progress = Progress(len(targets))
    progress.enabled = sys.stderr.isatty()
    T = labels("demo", lang)
    _say(T["signing"].format(role=role.label(lang), level=level.value,
                             claim=", --claim-role" if claim else ""))
    started = time.perf_counter()
    results = run_files(cfg, role, level, KeySource(p12=key), DEMO_PIN, targets, None,
                        on_result=lambda r: progress.update(r.ok), claim_role=claim)
    progress.finish()
    seconds = time.perf_counter() - started
    failed = [r for r in results if not r.ok]
    if failed:
        for r in failed[:5]:
            _say(T["sign_error"].format(name=r.name, error=r.error))
        raise HocbaError("demo.sign_failed", n=len(failed), role=role.label(lang))
    return seconds, len(results)


def _serve(config: Path, port: int, signed_dir: Path, T: Mapping[str, str]) -> None:
    from werkzeug.serving import run_simple

    from verifier.app import create_app

    os.environ["HOCBA_CONFIG"] = str(config)
    app = create_app()
    _say(T["page"].format(port=port, dir=signed_dir))
    import werkzeug.serving

    # ANSI colours only on a terminal (werkzeug colours its development-server warning
    # unconditionally; redirected logs would carry escape codes).
    werkzeug.serving._log_add_style = sys.stderr.isatty()
    run_simple("127.0.0.1", port, app, threaded=True)
