"""The shared ground: what the signing and the verification sides both use.

Vocabulary and roles, the declared-role codec, the hardened XML parser, the
configuration, certificate loading and format detection. ``signer`` and ``verifier``
import this package; it imports neither (checked by ``tests/test_architecture.py``).
"""

__version__ = "0.1.0"
