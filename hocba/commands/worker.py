"""``hocba worker`` (CONTRACT 10): verify the files of bulk jobs from the Redis broker.

Any number of workers on any number of hosts share one broker (``[jobs] broker``);
each runs ``--concurrency`` processes (default: one per CPU), each with one
verifier built at start. SIGTERM stops it after the files in hand (docs/deploy.md).
"""
from __future__ import annotations

import argparse
import logging
from pathlib import Path

from ground.errors import UsageError
from ground.i18n import cli_lang, t
from hocba.cli import add_lang_option


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    lang = cli_lang()
    p = sub.add_parser("worker", help=t("cli.worker.help", lang),
                       description=t("cli.worker.desc", lang))
    p.add_argument("--config", type=Path, default=None, help=t("cli.worker.opt.config", lang))
    p.add_argument("--concurrency", type=int, default=None, metavar="N",
                   help=t("cli.worker.opt.concurrency", lang))
    p.add_argument("--loglevel", default="INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR"),
                   help=t("cli.worker.opt.loglevel", lang))
    add_lang_option(p)
    p.set_defaults(func=_worker)


def _worker(args: argparse.Namespace) -> int:
    from ground.config import load_config
    from verifier.jobs import engine

    if args.concurrency is not None and not 1 <= args.concurrency <= 256:
        raise UsageError("cli.worker.err.concurrency", value=args.concurrency)
    cfg = load_config(args.config)
    engine.broker_url(cfg)  # [jobs] broker is required: one clear line otherwise
    engine.ttl_seconds(cfg)
    if not cfg.trust.anchors and not cfg.trust.bundles:
        raise UsageError("cli.err.no_anchors")
    logging.getLogger("pyhanko").setLevel(logging.ERROR)
    from verifier.jobs.worker import run_worker

    return run_worker(cfg, args.concurrency, args.loglevel)
