"""The revisions of a PDF analysed once (issue 14): the shared tables are pyHanko's own,
a change after signing is still found when the analysis is shared, and the
process-wide memos (names, offline verdicts) never turn one answer into another."""
from __future__ import annotations

import io
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from asn1crypto import x509
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader

from certs.pki import PkiLayout
from ground.vocab import Indication, Level
from verifier.core import Verifier
from verifier.pdf_revisions import SharedRevisions, _Usages


def _tables_agree(data: bytes) -> int:
    """Every revision's reverse-xref table from SharedRevisions equals pyHanko's own;
    returns how many revisions were compared."""
    try:
        ours = PdfFileReader(io.BytesIO(data), strict=False)
        theirs = PdfFileReader(io.BytesIO(data), strict=False)
        revisions = theirs.xrefs.total_revisions
    except Exception:  # noqa: BLE001 - not readable at all: no revisions to analyse
        return 0
    shared = SharedRevisions(ours, data)
    compared = 0
    for rev in range(revisions):
        h_theirs = theirs.get_historical_resolver(rev)
        try:
            h_theirs._load_reverse_xref_cache()
            expected = h_theirs._indirect_object_access_cache
        except Exception:  # noqa: BLE001 - then ours must leave it to pyHanko
            expected = None
        shared.prime(rev)
        got = ours.get_historical_resolver(rev)._indirect_object_access_cache
        if expected is None:
            assert got is None, f"revision {rev}: pyHanko fails, the shared table must not exist"
            continue
        if got is None:  # left to pyHanko: allowed, pyHanko then computes the same
            continue
        if isinstance(got, _Usages):
            # pyHanko reads it with [] and tests it with `or`: entries built on demand
            assert bool(got) == bool(expected), f"revision {rev}"
            for ref, paths in expected.items():
                assert got[ref] == paths, f"revision {rev}, {ref}"
            with pytest.raises(KeyError):
                got[generic.Reference(10**9, 0)]
            got = got.complete()
        assert got == expected, f"revision {rev}"
        compared += 1
    return compared


def _corpus_pdfs() -> list[Path]:
    from tests.tooling import CORPUS

    root = Path(CORPUS)
    return sorted(root.rglob("*.pdf")) if root.exists() else []


@pytest.mark.slow
@pytest.mark.parametrize("path", _corpus_pdfs(), ids=lambda p: p.name)
def test_shared_tables_are_pyhankos_for_the_corpus(path: Path) -> None:
    _tables_agree(path.read_bytes())


def test_shared_tables_are_pyhankos_for_our_records(lta_record: bytes, two_signed: bytes) -> None:
    assert _tables_agree(lta_record) >= 6
    assert _tables_agree(two_signed) >= 3


def _overwrite_font(data: bytes) -> bytes:
    """An update after the last signature that rewrites a font of the signed page (the
    font object itself, reached from the page and from every appearance using it):
    exactly what the shared analysis remembers from the first signed revision."""
    w = IncrementalPdfFileWriter(io.BytesIO(data))
    page = w.root["/Pages"]["/Kids"][0].get_object()
    fonts = page["/Resources"]["/Font"]
    ref = next(fonts.raw_get(k).reference for k in fonts
               if isinstance(fonts.raw_get(k), generic.IndirectObject))
    font = ref.get_object()
    font[generic.NameObject("/BaseFont")] = generic.NameObject("/ABCDEF+Forged")
    w.mark_update(ref)
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


def test_a_changed_font_after_the_signatures_is_found_for_every_signature(
        verifier: Verifier, lta_record: bytes) -> None:
    t = datetime.now(timezone.utc)
    before = verifier.verify(lta_record, name="lta.pdf", validation_time=t)
    assert before.indication is Indication.TOTAL_PASSED
    tampered = _overwrite_font(lta_record)
    assert _tables_agree(tampered) >= 6
    report = verifier.verify(tampered, name="lta-tampered.pdf")
    assert report.indication is Indication.TOTAL_FAILED
    assert [s.modifications_after for s in report.signatures] == ["other"] * len(report.signatures)
    # and the original, judged again in the same process, is unchanged
    again = verifier.verify(lta_record, name="lta.pdf", validation_time=t)
    assert again.to_dict() == before.to_dict()


