"""The signing side's format registry: content detection (ground.formats) -> a signer
built once per batch.

Adding a format (JAdES, say) is one module with a class taking the batch's
:class:`~signer.context.SigningContext` and offering ``sign(data) -> bytes`` (and
``close()``), plus one line here.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ground.formats import PDF, XML
from signer.context import SigningContext


def _pades(ctx: SigningContext) -> Any:
    from signer.pades import PadesSigner

    return PadesSigner(ctx)


def _xades(ctx: SigningContext) -> Any:
    from signer.xades import XadesSigner

    return XadesSigner(ctx)


SIGNERS: dict[str, Callable[[SigningContext], Any]] = {
    PDF: _pades,
    XML: _xades,
}
