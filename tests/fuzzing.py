"""Mutation fuzzing of signed records (used by tests/verifier/test_mutation_fuzz.py and
bench/fuzz_mutations.py).

Mutators are seeded and deterministic. The oracle: the verifier never raises and never
hangs, and a mutant is TOTAL_PASSED only when what the signatures sign is unchanged
(PDF: every changed byte lies outside every /ByteRange, in a signature's /Contents
gap, and the length is the same; XML: the canonical form of every signed part and of
every ds:SignedInfo and ds:SignatureValue is the same).
"""
from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterator

from lxml import etree

DS = "http://www.w3.org/2000/09/xmldsig#"

Mutator = Callable[[bytes, random.Random], bytes]


# --- PDF ----------------------------------------------------------------------------------

def flip_byte(data: bytes, rng: random.Random) -> bytes:
    i = rng.randrange(len(data))
    b = bytearray(data)
    b[i] ^= 1 << rng.randrange(8)
    return bytes(b)


def truncate(data: bytes, rng: random.Random) -> bytes:
    return data[:rng.randrange(1, len(data))]


_OBJ = re.compile(rb"\n(\d+) (\d+) obj\b.*?endobj", re.S)


def duplicate_object(data: bytes, rng: random.Random) -> bytes:
    """Append a copy of an object (same number) after the end: a shadow definition."""
    objs = list(_OBJ.finditer(data))
    if not objs:
        return flip_byte(data, rng)
    m = rng.choice(objs)
    return data + m.group(0) + b"\n"


def duplicate_xref_section(data: bytes, rng: random.Random) -> bytes:
    """Repeat the last xref/trailer/startxref block (or a random earlier one)."""
    starts = [m.start() for m in re.finditer(rb"\nxref\b|\n\d+ 0 obj\s*<<\s*/Type\s*/XRef", data)]
    if not starts:
        return truncate(data, rng)
    s = rng.choice(starts)
    return data + data[s:]


def shuffle_objects(data: bytes, rng: random.Random) -> bytes:
    """Swap two object bodies of the same length (offsets stay valid)."""
    objs = list(_OBJ.finditer(data))
    by_len: dict[int, list[re.Match[bytes]]] = {}
    for m in objs:
        by_len.setdefault(len(m.group(0)), []).append(m)
    pairs = [v for v in by_len.values() if len(v) > 1]
    if not pairs:
        return duplicate_object(data, rng)
    a, b = rng.sample(rng.choice(pairs), 2)
    out = bytearray(data)
    out[a.start():a.end()], out[b.start():b.end()] = b.group(0), a.group(0)
    return bytes(out)


def change_digit(data: bytes, rng: random.Random) -> bytes:
    """Change one digit somewhere (offsets, lengths, numbers in content)."""
    digits = [m.start() for m in re.finditer(rb"\d", data)]
    i = rng.choice(digits)
    b = bytearray(data)
    b[i] = ord(str((int(chr(b[i])) + 1 + rng.randrange(8)) % 10))
    return bytes(b)


PDF_MUTATORS: dict[str, Mutator] = {
    "flip_byte": flip_byte, "truncate": truncate, "duplicate_object": duplicate_object,
    "duplicate_xref_section": duplicate_xref_section, "shuffle_objects": shuffle_objects,
    "change_digit": change_digit,
}


def pdf_gaps(data: bytes) -> list[tuple[int, int]]:
    """The /Contents gaps between the two ranges of every /ByteRange."""
    gaps = []
    for m in re.finditer(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]", data):
        a, b, c, _ = (int(x) for x in m.groups())
        gaps.append((a + b, c))
    return gaps


def pdf_signed_unchanged(original: bytes, mutant: bytes) -> bool:
    """The bytes every /ByteRange of the original covers are unchanged, at the same
    offsets (an appended update leaves them so; whether the update itself is allowed is
    the difference analysis's question, tested by the named red-team vectors)."""
    if len(mutant) < len(original):
        return False
    gaps = pdf_gaps(original)
    # Bytes after the end of the last signed range (an unsigned update such as a DSS
    # added after the last signature) are covered by no signature.
    covered_end = max((c + d for c, d in _byte_range_tails(original)), default=len(original))
    diff = [i for i in range(min(len(original), covered_end)) if original[i] != mutant[i]]
    return all(any(s <= i < e for s, e in gaps) for i in diff)


def _byte_range_tails(data: bytes) -> list[tuple[int, int]]:
    return [(int(m.group(3)), int(m.group(4))) for m in re.finditer(
        rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]", data)]


# --- XML ----------------------------------------------------------------------------------

def _tree(data: bytes) -> etree._Element:
    return etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))


