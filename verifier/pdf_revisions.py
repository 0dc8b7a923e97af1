"""The revisions of one PDF analysed once for all its signatures (issue 14).

pyHanko's difference analysis (``StandardDiffPolicy.apply``) needs, for the revision a
signature covers, every path by which each object can be reached from the trailer
(``HistoricalResolver._load_reverse_xref_cache``): that is how an object overwritten
later is matched with the places it is used. pyHanko computes it afresh for every
signature's revision, walking the whole object graph, fonts and their width arrays
included, although from one signed revision to the next only the few objects of the
new signature change.

:class:`SharedRevisions` computes the same table for each revision with the same walk
(the page-tree and structure-tree special cases, cycle cutting, skipped ``/Parent``
and structure ``/P`` entries, path for path), but remembers what lies below an object
and reuses it wherever, in the same or a later revision, that object is reached again
in a context that cannot change the walk:

- every object met below it has the same xref entry in both revisions (same bytes
  for an offset; the same object-stream slot, which pyHanko reads from the current
  stream in every revision), so its content is the same;
- none of them is an ancestor of the new position (the walk cuts cycles by ancestors),
  a page-tree node (entered only by its canonical path) or a structure-tree node;
- the position is not one where the walk switches to structure-tree mode.

Under these conditions pyHanko's walk below the object is a function of the objects
below it alone, so the reused paths are exactly the ones it would produce; the test
suite compares the tables with pyHanko's own for every PDF it has
(``tests/verifier/test_pdf_revisions.py``). The table is then handed to pyHanko through
the resolver's cache attribute, and pyHanko's difference analysis runs unchanged on
it. Anything unexpected (an unreadable object, a page-tree cycle, very deep nesting,
another pyHanko version without that attribute) leaves the table to pyHanko, which
then computes it, or fails, exactly as before.

Two things pyHanko's walk does that the table does not need are left out: the walk
reads each object as it is in that revision straight from the file's bytes, as a
reference skeleton (:func:`ground.pdf_read.read_skeleton`: keys and references, no
integer arrays or stream payloads, remembered across files by the object's bytes), or
from the reader where a skeleton is declined - pyHanko's historical resolver would
first parse it whole and copy every object it hands out, rebinding its references,
although the walk only looks at reference numbers and keys; an encrypted file is
walked through the resolver as before, whose copies decrypt. And the
table is handed over as :class:`_Usages`, which builds pyHanko's path objects for a
reference only when the difference analysis asks for that reference (a handful per
revision) instead of for every object of the file.

Also here: pyHanko's ``_find_orphans`` (objects of a revision that nothing older
refers to) depends on the revision alone but runs for every (signed revision, later
revision) pair; :func:`install` remembers its answer per revision (per resolver, that
is per file), so a file with four signatures runs it once per revision instead of up
to four times.
"""
from __future__ import annotations

import weakref
from typing import Any, cast

from pyhanko.pdf_utils import generic, misc
from pyhanko.pdf_utils.reader import HistoricalResolver, PdfFileReader, RawPdfPath

from ground.pdf_read import read_skeleton

_ROOT_STRUCT = ("/Root", "/StructTreeRoot")
# Deeper than this, the table is left to pyHanko (whose recursion decides what happens).
_MAX_DEPTH = 200
_CONTAINERS = (generic.IndirectObject, generic.DictionaryObject, generic.ArrayObject)


class _Fallback(Exception):
    """Leave this revision's table to pyHanko."""


class _Entry:
    """What lies below one object, relative to it: the (reference, path) pairs the walk
    records, and every reference it met (recorded or cut)."""

    __slots__ = ("revision", "pairs", "met")

    def __init__(self, revision: int, pairs: tuple[tuple[generic.Reference, tuple[Any, ...]], ...],
                 met: frozenset[generic.Reference]) -> None:
        self.revision, self.pairs, self.met = revision, pairs, met


class _Usages(dict):  # type: ignore[type-arg]
    """pyHanko's reverse-xref table (reference -> set of RawPdfPath), each entry built
    when it is first looked up (``HistoricalResolver._get_usages_of_ref`` reads it with
    ``[]``; a reference that is not there raises KeyError as in a plain dict). Truthy
    when the table is, as pyHanko tests it (``cache or {}``). :meth:`complete` builds
    every entry and returns the plain table."""

    __slots__ = ("_raw",)

    def __init__(self, raw: dict[generic.Reference, set[tuple[Any, ...]]]) -> None:
        super().__init__()
        self._raw = raw

    def __missing__(self, ref: generic.Reference) -> set[RawPdfPath]:
        paths = self._raw.pop(ref)  # KeyError: no usages, as pyHanko's table answers
        value = self[ref] = {RawPdfPath(*p) for p in paths}
        return value

    def __bool__(self) -> bool:
        return bool(self._raw) or len(self) > 0

    def complete(self) -> dict[generic.Reference, set[RawPdfPath]]:
        for ref in list(self._raw):
            self[ref]  # noqa: B018 - builds the entry
        return dict(self)


