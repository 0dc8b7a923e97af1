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
            "Ký số học bạ: PDF được ký PAdES, XML được ký XAdES (nhận dạng theo nội dung). Thứ "
            "tự ký: giáo viên bộ môn → giáo viên chủ nhiệm → hiệu trưởng → con dấu. Mã PIN lấy "
            "từ $HOCBA_PIN, nếu không thì hỏi một lần. Chứng thư được kiểm tra trước (chuỗi tin "
            "cậy, hiệu lực, thu hồi, mục đích sử dụng khoá, vai trò). "
            "Sign record books: PDF files get a PAdES signature, XML files a "
            "XAdES signature (format detected from the content). Order enforced: "
            "subject_teacher → teacher → principal → seal. PIN from $HOCBA_PIN, else asked "
            "once on the terminal. The certificate is checked first (trusted chain, validity, "
            "revocation, key usage, role). Exit 0 all signed; 1 a file was not signed, or the "
            "key or certificate was refused before anything was signed (wrong PIN, certificate "
            "not allowed to sign as --role, expired, revoked, untrusted); 2 usage error "
            "(bad option or config, unreadable file or key file, not a PKCS#12 file, no PIN)."))
    p.add_argument("--config", type=Path, default=None,
                   help="tệp cấu hình (mặc định: $HOCBA_CONFIG) — hocba.toml (default: "
                        "$HOCBA_CONFIG)")
    p.add_argument("--role", required=True, choices=[r.value for r in Role],
                   help="vai trò người ký; chứng thư phải mang vai trò này — the signer's "
                        "role; the certificate must carry it")
    p.add_argument("--claim-role", action="store_true",
                   help="chứng thư số không ghi chức danh và không có trong danh sách vai trò: "
                        "chỉ khai báo vai trò --role trong chữ ký; vai trò được công nhận khi "
                        "con dấu nhà trường ký sau xác nhận — the certificate has no title and "
                        "no registry entry: only declare the role (it counts once the school's "
                        "seal signs after it; CONTRACT 8). A certificate whose title or registry "
                        "entry names another role is still refused.")
    p.add_argument("--key", type=Path, default=None,
                   help="tệp khoá PKCS#12 (.p12); mặc định signing.<vai trò>_key trong cấu "
                        "hình — PKCS#12 file (.p12). Default: signing.<role>_key from the "
                        "config")
    p.add_argument("--pkcs11-module", default=None, metavar="LIB",
                   help="thư viện PKCS#11 của USB token / HSM — PKCS#11 library of the USB "
                        "token / HSM (e.g. /usr/lib/softhsm/libsofthsm2.so)")
    p.add_argument("--token-label", default=None, metavar="L",
                   help="nhãn của token (PKCS#11) — the token's label (PKCS#11)")
    p.add_argument("--key-label", default=None, metavar="K",
                   help="nhãn khoá/chứng thư trên token (mặc định: khoá duy nhất) — "
                        "key/certificate label on the token (default: the only key)")
    p.add_argument("--level", default=Level.B_T.value, choices=[lv.value for lv in Level],
                   help="mức chữ ký AdES (mặc định B-T: có dấu thời gian; B-LTA cho con dấu "
                        "để xác thực lâu dài) — AdES level (default B-T: with a signature "
                        "timestamp; B-LTA for the seal, for long-term validation)")
    dest = p.add_mutually_exclusive_group(required=True)
    dest.add_argument("--out", type=Path, metavar="DIR",
                      help="ghi kết quả vào DIR/<cùng tên> (tạo DIR nếu chưa có) — write results "
                           "to DIR/<same name> (DIR is created if missing)")
    dest.add_argument("--in-place", action="store_true",
                      help="thay từng tệp đầu vào một cách nguyên tử — replace each input "
                           "atomically")
    p.add_argument("--jobs", type=int, default=None, metavar="N",
                   help="số tiến trình ký song song cho lô lớn với khoá PKCS#12 (mặc định: "
                        "mọi nhân CPU; token PKCS#11 luôn ký trong một tiến trình) — worker "
                        "processes for large PKCS#12 batches (default: all cores; a PKCS#11 "
                        "token always signs in one process)")
    from hocba.commands.twostep import add_csc_sign_options

    add_csc_sign_options(p)  # --csc-url/--csc-credential: remote signing (issue 9)
    p.add_argument("files", nargs="+", type=Path, metavar="FILE",
                   help="tệp học bạ PDF hoặc XML — record files, PDF or XML")
    p.set_defaults(func=_sign, ends_startup=True)


def _sign(args: argparse.Namespace) -> int:
    from signer.lazy_imports import defer_pyhanko_aiohttp

    defer_pyhanko_aiohttp()  # start-up: pyHanko's aiohttp clients load only if used
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
    print(f"Đã ký {ok}/{len(results)} tệp ({role.label('vi')}, {args.level}); lỗi: {failed} — "
          f"signed {ok} of {len(results)} ({role.label('en').lower()}, {args.level}), "
          f"{failed} failed", file=sys.stderr)
    return 1 if failed else 0
