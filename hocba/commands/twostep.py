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
from ground.i18n import cli_lang, t
from ground.vocab import Level, Role
from hocba.cli import add_lang_option

SERVICE_TOKEN_ENV = "HOCBA_TWOSTEP_TOKEN"


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    lang = cli_lang()
    p = sub.add_parser("twostep", help=t("cli.twostep.help", lang),
                       description=t("cli.twostep.desc", lang))
    add_lang_option(p)
    tsub = p.add_subparsers(dest="twostep_command", metavar="STEP")

    pp = tsub.add_parser("prepare", help=t("cli.twostep.prepare.help", lang),
                         description=t("cli.twostep.prepare.desc", lang))
    _server_args(pp)
    pp.add_argument("--role", required=True, choices=[r.value for r in Role],
                    help=t("cli.twostep.prepare.opt.role", lang))
    pp.add_argument("--level", default=Level.B_T.value, choices=[lv.value for lv in Level],
                    help=t("cli.twostep.prepare.opt.level", lang))
    pp.add_argument("--cert", action="append", required=True, type=Path, metavar="PEM",
                    help=t("cli.twostep.prepare.opt.cert", lang))
    pp.add_argument("--batch", required=True, type=Path, metavar="FILE.json",
                    help=t("cli.twostep.prepare.opt.batch", lang))
    pp.add_argument("files", nargs="+", type=Path, metavar="FILE",
                    help=t("cli.sign.opt.files", lang))
    pp.set_defaults(step_func=_prepare)

    ps = tsub.add_parser("sign-digests", help=t("cli.twostep.sign_digests.help", lang),
                         description=t("cli.twostep.sign_digests.desc", lang))
    ps.add_argument("--batch", required=True, type=Path, metavar="FILE.json",
                    help=t("cli.twostep.sign_digests.opt.batch", lang))
    ps.add_argument("--pkcs11-module", metavar="LIB",
                    help=t("cli.twostep.sign_digests.opt.pkcs11_module", lang))
    ps.add_argument("--token-label", metavar="L", help=t("cli.sign.opt.token_label", lang))
    ps.add_argument("--key-label", metavar="K",
                    help=t("cli.twostep.sign_digests.opt.key_label", lang))
    ps.add_argument("--csc-url", metavar="URL",
                    help=t("cli.twostep.sign_digests.opt.csc_url", lang))
    ps.add_argument("--csc-credential", metavar="ID",
                    help=t("cli.twostep.sign_digests.opt.csc_credential", lang))
    ps.add_argument("--out", type=Path, metavar="FILE.json",
                    help=t("cli.twostep.sign_digests.opt.out", lang))
    add_lang_option(ps)
    ps.set_defaults(step_func=_sign_digests)

    pf = tsub.add_parser("finish", help=t("cli.twostep.finish.help", lang),
                         description=t("cli.twostep.finish.desc", lang))
    _server_args(pf)
    pf.add_argument("--batch", type=Path, metavar="FILE.json",
                    help=t("cli.twostep.finish.opt.batch", lang))
    pf.add_argument("--batch-id", metavar="ID", help=t("cli.twostep.finish.opt.batch_id", lang))
    pf.add_argument("--signatures", required=True, type=Path, metavar="FILE.json",
                    help=t("cli.twostep.finish.opt.signatures", lang))
    pf.add_argument("--out", required=True, type=Path, metavar="DIR",
                    help=t("cli.twostep.finish.opt.out", lang))
    pf.set_defaults(step_func=_finish)
    p.set_defaults(func=_dispatch, step_func=None, twostep_parser=p)


def _dispatch(args: argparse.Namespace) -> int:
    if args.step_func is None:
        args.twostep_parser.print_help(sys.stderr)
        return 2
    return int(args.step_func(args))


def _server_args(p: argparse.ArgumentParser) -> None:
    lang = cli_lang()
    p.add_argument("--config", type=Path, default=None, help=t("cli.opt.config", lang))
    p.add_argument("--service", metavar="URL", default=None,
                   help=t("cli.twostep.opt.service", lang))
    p.add_argument("--state-dir", type=Path, default=None,
                   help=t("cli.twostep.opt.state_dir", lang))
    add_lang_option(p)


# -- io helpers ------------------------------------------------------------------------------

def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_bytes())
    except OSError as e:
        raise UsageError("cli.twostep.err.cannot_read", path=path,
                         detail=e.strerror or str(e)) from None
    except ValueError as e:
        raise UsageError("cli.twostep.err.not_json", path=path, detail=str(e)) from None


def _write_json(path: Path, obj: Any) -> None:
    from signer.batch import atomic_write

    atomic_write(path, json.dumps(obj, ensure_ascii=False, indent=1).encode("utf-8"))


def _service(args: argparse.Namespace) -> tuple[str, dict[str, str]] | None:
    if not args.service:
        return None
    token = os.environ.get(SERVICE_TOKEN_ENV)
    if not token:
        raise UsageError("cli.twostep.err.no_token", env=SERVICE_TOKEN_ENV)
    return args.service.rstrip("/"), {"Authorization": f"Bearer {token}"}


