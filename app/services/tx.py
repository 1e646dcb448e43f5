"""The unit of work as code outside the services sees it.

Slack listeners, the web app and the CLI open one transaction per request and hand it to
service functions; they never look inside it. ``Tx`` names that handle in type hints (it is
a SQLAlchemy session, which only services use as one) and ``SessionFactory`` the factory it
comes from.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TypeAlias

from sqlalchemy.orm import Session, sessionmaker

from app.db import unit_of_work

Tx: TypeAlias = Session
SessionFactory: TypeAlias = "sessionmaker[Session]"


@contextmanager
def transaction(factory: SessionFactory) -> Iterator[Tx]:
    """One transaction: commits when the block ends, rolls back when it raises."""
    with unit_of_work(factory) as tx:
        yield tx


def discard(tx: Tx) -> None:
    """Undo what the transaction did so far (the block still ends normally)."""
    tx.rollback()
