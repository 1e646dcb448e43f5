"""Creating and editing objectives and key results (from Slack modals, or any caller).

Inputs arrive as drafts of plain strings and numbers; every problem raises ``InvalidValue``
whose ``field`` names the offending input: ``title``, ``team``, ``owner``, ``align``,
``visibility``, ``commitment``, ``cycle`` for the objective, ``kr<i>.<name>`` for the i-th KR
of a creation form (``title``, ``type``, ``start``, ``target``, ``unit``, ``weight``,
``owner``) and plain names for a single KR edit (``reason`` when its target or weight
changes: that is a mid-cycle revision, see app.services.okrs.adjustments). Nothing is
written unless all is valid; every change goes to the audit log with its actor.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain import Commitment, KRState, KRType, Saved, Visibility
from app.models import Cycle, KeyResult, Objective, Person, Team
from app.services import access, audit
from app.services.access import Principal
from app.services.errors import InvalidValue, NotFound
from app.services.okrs import adjustments, alignment, plans
from app.services.okrs.writable import require_open, require_open_kr, require_open_objective

MAX_TITLE = 500
MAX_UNIT = 32
MAX_KRS = 10
# Types a person picks in Slack; ``children`` KRs only make sense once objectives align to them.
CREATABLE_TYPES = tuple(t for t in KRType if t != KRType.CHILDREN)


@dataclass(frozen=True)
class KRDraft:
    title: str | None = None
    kr_type: str | None = None
    start: float | None = None
    target: float | None = None
    unit: str | None = None
    weight: float | None = None
    owner_id: int | None = None
    state: str | None = None
    # The edit modal's plan fields (``plan_given`` when the form had them): a milestone's due
    # date and phased targets as typed (see app.services.okrs.plans).
    due: date | None = None
    targets: str | None = None
    plan_given: bool = False
    # Why the target or weight changes (the edit modal; a mid-cycle adjustment needs one).
    reason: str | None = None

    @property
    def empty(self) -> bool:
        return not (self.title or self.start is not None or self.target is not None
                    or self.unit)


@dataclass(frozen=True)
class ObjectiveDraft:
    title: str | None = None
    cycle_id: int | None = None
    team_key: str | None = None
    owner_id: int | None = None
    align: str | None = None  # "o:<objective key>" or "k:<kr key>"
    visibility: str | None = None
    commitment: str | None = None


def slug(text: str, limit: int = 40) -> str:
    s = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:limit].strip("-")
    return s or "okr"


def new_key(session: Session, workspace_id: int, model: type[Objective] | type[KeyResult],
            title: str) -> str:
    """A readable unique id like the ones in import files: ``grow-activation``, ``...-2``."""
    base = slug(title)
    taken = set(session.scalars(select(model.key).where(
        model.workspace_id == workspace_id,
        (model.key == base) | model.key.like(f"{base}-%"))))
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def _title(value: str | None, field: str) -> str:
    text = (value or "").strip()
    if not text:
        raise InvalidValue("give it a title", field=field)
    if len(text) > MAX_TITLE:
        raise InvalidValue(f"keep the title under {MAX_TITLE} characters", field=field)
    return text


def _finite(value: float | None, field: str) -> float | None:
    if value is not None and (not math.isfinite(value) or abs(value) > 1e15):
        raise InvalidValue("that is not a usable number", field=field)
    return value


def check_kr(d: KRDraft, prefix: str = "") -> KRDraft:
    """Validate one KR draft; returns it with defaults filled in."""
    title = _title(d.title, f"{prefix}title")
    try:
        kr_type = KRType(d.kr_type or "")
    except ValueError:
        raise InvalidValue("pick a type", field=f"{prefix}type") from None
    if kr_type not in CREATABLE_TYPES:
        raise InvalidValue("that type is set up by aligning objectives", field=f"{prefix}type")
    start = _finite(d.start, f"{prefix}start")
    target = _finite(d.target, f"{prefix}target")
    if kr_type.needs_start_and_target:
        if start is None:
            raise InvalidValue("enter where it starts", field=f"{prefix}start")
        if target is None:
            raise InvalidValue("enter the target", field=f"{prefix}target")
        if kr_type == KRType.INCREASE and target <= start:
            raise InvalidValue("an increase needs a target above the start",
                               field=f"{prefix}target")
        if kr_type == KRType.DECREASE and target >= start:
            raise InvalidValue("a decrease needs a target below the start",
                               field=f"{prefix}target")
    elif kr_type.needs_threshold and target is None:
        raise InvalidValue("enter the threshold to stay above or below", field=f"{prefix}target")
    elif kr_type == KRType.PERCENT:
        target = 100.0 if target is None else target
        start = 0.0 if start is None else start
        if not 0 <= start < target <= 100:
            raise InvalidValue("percentages run from 0 to 100", field=f"{prefix}target")
    elif kr_type in (KRType.MILESTONE, KRType.MANUAL, KRType.ISSUES):
        start = target = None
    unit = (d.unit or "").strip() or None
    if unit and len(unit) > MAX_UNIT:
        raise InvalidValue(f"keep the unit under {MAX_UNIT} characters", field=f"{prefix}unit")
    weight = 1.0 if d.weight is None else _finite(d.weight, f"{prefix}weight")
    if weight is None or not 0 < weight <= 100:
        raise InvalidValue("a weight is a positive number (1 is normal)", field=f"{prefix}weight")
    state = d.state or KRState.ACTIVE.value
    if state not in {s.value for s in KRState}:
        raise InvalidValue("state is active, paused or done", field=f"{prefix}state")
    return KRDraft(title=title, kr_type=kr_type.value, start=start, target=target, unit=unit,
                   weight=weight, owner_id=d.owner_id, state=state)


def _person(session: Session, workspace_id: int, person_id: int | None, field: str) -> None:
    if person_id is None:
        return
    p = session.get(Person, person_id)
    if p is None or p.workspace_id != workspace_id:
        raise InvalidValue("that person is not in this workspace", field=field)
    if not p.active:
        raise InvalidValue(f"{p.name} is deactivated", field=field)


def _check_objective(session: Session, workspace_id: int, actor: Principal,
                     d: ObjectiveDraft) -> dict[str, Any]:
    title = _title(d.title, "title")
    cycle = session.get(Cycle, d.cycle_id) if d.cycle_id is not None else None
    if cycle is None or cycle.workspace_id != workspace_id:
        raise InvalidValue("pick a cycle", field="cycle")
    require_open(cycle)  # nothing is created in, or moved into, a closed cycle
    team_id = None
    if d.team_key:
        team_id = session.scalar(select(Team.id).where(Team.workspace_id == workspace_id,
                                                       Team.key == d.team_key))
        if team_id is None:
            raise InvalidValue("pick a team from the list", field="team")
    _person(session, workspace_id, d.owner_id, "owner")
    visibility = d.visibility or Visibility.PUBLIC.value
    if visibility not in {v.value for v in Visibility}:
        raise InvalidValue("visibility is public or private", field="visibility")
    commitment = d.commitment or Commitment.COMMITTED.value
    if commitment not in {c.value for c in Commitment}:
        raise InvalidValue("committed or aspirational", field="commitment")
    aligned_obj, aligned_kr = alignment.resolve(session, workspace_id, actor, d.align)
    return {"title": title, "cycle_id": cycle.id, "team_id": team_id,
            "owner_id": d.owner_id or actor.id, "aligned_objective_id": aligned_obj,
            "aligned_kr_id": aligned_kr, "visibility": visibility, "commitment": commitment}


def _require_team(session: Session, workspace_id: int, actor: Principal,
                  team_id: int | None) -> None:
    """An objective counts in its team's score and digest: only the team's people (its
    members and leads) and admins put one there."""
    if not access.may_place_in_team(session=session, workspace_id=workspace_id, actor=actor,
                                    team_id=team_id):
        team = session.get(Team, team_id)
        raise InvalidValue(f"only members and leads of {team.name if team else 'that team'} or "
                           "an OKR admin can put objectives in it", field="team")


def _snapshot(obj: Objective | KeyResult, names: Sequence[str]) -> dict[str, Any]:
    values = {n: getattr(obj, n) for n in names}
    return {n: v.isoformat() if isinstance(v, date) else v for n, v in values.items()}


OBJ_FIELDS = ("title", "cycle_id", "team_id", "owner_id", "aligned_objective_id",
              "aligned_kr_id", "visibility", "commitment")
KR_FIELDS = ("title", "kr_type", "start_value", "unit", "owner_id", "state", "due_date",
             "targets")  # target and weight changes are revisions (okrs.adjustments)


def create_objective(*, session: Session, workspace_id: int, actor: Principal,
                     actor_label: str, objective: ObjectiveDraft, krs: Sequence[KRDraft],
                     now: datetime) -> Saved:
    """Create an objective with its KRs in one go (validate all, then write)."""
    values = _check_objective(session, workspace_id, actor, objective)
    drafts = [(i, d) for i, d in enumerate(krs) if not (d.empty and i > 0)]
    if not drafts or all(d.empty for _, d in drafts):
        raise InvalidValue("add at least one key result", field="kr0.title")
    if len(drafts) > MAX_KRS:
        raise InvalidValue(f"at most {MAX_KRS} key results", field="kr0.title")
    checked = []
    for i, d in drafts:
        kr = check_kr(d, prefix=f"kr{i}.")
        _person(session, workspace_id, kr.owner_id, f"kr{i}.owner")
        checked.append(kr)
    _require_team(session, workspace_id, actor, values["team_id"])
    probe = Objective(workspace_id=workspace_id, **values)
    if values["owner_id"] != actor.id:
        led = access.led_team_ids(session=session, workspace_id=workspace_id, person_id=actor.id)
        if not access.can_edit_objective(actor, probe, led):
            raise InvalidValue("only a team lead or an OKR admin can create objectives for "
                               "someone else", field="owner")
    position = session.scalar(select(func.count()).select_from(Objective).where(
        Objective.workspace_id == workspace_id, Objective.cycle_id == values["cycle_id"])) or 0
    obj = probe
    obj.key = new_key(session, workspace_id, Objective, values["title"])
    obj.position = position
    obj.created_at = obj.updated_at = now
    session.add(obj)
    session.flush()
    for i, kr in enumerate(checked):
        row = KeyResult(workspace_id=workspace_id, objective_id=obj.id, position=i,
                        key=new_key(session, workspace_id, KeyResult, kr.title or ""),
                        title=kr.title, kr_type=kr.kr_type, start_value=kr.start,
                        target_value=kr.target, unit=kr.unit, weight=kr.weight,
                        owner_id=kr.owner_id or values["owner_id"], state=kr.state,
                        created_at=now, updated_at=now)
        session.add(row)
        session.flush()
    audit.record(session=session, workspace_id=workspace_id, actor_id=actor.id,
                 actor_label=actor_label, action="objective.create", subject_type="objective",
                 subject_key=obj.key, now=now,
                 after={**_snapshot(obj, OBJ_FIELDS),
                        "key_results": [k.key for k in obj.key_results]})
    return Saved(obj.key, obj.title, len(obj.key_results))


def objective_for_edit(*, session: Session, workspace_id: int, actor: Principal,
                       key: str) -> Objective:
    obj = session.scalars(select(Objective).where(Objective.workspace_id == workspace_id,
                                                  Objective.key == key)).first()
    led = access.led_team_ids(session=session, workspace_id=workspace_id, person_id=actor.id)
    if obj is None or not access.can_view_objective(actor, obj, led):
        raise NotFound(f"there is no objective or key result `{key}`")
    access.require_edit_objective(session=session, actor=actor, objective=obj)
    require_open_objective(session, obj)
    return obj


def kr_for_edit(*, session: Session, workspace_id: int, actor: Principal,
                key: str) -> KeyResult:
    kr = session.scalars(select(KeyResult).where(KeyResult.workspace_id == workspace_id,
                                                 KeyResult.key == key)).first()
    led = access.led_team_ids(session=session, workspace_id=workspace_id, person_id=actor.id)
    if kr is None or not access.can_view_objective(actor, kr.objective, led):
        raise NotFound(f"there is no objective or key result `{key}`")
    access.require_edit_kr(session=session, actor=actor, kr=kr)
    require_open_kr(session, kr)
    return kr


def edit_objective(*, session: Session, workspace_id: int, actor: Principal, actor_label: str,
                   key: str, draft: ObjectiveDraft, now: datetime) -> Saved:
    obj = objective_for_edit(session=session, workspace_id=workspace_id, actor=actor, key=key)
    values = _check_objective(session, workspace_id, actor, draft)
    if values["aligned_objective_id"] == obj.id:
        raise InvalidValue("an objective cannot align to itself", field="align")
    if values["aligned_kr_id"] is not None and any(
            k.id == values["aligned_kr_id"] for k in obj.key_results):
        raise InvalidValue("an objective cannot align to its own key result", field="align")
    if values["team_id"] != obj.team_id:
        _require_team(session, workspace_id, actor, values["team_id"])
    before = _snapshot(obj, OBJ_FIELDS)
    for name, value in values.items():
        setattr(obj, name, value)
    led = access.led_team_ids(session=session, workspace_id=workspace_id, person_id=actor.id)
    if not access.can_edit_objective(actor, obj, led):
        # Handing it to another owner is fine; taking it out of reach is not.
        raise InvalidValue("you would no longer be able to edit it: ask a lead or an admin",
                           field="owner")
    obj.updated_at = now
    _audit_edit(session, workspace_id, actor, actor_label, "objective", obj.key, now,
                before, _snapshot(obj, OBJ_FIELDS))
    return Saved(obj.key, obj.title)


def edit_kr(*, session: Session, workspace_id: int, actor: Principal, actor_label: str,
            key: str, draft: KRDraft, now: datetime) -> Saved:
    kr = kr_for_edit(session=session, workspace_id=workspace_id, actor=actor, key=key)
    checked = check_kr(draft)
    _person(session, workspace_id, checked.owner_id, "owner")
    changes = [c for c in (("target", kr.target_value, checked.target),
                           ("weight", kr.weight, checked.weight or 1.0)) if c[1] != c[2]]
    if changes and not (draft.reason or "").strip():
        raise InvalidValue(f"say why the {' and '.join(c[0] for c in changes)} change"
                           f"{'s' if len(changes) == 1 else ''}: it is kept in the history",
                           field="reason")
    before = _snapshot(kr, KR_FIELDS)
    kr.title = checked.title or kr.title
    kr.kr_type = checked.kr_type or kr.kr_type
    kr.start_value = checked.start
    kr.unit = checked.unit
    kr.owner_id = checked.owner_id or kr.owner_id
    kr.state = checked.state or kr.state
    if draft.plan_given:
        cycle = session.get(Cycle, kr.objective.cycle_id)
        if cycle is None:
            raise NotFound("the key result's cycle is gone")
        kr.due_date, kr.targets = plans.check_plan(
            KRType(kr.kr_type), draft.due, plans.parse_targets(draft.targets),
            cycle=cycle.name, start=cycle.start_date, end=cycle.end_date)
    if changes:
        adjustments.revise(session=session, workspace_id=workspace_id, kr=kr,
                           person=session.get(Person, actor.id), reason=draft.reason,
                           changes=changes, now=now, actor_label=actor_label,
                           as_admin=actor.is_admin)
    kr.updated_at = now
    _audit_edit(session, workspace_id, actor, actor_label, "key_result", kr.key, now,
                before, _snapshot(kr, KR_FIELDS))
    return Saved(kr.key, kr.title)


def _audit_edit(session: Session, workspace_id: int, actor: Principal, actor_label: str,
                subject_type: str, key: str, now: datetime, before: dict[str, Any],
                after: dict[str, Any]) -> None:
    """Audit what an edit changed (nothing when it changed nothing), then flush it."""
    if after != before:
        audit.record(session=session, workspace_id=workspace_id, actor_id=actor.id,
                     actor_label=actor_label, action=f"{subject_type}.edit",
                     subject_type=subject_type, subject_key=key, now=now,
                     before=_changed(before, after), after=_changed(after, before))
    session.flush()


def _changed(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in a.items() if b.get(k) != v}
