"""hocba: signing and verification of Vietnam's digital student record books (Học bạ số)."""
from __future__ import annotations

__version__ = "0.1.0"
