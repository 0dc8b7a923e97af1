"""XMLDSig core validation with "see what is signed" (W3C XMLDSig 1.1, XAdES EN 319 132-1).

Why not signxml's verifier: its reference resolution is what signature-wrapping
attacks target, and it returns only the referenced element, not what the
transforms actually left in. Here:

* Ids are resolved through *our* index of ``Id``/``ID``/``id``/``xml:id`` values
  built once per document; a value that occurs twice resolves to nothing (and the
  caller fails the ``duplicate_ids`` check);
* every Reference is processed on an explicit node-set model (elements, their
  text and their tail text as separate nodes, in document order, as bitmasks), so
  after the transforms we know exactly which nodes were hashed - that node-set is
  what the document-level ``unsigned_content`` check and the record summary use;
* canonicalisation is lxml/libxml2's C14N applied to a pruned copy of each apex
  of the node-set, so the bytes hashed are exactly the nodes reported as signed.

Nothing is ever fetched: a reference to anything outside the document is
SIGNED_DATA_NOT_FOUND (EN 319 102-1 5.2.8 / 5.3.4: signed data object not
available).
"""
from __future__ import annotations

import base64
import binascii
import copy
import gc
import hashlib
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator

from asn1crypto import x509 as asn1_x509
from cryptography import x509 as cx509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import dsa, ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from lxml import etree

from ground.vocab import SubIndication
from verifier.report import Foreign

DS = "http://www.w3.org/2000/09/xmldsig#"
DS11 = "http://www.w3.org/2009/xmldsig11#"
DSMORE07 = "http://www.w3.org/2007/05/xmldsig-more#"
XF2 = "http://www.w3.org/2002/06/xmldsig-filter2"
XML_NS = "http://www.w3.org/XML/1998/namespace"


def q(ns: str, local: str) -> str:
    return f"{{{ns}}}{local}"


# --- Algorithms (XMLDSig 1.1 section 6, RFC 6931) --------------------------------------

DIGESTS: dict[str, str] = {
    "http://www.w3.org/2000/09/xmldsig#sha1": "sha1",
    "http://www.w3.org/2001/04/xmldsig-more#md5": "md5",
    "http://www.w3.org/2001/04/xmldsig-more#sha224": "sha224",
    "http://www.w3.org/2001/04/xmlenc#sha256": "sha256",
    "http://www.w3.org/2001/04/xmldsig-more#sha384": "sha384",
    "http://www.w3.org/2001/04/xmlenc#sha512": "sha512",
    "http://www.w3.org/2007/05/xmldsig-more#sha3-224": "sha3_224",
    "http://www.w3.org/2007/05/xmldsig-more#sha3-256": "sha3_256",
    "http://www.w3.org/2007/05/xmldsig-more#sha3-384": "sha3_384",
    "http://www.w3.org/2007/05/xmldsig-more#sha3-512": "sha3_512",
}

# uri -> (key type, digest, padding)
SIGNATURES: dict[str, tuple[str, str, str]] = {
    "http://www.w3.org/2000/09/xmldsig#rsa-sha1": ("rsa", "sha1", "pkcs1v15"),
    "http://www.w3.org/2001/04/xmldsig-more#rsa-md5": ("rsa", "md5", "pkcs1v15"),
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha224": ("rsa", "sha224", "pkcs1v15"),
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256": ("rsa", "sha256", "pkcs1v15"),
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384": ("rsa", "sha384", "pkcs1v15"),
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512": ("rsa", "sha512", "pkcs1v15"),
    "http://www.w3.org/2007/05/xmldsig-more#sha1-rsa-MGF1": ("rsa", "sha1", "pss"),
    "http://www.w3.org/2007/05/xmldsig-more#sha224-rsa-MGF1": ("rsa", "sha224", "pss"),
    "http://www.w3.org/2007/05/xmldsig-more#sha256-rsa-MGF1": ("rsa", "sha256", "pss"),
    "http://www.w3.org/2007/05/xmldsig-more#sha384-rsa-MGF1": ("rsa", "sha384", "pss"),
    "http://www.w3.org/2007/05/xmldsig-more#sha512-rsa-MGF1": ("rsa", "sha512", "pss"),
    "http://www.w3.org/2007/05/xmldsig-more#sha3-256-rsa-MGF1": ("rsa", "sha3_256", "pss"),
    "http://www.w3.org/2007/05/xmldsig-more#sha3-384-rsa-MGF1": ("rsa", "sha3_384", "pss"),
    "http://www.w3.org/2007/05/xmldsig-more#sha3-512-rsa-MGF1": ("rsa", "sha3_512", "pss"),
    "http://www.w3.org/2007/05/xmldsig-more#rsa-pss": ("rsa", "", "pss"),
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha1": ("ec", "sha1", ""),
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha224": ("ec", "sha224", ""),
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256": ("ec", "sha256", ""),
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384": ("ec", "sha384", ""),
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512": ("ec", "sha512", ""),
    "http://www.w3.org/2000/09/xmldsig#dsa-sha1": ("dsa", "sha1", ""),
    "http://www.w3.org/2009/xmldsig11#dsa-sha256": ("dsa", "sha256", ""),
}

