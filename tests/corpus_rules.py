"""The third-party corpus's rules (../shared/corpus/README.md), as code.

One definition of *tamper evidence*, used by the corpus test and by the mutation
fuzzer, so neither can drift from the README.
"""
from __future__ import annotations

import json
from typing import Any

from tests.tooling import CORPUS

TAMPER_SUBINDICATIONS = frozenset({
    "HASH_FAILURE", "SIG_CRYPTO_FAILURE", "FORMAT_FAILURE", "SIGNED_DATA_NOT_FOUND",
    "NO_SIGNING_CERTIFICATE_FOUND"})


def tamper_evidence(report: dict[str, Any], *, unsigned_content_ok: bool = False) -> list[str]:
    """Every piece of tamper evidence in a JSON report (section 6 shape), as short labels."""
    fmt = report["format"]
    out: list[str] = []
    for s in report["signatures"]:
        if s["integrity"] is False:
            out.append(f"{s['id']}: integrity false")
        if s["modifications_after"] == "other":
            out.append(f"{s['id']}: modified after")
        if fmt == "pdf" and s["coverage"] == "partial":
            out.append(f"{s['id']}: partial coverage")
        if s["subindication"] in TAMPER_SUBINDICATIONS:
            out.append(f"{s['id']}: {s['subindication']}")
    if report["subindication"] in TAMPER_SUBINDICATIONS:
        out.append(f"document: {report['subindication']}")
    for c in report["checks"]:
        if c["name"] == "unsigned_content" and not c["passed"] and not unsigned_content_ok:
            out.append("unsigned content")
    return out


def manifest() -> dict[str, dict[str, Any]]:
    path = CORPUS / "manifest.json"
    if not path.is_file():
        return {}
    data: dict[str, dict[str, Any]] = json.loads(path.read_text())
    return data
