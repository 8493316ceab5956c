"""Person codes sealed on the phone for the server alone.

A contact waiting in a phone's outbox carries its person code sealed with the server's
public key (ECIES: an ephemeral P-256 key agreed with the server's by ECDH, HKDF-SHA-256,
AES-256-GCM; WebCrypto on the phone, `cryptography` here). Only the server, which derives
the private key from `PSEUDONYM_KEY`, can open it: a copy of the phone's storage, keys
included, does not give the code. The envelope is text, in the API's `person_code` field:
`sealed:v1:` then base64url of the ephemeral public key (65 bytes, uncompressed), the
nonce (12 bytes) and the ciphertext with its tag.
"""

from __future__ import annotations

import base64
import binascii
import os
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

SEALED_PREFIX = "sealed:v1:"
_KEY_INFO = b"person-code-seal:v1"  # derives the server's private key from PSEUDONYM_KEY
_SEAL_INFO = b"maraudes person code v1"  # derives each envelope's AES key
_SALT = bytes(32)
_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
_POINT_BYTES = 65
_NONCE_BYTES = 12


@lru_cache(maxsize=4)
def _private_key(pseudonym_key: str) -> ec.EllipticCurvePrivateKey:
    seed = HKDF(hashes.SHA256(), 48, salt=_SALT, info=_KEY_INFO).derive(pseudonym_key.encode())
    scalar = int.from_bytes(seed, "big") % (_P256_ORDER - 1) + 1
    return ec.derive_private_key(scalar, ec.SECP256R1())


@lru_cache(maxsize=4)
def public_key(pseudonym_key: str) -> str:
    """The key phones seal codes with (base64url of the uncompressed point)."""
    point = (
        _private_key(pseudonym_key)
        .public_key()
        .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    )
    return base64.urlsafe_b64encode(point).decode().rstrip("=")


def is_sealed(value: object) -> bool:
    return isinstance(value, str) and value.startswith(SEALED_PREFIX)


def unseal(value: str, pseudonym_key: str) -> str | None:
    """The code inside an envelope, or None when it cannot be opened."""
    text = value[len(SEALED_PREFIX) :]
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        point, nonce = raw[:_POINT_BYTES], raw[_POINT_BYTES : _POINT_BYTES + _NONCE_BYTES]
        sealed = raw[_POINT_BYTES + _NONCE_BYTES :]
        phone_key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
        shared = _private_key(pseudonym_key).exchange(ec.ECDH(), phone_key)
        key = HKDF(hashes.SHA256(), 32, salt=_SALT, info=_SEAL_INFO).derive(shared)
        return AESGCM(key).decrypt(nonce, sealed, None).decode()
    except (ValueError, InvalidTag, binascii.Error, UnicodeDecodeError):
        return None


def seal(code: str, server_public_key: str) -> str:
    """What a phone does with WebCrypto (static/js/outbox.js), for the tests."""
    server = ec.EllipticCurvePublicKey.from_encoded_point(
        ec.SECP256R1(),
        base64.urlsafe_b64decode(server_public_key + "=" * (-len(server_public_key) % 4)),
    )
    ephemeral = ec.generate_private_key(ec.SECP256R1())
    shared = ephemeral.exchange(ec.ECDH(), server)
    key = HKDF(hashes.SHA256(), 32, salt=_SALT, info=_SEAL_INFO).derive(shared)
    nonce = os.urandom(_NONCE_BYTES)
    point = ephemeral.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    envelope = point + nonce + AESGCM(key).encrypt(nonce, code.encode(), None)
    return SEALED_PREFIX + base64.urlsafe_b64encode(envelope).decode().rstrip("=")
