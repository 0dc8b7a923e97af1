"""The human report (Vietnamese by default, English with ``lang="en"``).

Shows what Thông tư 15/2025 asks a verifier to show: valid or not, issuing CA,
signer, organisation, signing time or timestamp, integrity, validity at signing
time, certificate validity period — plus the role and why a check failed or
could not be completed. "Không xác định" (indeterminate) is never shown as valid.
"""
from __future__ import annotations


from ground.vocab import INDICATION_LABELS, Indication, Modifications, Role
from ground.findings import Finding, fmt_time as fmt_time
from verifier.report import Report, SignatureReport

LABELS: dict[str, dict[str, str]] = {
    "vi": {
        "file": "Tệp", "verdict": "Kết quả", "reason": "Lý do", "record": "Học bạ",
        "student": "Học sinh", "school": "Trường", "year": "Năm học",
        "signature": "Chữ ký", "doc_ts": "Dấu thời gian tài liệu", "role": "Vai trò",
        "claimed": "vai trò khai báo", "signer": "Người ký", "title": "Chức vụ", "org": "Đơn vị",
        "ca": "CA cấp chứng thư", "signing_time": "Thời điểm ký (tự khai)",
        "timestamp": "Dấu thời gian", "integrity": "Toàn vẹn nội dung",
        "validity": "Hiệu lực tại thời điểm ký", "period": "Thời hạn chứng thư",
        "revocation": "Tình trạng thu hồi", "level": "Mức", "coverage": "Phạm vi ký",
        "after": "Thay đổi sau khi ký", "checks": "Kiểm tra hồ sơ", "notes": "Ghi chú",
        "yes": "Có", "no": "Không", "intact": "Nguyên vẹn", "broken": "BỊ THAY ĐỔI",
        "integrity_unknown": "không kiểm tra được (xem ghi chú)",
        "none": "không có", "unknown_role": "không xác định", "from": "từ", "to": "đến",
        "good": "chưa bị thu hồi", "revoked": "ĐÃ BỊ THU HỒI", "unknown": "không xác định",
        "by": "bởi", "valid_ts": "hợp lệ", "invalid_ts": "KHÔNG hợp lệ",
        "mod_none": "không có", "mod_signatures_only": "chỉ thêm chữ ký / dấu thời gian / dữ liệu xác thực",
        "mod_other": "CÓ THAY ĐỔI NỘI DUNG",
        "mod_form_filling": "các trường biểu mẫu được điền sau khi ký (người ký cho phép)",
        "mod_unknown": "không xác định được",
        "cov_entire_file": "toàn bộ tệp", "cov_entire_revision": "toàn bộ phiên bản đã ký",
        "cov_partial": "một phần tài liệu (xem các phần được ký)", "validation_time": "Thời điểm đánh giá",
        "passed": "đạt", "failed": "KHÔNG ĐẠT", "src_embedded": "nhúng trong tệp",
        "chain": "Chuỗi chứng thư",
        "ts_original_only": "chỉ chứng minh thời điểm của bản gốc đã ký, không phải nội dung "
                            "đã bị sửa",
        "src_ocsp": "OCSP", "src_crl": "CRL",
    },
    "en": {
        "file": "File", "verdict": "Result", "reason": "Reason", "record": "Record",
        "student": "Student", "school": "School", "year": "School year",
        "signature": "Signature", "doc_ts": "Document timestamp", "role": "Role",
        "claimed": "declared role", "signer": "Signer", "title": "Title", "org": "Organisation",
        "ca": "Issuing CA", "signing_time": "Signing time (claimed)",
        "timestamp": "Timestamp", "integrity": "Integrity",
        "validity": "Valid at signing time", "period": "Certificate validity",
        "revocation": "Revocation", "level": "Level", "coverage": "Coverage",
        "after": "Changes after signing", "checks": "Record checks", "notes": "Notes",
        "yes": "Yes", "no": "No", "intact": "Intact", "broken": "ALTERED",
        "integrity_unknown": "could not be checked (see the notes)",
        "none": "none", "unknown_role": "unknown", "from": "from", "to": "to",
        "good": "not revoked", "revoked": "REVOKED", "unknown": "unknown",
        "by": "by", "valid_ts": "valid", "invalid_ts": "NOT valid",
        "mod_none": "none", "mod_signatures_only": "only signatures / timestamps / validation data added",
        "mod_other": "CONTENT CHANGED",
        "mod_form_filling": "form fields filled in after signing (permitted by the signer)",
        "mod_unknown": "could not be established",
        "cov_entire_file": "entire file", "cov_entire_revision": "entire signed revision",
        "cov_partial": "part of the document (see the signed parts)", "validation_time": "Validated at",
        "passed": "passed", "failed": "FAILED", "src_embedded": "embedded in the file",
        "chain": "Certificate chain",
        "ts_original_only": "it proves only when the original was signed, not the changed "
                            "content",
        "src_ocsp": "OCSP", "src_crl": "CRL",
    },
}


