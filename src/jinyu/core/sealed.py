"""Values kept only encrypted at rest (AES-256-GCM): rows a provider sent that the hub could not accept.

The 256-bit key is derived from a secret (`Settings.key("quarantine_key")`: the environment, or a file under
the data dir's `keys/`, mode 0600) with SHA-256 under a label of its own, so the secret is never used twice.
Each value is sealed with a random 96-bit nonce and bound to its place by associated data (dataset, load,
row number): a sealed cell moved to another row or load does not open.
"""

from __future__ import annotations

import base64
import hashlib
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from jinyu.core.errors import JinyuError

VERSION = "v1"
_LABEL = b"jinyu/quarantine-row/aes-256-gcm\x1f"


class SealBroken(JinyuError):
    status = 500
    code = "seal_broken"
    title = "密文无法解开 / Sealed value cannot be opened"


class Sealer:
    def __init__(self, secret: bytes) -> None:
        if len(secret) < 32:
            raise ValueError("sealing secret must be at least 32 bytes")
        self._aead = AESGCM(hashlib.sha256(_LABEL + secret).digest())

    def seal(self, plain: bytes, context: str) -> str:
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, plain, context.encode())
        return f"{VERSION}.{base64.urlsafe_b64encode(nonce + sealed).decode()}"

    def open(self, token: str, context: str) -> bytes:
        version, _, body = token.partition(".")
        try:
            if version != VERSION:
                raise ValueError(version)
            raw = base64.urlsafe_b64decode(body.encode())
            return self._aead.decrypt(raw[:12], raw[12:], context.encode())
        except (InvalidTag, ValueError) as exc:
            raise SealBroken(
                detail="密钥不符或内容被改动 / wrong key, or the sealed value was altered"
            ) from exc
