"""The review ledger: every score row of a cycle's review, and the scores in force per KR.

Every score is a new row in ``reviews`` (kinds computed / self / final). The latest row of
each kind per KR is the one in force; earlier rows stay as history.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain import ReviewKind
from app.models import Cycle, KeyResult, Review

# Two scores closer than this are the same score.
EPS = 1e-9


@dataclass(frozen=True, slots=True)
class KRScores:
    """The scores in force for one KR (latest row of each kind)."""

    kr_key: str
    computed: float | None = None
    self_score: float | None = None
    evidence: str | None = None
    final: float | None = None
    reason: str | None = None

    @property
    def gap(self) -> float | None:
        """Final minus self (negative when the lead scored lower than the owner)."""
        if self.final is None or self.self_score is None:
            return None
        return self.final - self.self_score


def scores(*, session: Session, workspace_id: int, cycle: Cycle) -> dict[str, KRScores]:
    """The scores in force for every KR of the cycle that has any, by KR key."""
    latest: dict[tuple[str, str], Review] = {}
    rows = session.execute(
        select(Review, KeyResult.key)
        .join(KeyResult, KeyResult.id == Review.kr_id)
        .where(Review.workspace_id == workspace_id, Review.cycle_id == cycle.id)
        .order_by(Review.at, Review.id)
    ).all()
    for review, key in rows:
        latest[(key, review.kind)] = review
    out: dict[str, KRScores] = {}
    for key in {k for k, _ in latest}:
        comp = latest.get((key, ReviewKind.COMPUTED.value))
        own = latest.get((key, ReviewKind.SELF.value))
        fin = latest.get((key, ReviewKind.FINAL.value))
        out[key] = KRScores(
            kr_key=key, computed=comp.score if comp else None,
            self_score=own.score if own else None, evidence=own.evidence if own else None,
            final=fin.score if fin else None, reason=fin.evidence if fin else None,
        )
    return out


def history(*, session: Session, workspace_id: int, kr: KeyResult) -> list[Review]:
    """Every score entry of a KR, oldest first."""
    return list(session.scalars(
        select(Review).where(Review.workspace_id == workspace_id, Review.kr_id == kr.id)
        .order_by(Review.at, Review.id)
    ))
