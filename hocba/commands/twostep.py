"""``hocba twostep``: two-step signing from the command line (issue 9).

- ``prepare``: the server side, step 1 — records in, a batch file out (digests
  for the key holder). Locally (Python API, state in ``[twostep] state_dir``)
  or against the signing service (``--service URL``, token from
  ``$HOCBA_TWOSTEP_TOKEN``).
- ``sign-digests``: the reference key holder — signs every digest of a batch
  file on a PKCS#11 token after ONE login (PIN from ``$HOCBA_PIN`` or asked
  once), or with a CSC remote-signing credential with ONE authorisation;
  writes the values file.
- ``finish``: the server side, step 2 — values in, signed records out.
"""
from __future__ import annotations

import argparse
import base64
import json
import os
import sys
from pathlib import Path
from typing import Any

from ground.errors import HocbaError, UsageError
from ground.vocab import Level, Role

SERVICE_TOKEN_ENV = "HOCBA_TWOSTEP_TOKEN"


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    p = sub.add_parser(
        "twostep", help="ký hai bước: chuẩn bị → ký giá trị băm → hoàn tất — two-step "
                        "signing: prepare, sign the digests, finish",
        description=(
            "Ký hai bước: hệ thống của trường chuẩn bị học bạ và tính giá trị băm; người giữ "
            "khoá ký mọi giá trị băm với một lần nhập PIN (token PKCS#11) hoặc một lần duyệt "
            "(ký từ xa CSC); hệ thống hoàn tất học bạ. "
            "Two-step signing: the school system prepares records and computes "
            "the digests; the key holder signs all digests with one PIN (PKCS#11 token) or one "
            "approval (CSC remote signing); the school system finishes the records. "
            "See docs/two-step-signing.md."))
    tsub = p.add_subparsers(dest="twostep_command", metavar="STEP")

    pp = tsub.add_parser("prepare", help="chuẩn bị lô ký — prepare records, write the batch file",
                         description="Chuẩn bị học bạ để ký (mọi kiểm tra chứng thư và học bạ "
                                     "làm ở đây); ghi tệp lô với một giá trị băm mỗi học bạ. "
                                     "Prepare records for signing; writes the batch file with "
                                     "one digest per record. Exit 0 all prepared, 1 some "
                                     "refused, 2 usage error.")
    _server_args(pp)
    pp.add_argument("--role", required=True, choices=[r.value for r in Role],
                    help="vai trò người ký — the signer's role")
    pp.add_argument("--level", default=Level.B_T.value, choices=[lv.value for lv in Level],
                    help="mức chữ ký AdES (mặc định B-T) — AdES level (default B-T)")
    pp.add_argument("--cert", action="append", required=True, type=Path, metavar="PEM",
                    help="chứng thư người ký, rồi các chứng thư CA (lặp lại được) — the "
                         "signer's certificate, then its CA certificates (repeatable; a "
                         "PEM bundle with the signer first works too)")
    pp.add_argument("--batch", required=True, type=Path, metavar="FILE.json",
                    help="nơi ghi tệp lô cho người giữ khoá — where to write the batch file "
                         "for the key holder")
    pp.add_argument("files", nargs="+", type=Path, metavar="FILE",
                    help="tệp học bạ PDF hoặc XML — record files, PDF or XML")
    pp.set_defaults(step_func=_prepare)

    ps = tsub.add_parser("sign-digests", help="người giữ khoá ký mọi giá trị băm — key holder "
                                              "signs all digests (one login)",
                         description="Ký mọi giá trị băm của tệp lô với một lần đăng nhập "
                                     "PKCS#11 (hoặc một lần duyệt CSC); ghi tệp giá trị chữ ký. "
                                     "Sign every digest of a batch file with one PKCS#11 login "
                                     "(or one CSC authorisation); writes the values file. "
                                     "Exit 0 signed, 1 the token or service refused, 2 usage "
                                     "error.")
    ps.add_argument("--batch", required=True, type=Path, metavar="FILE.json",
                    help="tệp lô do bước prepare ghi — the batch file written by prepare")
    ps.add_argument("--pkcs11-module", metavar="LIB",
                    help="thư viện PKCS#11 — PKCS#11 library (e.g. libsofthsm2.so)")
    ps.add_argument("--token-label", metavar="L",
                    help="nhãn của token — the token's label (PKCS#11)")
    ps.add_argument("--key-label", metavar="K",
                    help="nhãn khoá (mặc định: khoá duy nhất) — key label (default: the only "
                         "key)")
    ps.add_argument("--csc-url", metavar="URL",
                    help="địa chỉ dịch vụ ký từ xa CSC v1 — CSC v1 remote-signing service base "
                         "URL (token from $HOCBA_CSC_TOKEN)")
    ps.add_argument("--csc-credential", metavar="ID",
                    help="mã credential CSC — the CSC credential id of the signer")
    ps.add_argument("--out", type=Path, metavar="FILE.json",
                    help="tệp giá trị chữ ký (mặc định <lô>.signatures.json) — values file "
                         "(default: <batch>.signatures.json)")
    ps.set_defaults(step_func=_sign_digests)

    pf = tsub.add_parser("finish", help="hoàn tất lô ký — embed the values, write signed records",
                         description="Hoàn tất lô đã chuẩn bị với các giá trị chữ ký của người "
                                     "giữ khoá. Finish a prepared batch with the key holder's "
                                     "values. Exit 0 all signed, 1 a record was refused, 2 "
                                     "usage error.")
    _server_args(pf)
    pf.add_argument("--batch", type=Path, metavar="FILE.json",
                    help="tệp lô (để lấy mã lô) — the batch file (for its id)")
    pf.add_argument("--batch-id", metavar="ID",
                    help="mã lô (thay cho --batch) — the batch id (instead of --batch)")
    pf.add_argument("--signatures", required=True, type=Path, metavar="FILE.json",
                    help="tệp giá trị chữ ký từ sign-digests — the values file from "
                         "sign-digests")
    pf.add_argument("--out", required=True, type=Path, metavar="DIR",
                    help="ghi học bạ đã ký vào DIR/<tên học bạ> — write signed records to "
                         "DIR/<record name>")
    pf.set_defaults(step_func=_finish)
    p.set_defaults(func=_dispatch, step_func=None, twostep_parser=p)


