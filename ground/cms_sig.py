"""Signature-value verification for CMS (PAdES, timestamps) on pyhanko-certvalidator.

pyhanko-certvalidator's :class:`DefaultSignatureValidator`, plus:

* ECDSA "plain" signatures (BSI TR-03111, OIDs 0.4.0.127.0.7.1.1.4.1.x: the value
  is r || s, not a DER SEQUENCE) as written by German and Slovak signature cards:
  re-encoded as DER and verified as ordinary ECDSA;
* an algorithm it cannot verify at all (ML-DSA, DSA without parameters, ...) is not
  a wrong signature: it raises :class:`UnsupportedAlgorithm`, so the verifier says
  "could not be checked" (integrity null, INDETERMINATE) instead of "forged".
"""
from __future__ import annotations

from asn1crypto import algos, keys
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from pyhanko_certvalidator.errors import AlgorithmNotSupported, DSAParametersUnavailable
from pyhanko_certvalidator.sig_validate import (DEFAULT_VALIDATION_CONTEXT,
                                                DefaultSignatureValidator,
                                                SignatureValidationContext)

# BSI TR-03111 5.2.1 ecdsa-plain-signatures
PLAIN_ECDSA: dict[str, str] = {
    "0.4.0.127.0.7.1.1.4.1.1": "sha1_ecdsa",
    "0.4.0.127.0.7.1.1.4.1.2": "sha224_ecdsa",
    "0.4.0.127.0.7.1.1.4.1.3": "sha256_ecdsa",
    "0.4.0.127.0.7.1.1.4.1.4": "sha384_ecdsa",
    "0.4.0.127.0.7.1.1.4.1.5": "sha512_ecdsa",
    "0.4.0.127.0.7.1.1.4.1.8": "sha3_224_ecdsa",
    "0.4.0.127.0.7.1.1.4.1.9": "sha3_256_ecdsa",
    "0.4.0.127.0.7.1.1.4.1.10": "sha3_384_ecdsa",
    "0.4.0.127.0.7.1.1.4.1.11": "sha3_512_ecdsa",
}

PLAIN_ECDSA_DIGESTS: dict[str, str] = {
    oid: name.rsplit("_ecdsa", 1)[0] for oid, name in PLAIN_ECDSA.items()}


class UnsupportedAlgorithm(Exception):
    """The signature algorithm cannot be verified here (neither valid nor invalid)."""


class HocbaSignatureValidator(DefaultSignatureValidator):
    def validate_signature(
        self,
        signature: bytes,
        signed_data: bytes,
        public_key_info: keys.PublicKeyInfo,
        signature_algorithm: algos.SignedDigestAlgorithm,
        context: SignatureValidationContext = DEFAULT_VALIDATION_CONTEXT,
    ) -> None:
        oid = signature_algorithm["algorithm"].dotted
        if oid in PLAIN_ECDSA:
            if len(signature) % 2 or not signature:
                from cryptography.exceptions import InvalidSignature

                raise InvalidSignature("plain ECDSA value of odd length")
            half = len(signature) // 2
            signature = encode_dss_signature(int.from_bytes(signature[:half], "big"),
                                             int.from_bytes(signature[half:], "big"))
            signature_algorithm = algos.SignedDigestAlgorithm(
                {"algorithm": PLAIN_ECDSA[oid]})
        try:
            super().validate_signature(signature, signed_data, public_key_info,
                                       signature_algorithm, context)
        except (AlgorithmNotSupported, DSAParametersUnavailable) as e:
            raise UnsupportedAlgorithm(str(e) or oid) from None
        except (ValueError, NotImplementedError) as e:  # unknown OIDs: asn1crypto ValueError
            raise UnsupportedAlgorithm(str(e)[:120] or oid) from None


SIGNATURE_VALIDATOR = HocbaSignatureValidator()


_VERIFIABLE = frozenset({"rsassa_pkcs1v15", "rsassa_pss", "ecdsa", "dsa", "ed25519", "ed448"})


def unsupported_signature_algorithm(signature_algorithm: algos.SignedDigestAlgorithm
                                    ) -> str | None:
    """The algorithm's name when no validator here can check it (ML-DSA, an unknown OID),
    else None. Checked up front: pyHanko fails on unknown OIDs in several ways."""
    oid = str(signature_algorithm["algorithm"].dotted)
    if oid in PLAIN_ECDSA:
        return None
    try:
        name = str(signature_algorithm.signature_algo)
    except Exception:  # noqa: BLE001 - asn1crypto: unknown OID
        return oid
    return None if name in _VERIFIABLE else str(name)