class SharedRevisions:
    """The reverse-xref tables of one reader's revisions, sharing what did not change."""

    def __init__(self, reader: PdfFileReader, data: bytes | None = None) -> None:
        self.reader = reader
        # The file's bytes, when the caller has them: objects the walk alone needs are
        # read as reference skeletons (ground.pdf_read.read_skeleton).
        self._data = data
        self._memo: dict[tuple[generic.Reference, bool], list[_Entry]] = {}
        self._markers: dict[tuple[generic.Reference, int], Any] = {}
        # Encrypted files (or a file whose /Encrypt cannot be read) are walked through
        # the historical resolver, whose copies decrypt.
        try:
            self._plain = not reader.encrypted
        except Exception:  # noqa: BLE001 - the resolver meets the same problem
            self._plain = False
        if self._plain and data is not None:
            # HistoricalResolver.collect_dependencies of this reader walks as _table does
            # (see install); a weak reference, so the reader keeps no cycle through us.
            reader._hocba_shared = weakref.ref(self)  # type: ignore[attr-defined]

    def prime(self, revision: int) -> None:
        """Give pyHanko the table of ``revision`` (no-op when it has one or we cannot)."""
        try:
            res = self.reader.get_historical_resolver(revision)
        except Exception:  # noqa: BLE001 - pyHanko will meet the same problem and report it
            return
        if getattr(res, "_indirect_object_access_cache", False) is not None:
            return  # already computed, or a pyHanko without this attribute
        try:
            table = self._table(res)
        except (_Fallback, Exception):  # noqa: BLE001 - pyHanko computes it, or fails, itself
            return
        res._indirect_object_access_cache = table

    # -- the walk ---------------------------------------------------------------------

    def _marker(self, ref: generic.Reference, revision: int) -> Any:
        key = (ref, revision)
        try:
            return self._markers[key]
        except KeyError:
            m = self._markers[key] = self.reader.xrefs.get_historical_ref(ref, revision)
            return m

    def _object(self, res: HistoricalResolver, ref: generic.Reference) -> Any:
        """``res(ref)`` as the walk sees it: the object as it is in that revision, the
        reader's own (HistoricalResolver.get_object's choice between the current and the
        historical version, without its copy)."""
        if not self._plain:
            return res(ref)
        reader: Any = self.reader  # get_object is unannotated
        if self._data is not None:
            marker = self._marker(ref, res.revision)
            if type(marker) is int:
                skeleton = read_skeleton(self._data, marker, ref.idnum, ref.generation)
                if skeleton is not None:
                    return skeleton
        try:
            last_change = reader.xrefs.get_last_change(ref)
        except KeyError:
            last_change = None
        if last_change is not None and last_change <= res.revision:
            return reader.get_object(ref, transparent_decrypt=False)
        return reader.get_object(ref, res.revision, transparent_decrypt=False)

    def dependencies(self, res: HistoricalResolver, obj: Any,
                     since_revision: int | None) -> set[generic.Reference]:
        """pyHanko's ``HistoricalResolver.collect_dependencies`` (the references used by
        ``obj`` and what it reaches; with ``since_revision``, only references introduced
        in that revision or later, not entering older objects), the same walk on the
        objects as :meth:`_object` reads them. The references are the resolver's, as
        pyHanko's are."""
        xrefs = self.reader.xrefs
        seen: set[generic.Reference] = set()

        def walk(o: Any) -> None:
            if isinstance(o, generic.IndirectObject):
                ref = o.reference
                if ref in seen:
                    return
                if since_revision is None or xrefs.get_introducing_revision(ref) >= since_revision:
                    seen.add(ref)
                else:
                    return
                o = self._object(res, ref)
            if isinstance(o, generic.DictionaryObject):
                for v in o.values():
                    walk(v)
            elif isinstance(o, generic.ArrayObject):
                for v in o:
                    walk(v)

        walk(obj)
        return {generic.Reference(r.idnum, r.generation, pdf=res) for r in seen}

    def _same_objects(self, refs: Any, a: int, b: int) -> bool:
        if a == b:
            return True
        marker = self._marker
        return all(marker(r, a) == marker(r, b) for r in refs)

    def _table(self, res: HistoricalResolver) -> _Usages:
        revision = res.revision
        page_tree, struct_nodes = _special_nodes(res)
        special = set(page_tree) | struct_nodes
        memo = self._memo
        collected: dict[generic.Reference, set[tuple[Any, ...]]] = {}
        seen: set[generic.Reference] = set()

        def visit(obj: Any, path: tuple[Any, ...], is_struct: bool,
                  out: list[tuple[generic.Reference, tuple[Any, ...]]],
                  met: set[generic.Reference]) -> None:
            if len(path) > _MAX_DEPTH:
                raise _Fallback
            if isinstance(obj, generic.IndirectObject):
                ref = obj.reference
                met.add(ref)
                if ref in seen:
                    return
                out.append((ref, path))
                memo_ok = (len(path) >= 2 and path != _ROOT_STRUCT and ref not in special)
                if memo_ok:
                    for entry in memo.get((ref, is_struct), ()):
                        if seen.isdisjoint(entry.met) and special.isdisjoint(entry.met) \
                                and self._same_objects((ref, *entry.met), entry.revision, revision):
                            out.extend((r, path + rel) for r, rel in entry.pairs)
                            met.update(entry.met)
                            return
                ancestors = frozenset(seen)
                seen.add(ref)
                try:
                    target = self._object(res, ref)
                    if page_tree.get(ref, path) != path:
                        return
                    if not is_struct and ref in struct_nodes:
                        return
                    if not memo_ok:
                        _children(target, path, is_struct, out, met)
                        return
                    # The walk below keeps absolute paths (the structure-tree switch
                    # looks at them); what is remembered is relative to this object.
                    sub_out: list[tuple[generic.Reference, tuple[Any, ...]]] = []
                    sub_met: set[generic.Reference] = set()
                    _children(target, path, is_struct, sub_out, sub_met)
                finally:
                    seen.discard(ref)
                out.extend(sub_out)
                met.update(sub_met)
                # Context-free only if nothing below was cut by an ancestor of this
                # position or is entered specially (page tree, structure tree).
                if ancestors.isdisjoint(sub_met) and special.isdisjoint(sub_met):
                    n = len(path)
                    memo.setdefault((ref, is_struct), []).append(_Entry(
                        revision, tuple((r, p[n:]) for r, p in sub_out), frozenset(sub_met)))
                return
            _children(obj, path, is_struct, out, met)

        def _children(obj: Any, path: tuple[Any, ...], is_struct: bool,
                      out: list[tuple[generic.Reference, tuple[Any, ...]]],
                      met: set[generic.Reference]) -> None:
            if isinstance(obj, generic.DictionaryObject):
                for k, v in obj.items():
                    if k == "/Parent" or (is_struct and k == "/P"):
                        continue
                    if isinstance(v, _CONTAINERS):
                        visit(v, path + (k,), is_struct or (
                            k == "/K" and path == _ROOT_STRUCT), out, met)
            elif isinstance(obj, generic.ArrayObject):
                for ix, v in enumerate(obj):
                    if isinstance(v, _CONTAINERS):
                        visit(v, path + (ix,), is_struct, out, met)

        out: list[tuple[generic.Reference, tuple[Any, ...]]] = []
        _children(res.trailer_view, (), False, out, set())
        for ref, path in out:
            collected.setdefault(ref, set()).add(path)
        return _Usages(collected)


