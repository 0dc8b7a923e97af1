"""Self-contained HTML report (``--report-html``): inline CSS, no external resources.

Same content as the text report (:mod:`verifier.text`), for an inspector to
open or print. Every value is escaped.
"""
from __future__ import annotations

from datetime import datetime, timezone
from html import escape
from typing import Sequence

from ground.i18n import labels, lang_of, t
from ground.vocab import Indication
from verifier.report import Report
from verifier.text import (check_label, display_name, finding_text, fmt_time,
                           signature_rows)

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;margin:2rem;color:#1b1b1b}
h1{font-size:1.4rem} h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #ccc}
.v{display:inline-block;padding:.2rem .6rem;border-radius:.3rem;font-weight:600;color:#fff}
.TOTAL_PASSED{background:#1e7a34}.TOTAL_FAILED{background:#b3261e}.INDETERMINATE{background:#8a6d00}
table{border-collapse:collapse;margin:.5rem 0 1rem 0}
td,th{border:1px solid #ddd;padding:.3rem .6rem;text-align:left;vertical-align:top}
th{background:#f4f4f4;width:16rem}
.ok{color:#1e7a34}.bad{color:#b3261e}.unk{color:#8a6d00}
ul{margin:.2rem 0}
"""



def render_html(reports: Sequence[Report], lang: str = "vi") -> str:
    lang = lang_of(lang)
    L = labels("label", lang)
    e = escape
    parts = [f"<!DOCTYPE html><html lang=\"{lang}\"><head><meta charset=\"utf-8\">"
             f"<title>{t('html.title', lang)}</title><style>{_CSS}</style></head><body>",
             f"<h1>{t('html.title', lang)}</h1>",
             f"<p>{e(fmt_time(datetime.now(timezone.utc)))}</p>"]
    for r in reports:
        ind = r.indication
        verdict = ind.label(lang) + (f" ({r.subindication.value})" if r.subindication else "")
        parts.append(f"<h2>{e(L['file'])}: {e(r.file)}</h2>")
        parts.append(f"<p><span class=\"v {ind.value}\">{e(verdict)}</span> {e(r.message(lang))}</p>")
        parts.append("<table>")
        parts.append(f"<tr><th>SHA-256</th><td><code>{e(r.sha256)}</code></td></tr>")
        if r.record:
            for key, label in (("student", L["student"]), ("school", L["school"]),
                               ("school_year", L["year"])):
                parts.append(f"<tr><th>{e(label)}</th><td>{e(r.record.get(key, '—'))}</td></tr>")
        if r.validation_time:
            parts.append(f"<tr><th>{e(L['validation_time'])}</th><td>{e(fmt_time(r.validation_time))}</td></tr>")
        parts.append("</table>")
        for i, s in enumerate(r.signatures, 1):
            title = L["doc_ts"] if s.is_document_timestamp else L["signature"]
            parts.append(f"<h3>{e(title)} {i} — {e(s.id)} "
                         f"<span class=\"v {s.indication.value}\">{e(s.indication.label(lang))}</span></h3>")
            parts.append("<table>")
            for k, v in signature_rows(s, lang):
                parts.append(f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>")
            if s.chain:
                chain = "<br>".join(e(display_name(c, lang)) for c in s.chain)
                parts.append(f"<tr><th>{e(L['chain'])}</th><td>{chain}</td></tr>")
            if s.findings:
                items = "".join(f"<li>{e(finding_text(f, s, lang))}</li>" for f in s.findings)
                parts.append(f"<tr><th>{e(L['notes'])}</th><td><ul>{items}</ul></td></tr>")
            parts.append("</table>")
        if r.checks:
            parts.append(f"<h3>{e(L['checks'])}</h3><table>")
            for c in r.checks:
                cls = "ok" if c.passed else ("bad" if c.indication is Indication.TOTAL_FAILED else "unk")
                status = L["passed"] if c.passed else L["failed"]
                parts.append(f"<tr><th>{e(check_label(c.name, lang))}</th><td class=\"{cls}\">{e(status)}: "
                             f"{e(c.detail.render(lang))}</td></tr>")
            parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts)




def render_index(reports: Sequence[Report], links: Sequence[str], lang: str = "vi") -> str:
    """A summary table of many reports (file, pupil, verdict in colour, roles present,
    levels), each row linking to that file's own report (``links``, same order)."""
    from ground.vocab import Role

    lang = lang_of(lang)
    T, e = labels("html_index", lang), escape
    counts = {ind: sum(1 for r in reports if r.indication is ind) for ind in Indication}
    rows = []
    for r, link in zip(reports, links):
        ind = r.indication
        sigs = [s for s in r.signatures if not s.is_document_timestamp]
        roles = []
        for s in sigs:
            try:
                roles.append(Role(s.role).label(lang) if s.role else "?")
            except ValueError:
                roles.append(s.role or "?")
        levels = sorted({s.level for s in sigs if s.level})
        rows.append(
            f"<tr><td><a href=\"{e(link)}\">{e(r.file)}</a></td>"
            f"<td>{e((r.record or {}).get('student', '—'))}</td>"
            f"<td><span class=\"v {ind.value}\">{e(ind.label(lang))}</span></td>"
            f"<td>{e(', '.join(roles) or '—')}</td><td>{e(', '.join(levels) or '—')}</td></tr>")
    head = "".join(f"<th>{e(T[k])}</th>" for k in ("file", "student", "verdict", "roles", "level"))
    summary = T["count"].format(n=len(reports), passed=counts[Indication.TOTAL_PASSED],
                                failed=counts[Indication.TOTAL_FAILED],
                                unknown=counts[Indication.INDETERMINATE])
    return "\n".join([
        f"<!DOCTYPE html><html lang=\"{lang}\"><head><meta charset=\"utf-8\">"
        f"<title>{e(T['title'])}</title><style>{_CSS} th{{width:auto}}</style></head><body>",
        f"<h1>{e(T['title'])}</h1><p>{e(summary)} — {e(fmt_time(datetime.now(timezone.utc)))}</p>",
        f"<table><tr>{head}</tr>", *rows, "</table></body></html>"])
