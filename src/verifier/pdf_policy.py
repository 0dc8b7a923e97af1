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
  /ModDate and /Producer (what signing software updates), XMP metadata,
  xref/object streams, document timestamps, /AcroForm /Fields, /DR, /DA, /Q;
- anything else (``other``): annotations (FreeText overlays, ...), page content
  or page tree changes, non-signature field values, catalog changes other than
  /DSS and /AcroForm, any other document-info entry added, changed or removed
  (/Title, /Author, the record's /HocbaStudent ... are what other readers show),
  /AcroForm /NeedAppearances (it makes readers regenerate field appearances
  instead of showing the signed ones), and whatever pyHanko cannot explain.

DocMDP (certification) and FieldMDP locks are passed to pyHanko's review.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import HistoricalResolver, RawPdfPath
from pyhanko.sign.diff_analysis import (
    CatalogModificationRule, DiffResult, DSSCompareRule, FormUpdatingRule,
    MetadataUpdateRule, ModificationLevel, ObjectStreamRule, SigFieldCreationRule,
    SigFieldModificationRule, StandardDiffPolicy, SuspiciousModification, WhitelistRule,
    XrefStreamRule)
from pyhanko.sign.diff_analysis.commons import safe_whitelist
from pyhanko.sign.diff_analysis.constants import ACROFORM_EXEMPT_STRICT_COMPARISON
from pyhanko.sign.diff_analysis.rules_api import Context, ReferenceUpdate
from pyhanko.sign.validation.status import SignatureCoverageLevel

from verifier.report import Finding

# Document-info entries signing software updates when it writes a revision (pyHanko:
# /ModDate and /Producer, pdf_utils.metadata.info.update_info_dict).
INFO_KEYS_UPDATABLE = frozenset({"/ModDate", "/Producer"})
# /AcroForm entries a signature may change: pyHanko's default set (the field list, the
# default resources and default appearance, which signing software such as DSS adds)
# WITHOUT /NeedAppearances, which makes readers rebuild every field's appearance
# (ISO 32000-1 12.7.2) instead of showing the signed one.
ACROFORM_KEYS_UPDATABLE = ACROFORM_EXEMPT_STRICT_COMPARISON - {"/NeedAppearances"}


def _raw_value(d: generic.DictionaryObject, key: str) -> Any:
    v = d.raw_get(key)
    if isinstance(v, generic.IndirectObject):
        return ("ref", v.idnum, v.generation)
    return v


class RecordInfoRule(WhitelistRule):
    """pyHanko's ``DocInfoRule`` ("updates to /Info are always OK") restricted to
    :data:`INFO_KEYS_UPDATABLE`: every other /Info entry must stay as signed.

    The record's identity shown by other readers (/Title, /Subject, /HocbaStudent,
    ...) lives there; EN 319 142-1 foresees no change to it after a signature.
    """

    def apply(self, old: HistoricalResolver, new: HistoricalResolver
              ) -> Iterable[ReferenceUpdate]:
        old_ref = old.trailer_view.get_value_as_reference("/Info", optional=True)
        new_ref = new.trailer_view.get_value_as_reference("/Info", optional=True)
        old_info = old.get_object(old_ref) if old_ref is not None else generic.DictionaryObject()
        new_info = new.get_object(new_ref) if new_ref is not None else generic.DictionaryObject()
        if not isinstance(old_info, generic.DictionaryObject) or not isinstance(
                new_info, generic.DictionaryObject):
            raise SuspiciousModification("/Info is not a dictionary")
        keys = (set(old_info.keys()) | set(new_info.keys())) - INFO_KEYS_UPDATABLE
        for key in sorted(keys):
            if key not in old_info or key not in new_info:
                raise SuspiciousModification(
                    f"document info entry {key} {'added' if key in new_info else 'removed'}")
            if _raw_value(old_info, key) != _raw_value(new_info, key):
                raise SuspiciousModification(f"document info entry {key} changed")
        if new_ref is None:
            return
        yield from map(
            ReferenceUpdate.curry_ref(
                context_checked=Context.from_absolute(old, RawPdfPath("/Info"))),
            safe_whitelist(old, old_ref, new_ref))


RECORD_BOOK_DIFF_POLICY = StandardDiffPolicy(
    global_rules=[
        CatalogModificationRule(),  # type: ignore[no-untyped-call]
        RecordInfoRule().as_qualified(ModificationLevel.LTA_UPDATES),
        XrefStreamRule().as_qualified(ModificationLevel.LTA_UPDATES),
        ObjectStreamRule().as_qualified(ModificationLevel.LTA_UPDATES),
        DSSCompareRule().as_qualified(ModificationLevel.LTA_UPDATES),
        MetadataUpdateRule().as_qualified(  # type: ignore[no-untyped-call]
            ModificationLevel.LTA_UPDATES),
    ],
    form_rule=FormUpdatingRule(
        field_rules=[
            SigFieldCreationRule(approve_widget_bindings=True),  # type: ignore[no-untyped-call]
            SigFieldModificationRule(),
            # No GenericFieldModificationRule: only signature fields may change.
        ],
        ignored_acroform_keys=ACROFORM_KEYS_UPDATABLE,
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
