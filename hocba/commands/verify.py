"""``hocba verify`` (CONTRACT 5): a thin adapter over :class:`verifier.core.Verifier`."""
from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, timezone
from pathlib import Path

from ground.config import REVOCATION_MODES, load_config
from ground.errors import UsageError
from ground.i18n import cli_lang, t
from hocba import exitcodes
from hocba.cli import add_lang_option
from hocba.exitcodes import EXIT_FAILED, EXIT_INDETERMINATE, EXIT_OK, EXIT_USAGE


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    lang = cli_lang()
    p = sub.add_parser("verify", help=t("cli.verify.help", lang),
                       description=t("cli.verify.desc", lang) + " " + exitcodes.rule(lang))
    p.add_argument("files", nargs="+", metavar="FILE", help=t("cli.verify.opt.files", lang))
    p.add_argument("--config", type=Path, default=None, help=t("cli.verify.opt.config", lang))
    p.add_argument("--trust-anchor", action="append", default=[], metavar="PEM",
                   help=t("cli.verify.opt.trust_anchor", lang))
    p.add_argument("--trust-bundle", action="append", default=[], metavar="NAME",
                   help=t("cli.verify.opt.trust_bundle", lang))
    p.add_argument("--revocation", choices=REVOCATION_MODES, default=None,
                   help=t("cli.verify.opt.revocation", lang))
    p.add_argument("--require-roles", default=None, metavar="ROLE[,ROLE...]",
                   help=t("cli.verify.opt.require_roles", lang))
    p.add_argument("--format", choices=("text", "json"), default="text",
                   help=t("cli.verify.opt.format", lang))
    add_lang_option(p, "cli.verify.opt.lang")
    p.add_argument("--report-html", type=Path, default=None, metavar="FILE",
                   help=t("cli.verify.opt.report_html", lang))
    p.add_argument("--report-etsi", type=Path, default=None, metavar="DIR",
                   help=t("cli.verify.opt.report_etsi", lang))
    p.add_argument("--validation-time", default=None, metavar="ISO8601",
                   help=t("cli.verify.opt.validation_time", lang))
    p.add_argument("--jobs", type=int, default=None, metavar="N",
                   help=t("cli.verify.opt.jobs", lang))
    p.set_defaults(func=run)


def _parse_time(value: str) -> datetime:
    try:
        t = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise UsageError("cli.verify.err.validation_time", value=repr(value)) from None
    return t if t.tzinfo is not None else t.replace(tzinfo=timezone.utc)


def run(args: argparse.Namespace) -> int:
    from ground.vocab import Indication
    from verifier.core import Verifier
    from ground.policy import Policy

    cfg = load_config(args.config)
    roles = None
    if args.require_roles is not None:
        roles = [r for r in (x.strip() for x in args.require_roles.split(",")) if r]
    for a in args.trust_anchor:
        if not Path(a).is_file():
            raise UsageError("cli.verify.err.trust_anchor", path=a)
    policy = Policy.from_config(cfg, extra_anchors=args.trust_anchor,
                                revocation_mode=args.revocation, required_roles=roles,
                                extra_bundles=args.trust_bundle)
    vtime = _parse_time(args.validation_time) if args.validation_time else None
    verifier = Verifier(policy)

    if args.report_etsi is not None:
        try:
            args.report_etsi.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise UsageError("cli.verify.err.report_etsi_dir", dir=args.report_etsi,
                             detail=e.strerror or str(e)) from None
    report_signer = _report_signer(cfg) if args.report_etsi is not None else None

    reports = []
    exit_code = EXIT_OK
    usage_error = False
    progress = len(args.files) > 1 and sys.stderr.isatty()
    from verifier.batch import Unreadable, default_jobs, verify_paths

    if args.jobs is not None and args.jobs < 0:
        raise UsageError("cli.verify.err.jobs", value=args.jobs)
    jobs = args.jobs or default_jobs()
    outcomes = verify_paths(verifier, args.files, jobs=jobs, validation_time=vtime)
    for i, (name, report) in enumerate(zip(args.files, outcomes), 1):
        if progress:
            print(f"[{i}/{len(args.files)}] {name}", file=sys.stderr, flush=True)
        if isinstance(report, Unreadable):
            print(t("cli.verify.err.cannot_read", cli_lang(), name=name,
                    detail=report.detail), file=sys.stderr)
            usage_error = True
            continue
        reports.append(report)
        judged = report.format is not None
        if not judged:
            # CONTRACT 5: input that is neither PDF nor XML is a usage/input error: one
            # line on stderr (JSON output still gets its line, for scripts).
            print(f"hocba: {name}: {report.message(args.lang)}", file=sys.stderr)
            usage_error = True
        if args.format == "json":
            sys.stdout.write(json.dumps(report.to_dict(args.lang), ensure_ascii=False) + "\n")
        elif judged:
            from verifier.text import render_text

            sys.stdout.write(render_text(report, args.lang) + "\n\n")
        sys.stdout.flush()
        if args.report_etsi is not None:
            _write_etsi(report, args.report_etsi, args.lang, report_signer)
        ind = report.indication
        if ind is Indication.TOTAL_FAILED:
            exit_code = EXIT_FAILED
        elif ind is Indication.INDETERMINATE and exit_code == EXIT_OK:
            exit_code = EXIT_INDETERMINATE
    if args.report_html is not None:
        from verifier.html import render_html

        try:
            args.report_html.write_text(render_html(reports, args.lang), encoding="utf-8")
        except OSError as e:
            raise UsageError("cli.verify.err.report_html", path=args.report_html,
                             detail=e.strerror or str(e)) from None
    if usage_error:
        return EXIT_USAGE
    return exit_code


def _report_signer(cfg: object) -> object:
    """The report signer of ``[report] signing_key`` (issue 17), opened once: None when
    reports are not to be signed."""
    from ground.config import Config

    assert isinstance(cfg, Config)
    if cfg.report.signing_key is None and cfg.report.pkcs11_module is None:
        return None
    from signer.report_signing import ReportSigner

    return ReportSigner.open(cfg)


def _write_etsi(report: object, out_dir: Path, lang: str, signer: object) -> None:
    """DIR/<name>.validation-report.xml, written atomically (never half a report)."""
    import os
    import tempfile

    from verifier.etsi import render_report, report_file_name
    from verifier.report import Report

    assert isinstance(report, Report)
    data = render_report(report, lang)
    if signer is not None:
        from signer.report_signing import ReportSigner

        assert isinstance(signer, ReportSigner)
        data = signer.sign(data)
    target = out_dir / report_file_name(report.file)
    fd, tmp = tempfile.mkstemp(dir=out_dir, prefix=".etsi-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, target)
    except OSError as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise UsageError("cli.verify.err.report_etsi_write", path=target,
                         detail=e.strerror or str(e)) from None
