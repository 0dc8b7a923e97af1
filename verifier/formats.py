"""The verifier's format registry: content detection (ground.formats) -> evaluation.

Adding a format (JAdES, say) is one module with ``evaluate_<fmt>(data, ctx) ->
FormatResult`` and one line here (plus its detection in ``ground.formats``).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ground.formats import PDF, XML
from verifier.context import EvalContext, FormatResult


@dataclass(frozen=True)
class VerifierFormat:
    name: str
    evaluate: Callable[[bytes, EvalContext], FormatResult]


def _pdf(data: bytes, ctx: EvalContext) -> FormatResult:
    from verifier.pdf import evaluate_pdf

    return evaluate_pdf(data, ctx)


def _xml(data: bytes, ctx: EvalContext) -> FormatResult:
    from verifier.xml import evaluate_xml

    return evaluate_xml(data, ctx)


FORMATS: dict[str, VerifierFormat] = {
    PDF: VerifierFormat(PDF, _pdf),
    XML: VerifierFormat(XML, _xml),
}