C14N_10 = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
C14N_11 = "http://www.w3.org/2006/12/xml-c14n11"
EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
# uri -> (exclusive, with_comments, version)
C14N: dict[str, tuple[bool, bool, str]] = {
    C14N_10: (False, False, "1.0"),
    C14N_10 + "#WithComments": (False, True, "1.0"),
    C14N_11: (False, False, "1.1"),
    C14N_11 + "#WithComments": (False, True, "1.1"),
    EXC_C14N: (True, False, "exc"),
    EXC_C14N + "WithComments": (True, True, "exc"),
}
ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
BASE64 = "http://www.w3.org/2000/09/xmldsig#base64"
XPATH_10 = "http://www.w3.org/TR/1999/REC-xpath-19991116"

WEAK_DIGESTS = frozenset({"sha1", "md5", "sha224"})


def hash_bytes(algo: str, data: bytes) -> bytes:
    return hashlib.new(algo, data).digest()


class DsigError(Exception):
    """A step of reference or signature processing could not be completed."""

    def __init__(self, subindication: SubIndication, code: str, **args: Any) -> None:
        super().__init__(f"{code}: {args}")
        self.subindication = subindication
        self.code = code
        self.args_ = {k: (v if isinstance(v, Foreign) else str(v)) for k, v in args.items()}


# --- Node-sets as bitmasks: linear-time helpers ------------------------------------------
#
# A node-set is a Python int over the document's node list. Testing one bit with
# ``(mask >> i) & 1`` costs O(size) on a document-sized int, so a loop over the
# nodes doing that is quadratic (hostile input: 20 MB of ``<a/>``). Every walk
# over a node-set goes through a '0'/'1' string instead: ``bin()`` and
# ``int(..., 2)`` convert in linear time (power-of-two base), and ``str.find`` /
# regular expressions find the set bits at C speed.

_ONES = re.compile("1+")


def bit_string(mask: int, size: int) -> str:
    """The node-set as ``'0'``/``'1'`` characters, index ``i`` = node ``i``."""
    if mask <= 0:
        return "0" * size
    s = bin(mask)[:1:-1]  # least significant bit first, without "0b"
    return s[:size] + "0" * (size - len(s))


def mask_from_bits(bits: bytes | bytearray | str) -> int:
    """Inverse of :func:`bit_string` (``b'1'`` / ``'1'`` = node included)."""
    return int(bits[::-1], 2) if bits else 0


def iter_bits(mask: int, size: int) -> Iterable[int]:
    """Indices of the nodes in a node-set, in document order (linear time)."""
    for m in _ONES.finditer(bit_string(mask, size)):
        yield from range(m.start(), m.end())


def ranges_mask(ranges: Iterable[tuple[int, int]], size: int) -> int:
    """The node-set made of half-open index ranges (nested or overlapping allowed)."""
    bits = bytearray(b"0") * size
    cur = 0
    for s, e in sorted(ranges):
        s = max(s, cur)
        if e > s:
            bits[s:e] = b"1" * (e - s)
            cur = e
    return mask_from_bits(bits)


# --- The document: node list, Id index ---------------------------------------------------

class _Nodes:
    """The node list as ``(kind, element)`` pairs, stored as two flat lists."""

    __slots__ = ("kinds", "els")

    def __init__(self, kinds: list[str], els: list[Any]) -> None:
        self.kinds = kinds
        self.els = els

    def __getitem__(self, i: int) -> tuple[str, Any]:
        return self.kinds[i], self.els[i]

    def __len__(self) -> int:
        return len(self.els)

    def __iter__(self) -> Iterator[tuple[str, Any]]:
        return zip(self.kinds, self.els)


