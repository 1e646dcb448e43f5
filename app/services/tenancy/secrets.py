"""Secrets at rest: one cipher for every stored token (Slack installations, trackers).

Tokens are encrypted with Fernet under a key derived from ``OKR_SECRET_KEY``. Stored values
carry a prefix, so a value written before a key was set still reads back as itself.
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

PREFIX = "enc:v1:"


def fernet_for(secret: str) -> Fernet:
    """A Fernet key derived from the operator's secret (any length) with HKDF-SHA256."""
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"okr-checkin",
               info=b"slack-installation-tokens").derive(secret.encode())
    return Fernet(base64.urlsafe_b64encode(key))


class TokenCipher:
    def __init__(self, secret: str | None) -> None:
        self._fernet = fernet_for(secret) if secret else None

    @property
    def enabled(self) -> bool:
        return self._fernet is not None

    def encrypt(self, value: str | None) -> str | None:
        if value is None or self._fernet is None or value.startswith(PREFIX):
            return value
        return PREFIX + self._fernet.encrypt(value.encode()).decode()

    def decrypt(self, value: str | None) -> str | None:
        if value is None or not value.startswith(PREFIX):
            return value
        if self._fernet is None:
            raise RuntimeError("tokens are encrypted but OKR_SECRET_KEY is not set")
        try:
            return self._fernet.decrypt(value[len(PREFIX):].encode()).decode()
        except InvalidToken as exc:
            raise RuntimeError("OKR_SECRET_KEY does not decrypt the stored tokens") from exc