def _dispatch(args: argparse.Namespace) -> int:
    if args.step_func is None:
        args.twostep_parser.print_help(sys.stderr)
        return 2
    return int(args.step_func(args))


def _server_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", type=Path, default=None,
                   help="tệp cấu hình (mặc định: $HOCBA_CONFIG) — hocba.toml (default: "
                        "$HOCBA_CONFIG)")
    p.add_argument("--service", metavar="URL", default=None,
                   help="địa chỉ dịch vụ ký (token từ $HOCBA_TWOSTEP_TOKEN); mặc định chạy tại "
                        "máy — signing service base URL (token from $HOCBA_TWOSTEP_TOKEN); "
                        "default: run locally with [twostep] state_dir")
    p.add_argument("--state-dir", type=Path, default=None,
                   help="chạy tại máy: nơi giữ các lô đã chuẩn bị — local mode: where prepared "
                        "batches are kept (default [twostep] state_dir)")


# -- io helpers ------------------------------------------------------------------------------

def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_bytes())
    except OSError as e:
        raise UsageError(f"{path}: không đọc được (cannot read): {e.strerror}") from None
    except ValueError as e:
        raise UsageError(f"{path}: không phải JSON (not JSON): {e}") from None


def _write_json(path: Path, obj: Any) -> None:
    from signer.batch import atomic_write

    atomic_write(path, json.dumps(obj, ensure_ascii=False, indent=1).encode("utf-8"))


def _service(args: argparse.Namespace) -> tuple[str, dict[str, str]] | None:
    if not args.service:
        return None
    token = os.environ.get(SERVICE_TOKEN_ENV)
    if not token:
        raise UsageError(f"cần mã truy cập dịch vụ ký: đặt {SERVICE_TOKEN_ENV} "
                         f"(set {SERVICE_TOKEN_ENV})")
    return args.service.rstrip("/"), {"Authorization": f"Bearer {token}"}


def _call(method: str, url: str, headers: dict[str, str], **kw: Any) -> Any:
    import requests

    try:
        resp = requests.request(method, url, headers=headers, timeout=600, **kw)
    except requests.RequestException as e:
        raise HocbaError(f"không kết nối được dịch vụ ký (cannot reach the signing service): "
                         f"{e}") from None
    try:
        body = resp.json()
    except ValueError:
        body = {"error": f"http_{resp.status_code}", "detail": resp.text[:200]}
    if resp.status_code >= 400:
        cls = UsageError if resp.status_code in (400, 401, 413, 415) else HocbaError
        raise cls(f"dịch vụ ký trả lời {resp.status_code} {body.get('error')}: "
                  f"{body.get('detail')}")
    return body


