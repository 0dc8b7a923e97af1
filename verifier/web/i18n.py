"""Strings of the web page, Vietnamese first, English second (NFC)."""
from __future__ import annotations

from ground.vocab import INDICATION_LABELS, ROLE_LABELS, Indication, Role, SubIndication, nfc
from verifier.text import CHECK_LABELS, display_name

UI: dict[str, dict[str, str]] = {
    "vi": {
        "title": "Xác thực học bạ số",
        "tagline": "Kiểm tra chữ ký số trên học bạ (PDF hoặc XML). Tệp chỉ được xử lý "
                   "trong bộ nhớ và không được lưu lại.",
        "switch": "English",
        "drop": "Kéo và thả tệp học bạ vào đây",
        "drop_hint": "PDF, XML hoặc ZIP (nhiều tệp); tối đa {mb} MB mỗi lần gửi",
        "choose": "Chọn tệp",
        "submit": "Kiểm tra",
        "clear_results": "Xóa kết quả",
        "checking": "Đang kiểm tra…",
        "results": "Kết quả",
        "file": "Tệp",
        "sha256": "SHA-256",
        "format": "Định dạng",
        "record": "Học bạ",
        "student": "Học sinh",
        "school": "Trường",
        "school_year": "Năm học",
        "no_record": "Không nhận ra học bạ trong tệp này.",
        "signatures": "Chữ ký",
        "no_signatures": "Không có chữ ký số.",
        "timeline": "Thứ tự ký",
        "role_unknown": "Không xác định vai trò",
        "doc_timestamp": "Dấu thời gian tài liệu",
        "claimed_role": "Vai trò khai báo trong chữ ký",
        "signer": "Người ký",
        "organization": "Đơn vị",
        "title_attr": "Chức vụ",
        "issuer": "Tổ chức cấp chứng thư",
        "serial": "Số hiệu chứng thư",
        "signing_time": "Thời điểm ký",
        "timestamp": "Dấu thời gian",
        "tsa": "Đơn vị cấp dấu thời gian",
        "ts_invalid": "dấu thời gian không hợp lệ",
        "ts_valid": "dấu thời gian hợp lệ",
        "ts_original_only": "chứng minh thời điểm của bản gốc, không phải nội dung đã sửa",
        "validity": "Hiệu lực chứng thư",
        "expired_now": "đã hết hạn",
        "not_yet_valid_now": "chưa có hiệu lực",
        "revocation": "Tình trạng thu hồi",
        "rev_good": "chưa bị thu hồi",
        "rev_revoked": "đã bị thu hồi",
        "rev_unknown": "không xác định được",
        "rev_source": "nguồn",
        "rev_src_embedded": "nhúng trong tệp",
        "rev_src_ocsp": "OCSP",
        "rev_src_crl": "CRL",
        "level": "Mức chữ ký",
        "integrity": "Toàn vẹn nội dung",
        "integrity_ok": "nội dung khớp với chữ ký",
        "integrity_bad": "nội dung KHÔNG khớp với chữ ký",
        "integrity_unknown": "không kiểm tra được (xem ghi chú)",
        "coverage": "Phạm vi ký",
        "cov_entire_file": "toàn bộ tệp",
        "cov_entire_revision": "toàn bộ phiên bản tại thời điểm ký",
        "cov_partial": "một phần tệp",
        "mods": "Thay đổi sau khi ký",
        "mods_none": "không có",
        "mods_signatures_only": "chỉ thêm chữ ký, dấu thời gian, dữ liệu xác thực",
        "mods_other": "có thay đổi khác",
        "mods_form_filling": "các trường biểu mẫu được điền sau khi ký (người ký cho phép)",
        "chain": "Chuỗi chứng thư",
        "reasons": "Lý do",
        "notes": "Ghi chú",
        "checks": "Kiểm tra hồ sơ",
        "passed_checks": "Các kiểm tra đạt",
        "download_json": "Tải báo cáo JSON",
        "download_html": "Tải báo cáo HTML",
        "download_etsi": "Tải báo cáo ETSI (XML)",
        "validation_time": "Thời điểm đánh giá",
        "error": "Lỗi",
        "js_off": "",
        "footer": "Kết quả theo ETSI EN 319 102-1. Máy chủ không lưu tệp đã gửi.",
        "report_title": "Báo cáo xác thực học bạ số",
        "yes": "có",
        "no": "không",
        "technical": "Chi tiết kỹ thuật",
        # Bulk jobs on the page (issue 14): a ZIP or many files go to POST /api/v1/jobs.
        "job_title": "Kiểm tra theo lô",
        "job_hint": "Tệp ZIP hoặc nhiều tệp được kiểm tra theo lô trên máy chủ; kết quả hiện "
                    "dần theo thứ tự gửi.",
        "job_uploading": "Đang gửi tệp lên máy chủ…",
        "job_queued": "Đang chờ máy chủ xử lý…",
        "job_progress_label": "Tiến độ kiểm tra",
        "job_progress": "Đã kiểm tra {done} / {total} tệp",
        "job_done": "Hoàn tất: đã kiểm tra {done} / {total} tệp",
        "job_counts": "Hợp lệ: {passed} · Không hợp lệ: {failed} · Không xác định: "
                      "{indeterminate}",
        "job_col_index": "#",
        "job_col_verdict": "Kết quả",
        "job_col_details": "Chi tiết",
        "job_download_csv": "Tải bảng kết quả (CSV)",
        "job_download_ndjson": "Tải báo cáo (JSON Lines)",
        "job_failed": "Không gửi được lô tệp",
        "job_expired": "Lô kiểm tra này không còn trên máy chủ (đã hết hạn hoặc đã bị xóa); "
                       "hãy gửi lại các tệp.",
        "job_lost": "Mất kết nối với máy chủ khi theo dõi lô kiểm tra; các kết quả đã hiện "
                    "vẫn đúng.",
    },
    "en": {
        "title": "Student record book verification",
        "tagline": "Check the digital signatures on a record book (PDF or XML). Files are "
                   "processed in memory only and never stored.",
        "switch": "Tiếng Việt",
        "drop": "Drag and drop record files here",
        "drop_hint": "PDF, XML or ZIP (several files); at most {mb} MB per upload",
        "choose": "Choose files",
        "submit": "Verify",
        "clear_results": "Clear results",
        "checking": "Checking…",
        "results": "Results",
        "file": "File",
        "sha256": "SHA-256",
        "format": "Format",
        "record": "Record book",
        "student": "Pupil",
        "school": "School",
        "school_year": "School year",
        "no_record": "No record book recognised in this file.",
        "signatures": "Signatures",
        "no_signatures": "No digital signature.",
        "timeline": "Signing order",
        "role_unknown": "Unrecognised role",
        "doc_timestamp": "Document timestamp",
        "claimed_role": "Role declared in the signature",
        "signer": "Signer",
        "organization": "Organisation",
        "title_attr": "Title",
        "issuer": "Issuing CA",
        "serial": "Certificate serial",
        "signing_time": "Signing time",
        "timestamp": "Timestamp",
        "tsa": "Time-stamping authority",
        "ts_invalid": "invalid timestamp",
        "ts_valid": "valid timestamp",
        "ts_original_only": "proves when the original was signed, not the changed content",
        "validity": "Certificate validity",
        "expired_now": "expired",
        "not_yet_valid_now": "not yet valid",
        "revocation": "Revocation status",
        "rev_good": "not revoked",
        "rev_revoked": "revoked",
        "rev_unknown": "could not be established",
        "rev_source": "source",
        "rev_src_embedded": "embedded in the file",
        "rev_src_ocsp": "OCSP",
        "rev_src_crl": "CRL",
        "level": "Signature level",
        "integrity": "Integrity",
        "integrity_ok": "content matches the signature",
        "integrity_bad": "content does NOT match the signature",
        "integrity_unknown": "could not be checked (see the notes)",
        "coverage": "Coverage",
        "cov_entire_file": "the entire file",
        "cov_entire_revision": "the entire revision signed",
        "cov_partial": "part of the file",
        "mods": "Changes after signing",
        "mods_none": "none",
        "mods_signatures_only": "only later signatures, timestamps, validation data",
        "mods_other": "other changes",
        "mods_form_filling": "form fields filled in after signing (permitted by the signer)",
        "chain": "Certificate chain",
        "reasons": "Why",
        "notes": "Notes",
        "checks": "Record checks",
        "passed_checks": "Checks passed",
        "download_json": "Download JSON report",
        "download_html": "Download HTML report",
        "download_etsi": "Download ETSI report (XML)",
        "validation_time": "Judged as of",
        "error": "Error",
        "js_off": "",
        "footer": "Results follow ETSI EN 319 102-1. The server keeps no uploaded file.",
        "report_title": "Student record book verification report",
        "yes": "yes",
        "no": "no",
        "technical": "Technical details",
        # Bulk jobs on the page (issue 14): a ZIP or many files go to POST /api/v1/jobs.
        "job_title": "Batch verification",
        "job_hint": "A ZIP or many files are verified as a batch on the server; results "
                    "appear in the order the files were sent.",
        "job_uploading": "Sending the files to the server…",
        "job_queued": "Waiting for the server…",
        "job_progress_label": "Verification progress",
        "job_progress": "Checked {done} / {total} files",
        "job_done": "Done: checked {done} / {total} files",
        "job_counts": "Valid: {passed} · Invalid: {failed} · Indeterminate: {indeterminate}",
        "job_col_index": "#",
        "job_col_verdict": "Result",
        "job_col_details": "Details",
        "job_download_csv": "Download the results (CSV)",
        "job_download_ndjson": "Download the reports (JSON Lines)",
        "job_failed": "The batch could not be sent",
        "job_expired": "This batch is no longer on the server (it expired or was deleted); "
                       "send the files again.",
        "job_lost": "Lost contact with the server while following the batch; the results "
                    "shown so far stand.",
    },
}

