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
    CatalogModificationRule, DiffResult, DSSCompareRule, FormUpdatingRule, ModificationLevel, ObjectStreamRule, SigFieldCreationRule,
    SigFieldModificationRule, StandardDiffPolicy, SuspiciousModification, WhitelistRule,
    XrefStreamRule)
from pyhanko.sign.diff_analysis.commons import safe_whitelist
from pyhanko.sign.diff_analysis.constants import ACROFORM_EXEMPT_STRICT_COMPARISON
from pyhanko.sign.diff_analysis.rules_api import Context, ReferenceUpdate
from pyhanko.sign.validation.status import SignatureCoverageLevel

from hocba.xmlsafe import parse_xml
from verifier.report import Finding

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


RECORD_BOOK_DIFF_POLICY = StandardDiffPolicy(
    global_rules=[
        CatalogModificationRule(),  # type: ignore[no-untyped-call]
        RecordInfoRule().as_qualified(ModificationLevel.LTA_UPDATES),
        XrefStreamRule().as_qualified(ModificationLevel.LTA_UPDATES),
        ObjectStreamRule().as_qualified(ModificationLevel.LTA_UPDATES),
        DSSCompareRule().as_qualified(ModificationLevel.LTA_UPDATES),
        RecordXmpRule().as_qualified(ModificationLevel.LTA_UPDATES),
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