class Document:
    """A parsed document indexed once: nodes in document order and the Id index.

    Nodes are ``(kind, element)`` with kind ``E`` (element, comment or PI: the
    node itself with its attributes and namespaces), ``T`` (its ``.text``) and
    ``L`` (its ``.tail``, a child of its parent). The subtree of an element is the
    contiguous range from its ``E`` node to just before its ``L`` node. Node-sets
    are Python ints used as bitmasks over that list.
    """

    def __init__(self, tree: etree._ElementTree) -> None:
        self.tree = tree
        self.root = tree.getroot()
        # Two flat lists, no per-node tuple, no per-node dict entry in the loop:
        # millions of small objects make the cyclic GC rescan the heap again and
        # again (20 MB of <a/> is 5 M nodes); the indexes are built after, in C.
        kinds: list[str] = []
        els: list[Any] = []
        end: dict[int, int] = {}
        comments: list[tuple[int, int]] = []
        pis: list[tuple[int, int]] = []
        root = self.root
        kind_add, el_add = kinds.append, els.append
        open_: list[tuple[Any, int]] = []  # open elements and their E index
        push, pop = open_.append, open_.pop
        was_enabled = gc.isenabled()
        gc.disable()  # the walk creates no cycles; process-wide, so restored at once
        try:
            # One pass in document order over lxml's C iterator (no recursion; depth is
            # bounded by the parser). Not etree.iterwalk: its comment events take
            # quadratic time in the number of sibling comments. An element is closed
            # (end index, then its tail) when the walk leaves it.
            for el in root.iter():
                if open_:
                    parent = el.getparent()
                    while open_[-1][0] is not parent:
                        done, k = pop()
                        end[k] = len(els)
                        if done.tail is not None:
                            kind_add("L")
                            el_add(done)
                i = len(els)
                kind_add("E")
                el_add(el)
                if isinstance(el.tag, str):
                    push((el, i))
                    if el.text is not None:
                        kind_add("T")
                        el_add(el)
                    continue
                # Comment or PI: a leaf with a tail.
                end[i] = i + 1
                (comments if isinstance(el, etree._Comment) else pis).append((i, i + 1))
                if el.tail is not None:
                    kind_add("L")
                    el_add(el)
            while open_:
                done, k = pop()
                end[k] = len(els)
                if done.tail is not None and done is not root:
                    kind_add("L")
                    el_add(done)
            # element -> index of its E node: the first occurrence (later T and L
            # entries for the same element are overwritten by the reversed order).
            n = len(els)
            e_idx: dict[Any, int] = dict(zip(reversed(els), range(n - 1, -1, -1)))
        finally:
            if was_enabled:
                gc.enable()
        self.nodes = _Nodes(kinds, els)
        self.e_idx = e_idx
        self.end = end
        self.size = len(els)
        self.all_mask = (1 << self.size) - 1
        self.comment_mask = ranges_mask(comments, self.size)
        # Comments and processing instructions: not content (CONTRACT 6 counts text
        # and attributes), so "covers this element" ignores them (a comment inside a
        # block signed through an Id reference is outside the node-set, XMLDSig 4.4.3.3).
        self.ignorable_mask = self.comment_mask | ranges_mask(pis, self.size)
        # Id index: every Id/ID/id/xml:id value -> elements carrying it (found by
        # libxml2's XPath, not by four lookups per element in Python).
        ids: dict[str, list[Any]] = {}
        for attr in root.xpath(
                "//@Id | //@ID | //@id | //@xml:id | //@*[local-name()='Id' and namespace-uri()"
                "='http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd']"):
            ids.setdefault(str(attr).strip(), []).append(attr.getparent())
        self.ids = ids
        # C14N of whole subtrees, per element and method: the same block is hashed by
        # several references and again by archive timestamps.
        self.c14n_cache: dict[tuple[Any, ...], bytes] = {}
        self.duplicate_ids = tuple(sorted(k for k, v in ids.items() if len(v) > 1))

    def text_index(self, el: Any) -> int | None:
        """Index of ``el``'s text node, if it has one."""
        i = self.e_idx.get(el)
        if i is None or i + 1 >= self.size:
            return None
        return i + 1 if self.nodes.kinds[i + 1] == "T" and self.nodes.els[i + 1] is el else None

    def tail_index(self, el: Any) -> int | None:
        """Index of ``el``'s tail node, if it has one."""
        i = self.e_idx.get(el)
        if i is None:
            return None
        j = self.end[i]
        return j if j < self.size and self.nodes.kinds[j] == "L" and self.nodes.els[j] is el else None

    def by_id(self, value: str) -> Any:
        els = self.ids.get(value)
        if not els:
            raise DsigError(SubIndication.SIGNED_DATA_NOT_FOUND, "ref_not_found", uri=value)
        if len(els) > 1:
            # XSW with two elements carrying the same Id: refuse to choose.
            raise DsigError(SubIndication.HASH_FAILURE, "ref_duplicate_id", uri=value)
        return els[0]

    def subtree(self, el: Any) -> int:
        start = self.e_idx[el]
        return ((1 << (self.end[start] - start)) - 1) << start

    def contains_subtree(self, mask: int, el: Any) -> bool:
        """Every node of ``el``'s subtree is in ``mask``, comments and PIs aside."""
        st = self.subtree(el) & ~self.ignorable_mask
        return mask & st == st

    def bits(self, mask: int) -> str:
        return bit_string(mask, self.size)


@dataclass
class NodeSet:
    doc: Document
    mask: int
    doc_level: bool = False  # the whole document (URI="" or xpointer(/))


# --- Canonicalisation of node-sets -------------------------------------------------------

def _inherited_xml_attrs(el: Any, version: str) -> dict[str, str]:
    """xml:* attributes an inclusive C14N apex inherits from its ancestors.

    C14N 1.0 (2.4): every xml:* attribute of the nearest ancestor that has it. C14N 1.1
    (2.4): only xml:lang and xml:space are inherited; xml:base is fixed up - the
    ancestors' values joined outermost first (RFC 3986), then the apex's own value.
    """
    wanted = None if version == "1.0" else {"lang", "space"}
    out: dict[str, str] = {}
    bases: list[str] = []
    base_key = "{" + XML_NS + "}base"
    anc = el.getparent()
    while anc is not None:
        for k, v in anc.attrib.items():
            if not k.startswith("{" + XML_NS + "}"):
                continue
            local = k.split("}", 1)[1]
            if version != "1.0" and local == "base":
                bases.append(v)
            elif (wanted is None or local in wanted) and k not in out:
                out[k] = v
        anc = anc.getparent()
    result = {k: v for k, v in out.items() if k not in el.attrib}
    if bases:
        from urllib.parse import urljoin

        joined = ""
        for b in reversed(bases):
            joined = urljoin(joined, b) if joined else b
        own = el.get(base_key)
        result[base_key] = urljoin(joined, own) if own is not None else joined
    return result


