"""Process-wide settings the verifier wants, as one explicit opt-in.

Called at the start of the ``hocba`` command, of the web app factory, of the
benchmarks and of the test session - never as a side effect of an import, so a
program that embeds the verifier decides for itself:

* :func:`ground.pdf_read.install`: faster drop-ins for pyHanko's object parser and
  hex-string reader (the same results, unusual input handed to pyHanko's own parser;
  every object version, signature /Contents included, is parsed again by every
  historical revision the difference analysis opens);
* :func:`verifier.pdf_revisions.install`: pyHanko's orphan search remembered per
  revision of a file (it depends on that revision alone);
* :func:`ground.asn1_memo.install`: distinguished-name preparation and comparison
  remembered by DER (same answers; asn1crypto redoes the RFC 4518 preparation each time);
* pyHanko's loggers stop propagating: it logs hostile-input diagnostics with
  tracebacks at WARNING, which the report already carries as findings;
* the cyclic garbage collector's young generation collects every 200,000 allocations
  instead of every 700 (``gc.set_threshold(200_000, 20, 100)``): reading a PDF allocates
  hundreds of thousands of short-lived objects (pyHanko's object model, asn1crypto's
  parse trees) and next to no cycles, so the default threshold ran a collection every
  few hundred objects, each scanning everything still alive. Measured on B-LTA record
  PDFs, same files alternating in one process: 1.18-1.26x faster per file at 50,000
  (73 -> 61 ms); on two-signature B-T records, whole passes alternating, 200,000 is a
  further 1.12x over 50,000 (23.6 -> 21.2 ms), 1,000,000 only 1.05x more, so 200,000:
  the cyclic garbage a verification leaves (a reader and its revisions) waits for at
  most 200,000 allocations, about two files' worth.
"""
from __future__ import annotations

import gc
import logging

# (young generation, middle, old): see the module docstring.
GC_THRESHOLDS = (200_000, 20, 100)


def configure_process() -> None:
    """Idempotent."""
    from ground import asn1_memo, pdf_read
    from verifier import pdf_revisions

    asn1_memo.install()
    pdf_read.install()
    pdf_revisions.install()
    log = logging.getLogger("pyhanko")
    if not any(isinstance(h, logging.NullHandler) for h in log.handlers):
        log.addHandler(logging.NullHandler())
    log.propagate = False
    if gc.get_threshold()[0] < GC_THRESHOLDS[0]:
        gc.set_threshold(*GC_THRESHOLDS)