# Plain-language reasons for EN 319 102-1 sub-indications (what a person reads).
REASONS: dict[str, dict[SubIndication, str]] = {
    "vi": {
        SubIndication.HASH_FAILURE: "Nội dung đã bị sửa sau khi ký.",
        SubIndication.SIG_CRYPTO_FAILURE: "Giá trị chữ ký không khớp với chứng thư số của người ký.",
        SubIndication.REVOKED: "Chứng thư số đã bị thu hồi.",
        SubIndication.REVOKED_NO_POE: "Chứng thư số đã bị thu hồi và không có bằng chứng "
                                      "chữ ký được tạo trước khi thu hồi.",
        SubIndication.REVOKED_CA_NO_POE: "Chứng thư của tổ chức cấp đã bị thu hồi.",
        SubIndication.FORMAT_FAILURE: "Tệp bị hỏng hoặc không đúng định dạng.",
        SubIndication.SIG_CONSTRAINTS_FAILURE: "Chữ ký không đáp ứng quy định "
                                               "(vai trò, thứ tự ký hoặc phạm vi ký).",
        SubIndication.NOT_YET_VALID: "Chứng thư số chưa có hiệu lực tại thời điểm ký.",
        SubIndication.EXPIRED: "Chứng thư số đã hết hạn.",
        SubIndication.OUT_OF_BOUNDS_NO_POE: "Chứng thư số đã hết hạn và không có dấu thời gian "
                                            "chứng minh chữ ký được tạo khi còn hiệu lực.",
        SubIndication.OUT_OF_BOUNDS_NOT_REVOKED: "Chứng thư số đã hết hạn (không bị thu hồi).",
        SubIndication.NO_CERTIFICATE_CHAIN_FOUND: "Chứng thư số không do tổ chức chứng thực "
                                                  "được tin cậy cấp.",
        SubIndication.CERTIFICATE_CHAIN_GENERAL_FAILURE: "Không kiểm tra được chuỗi chứng thư số.",
        SubIndication.CHAIN_CONSTRAINTS_FAILURE: "Chuỗi chứng thư số không đáp ứng ràng buộc "
                                                 "(ví dụ mục đích sử dụng khóa).",
        SubIndication.CRYPTO_CONSTRAINTS_FAILURE: "Thuật toán hoặc độ dài khóa không được chấp "
                                                  "nhận (quá yếu, ví dụ SHA-1, RSA dưới 2048 bit) "
                                                  "hoặc chưa được hỗ trợ.",
        SubIndication.CRYPTO_CONSTRAINTS_FAILURE_NO_POE: "Thuật toán hoặc độ dài khóa quá yếu.",
        SubIndication.TRY_LATER: "Chưa xác định được tình trạng thu hồi của chứng thư số; "
                                 "hãy thử lại sau.",
        SubIndication.NO_SIGNING_CERTIFICATE_FOUND: "Không tìm thấy chứng thư số của người ký.",
        SubIndication.SIGNED_DATA_NOT_FOUND: "Không tìm thấy dữ liệu được ký.",
        SubIndication.TIMESTAMP_ORDER_FAILURE: "Thứ tự các dấu thời gian không hợp lệ.",
        SubIndication.NO_POE: "Không có bằng chứng về thời điểm tồn tại của chữ ký.",
        SubIndication.REVOCATION_OUT_OF_BOUNDS_NO_POE: "Dữ liệu thu hồi nằm ngoài thời hạn "
                                                       "hiệu lực của chứng thư.",
        SubIndication.POLICY_PROCESSING_ERROR: "Không xử lý được chính sách chữ ký.",
        SubIndication.SIGNATURE_POLICY_NOT_AVAILABLE: "Không có chính sách chữ ký.",
        SubIndication.GENERIC: "Không xác định được kết quả.",
    },
    "en": {
        SubIndication.HASH_FAILURE: "The content was changed after signing.",
        SubIndication.SIG_CRYPTO_FAILURE: "The signature value does not match the signer's "
                                          "certificate.",
        SubIndication.REVOKED: "The certificate has been revoked.",
        SubIndication.REVOKED_NO_POE: "The certificate has been revoked and nothing proves the "
                                      "signature was made before.",
        SubIndication.REVOKED_CA_NO_POE: "The issuing authority's certificate has been revoked.",
        SubIndication.FORMAT_FAILURE: "The file is damaged or not in a supported format.",
        SubIndication.SIG_CONSTRAINTS_FAILURE: "The signature does not meet the rules "
                                               "(role, signing order or coverage).",
        SubIndication.NOT_YET_VALID: "The certificate was not yet valid at signing time.",
        SubIndication.EXPIRED: "The certificate has expired.",
        SubIndication.OUT_OF_BOUNDS_NO_POE: "The certificate has expired and no timestamp proves "
                                            "the signature was made while it was valid.",
        SubIndication.OUT_OF_BOUNDS_NOT_REVOKED: "The certificate has expired (not revoked).",
        SubIndication.NO_CERTIFICATE_CHAIN_FOUND: "The certificate was not issued by a trusted "
                                                  "certification authority.",
        SubIndication.CERTIFICATE_CHAIN_GENERAL_FAILURE: "The certificate chain cannot be checked.",
        SubIndication.CHAIN_CONSTRAINTS_FAILURE: "The certificate chain does not meet its "
                                                 "constraints (e.g. key usage).",
        SubIndication.CRYPTO_CONSTRAINTS_FAILURE: "The algorithm or key size is not accepted "
                                                  "(too weak, e.g. SHA-1, RSA under 2048 bits) "
                                                  "or not supported.",
        SubIndication.CRYPTO_CONSTRAINTS_FAILURE_NO_POE: "The algorithm or key size is too weak.",
        SubIndication.TRY_LATER: "The certificate's revocation status could not be established; "
                                 "try again later.",
        SubIndication.NO_SIGNING_CERTIFICATE_FOUND: "The signer's certificate was not found.",
        SubIndication.SIGNED_DATA_NOT_FOUND: "The signed data was not found.",
        SubIndication.TIMESTAMP_ORDER_FAILURE: "The timestamps are out of order.",
        SubIndication.NO_POE: "Nothing proves when the signature existed.",
        SubIndication.REVOCATION_OUT_OF_BOUNDS_NO_POE: "The revocation data lies outside the "
                                                       "certificate's validity.",
        SubIndication.POLICY_PROCESSING_ERROR: "The signature policy cannot be processed.",
        SubIndication.SIGNATURE_POLICY_NOT_AVAILABLE: "The signature policy is not available.",
        SubIndication.GENERIC: "The result could not be determined.",
    },
}