def _call(method: str, url: str, headers: dict[str, str], **kw: Any) -> Any:
    import requests

    try:
        resp = requests.request(method, url, headers=headers, timeout=600, **kw)
    except requests.RequestException as e:
        raise HocbaError("cli.twostep.err.unreachable", detail=str(e)) from None
    try:
        body = resp.json()
    except ValueError:
        body = {"error": f"http_{resp.status_code}", "detail": resp.text[:200]}
    if resp.status_code >= 400:
        cls = UsageError if resp.status_code in (400, 401, 413, 415) else HocbaError
        raise cls("cli.twostep.err.service", status=resp.status_code, error=body.get("error"),
                  detail=body.get("detail"))
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
            raise UsageError("cli.err.file_not_found", path=f)
        if f.name in names:
            raise UsageError("cli.twostep.err.duplicate_name", name=f.name)
        names.add(f.name)
        records.append((f.name, f.read_bytes()))
    certs = []
    for c in args.cert:
        try:
            certs.append(c.read_bytes())
        except OSError as e:
            raise UsageError("cli.twostep.err.cannot_read_cert", path=c,
                             detail=e.strerror or str(e)) from None
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
    print(t("cli.twostep.prepare.msg.summary", cli_lang(), n=n, total=n + bad, refused=bad,
            batch_id=batch["batch_id"], expires=batch["expires_at"], file=args.batch),
          file=sys.stderr)
    return 1 if bad else 0


# -- sign-digests ----------------------------------------------------------------------------

def _sign_digests(args: argparse.Namespace) -> int:
    from signer.twostep import PreparedBatch

    batch = PreparedBatch.from_dict(_read_json(args.batch))
    from signer.twostep_store import parse_iso, utcnow

    try:
        expired = parse_iso(batch.expires_at) <= utcnow()
    except ValueError:
        raise UsageError("cli.twostep.err.expires_at", path=args.batch) from None
    if expired:
        raise HocbaError("cli.twostep.err.batch_expired", batch_id=batch.batch_id,
                         expires=batch.expires_at)
    if bool(args.pkcs11_module) == bool(args.csc_url):
        raise UsageError("cli.twostep.err.one_key_holder")
    if args.pkcs11_module:
        if not args.token_label:
            raise UsageError("cli.twostep.err.token_label")
        from signer.keys import KeySource, read_pin
        from signer.twostep_pkcs11 import sign_digests_pkcs11

        src = KeySource(pkcs11_module=args.pkcs11_module, token_label=args.token_label,
                        key_label=args.key_label)
        pin = read_pin(src)
        values = sign_digests_pkcs11(batch, args.pkcs11_module, args.token_label,
                                     args.key_label, pin)
        how = t("cli.twostep.sign_digests.how_pkcs11", cli_lang(), token=args.token_label)
    else:
        if not args.csc_credential:
            raise UsageError("cli.err.csc_credential")
        from signer.csc import CscStats, sign_batch_csc, source_from_env

        stats = CscStats()
        values = sign_batch_csc(batch, source_from_env(args.csc_url, args.csc_credential), stats)
        how = t("cli.twostep.sign_digests.how_csc", cli_lang(), authorizations=stats.authorizations,
                calls=stats.sign_hash_calls)
    out = args.out or args.batch.with_name(args.batch.stem + ".signatures.json")
    _write_json(out, {"batch_id": batch.batch_id, "signatures": [
        {"id": k, "value": base64.b64encode(v).decode()} for k, v in values.items()]})
    print(t("cli.twostep.sign_digests.msg.summary", cli_lang(), n=len(values), how=how, file=out),
          file=sys.stderr)
    return 0


# -- finish ----------------------------------------------------------------------------------

def _finish(args: argparse.Namespace) -> int:
    batch_id = args.batch_id
    if batch_id is None:
        if args.batch is None:
            raise UsageError("cli.twostep.err.batch_or_id")
        batch_id = _read_json(args.batch).get("batch_id")
    sig_file = _read_json(args.signatures)
    if not isinstance(sig_file, dict) or not isinstance(sig_file.get("signatures"), list):
        raise UsageError("cli.twostep.err.not_values", path=args.signatures)
    if sig_file.get("batch_id") not in (None, batch_id):
        raise UsageError("cli.twostep.err.other_batch", path=args.signatures,
                         found=sig_file.get("batch_id"), batch_id=batch_id)
    if not args.out.is_dir():
        raise UsageError("cli.err.out_dir_not_found", path=args.out)
    svc = _service(args)
    if svc is None:
        try:
            values = {str(s["id"]): base64.b64decode(s["value"]) for s in sig_file["signatures"]}
        except (KeyError, TypeError, ValueError) as e:
            raise UsageError("cli.twostep.err.bad_value", path=args.signatures,
                             detail=str(e)) from None
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
    print(t("cli.twostep.finish.msg.summary", cli_lang(), ok=n - failed, total=n, dir=args.out,
            failed=failed), file=sys.stderr)
    return 1 if failed else 0


# -- `hocba sign --csc-url URL --csc-credential ID` ---------------------------------------------

def add_csc_sign_options(p: argparse.ArgumentParser) -> None:
    """The CSC key-source options of ``hocba sign`` (remote signing, CSC v1)."""
    lang = cli_lang()
    p.add_argument("--csc-url", default=None, metavar="URL", help=t("cli.sign.opt.csc_url", lang))
    p.add_argument("--csc-credential", default=None, metavar="ID",
                   help=t("cli.sign.opt.csc_credential", lang))


def sign_with_csc(args: argparse.Namespace) -> int:
    """``hocba sign`` with a CSC credential: prepare all, one authorisation, finish all."""
    from ground.config import load_config
    from signer.csc import CscStats, sign_files_csc, source_from_env

    if getattr(args, "key", None) is not None or getattr(args, "pkcs11_module", None):
        raise UsageError("cli.sign.err.csc_and_key")
    if not args.csc_credential:
        raise UsageError("cli.err.csc_credential")
    for f in args.files:
        if not f.is_file():
            raise UsageError("cli.err.file_not_found", path=f)
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
    print(t("cli.sign.msg.summary_csc", cli_lang(), ok=ok, total=len(results), role=args.role,
            level=args.level, authorizations=stats.authorizations, calls=stats.sign_hash_calls,
            failed=failed), file=sys.stderr)
    return 1 if failed else 0
