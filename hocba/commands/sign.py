"""``hocba sign`` (CONTRACT 4): PAdES for PDF, XAdES for XML, many files per run."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ground.config import load_config
from ground.errors import UsageError
from ground.vocab import Level, Role


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    p = sub.add_parser(
        "sign", help="ký số học bạ (PDF → PAdES, XML → XAdES) — sign record books",
        description=(
            "Ký số học bạ. Sign record books: PDF files get a PAdES signature, XML files a "
            "XAdES signature (format detected from the content). Order enforced: "
            "subject_teacher → teacher → principal → seal. PIN from $HOCBA_PIN, else asked "
            "once on the terminal. The certificate is checked first (trusted chain, validity, "
            "revocation, key usage, role). Exit 0 all signed, 1 a file failed, 2 usage error."))
    p.add_argument("--config", type=Path, default=None,
                   help="hocba.toml (default: $HOCBA_CONFIG)")
    p.add_argument("--role", required=True, choices=[r.value for r in Role],
                   help="vai trò người ký — the signer's role")
    p.add_argument("--claim-role", action="store_true",
                   help="chứng thư số không ghi chức danh và không có trong danh sách vai trò: "
                        "chỉ khai báo vai trò --role trong chữ ký; vai trò được công nhận khi "
                        "con dấu nhà trường ký sau xác nhận — the certificate has no title and "
                        "no registry entry: only declare the role (it counts once the school's "
                        "seal signs after it; CONTRACT 8). A certificate whose title or registry "
                        "entry names another role is still refused.")
    p.add_argument("--key", type=Path, default=None,
                   help="PKCS#12 file (.p12). Default: signing.<role>_key from the config")
    p.add_argument("--pkcs11-module", default=None, metavar="LIB",
                   help="PKCS#11 library of the USB token / HSM (e.g. libsofthsm2.so)")
    p.add_argument("--token-label", default=None, metavar="L", help="token label (PKCS#11)")
    p.add_argument("--key-label", default=None, metavar="K",
                   help="key/certificate label on the token (default: the only key)")
    p.add_argument("--level", default=Level.B_T.value, choices=[lv.value for lv in Level],
                   help="AdES level (default B-T)")
    dest = p.add_mutually_exclusive_group(required=True)
    dest.add_argument("--out", type=Path, metavar="DIR", help="write results to DIR/<same name>")
    dest.add_argument("--in-place", action="store_true", help="replace each input atomically")
    p.add_argument("--jobs", type=int, default=None,
                   help="worker processes for large PKCS#12 batches (default: all cores)")
    from hocba.commands.twostep import add_csc_sign_options

    add_csc_sign_options(p)  # --csc-url/--csc-credential: remote signing (issue 9)
    p.add_argument("files", nargs="+", type=Path, metavar="FILE")
    p.set_defaults(func=_sign)


def _sign(args: argparse.Namespace) -> int:
    from signer.batch import FileResult, Progress, run_files
    from signer.keys import KeySource, read_pin

    if args.csc_url:
        from hocba.commands.twostep import sign_with_csc

        return sign_with_csc(args)
    cfg = load_config(args.config)
    role = Role.parse(args.role)
    if args.pkcs11_module:
        if args.key is not None:
            raise UsageError("--key và --pkcs11-module loại trừ nhau — use either --key or "
                             "--pkcs11-module")
        key = KeySource(pkcs11_module=args.pkcs11_module, token_label=args.token_label,
                        key_label=args.key_label)
    else:
        p12 = args.key or getattr(cfg.signing, f"{role.value}_key")
        if p12 is None:
            raise UsageError("cần --key FILE.p12 hoặc --pkcs11-module — a key is required "
                             f"(--key, --pkcs11-module, or signing.{role.value}_key in config)")
        key = KeySource(p12=Path(p12))
    key.check()
    for f in args.files:
        if not f.is_file():
            raise UsageError(f"không tìm thấy tệp — file not found: {f}")
    pin = read_pin(key)
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
    print(f"Đã ký {ok}/{len(results)} tệp ({role.value}, {args.level}); lỗi: {failed} — "
          f"signed {ok} of {len(results)}, {failed} failed", file=sys.stderr)
    return 1 if failed else 0