def _escape_text(s: str) -> str:
    return (s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace("\r", "&#xD;"))


def canonicalize(ns: NodeSet, algorithm: str, prefixes: Iterable[str] | None = None) -> bytes:
    """C14N of a node-set: each apex (an included node whose parent is not) is copied,
    the excluded nodes pruned from the copy, and the copy serialised by libxml2."""
    if algorithm not in C14N:
        raise DsigError(SubIndication.FORMAT_FAILURE, "unsupported_c14n", algorithm=algorithm)
    exclusive, with_comments, version = C14N[algorithm]
    doc = ns.doc
    mask = ns.mask
    out: list[bytes] = []
    nodes = doc.nodes
    pfx = list(prefixes) if prefixes else None
    bits = doc.bits(mask)
    i = bits.find("1")
    while i != -1:
        kind, el = nodes[i]
        if kind in ("T", "L"):
            out.append(_escape_text(el.text if kind == "T" else el.tail).encode("utf-8"))
            i = bits.find("1", i + 1)
            continue
        if isinstance(el, etree._Comment):
            if with_comments:
                out.append(b"<!--" + (el.text or "").encode("utf-8") + b"-->")
            i = bits.find("1", i + 1)
            continue
        if isinstance(el, etree._ProcessingInstruction):
            out.append(etree.tostring(el, method="c14n"))
            i = bits.find("1", i + 1)
            continue
        end = doc.end[i]
        out.append(_c14n_apex(doc, el, i, end, bits, exclusive, with_comments, version, pfx))
        i = bits.find("1", end)
    data = b"".join(out)
    if ns.doc_level and bits[:1] == "1":
        pre, post = [], []
        for sib in reversed(list(doc.root.itersiblings(preceding=True))):
            if isinstance(sib, etree._Comment) and not with_comments:
                continue
            pre.append(_top_level(sib) + b"\n")
        for sib in doc.root.itersiblings():
            if isinstance(sib, etree._Comment) and not with_comments:
                continue
            post.append(b"\n" + _top_level(sib))
        data = b"".join(pre) + data + b"".join(post)
    return data


def _top_level(node: Any) -> bytes:
    if isinstance(node, etree._Comment):
        return b"<!--" + (node.text or "").encode("utf-8") + b"-->"
    return bytes(etree.tostring(node, method="c14n"))


def _c14n_apex(doc: Document, el: Any, start: int, end: int, bits: str, exclusive: bool,
               with_comments: bool, version: str, prefixes: list[str] | None) -> bytes:
    """C14N of one apex of a node-set by libxml2, in the element's own document context
    (its in-scope namespaces exactly as declared: the same URI under two prefixes, a
    default namespace re-declared or undeclared), as libxmlsec1 does it.

    When the node-set is the apex's whole subtree (comments aside, when they are not
    rendered anyway) and nothing is inherited, lxml canonicalises the element in place.
    Otherwise a copy of the *whole document* is pruned to the node-set and the apex
    canonicalised there, so its ancestors still provide the namespace context.
    ``bits``: the node-set as from :func:`bit_string` (work outside the copy is
    O(end - start))."""
    full = bits.find("0", start, end) == -1
    if not full and not with_comments:
        j = bits.find("0", start, end)
        full = True
        while j != -1:
            if not (doc.nodes.kinds[j] == "E" and isinstance(doc.nodes.els[j], etree._Comment)):
                full = False
                break
            j = bits.find("0", j + 1, end)
    if full and el is doc.root:
        # The document element, whole: libxml2 canonicalises it where it stands.
        return bytes(etree.tostring(el, method="c14n", exclusive=exclusive,
                                    with_comments=with_comments, inclusive_ns_prefixes=prefixes))
    key = (el, exclusive, with_comments, version, tuple(prefixes) if prefixes else None)
    if full and key in doc.c14n_cache:
        return doc.c14n_cache[key]
    cp = el if full else _pruned_copy(doc, el, start, end, bits)
    apex = _as_document(cp, el)
    if not exclusive:
        for k, v in _inherited_xml_attrs(el, version).items():
            apex.set(k, v)
    out = bytes(etree.tostring(apex, method="c14n", exclusive=exclusive,
                               with_comments=with_comments, inclusive_ns_prefixes=prefixes))
    if full:
        doc.c14n_cache[key] = out
    return out


