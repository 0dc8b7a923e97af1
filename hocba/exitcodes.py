"""The exit codes of every ``hocba`` command: one rule (CONTRACT 1, issue 16 item 6).

- 0: success (``verify``: every file TOTAL_PASSED).
- 1: the work was done and did not pass: a file judged not valid (a PDF or XML that is
  damaged, unsigned or not a record book is judged: FORMAT_FAILURE), a file that could
  not be signed, or the key or certificate refused before anything was signed (wrong
  PIN, a certificate that may not sign as that role, expired, revoked or untrusted).
- 2: the work could not be done as asked: an unreadable path, a bad option, a bad
  configuration, no PIN given, or a file that is not a PDF or XML at all (random bytes,
  a .docx), which ``verify`` cannot judge (CONTRACT 5).
- 3 (``verify`` only): nothing failed, but at least one file is INDETERMINATE.
"""
from __future__ import annotations

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INDETERMINATE = 0, 1, 2, 3

# For --help (argparse descriptions and epilogs), Vietnamese then English.
RULE_VI = (
    "Mã thoát: 0 thành công (verify: mọi tệp hợp lệ); 1 đã làm nhưng không đạt: một tệp "
    "không hợp lệ (kể cả PDF/XML bị hỏng, không có chữ ký), một tệp không ký được, khoá hoặc "
    "chứng thư bị từ chối (sai mã PIN, chứng thư không được ký với vai trò đó, hết hạn, bị thu "
    "hồi, không tin cậy); 2 không làm được như yêu cầu: đường dẫn không đọc được, tùy chọn "
    "hoặc cấu hình sai, tệp không phải PDF/XML; 3 (chỉ verify) không tệp nào không hợp lệ "
    "nhưng có tệp không xác định.")
RULE_EN = (
    "Exit codes: 0 success (verify: every file TOTAL_PASSED); 1 done but did not pass: a file "
    "judged not valid (including a PDF/XML that is damaged or unsigned), a file not signed, "
    "the key or certificate refused (wrong PIN, certificate not allowed to sign as that role, "
    "expired, revoked, untrusted); 2 could not be done as asked: unreadable path, bad option "
    "or configuration, a file that is not a PDF/XML; 3 (verify only) nothing failed but a "
    "file is INDETERMINATE.")
RULE = f"{RULE_VI} {RULE_EN}"

# The same as a table, for `hocba --help` (RawDescriptionHelpFormatter).
TABLE = """\
Mã thoát / exit codes (mọi lệnh / every command):
  0  thành công — success (verify: mọi tệp hợp lệ / every file TOTAL_PASSED)
  1  đã làm nhưng không đạt — done, did not pass: một tệp không hợp lệ, kể cả PDF/XML
     bị hỏng hoặc không có chữ ký / a file judged not valid, including a damaged or
     unsigned PDF/XML; một tệp không ký được / a file not signed; khoá hoặc chứng thư
     bị từ chối (sai PIN, sai vai trò, hết hạn, bị thu hồi) / key or certificate
     refused (wrong PIN, wrong role, expired, revoked)
  2  không làm được như yêu cầu — could not be done as asked: đường dẫn không đọc
     được / unreadable path; tùy chọn hoặc cấu hình sai / bad option or config;
     tệp không phải PDF/XML / not a PDF/XML file (random bytes, .docx)
  3  (verify) không tệp nào không hợp lệ nhưng có tệp không xác định / nothing
     failed but a file is INDETERMINATE"""
