"""The audit log: who changed what, with the state before and after."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from app.models import AuditEntry


def record(
    *,
    session: Session,
    workspace_id: int,
    actor_label: str,
    action: str,
    subject_type: str,
    subject_key: str,
    now: datetime,
    actor_id: int | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEntry:
    entry = AuditEntry(
        workspace_id=workspace_id,
        at=now,
        actor_id=actor_id,
        actor_label=actor_label,
        action=action,
        subject_type=subject_type,
        subject_key=subject_key,
        before=before,
        after=after,
    )
    session.add(entry)
    return entry
