"""Longer mutation-fuzzing run than the test suite's (tests/verifier/test_mutation_fuzz.py).

    .venv/bin/python bench/fuzz_mutations.py [--mutants N] [--seeds S]

Signs a record (PDF and XML, teacher then principal at B-LT) with a fresh test PKI and
its services, then verifies N mutants per format and seed offline. Prints counts per
mutator, the verdicts, the slowest mutant, and exits 1 on any oracle violation (a
traceback, a hang over 20 s, or TOTAL_PASSED for changed signed content).
"""
from __future__ import annotations

import argparse
import socket
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

from certs.pki import DEMO_PIN, create_pki  # noqa: E402
from certs.services import TrustServices  # noqa: E402
from ground.config import load_config  # noqa: E402
from ground.vocab import Indication  # noqa: E402
from tests.fuzzing import (PDF_MUTATORS, XML_MUTATORS, mutants, pdf_signed_unchanged,  # noqa: E402
                           xml_signed_unchanged)
from tests.signing import sign_one  # noqa: E402
from tests.verifier._xml_fixtures import record_xml  # noqa: E402
from verifier.core import Verifier  # noqa: E402
from ground.policy import Policy  # noqa: E402
from verifier.runtime import configure_process  # noqa: E402

configure_process()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mutants", type=int, default=1000, help="mutants per format and seed")
    ap.add_argument("--seeds", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        layout, _ = create_pki(Path(tmp), port=port, kind="test")
        cfg = load_config(layout.config)
        from tests.signer.pdfs import sample_pdfs

        with TrustServices(layout.certomancer, port=cfg.services.port):
            pdf = sample_pdfs(1)[0]
            xml = record_xml()
            for role in ("teacher", "principal"):
                pdf = sign_one(cfg, layout, pdf, role, level="B-LT", pin=DEMO_PIN)
                xml = sign_one(cfg, layout, xml, role, level="B-LT", pin=DEMO_PIN)
        v = Verifier(Policy.from_config(cfg).replace(online=False))
        bad = 0
        for label, base, muts, unchanged in (("pdf", pdf, PDF_MUTATORS, pdf_signed_unchanged),
                                             ("xml", xml, XML_MUTATORS, xml_signed_unchanged)):
            verdicts: Counter[str] = Counter()
            slowest = (0.0, "")
            t0 = time.monotonic()
            n = 0
            for seed in range(args.seeds):
                for name, m in mutants(base, muts, args.mutants, seed):
                    t = time.monotonic()
                    try:
                        r = v.verify(m, name=name)
                        r.to_dict("vi"), r.to_dict("en")
                    except Exception as e:  # noqa: BLE001
                        print(f"{label} {name} seed {seed}: {type(e).__name__}: {e}")
                        bad += 1
                        continue
                    dt = time.monotonic() - t
                    n += 1
                    slowest = max(slowest, (dt, name))
                    verdicts[f"{name}:{r.indication.value}"] += 1
                    if dt > 20 or (r.indication is Indication.TOTAL_PASSED
                                   and not unchanged(base, m)):
                        print(f"{label} {name} seed {seed}: oracle violated ({dt:.1f}s)")
                        bad += 1
            el = time.monotonic() - t0
            print(f"{label}: {n} mutants in {el:.1f}s ({n / el:.0f}/s), slowest "
                  f"{slowest[0] * 1000:.0f} ms ({slowest[1]})")
            for k, c in sorted(verdicts.items()):
                print(f"  {k:45s} {c}")
        print("violations:", bad)
        return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
