"""Rendering a delivery at send time: decide skip or send, and build the messages.

Facts are read when the message is about to go out, not when it was enqueued, so someone who
checked in, went away or was deactivated in between is not prompted. Scored OKRs come from
``app.services.okrs.cycle_report``, computed once per cycle per delivery pass (cached here).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from app.calendar import timeline
from app.calendar.ladder import MAX_SPAN
from app.calendar.timeline import ReminderTextError, render_text
from app.config import Settings
from app.domain import KRState, KRView
from app.models import (
    Cycle,
    Delivery,
    Person,
    Team,
    Workspace,
)
from app.services.okrs import cycles as cycles_service
from app.services.okrs import report as okrs
from app.services.okrs.report import CycleReport
from app.services.scheduling import digest_facts, ladder, schedules, skips, snoozes
from blocks import digest as digest_blocks
from blocks.escalation import waiting_message
from blocks.prompt import PromptView, prompt_message
from blocks.reminder import fallback_text, nudge_message, reminder_message, template_variables
from scheduler import review_jobs
from scheduler.reminders import rule_by_key

log = logging.getLogger(__name__)


@dataclass
class Rendered:
    messages: list[dict[str, Any]] = field(default_factory=list)
    skip: str | None = None  # recorded as state "skipped"
    fail: str | None = None  # recorded as state "failed" (a broken rule text, ...)
    snapshot: dict[str, Any] | None = None  # digests: stored with the first send


class Renderer:
    """Per delivery pass: caches cycle reports; safe to share between sender threads."""

    def __init__(self, settings: Settings, now: datetime) -> None:
        self.settings = settings
        self.now = now
        self._reports: dict[tuple[int, bool], CycleReport] = {}
        self._owned: dict[int, dict[str, list[KRView]]] = {}
        self._cycles: dict[int, list[Cycle]] = {}
        self._lock = threading.Lock()

    def cycles(self, session: Session, ws_id: int) -> list[Cycle]:
        with self._lock:
            found = self._cycles.get(ws_id)
        if found is None:
            found = schedules.cycles_of(session=session, workspace_id=ws_id)
            with self._lock:
                self._cycles[ws_id] = found
        return found

    def owned(self, session: Session, ws: Workspace, cycle: Cycle) -> dict[str, list[KRView]]:
        """The cycle's active KRs by owner (Slack id), from the pass's cached report."""
        with self._lock:
            found = self._owned.get(cycle.id)
        if found is None:
            found = {}
            for o in self.report(session, ws, cycle, private=True).objectives:
                for kr in o.key_results:
                    if kr.owner_slack_id and kr.state == KRState.ACTIVE:
                        found.setdefault(kr.owner_slack_id, []).append(kr)
            with self._lock:
                self._owned[cycle.id] = found
        return found

    def report(self, session: Session, ws: Workspace, cycle: Cycle, *,
               private: bool) -> CycleReport:
        key = (cycle.id, private)
        with self._lock:
            found = self._reports.get(key)
        if found is None:
            found = okrs.cycle_report(
                session=session, workspace_id=ws.id, cycle=cycle,
                today=cycles_service.org_today(ws, self.now), now=self.now,
                settings=self.settings.scoring, include_private=private, include_drafts=False)
            with self._lock:
                self._reports[key] = found
        return found

    def render(self, session: Session, row: Delivery) -> Rendered:
        ws = session.get(Workspace, row.workspace_id)
        if ws is None:
            return Rendered(skip="workspace removed")
        if row.kind in ("prompt", "nudge"):
            return self._prompt(session, ws, row)
        if row.kind == "escalation":
            return self._escalation(session, ws, row)
        if row.kind == "digest":
            return self._digest(session, ws, row)
        if row.kind == "reminder":
            return self._reminder(session, ws, row)
        if row.kind in review_jobs.KINDS:
            messages, skip = review_jobs.messages(session, ws, row, self.settings, self.now)
            return Rendered(messages=messages, skip=skip)
        return Rendered(fail=f"unknown delivery kind {row.kind!r}")

    # --- prompts and nudges --------------------------------------------------------------

    def _prompt(self, session: Session, ws: Workspace, row: Delivery) -> Rendered:
        person = session.get(Person, row.person_id) if row.person_id else None
        if person is None:
            return Rendered(skip="person removed")
        day = date.fromisoformat(snoozes.base_occurrence(row))
        cycle = schedules.cycle_on(self.cycles(session, ws.id), day)
        krs: list[KRView] = []
        if cycle is not None:
            krs = self.owned(session, ws, cycle).get(person.slack_id, [])
        if row.kind == "nudge":  # nobody is chased for a KR the system scores
            asked = [kr for kr in krs if skips.awaits_answer(kr.kr_type)]
            if krs and not asked:
                return Rendered(skip=skips.AUTO_ONLY)
            krs = asked
        facts = skips.PromptFacts(
            active=person.active, away_until=person.away_until, away_from=person.away_from,
            phase=schedules.phase_on(cycle, day),
            active_krs=tuple(kr.last_checkin_at for kr in krs),
            skipped_week=schedules.week_skipped(session=session, workspace_id=ws.id,
                                                person_id=person.id, day=day))
        sent_on = row.due_at.astimezone(schedules.zone(person.tz)).date()
        if row.kind == "nudge":
            prompted = datetime.fromisoformat(str((row.payload or {}).get("prompted_at")))
            reason = skips.nudge_skip_reason(facts, local_date=day, prompted_at=prompted,
                                             sent_on=sent_on) \
                or self._ladder_stop(session, ws, row, person)
        else:
            reason = skips.prompt_skip_reason(
                facts, local_date=day, due_at=row.due_at,
                checked_in_days=self.settings.skip_if_checked_in_days, sent_on=sent_on)
        if reason is not None or cycle is None:
            return Rendered(skip=reason or skips.NO_CYCLE)
        view = cycles_service.view(cycle, day)
        prompt = PromptView(delivery_id=row.id, first_name=person.name, cycle_name=cycle.name,
                            day=view.day, total_days=view.total_days, krs=krs,
                            nudge=row.kind == "nudge")
        if row.kind == "nudge":
            # Per KR: list only those not updated since the prompt (at least one, or skipped).
            waiting = [kr for kr in krs if not skips.updated_since(kr.last_checkin_at, prompted)]
            return Rendered(messages=[nudge_message(replace(prompt, krs=waiting),
                                                    updated=len(krs) - len(waiting))])
        return Rendered(messages=[prompt_message(prompt)])

    def _ladder_stop(self, session: Session, ws: Workspace, row: Delivery,
                     person: Person) -> str | None:
        """Why a nudge does not go although KRs still wait (decided now, not when enqueued)."""
        if not person.nudges:
            return skips.NUDGES_OFF
        runs = ladder.prompt_runs(session, ws.id, since=row.due_at - MAX_SPAN, until=self.now,
                                  person_ids=[person.id]).get(row.target, [])
        base = snoozes.base_occurrence(row)
        if any(r.base > base and r.first_sent is not None for r in runs):
            return skips.NEWER_PROMPT
        return None

    def _escalation(self, session: Session, ws: Workspace, row: Delivery) -> Rendered:
        lead = session.get(Person, row.person_id) if row.person_id else None
        if lead is None or not lead.active:
            return Rendered(skip=skips.DEACTIVATED)
        if skips.is_away(lead.away_until, self.now.astimezone(schedules.zone(lead.tz)).date(),
                         lead.away_from):
            return Rendered(skip=skips.AWAY)
        after = int((row.payload or {}).get("after_days") or self.settings.escalate_after_days)
        items = ladder.waiting_on(session=session, ws=ws, lead_id=lead.id, now=self.now,
                                  after_days=after)
        if not items:
            return Rendered(skip=skips.NOTHING_WAITING)
        return Rendered(messages=[waiting_message(items, after_days=after)])

    # --- digests ---------------------------------------------------------------------------

    def _digest(self, session: Session, ws: Workspace, row: Delivery) -> Rendered:
        team = session.get(Team, row.team_id) if row.team_id else None
        cycle = session.get(Cycle, row.cycle_id) if row.cycle_id else None
        if team is None or cycle is None:
            return Rendered(skip="team or cycle removed")
        report = self.report(session, ws, cycle, private=False)
        objectives = [o for o in report.objectives if o.team_key == team.key]
        facts = digest_facts.digest_facts(session=session, ws=ws, team=team, cycle=cycle,
                                       exclude_delivery_id=row.id)
        data = digest_blocks.DigestInput(
            team_name=team.name, cycle=report.cycle, objectives=objectives,
            previous=facts.previous, previous_date=facts.previous_date, notes=facts.notes,
            participation=facts.participation)
        messages = digest_blocks.build(data, quiet=self.settings.quiet_digest)
        if not messages:
            return Rendered(skip="nothing changed since the last digest")
        return Rendered(messages=messages, snapshot=digest_blocks.snapshot(objectives))

    # --- timeline reminders ----------------------------------------------------------------

    def _reminder(self, session: Session, ws: Workspace, row: Delivery) -> Rendered:
        payload = row.payload or {}
        rule = rule_by_key(session, ws, str(payload.get("rule")))
        cycle = session.get(Cycle, row.cycle_id) if row.cycle_id else None
        if rule is None or cycle is None:
            return Rendered(skip="rule or cycle removed")
        if row.person_id is not None:
            person = session.get(Person, row.person_id)
            if person is None or not person.active:
                return Rendered(skip=skips.DEACTIVATED)
        day = date.fromisoformat(str(payload.get("day")))
        variables = template_variables(timeline.context(cycles_service.window(cycle), day))
        try:
            text = render_text(rule.text, variables)
        except ReminderTextError as exc:
            log.warning("reminder.text_failed", extra={"workspace": ws.id, "rule": rule.key,
                                                       "problem": str(exc)})
            text = fallback_text(cycle.name, rule.when())
        mention = rule.usergroup if rule.audience == "usergroup" else None
        return Rendered(messages=[reminder_message(text, when=rule.when(), cycle=cycle.name,
                                                   mention=mention)])