# The service's error messages (``detail`` of ``{"error", "detail"}`` and the page's
# error line), by key; ``str.format`` fields are filled from the error's parameters.
# Raised as :class:`verifier.web.errors.Problem` subclasses, rendered in the request's
# language (``?lang=``, default Vietnamese).
ERRORS: dict[str, dict[str, str]] = {
    "vi": {
        "too_large": "Yêu cầu vượt quá giới hạn {limit} MB (limits.max_file_mb).",
        "no_file": "Chưa có tệp: hãy gửi một hoặc nhiều phần multipart tên 'file' "
                   "(curl -F file=@hoc-ba.pdf).",
        "no_filename": "Phần 'file' không có tên tệp; hãy gửi nó dưới dạng tệp "
                       "(curl -F file=@hoc-ba.pdf).",
        "empty_body": "Chưa có tệp: thân yêu cầu trống.",
        "part_unsupported": "Phần thứ {n} ({name}) không phải PDF, XML hay ZIP.",
        "body_unsupported": "Nội dung gửi lên không phải PDF, XML hay ZIP.",
        "form_urlencoded": "Hãy gửi tệp dạng multipart/form-data (trường 'file') hoặc thân "
                           "yêu cầu application/pdf, application/xml hay application/zip.",
        "content_type": "Kiểu nội dung {content_type} không được hỗ trợ: cần application/pdf, "
                        "application/xml, application/zip hoặc multipart/form-data.",
        "too_many_files": "Quá {limit} tệp trong một yêu cầu.",
        "zip_entries": "{name}: {count} tệp trong gói; tối đa {limit} tệp mỗi yêu cầu.",
        "zip_total": "{name}: {size} MB khi giải nén; tối đa {limit} MB mỗi yêu cầu.",
        "zip_entry_larger": "{name}: lớn hơn kích thước khai trong gói ZIP.",
        "bad_lang": "Tham số lang phải là 'vi' hoặc 'en', nhận được {value} — "
                    "lang must be 'vi' or 'en', got {value}.",
        "bad_validation_time": "validation_time phải là ngày giờ ISO 8601 "
                               "(ví dụ 2026-06-01T00:00:00+07:00), nhận được {value}.",
        "bad_format": "Tham số format phải là 'json' hoặc 'etsi', nhận được {value}.",
        "etsi_one_file": "format=etsi nhận đúng một tệp, nhận được {count}.",
        "internal": "Lỗi nội bộ của máy chủ; yêu cầu đã được ghi nhật ký (không lưu tệp).",
        "http_400": "Yêu cầu không hợp lệ.",
        "http_404": "Không tìm thấy địa chỉ này.",
        "http_405": "Phương thức này không được hỗ trợ ở địa chỉ này.",
        "http_408": "Hết thời gian chờ yêu cầu.",
        "http_413": "Yêu cầu quá lớn.",
        "http_415": "Kiểu dữ liệu không được hỗ trợ.",
        "http_422": "Không xử lý được nội dung gửi lên.",
        "http_429": "Quá nhiều yêu cầu; hãy thử lại sau.",
        "http_500": "Lỗi nội bộ của máy chủ.",
        "http_503": "Dịch vụ tạm thời không sẵn sàng; hãy thử lại sau.",
        "http_other": "Lỗi HTTP {status}.",
    },
    "en": {
        "too_large": "The request is over the limit of {limit} MB (limits.max_file_mb).",
        "no_file": "No file: send one or more multipart parts named 'file' "
                   "(curl -F file=@record.pdf).",
        "no_filename": "The part 'file' has no filename; send it as a file "
                       "(curl -F file=@record.pdf).",
        "empty_body": "No file: the request body is empty.",
        "part_unsupported": "Part {n} ({name}) is neither PDF, XML nor ZIP.",
        "body_unsupported": "The body is neither PDF, XML nor ZIP.",
        "form_urlencoded": "Send files as multipart/form-data (field 'file') or as a raw "
                           "application/pdf, application/xml or application/zip body.",
        "content_type": "Unsupported Content-Type {content_type}: expected application/pdf, "
                        "application/xml, application/zip or multipart/form-data.",
        "too_many_files": "More than {limit} files in one request.",
        "zip_entries": "{name}: {count} entries; at most {limit} files per request.",
        "zip_total": "{name}: {size} MB uncompressed; at most {limit} MB per request.",
        "zip_entry_larger": "{name}: larger than declared in the archive.",
        "bad_lang": "Tham số lang phải là 'vi' hoặc 'en', nhận được {value} — "
                    "lang must be 'vi' or 'en', got {value}.",
        "bad_validation_time": "validation_time must be an ISO 8601 date-time "
                               "(e.g. 2026-06-01T00:00:00+07:00), got {value}.",
        "bad_format": "format must be 'json' or 'etsi', got {value}.",
        "etsi_one_file": "format=etsi takes exactly one file, got {count}.",
        "internal": "Internal error; the request was logged (no file was kept).",
        "http_400": "Bad request.",
        "http_404": "Nothing at this address.",
        "http_405": "This method is not allowed at this address.",
        "http_408": "The request timed out.",
        "http_413": "The request is too large.",
        "http_415": "Unsupported media type.",
        "http_422": "The content sent cannot be processed.",
        "http_429": "Too many requests; try again later.",
        "http_500": "Internal server error.",
        "http_503": "The service is temporarily unavailable; try again later.",
        "http_other": "HTTP error {status}.",
    },
}


