"""The human report (Vietnamese by default, English with ``lang="en"``).

Shows what Thông tư 15/2025 asks a verifier to show: valid or not, issuing CA,
signer, organisation, signing time or timestamp, integrity, validity at signing
time, certificate validity period — plus the role and why a check failed or
could not be completed. "Không xác định" (indeterminate) is never shown as valid.
"""
from __future__ import annotations


from ground.i18n import labels, lang_of, t
from ground.names import common_name as common_name, display_name as display_name
from ground.vocab import Indication, Modifications, Role
from ground.findings import Finding, fmt_time as fmt_time
from verifier.report import Report, SignatureReport



# Names of the record checks (Report.checks[].name), as people read them.


def check_label(name: str, lang: str) -> str:
    return labels("check", lang).get(name, name)


# Attribute types of certificate names (RFC 4514 strings in the report), in words: a
# title shows as "Chức vụ: …", never "2.5.4.12=…".


def content_changed(s: SignatureReport) -> bool:
    """The signed content no longer matches, or was changed after the signature."""
    return s.integrity is False or s.modifications_after == Modifications.OTHER


def finding_text(f: Finding, s: SignatureReport, lang: str) -> str:
    """A note about a signature as people read it: certificate names in words; a valid
    timestamp beside changed content says that it proves only the original."""
    args = []
    for k, v in f.args:
        if isinstance(v, str) and k in ("tsa", "root"):
            v = type(v)(common_name(v))  # keeps a Foreign a Foreign
        elif isinstance(v, str) and k == "subject":
            v = type(v)(display_name(v, lang))
        args.append((k, v))
    text = Finding(f.code, tuple(args)).render(lang)
    if f.code == "timestamp_ok" and content_changed(s):
        text = f"{text.rstrip('.')} — {t('label.ts_original_only', lang)}."
    return text




def role_source_label(source: str | None, lang: str) -> str | None:
    """Where a role came from, in words (CONTRACT 8 ``role_source``)."""
    return labels("role_source", lang).get(source or "")


def role_label(role: str | None, lang: str) -> str:
    if role is None:
        return t("label.unknown_role", lang)
    try:
        return Role(role).label(lang)
    except ValueError:
        return role


def validity_label(s: SignatureReport, lang: str) -> str:
    """Validity at signing time, never "valid" unless TOTAL_PASSED."""
    label = s.indication.label(lang)
    if s.subindication is not None:
        label += f" ({s.subindication.value})"
    return label


def signature_rows(s: SignatureReport, lang: str) -> list[tuple[str, str]]:
    L = labels("label", lang)
    rows: list[tuple[str, str]] = []
    if not s.is_document_timestamp:
        role = role_label(s.role, lang)
        src = role_source_label(s.role_source, lang)
        if src and s.role is not None:
            role += f" ({src})"
        if s.claimed_role and s.claimed_role != s.role:
            role += f" ({L['claimed']}: {role_label(s.claimed_role, lang)})"
        rows.append((L["role"], role))
    if s.signer:
        rows.append((L["signer"], s.signer.common_name or display_name(s.signer.subject, lang)))
        if s.signer.title:
            rows.append((L["title"], s.signer.title))
        rows.append((L["org"], s.signer.organization or "—"))
        rows.append((L["ca"], display_name(s.signer.issuer, lang)))
        rows.append((L["period"], f"{L['from']} {fmt_time(s.signer.not_before)} "
                                  f"{L['to']} {fmt_time(s.signer.not_after)}"))
    if not s.is_document_timestamp:
        rows.append((L["signing_time"], fmt_time(s.signing_time)))
    if s.timestamp:
        valid = L["valid_ts"] if s.timestamp.valid else L["invalid_ts"]
        if s.timestamp.valid and content_changed(s):
            valid += f" ({L['ts_original_only']})"
        rows.append((L["timestamp"], f"{fmt_time(s.timestamp.time)} {L['by']} "
                     f"{common_name(s.timestamp.tsa)} — {valid}"))
    else:
        rows.append((L["timestamp"], L["none"]))
    rows.append((L["integrity"], L["integrity_unknown"] if s.integrity is None
                 else L["intact"] if s.integrity else L["broken"]))
    rows.append((L["validity"], validity_label(s, lang)))
    if s.revocation:
        rev = L.get(s.revocation.status, s.revocation.status)
        if s.revocation.source:
            rev += f" ({L.get('src_' + s.revocation.source, s.revocation.source)})"
        rows.append((L["revocation"], rev))
    if s.coverage:
        rows.append((L["coverage"], L.get("cov_" + s.coverage, s.coverage)))
    if s.modifications_after:
        rows.append((L["after"], L.get("mod_" + s.modifications_after, s.modifications_after)))
    elif any(f.code == "modifications_unknown" for f in s.findings):
        rows.append((L["after"], L["mod_unknown"]))
    if s.level:
        rows.append((L["level"], s.level))
    return rows


def render_text(report: Report, lang: str = "vi") -> str:
    lang = lang_of(lang)
    L = labels("label", lang)
    ind = report.indication
    verdict = ind.label(lang)
    if report.subindication is not None:
        verdict += f" ({report.subindication.value})"
    out = [f"{L['file']}: {report.file}", f"  {L['verdict']}: {verdict}"]
    if ind is not Indication.TOTAL_PASSED:
        out.append(f"  {L['reason']}: {report.message(lang)}")
    else:
        out.append(f"  {report.message(lang)}")
    if report.record:
        r = report.record
        parts = [f"{L['student']}: {r.get('student', '—')}", f"{L['school']}: {r.get('school', '—')}",
                 f"{L['year']}: {r.get('school_year', '—')}"]
        out.append(f"  {L['record']}: " + "; ".join(parts))
    for i, s in enumerate(report.signatures, 1):
        title = L["doc_ts"] if s.is_document_timestamp else L["signature"]
        out.append(f"  {title} {i} [{s.id}]: {s.indication.label(lang)}")
        for k, v in signature_rows(s, lang):
            out.append(f"      {k}: {v}")
        if s.findings:
            out.append(f"      {L['notes']}:")
            for f in s.findings:
                out.append(f"        - {finding_text(f, s, lang)}")
    if report.checks:
        out.append(f"  {L['checks']}:")
        for c in report.checks:
            mark = "✓" if c.passed else ("✗" if c.indication is Indication.TOTAL_FAILED else "?")
            out.append(f"    {mark} {check_label(c.name, lang)}: {c.detail.render(lang)}")
    if report.validation_time:
        out.append(f"  {L['validation_time']}: {fmt_time(report.validation_time)}")
    return "\n".join(out)
