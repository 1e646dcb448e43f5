"""``okr secrets rotate``: re-encrypt every stored secret with the current key.

``STORED_SECRETS`` is the registry of encrypted columns: a table that keeps a secret adds one
line here and rotation covers it. Every value is read with any accepted key (``OKR_SECRET_KEY``
or one of ``OKR_SECRET_KEY_OLD``) and written back with ``OKR_SECRET_KEY``; values already
under the current key are left alone, so running it twice changes nothing the second time.
Values stored in the clear (before a key was set) are encrypted.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.models.base import Base
from app.services.tenancy.secrets import PREFIX, TokenCipher

# (table, primary key column, encrypted columns)
STORED_SECRETS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("slack_installations", "id",
     ("bot_token", "bot_refresh_token", "user_token", "user_refresh_token")),
    ("slack_bots", "id", ("bot_token", "bot_refresh_token")),
    ("tracker_connections", "id", ("token", "webhook_secret")),
)


@dataclass
class Rotation:
    """Per table: values re-encrypted (``rotated``), encrypted from clear text
    (``encrypted``) and already under the current key (``current``)."""

    counts: dict[str, Counter[str]] = field(default_factory=dict)

    def total(self, kind: str) -> int:
        return sum(c[kind] for c in self.counts.values())


def rotate(*, session: Session, cipher: TokenCipher) -> Rotation:
    """Re-encrypt every registered column of every row (one transaction: all or nothing)."""
    report = Rotation()
    for table_name, pk, columns in STORED_SECRETS:
        table = Base.metadata.tables[table_name]
        counts: Counter[str] = Counter()
        rows = session.execute(select(table.c[pk], *(table.c[c] for c in columns))).all()
        for row in rows:
            changes: dict[str, str | None] = {}
            for name, value in zip(columns, row[1:], strict=True):
                if value is None:
                    continue
                kind = _kind(cipher, value)
                counts[kind] += 1
                if kind != "current":
                    changes[name] = cipher.rotate(value)
            if changes:
                session.execute(update(table).where(table.c[pk] == row[0]).values(**changes))
        report.counts[table_name] = counts
    return report


def _kind(cipher: TokenCipher, value: str) -> str:
    if cipher.is_current(value):
        return "current"
    return "rotated" if value.startswith(PREFIX) else "encrypted"