def _elements(root: etree._Element) -> list[etree._Element]:
    return [e for e in root.iter() if isinstance(e.tag, str)]


def move_node(data: bytes, rng: random.Random) -> bytes:
    root = _tree(data)
    els = [e for e in _elements(root) if e is not root]
    el = rng.choice(els)
    targets = [t for t in _elements(root) if t is not el and el not in t.iterancestors()
               and t not in el.iter()]
    if not targets:
        return data
    parent = el.getparent()
    parent.remove(el)
    t = rng.choice(targets)
    t.insert(rng.randrange(len(t) + 1), el)
    return etree.tostring(root)


def duplicate_node(data: bytes, rng: random.Random) -> bytes:
    import copy

    root = _tree(data)
    els = [e for e in _elements(root) if e is not root]
    el = rng.choice(els)
    el.addnext(copy.deepcopy(el))
    return etree.tostring(root)


def renamespace_node(data: bytes, rng: random.Random) -> bytes:
    """Move an element into another namespace (same local name)."""
    root = _tree(data)
    el = rng.choice(_elements(root))
    local = etree.QName(el).localname
    el.tag = "{urn:hocba:fuzz}" + local
    return etree.tostring(root)


def swap_signatures(data: bytes, rng: random.Random) -> bytes:
    """Reorder the ds:Signature elements (position is not evidence: may still pass)."""
    root = _tree(data)
    sigs = [s for s in root.iter(f"{{{DS}}}Signature") if s.getparent() is root]
    if len(sigs) < 2:
        return data
    for s in sigs:
        root.remove(s)
    rng.shuffle(sigs)
    for s in sigs:
        root.append(s)
    return etree.tostring(root)


def change_text(data: bytes, rng: random.Random) -> bytes:
    root = _tree(data)
    els = [e for e in _elements(root) if e.text and e.text.strip()]
    if not els:
        return flip_byte(data, rng)
    el = rng.choice(els)
    t = el.text
    i = rng.randrange(len(t))
    el.text = t[:i] + ("X" if t[i] != "X" else "Y") + t[i + 1:]
    return etree.tostring(root)


XML_MUTATORS: dict[str, Mutator] = {
    "flip_byte": flip_byte, "truncate": truncate, "move_node": move_node,
    "duplicate_node": duplicate_node, "renamespace_node": renamespace_node,
    "swap_signatures": swap_signatures, "change_text": change_text,
}


def xml_signed_view(data: bytes) -> tuple[bytes, ...] | None:
    """C14N of everything the signatures sign (by Id) and of their SignedInfo and
    SignatureValue; None when the mutant is not even well-formed."""
    try:
        root = _tree(data)
    except etree.XMLSyntaxError:
        return None
    ids: dict[str, list[etree._Element]] = {}
    for e in _elements(root):
        for k in ("Id", "ID", "id"):
            if e.get(k):
                ids.setdefault(e.get(k), []).append(e)
    out: list[bytes] = []
    for sig in root.iter(f"{{{DS}}}Signature"):
        for part in ("SignedInfo", "SignatureValue"):
            el = sig.find(f"{{{DS}}}{part}")
            out.append(etree.tostring(el, method="c14n") if el is not None else b"")
        for ref in sig.iterfind(f"{{{DS}}}SignedInfo/{{{DS}}}Reference"):
            uri = ref.get("URI") or ""
            targets = ids.get(uri[1:], []) if uri.startswith("#") else [root]
            out.extend(etree.tostring(t, method="c14n", exclusive=True) for t in targets)
    return tuple(sorted(out))


def xml_content_view(data: bytes) -> bytes | None:
    """The document without its signatures, whitespace-only text dropped, canonical."""
    try:
        root = _tree(data)
    except etree.XMLSyntaxError:
        return None
    for sig in list(root.iter(f"{{{DS}}}Signature")):
        parent = sig.getparent()
        if parent is not None:
            parent.remove(sig)
    for e in root.iter():
        if e.text is not None and not e.text.strip():
            e.text = None
        if e.tail is not None and not e.tail.strip():
            e.tail = None
    return etree.tostring(root, method="c14n")


def xml_signed_unchanged(original: bytes, mutant: bytes) -> bool:
    view = xml_signed_view(mutant)
    return (view is not None and view == xml_signed_view(original)
            and xml_content_view(mutant) == xml_content_view(original))


def mutants(data: bytes, mutators: dict[str, Mutator], count: int, seed: int
            ) -> Iterator[tuple[str, bytes]]:
    rng = random.Random(seed)
    names = sorted(mutators)
    for i in range(count):
        name = names[i % len(names)]
        try:
            yield name, mutators[name](data, rng)
        except (etree.XMLSyntaxError, ValueError, IndexError):
            continue
