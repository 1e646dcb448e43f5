"""Secrets at rest: one cipher for every stored token (Slack installations, trackers).

Tokens are encrypted with Fernet under a key derived from ``OKR_SECRET_KEY``. Stored values
carry a prefix, so a value written before a key was set still reads back as itself (and
``okr secrets rotate`` encrypts it).

Key rotation uses cryptography's MultiFernet: ``OKR_SECRET_KEY`` is the current key (every
write uses it) and ``OKR_SECRET_KEY_OLD`` (comma-separated) lists keys still accepted for
reading while ``okr secrets rotate`` re-encrypts what they wrote.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import TYPE_CHECKING

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

if TYPE_CHECKING:
    from app.config import Settings

PREFIX = "enc:v1:"


class SecretKeyMissing(RuntimeError):
    """OAuth mode stores tokens, and tokens are never stored in the clear."""

    def __init__(self) -> None:
        super().__init__("OKR_SECRET_KEY is required with SLACK_CLIENT_ID/SLACK_CLIENT_SECRET "
                         "(OAuth stores each workspace's tokens, encrypted with it); set it to "
                         "a long random string")


def require_key(settings: Settings) -> None:
    """Raise :class:`SecretKeyMissing` when this process would keep OAuth tokens (the OAuth
    pair is set, or a client id without a single bot token) and no key is set."""
    oauth = settings.slack_client_id and (settings.slack_client_secret
                                          or not settings.slack_bot_token)
    if oauth and not settings.secret_key:
        raise SecretKeyMissing()


def fernet_for(secret: str) -> Fernet:
    """A Fernet key derived from the operator's secret (any length) with HKDF-SHA256."""
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"okr-checkin",
               info=b"slack-installation-tokens").derive(secret.encode())
    return Fernet(base64.urlsafe_b64encode(key))


class TokenCipher:
    """Encrypts with ``secret``; decrypts with it or any of ``old`` (during a rotation)."""

    def __init__(self, secret: str | None, old: Sequence[str] = ()) -> None:
        self._current = fernet_for(secret) if secret else None
        keys = ([self._current] if self._current else []) + [fernet_for(k) for k in old if k]
        self._any = MultiFernet(keys) if keys else None

    @classmethod
    def from_settings(cls, settings: Settings) -> TokenCipher:
        return cls(settings.secret_key, settings.secret_key_old)

    @property
    def enabled(self) -> bool:
        return self._current is not None

    def encrypt(self, value: str | None) -> str | None:
        if value is None or self._current is None or value.startswith(PREFIX):
            return value
        return PREFIX + self._current.encrypt(value.encode()).decode()

    def decrypt(self, value: str | None) -> str | None:
        if value is None or not value.startswith(PREFIX):
            return value
        if self._any is None:
            raise RuntimeError("tokens are encrypted but OKR_SECRET_KEY is not set")
        try:
            return self._any.decrypt(value[len(PREFIX):].encode()).decode()
        except InvalidToken as exc:
            raise RuntimeError("OKR_SECRET_KEY does not decrypt the stored tokens (a key "
                               "still in use belongs in OKR_SECRET_KEY_OLD)") from exc

    def is_current(self, value: str) -> bool:
        """Whether a stored value is encrypted with the current key."""
        if self._current is None or not value.startswith(PREFIX):
            return False
        try:
            self._current.decrypt(value[len(PREFIX):].encode())
        except InvalidToken:
            return False
        return True

    def rotate(self, value: str | None) -> str | None:
        """``value`` encrypted with the current key (unchanged if it already is)."""
        if self._current is None or self._any is None:
            raise SecretKeyMissing()
        if value is None or self.is_current(value):
            return value
        if not value.startswith(PREFIX):
            return self.encrypt(value)
        try:
            token = self._any.rotate(value[len(PREFIX):].encode())
        except InvalidToken as exc:
            raise RuntimeError("a stored secret is encrypted with a key that is neither "
                               "OKR_SECRET_KEY nor in OKR_SECRET_KEY_OLD") from exc
        return PREFIX + token.decode()