def _special_nodes(res: HistoricalResolver) -> tuple[dict[generic.Reference, tuple[Any, ...]],
                                                     set[generic.Reference]]:
    """The page-tree nodes with their canonical paths and the structure-tree nodes, as
    pyHanko's ``_load_reverse_xref_cache`` finds them."""

    def page_tree_refs(pages_obj: Any, path: tuple[Any, ...]) -> Any:
        for ix, kid in enumerate(pages_obj["/Kids"]):
            kid_path = path + ("/Kids", ix)
            if isinstance(kid, generic.IndirectObject):
                yield kid.reference, kid_path
            kid = kid.get_object()
            if kid.get("/Type", None) == "/Pages":
                yield from page_tree_refs(kid, kid_path)

    def struct_tree_refs(struct_elem: Any) -> Any:
        try:
            children = struct_elem["/K"]
        except KeyError:
            return
        if not isinstance(children, generic.ArrayObject):
            children = (children,)
        for child in children:
            child_ref = None
            if isinstance(child, generic.IndirectObject):
                child_ref = child.reference
                child = cast(Any, child).get_object()
            if not isinstance(child, generic.DictionaryObject):
                continue
            try:
                if child["/Type"] != "/StructElem":
                    continue
            except KeyError:
                pass
            if child_ref is not None:
                yield child_ref
            yield from struct_tree_refs(child)

    root = res.root
    pages_ref = root.raw_get("/Pages")
    pages_path = ("/Root", "/Pages")
    page_tree: dict[generic.Reference, tuple[Any, ...]] = {}
    if isinstance(pages_ref, generic.IndirectObject):
        page_tree[pages_ref.reference] = pages_path
    for ref, path in page_tree_refs(pages_ref.get_object(), pages_path):
        if ref in page_tree:
            raise misc.PdfReadError("Circular reference in page tree in mapping stage")
        page_tree[ref] = path
    struct_nodes: set[generic.Reference] = set()
    try:
        struct_root = root.raw_get("/StructTreeRoot").get_object()
        for ref in struct_tree_refs(struct_root):
            if ref in struct_nodes:
                raise misc.PdfReadError("Circular reference in structure tree in mapping stage")
            struct_nodes.add(ref)
    except KeyError:
        pass
    return page_tree, struct_nodes


