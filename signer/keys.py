"""Key sources, opened once per batch into a pyHanko :class:`Signer`.

- PKCS#12 (``--key FILE.p12``): decrypted once; the private key object is kept
  (pyHanko's ``SimpleSigner.sign_raw`` re-parses the key for every signature).
- PKCS#11 (``--pkcs11-module LIB --token-label L [--key-label K]``): one
  session, one login for the whole batch (pyHanko ``PKCS11Signer``).

Both carry the signer's chain in ``cert_registry`` so it is embedded in every
signature. RSA signs with PKCS#1 v1.5 unless ``[signing] rsa_padding = "pss"``
(RSASSA-PSS, SHA-256, MGF1-SHA-256, 32-byte salt); ECDSA keys sign with ECDSA.
"""
from __future__ import annotations

import getpass
import os
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from asn1crypto import algos, x509 as asn1_x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from pyhanko.sign import signers
from pyhanko_certvalidator.registry import SimpleCertificateStore

from ground.config import Config
from ground.errors import HocbaError, UsageError
from ground.i18n import cli_lang, t

PIN_ENV = "HOCBA_PIN"

_HASHES: dict[str, Callable[[], hashes.HashAlgorithm]] = {
    "sha256": hashes.SHA256, "sha384": hashes.SHA384, "sha512": hashes.SHA512}


@dataclass(frozen=True)
class KeySource:
    """Where the signing key lives. Exactly one of ``p12`` / ``pkcs11_module``."""

    p12: Path | None = None
    pkcs11_module: str | None = None
    token_label: str | None = None
    key_label: str | None = None

    def describe(self) -> str:
        if self.p12 is not None:
            return str(self.p12)
        return f"PKCS#11 {self.pkcs11_module} token {self.token_label!r}"

    def check(self) -> None:
        if (self.p12 is None) == (self.pkcs11_module is None):
            raise UsageError("signer.keys.one_source")
        if self.pkcs11_module is not None and not self.token_label:
            raise UsageError("signer.keys.token_label_required")
        if self.pkcs11_module is not None and not Path(self.pkcs11_module).is_file():
            raise UsageError("signer.keys.module_not_found", module=self.pkcs11_module)


def read_pin(source: KeySource) -> str:
    """PIN from ``$HOCBA_PIN``, else asked once on a terminal, else a usage error."""
    env = os.environ.get(PIN_ENV)
    if env is not None:
        return env
    if sys.stdin.isatty():
        try:
            return getpass.getpass(t("signer.keys.pin_prompt", cli_lang(),
                                     source=source.describe()))
        except (EOFError, KeyboardInterrupt):
            raise UsageError("signer.keys.no_pin_entered") from None
    raise UsageError("signer.keys.no_pin", env=PIN_ENV)


def pss_mechanism(digest: str) -> algos.SignedDigestAlgorithm:
    salt = {"sha256": 32, "sha384": 48, "sha512": 64}[digest]
    return algos.SignedDigestAlgorithm({
        "algorithm": "rsassa_pss",
        "parameters": algos.RSASSAPSSParams({
            "hash_algorithm": algos.DigestAlgorithm({"algorithm": digest}),
            "mask_gen_algorithm": algos.MaskGenAlgorithm({
                "algorithm": "mgf1",
                "parameters": algos.DigestAlgorithm({"algorithm": digest}),
            }),
            "salt_length": salt,
            "trailer_field": "trailer_field_bc",
        }),
    })


class CachedKeySigner(signers.SimpleSigner):
    """A ``SimpleSigner`` that keeps the parsed private key (loaded once per batch)."""

    def __init__(self, private_key: Any, signing_cert: asn1_x509.Certificate,
                 cert_registry: SimpleCertificateStore,
                 signature_mechanism: algos.SignedDigestAlgorithm | None = None) -> None:
        from pyhanko.keys.internal import translate_pyca_cryptography_key_to_asn1

        super().__init__(signing_cert=signing_cert,
                         signing_key=translate_pyca_cryptography_key_to_asn1(private_key),
                         cert_registry=cert_registry, signature_mechanism=signature_mechanism)
        self.private_key = private_key

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        key = self.private_key
        h = _HASHES[digest_algorithm]()
        if isinstance(key, rsa.RSAPrivateKey):
            mech = self.get_signature_mechanism_for_digest(digest_algorithm)
            if mech["algorithm"].native == "rsassa_pss":
                salt = int(mech["parameters"]["salt_length"].native)
                return key.sign(data, padding.PSS(padding.MGF1(h), salt), h)
            return key.sign(data, padding.PKCS1v15(), h)
        if isinstance(key, ec.EllipticCurvePrivateKey):
            return key.sign(data, ec.ECDSA(h))
        return super().sign_raw(data, digest_algorithm)


def _asn1_cert(cert: Any) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


class WrongPin(HocbaError):
    """The key (PKCS#12 file or token) refused the PIN: nothing was signed (exit 1)."""


def _is_pkcs12(data: bytes) -> bool:
    """Whether ``data`` is a PKCS#12 PFX at all (its outer structure is not encrypted)."""
    from asn1crypto import pkcs12 as asn1_pkcs12

    try:
        pfx = asn1_pkcs12.Pfx.load(data, strict=True)
        return bool(pfx["version"].native == "v3" and pfx["auth_safe"]["content_type"].native)
    except (ValueError, TypeError, KeyError):
        return False


