"""Changing a stored tracker connection in place: the webhook secret the tracker signs with,
and (Linear) whether a canceled issue counts as done.

Linear generates a webhook's signing secret itself, so the secret ``okr tracker add`` printed
is replaced by the one Linear shows once the webhook exists. A changed setting applies to the
next webhook or reconciliation; links already read keep their state until then.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import Settings
from app.models import TrackerConnection
from app.services import audit
from app.services.errors import InvalidValue, NotFound
from app.services.links import linear_ids
from app.services.links.connections import MAX_SECRET
from app.services.tenancy.secrets import TokenCipher


def _one(session: Session, workspace_id: int, ref: str) -> TrackerConnection:
    text = ref.strip().lower()
    rows = [r for r in session.scalars(select(TrackerConnection).where(
        TrackerConnection.workspace_id == workspace_id)) if str(r.id) == text or r.host == text]
    if not rows:
        raise NotFound(f"no tracker connection {ref[:100]!r} in this workspace "
                       "(`okr tracker list` shows them)")
    if len(rows) > 1:
        raise InvalidValue(f"{ref[:100]!r} names several connections: give the id")
    return rows[0]


def update(*, session: Session, settings: Settings, workspace_id: int, ref: str,
           now: datetime, actor_label: str, webhook_secret: str | None = None,
           canceled_done: bool | None = None) -> TrackerConnection:
    """Set what is given (None leaves it); audited without the secret's value."""
    row = _one(session, workspace_id, ref)
    changed: dict[str, object] = {}
    before: dict[str, object] = {}
    if webhook_secret is not None:
        text = webhook_secret.strip()
        if not text or len(text) > MAX_SECRET or any(ord(c) < 32 for c in text):
            raise InvalidValue(f"the webhook secret is 1 to {MAX_SECRET} printable characters",
                               field="webhook_secret")
        cipher = TokenCipher.from_settings(settings)
        if not cipher.enabled:
            raise InvalidValue("set OKR_SECRET_KEY first: tracker secrets are stored encrypted")
        row.webhook_secret = cipher.encrypt(text) or row.webhook_secret
        changed["webhook_secret"] = True
    if canceled_done is not None:
        if row.provider != linear_ids.PROVIDER:
            raise InvalidValue("only Linear issues can be canceled", field="canceled_done")
        before["canceled_done"] = row.canceled_counts_as_done
        row.canceled_counts_as_done = canceled_done
        changed["canceled_done"] = canceled_done
    if not changed:
        raise InvalidValue("nothing to change: give --webhook-secret or "
                           "--canceled-counts-as-done / --canceled-not-done")
    session.flush()
    audit.record(session=session, workspace_id=workspace_id, actor_label=actor_label,
                 action="tracker.update", subject_type="tracker_connection",
                 subject_key=f"{row.provider}:{row.host}", now=now, before=before,
                 after=changed)
    return row