def megabytes(n_bytes: int | float | None) -> str:
    """A byte limit as people read it: 20, 0.5 (MB), not 0.4999990463."""
    return f"{round((n_bytes or 0) / (1024 * 1024), 2):g}"


def error_text(key: str, lang: str, **params: object) -> str:
    """An error message of :data:`ERRORS` in ``lang`` (vi unless "en"), fields filled."""
    table = ERRORS["en" if lang == "en" else "vi"]
    template = table.get(key)
    if template is None:
        return nfc(key)
    try:
        return nfc(template.format(**params))
    except (KeyError, IndexError):
        return nfc(template)


def http_text(status: int, lang: str) -> str:
    """A plain sentence for an HTTP status whose error carries no message of its own."""
    key = f"http_{status}"
    if key in ERRORS["vi"]:
        return error_text(key, lang)
    return error_text("http_other", lang, status=status)


def ui(lang: str) -> dict[str, str]:
    return UI["en" if lang == "en" else "vi"]


def verdict(indication: Indication, lang: str) -> str:
    return INDICATION_LABELS["en" if lang == "en" else "vi"][indication]


def role_label(role: str | None, lang: str) -> str:
    lang = "en" if lang == "en" else "vi"
    if role is None:
        return UI[lang]["role_unknown"]
    try:
        return ROLE_LABELS[lang][Role(role)]
    except ValueError:
        return role


def reason(sub: SubIndication | None, lang: str) -> str | None:
    if sub is None:
        return None
    return nfc(REASONS["en" if lang == "en" else "vi"].get(sub, sub.value))


def check_label(name: str, lang: str) -> str:
    return CHECK_LABELS["en" if lang == "en" else "vi"].get(name, name)


def name(rfc4514: str, lang: str) -> str:
    """A certificate name with its attribute types in words (``Chức vụ: …``)."""
    return display_name(rfc4514, lang)
