"""Differential test of the verifier's process-wide speed-ups (verifier/runtime.py).

The same PDF bytes are verified in two subprocesses:

* ``fast``: ``configure_process()`` as the ``hocba`` command does (ground.pdf_read's
  object/hex parser, ground.asn1_memo, verifier.pdf_revisions' installs) - and the
  skeleton reader / SharedRevisions tables the verifier uses unconditionally;
* ``plain``: none of the installs, and ``SharedRevisions.prime`` switched off, so that
  pyHanko computes its reverse-xref tables and reads every object itself.

Each process verifies every input in one run (the skeleton cache is process-wide and
keyed by an object's bytes: files sharing object bytes follow each other, before and
after the untouched record). The attacks are incremental updates appended after the last
signature of our own signed record (teacher + principal, B-T) and of a few third-party
corpus PDFs, redefining objects with byte forms a hand-written parser may read
differently from pyHanko's.

Asserted: the fast verdict is never more favourable than the plain one (indication and,
per signature, integrity / coverage / modifications_after), the fast process neither
crashes nor hangs, and no tampered input is TOTAL_PASSED in either. Forgeries that
pyHanko's own reading accepted in both processes (ambiguous updates: a key or an xref
entry given twice) are AMBIGUOUS, judged by verifier/pdf_ambiguity.py.
``test_report_verdict_pairs`` prints every pair with ``-s``.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pyhanko.pdf_utils import generic

from certs.pki import PkiLayout
from tests import tooling
from tests.pdf_updates import OVERLAY, Doc, append, stream_obj

ROOT = Path(__file__).resolve().parents[2]
CORPUS = tooling.CORPUS / "pdf" / "intact"
PER_FILE_SECONDS = 20
# two processes verify every input once: on one xdist worker, and not in the fast suite
pytestmark = [pytest.mark.xdist_group("fastpath-differential"), pytest.mark.slow]

# -- the subprocess -------------------------------------------------------------------------

RUNNER = r"""
import json, os, signal, sys, traceback
job = json.loads(sys.stdin.read())
if job["mode"] == "fast":
    from verifier.runtime import configure_process
    configure_process()
else:
    from pyhanko.pdf_utils import generic
    from ground import pdf_read
    from verifier import pdf_revisions
    pdf_revisions.SharedRevisions.prime = lambda self, revision: None
    import logging
    logging.getLogger("pyhanko").disabled = True
    assert generic.read_object is pdf_read.ORIGINAL_READ_OBJECT
from ground.config import load_config
from ground.policy import Policy
from verifier.core import Verifier

class Hang(BaseException):
    pass

def alarm(*_):
    raise Hang()

signal.signal(signal.SIGALRM, alarm)
v = Verifier(Policy.from_config(load_config(job["config"])))
for path in job["files"]:
    with open(path, "rb") as f:
        data = f.read()
    signal.alarm(job["timeout"])
    try:
        d = v.verify(data, name=os.path.basename(path)).to_dict("en")
        out = {"indication": d["indication"], "subindication": d["subindication"],
               "signatures": [{k: s[k] for k in ("id", "integrity", "coverage",
                                                 "modifications_after", "indication",
                                                 "subindication")}
                              for s in d["signatures"]],
               "failed": sorted(c["name"] for c in d["checks"] if not c["passed"]),
               "findings": [f for s in d["signatures"] for f in s["findings"]][:6]}
    except Hang:
        out = {"indication": "HANG"}
    except BaseException as e:
        out = {"indication": "CRASH", "detail": traceback.format_exc()[-800:]}
    finally:
        signal.alarm(0)
    print(json.dumps({"file": os.path.basename(path), **out}), flush=True)
