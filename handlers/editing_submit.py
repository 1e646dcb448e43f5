"""Submissions of the objective / KR modals: read, validate on the server, save, confirm.

Errors come back inline (``response_action: errors``) on the input that caused them; nothing
is stored unless everything is valid. A modal submitted twice (double click, retry) saves
once: the view id is recorded with the change in the same transaction.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from app.config import Settings
from app.domain import Saved
from app.services.errors import InvalidValue, OkrError
from app.services.links import kr_search, query_sync
from app.services.links import sync as issue_sync
from app.services.okrs import editing
from app.services.okrs.editing import KRDraft, ObjectiveDraft
from app.services.tenancy import slack_events
from app.services.tx import Tx
from blocks import editing as ui
from blocks.common import escape, plain, section
from blocks.ids import Block, Callback
from handlers.context import Actor, Env
from handlers.errors import log_failure, user_message
from handlers.home import refresh_later
from handlers.people import ensure_person

log = logging.getLogger(__name__)

OBJ_FIELDS = {"title": Block.OBJ_TITLE, "cycle": Block.OBJ_CYCLE, "team": Block.OBJ_TEAM,
              "owner": Block.OBJ_OWNER, "align": Block.OBJ_ALIGN,
              "visibility": Block.OBJ_VISIBILITY, "commitment": Block.OBJ_COMMITMENT}
KR_FIELDS = {"title": Block.KR_TITLE, "type": Block.KR_TYPE, "start": Block.KR_START,
             "target": Block.KR_TARGET, "unit": Block.KR_UNIT, "weight": Block.KR_WEIGHT,
             "owner": Block.KR_OWNER, "state": Block.KR_STATE, "due": Block.KR_DUE,
             "targets": Block.KR_TARGETS, "reason": Block.KR_REASON, "query": Block.KR_QUERY}
_SLOT_FIELD = re.compile(r"^kr(\d+)\.(\w+)$")


def block_for(fld: str | None, *, kr_form: bool) -> str:
    """A service error's field -> the input block id that shows it."""
    fld = fld or "title"
    m = _SLOT_FIELD.match(fld)
    if m:
        return ui.kr_block_id(KR_FIELDS.get(m.group(2), Block.KR_TITLE), int(m.group(1)))
    if kr_form:
        return str(KR_FIELDS.get(fld, Block.KR_TITLE))
    return str(OBJ_FIELDS.get(fld, Block.OBJ_TITLE))


def _number(values: Mapping[str, Any], block: Block, slot: int | None, fld: str) -> float | None:
    raw = ui.read_number(values, ui.kr_block_id(block, slot))
    if isinstance(raw, str):
        raise InvalidValue("enter a number", field=fld)
    return raw


