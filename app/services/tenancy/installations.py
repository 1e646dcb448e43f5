"""OAuth installations on our database, with tokens encrypted at rest.

slack_sdk's SQLAlchemy stores keep tokens in plaintext. ``EncryptedInstallationStore`` wraps
every token column with Fernet (key derived from ``OKR_SECRET_KEY``) on the way in and out.
Stored values carry a prefix, so rows written before a key was set still read back (and
``okr secrets rotate`` encrypts them). The store refuses to exist without a key. The tables
themselves are part of our schema (app/models/slack.py, created by the migration).

Saving an installation (a reinstall) re-enables a workspace that uninstalled the app within
the retention period (app.services.tenancy.retention).
"""

from __future__ import annotations

import copy
import logging
from typing import Any

from slack_sdk.oauth.installation_store.models.bot import Bot
from slack_sdk.oauth.installation_store.models.installation import Installation
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import Engine

from app.config import Settings
from app.services.tenancy import retention
from app.services.tenancy.secrets import SecretKeyMissing, TokenCipher

log = logging.getLogger(__name__)

TOKEN_FIELDS = ("bot_token", "bot_refresh_token", "user_token", "user_refresh_token")
STATE_EXPIRATION_SECONDS = 600


def _transform(obj: Any, fn: Any) -> Any:
    out = copy.copy(obj)
    for name in TOKEN_FIELDS:
        if hasattr(out, name):
            setattr(out, name, fn(getattr(out, name)))
    return out


class EncryptedInstallationStore(SQLAlchemyInstallationStore):
    def __init__(self, client_id: str, engine: Engine, cipher: TokenCipher) -> None:
        super().__init__(client_id=client_id, engine=engine, logger=log)
        self.cipher = cipher

    def save(self, installation: Installation) -> None:
        super().save(_transform(installation, self.cipher.encrypt))
        if installation.team_id:
            retention.reenable(self.engine, team_id=installation.team_id)

    def save_bot(self, bot: Bot) -> None:
        super().save_bot(_transform(bot, self.cipher.encrypt))

    def find_bot(self, *, enterprise_id: str | None, team_id: str | None,
                 is_enterprise_install: bool | None = False) -> Bot | None:
        bot = super().find_bot(enterprise_id=enterprise_id, team_id=team_id,
                               is_enterprise_install=is_enterprise_install)
        return None if bot is None else _transform(bot, self.cipher.decrypt)

    def find_installation(self, *, enterprise_id: str | None, team_id: str | None,
                          user_id: str | None = None,
                          is_enterprise_install: bool | None = False) -> Installation | None:
        found = super().find_installation(enterprise_id=enterprise_id, team_id=team_id,
                                          user_id=user_id,
                                          is_enterprise_install=is_enterprise_install)
        return None if found is None else _transform(found, self.cipher.decrypt)


def installation_store(settings: Settings, engine: Engine) -> EncryptedInstallationStore:
    """The OAuth installation store; refuses to exist without ``OKR_SECRET_KEY``."""
    if not settings.secret_key:
        raise SecretKeyMissing()
    return EncryptedInstallationStore(str(settings.slack_client_id), engine,
                                      TokenCipher.from_settings(settings))


def state_store(engine: Engine) -> SQLAlchemyOAuthStateStore:
    return SQLAlchemyOAuthStateStore(expiration_seconds=STATE_EXPIRATION_SECONDS, engine=engine,
                                     logger=log)
