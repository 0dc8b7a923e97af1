"""The one hardened XML parser, used everywhere XML is read.

No DTDs, no entity expansion, no network access, no huge trees. A document that
declares a DTD at all is refused: record books never need one, and refusing it
closes XXE, billion-laughs and external-DTD attacks in one place.
"""
from __future__ import annotations

import functools

from lxml import etree

from ground.errors import UsageError

MAX_DEPTH = 64


class XmlFormatError(UsageError):
    """The input is not acceptable XML (malformed, DTD, entities, too deep)."""


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=False,
        remove_pis=False,
        collect_ids=False,
    )


def parse_xml(data: bytes, *, max_depth: int = MAX_DEPTH) -> etree._ElementTree:
    """Parse ``data`` safely; raise :class:`XmlFormatError` with one clear line otherwise."""
    if not isinstance(data, (bytes, bytearray)):
        raise TypeError("parse_xml takes bytes")
    head = bytes(data[:4096]).lstrip(b"\xef\xbb\xbf \t\r\n")
    # Cheap pre-check: any DOCTYPE anywhere is refused before lxml sees it.
    if b"<!DOCTYPE" in bytes(data) or b"<!ENTITY" in bytes(data):
        raise XmlFormatError("ground.xmlsafe.err.declarations")
    if not head.startswith(b"<"):
        raise XmlFormatError("ground.xmlsafe.err.not_xml")
    try:
        tree = etree.ElementTree(etree.fromstring(bytes(data), parser=_parser()))
    except etree.XMLSyntaxError as e:
        raise XmlFormatError("ground.xmlsafe.err.malformed", detail=e.msg,
                             line=e.lineno) from None
    if tree.docinfo.internalDTD is not None or tree.docinfo.doctype:
        raise XmlFormatError("ground.xmlsafe.err.dtd")
    # No DTD means no entity can be declared, so no entity reference survives parsing
    # (undeclared ones are well-formedness errors); nothing to walk for them.
    _check_depth(tree.getroot(), max_depth)
    return tree


@functools.lru_cache(maxsize=8)
def _depth_xpath(max_depth: int) -> etree.XPath:
    return etree.XPath(f"boolean(//*[count(ancestor::*) >= {int(max_depth)}])")


def _check_depth(root: etree._Element, max_depth: int) -> None:
    # Evaluated in libxml2 (C): an element deeper than max_depth has at least
    # max_depth element ancestors. Linear in nodes × depth, no Python per node.
    if _depth_xpath(max_depth)(root):
        raise XmlFormatError("ground.xmlsafe.err.too_deep", max_depth=max_depth)