class Reader:
    """Reads a submitted view's state into drafts, resolving Slack users to people."""

    def __init__(self, tx: Tx, client: WebClient, workspace_id: int, now: datetime,
                 settings: Settings, values: Mapping[str, Any]) -> None:
        self.tx, self.client, self.ws, self.now = tx, client, workspace_id, now
        self.settings, self.values = settings, values
        self.searches: list[int] = []  # KRs whose saved search is new: run after the ack

    def person_id(self, block_id: str, fld: str) -> int | None:
        user = ui.read_user(self.values, block_id)
        if user is None:
            return None
        if not re.fullmatch(r"[UW][A-Z0-9]{1,30}", user):
            raise InvalidValue("pick a person", field=fld)
        try:
            return ensure_person(self.tx, self.client, self.ws, user, self.now, self.settings,
                                 strict=True).id
        except InvalidValue as exc:
            raise InvalidValue(exc.message, field=fld) from None

    def query(self, slot: int | None) -> tuple[str | None, bool]:
        """A KR slot's saved-search line, and whether the form had that input."""
        block = ui.kr_block_id(Block.KR_QUERY, slot)
        return ui.read_text(self.values, block), block in self.values

    def objective(self) -> ObjectiveDraft:
        v = self.values
        cycle = ui.read_choice(v, str(Block.OBJ_CYCLE))
        if cycle is not None and not cycle.isdigit():
            raise InvalidValue("pick a cycle", field="cycle")
        return ObjectiveDraft(
            title=ui.read_text(v, str(Block.OBJ_TITLE)),
            cycle_id=int(cycle) if cycle else None,
            team_key=ui.read_choice(v, str(Block.OBJ_TEAM)),
            owner_id=self.person_id(str(Block.OBJ_OWNER), "owner"),
            align=ui.read_choice(v, str(Block.OBJ_ALIGN)),
            visibility=ui.read_choice(v, str(Block.OBJ_VISIBILITY)),
            commitment=ui.read_choice(v, str(Block.OBJ_COMMITMENT)),
        )

    def kr(self, slot: int | None) -> KRDraft:
        v = self.values
        pre = "" if slot is None else f"kr{slot}."
        return KRDraft(
            title=ui.read_text(v, ui.kr_block_id(Block.KR_TITLE, slot)),
            kr_type=ui.read_choice(v, ui.kr_block_id(Block.KR_TYPE, slot)),
            start=_number(v, Block.KR_START, slot, f"{pre}start"),
            target=_number(v, Block.KR_TARGET, slot, f"{pre}target"),
            unit=ui.read_text(v, ui.kr_block_id(Block.KR_UNIT, slot)),
            weight=_number(v, Block.KR_WEIGHT, slot, f"{pre}weight"),
            owner_id=self.person_id(ui.kr_block_id(Block.KR_OWNER, slot), f"{pre}owner"),
            state=ui.read_choice(v, str(Block.KR_STATE)) if slot is None else None,
            due=ui.read_date(v, str(Block.KR_DUE)) if slot is None else None,
            targets=ui.read_text(v, str(Block.KR_TARGETS)) if slot is None else None,
            plan_given=slot is None and str(Block.KR_TARGETS) in v,
            reason=ui.read_text(v, str(Block.KR_REASON)) if slot is None else None,
        )


def _present(view: Mapping[str, Any]) -> set[str]:
    return {str(b.get("block_id")) for b in view.get("blocks", []) if b.get("type") == "input"}


def _save(ack: Ack, view: dict[str, Any], client: WebClient, env: Env, workspace_id: int,
          person: Actor, now: datetime, *, kr_form: bool,
          work: Callable[[Reader], str]) -> None:
    """Run ``work`` in one transaction; ack with inline errors or a confirmation view."""
    values = (view.get("state") or {}).get("values") or {}
    present = _present(view)
    searches: list[int] = []
    try:
        with env.session() as tx:
            dedupe = f"view:{view.get('id')}"
            if view.get("id") and slack_events.already_processed(session=tx, key=dedupe):
                ack(response_action="update", view=_done_view("Already saved."))
                return
            reader = Reader(tx, client, workspace_id, now, env.settings, values)
            message = work(reader)
            searches = reader.searches
            if view.get("id"):
                slack_events.mark_processed(session=tx, key=dedupe, now=now)
    except InvalidValue as exc:
        target = block_for(exc.field, kr_form=kr_form)
        if target not in present:
            target = next(iter(sorted(present)), target)
        ack(response_action="errors", errors={target: exc.message[:150]})
        return
    except Exception as exc:
        log_failure("editing.save_failed", exc, user=person.slack_id)
        target = block_for(None, kr_form=kr_form)
        text = str(exc) if isinstance(exc, OkrError) else user_message(exc)
        ack(response_action="errors", errors={target: text[:150]})
        return
    ack(response_action="update", view=_done_view(message))
    if searches:
        env.later(_run_searches, env, workspace_id, searches)
    refresh_later(env, client, workspace_id, person.id)


