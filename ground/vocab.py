"""Vocabulary shared by the signing and verification sides.

Roles, their signing order, ETSI EN 319 102-1 indications and sub-indications,
AdES levels; their labels come from the catalog (:mod:`ground.i18n`). Both ``signer`` and
``verifier`` import this module; neither reaches into the other.
"""
from __future__ import annotations

import enum
import unicodedata


class Role(enum.StrEnum):
    """Who signs a record book, in the order they must sign."""

    SUBJECT_TEACHER = "subject_teacher"
    TEACHER = "teacher"
    PRINCIPAL = "principal"
    SEAL = "seal"

    @property
    def rank(self) -> int:
        return ROLE_ORDER.index(self)

    def label(self, lang: str = "vi") -> str:
        """The role as people say it (catalog ``role.<value>``)."""
        from ground.i18n import t

        return t("role." + self.value, lang)

    @classmethod
    def parse(cls, value: str) -> "Role":
        try:
            return cls(value.strip().lower())
        except ValueError:
            raise ValueError(
                f"unknown role {value!r} (expected one of: {', '.join(r.value for r in cls)})"
            ) from None


ROLE_ORDER: tuple[Role, ...] = (Role.SUBJECT_TEACHER, Role.TEACHER, Role.PRINCIPAL, Role.SEAL)



class Indication(str, enum.Enum):
    """ETSI EN 319 102-1 main status indications."""

    TOTAL_PASSED = "TOTAL_PASSED"
    TOTAL_FAILED = "TOTAL_FAILED"
    INDETERMINATE = "INDETERMINATE"

    @property
    def severity(self) -> int:
        return {"TOTAL_PASSED": 0, "INDETERMINATE": 1, "TOTAL_FAILED": 2}[self.value]

    def label(self, lang: str = "vi") -> str:
        """The verdict in words (catalog ``indication.<VALUE>``)."""
        from ground.i18n import t

        return t("indication." + self.value, lang)

    @staticmethod
    def worst(*items: "Indication") -> "Indication":
        return max(items, key=lambda i: i.severity, default=Indication.TOTAL_PASSED)


class SubIndication(str, enum.Enum):
    """ETSI EN 319 102-1 sub-indications (clause 5.1.3)."""

    # TOTAL_FAILED
    FORMAT_FAILURE = "FORMAT_FAILURE"
    HASH_FAILURE = "HASH_FAILURE"
    SIG_CRYPTO_FAILURE = "SIG_CRYPTO_FAILURE"
    REVOKED = "REVOKED"
    SIG_CONSTRAINTS_FAILURE = "SIG_CONSTRAINTS_FAILURE"
    NOT_YET_VALID = "NOT_YET_VALID"
    # INDETERMINATE
    CHAIN_CONSTRAINTS_FAILURE = "CHAIN_CONSTRAINTS_FAILURE"
    CERTIFICATE_CHAIN_GENERAL_FAILURE = "CERTIFICATE_CHAIN_GENERAL_FAILURE"
    CRYPTO_CONSTRAINTS_FAILURE = "CRYPTO_CONSTRAINTS_FAILURE"
    EXPIRED = "EXPIRED"
    POLICY_PROCESSING_ERROR = "POLICY_PROCESSING_ERROR"
    SIGNATURE_POLICY_NOT_AVAILABLE = "SIGNATURE_POLICY_NOT_AVAILABLE"
    TIMESTAMP_ORDER_FAILURE = "TIMESTAMP_ORDER_FAILURE"
    NO_SIGNING_CERTIFICATE_FOUND = "NO_SIGNING_CERTIFICATE_FOUND"
    NO_CERTIFICATE_CHAIN_FOUND = "NO_CERTIFICATE_CHAIN_FOUND"
    REVOKED_NO_POE = "REVOKED_NO_POE"
    REVOKED_CA_NO_POE = "REVOKED_CA_NO_POE"
    OUT_OF_BOUNDS_NO_POE = "OUT_OF_BOUNDS_NO_POE"
    OUT_OF_BOUNDS_NOT_REVOKED = "OUT_OF_BOUNDS_NOT_REVOKED"
    REVOCATION_OUT_OF_BOUNDS_NO_POE = "REVOCATION_OUT_OF_BOUNDS_NO_POE"
    CRYPTO_CONSTRAINTS_FAILURE_NO_POE = "CRYPTO_CONSTRAINTS_FAILURE_NO_POE"
    NO_POE = "NO_POE"
    TRY_LATER = "TRY_LATER"
    SIGNED_DATA_NOT_FOUND = "SIGNED_DATA_NOT_FOUND"
    GENERIC = "GENERIC"


class Coverage(enum.StrEnum):
    """What a signature covers (CONTRACT 6 ``coverage``)."""

    ENTIRE_FILE = "entire_file"
    ENTIRE_REVISION = "entire_revision"
    PARTIAL = "partial"


class Modifications(enum.StrEnum):
    """What changed after a signature (CONTRACT 6 ``modifications_after``): nothing; only
    signatures, timestamps and validation data; form filling the signer permitted (not a
    record book); anything else."""

    NONE = "none"
    SIGNATURES_ONLY = "signatures_only"
    FORM_FILLING = "form_filling"
    OTHER = "other"


class Level(str, enum.Enum):
    """AdES baseline levels (ETSI EN 319 142-1 / EN 319 132-1)."""

    B_B = "B-B"
    B_T = "B-T"
    B_LT = "B-LT"
    B_LTA = "B-LTA"

    @property
    def rank(self) -> int:
        return [Level.B_B, Level.B_T, Level.B_LT, Level.B_LTA].index(self)



# Namespace of the project's record-book schema (records/) and the OID arc used
# to declare a signer's role inside CMS/XAdES signed attributes.
RECORD_NS = "urn:hocba:hocbaso:1"
TITLE_OID = "2.5.4.12"


def nfc(text: str) -> str:
    """Unicode NFC, the only normalisation form used for Vietnamese text here."""
    return unicodedata.normalize("NFC", text)
