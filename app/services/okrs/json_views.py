"""What the progress API shows: a KR or an objective as plain JSON-ready dicts.

Scores, statuses and trends come from the read model (``okrs.cycle_report``) so the API says
exactly what Slack, digests and reports say.

``private`` says whether the caller may see private objectives and what people wrote (the
``read:private`` scope). Without it a private objective and its KRs do not exist (404, the
same answer as a key of another workspace) and the notes and blockers people wrote read as
null: numbers and statuses are what integrations need, free text stays with people.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import ScoringSettings
from app.domain import CheckinSource, KRView, ObjectiveView, Visibility
from app.models import Checkin, Cycle, IssueLink, KeyResult, KRQuery, Objective, Workspace
from app.services.errors import NotFound
from app.services.okrs import cycles
from app.services.okrs import report as okrs

HISTORY = 20


def _iso(at: datetime | None) -> str | None:
    return at.isoformat().replace("+00:00", "Z") if at is not None else None


def checkin_dict(row: Checkin, *, private: bool = False) -> dict[str, Any]:
    """A check-in; the note and blockers people wrote only for a ``private`` caller (the
    tracker sync's own notes, such as ``acme/web#12 closed``, for every reader)."""
    shown = private or row.source == CheckinSource.ISSUES.value
    return {"id": row.id, "at": _iso(row.at), "value": row.value, "score": row.score,
            "status": row.status, "confidence": row.confidence,
            "note": row.note if shown else None,
            "blockers": row.blockers if shown else None, "source": row.source}


def _hidden(objective: Objective, private: bool) -> bool:
    return not private and objective.visibility == Visibility.PRIVATE.value


def _report(session: Session, workspace_id: int, objective: Objective, now: datetime,
            settings: ScoringSettings) -> okrs.CycleReport:
    ws = session.get(Workspace, workspace_id)
    cycle = session.get(Cycle, objective.cycle_id)
    if ws is None or cycle is None:
        raise NotFound("the key result's cycle is gone")
    return okrs.cycle_report(session=session, workspace_id=workspace_id, cycle=cycle,
                             today=cycles.org_today(ws, now), now=now, settings=settings)


def _kr_summary(view: KRView) -> dict[str, Any]:
    return {
        "id": view.key, "title": view.title, "objective": view.objective_key,
        "type": view.kr_type.value,
        "owner": ({"slack_id": view.owner_slack_id, "name": view.owner_name}
                  if view.owner_slack_id else None),
        "start": view.start, "target": view.target, "current": view.current, "unit": view.unit,
        "weight": view.weight, "score": round(view.score, 4), "status": view.status.value,
        "suggested_status": view.suggested_status.value,
        "declared_status": view.declared_status.value if view.declared_status else None,
        "state": view.state.value, "trend": view.trend,
        "last_checkin_at": _iso(view.last_checkin_at),
    }


def key_result(*, session: Session, workspace_id: int, key: str, now: datetime,
               settings: ScoringSettings, history: int = HISTORY,
               private: bool = False) -> dict[str, Any]:
    """A KR with its score, status, the latest check-ins (newest first), its links and its
    saved search."""
    kr = okrs.kr_by_key(session=session, workspace_id=workspace_id, key=key)
    if kr is None or _hidden(kr.objective, private):
        raise NotFound(f"no key result {key!r} in this workspace")
    report = _report(session, workspace_id, kr.objective, now, settings)
    view = report.key_result(kr.key)
    if view is None:
        raise NotFound(f"no key result {key!r} in this workspace")
    out = _kr_summary(view)
    out["cycle"] = report.cycle.name
    out["history"] = [checkin_dict(c, private=private) for c in session.scalars(
        select(Checkin).where(Checkin.workspace_id == workspace_id, Checkin.kr_id == kr.id)
        .order_by(Checkin.at.desc(), Checkin.id.desc()).limit(history)
    )]
    out["links"] = [
        {"url": lk.url, "state": lk.state, "closed": lk.closed, "weight": lk.weight,
         "title": lk.title, "from_query": lk.query_id is not None, "left_at": _iso(lk.left_at)}
        for lk in session.scalars(
            select(IssueLink).where(IssueLink.workspace_id == workspace_id,
                                    IssueLink.kr_id == kr.id).order_by(IssueLink.id))
    ]
    out["query"] = _query(session, workspace_id, kr.id)
    return out


def _query(session: Session, workspace_id: int, kr_id: int) -> dict[str, Any] | None:
    """The KR's saved search as the import file spells it, and how its last run went."""
    row = session.scalars(select(KRQuery).where(KRQuery.workspace_id == workspace_id,
                                                KRQuery.kr_id == kr_id)).first()
    if row is None:
        return None
    return {"search": row.spec, "refreshed_at": _iso(row.refreshed_at),
            "error": row.last_error}


def objective(*, session: Session, workspace_id: int, key: str, now: datetime,
              settings: ScoringSettings, private: bool = False) -> dict[str, Any]:
    obj = okrs.objective_by_key(session=session, workspace_id=workspace_id, key=key)
    if obj is None or _hidden(obj, private):
        raise NotFound(f"no objective {key!r} in this workspace")
    report = _report(session, workspace_id, obj, now, settings)
    view: ObjectiveView | None = report.objective(obj.key)
    if view is None:
        raise NotFound(f"no objective {key!r} in this workspace")
    parent = report.objective(view.aligned_to) if view.aligned_to else None
    aligned_to = view.aligned_to if private or parent is None \
        or parent.visibility != Visibility.PRIVATE else None
    return {
        "id": view.key, "title": view.title, "cycle": view.cycle, "team": view.team_key,
        "owner": ({"slack_id": view.owner_slack_id, "name": view.owner_name}
                  if view.owner_slack_id else None),
        "score": round(view.score, 4), "status": view.status.value,
        "aligned_to": aligned_to,
        "key_results": [_kr_summary(k) for k in view.key_results],
    }


def kr_for_update(*, session: Session, workspace_id: int, key: str,
                  private: bool = False) -> KeyResult:
    kr = okrs.kr_by_key(session=session, workspace_id=workspace_id, key=key)
    if kr is None or _hidden(kr.objective, private):
        raise NotFound(f"no key result {key!r} in this workspace")
    return kr