"""


def run_verifier(mode: str, config: Path, files: list[Path]) -> dict[str, dict[str, Any]]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    job = json.dumps({"mode": mode, "config": str(config), "files": [str(f) for f in files],
                      "timeout": PER_FILE_SECONDS})
    proc = subprocess.run([sys.executable, "-c", RUNNER], input=job, capture_output=True,
                          text=True, env=env, cwd=str(ROOT),
                          timeout=60 + PER_FILE_SECONDS * len(files))
    results = {}
    for line in proc.stdout.splitlines():
        if line.startswith("{"):
            r = json.loads(line)
            results[r.pop("file")] = r
    missing = [f.name for f in files if f.name not in results]
    assert not missing, f"{mode} process died ({proc.returncode}) before {missing[:3]}:\n" \
                        f"{proc.stderr[-3000:]}"
    return results


# -- the attacks ----------------------------------------------------------------------------

def _overlay_page(doc: Doc, **kw: Any) -> bytes:
    """Page /Contents [old new]: a new content stream drawn over the signed page."""
    n = doc.size
    page = doc.page_with(Contents=doc.contents_plus(b"%d 0 R" % n))
    page = kw.pop("mutate", lambda b: b)(page)
    return append(doc, [(n, 0, stream_obj(OVERLAY)), (doc.page_ref.idnum, 0, page)], **kw)


def _ins(after: bytes, what: bytes) -> Callable[[bytes], bytes]:
    return lambda b: b.replace(after, after + what, 1)


def _contents_rewrite(doc: Doc, body: Callable[[bytes], bytes], **kw: Any) -> bytes:
    """The page's own content stream object overwritten (the page untouched)."""
    ref = doc.ref_of_contents
    if ref is None or isinstance(ref.get_object(), generic.ArrayObject):
        arr = doc.contents.get_object()
        ref = arr.raw_get(0).reference
    return append(doc, [(ref.idnum, ref.generation, body(OVERLAY))], **kw)


def _content_ref(doc: Doc) -> Any:
    ref = doc.ref_of_contents
    if ref is None or isinstance(ref.get_object(), generic.ArrayObject):
        ref = doc.contents.get_object().raw_get(0).reference
    return ref


def _annot(doc: Doc, subtype: bytes = b"/FreeText", **kw: Any) -> bytes:
    n = doc.size
    ap = stream_obj(OVERLAY, b" /Type /XObject /Subtype /Form /BBox [0 0 600 800]")
    annot = (b"<< /Type /Annot /Subtype " + subtype + b" /Rect [0 0 600 800] /F 4 "
             b"/Contents (Diem Toan: 10) /AP << /N %d 0 R >> /P " % (n + 1)
             + doc.ser(generic.IndirectObject(doc.page_ref.idnum, 0, None)) + b" >>")
    old = doc.page.raw_get("/Annots") if "/Annots" in doc.page else None
    items = b""
    if isinstance(old, generic.ArrayObject):
        items = b" ".join(doc.ser(old.raw_get(i)) for i in range(len(old)))
    elif isinstance(old, generic.IndirectObject):
        arr = old.get_object()
        items = b" ".join(doc.ser(arr.raw_get(i)) for i in range(len(arr)))
    page = doc.page_with(Annots=b"[" + items + b" %d 0 R]" % n)
    page = kw.pop("mutate", lambda b: b)(page)
    return append(doc, [(n, 0, annot), (n + 1, 0, ap), (doc.page_ref.idnum, 0, page)], **kw)


def _root_with(doc: Doc, extra: bytes, **kw: Any) -> bytes:
    root = doc.reader.root
    parts = [b"<<"] + [doc.ser(generic.NameObject(k)) + b" " + doc.ser(root.raw_get(k))
                       for k in root] + [extra, b">>"]
    return append(doc, [(doc.root.idnum, doc.root.generation, b"\n".join(parts))], **kw)


def _replace_pages(doc: Doc, **kw: Any) -> bytes:
    """A new page tree (one new page) hung from the root: everything re-parented."""
    n = doc.size
    newpage = doc.page_with(Contents=b"%d 0 R" % n, Parent=b"%d 0 R" % (n + 2))
    pages = b"<< /Type /Pages /Kids [%d 0 R] /Count 1 >>" % (n + 1)
    root = doc.reader.root
    parts = [b"<<"] + [doc.ser(generic.NameObject(k)) + b" " + (
        b"%d 0 R" % (n + 2) if k == "/Pages" else doc.ser(root.raw_get(k))) for k in root] + [b">>"]
    return append(doc, [(n, 0, stream_obj(OVERLAY)), (n + 1, 0, newpage), (n + 2, 0, pages),
                        (doc.root.idnum, doc.root.generation, b"\n".join(parts))], **kw)