def _pruned_copy(doc: Document, el: Any, start: int, end: int, bits: str) -> Any:
    """``el``'s counterpart in a copy of the whole document, pruned to the node-set."""
    # Refuse node-sets where an excluded element has included descendants inside this
    # apex: their output would interleave (not needed by any real profile; a refusal
    # can only make verification fail, never pass).
    excluded_tops: list[int] = []
    j = bits.find("0", start + 1, end)
    while j != -1:
        kind, node = doc.nodes[j]
        if kind == "E":
            e_end = doc.end[j]
            if bits.find("1", j, e_end) != -1:
                raise DsigError(SubIndication.FORMAT_FAILURE, "unsupported_nodeset")
            excluded_tops.append(j)
            j = bits.find("0", e_end, end) if e_end < end else -1
            continue
        j = bits.find("0", j + 1, end)
    tree_copy = copy.deepcopy(doc.tree)
    cp = _same_node(tree_copy.getroot(), doc.root, el)
    mapping: dict[Any, Any] = dict(zip(el.iter(), cp.iter()))
    # Text nodes first (T and L exclusions), then whole excluded subtrees.
    j = bits.find("0", start, end)
    while j != -1:
        kind, node = doc.nodes[j]
        nxt = doc.end[j] if kind == "E" else j + 1
        j = bits.find("0", nxt, end)
        if kind == "T":
            mapping[node].text = None
        elif kind == "L":
            mapping[node].tail = None
    for j in reversed(excluded_tops):
        c = mapping[doc.nodes[j][1]]
        parent = c.getparent()
        tail = c.tail
        if tail:
            prev = c.getprevious()
            if prev is not None:
                prev.tail = (prev.tail or "") + tail
            else:
                parent.text = (parent.text or "") + tail
        parent.remove(c)
    return cp


_QNAME_END = re.compile(rb"^<[^\s/>]+")


def _as_document(cp: Any, original: Any) -> Any:
    """``cp`` (an element, or its pruned copy) as the root of a document of its own that
    declares exactly the namespaces in scope at ``original``, with their prefixes.

    libxml2 canonicalises a document subset correctly only from the document element:
    lxml's in-place C14N of an inner element goes through a "fake root" whose children
    still see the real ancestors, so a default namespace declared above can come out as
    a spurious ``xmlns=""`` (libxml2 issue 42, signxml issue 11). The element is
    serialised (lxml declares what it uses, with the original prefixes), the unused
    in-scope declarations that inclusive C14N renders on an apex are added to its start
    tag, and the result is parsed again with the hardened parser."""
    from ground.xmlsafe import parse_xml

    if not isinstance(cp.tag, str):
        return cp
    data = etree.tostring(cp, with_tail=False)
    first = parse_xml(data).getroot()
    have = first.nsmap
    missing = {p: u for p, u in original.nsmap.items() if have.get(p) != u and p not in have}
    if not missing:
        return first
    m = _QNAME_END.match(data)
    if m is None:
        return first
    decls = b"".join(
        b" xmlns" + (b":" + p.encode() if p else b"") + b'="' + _escape_attr(u).encode() + b'"'
        for p, u in missing.items())
    return parse_xml(data[:m.end()] + decls + data[m.end():]).getroot()


def _escape_attr(v: str) -> str:
    return (v.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;")
            .replace("\t", "&#9;").replace("\n", "&#10;").replace("\r", "&#13;"))


def _same_node(copy_root: Any, root: Any, el: Any) -> Any:
    """``el``'s counterpart in a deep copy of its document (by child positions)."""
    path: list[int] = []
    node = el
    while node is not root:
        parent = node.getparent()
        path.append(parent.index(node))
        node = parent
    out = copy_root
    for i in reversed(path):
        out = out[i]
    return out


def c14n_element(doc: Document, el: Any, algorithm: str,
                 prefixes: Iterable[str] | None = None) -> bytes:
    return canonicalize(NodeSet(doc, doc.subtree(el)), algorithm, prefixes)


def inclusive_prefixes(method_el: Any) -> list[str] | None:
    """ec:InclusiveNamespaces/@PrefixList of an exclusive C14N method or transform."""
    for child in method_el:
        if isinstance(child.tag, str) and child.tag.endswith("}InclusiveNamespaces"):
            return (child.get("PrefixList") or "").split()
    return None


# --- Reference processing (XMLDSig 1.1 section 4.4.3.2) ----------------------------------

_XPOINTER_ID = re.compile(r"""^xpointer\(id\(\s*(['"])([^'"]*)\1\s*\)\)$""")
_XPATH_ID = re.compile(r"""\bid\(\s*(['"])([^'"]*)\1\s*\)""")


def dereference(doc: Document, uri: str | None) -> tuple[NodeSet, Any]:
    """Same-document URIs only; returns the node-set and the element pointed at."""
    if uri is None:
        raise DsigError(SubIndication.SIGNED_DATA_NOT_FOUND, "ref_detached", uri="")
    if uri == "":
        return NodeSet(doc, doc.all_mask & ~doc.comment_mask, doc_level=True), doc.root
    if uri == "#xpointer(/)":
        return NodeSet(doc, doc.all_mask, doc_level=True), doc.root
    if uri.startswith("#"):
        frag = uri[1:]
        m = _XPOINTER_ID.match(frag)
        if m:
            el = doc.by_id(m.group(2))
            return NodeSet(doc, doc.subtree(el)), el
        el = doc.by_id(frag)
        return NodeSet(doc, doc.subtree(el) & ~doc.comment_mask), el
    # External (http:, file:, relative names): never fetched.
    raise DsigError(SubIndication.SIGNED_DATA_NOT_FOUND, "ref_external", uri=uri[:200])


