"""What a format module gets and gives back: the evaluation context of one file and the
format's result. Kept apart from :mod:`verifier.core` so format modules do not import
the core that dispatches to them (no import cycle)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ground.policy import Policy
from verifier.report import Check, SignatureReport
from ground.judge import TrustEngine


@dataclass(frozen=True)
class EvalContext:
    """What a format module needs for one file: policy, trust engine, validation time.

    ``explicit_time`` is True when the caller asked for a past moment
    (``--validation-time``); then nothing is fetched online (the network can only
    say what is true now) and only embedded or cached revocation data is used.
    """

    policy: Policy
    trust: TrustEngine
    validation_time: datetime
    explicit_time: bool = False
    name: str = ""


@dataclass(frozen=True)
class FormatResult:
    """What a format module returns: its signatures in signing order, and its checks.

    ``order_groups``: indices into ``signatures`` that each must follow the role
    order teacher → principal → seal (e.g. one group per school-year block of an
    XML record); ``None`` means all signatures form one sequence.

    ``vouches``: per signature, whether it vouches for the record - covers what
    the record is (XML record book: the identity block and a year block; other
    XML: all content outside the signatures); ``None`` for a signature whose
    coverage could not be established. Only vouching signatures satisfy
    ``required_roles`` and take part in ``signing_order``. ``vouches=None``: every
    signature does (PDF: each signature covers its revision).

    ``group_labels``: when given (one per ``order_groups`` entry, e.g. the school
    year), the required roles are checked per group: every group needs a
    TOTAL_PASSED signature for each required role.
    """

    format: str  # "pdf" | "xml"
    signatures: tuple[SignatureReport, ...]
    checks: tuple[Check, ...] = ()
    record: dict[str, str] | None = None
    order_groups: tuple[tuple[int, ...], ...] | None = None
    vouches: tuple[bool | None, ...] | None = None
    group_labels: tuple[str, ...] | None = None
    # Signing order evidence (CONTRACT 6): ``None`` - the signatures are listed in the
    # order they were made, proven by the format (PDF revisions); otherwise the pairs
    # (a, b), indices into ``signatures``, where a is proven to precede b (XML:
    # coverage of earlier signature values, trusted timestamps). Pairs absent from it
    # are not ordered by any evidence.
    precedes: frozenset[tuple[int, int]] | None = None
    # Coverage (CONTRACT 8, seal vouching): pairs (a, b) where signature b's signed
    # content covers signature a. ``None``: every signature covers all earlier ones
    # (PDF: a later revision's byte range covers the whole earlier file).
    covers: frozenset[tuple[int, int]] | None = None
    extras: dict[str, Any] = field(default_factory=dict)