def _local(args: argparse.Namespace) -> Any:
    from ground.config import load_config
    from signer.twostep import TwoStep

    return TwoStep(load_config(args.config), state_dir=args.state_dir)


# -- prepare ---------------------------------------------------------------------------------

def _prepare(args: argparse.Namespace) -> int:
    records = []
    names = set()
    for f in args.files:
        if not f.is_file():
            raise UsageError(f"không tìm thấy tệp — file not found: {f}")
        if f.name in names:
            raise UsageError(f"hai tệp cùng tên {f.name} trong một lô (duplicate record name)")
        names.add(f.name)
        records.append((f.name, f.read_bytes()))
    certs = []
    for c in args.cert:
        try:
            certs.append(c.read_bytes())
        except OSError as e:
            raise UsageError(f"{c}: không đọc được chứng thư (cannot read): {e.strerror}") from None
    svc = _service(args)
    if svc is None:
        batch = _local(args).prepare(records, role=args.role, level=args.level,
                                     certificates=certs).to_dict()
    else:
        url, headers = svc
        batch = _call("POST", f"{url}/api/v1/twostep/batches", headers, json={
            "role": args.role, "level": args.level,
            "certificates": [c.decode("ascii", "replace") if b"-----BEGIN" in c
                             else base64.b64encode(c).decode() for c in certs],
            "records": [{"name": n, "data": base64.b64encode(d).decode()} for n, d in records]})
    _write_json(args.batch, batch)
    for r in batch.get("refused", []):
        print(f"hocba: {r['name']}: {r['error']}", file=sys.stderr)
    n, bad = len(batch["items"]), len(batch.get("refused", []))
    print(f"Đã chuẩn bị {n}/{n + bad} bản ghi, lô {batch['batch_id']} (hết hạn "
          f"{batch['expires_at']}) → {args.batch} — prepared {n}, refused {bad}", file=sys.stderr)
    return 1 if bad else 0


# -- sign-digests ----------------------------------------------------------------------------

def _sign_digests(args: argparse.Namespace) -> int:
    from signer.twostep import PreparedBatch

    batch = PreparedBatch.from_dict(_read_json(args.batch))
    from signer.twostep_store import parse_iso, utcnow

    try:
        expired = parse_iso(batch.expires_at) <= utcnow()
    except ValueError:
        raise UsageError(f"{args.batch}: expires_at không hợp lệ (invalid)") from None
    if expired:
        raise HocbaError(f"lô ký {batch.batch_id} đã hết hạn lúc {batch.expires_at}, không ký; "
                         f"hãy chuẩn bị lại (batch expired: not signing; prepare it again)")
    if bool(args.pkcs11_module) == bool(args.csc_url):
        raise UsageError("cần đúng một: --pkcs11-module hoặc --csc-url (exactly one key holder)")
    if args.pkcs11_module:
        if not args.token_label:
            raise UsageError("--pkcs11-module cần --token-label (--token-label is required)")
        from signer.keys import KeySource, read_pin
        from signer.twostep_pkcs11 import sign_digests_pkcs11

        src = KeySource(pkcs11_module=args.pkcs11_module, token_label=args.token_label,
                        key_label=args.key_label)
        pin = read_pin(src)
        values = sign_digests_pkcs11(batch, args.pkcs11_module, args.token_label,
                                     args.key_label, pin)
        how = f"PKCS#11 {args.token_label}, 1 lần đăng nhập (one login)"
    else:
        if not args.csc_credential:
            raise UsageError("--csc-url cần --csc-credential (--csc-credential is required)")
        from signer.csc import CscStats, sign_batch_csc, source_from_env

        stats = CscStats()
        values = sign_batch_csc(batch, source_from_env(args.csc_url, args.csc_credential), stats)
        how = (f"CSC, {stats.authorizations} lần xác nhận (authorisations), "
               f"{stats.sign_hash_calls} signHash")
    out = args.out or args.batch.with_name(args.batch.stem + ".signatures.json")
    _write_json(out, {"batch_id": batch.batch_id, "signatures": [
        {"id": k, "value": base64.b64encode(v).decode()} for k, v in values.items()]})
    print(f"Đã ký {len(values)} giá trị băm ({how}) → {out} — signed {len(values)} digests",
          file=sys.stderr)
    return 0


# -- finish ----------------------------------------------------------------------------------