def _same_page_twice(doc: Doc, malicious_first: bool) -> bytes:
    """One revision, one object number, two xref entries: the benign copy and the page
    with the overlay (pyHanko keeps the last entry; other readers the first)."""
    n = doc.size
    benign = doc.page_with()
    evil = doc.page_with(Contents=doc.contents_plus(b"%d 0 R" % n))
    pnum = doc.page_ref.idnum
    objs = [(n, 0, stream_obj(OVERLAY)), (pnum, 0, evil if malicious_first else benign)]
    second = benign if malicious_first else evil
    # the second definition: a separate object body, found only through the duplicate entry
    out = append(doc, objs + [(n + 1, 0, b"null")],
                 dup_entries=[(pnum, 0, 2)])
    # rewrite object n+1's header into the page's number, same length
    hdr = b"%d 0 obj\nnull" % (n + 1)
    i = out.rindex(hdr)
    body = b"%d 0 obj\n" % pnum + second
    # keep offsets valid: the xref follows, so rebuild with the body in place of `null`
    xref_at = out.index(b"xref\n", i)
    delta = len(body) - len(hdr)
    tail = out[xref_at:]
    tail = tail.replace(b"startxref\n%d" % xref_at, b"startxref\n%d" % (xref_at + delta))
    return out[:i] + body + out[i + len(hdr):xref_at] + tail


def _comment_before_header(doc: Doc) -> bytes:
    n = doc.size
    page = doc.page_with(Contents=doc.contents_plus(b"%d 0 R" % n))
    return append(doc, [(n, 0, stream_obj(OVERLAY)), (doc.page_ref.idnum, 0, page)],
                  prefix={doc.page_ref.idnum: b"%c\n"}, offset_shift={doc.page_ref.idnum: 0})


def _ws_before_header(doc: Doc) -> bytes:
    n = doc.size
    page = doc.page_with(Contents=doc.contents_plus(b"%d 0 R" % n))
    return append(doc, [(n, 0, stream_obj(OVERLAY)), (doc.page_ref.idnum, 0, page)],
                  prefix={doc.page_ref.idnum: b"\x00\x0c \r\n"},
                  offset_shift={doc.page_ref.idnum: 0})


def _gen1_overlay(doc: Doc) -> bytes:
    n = doc.size
    page = doc.page_with(Contents=doc.contents_plus(b"%d 1 R" % n))
    return append(doc, [(n, 1, stream_obj(OVERLAY)), (doc.page_ref.idnum, 0, page)])


def _free_contents(doc: Doc) -> bytes:
    ref = doc.ref_of_contents
    if ref is None or isinstance(ref.get_object(), generic.ArrayObject):
        ref = doc.contents.get_object().raw_get(0).reference
    return append(doc, [], free=(ref.idnum,))


def _contents_as_string_trick(doc: Doc) -> bytes:
    """A page whose dictionary holds 'endobj' inside a string before the real /Contents."""
    n = doc.size
    page = doc.page_with(Contents=doc.contents_plus(b"%d 0 R" % n))
    page = page.replace(b"<<", b"<< /Zz (x endobj y) ", 1)
    return append(doc, [(n, 0, stream_obj(OVERLAY)), (doc.page_ref.idnum, 0, page)])


def _cache_pair(doc: Doc) -> bytes:
    """The page redefined byte-for-byte as in the original file (then the overlay on top
    of it in a second update): the same key bytes as the signed revision's object."""
    raw = doc.raw_body(doc.page_ref)
    n = doc.size
    if raw is None:
        return _overlay_page(doc)
    first = append(doc, [(doc.page_ref.idnum, 0, raw.strip())])
    d2 = Doc(first)
    page = d2.page_with(Contents=d2.contents_plus(b"%d 0 R" % n))
    return append(d2, [(n, 0, stream_obj(OVERLAY)), (doc.page_ref.idnum, 0, page)])


def _identical_page_rewrite(doc: Doc) -> bytes:
    raw = doc.raw_body(doc.page_ref)
    if raw is None:
        return append(doc, [(doc.page_ref.idnum, 0, doc.page_with())])
    return append(doc, [(doc.page_ref.idnum, 0, raw.strip())])