class _Pkcs12Preload:
    """A PKCS#12 file decrypted in a thread (its key derivation releases the GIL) while the
    process goes on importing: :func:`load_pkcs12_signer` takes the result, or the error,
    if it is for the same file content and PIN, and checks it as its own."""

    def __init__(self, path: Path, pin: str) -> None:
        self.path, self.pin = path, pin
        self.data: bytes | None = None
        self.result: Any = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="hocba-p12", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            self.data = self.path.read_bytes()
            self.result = pkcs12.load_key_and_certificates(self.data, self.pin.encode())
        except BaseException as e:  # handed to load_pkcs12_signer
            self.error = e


_preloads: list[_Pkcs12Preload] = []


def preload_pkcs12(path: Path, pin: str) -> None:
    """Start decrypting ``path`` now; the next :func:`load_pkcs12_signer` of it uses it."""
    _preloads.append(_Pkcs12Preload(path, pin))


def _decrypt_pkcs12(path: Path, data: bytes, pin: str) -> Any:
    while _preloads:
        pre = _preloads.pop()
        pre.thread.join()
        if pre.path == path and pre.pin == pin and pre.data == data:
            if pre.error is not None:
                if isinstance(pre.error, ValueError):
                    raise pre.error
                break  # anything else: decrypt again here, and fail here
            return pre.result
    return pkcs12.load_key_and_certificates(data, pin.encode())


def load_pkcs12_signer(path: Path, pin: str, config: Config) -> CachedKeySigner:
    try:
        data = path.read_bytes()
    except OSError as e:
        raise UsageError("signer.keys.cannot_read", path=path,
                         detail=e.strerror or str(e)) from None
    try:
        key, cert, extra = _decrypt_pkcs12(path, data, pin)
    except ValueError:
        if not _is_pkcs12(data):  # the file given is wrong: a usage/input error (exit 2)
            raise UsageError("signer.keys.not_pkcs12", path=path) from None
        # The key refused to open: the operation failed (exit 1), as a token's wrong PIN
        # and a certificate refused for the role (hocba/exitcodes.py).
        raise WrongPin("signer.keys.wrong_pin", path=path) from None
    if key is None or cert is None:
        raise UsageError("signer.keys.empty_pkcs12", path=path)
    registry = SimpleCertificateStore()  # type: ignore[no-untyped-call]  # unannotated __init__
    registry.register_multiple([_asn1_cert(c) for c in extra])
    mech = None
    if isinstance(key, rsa.RSAPrivateKey):
        if config.signing.rsa_padding == "pss":
            mech = pss_mechanism(config.signing.digest)
        else:
            mech = algos.SignedDigestAlgorithm({"algorithm": f"{config.signing.digest}_rsa"})
    elif isinstance(key, ec.EllipticCurvePrivateKey):
        mech = algos.SignedDigestAlgorithm({"algorithm": f"{config.signing.digest}_ecdsa"})
    return CachedKeySigner(key, _asn1_cert(cert), registry, mech)


class Pkcs11Handle:
    """An open PKCS#11 session (one login) and the signer bound to it."""

    def __init__(self, session: Any, signer: signers.Signer) -> None:
        self.session = session
        self.signer = signer

    def close(self) -> None:
        try:
            self.session.close()
        except Exception:  # pragma: no cover - token already gone
            pass


def open_pkcs11_signer(source: KeySource, pin: str, config: Config) -> Pkcs11Handle:
    import pkcs11
    from pyhanko.sign.pkcs11 import PKCS11Signer, open_pkcs11_session
    from pyhanko.config.pkcs11 import TokenCriteria

    try:
        session = open_pkcs11_session(str(source.pkcs11_module),
                                      token_criteria=TokenCriteria(label=source.token_label),
                                      user_pin=pin)
    except pkcs11.PinIncorrect:
        raise WrongPin("signer.keys.wrong_token_pin") from None
    except pkcs11.PKCS11Error as e:
        raise HocbaError("signer.keys.cannot_open_token", token=repr(source.token_label),
                         module=source.pkcs11_module, detail=type(e).__name__) from None
    except (OSError, RuntimeError) as e:
        raise UsageError("signer.keys.cannot_load_module", module=source.pkcs11_module,
                         detail=str(e)) from None
    label = source.key_label
    if label is None:
        # python-pkcs11 objects expose attributes (``.label``) dynamically.
        keys: list[Any] = list(
            session.get_objects({pkcs11.Attribute.CLASS: pkcs11.ObjectClass.PRIVATE_KEY}))
        if len(keys) != 1:
            session.close()
            raise UsageError("signer.keys.key_label_required", count=len(keys),
                             s="" if len(keys) == 1 else "s")
        label = keys[0].label
    # PKCS11Signer finds the certificate with the same label and pulls the other
    # certificates on the token (the chain) into its registry.
    signer = PKCS11Signer(session, cert_label=label, key_label=label,
                          prefer_pss=config.signing.rsa_padding == "pss",
                          other_certs_to_pull=None)
    try:
        _ = signer.signing_cert
    except Exception as e:
        session.close()
        raise HocbaError("signer.keys.key_not_found", label=repr(label), detail=str(e)) from None
    return Pkcs11Handle(session, signer)
