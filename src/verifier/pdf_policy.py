"""The strict record-book modification policy for PDF incremental updates.

A signed record book must not change (DOMAIN: "once issued it must not
change"). After a signature, EN 319 142-1 (PAdES) foresees only: further
signatures in (new or empty) signature fields with their appearance streams,
DSS/VRI validation data, and document timestamps. pyHanko's default policy
also accepts filling in other form fields, which lets a shadow attack change
what a page shows while every signature stays "intact". This policy is
pyHanko's :class:`StandardDiffPolicy` with only the signature-field rules:

- allowed (``signatures_only``): new signature fields and their widgets,
  signing an empty signature field (its /V and /AP), DSS/VRI, document info
  ModDate/Producer, XMP metadata, xref/object streams, document timestamps;
- anything else (``other``): annotations (FreeText overlays, ...), page content
  or page tree changes, non-signature field values, catalog changes other than
  /DSS and /AcroForm, and whatever pyHanko cannot explain.

DocMDP (certification) and FieldMDP locks are passed to pyHanko's review.
"""
from __future__ import annotations

from typing import Any

from pyhanko.sign.diff_analysis import (
    CatalogModificationRule, DiffResult, DocInfoRule, DSSCompareRule, FormUpdatingRule,
    MetadataUpdateRule, ModificationLevel, ObjectStreamRule, SigFieldCreationRule,
    SigFieldModificationRule, StandardDiffPolicy, SuspiciousModification, XrefStreamRule)
from pyhanko.sign.validation.status import SignatureCoverageLevel

from verifier.report import Finding

RECORD_BOOK_DIFF_POLICY = StandardDiffPolicy(
    global_rules=[
        CatalogModificationRule(),
        DocInfoRule().as_qualified(ModificationLevel.LTA_UPDATES),
        XrefStreamRule().as_qualified(ModificationLevel.LTA_UPDATES),
        ObjectStreamRule().as_qualified(ModificationLevel.LTA_UPDATES),
        DSSCompareRule().as_qualified(ModificationLevel.LTA_UPDATES),
        MetadataUpdateRule().as_qualified(ModificationLevel.LTA_UPDATES),
    ],
    form_rule=FormUpdatingRule(
        field_rules=[
            SigFieldCreationRule(approve_widget_bindings=True),
            SigFieldModificationRule(),
            # No GenericFieldModificationRule: only signature fields may change.
        ],
    ),
)


def evaluate_modifications(emb: Any, reader: Any) -> tuple[str | None, Finding | None]:
    """``("none" | "signatures_only" | "other", finding)`` for what follows ``emb``.

    ``None`` when the coverage is already broken (reported as coverage instead).
    """
    cov = emb.coverage
    if cov is None:
        try:
            cov = emb.coverage = emb.evaluate_signature_coverage()
        except Exception as e:  # noqa: BLE001
            return "other", Finding.of("modified_after", id=emb.field_name, detail=str(e)[:160])
    if cov == SignatureCoverageLevel.ENTIRE_FILE:
        return "none", None
    if cov < SignatureCoverageLevel.ENTIRE_REVISION:
        return "other", Finding.of("modified_after", id=emb.field_name,
                                   detail="ByteRange " + cov.name)
    try:
        result = RECORD_BOOK_DIFF_POLICY.review_file(
            reader, emb.signed_revision, field_mdp_spec=emb.fieldmdp, doc_mdp=emb.docmdp_level)
    except Exception as e:  # noqa: BLE001 - an unexplainable file is a modified file
        return "other", Finding.of("modified_after", id=emb.field_name,
                                   detail=f"{type(e).__name__}: {e}"[:200])
    if isinstance(result, SuspiciousModification):
        return "other", Finding.of("modified_after", id=emb.field_name, detail=str(result)[:200])
    assert isinstance(result, DiffResult)
    level = result.modification_level
    if level in (ModificationLevel.NONE, ModificationLevel.LTA_UPDATES,
                 ModificationLevel.FORM_FILLING):
        # FORM_FILLING here can only come from the signature-field rules above.
        return "signatures_only", None
    return "other", Finding.of("modified_after", id=emb.field_name,
                               detail=f"{level.name.lower()}")