# name -> (build, tampered?)
ATTACKS: dict[str, tuple[Callable[[Doc], bytes], bool]] = {
    # controls
    "control_identical_page_rewrite": (_identical_page_rewrite, False),
    "control_empty_update": (lambda d: append(d, []), False),
    # page /Contents array: overlay, in many byte forms
    "page_overlay_plain": (_overlay_page, True),
    "page_overlay_xref_stream": (lambda d: _overlay_page(d, xref="stream"), True),
    "page_overlay_in_objstm": (lambda d: _overlay_page(d, objstm=True), True),
    "page_overlay_comment_in_dict": (lambda d: _overlay_page(
        d, mutate=_ins(b"<<", b" % a comment >> endobj\n")), True),
    "page_overlay_comment_before_contents": (lambda d: _overlay_page(
        d, mutate=lambda b: b.replace(b"/Contents", b"%c\n/Contents", 1)), True),
    "page_overlay_endobj_in_string": (_contents_as_string_trick, True),
    "page_overlay_nul_ff_whitespace": (lambda d: _overlay_page(
        d, mutate=lambda b: b.replace(b"\n", b"\x00\x0c").replace(b" ", b"\x00")), True),
    "page_overlay_header_double_ws":
        (lambda d: _overlay_page(d, header=b"%d \x00\x0c %d\x00obj\r"), True),
    "page_overlay_header_leading_zeros":
        (lambda d: _overlay_page(d, header=b"000%d 00%d obj "), True),
    "page_overlay_header_no_eol": (lambda d: _overlay_page(d, header=b"%d %d obj"), True),
    "page_overlay_comment_before_header": (_comment_before_header, True),
    "page_overlay_ws_before_header": (_ws_before_header, True),
    "page_overlay_duplicate_key_evil_last": (lambda d: _overlay_page(
        d, mutate=lambda b: b.replace(
            b"/Contents", b"/Contents " + d.ser(d.contents) + b"\n/Contents", 1)), True),
    "page_overlay_duplicate_key_evil_first": (lambda d: _overlay_page(
        d, mutate=lambda b: b[:-2] + b"\n/Contents " + d.ser(d.contents) + b"\n>>"), True),
    "page_overlay_name_hash_escape": (lambda d: _overlay_page(
        d, mutate=lambda b: b.replace(b"/Contents", b"/Cont#65nts", 1)), True),
    "page_overlay_hex_string_ws": (lambda d: _overlay_page(
        d, mutate=_ins(b"<<", b" /Zz <41 4\n2\x0043 4>")), True),
    "page_overlay_nested_parens": (lambda d: _overlay_page(
        d, mutate=_ins(b"<<", b" /Zz (a(b\\)c(d)e)f\\\\) /Zy (\\\r\n\\101\\7) ")), True),
    "page_overlay_gt_not_gtgt": (lambda d: _overlay_page(
        d, mutate=lambda b: b[:-2] + b">x"), True),
    "page_overlay_true_no_delim": (lambda d: _overlay_page(
        d, mutate=_ins(b"<<", b" /Zz truex /Zy nullnull ")), True),
    "page_overlay_ref_vtab": (lambda d: _overlay_page(
        d, mutate=lambda b: b.replace(b"%d 0 R]" % d.size, b"%d 0\x0bR]" % d.size)), True),
    "page_overlay_ref_nul": (lambda d: _overlay_page(
        d, mutate=lambda b: b.replace(b"%d 0 R]" % d.size, b"%d\x000\x00R]" % d.size)), True),
    "page_overlay_deep_nesting": (lambda d: _overlay_page(
        d, mutate=_ins(b"<<", b" /Zz " + b"[" * 120 + b"]" * 120 + b" ")), True),
    "page_overlay_gen1_content": (_gen1_overlay, True),
    # the page's own content stream overwritten, stream byte forms
    "contents_rewrite_plain": (lambda d: _contents_rewrite(d, stream_obj), True),
    "contents_rewrite_indirect_length": (lambda d: append(d, [
        (_content_ref(d).idnum, 0,
         b"<< /Length %d 0 R >>\nstream\n%s\nendstream" % (d.size, OVERLAY)),
        (d.size, 0, b"%d" % len(OVERLAY))]), True),
    "contents_rewrite_length_plus1": (lambda d: _contents_rewrite(
        d, lambda s: b"<< /Length %d >>\nstream\n%s\nendstream" % (len(s) + 1, s)), True),
    "contents_rewrite_endstream_in_data": (lambda d: _contents_rewrite(
        d, lambda s: b"<< /Length %d >>\nstream\n%s\nendstream\nendobj\n%s\nendstream"
        % (len(s) * 2 + 22, s, s)), True),
    "contents_rewrite_stream_cr_only": (lambda d: _contents_rewrite(
        d, lambda s: b"<< /Length %d >>stream\r%s\nendstream" % (len(s), s)), True),
    "contents_rewrite_flate": (lambda d: _contents_rewrite(
        d, lambda s: stream_obj(zlib.compress(s), b" /Filter /FlateDecode")), True),
    "contents_freed": (_free_contents, True),
    # annotations (hide-and-replace overlays)
    "annot_freetext_overlay": (_annot, True),
    "annot_stamp_overlay_xref_stream": (lambda d: _annot(d, b"/Stamp", xref="stream"), True),
    "annot_overlay_in_objstm": (lambda d: _annot(d, b"/Square", objstm=True), True),
    "annot_overlay_comment_in_page": (lambda d: _annot(
        d, mutate=lambda b: b.replace(b"/Annots", b"%x\n/Annots", 1)), True),
    # catalog
    "root_openaction_js": (lambda d: _root_with(
        d, b"/OpenAction << /S /JavaScript /JS (app.alert\\(1\\)) >>"), True),
    "root_aa_js_comment": (lambda d: _root_with(
        d, b"% hidden\n/AA << /WC << /S /JavaScript /JS <6170702e616c657274283129> >> >>"), True),
    "root_string_with_endobj": (lambda d: _root_with(
        d, b"/Zz (endobj)"), True),
    "root_names_js": (lambda d: _root_with(
        d, b"/Names << /JavaScript << /Names [(x) << /S /JavaScript /JS (app.alert\\(1\\)) >>]"
           b" >> >>"), True),
    "page_annots_duplicate_key_evil_last": (lambda d: _annot(
        d, mutate=lambda b: b.replace(b"/Annots", b"/Annots []\n/Annots", 1)), True),
    "page_tree_replaced": (_replace_pages, True),
    "page_tree_replaced_objstm": (lambda d: _replace_pages(d, objstm=True), True),
    # one object number, two definitions in one revision
    "same_page_twice_evil_last": (lambda d: _same_page_twice(d, False), True),
    "same_page_twice_evil_first": (lambda d: _same_page_twice(d, True), True),
    # skeleton cache keyed by bytes: the signed page's exact bytes again, then the overlay
    "cache_same_bytes_then_overlay": (_cache_pair, True),
}