# Names of the record checks (Report.checks[].name), as people read them.
CHECK_LABELS: dict[str, dict[str, str]] = {
    "vi": {
        "required_roles": "Đủ chữ ký theo vai trò bắt buộc",
        "signing_order": "Thứ tự ký",
        "unsigned_content": "Toàn bộ nội dung nằm trong phạm vi chữ ký",
        "roles": "Vai trò khai báo khớp với chứng thư",
        "modifications": "Không sửa đổi sau khi ký",
        "format": "Định dạng tệp",
        "time_limit": "Giới hạn thời gian",
        "record": "Quy tắc học bạ",
        "record_structure": "Cấu trúc học bạ",
        "coverage": "Phạm vi chữ ký",
        "docmdp": "Quyền sửa đổi do người ký đầu tiên cho phép (DocMDP)",
        "duplicate_ids": "Không có Id trùng lặp",
    },
    "en": {
        "required_roles": "Required roles present",
        "signing_order": "Signing order",
        "unsigned_content": "All content covered by signatures",
        "roles": "Declared roles match certificates",
        "modifications": "No changes after signing",
        "format": "File format",
        "time_limit": "Time limit",
        "record": "Record-book rules",
        "record_structure": "Record-book structure",
        "coverage": "Signature coverage",
        "docmdp": "Changes the first signer permitted (DocMDP)",
        "duplicate_ids": "No duplicate Ids",
    },
}


def check_label(name: str, lang: str) -> str:
    return CHECK_LABELS["en" if lang == "en" else "vi"].get(name, name)


# Attribute types of certificate names (RFC 4514 strings in the report), in words: a
# title shows as "Chức vụ: …", never "2.5.4.12=…".
NAME_ATTRS: dict[str, dict[str, str]] = {
    "vi": {
        "2.5.4.3": "Tên", "2.5.4.12": "Chức vụ", "2.5.4.10": "Tổ chức", "2.5.4.11": "Đơn vị",
        "2.5.4.7": "Địa phương", "2.5.4.8": "Tỉnh/Thành phố", "2.5.4.6": "Quốc gia",
        "2.5.4.9": "Địa chỉ", "2.5.4.5": "Số hiệu", "2.5.4.4": "Họ", "2.5.4.42": "Tên riêng",
        "0.9.2342.19200300.100.1.1": "Mã định danh", "1.2.840.113549.1.9.1": "Thư điện tử",
        "2.5.4.97": "Mã tổ chức", "0.9.2342.19200300.100.1.25": "Thành phần miền",
    },
    "en": {
        "2.5.4.3": "Name", "2.5.4.12": "Title", "2.5.4.10": "Organisation", "2.5.4.11": "Unit",
        "2.5.4.7": "Locality", "2.5.4.8": "Province", "2.5.4.6": "Country",
        "2.5.4.9": "Street", "2.5.4.5": "Serial number", "2.5.4.4": "Surname",
        "2.5.4.42": "Given name", "0.9.2342.19200300.100.1.1": "User ID",
        "1.2.840.113549.1.9.1": "Email", "2.5.4.97": "Organisation identifier",
        "0.9.2342.19200300.100.1.25": "Domain component",
    },
}


def display_name(rfc4514: str, lang: str) -> str:
    """A certificate name for people: ``Tên: …; Chức vụ: …; Tổ chức: …`` (most specific
    first, as RFC 4514 writes it), attribute types in words; unknown types keep their
    dotted OID. A string that is not RFC 4514 is shown as it is."""
    from cryptography import x509

    labels = NAME_ATTRS["en" if lang == "en" else "vi"]
    try:
        name = x509.Name.from_rfc4514_string(rfc4514)
    except (ValueError, TypeError):
        return rfc4514
    parts = []
    for rdn in reversed(list(name.rdns)):
        for attr in rdn:
            value = attr.value if isinstance(attr.value, str) else attr.value.hex()
            label = labels.get(attr.oid.dotted_string, attr.oid.dotted_string)
            parts.append(f"{label}: {value}")
    return "; ".join(parts) or rfc4514


def common_name(rfc4514: str) -> str:
    """The CN of a name (a TSA, a CA) for a short mention; the whole name in words
    when it has none."""
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    try:
        cns = x509.Name.from_rfc4514_string(rfc4514).get_attributes_for_oid(
            NameOID.COMMON_NAME)
    except (ValueError, TypeError):
        return rfc4514
    return str(cns[0].value) if cns else display_name(rfc4514, "vi")


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
        text = f"{text.rstrip('.')} — {LABELS['en' if lang == 'en' else 'vi']['ts_original_only']}."
    return text


ROLE_SOURCE_LABELS: dict[str, dict[str, str]] = {
    "vi": {"certificate": "theo chứng thư số", "registry": "theo danh sách vai trò",
           "seal": "tự khai, con dấu nhà trường xác nhận"},
    "en": {"certificate": "from the certificate", "registry": "from the role registry",
           "seal": "declared, confirmed by the school seal"},
}


def role_source_label(source: str | None, lang: str) -> str | None:
    """Where a role came from, in words (CONTRACT 8 ``role_source``)."""
    return ROLE_SOURCE_LABELS.get(lang, ROLE_SOURCE_LABELS["vi"]).get(source or "")


def role_label(role: str | None, lang: str) -> str:
    if role is None:
        return LABELS[lang]["unknown_role"]
    try:
        return Role(role).label(lang)
    except ValueError:
        return role


def validity_label(s: SignatureReport, lang: str) -> str:
    """Validity at signing time, never "valid" unless TOTAL_PASSED."""
    label = INDICATION_LABELS[lang][s.indication]
    if s.subindication is not None:
        label += f" ({s.subindication.value})"
    return label


def signature_rows(s: SignatureReport, lang: str) -> list[tuple[str, str]]:
    L = LABELS[lang]
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
    lang = lang if lang in LABELS else "vi"
    L = LABELS[lang]
    ind = report.indication
    verdict = INDICATION_LABELS[lang][ind]
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
        out.append(f"  {title} {i} [{s.id}]: {INDICATION_LABELS[lang][s.indication]}")
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