def _run_searches(env: Env, workspace_id: int, kr_ids: list[int]) -> None:
    """A search just set runs at once (briefly: the daily sync runs it otherwise)."""
    query_sync.refresh(
        session_factory=env.session_factory, settings=env.settings, now=env.clock(),
        workspace_id=workspace_id, kr_ids=kr_ids,
        client_factory=issue_sync.default_client_factory(
            env.settings, max_wait=5.0, max_attempts=1, timeout=(3.0, 5.0)))


def _done_view(message: str) -> dict[str, Any]:
    return {"type": "modal", "title": plain("Saved", 24), "close": plain("Done", 24),
            "blocks": [section(message)]}


# What a submitted modal stores: (reader, the person, the view's metadata) -> what was saved.
Store = Callable[[Reader, Actor, str | None], Saved]


def _key(meta: str | None) -> str:
    """The key an edit modal carries (``submitter`` checked it is there)."""
    return ui.meta_key(meta) or ""


def _create(r: Reader, person: Actor, meta: str | None) -> Saved:
    slots = range(ui.slot_count(meta))
    return kr_search.create_objective(
        session=r.tx, workspace_id=r.ws, actor=person, actor_label=f"slack:{person.slack_id}",
        objective=r.objective(), krs=[r.kr(i) for i in slots],
        lines=[r.query(i)[0] for i in slots], now=r.now,
        gitlab_hosts=r.settings.gitlab_hosts, changed=r.searches)


def _edit_objective(r: Reader, person: Actor, meta: str | None) -> Saved:
    return editing.edit_objective(session=r.tx, workspace_id=r.ws, actor=person,
                                  actor_label=f"slack:{person.slack_id}", key=_key(meta),
                                  draft=r.objective(), now=r.now)


def _edit_kr(r: Reader, person: Actor, meta: str | None) -> Saved:
    line, given = r.query(None)
    return kr_search.edit_kr(session=r.tx, workspace_id=r.ws, actor=person,
                             actor_label=f"slack:{person.slack_id}", key=_key(meta),
                             draft=r.kr(None), line=line, line_given=given, now=r.now,
                             gitlab_hosts=r.settings.gitlab_hosts, changed=r.searches)


def _created_message(saved: Saved) -> str:
    n = saved.key_results
    return (f":white_check_mark: Created *{escape(saved.title)}* (`{saved.key}`) with {n} key "
            f"result{'s' if n != 1 else ''}. See it with `/okr show {saved.key}`.")


def _saved_message(saved: Saved) -> str:
    return f":white_check_mark: Saved *{escape(saved.title)}* (`{saved.key}`)."


def submitter(store: Store, message: Callable[[Saved], str], *, kr_form: bool = False,
              keyed: bool = True) -> Callable[..., None]:
    """The view submission listener for one modal: ``keyed`` modals carry the key of what they
    edit in their metadata, and are ignored without it."""

    def on_submit(ack: Ack, view: dict[str, Any], client: WebClient, env: Env,
                  workspace_id: int, person: Actor | None, now: datetime) -> None:
        meta = view.get("private_metadata")
        if person is None or (keyed and ui.meta_key(meta) is None):
            ack()
            return
        actor = person

        def work(r: Reader) -> str:
            return message(store(r, actor, meta))

        _save(ack, view, client, env, workspace_id, actor, now, kr_form=kr_form, work=work)

    on_submit.__name__ = f"on_{store.__name__.strip('_')}_submit"
    return on_submit


on_new_submit = submitter(_create, _created_message, keyed=False)
on_edit_objective_submit = submitter(_edit_objective, _saved_message)
on_edit_kr_submit = submitter(_edit_kr, _saved_message, kr_form=True)


def register(app: App, env: Env) -> None:
    app.view(str(Callback.NEW_OBJECTIVE))(on_new_submit)
    app.view(str(Callback.EDIT_OBJECTIVE))(on_edit_objective_submit)
    app.view(str(Callback.EDIT_KR))(on_edit_kr_submit)