CORPUS_FILES = ["pyhanko--minimal-signed-twice-both-created.pdf", "dss--doc-firmado-T.pdf",
                "pyhanko--pdf--pades-lta-dss-indirect-arrs-test.pdf",
                "pyhanko--separate-annots-kids-indir.pdf"]
CORPUS_ATTACKS = ["control_empty_update", "page_overlay_plain", "page_overlay_comment_in_dict",
                  "page_overlay_xref_stream", "page_overlay_in_objstm", "annot_freetext_overlay",
                  "page_overlay_duplicate_key_evil_last", "contents_rewrite_plain",
                  "same_page_twice_evil_last", "cache_same_bytes_then_overlay"]

CASES = [("record", a) for a in ATTACKS] + [
    (c, a) for c in CORPUS_FILES if (CORPUS / c).exists() for a in CORPUS_ATTACKS]


def _rank(r: dict[str, Any]) -> int:
    return {"TOTAL_PASSED": 3, "INDETERMINATE": 2, "TOTAL_FAILED": 1}.get(r["indication"], 0)


_MOD = {"none": 3, "signatures_only": 3, "form_filling": 2, None: 1, "other": 0}


@pytest.fixture(scope="module")
def verdicts(two_signed: bytes, test_pki: PkiLayout, trust_services: object,
             tmp_path_factory: pytest.TempPathFactory
             ) -> dict[str, tuple[dict[str, Any], dict[str, Any], bool, str]]:
    out = tmp_path_factory.mktemp("fastpath")
    bases = {"record": two_signed}
    for c in CORPUS_FILES:
        if (CORPUS / c).exists():
            bases[c] = (CORPUS / c).read_bytes()
    files: list[Path] = []
    meta: dict[str, tuple[bool, str]] = {}
    for base_name, base in bases.items():
        p = out / f"{base_name}__base.pdf"
        p.write_bytes(base)
        files.append(p)
        meta[p.name] = (False, "")
    for base_name, attack in CASES:
        build, tampered = ATTACKS[attack]
        try:
            data = build(Doc(bases[base_name]))
        except Exception as e:  # noqa: BLE001 - an attack that does not apply to a file
            meta[f"{base_name}__{attack}.pdf"] = (tampered, f"not built: {type(e).__name__}: {e}")
            continue
        p = out / f"{base_name}__{attack}.pdf"
        p.write_bytes(data)
        files.append(p)
        meta[p.name] = (tampered, "")
    # the untouched files again at the end: whatever the cache took from the attacks
    again = [out / f"again__{f.name}" for f in files if f.name.endswith("__base.pdf")]
    for a in again:
        a.write_bytes((out / a.name[len("again__"):]).read_bytes())
        meta[a.name] = (False, "")
    files += again
    if os.environ.get("HOCBA_DIFF_DUMP"):
        print("attack files in", out)
    fast = run_verifier("fast", test_pki.config, files)
    plain = run_verifier("plain", test_pki.config, files)
    res = {}
    for name, (tampered, note) in meta.items():
        if note:
            res[name] = ({}, {}, tampered, note)
        else:
            res[name] = (fast[name], plain[name], tampered, "")
    return res


