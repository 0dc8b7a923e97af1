"""hocba: signing and verification of Vietnam's digital student record books (Học bạ số).

The public surface: :class:`Verifier`, :class:`Policy`, :class:`Report`,
:func:`verify_bytes` and :func:`sign_files`. Trust is passed explicitly (a
:class:`Policy` with its anchors, or a configuration file); nothing is implied.

A record signed by the homeroom teacher and the principal with the demo PKI, then
verified (the demo's OCSP/TSA run on a free loopback port while signing)::

    >>> import socket, tempfile
    >>> from pathlib import Path
    >>> from hocba import Policy, sign_files, verify_bytes
    >>> from certs.pki import DEMO_PIN, create_pki
    >>> from certs.services import TrustServices
    >>> from recordbook.sample import sample_record
    >>> from recordbook.xmlio import to_xml
    >>> work = Path(tempfile.mkdtemp())
    >>> with socket.socket() as s:
    ...     _ = s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]
    >>> pki, _ = create_pki(work / "pki", port=port)
    >>> record = work / "hs-001.xml"
    >>> _ = record.write_bytes(to_xml(sample_record(3)))
    >>> with TrustServices(pki.certomancer, port=port):
    ...     for role in ("teacher", "principal"):
    ...         [result] = sign_files([record], config=str(pki.config), role=role,
    ...                               key=str(pki.p12(role)), pin=DEMO_PIN, in_place=True)
    ...         assert result.ok, result.error
    ...     report = verify_bytes(record.read_bytes(), name=record.name,
    ...                           config=str(pki.config))
    >>> report.indication.value
    'TOTAL_PASSED'
    >>> [s.role for s in report.signatures]
    ['teacher', 'principal']
"""
from __future__ import annotations

import os
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ground import __version__ as __version__  # noqa: E402  (one version, in the shared ground)
__all__ = ["Verifier", "Policy", "Report", "verify_bytes", "sign_files"]

if TYPE_CHECKING:
    from signer.api import sign_files
    from verifier.core import Verifier
    from ground.policy import Policy
    from verifier.report import Report


def verify_bytes(data: bytes, *, name: str, policy: "Policy | None" = None,
                 config: "str | os.PathLike[str] | None" = None,
                 validation_time: datetime | None = None) -> "Report":
    """Verify one file's bytes under ``policy`` (or the policy of the configuration file
    ``config``). For many files build one :class:`Verifier` and reuse it."""
    from ground.config import load_config
    from verifier.core import Verifier
    from ground.policy import Policy

    if policy is None:
        policy = Policy.from_config(load_config(config))
    return Verifier(policy).verify(data, name=name, validation_time=validation_time)


def __getattr__(name: str) -> Any:
    # The two sides are imported only when asked for: `import hocba` stays cheap and
    # the command line loads only what a command needs.
    if name == "Verifier":
        from verifier.core import Verifier

        return Verifier
    if name == "Policy":
        from ground.policy import Policy

        return Policy
    if name == "Report":
        from verifier.report import Report

        return Report
    if name == "sign_files":
        from signer.api import sign_files

        return sign_files
    raise AttributeError(f"module 'hocba' has no attribute {name!r}")
