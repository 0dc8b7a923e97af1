"""``hocba sign`` (CONTRACT 4): PAdES for PDF, XAdES for XML, many files per run."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ground.config import load_config
from ground.errors import UsageError
from ground.i18n import cli_lang, t
from ground.vocab import Level, Role
from hocba.cli import add_lang_option


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    lang = cli_lang()
    p = sub.add_parser("sign", help=t("cli.sign.help", lang), description=t("cli.sign.desc", lang))
    p.add_argument("--config", type=Path, default=None, help=t("cli.opt.config", lang))
    p.add_argument("--role", required=True, choices=[r.value for r in Role],
                   help=t("cli.sign.opt.role", lang))
    p.add_argument("--claim-role", action="store_true", help=t("cli.sign.opt.claim_role", lang))
    p.add_argument("--key", type=Path, default=None, help=t("cli.sign.opt.key", lang))
    p.add_argument("--pkcs11-module", default=None, metavar="LIB",
                   help=t("cli.sign.opt.pkcs11_module", lang))
    p.add_argument("--token-label", default=None, metavar="L",
                   help=t("cli.sign.opt.token_label", lang))
    p.add_argument("--key-label", default=None, metavar="K",
                   help=t("cli.sign.opt.key_label", lang))
    p.add_argument("--level", default=Level.B_T.value, choices=[lv.value for lv in Level],
                   help=t("cli.sign.opt.level", lang))
    dest = p.add_mutually_exclusive_group(required=True)
    dest.add_argument("--out", type=Path, metavar="DIR", help=t("cli.sign.opt.out", lang))
    dest.add_argument("--in-place", action="store_true", help=t("cli.sign.opt.in_place", lang))
    p.add_argument("--jobs", type=int, default=None, metavar="N",
                   help=t("cli.sign.opt.jobs", lang))
    from hocba.commands.twostep import add_csc_sign_options

    add_csc_sign_options(p)  # --csc-url/--csc-credential: remote signing (issue 9)
    add_lang_option(p)
    p.add_argument("files", nargs="+", type=Path, metavar="FILE",
                   help=t("cli.sign.opt.files", lang))
    p.set_defaults(func=_sign, ends_startup=True, defer_aiohttp=True)


def _sign(args: argparse.Namespace) -> int:
    from signer.lazy_imports import defer_pyhanko_aiohttp

    defer_pyhanko_aiohttp()  # when called without the CLI's main (a no-op after it)
    from hocba.cli import end_startup
    from signer.batch import FileResult, Progress, run_files
    from signer.keys import KeySource, preload_pkcs12, read_pin

    if args.csc_url:
        from hocba.commands.twostep import sign_with_csc

        end_startup()
        return sign_with_csc(args)
    cfg = load_config(args.config)
    role = Role.parse(args.role)
    if args.pkcs11_module:
        if args.key is not None:
            raise UsageError("cli.sign.err.key_and_pkcs11")
        key = KeySource(pkcs11_module=args.pkcs11_module, token_label=args.token_label,
                        key_label=args.key_label)
    else:
        p12 = args.key or getattr(cfg.signing, f"{role.value}_key")
        if p12 is None:
            raise UsageError("cli.sign.err.no_key", role=role.value)
        key = KeySource(p12=Path(p12))
    key.check()
    for f in args.files:
        if not f.is_file():
            raise UsageError("cli.err.file_not_found", path=f)
    pin = read_pin(key)
    if key.p12 is not None:
        preload_pkcs12(key.p12, pin)  # decrypted while the pre-check's modules import
    import signer.precheck  # noqa: F401  (the batch's pre-check, imported with the GC off)

    end_startup()
    progress = Progress(len(args.files))

    def report(r: FileResult) -> None:
        progress.update(r.ok)
        if not r.ok:
            if progress.enabled:
                sys.stderr.write("\n")
            print(f"hocba: {r.name}: {r.error}", file=sys.stderr)

    results = run_files(cfg, role, Level(args.level), key, pin, args.files,
                        None if args.in_place else args.out, jobs=args.jobs, on_result=report,
                        claim_role=args.claim_role)
    progress.finish()
    ok = sum(1 for r in results if r.ok)
    failed = len(results) - ok
    lang = cli_lang()
    label = role.label(lang) if lang == "vi" else role.label(lang).lower()  # mid-sentence
    print(t("cli.sign.msg.summary", lang, ok=ok, total=len(results), role=label,
            level=args.level, failed=failed), file=sys.stderr)
    return 1 if failed else 0