def test_the_same_file_twice_gives_the_same_report(verifier: Verifier, lta_record: bytes) -> None:
    t = datetime.now(timezone.utc)
    first = verifier.verify(lta_record, name="a.pdf", validation_time=t)
    second = verifier.verify(lta_record, name="a.pdf", validation_time=t)
    fresh = Verifier(verifier.policy).verify(lta_record, name="a.pdf", validation_time=t)
    assert first.to_dict() == second.to_dict() == fresh.to_dict()


# -- names ------------------------------------------------------------------------------

def _name(cn: str, kind: str = "utf8_string") -> x509.Name:
    return x509.Name.build({"common_name": cn, "organization_name": "Truong A"},
                           use_printable=kind == "printable_string")


def test_name_comparison_remembered_by_der_gives_asn1cryptos_answers() -> None:
    a, b = _name("Nguyen Van An"), _name("nguyen  van an")
    c = _name("Nguyen Van An", "printable_string")
    assert a.dump() != b.dump() and a.dump() != c.dump()
    for _ in range(2):  # the second round answers from the table
        assert a == b and b == a  # RFC 4518: case and inner spaces do not matter
        assert a == c  # another string type, the same name
        assert a != _name("Nguyen Van Binh")
        assert a.hashable == b.hashable
        assert _name("Nguyen Van Binh").hashable != a.hashable


# -- verdicts at an explicit validation time --------------------------------------------

@pytest.fixture(scope="module")
def teacher_lt(base_pdf: bytes, sign_pdf: Callable[..., bytes], trust_services: object) -> bytes:
    return sign_pdf(base_pdf, "teacher", "teacher", Level.B_LT)


def test_offline_verdicts_are_keyed_by_every_input(
        verifier: Verifier, test_pki: PkiLayout, teacher_lt: bytes) -> None:
    from pyhanko.keys import load_cert_from_pemder

    from verifier.pdf import _dss_material

    engine = Verifier(verifier.policy).trust
    cert = load_cert_from_pemder(str(test_pki.cert("teacher")))
    certs, ocsps, crls = _dss_material(PdfFileReader(io.BytesIO(teacher_lt), strict=False))
    assert ocsps or crls
    now = datetime.now(timezone.utc) + timedelta(minutes=1)

    def judge(at: datetime, o: list, c: list) -> tuple:  # type: ignore[type-arg]
        r = engine.validate_certificate(cert, other_certs=certs, embedded_ocsps=o,
                                        embedded_crls=c, validation_time=at,
                                        explicit_time=True)
        return r.indication, r.subindication, r.revocation

    with_data = judge(now, ocsps, crls)
    without = judge(now, [], [])
    assert with_data[0] is Indication.TOTAL_PASSED
    assert without[0] is not Indication.TOTAL_PASSED  # not the remembered pass
    assert judge(now, ocsps, crls) == with_data  # and the pass is still a pass
    later = judge(now + timedelta(days=365 * 5), ocsps, crls)  # the certificate has expired
    assert later[0] is not Indication.TOTAL_PASSED
    # each answer equals a brand-new engine's
    fresh = Verifier(verifier.policy).trust
    for at, o, c, seen in ((now, [], [], without), (now + timedelta(days=365 * 5), ocsps, crls,
                                                     later)):
        r = fresh.validate_certificate(cert, other_certs=certs, embedded_ocsps=o,
                                       embedded_crls=c, validation_time=at, explicit_time=True)
        assert (r.indication, r.subindication, r.revocation) == seen


# -- embedded certificates and the ESS signing-certificate check, by DER ------------------

def test_embedded_certificates_are_shared_by_der_and_never_confused(test_pki: PkiLayout) -> None:
    from pyhanko.keys import load_cert_from_pemder

    from ground.asn1_memo import canonical_certificate

    teacher = load_cert_from_pemder(str(test_pki.cert("teacher")))
    principal = load_cert_from_pemder(str(test_pki.cert("principal")))
    a = canonical_certificate(x509.Certificate.load(teacher.dump()))
    b = canonical_certificate(x509.Certificate.load(teacher.dump()))
    c = canonical_certificate(x509.Certificate.load(principal.dump()))
    assert a is b and a.dump() == teacher.dump()
    assert c is not a and c.dump() == principal.dump()
    assert canonical_certificate("not a certificate") == "not a certificate"


