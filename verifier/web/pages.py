"""The web page (CONTRACT 7): ``GET /`` and the form post ``POST /``.

Vietnamese by default, ``?lang=en`` for English. The page works without
JavaScript (the form posts to ``/`` and the server renders the result cards);
with JavaScript (``/static/app.js``) each dropped file is posted on its own to
``/?fragment=1`` and its server-rendered card is inserted, so one template
renders every card. Downloads are ``data:`` URLs of the report: nothing is
kept on the server.

When bulk jobs are configured (``[jobs] broker``, CONTRACT 10), a drop of a ZIP or of
more than :data:`JOB_THRESHOLD` files that fits in one request goes to
``POST /api/v1/jobs`` instead: the page follows the job with a progress bar and adds
one table row per report as ``/results?start=K`` gives them (issue 14).
"""
from __future__ import annotations

import base64
import dataclasses
import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import IO, Any

from cryptography import x509
from cryptography.x509.oid import NameOID
from flask import Blueprint, current_app, render_template, request
from markupsafe import Markup

from ground.vocab import Indication
from verifier.report import Report, SignatureReport
from verifier.web import i18n
from verifier.web.api import parse_lang, parse_validation_time, verify_request

bp = Blueprint("pages", __name__)

VN_TIME = timezone(timedelta(hours=7), "UTC+7")  # Vietnam has no daylight saving time
# More files than this in one drop (or any ZIP) are sent as one bulk job when jobs are on.
JOB_THRESHOLD = 20
VERDICT_CLASS = {Indication.TOTAL_PASSED: "passed", Indication.TOTAL_FAILED: "failed",
                 Indication.INDETERMINATE: "indeterminate"}


def _value(key: str) -> str | None:
    """A query or form value, without parsing the body again after it failed (413)."""
    if key in request.args:
        return request.args.get(key)
    form = request.__dict__.get("form")
    return form.get(key) if form is not None else None


def page_lang() -> str:
    return parse_lang(_value("lang"), strict=False)


@bp.get("/")
def index() -> Any:
    return render_index()


@bp.post("/")
def submit() -> Any:
    _ = request.form  # parse the body once, here: a 413 or 400 is raised by the view
    lang = page_lang()
    reports = verify_request(parse_validation_time(_value("validation_time")))
    cards = [card(r, lang) for r in reports]
    if request.args.get("fragment"):
        return render_template("_cards.html", cards=cards, lang=lang)
    return render_index(cards=cards)


def render_index(cards: list["Card"] | None = None, error: str | None = None,
                 status: int = 200) -> Any:
    lang = page_lang()
    max_bytes = current_app.config["MAX_CONTENT_LENGTH"]
    body = render_template("index.html", lang=lang, cards=cards or [],
                           error=error, max_mb=i18n.megabytes(max_bytes), max_bytes=max_bytes,
                           other_lang="en" if lang == "vi" else "vi", jobs=_jobs_on(),
                           job_threshold=JOB_THRESHOLD,
                           labels={VERDICT_CLASS[i]: i18n.verdict(i, lang) for i in Indication})
    return body, status


def _jobs_on() -> bool:
    """Whether this service takes bulk jobs (a ``[jobs] broker`` in its configuration)."""
    cfg = current_app.extensions["hocba"]["config"]
    return bool(cfg.jobs.broker)


# -- view model ---------------------------------------------------------------------

@dataclass(frozen=True)
class Sig:
    s: SignatureReport
    step: int
    role: str
    claimed_role: str | None
    role_source: str | None
    verdict: str
    css: str
    reason: str | None
    findings: list[str]
    issuer_cn: str | None
    issuer_name: str | None
    signer_name: str | None
    chain: list[str]
    tsa_name: str | None
    timestamp_note: str | None
    signing_time: str | None
    timestamp_time: str | None
    not_before: str | None
    not_after: str | None
    validity_note: str | None


@dataclass(frozen=True)
class Card:
    r: Report
    verdict: str
    css: str
    message: str
    reason: str | None
    failed_checks: list[tuple[str, str]]
    passed_checks: list[tuple[str, str]]
    sigs: list[Sig]
    validation_time: str | None
    json_url: str
    html_url: str
    json_name: str
    html_name: str
    etsi_url: str = ""
    etsi_name: str = ""


