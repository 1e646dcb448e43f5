"""What the scheduler still owes, across the install: pending rows by kind and the oldest one
due. Read by the metrics endpoint at scrape time (an operator's view of the whole install, so
deliberately not scoped to one workspace; nothing of any row's content leaves this module).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Delivery, Workspace


@dataclass(frozen=True, slots=True)
class Backlog:
    pending: dict[str, int]  # kind -> rows pending (due or not yet due)
    oldest_due: datetime | None  # the oldest pending row already due, if any

    def lag_seconds(self, now: datetime) -> float:
        """Now minus the oldest due-and-pending row (0 when nothing is waiting)."""
        if self.oldest_due is None:
            return 0.0
        return max((now - self.oldest_due).total_seconds(), 0.0)


def backlog(*, session: Session, now: datetime) -> Backlog:
    """Pending deliveries of enabled workspaces (a disabled one is sent nothing, on purpose)."""
    enabled = Delivery.workspace_id.not_in(
        select(Workspace.id).where(Workspace.disabled_at.is_not(None)))
    pending = Delivery.state == "pending"
    counts = {str(kind): int(n) for kind, n in session.execute(
        select(Delivery.kind, func.count()).where(pending, enabled).group_by(Delivery.kind))}
    # Ordered by the column rather than min(): the column's type (aware UTC) is kept.
    oldest = session.scalar(select(Delivery.due_at).where(pending, enabled, Delivery.due_at <= now)
                            .order_by(Delivery.due_at).limit(1))
    return Backlog(pending=counts, oldest_due=oldest)
