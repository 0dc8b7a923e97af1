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
  /ModDate and /Producer (what signing software updates), the XMP metadata's
  xmp:ModifyDate, xmp:MetadataDate, pdf:Producer and xmpMM:InstanceID (the same
  bookkeeping, in XMP), xref/object streams, document timestamps, /AcroForm /Fields, /DR, /DA, /Q;
- anything else (``other``): annotations (FreeText overlays, ...), page content
  or page tree changes, non-signature field values, catalog changes other than
  /DSS and /AcroForm, any other document-info entry added, changed or removed
  (/Title, /Author, the record's /HocbaStudent ... are what other readers show),
  any other XMP property changed, added or removed (dc:title, dc:creator, ...:
  readers show XMP in preference to /Info), the XMP stream removed,
  /AcroForm /NeedAppearances (it makes readers regenerate field appearances
  instead of showing the signed ones), and whatever pyHanko cannot explain.

DocMDP (certification) and FieldMDP locks are passed to pyHanko's review.

Before the review, an update that readers can read two ways (a key or an xref entry
given twice, a second value before ``endobj``: :mod:`verifier.pdf_ambiguity`) is a
change after signing by itself: pyHanko's review sees one of the two readings.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from lxml import etree
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.decode_limits import DecodePurpose
from pyhanko.pdf_utils.metadata import model as xmp_model
from pyhanko.pdf_utils.metadata.xmp_xml import _proc_xmp_struct
from pyhanko.pdf_utils.reader import HistoricalResolver, RawPdfPath
from pyhanko.sign.diff_analysis import (
    CatalogModificationRule, DiffResult, DSSCompareRule, FormUpdatingRule,
    GenericFieldModificationRule, ModificationLevel, ObjectStreamRule, SigFieldCreationRule,
    SigFieldModificationRule, StandardDiffPolicy, SuspiciousModification, WhitelistRule,
    XrefStreamRule)
from pyhanko.sign.diff_analysis.form_rules_api import FieldComparisonContext, FieldComparisonSpec
from pyhanko.pdf_utils import misc
from pyhanko.sign.diff_analysis.commons import assert_not_stream, compare_key_refs, safe_whitelist
from pyhanko.sign.diff_analysis.constants import VRI_KEY_PATTERN
from pyhanko.sign.diff_analysis.rules.form_field_rules import _validate_dss_substructure
from pyhanko.sign.diff_analysis.constants import ACROFORM_EXEMPT_STRICT_COMPARISON
from pyhanko.sign.diff_analysis.rules_api import Context, ReferenceUpdate
from pyhanko.sign.validation.status import SignatureCoverageLevel

from ground.xmlsafe import parse_xml
from ground.vocab import Modifications
from verifier.report import Finding, Foreign

# Document-info entries signing software updates when it writes a revision (pyHanko:
# /ModDate and /Producer, pdf_utils.metadata.info.update_info_dict).
INFO_KEYS_UPDATABLE = frozenset({"/ModDate", "/Producer"})
# /AcroForm entries a signature may change: pyHanko's default set (the field list, the
# default resources and default appearance, which signing software such as DSS adds)
# WITHOUT /NeedAppearances, which makes readers rebuild every field's appearance
# (ISO 32000-1 12.7.2) instead of showing the signed one.
ACROFORM_KEYS_UPDATABLE = ACROFORM_EXEMPT_STRICT_COMPARISON - {"/NeedAppearances"}
# XMP properties signing software updates when it writes a revision: the XMP twins of
# /ModDate and /Producer (pyHanko: xmp:ModifyDate, pdf:Producer, pdf_utils.metadata.
# xmp_xml._populate_xmp_with_meta), the metadata date and the per-save instance id
# (Adobe). pyHanko keeps every other property as it was (it re-serialises the packet
# into one rdf:Description, which the comparison below does not see).
XMP_PROPS_UPDATABLE = frozenset({
    xmp_model.XMP_MODDATE,
    xmp_model.ExpandedName(ns=xmp_model.NS["xmp"], local_name="MetadataDate"),
    xmp_model.PDF_PRODUCER,
    xmp_model.ExpandedName(ns="http://ns.adobe.com/xap/1.0/mm/", local_name="InstanceID"),
})
_RDF = xmp_model.NS["rdf"]
_X_XMPMETA = "{adobe:ns:meta/}xmpmeta"
_RDF_RDF = f"{{{_RDF}}}RDF"
_RDF_DESCRIPTION = f"{{{_RDF}}}Description"
# An XMP packet is small; a larger one is not a record book's.
XMP_MAX_BYTES = 4 * 1024 * 1024


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


XmpProps = dict[Any, list[Any]]


def xmp_properties(data: bytes) -> XmpProps:
    """The XMP packet ``data`` as ``{property name: [distinct values]}`` (pyHanko's XMP model).

    Parsed with the project's hardened parser (no DTD, no entities, depth limit); the
    ``<?xpacket?>`` processing instructions are fine. Values are pyHanko's model of the
    property, so two serialisations of the same metadata (attribute or element form, one
    or several rdf:Description, other prefixes, comments, padding) compare equal. A
    property given in several rdf:Description blocks keeps all its distinct values: a
    forger cannot change one copy behind an unchanged other. Anything in the packet
    that is not a property (other elements under rdf:RDF or x:xmpmeta) is kept as its
    canonical XML, so it cannot change unseen either.

    Raises ``ValueError`` (or :class:`hocba.xmlsafe.XmlFormatError`) when ``data`` is
    not XMP.
    """
    if len(data) > XMP_MAX_BYTES:
        raise ValueError(f"XMP packet larger than {XMP_MAX_BYTES} bytes")
    root = parse_xml(data).getroot()
    # Comments and processing instructions are not metadata; pyHanko's model counts
    # element children, so drop them (their tail text is whitespace in any real packet).
    for node in list(root.iter(etree.Comment, etree.ProcessingInstruction)):
        parent = node.getparent()
        if parent is not None:
            parent.remove(node)
    props: XmpProps = {}

    def add(name: Any, value: Any) -> None:
        vals = props.setdefault(name, [])
        if value not in vals:
            vals.append(value)

    if root.tag == _X_XMPMETA:
        rdfs = [c for c in root if c.tag == _RDF_RDF]
        for other in (c for c in root if c.tag != _RDF_RDF):
            add(("xml", other.tag), etree.tostring(other, method="c14n"))
        if len(rdfs) != 1:
            raise ValueError("x:xmpmeta without exactly one rdf:RDF")
        rdf = rdfs[0]
    elif root.tag == _RDF_RDF:
        rdf = root
    else:
        raise ValueError("metadata stream is not XMP (x:xmpmeta or rdf:RDF expected)")
    for desc in rdf:
        if desc.tag != _RDF_DESCRIPTION:
            add(("xml", desc.tag), etree.tostring(desc, method="c14n"))
            continue
        for name, value in _proc_xmp_struct(desc, lang=None):
            if name.ns != _RDF:  # rdf:about names the resource, it is not a property
                add(name, value)
    return props


def _xmp_of(resolver: HistoricalResolver, ref: generic.Reference) -> tuple[bytes, XmpProps | None]:
    obj = resolver.get_object(ref)
    if not isinstance(obj, generic.StreamObject):
        raise SuspiciousModification("/Metadata is not a stream")
    data = obj.read_data(DecodePurpose.XMP_METADATA)
    try:
        return data, xmp_properties(data)
    except Exception:  # noqa: BLE001 - judged by the caller: unreadable XMP may not change
        return data, None


class RecordXmpRule(WhitelistRule):
    """pyHanko's ``MetadataUpdateRule`` (any well-formed XML is accepted) restricted to
    :data:`XMP_PROPS_UPDATABLE`: every other XMP property must stay as signed.

    Readers show the XMP dc:title, dc:creator ... in preference to /Info (ISO 32000-1
    14.3.2), so after a signature the XMP gets the same rule as /Info (EN 319 142-1
    foresees no change to document metadata). The XMP stream may be rewritten in place
    or replaced by a new object; it may not be removed, and XMP added after a signature
    may carry nothing but the updatable properties.
    """

    def apply(self, old: HistoricalResolver, new: HistoricalResolver
              ) -> Iterable[ReferenceUpdate]:
        def metadata_ref(res: HistoricalResolver) -> generic.Reference | None:
            try:
                ref = res.root.get_value_as_reference("/Metadata", optional=True)
            except Exception as e:  # noqa: BLE001 - e.g. a direct object
                raise SuspiciousModification(
                    "/Metadata should be an indirect reference to a stream") from e
            return ref

        new_ref = metadata_ref(new)
        old_ref = metadata_ref(old)
        if new_ref is None:
            if old_ref is not None:
                raise SuspiciousModification("XMP metadata removed")
            return
        try:
            new_data, new_props = _xmp_of(new, new_ref)
            old_data, old_props = (_xmp_of(old, old_ref) if old_ref is not None
                                   else (None, {}))
        except SuspiciousModification:
            raise
        except Exception as e:  # noqa: BLE001 - undecodable stream
            raise SuspiciousModification(f"XMP metadata unreadable: {e}") from e
        if new_data != old_data:
            if new_props is None or old_props is None:
                raise SuspiciousModification("XMP metadata changed and is not readable XMP")
            for name in sorted(set(old_props) | set(new_props), key=str):
                if name in XMP_PROPS_UPDATABLE:
                    continue
                if name not in old_props or name not in new_props:
                    raise SuspiciousModification(
                        f"XMP property {name} {'added' if name in new_props else 'removed'}")
                a, b = old_props[name], new_props[name]
                if len(a) != len(b) or any(v not in b for v in a):
                    raise SuspiciousModification(f"XMP property {name} changed")
        if old_ref == new_ref or old.is_ref_unassignable(new_ref):
            yield ReferenceUpdate(
                new_ref, context_checked=Context.from_absolute(
                    old, RawPdfPath("/Root", "/Metadata")))


class RewritableDSSRule(DSSCompareRule):
    """pyHanko's :class:`DSSCompareRule`, except that existing /VRI entries may be
    rewritten or removed.

    Validation data is not content (EN 319 142-1 5.4): other validators (EU DSS, Acrobat)
    rebuild /VRI when they add their own data, and PAdES allows irrelevant entries to
    be dropped. A rewritten entry is checked like a new one (structure, DER streams), and
    every object it updates is whitelisted only in the /DSS context, so pyHanko's final
    check still refuses an object that the prior revision also used anywhere else
    (a page, a field) - validation data cannot smuggle content in.
    """

    def apply(self, old: HistoricalResolver, new: HistoricalResolver
              ) -> Iterable[ReferenceUpdate]:
        dss_context = Context.from_absolute(old, RawPdfPath("/Root", "/DSS"))
        old_dss, new_dss = yield from misc.map_with_return(
            compare_key_refs("/DSS", old, old.root, new.root),
            ReferenceUpdate.curry_ref(context_checked=dss_context))
        if new_dss is None:
            return
        if old_dss is None:
            old_dss = generic.DictionaryObject()  # type: ignore[no-untyped-call]
        if not isinstance(old_dss, generic.DictionaryObject) or not isinstance(
                new_dss, generic.DictionaryObject):
            raise SuspiciousModification("/DSS is not a dictionary")
        der_keys = {"/Certs", "/CRLs", "/OCSPs"}
        unexpected = set(new_dss.keys()) - ({"/Type", "/VRI"} | der_keys)
        if unexpected:
            raise SuspiciousModification(f"Unexpected keys in DSS: {unexpected}.")
        yield from _validate_dss_substructure(old, new, old_dss, new_dss, der_keys,
                                              is_vri=False, context=dss_context)
        old_vri, new_vri = yield from misc.map_with_return(
            compare_key_refs("/VRI", old, old_dss, new_dss),
            ReferenceUpdate.curry_ref(context_checked=Context.from_absolute(
                old, RawPdfPath("/Root", "/DSS", "/VRI"))))
        if new_vri is None:
            return
        if not isinstance(new_vri, generic.DictionaryObject):
            raise SuspiciousModification("/VRI is not a dictionary")
        if not isinstance(old_vri, generic.DictionaryObject):
            old_vri = generic.DictionaryObject()  # type: ignore[no-untyped-call]
        updated = _updated_refs(new, old)  # once, not per VRI entry (a DSS has hundreds)
        for key in new_vri.keys():
            raw = new_vri.raw_get(key)
            try:
                unchanged = key in old_vri and old_vri.raw_get(key) == raw and not (
                    isinstance(raw, generic.IndirectObject) and raw.reference in updated)
            except Exception:  # noqa: BLE001
                unchanged = False
            if unchanged:
                continue
            yield from _check_vri_entry(old, new, key, raw)


def _updated_refs(new: HistoricalResolver, old: HistoricalResolver) -> set[generic.Reference]:
    refs: set[generic.Reference] = set()
    for rev in range(old.revision + 1, new.revision + 1):
        refs.update(new.reader.xrefs.explicit_refs_in_revision(rev))
    return refs


def _check_vri_entry(old: HistoricalResolver, new: HistoricalResolver, key: str,
                     raw: Any) -> Iterable[ReferenceUpdate]:
    context = Context.from_absolute(old, RawPdfPath("/Root", "/DSS", "/VRI", key))
    if not VRI_KEY_PATTERN.match(key):
        raise SuspiciousModification(f"VRI key {key} is not formatted correctly.")
    entry = raw
    if isinstance(raw, generic.IndirectObject):
        yield ReferenceUpdate(raw.reference, context_checked=context)
        entry = raw.get_object()  # type: ignore[no-untyped-call]
    assert_not_stream(entry)  # type: ignore[no-untyped-call]
    if not isinstance(entry, generic.DictionaryObject):
        raise SuspiciousModification("VRI entries should be dictionaries")
    allowed = {"/Type", "/TU", "/TS", "/Cert", "/CRL", "/OCSP"}
    if not set(entry.keys()) <= allowed:
        raise SuspiciousModification(
            f"Unexpected keys in VRI dictionary: {set(entry.keys()) - allowed}.")
    yield from _validate_dss_substructure(old, new, generic.DictionaryObject(), entry,  # type: ignore[no-untyped-call]
                                          {"/Cert", "/CRL", "/OCSP"}, is_vri=True,
                                          context=context)
    try:
        ts_ref = entry.get_value_as_reference("/TS", optional=True)
        if ts_ref is not None:
            yield ReferenceUpdate(ts_ref, context_checked=context.descend("/TS"))
    except misc.IndirectObjectExpected:
        pass


class ValueFormFillingRule(GenericFieldModificationRule):
    """Form filling that a foreign document's signer permitted (DocMDP P=2 or 3, or no
    certification), as pyHanko's :class:`GenericFieldModificationRule` - but only for
    a field whose *value* changed. A field whose appearance is swapped under an
    unchanged value is the shadow "replace" attack (Mainka et al. 2021, EU DSS issue
    2236): nothing is whitelisted for it, so its updated objects stay unexplained.
    """

    def check_form_field(self, fq_name: str, spec: FieldComparisonSpec,
                         context: FieldComparisonContext) -> Any:
        if spec.field_type != "/Sig" and spec.old_field_ref and spec.new_field_ref:
            if _field_value(spec.old_field) == _field_value(spec.new_field):
                return
        yield from super().check_form_field(fq_name, spec, context)


def _field_value(field: generic.DictionaryObject | None) -> Any:
    if field is None:
        return None
    try:
        v = field.raw_get("/V")
    except KeyError:
        return None
    return v.get_object() if isinstance(v, generic.IndirectObject) else v  # type: ignore[no-untyped-call]


_GLOBAL_RULES = [
    CatalogModificationRule(),  # type: ignore[no-untyped-call]
    RecordInfoRule().as_qualified(ModificationLevel.LTA_UPDATES),
    XrefStreamRule().as_qualified(ModificationLevel.LTA_UPDATES),
    ObjectStreamRule().as_qualified(ModificationLevel.LTA_UPDATES),
    RewritableDSSRule().as_qualified(ModificationLevel.LTA_UPDATES),
    RecordXmpRule().as_qualified(ModificationLevel.LTA_UPDATES),
]

RECORD_BOOK_DIFF_POLICY = StandardDiffPolicy(
    global_rules=_GLOBAL_RULES,
    form_rule=FormUpdatingRule(
        field_rules=[
            SigFieldCreationRule(approve_widget_bindings=True),  # type: ignore[no-untyped-call]
            SigFieldModificationRule(),
            # No GenericFieldModificationRule: only signature fields may change.
        ],
        ignored_acroform_keys=ACROFORM_KEYS_UPDATABLE,
    ),
)

# For PDFs that are not record books (another vendor's file, any signed PDF): the
# same rules, plus what the signer's own DocMDP/FieldMDP permits and other signing
# software does: filling form fields (value and appearance together) and new signature
# fields after a certification signature (EU DSS, Acrobat). Reported as
# ``form_filling``, never as unchanged: such a file is at best INDETERMINATE.
FOREIGN_DIFF_POLICY = StandardDiffPolicy(
    global_rules=_GLOBAL_RULES,
    form_rule=FormUpdatingRule(
        field_rules=[
            SigFieldCreationRule(  # type: ignore[no-untyped-call]
                approve_widget_bindings=True, allow_new_visible_after_certify=True),
            SigFieldModificationRule(),
            ValueFormFillingRule(),
        ],
        ignored_acroform_keys=ACROFORM_KEYS_UPDATABLE,
    ),
)


def evaluate_modifications(emb: Any, reader: Any, *, record: bool = True,
                           revisions: Any = None
                           ) -> tuple[Modifications | None, Finding | None]:
    """``("none" | "signatures_only" | "form_filling" | "other" | None, finding)``
    for what follows ``emb``.

    ``record``: the file is a record book, judged by the strict policy only; other
    PDFs may also show ``form_filling`` (changes the signer permitted). ``None``: the
    difference analysis itself failed (an object it cannot read, a name it refuses):
    what changed is unknown, which is INDETERMINATE, never "modified".

    ``revisions``: the file's :class:`~verifier.pdf_revisions.SharedRevisions`, so that
    the signatures of one file share the analysis of its revisions.
    """
    cov = emb.coverage
    if cov is None:
        try:
            cov = emb.coverage = emb.evaluate_signature_coverage()
        except Exception as e:  # noqa: BLE001
            return Modifications.OTHER, Finding.of("modified_after", id=emb.field_name,
                                       detail=Foreign(str(e)[:160]))
    if cov == SignatureCoverageLevel.ENTIRE_FILE:
        return Modifications.NONE, None
    if cov < SignatureCoverageLevel.ENTIRE_REVISION:
        return Modifications.OTHER, Finding.of("modified_after", id=emb.field_name,
                                   detail="ByteRange " + cov.name)
    from verifier.pdf_ambiguity import ambiguity_after
    from verifier.pdf_revisions import SharedRevisions

    ambiguous = ambiguity_after(reader, emb.signed_revision)
    if ambiguous is not None:  # pyHanko's reading is one of two: its review proves nothing
        return Modifications.OTHER, Finding.of("modified_after", id=emb.field_name,
                                               detail=Foreign(ambiguous))
    (revisions or SharedRevisions(reader)).prime(emb.signed_revision)
    result = _review(RECORD_BOOK_DIFF_POLICY, emb, reader)
    if isinstance(result, Finding):
        return _unreadable_update(emb, reader) or (None, result)
    if isinstance(result, DiffResult) and result.modification_level in _SIGNATURES_ONLY:
        return Modifications.SIGNATURES_ONLY, None
    strict_detail = (str(result) if isinstance(result, SuspiciousModification)
                     else result.modification_level.name.lower())[:200]
    if not record:
        lenient = _review(FOREIGN_DIFF_POLICY, emb, reader)
        if isinstance(lenient, Finding):
            return _unreadable_update(emb, reader) or (None, lenient)
        if isinstance(lenient, DiffResult) and lenient.modification_level in (
                *_SIGNATURES_ONLY, ModificationLevel.FORM_FILLING):
            return Modifications.FORM_FILLING, Finding.of("form_filled_after", id=emb.field_name)
    return Modifications.OTHER, Finding.of("modified_after", id=emb.field_name, detail=Foreign(strict_detail))


_SIGNATURES_ONLY = (ModificationLevel.NONE, ModificationLevel.LTA_UPDATES,
                    # FORM_FILLING under the record policy can only come from its
                    # signature-field rules.
                    ModificationLevel.FORM_FILLING)


def _review(policy: StandardDiffPolicy, emb: Any, reader: Any
            ) -> DiffResult | SuspiciousModification | Finding:
    try:
        result = policy.review_file(
            reader, emb.signed_revision, field_mdp_spec=emb.fieldmdp, doc_mdp=emb.docmdp_level)
    except Exception as e:  # noqa: BLE001 - the analysis failed: unknown, not "modified"
        return Finding.of("modifications_unknown", id=emb.field_name,
                          detail=Foreign(f"{type(e).__name__}: {e}"[:200]))
    if isinstance(result, (DiffResult, SuspiciousModification)):
        return result
    return Finding.of("modifications_unknown", id=emb.field_name,
                      detail=Foreign(type(result).__name__))


def _unreadable_update(emb: Any, reader: Any) -> tuple[Modifications, Finding] | None:
    """When the analysis failed: an object written *after* the signature that cannot be
    read is a change after signing in its own right (an update may hold signatures,
    timestamps and validation data, all well-formed; a broken stream is what the
    "hide" shadow attack uses to show readers different pages). A failure on what
    the signature itself covers is only a limit of the analysis (returns None)."""
    xrefs = reader.xrefs
    for rev in range(emb.signed_revision + 1, xrefs.total_revisions):
        try:
            refs = list(xrefs.explicit_refs_in_revision(rev))
        except Exception:  # noqa: BLE001
            return Modifications.OTHER, Finding.of("modified_after", id=emb.field_name,
                                       detail=Foreign(f"revision {rev} cannot be read"))
        resolver = reader.get_historical_resolver(rev)
        for ref in refs:
            try:
                obj = resolver(ref)
                if isinstance(obj, generic.StreamObject):
                    obj.encoded_data  # noqa: B018 - reading it is the check
            except Exception:  # noqa: BLE001
                return Modifications.OTHER, Finding.of(
                    "modified_after", id=emb.field_name,
                    detail=Foreign(f"object {ref.idnum} written in revision {rev} cannot be read"))
    return None
