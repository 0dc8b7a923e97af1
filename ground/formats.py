"""Format detection from the content, never the name (CONTRACT 4, 5): one answer for
the signing side, the verifier and the web upload handler."""
from __future__ import annotations

PDF, XML, ZIP = "pdf", "xml", "zip"


def sniff(data: bytes) -> str | None:
    """``"pdf"``, ``"xml"``, ``"zip"`` or None, from the first bytes only (no parsing)."""
    head = data[:1024]
    if data.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return ZIP
    if b"%PDF-" in head:  # ISO 32000-1 7.5.2: the header may follow a little junk
        return PDF
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16: the parser decides
        return XML
    if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        return XML
    return None