def test_ess_check_remembered_by_der_answers_as_pyhanko(test_pki: PkiLayout) -> None:
    import hashlib

    from asn1crypto import tsp
    from pyhanko.keys import load_cert_from_pemder
    from pyhanko.sign.validation import generic_cms

    teacher = load_cert_from_pemder(str(test_pki.cert("teacher")))
    principal = load_cert_from_pemder(str(test_pki.cert("principal")))

    def certid(cert: x509.Certificate, digest: bytes | None = None) -> tsp.ESSCertIDv2:
        return tsp.ESSCertIDv2({
            "hash_algorithm": {"algorithm": "sha256"},
            "cert_hash": digest or hashlib.sha256(cert.dump()).digest(),
            "issuer_serial": {"issuer": [x509.GeneralName({"directory_name": cert.issuer})],
                              "serial_number": cert.serial_number}})

    check = generic_cms.check_ess_certid
    assert getattr(check, "__closure__", None), "the remembered check is installed"
    for _ in range(2):  # the second round answers from the table
        assert check(teacher, certid(teacher)) is True
        assert check(principal, certid(teacher)) is False  # another certificate
        # the teacher's hash with the principal's issuer/serial: pyHanko says no, and so
        # do we, although the certificate bytes are the teacher's
        forged = certid(principal, hashlib.sha256(teacher.dump()).digest())
        assert check(teacher, forged) is False


def _dependencies_agree(data: bytes) -> int:
    """HistoricalResolver.collect_dependencies through SharedRevisions gives pyHanko's
    answer (the same references, resolver-bound) for the trailer and every object
    written in every revision, with and without since_revision."""
    from pyhanko.pdf_utils.reader import HistoricalResolver

    from verifier.pdf_revisions import install

    install()
    assert HistoricalResolver.collect_dependencies.__closure__, "collect_dependencies is patched"
    try:
        ours = PdfFileReader(io.BytesIO(data), strict=False)
        theirs = PdfFileReader(io.BytesIO(data), strict=False)
        revisions = theirs.xrefs.total_revisions
    except Exception:  # noqa: BLE001
        return 0
    shared = SharedRevisions(ours, data)
    assert shared._plain == (getattr(ours, "_hocba_shared", None) is not None)
    compared = 0
    for rev in range(1, revisions):
        h_ours, h_theirs = ours.get_historical_resolver(rev), theirs.get_historical_resolver(rev)
        try:
            targets = [(h_theirs.trailer_view, h_ours.trailer_view)] + [
                (h_theirs(r), h_ours(r)) for r in sorted(
                    h_theirs.explicit_refs_in_revision(), key=lambda r: r.idnum)]
        except Exception:  # noqa: BLE001
            continue
        for theirs_obj, ours_obj in targets:
            for since in (rev, None):
                try:
                    expected = _pyhanko_collect(h_theirs, theirs_obj, since)
                except Exception as e:  # noqa: BLE001 - then ours fails alike
                    with pytest.raises(type(e)):
                        h_ours.collect_dependencies(ours_obj, since_revision=since)
                    continue
                got = h_ours.collect_dependencies(ours_obj, since_revision=since)
                assert got == expected, f"revision {rev}, since {since}"
                assert all(r.pdf is h_ours for r in got)
                compared += 1
    return compared


def _pyhanko_collect(res: Any, obj: Any, since: int | None) -> set[generic.Reference]:
    result: set[generic.Reference] = set()
    res._collect_indirect_references(obj, result, since)  # pyHanko's own walk
    return result


@pytest.mark.slow
@pytest.mark.parametrize("path", _corpus_pdfs(), ids=lambda p: p.name)
def test_dependencies_are_pyhankos_for_the_corpus(path: Path) -> None:
    _dependencies_agree(path.read_bytes())


def test_dependencies_are_pyhankos_for_our_records(lta_record: bytes, two_signed: bytes) -> None:
    assert _dependencies_agree(lta_record) >= 20
    assert _dependencies_agree(two_signed) >= 10