# -- process-wide: _find_orphans once per revision, historical objects parsed once --------

_PRIMITIVES = frozenset({generic.NumberObject, generic.FloatObject, generic.NameObject,
                         generic.BooleanObject, generic.NullObject, generic.TextStringObject,
                         generic.ByteStringObject})


def install() -> None:
    """Idempotent. Three answers remembered, each a function of what it is keyed by:

    - pyHanko's ``_find_orphans`` per historical resolver (it reads that revision only);
    - an object's historical version (``PdfFileReader.get_object(ref, revision)``) per
      reader by its xref entry, as pyHanko already keeps current versions: the same
      bytes parse to the same object, and every historical resolver copies what it
      gets (``_subsume_object``) before anyone sees it;
    - ``HistoricalResolver._subsume_object`` returns a primitive (number, name, string,
      boolean, null) as it is without first building the reference it then discards;
      the missing-container error it would raise is raised alike;

    and ``HistoricalResolver.collect_dependencies`` (the difference analysis's search
    for the objects a new value brings in, run by every form rule and the orphan search)
    walks, for a reader verifier.pdf analyses (:class:`SharedRevisions` with the file's
    bytes, not encrypted), the objects as :meth:`SharedRevisions._object` reads them:
    the same references are found without a copy of every object reached.
    """
    from pyhanko.sign.diff_analysis import policies

    original = policies._find_orphans
    if getattr(original, "_hocba_once", False):
        return
    _install_reader_speedups()

    def find_orphans(hist_rev: HistoricalResolver) -> set[generic.Reference]:
        done = getattr(hist_rev, "_hocba_orphans", None)
        if done is None:
            done = frozenset(original(hist_rev))
            hist_rev._hocba_orphans = done  # type: ignore[attr-defined]
        return set(done)

    find_orphans._hocba_once = True  # type: ignore[attr-defined]
    policies._find_orphans = find_orphans


def _install_reader_speedups() -> None:
    get_object: Any = PdfFileReader.get_object  # pyHanko leaves it unannotated
    subsume: Any = HistoricalResolver._subsume_object

    def historical_get_object(self: PdfFileReader, ref: Any, revision: Any = None,
                              never_decrypt: bool = False, transparent_decrypt: bool = True,
                              as_metadata_stream: bool = False) -> Any:
        if revision is None:
            return get_object(self, ref, revision, never_decrypt, transparent_decrypt,
                              as_metadata_stream)
        marker = self.xrefs.get_historical_ref(ref, revision)
        if marker is None:  # pyHanko warns and answers null (or fails, strict): as before
            return get_object(self, ref, revision, never_decrypt, transparent_decrypt,
                              as_metadata_stream)
        table = self.__dict__.setdefault("_hocba_historical", {})
        key = (ref.idnum, ref.generation, marker, never_decrypt, as_metadata_stream)
        obj = table.get(key)
        if obj is None:
            obj = table[key] = get_object(self, ref, revision, never_decrypt, False,
                                          as_metadata_stream)
        if transparent_decrypt and isinstance(obj, generic.DecryptedObjectProxy):
            obj = obj.decrypted
        return obj

    def subsume_object(self: HistoricalResolver, obj: Any) -> Any:
        if type(obj) in _PRIMITIVES:
            if obj.container_ref is None:
                obj.get_container_ref()  # raises pyHanko's own error
            return obj
        return subsume(self, obj)

    collect: Any = HistoricalResolver.collect_dependencies

    def collect_dependencies(self: HistoricalResolver, obj: Any,
                             since_revision: Any = None) -> set[generic.Reference]:
        ref = getattr(self.reader, "_hocba_shared", None)
        shared: SharedRevisions | None = ref() if ref is not None else None
        if shared is None:
            return collect(self, obj, since_revision)  # type: ignore[no-any-return]
        return shared.dependencies(self, obj, since_revision)

    PdfFileReader.get_object = historical_get_object  # type: ignore[method-assign]
    HistoricalResolver._subsume_object = subsume_object  # type: ignore[method-assign]
    HistoricalResolver.collect_dependencies = collect_dependencies  # type: ignore[method-assign]