def _xpath_nodes_mask(doc: Document, results: Any) -> int:
    # Collected as index ranges and turned into one int at the end: OR-ing a
    # document-sized int per result would be quadratic for ``//*``.
    ranges: list[tuple[int, int]] = []
    if not isinstance(results, list):
        raise DsigError(SubIndication.FORMAT_FAILURE, "xpath_not_nodeset")
    for r in results:
        if isinstance(r, etree._Element) or isinstance(r, etree._ElementTree):
            el = r.getroot() if isinstance(r, etree._ElementTree) else r
            start = doc.e_idx.get(el)
            if start is not None:
                ranges.append((start, doc.end[start]))
        elif isinstance(r, str) and hasattr(r, "getparent"):
            parent = r.getparent()
            if getattr(r, "is_attribute", False):
                continue  # attributes go with their element
            if getattr(r, "is_tail", False):
                idx = doc.tail_index(parent)
            else:
                idx = doc.text_index(parent)
            if idx is not None:
                ranges.append((idx, idx + 1))
        else:
            raise DsigError(SubIndication.FORMAT_FAILURE, "xpath_not_nodeset")
    return ranges_mask(ranges, doc.size)


def _compile_xpath(expr: str, ctx_el: Any, doc: Document) -> tuple[str, dict[str, Any]]:
    """Replace id('x') and here() by variables bound through OUR Id index."""
    variables: dict[str, Any] = {}

    def sub_id(m: re.Match[str]) -> str:
        name = f"hocba_id{len(variables)}"
        try:
            variables[name] = [doc.by_id(m.group(2))]
        except DsigError:
            variables[name] = []
        return "$" + name

    expr = _XPATH_ID.sub(sub_id, expr)
    if "here()" in expr:
        variables["hocba_here"] = [ctx_el]
        expr = expr.replace("here()", "$hocba_here")
    return expr, variables


def _nsmap(el: Any) -> dict[str, str]:
    return {k: v for k, v in el.nsmap.items() if k}


def _filter2(doc: Document, ns: NodeSet, transform: Any) -> NodeSet:
    """XPath Filter 2.0 (W3C xmldsig-filter2): F starts as the whole document."""
    f = doc.all_mask
    found = False
    for xp in transform:
        if not isinstance(xp.tag, str) or xp.tag != q(XF2, "XPath"):
            continue
        found = True
        expr, variables = _compile_xpath((xp.text or "").strip(), xp, doc)
        try:
            res = doc.tree.xpath(expr, namespaces=_nsmap(xp), **variables)
        except etree.XPathError as e:
            raise DsigError(SubIndication.FORMAT_FAILURE, "bad_xpath", detail=Foreign(str(e))) from None
        s = _xpath_nodes_mask(doc, res)
        op = xp.get("Filter")
        if op == "intersect":
            f &= s
        elif op == "subtract":
            f &= ~s
        elif op == "union":
            f |= s
        else:
            raise DsigError(SubIndication.FORMAT_FAILURE, "bad_xpath", detail=f"Filter={op}")
    if not found:
        raise DsigError(SubIndication.FORMAT_FAILURE, "bad_xpath", detail="no XPath")
    return NodeSet(doc, ns.mask & f, ns.doc_level)


def _xpath10(doc: Document, ns: NodeSet, transform: Any) -> NodeSet:
    """XPath 1.0 filtering transform: the expression evaluated for each node.

    Text nodes are evaluated with their parent element as context (exact for the
    usual ancestor-axis expressions such as ``not(ancestor-or-self::ds:Signature)``).
    """
    xp = transform.find(q(DS, "XPath"))
    if xp is None:
        raise DsigError(SubIndication.FORMAT_FAILURE, "bad_xpath", detail="no XPath")
    expr, variables = _compile_xpath((xp.text or "").strip(), xp, doc)
    try:
        compiled = etree.XPath(f"boolean({expr})", namespaces=_nsmap(xp))
    except etree.XPathError as e:
        raise DsigError(SubIndication.FORMAT_FAILURE, "bad_xpath", detail=Foreign(str(e))) from None
    out = bytearray(b"0") * doc.size
    cache: dict[Any, bool] = {}
    for i in iter_bits(ns.mask, doc.size):
        kind, el = doc.nodes[i]
        ctx = el if kind in ("E", "T") else el.getparent()
        if ctx is None:
            continue
        if kind == "E" and not isinstance(el.tag, str):
            ctx = el.getparent() if el.getparent() is not None else el
        v = cache.get(ctx)
        if v is None:
            try:
                v = bool(compiled(ctx, **variables))
            except etree.XPathError as e:
                raise DsigError(SubIndication.FORMAT_FAILURE, "bad_xpath", detail=Foreign(str(e))) from None
            cache[ctx] = v
        if v:
            out[i] = 0x31  # "1"
    return NodeSet(doc, mask_from_bits(out), ns.doc_level)


@dataclass
class ReferenceResult:
    element: Any
    uri: str | None
    type: str | None
    digest_algorithm: str | None = None
    valid: bool = False
    target: Any = None  # the element the URI points at
    covered: int = 0  # the node-set that was hashed (bitmask over the document)
    error: DsigError | None = None


