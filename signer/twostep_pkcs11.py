"""Reference key holder: sign a prepared batch's digests on a PKCS#11 token, one login.

What a token app on the principal's PC does with the batch the school system
prepared (:class:`signer.twostep.PreparedBatch`): open the token once, check
that it holds the batch's certificate, sign every digest with the raw
mechanism (the digest was computed by the server), return the values.

- RSA PKCS#1 v1.5: ``CKM_RSA_PKCS`` over ``DigestInfo(digest)`` (RFC 8017 9.2);
- RSASSA-PSS: ``CKM_RSA_PKCS_PSS`` over the digest, MGF1 with the same hash,
  salt as long as the hash (the batch's mechanism parameters);
- ECDSA: ``CKM_ECDSA`` over the digest (value returned as raw ``r || s``).
"""
from __future__ import annotations

import hashlib
from typing import Any

from asn1crypto import algos

from ground.errors import HocbaError, UsageError
from signer.twostep import PreparedBatch

_CKM_HASH = {"sha256": "SHA256", "sha384": "SHA384", "sha512": "SHA512"}


def digest_info(digest: bytes, algorithm: str) -> bytes:
    """DER ``DigestInfo`` (RFC 8017 9.2 step 2): what CKM_RSA_PKCS signs for PKCS#1 v1.5."""
    return bytes(algos.DigestInfo({"digest_algorithm": {"algorithm": algorithm},
                                   "digest": digest}).dump())


def check_items(batch: PreparedBatch) -> None:
    """The digests are what the batch says they are (a corrupted file signs nothing)."""
    for item in batch.items:
        if item.digest_algorithm not in _CKM_HASH:
            raise UsageError("signer.twostep.pkcs11.digest_algorithm", name=item.name,
                             algorithm=item.digest_algorithm)
        if hashlib.new(item.digest_algorithm, item.tbs).digest() != item.digest:
            raise UsageError("signer.twostep.pkcs11.digest_mismatch", name=item.name)


def sign_digests_pkcs11(batch: PreparedBatch, module: str, token_label: str,
                        key_label: str | None, pin: str) -> dict[str, bytes]:
    """Sign every item of ``batch`` after ONE login; return {item id: raw value}."""
    import pkcs11
    from pkcs11 import MGF, Attribute, Mechanism, ObjectClass

    check_items(batch)
    try:
        lib = pkcs11.lib(module)
    except (OSError, RuntimeError, pkcs11.PKCS11Error) as e:
        raise UsageError("signer.twostep.pkcs11.module", module=module, detail=str(e)) from None
    try:
        token = lib.get_token(token_label=token_label)
    except pkcs11.NoSuchToken:
        raise HocbaError("signer.twostep.pkcs11.no_token", token=repr(token_label)) from None
    except pkcs11.PKCS11Error as e:
        raise HocbaError("signer.twostep.pkcs11.open", detail=type(e).__name__) from None
    try:
        session = token.open(user_pin=pin)
    except pkcs11.PinIncorrect:
        raise HocbaError("signer.twostep.pkcs11.pin") from None
    except pkcs11.PKCS11Error as e:
        raise HocbaError("signer.twostep.pkcs11.login", detail=type(e).__name__) from None
    with session:
        attrs: dict[Any, Any] = {Attribute.CLASS: ObjectClass.PRIVATE_KEY}
        if key_label:
            attrs[Attribute.LABEL] = key_label
        keys = list(session.get_objects(attrs))
        if len(keys) != 1:
            raise UsageError("signer.twostep.pkcs11.keys" if key_label
                             else "signer.twostep.pkcs11.keys_hint", count=len(keys))
        key: Any = keys[0]
        certs = [bytes(c[Attribute.VALUE]) for c in session.get_objects(
            {Attribute.CLASS: ObjectClass.CERTIFICATE})]
        if certs and batch.certificate not in certs:
            raise HocbaError("signer.twostep.pkcs11.wrong_token")
        mech = batch.mechanism()
        name = mech.signature_algo
        out: dict[str, bytes] = {}
        for item in batch.items:
            try:
                if name == "rsassa_pkcs1v15":
                    value = key.sign(digest_info(item.digest, item.digest_algorithm),
                                     mechanism=Mechanism.RSA_PKCS)
                elif name == "rsassa_pss":
                    params = mech["parameters"]
                    h = params["hash_algorithm"]["algorithm"].native
                    mgf_h = params["mask_gen_algorithm"]["parameters"]["algorithm"].native
                    value = key.sign(item.digest, mechanism=Mechanism.RSA_PKCS_PSS,
                                     mechanism_param=(getattr(Mechanism, _CKM_HASH[h]),
                                                      getattr(MGF, _CKM_HASH[mgf_h]),
                                                      int(params["salt_length"].native)))
                elif name == "ecdsa":
                    value = key.sign(item.digest, mechanism=Mechanism.ECDSA)
                else:
                    raise UsageError("signer.twostep.pkcs11.mechanism", mechanism=name)
            except pkcs11.PKCS11Error as e:
                raise HocbaError("signer.twostep.pkcs11.refused", name=item.name,
                                 detail=type(e).__name__) from None
            out[item.id] = bytes(value)
        return out