def _finish(args: argparse.Namespace) -> int:
    batch_id = args.batch_id
    if batch_id is None:
        if args.batch is None:
            raise UsageError("cần --batch hoặc --batch-id (give --batch or --batch-id)")
        batch_id = _read_json(args.batch).get("batch_id")
    sig_file = _read_json(args.signatures)
    if not isinstance(sig_file, dict) or not isinstance(sig_file.get("signatures"), list):
        raise UsageError(f"{args.signatures}: không phải tệp giá trị chữ ký (not a values file)")
    if sig_file.get("batch_id") not in (None, batch_id):
        raise UsageError(f"{args.signatures}: thuộc lô {sig_file.get('batch_id')}, không phải "
                         f"{batch_id} (values belong to another batch)")
    if not args.out.is_dir():
        raise UsageError(f"thư mục đích không tồn tại — output directory not found: {args.out}")
    svc = _service(args)
    if svc is None:
        try:
            values = {str(s["id"]): base64.b64decode(s["value"]) for s in sig_file["signatures"]}
        except (KeyError, TypeError, ValueError) as e:
            raise UsageError(f"{args.signatures}: giá trị không hợp lệ (bad value): {e}") from None
        result = _local(args).finish(str(batch_id), values).to_dict(with_data=True)
    else:
        url, headers = svc
        result = _call("POST", f"{url}/api/v1/twostep/batches/{batch_id}/finish", headers,
                       json={"signatures": sig_file["signatures"]})
    from signer.batch import atomic_write

    failed = 0
    for rec in result["records"]:
        if not rec["ok"]:
            failed += 1
            print(f"hocba: {rec['name']}: {rec['error']}", file=sys.stderr)
            continue
        target = args.out / Path(rec["name"]).name
        atomic_write(target, base64.b64decode(rec["data"]))
    n = len(result["records"])
    print(f"Đã ký {n - failed}/{n} bản ghi → {args.out}; lỗi: {failed} — signed {n - failed} "
          f"of {n}, {failed} refused", file=sys.stderr)
    return 1 if failed else 0


# -- `hocba sign --csc-url URL --csc-credential ID` ---------------------------------------------

def add_csc_sign_options(p: argparse.ArgumentParser) -> None:
    """The CSC key-source options of ``hocba sign`` (remote signing, CSC v1)."""
    p.add_argument("--csc-url", default=None, metavar="URL",
                   help="ký từ xa: địa chỉ dịch vụ CSC v1 (token OAuth2 từ $HOCBA_CSC_TOKEN), "
                        "cả lô được duyệt một lần — CSC v1 remote-signing service base URL "
                        "(OAuth2 token from $HOCBA_CSC_TOKEN); the whole batch is authorised "
                        "once")
    p.add_argument("--csc-credential", default=None, metavar="ID",
                   help="mã credential CSC của người ký (cùng --csc-url) — CSC credential id "
                        "of the signer (with --csc-url)")


def sign_with_csc(args: argparse.Namespace) -> int:
    """``hocba sign`` with a CSC credential: prepare all, one authorisation, finish all."""
    from ground.config import load_config
    from signer.csc import CscStats, sign_files_csc, source_from_env

    if getattr(args, "key", None) is not None or getattr(args, "pkcs11_module", None):
        raise UsageError("--csc-url loại trừ --key/--pkcs11-module — use one key source")
    if not args.csc_credential:
        raise UsageError("--csc-url cần --csc-credential (--csc-credential is required)")
    for f in args.files:
        if not f.is_file():
            raise UsageError(f"không tìm thấy tệp — file not found: {f}")
    cfg = load_config(args.config)
    stats = CscStats()
    results = sign_files_csc(list(args.files), config=cfg, role=Role.parse(args.role),
                             level=Level(args.level), source=source_from_env(
                                 args.csc_url, args.csc_credential),
                             out_dir=None if args.in_place else args.out, stats=stats)
    for r in results:
        if not r.ok:
            print(f"hocba: {r.name}: {r.error}", file=sys.stderr)
    ok = sum(1 for r in results if r.ok)
    failed = len(results) - ok
    print(f"Đã ký {ok}/{len(results)} tệp ({args.role}, {args.level}, ký từ xa CSC: "
          f"{stats.authorizations} lần xác nhận, {stats.sign_hash_calls} signHash); lỗi: "
          f"{failed} — signed {ok} of {len(results)}, {failed} failed", file=sys.stderr)
    return 1 if failed else 0