def process_reference(doc: Document, ref: Any, signature: Any) -> ReferenceResult:
    uri = ref.get("URI")
    result = ReferenceResult(ref, uri, ref.get("Type"))
    try:
        dm = ref.find(q(DS, "DigestMethod"))
        dv = ref.find(q(DS, "DigestValue"))
        if dm is None or dv is None:
            raise DsigError(SubIndication.FORMAT_FAILURE, "ref_malformed")
        algo = DIGESTS.get(dm.get("Algorithm") or "")
        if algo is None:
            raise DsigError(SubIndication.FORMAT_FAILURE, "unsupported_digest",
                            algorithm=dm.get("Algorithm"))
        result.digest_algorithm = algo
        try:
            expected = base64.b64decode("".join((dv.text or "").split()), validate=True)
        except (binascii.Error, ValueError):
            raise DsigError(SubIndication.FORMAT_FAILURE, "ref_malformed") from None
        data, covered, target = reference_octets(doc, ref, signature)
        result.target = target
        actual = hash_bytes(algo, data)
        if actual != expected:
            raise DsigError(SubIndication.HASH_FAILURE, "ref_digest_mismatch", uri=uri or "")
        result.valid = True
        result.covered = covered
    except DsigError as e:
        result.error = e
    return result


def reference_octets(doc: Document, ref: Any, signature: Any) -> tuple[bytes, int, Any]:
    """The octets a Reference digests, the node-set they came from, and its target."""
    ns, target = dereference(doc, ref.get("URI"))
    value: NodeSet | bytes = ns
    covered = 0
    transforms = ref.find(q(DS, "Transforms"))
    for t in (transforms if transforms is not None else ()):
        if not isinstance(t.tag, str):
            continue
        alg = t.get("Algorithm") or ""
        if alg == ENVELOPED:
            if not isinstance(value, NodeSet):
                raise DsigError(SubIndication.FORMAT_FAILURE, "bad_transform", algorithm=alg)
            value = NodeSet(doc, value.mask & ~doc.subtree(signature), value.doc_level)
        elif alg in C14N:
            if isinstance(value, NodeSet):
                covered |= value.mask
                value = canonicalize(value, alg, inclusive_prefixes(t))
            else:
                value = _reparse_c14n(value, alg, inclusive_prefixes(t))
        elif alg == XF2 + "" or alg == "http://www.w3.org/2002/06/xmldsig-filter2":
            if not isinstance(value, NodeSet):
                raise DsigError(SubIndication.FORMAT_FAILURE, "bad_transform", algorithm=alg)
            value = _filter2(doc, value, t)
        elif alg == XPATH_10:
            if not isinstance(value, NodeSet):
                raise DsigError(SubIndication.FORMAT_FAILURE, "bad_transform", algorithm=alg)
            value = _xpath10(doc, value, t)
        elif alg == BASE64:
            if isinstance(value, NodeSet):
                covered |= value.mask
                text = "".join(
                    (el.text if kind == "T" else el.tail)
                    for kind, el in (doc.nodes[i] for i in iter_bits(value.mask, doc.size))
                    if kind in ("T", "L"))
                raw = text.encode("utf-8")
            else:
                raw = value
            try:
                value = base64.b64decode(b"".join(raw.split()), validate=True)
            except (binascii.Error, ValueError):
                raise DsigError(SubIndication.FORMAT_FAILURE, "bad_base64") from None
        else:
            raise DsigError(SubIndication.FORMAT_FAILURE, "unsupported_transform",
                            algorithm=alg[:200])
    if isinstance(value, NodeSet):
        # Default: a node-set is serialised with inclusive C14N 1.0 (XMLDSig 4.4.3.2).
        covered |= value.mask
        value = canonicalize(value, C14N_10)
    return value, covered, target


def _reparse_c14n(data: bytes, alg: str, prefixes: list[str] | None) -> bytes:
    from ground.xmlsafe import XmlFormatError, parse_xml

    try:
        tree = parse_xml(data)
    except XmlFormatError:
        raise DsigError(SubIndication.FORMAT_FAILURE, "bad_transform", algorithm=alg) from None
    d = Document(tree)
    return canonicalize(NodeSet(d, d.all_mask, True), alg, prefixes)


# --- Signature value (XMLDSig 1.1 section 4.4.2 / 6.4) ----------------------------------

def _hash_obj(name: str) -> hashes.HashAlgorithm:
    return {
        "sha1": hashes.SHA1(), "md5": hashes.MD5(), "sha224": hashes.SHA224(),
        "sha256": hashes.SHA256(), "sha384": hashes.SHA384(), "sha512": hashes.SHA512(),
        "sha3_224": hashes.SHA3_224(), "sha3_256": hashes.SHA3_256(),
        "sha3_384": hashes.SHA3_384(), "sha3_512": hashes.SHA3_512(),
    }[name]