def card(r: Report, lang: str, downloads: bool = True) -> Card:
    ind = r.indication
    at = r.validation_time or datetime.now(timezone.utc)
    message = r.message(lang)
    reason = i18n.reason(r.subindication, lang) if ind is not Indication.TOTAL_PASSED else None
    c = Card(
        r=r, verdict=i18n.verdict(ind, lang), css=VERDICT_CLASS[ind], message=message,
        reason=reason if reason and reason != message else None,
        failed_checks=[(i18n.check_label(c.name, lang), c.detail.render(lang))
                       for c in r.checks if not c.passed],
        passed_checks=[(i18n.check_label(c.name, lang), c.detail.render(lang))
                       for c in r.checks if c.passed],
        sigs=[_sig(s, n, lang, at) for n, s in enumerate(r.signatures, 1)],
        validation_time=fmt_time(r.validation_time, lang),
        json_url="", html_url="", json_name="", html_name="",
    )
    if not downloads:
        return c
    base = (r.file.rsplit("/", 1)[-1] or "report").rsplit(".", 1)[0] or "report"
    json_bytes = json.dumps(r.to_dict(lang), ensure_ascii=False, indent=2).encode("utf-8")
    html_bytes = html_report(r, lang).encode("utf-8")
    from verifier.etsi import render_report

    return dataclasses.replace(
        c, json_url=_data_url("application/json", json_bytes),
        html_url=_data_url("text/html", html_bytes),
        json_name=f"{base}.report.json", html_name=f"{base}.report.html",
        # ETSI TS 119 102-2 (issue 17), beside JSON and HTML
        etsi_url=_data_url("application/xml", render_report(r, lang)),
        etsi_name=f"{base}.validation-report.xml")


def _sig(s: SignatureReport, step: int, lang: str, at: datetime) -> Sig:
    t = i18n.ui(lang)
    note = None
    if s.signer is not None:
        if at > s.signer.not_after:
            note = t["expired_now"]
        elif at < s.signer.not_before:
            note = t["not_yet_valid_now"]
    role = t["doc_timestamp"] if s.is_document_timestamp else i18n.role_label(s.role, lang)
    from verifier.text import content_changed, finding_text, role_source_label

    source = role_source_label(s.role_source, lang) if s.role is not None else None
    claimed = None
    if s.claimed_role and s.claimed_role != s.role:
        claimed = i18n.role_label(s.claimed_role, lang)
    passed = s.indication is Indication.TOTAL_PASSED
    return Sig(
        s=s, step=step, role=role, claimed_role=claimed, role_source=source,
        verdict=i18n.verdict(s.indication, lang), css=VERDICT_CLASS[s.indication],
        reason=None if passed else i18n.reason(s.subindication, lang),
        findings=[finding_text(f, s, lang) for f in s.findings],
        issuer_cn=_cn(s.signer.issuer) if s.signer else None,
        issuer_name=i18n.name(s.signer.issuer, lang) if s.signer else None,
        signer_name=(s.signer.common_name or i18n.name(s.signer.subject, lang))
        if s.signer else None,
        chain=[i18n.name(c, lang) for c in s.chain],
        tsa_name=i18n.name(s.timestamp.tsa, lang) if s.timestamp else None,
        timestamp_note=t["ts_original_only"]
        if s.timestamp and s.timestamp.valid and content_changed(s) else None,
        signing_time=fmt_time(s.signing_time, lang),
        timestamp_time=fmt_time(s.timestamp.time if s.timestamp else None, lang),
        not_before=fmt_time(s.signer.not_before, lang, date_only=True) if s.signer else None,
        not_after=fmt_time(s.signer.not_after, lang, date_only=True) if s.signer else None,
        validity_note=note,
    )


def fmt_time(d: datetime | None, lang: str, date_only: bool = False) -> str | None:
    """Times as read in Vietnam, the one format of every report in both languages
    (ground.findings.fmt_time: ``dd/mm/yyyy HH:MM:SS (UTC+07:00)``); dates ``dd/mm/yyyy``."""
    from ground.findings import fmt_time as one_format

    if d is None:
        return None
    if d.tzinfo is None:
        d = d.replace(tzinfo=timezone.utc)
    if not date_only:
        return one_format(d)
    try:
        d = d.astimezone(VN_TIME)
    except OverflowError:  # RFC 5280 4.1.2.5: notAfter 99991231235959Z ("no expiry")
        pass
    return d.strftime("%d/%m/%Y")


def _cn(rfc4514: str) -> str:
    try:
        attrs = x509.Name.from_rfc4514_string(rfc4514).get_attributes_for_oid(
            NameOID.COMMON_NAME)
    except (ValueError, TypeError):
        return rfc4514
    return str(attrs[0].value) if attrs else rfc4514


def _data_url(mime: str, data: bytes) -> str:
    return f"data:{mime};charset=utf-8;base64,{base64.b64encode(data).decode('ascii')}"


def html_report(r: Report, lang: str) -> str:
    """A standalone HTML report of one file (the core's renderer when present)."""
    try:
        from verifier.html import render_html  # the core's renderer, shared with the CLI
    except ImportError:
        pass
    else:
        try:
            return str(render_html([r], lang=lang))
        except (OverflowError, ValueError):
            # e.g. verifier.text.fmt_time on a notAfter of 9999-12-31 (RFC 5280 "no
            # expiry"): the page's own template still renders the report.
            pass
    # Flask annotates open_resource as IO[AnyStr]; mode "rb" (the default) gives bytes.
    css_file: IO[bytes] = current_app.open_resource("web/static/app.css")
    css = css_file.read().decode("utf-8")
    return render_template("report.html", c=card(r, lang, downloads=False), lang=lang,
                           css=Markup(css))
