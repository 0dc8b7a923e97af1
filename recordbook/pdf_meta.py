"""The record identity a hocba record PDF carries in its document information.

Separate from :mod:`recordbook.pdf` (which lays pages out with fpdf2) so that reading
it, as the verifier does for every PDF, does not import fpdf2: about a third of a
second per process.
"""
from __future__ import annotations

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.rw_common import PdfHandler

from ground.vocab import nfc

# Document information keys carrying the record identity (text strings).
INFO_RECORD_ID = "/HocbaRecordId"
INFO_STUDENT = "/HocbaStudent"
INFO_SCHOOL = "/HocbaSchool"
INFO_SCHOOL_YEAR = "/HocbaSchoolYear"
INFO_YEAR_ID = "/HocbaYearId"
INFO_VERSION = "/HocbaVersion"
INFO_SCHOOL_CODE = "/HocbaSchoolCode"


def _info_dict(reader: PdfHandler) -> generic.DictionaryObject | None:
    """The ``/Info`` dictionary as of the revision ``reader`` represents.

    The trailer's references are bound to the file's reader, so a plain
    lookup would resolve ``/Info`` in the *latest* revision; resolve it through
    ``reader`` (e.g. a historical resolver) instead.
    """
    try:
        raw = reader.trailer_view.raw_get("/Info")
    except KeyError:
        return None
    info = reader.get_object(raw.reference) if isinstance(raw, generic.IndirectObject) else raw
    return info if isinstance(info, generic.DictionaryObject) else None


def read_pdf_record_meta(reader: PdfHandler) -> dict[str, str] | None:
    """``{"student", "school", "school_year", "record_id"}`` from the document information.

    Reads the ``/Info`` of the revision ``reader`` represents: pass a
    ``reader.get_historical_resolver(n)`` to read what a signature covered.
    Returns None when the keys are absent (not a hocba record PDF).
    """
    info = _info_dict(reader)
    if info is None:
        return None
    keys = {"student": INFO_STUDENT, "school": INFO_SCHOOL, "school_year": INFO_SCHOOL_YEAR,
            "record_id": INFO_RECORD_ID}
    out: dict[str, str] = {}
    for k, key in keys.items():
        value = info.get(key)
        if not isinstance(value, (generic.TextStringObject, str)):
            return None
        out[k] = nfc(str(value))
    code = info.get(INFO_SCHOOL_CODE)
    if isinstance(code, (generic.TextStringObject, str)):
        out["school_code"] = nfc(str(code)).strip()
    return out


def read_pdf_year_meta(reader: PdfHandler) -> dict[str, str] | None:
    """Like :func:`read_pdf_record_meta`, plus ``year_id`` and ``version`` when present."""
    base = read_pdf_record_meta(reader)
    if base is None:
        return None
    info = _info_dict(reader)
    assert info is not None
    for k, key in (("year_id", INFO_YEAR_ID), ("version", INFO_VERSION)):
        value = info.get(key)
        if isinstance(value, (generic.TextStringObject, str)):
            base[k] = nfc(str(value))
    return base