def signature_algorithm(signed_info: Any) -> tuple[str, str, str, int | None]:
    """(key type, digest, padding, PSS salt length) of ds:SignatureMethod."""
    sm = signed_info.find(q(DS, "SignatureMethod"))
    uri = sm.get("Algorithm") if sm is not None else None
    spec = SIGNATURES.get(uri or "")
    if spec is None:
        raise DsigError(SubIndication.FORMAT_FAILURE, "unsupported_signature_method",
                        algorithm=uri)
    kind, digest, pad = spec
    salt: int | None = None
    if uri == DSMORE07 + "rsa-pss":
        params = sm.find(q(DSMORE07, "RSAPSSParams"))
        digest = "sha256"
        if params is not None:
            dm = params.find(q(DS, "DigestMethod"))
            if dm is not None:
                d = DIGESTS.get(dm.get("Algorithm") or "")
                if d is None:
                    raise DsigError(SubIndication.FORMAT_FAILURE, "unsupported_digest",
                                    algorithm=dm.get("Algorithm"))
                digest = d
            sl = params.findtext(q(DSMORE07, "SaltLength"))
            if sl and sl.strip().isdigit():
                salt = int(sl.strip())
    return kind, digest, pad, salt


def verify_signature_value(public_key: Any, kind: str, digest: str, pad: str,
                           salt: int | None, value: bytes, data: bytes) -> bool:
    h = _hash_obj(digest)
    try:
        if kind == "rsa":
            if not isinstance(public_key, rsa.RSAPublicKey):
                return False
            if pad == "pss":
                public_key.verify(value, data, padding.PSS(
                    mgf=padding.MGF1(h), salt_length=salt if salt is not None
                    else padding.PSS.AUTO), h)
            else:
                public_key.verify(value, data, padding.PKCS1v15(), h)
            return True
        if kind in ("ec", "dsa"):
            if kind == "ec" and not isinstance(public_key, ec.EllipticCurvePublicKey):
                return False
            if kind == "dsa" and not isinstance(public_key, dsa.DSAPublicKey):
                return False
            if len(value) % 2:
                return False
            half = len(value) // 2
            der = encode_dss_signature(int.from_bytes(value[:half], "big"),
                                       int.from_bytes(value[half:], "big"))
            if kind == "ec":
                public_key.verify(der, data, ec.ECDSA(h))
            else:
                public_key.verify(der, data, h)
            return True
    except (InvalidSignature, ValueError, TypeError):
        return False
    return False


def key_size(public_key: Any) -> tuple[str, int]:
    if isinstance(public_key, rsa.RSAPublicKey):
        return "RSA", public_key.key_size
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        return "ECDSA", public_key.curve.key_size
    if isinstance(public_key, dsa.DSAPublicKey):
        return "DSA", public_key.key_size
    return "?", 0


def b64(text: str | None) -> bytes:
    try:
        return base64.b64decode("".join((text or "").split()), validate=True)
    except (binascii.Error, ValueError):
        raise DsigError(SubIndication.FORMAT_FAILURE, "bad_base64") from None


def load_cert(der: bytes) -> tuple[asn1_x509.Certificate, cx509.Certificate] | None:
    try:
        c = cx509.load_der_x509_certificate(der)
        a = asn1_x509.Certificate.load(der)
        return a, c
    except Exception:  # garbage certificates are skipped, not a traceback
        return None


@dataclass
class SignatureCore:
    """Result of core (XMLDSig) validation of one ds:Signature."""

    element: Any
    id: str
    signed_info: Any = None
    c14n_method: str | None = None
    algorithm: tuple[str, str, str, int | None] | None = None
    signature_value: bytes = b""
    value_el: Any = None
    references: list[ReferenceResult] = field(default_factory=list)
    keyinfo_certs: list[bytes] = field(default_factory=list)
    error: DsigError | None = None
    # The ds:SignatureMethod this verifier cannot run (the references are still checked).
    unsupported_method: DsigError | None = None
    c14n_signed_info: bytes = b""


def parse_signature(doc: Document, sig: Any, index: int) -> SignatureCore:
    core = SignatureCore(sig, sig.get("Id") or f"signature-{index + 1}")
    try:
        si = sig.find(q(DS, "SignedInfo"))
        sv = sig.find(q(DS, "SignatureValue"))
        if si is None or sv is None:
            raise DsigError(SubIndication.FORMAT_FAILURE, "sig_malformed")
        core.signed_info = si
        core.value_el = sv
        cm = si.find(q(DS, "CanonicalizationMethod"))
        core.c14n_method = cm.get("Algorithm") if cm is not None else None
        if core.c14n_method not in C14N:
            raise DsigError(SubIndication.FORMAT_FAILURE, "unsupported_c14n",
                            algorithm=core.c14n_method)
        try:
            core.algorithm = signature_algorithm(si)
        except DsigError as e:
            if e.code not in ("unsupported_signature_method", "unsupported_digest"):
                raise
            core.unsupported_method = e
        core.signature_value = b64(sv.text)
        core.c14n_signed_info = c14n_element(doc, si, core.c14n_method,
                                             inclusive_prefixes(cm))
        for x in sig.iterfind(f"{q(DS, 'KeyInfo')}/{q(DS, 'X509Data')}/{q(DS, 'X509Certificate')}"):
            core.keyinfo_certs.append(b64(x.text))
        refs = si.findall(q(DS, "Reference"))
        if not refs:
            raise DsigError(SubIndication.FORMAT_FAILURE, "sig_malformed")
        for ref in refs:
            core.references.append(process_reference(doc, ref, sig))
    except DsigError as e:
        core.error = e
    return core