def _check(v: tuple[dict[str, Any], dict[str, Any], bool, str]) -> None:
    fast, plain, tampered, note = v
    if note:
        pytest.skip(note)
    assert fast["indication"] not in ("HANG", "CRASH"), fast
    detail = f"\nfast:  {json.dumps(fast)}\nplain: {json.dumps(plain)}"
    assert _rank(fast) <= _rank(plain) or plain["indication"] in ("HANG", "CRASH"), \
        "fast path more favourable" + detail
    if plain["indication"] not in ("HANG", "CRASH") and \
            len(fast["signatures"]) == len(plain["signatures"]):
        for f, p in zip(fast["signatures"], plain["signatures"]):
            assert f["id"] == p["id"], detail
            assert (f["integrity"] or False) <= (p["integrity"] or False), detail
            assert _MOD[f["modifications_after"]] <= _MOD[p["modifications_after"]], \
                "fast path: weaker modification finding" + detail
    if tampered:
        assert fast["indication"] != "TOTAL_PASSED", "forgery passed (fast)" + detail
        assert plain["indication"] != "TOTAL_PASSED", "forgery passed (plain pyHanko)" + detail


# Forgeries pyHanko's own reading accepted (fast and plain alike) before
# verifier/pdf_ambiguity.py: pyHanko (strict=False) keeps the FIRST of duplicate
# dictionary keys (pdf.js and others keep the last) and the LAST of two xref entries for
# one object in one section (pdf.js keeps the first). Now a change after signing.
AMBIGUOUS = {("record", "page_overlay_duplicate_key_evil_last"): "defines a key twice",
             ("record", "root_openaction_js"): "defines a key twice",
             ("record", "same_page_twice_evil_first"): "lists object"}


@pytest.mark.parametrize("base,attack", CASES, ids=[f"{b}-{a}" for b, a in CASES])
def test_fastpath_never_more_favourable(verdicts: Any, base: str, attack: str) -> None:
    _check(verdicts[f"{base}__{attack}.pdf"])


@pytest.mark.parametrize("base,attack", sorted(AMBIGUOUS))
def test_ambiguous_update_is_a_change_after_signing(verdicts: Any, base: str,
                                                   attack: str) -> None:
    """Both processes: every signature ``other`` after the ambiguous update, and the
    finding says what is ambiguous."""
    for r in verdicts[f"{base}__{attack}.pdf"][:2]:
        assert r["indication"] == "TOTAL_FAILED", r
        assert r["signatures"] and all(s["modifications_after"] == "other"
                                       for s in r["signatures"]), r
        assert AMBIGUOUS[(base, attack)] in json.dumps(r["findings"]), r["findings"]


def test_report_verdict_pairs(verdicts: Any) -> None:
    """Not an assertion: every (fast, plain) pair, shown with -s (and any reverse
    divergence: the fast path stricter than pyHanko)."""
    for name, (fast, plain, tampered, note) in sorted(verdicts.items()):
        if note:
            print(f"{name}: {note}")
            continue
        flag = "" if (fast.get("indication"), [s.get("modifications_after") for s in fast.get(
            "signatures", [])]) == (plain.get("indication"), [s.get("modifications_after")
                                     for s in plain.get("signatures", [])]) else "  <-- DIFFERS"
        print(f"{name}: fast={fast.get('indication')}/{fast.get('subindication')} "
              f"{[s.get('modifications_after') for s in fast.get('signatures', [])]} "
              f"plain={plain.get('indication')}/{plain.get('subindication')} "
              f"{[s.get('modifications_after') for s in plain.get('signatures', [])]}{flag}")


def test_untouched_files_agree_before_and_after(verdicts: Any) -> None:
    """The untouched files: the same verdict in both processes, before and after the
    attacks went through the process-wide caches; our record passes."""
    bases = [k for k in verdicts if k.endswith("__base.pdf") and not k.startswith("again__")]
    for b in bases:
        fast, plain, _, _ = verdicts[b]
        fast2, plain2, _, _ = verdicts["again__" + b]
        assert fast == plain == fast2 == plain2, (b, fast, plain, fast2, plain2)
    assert verdicts["record__base.pdf"][0]["indication"] == "TOTAL_PASSED"
