"""Pure builders: Block Kit limits hold for large and awkward inputs."""

from __future__ import annotations

from datetime import UTC, date, datetime

from app.domain import (
    Commitment,
    CyclePhase,
    CycleView,
    KRState,
    KRType,
    KRView,
    ObjectiveView,
    TrafficLight,
    Visibility,
)
from blocks import checkin, okrs
from blocks.editing import Choice, KRForm, ObjectiveForm, edit_kr_modal, new_objective_modal
from blocks.help import HelpEntry, help_message
from blocks.home import HomeData, TeamSummary, home_view
from blocks.prompt import PromptView
from blocks.reminder import nudge_message
from tests.slack.blockkit import validate_message, validate_options, validate_view

LONG = "Ü" * 600 + " <&> *bold*"
CYCLE = CycleView("FY27-Q1", date(2026, 2, 1), date(2026, 4, 30), CyclePhase.ACTIVE, 30, 89, 0.33)


def kr(i: int, kr_type: KRType = KRType.INCREASE, **kw: object) -> KRView:
    values: dict[str, object] = dict(
        key=f"kr-{i}-" + "k" * 80, title=LONG, kr_type=kr_type, objective_key="o",
        owner_slack_id="U1", owner_name="Ada", start=0.0, target=10.0, current=3.5,
        unit="u" * 32, weight=1.0, score=0.35, progress=0.35, status=TrafficLight.YELLOW,
        suggested_status=TrafficLight.RED, declared_status=None, previous_score=0.2,
        state=KRState.ACTIVE, last_checkin_at=datetime(2026, 3, 1, tzinfo=UTC),
        last_note=LONG * 5, last_blockers=LONG * 6)
    values.update(kw)
    return KRView(**values)  # type: ignore[arg-type]


def objective(i: int, krs: int = 5) -> ObjectiveView:
    return ObjectiveView(
        key=f"o{i}", title=LONG, cycle="FY27-Q1", team_key="eng", team_name=LONG,
        owner_slack_id="U1", owner_name="Ada", score=0.4, status=TrafficLight.GREEN,
        visibility=Visibility.PRIVATE, commitment=Commitment.ASPIRATIONAL,
        key_results=tuple(kr(i * 100 + j) for j in range(krs)), aligned_to="o0")


def test_checkin_modal_of_every_type_is_valid() -> None:
    krs = [kr(i, t) for i, t in enumerate(KRType)] + [kr(20, current=None, last_checkin_at=None)]
    pages = checkin.pages(krs)
    assert [len(p) for p in pages] == [10]
    view = checkin.modal(pages[0], meta=checkin.CheckinMeta(channel="D1", ts="1.2",
                                                            delivery_id=9), cycle_name=LONG)
    assert validate_view(view) == []
    assert len(view["blocks"]) <= 100


def test_checkin_pages_hold_ten_krs() -> None:
    krs = [kr(i) for i in range(25)]
    pages = checkin.pages(krs)
    assert [len(p) for p in pages] == [10, 10, 5]
    for n, page in enumerate(pages):
        meta = checkin.CheckinMeta(page=n, kr_keys=tuple(k.key for k in krs[:20]))
        view = checkin.modal(page, meta=meta, total_pages=3)
        assert validate_view(view) == [], n
        assert checkin.CheckinMeta.decode(view["private_metadata"]).page == n


def test_meta_and_open_value_survive_garbage() -> None:
    for raw in (None, "", "[]", "{", '{"p": -1, "c": 5, "d": "x", "k": "nope"}'):
        meta = checkin.CheckinMeta.decode(raw)
        assert meta.page == 0 and meta.channel is None
    assert checkin.parse_open_value('{"d": true, "k": [1, 2]}') == checkin.OpenRequest(
        None, ("1", "2"))
    assert checkin.parse_open_value(checkin.open_value(5, ["a"])) == checkin.OpenRequest(
        5, ("a",))


def test_parse_state_ignores_foreign_blocks() -> None:
    answers = checkin.parse_state({
        "other": {"x": {"value": "1"}}, "ci_value:": {"a": {"value": "1"}},
        "ci_value:k1": {"ci_value:k1": {"type": "number_input", "value": " 4 "}},
        "ci_note:k1": {"ci_note:k1": {"type": "plain_text_input", "value": "  "}},
        "ci_status:k1": {"ci_status:k1": {"selected_option": "green"}},
    })
    assert list(answers) == ["k1"]
    assert (answers["k1"].value_text, answers["k1"].note, answers["k1"].status) == (
        "4", None, None)


def test_home_with_lots_is_within_limits() -> None:
    data = HomeData(name=LONG, tz="Europe/Berlin", cycle=CYCLE, my_krs=[kr(i) for i in range(60)],
                    teams=[TeamSummary(LONG, 0.5, [objective(i, 1) for i in range(12)])
                           for _ in range(10)],
                    next_checkin=datetime(2026, 3, 2, 10, 0))
    view = home_view(data)
    assert validate_view(view) == []
    away = home_view(HomeData(name="Ada", tz="UTC", cycle=None, my_krs=[],
                              away_until=date(2026, 3, 9)))
    assert validate_view(away) == [] and "okr_come_back" in str(away)


def test_messages_are_within_limits() -> None:
    objs = [objective(i) for i in range(40)]
    text, blocks = okrs.objectives_message(LONG, CYCLE, objs)
    assert validate_message({"text": text, "blocks": blocks}) == []
    text, blocks = okrs.objective_detail(objs[0], CYCLE, objs[1:])
    assert validate_message({"text": text, "blocks": blocks}) == []
    text, blocks = okrs.kr_detail(kr(1), objs[0], [("Mon 2 Mar", LONG)] * 20)
    assert validate_message({"text": text, "blocks": blocks}) == []
    keys = [okrs.KeyDate(date(2026, 3, d), LONG) for d in range(1, 20)]
    text, blocks = okrs.cycle_message(CYCLE, date(2026, 3, 2), keys, 0.4)
    assert validate_message({"text": text, "blocks": blocks}) == []
    text, blocks = checkin.checked_in_message([kr(i) for i in range(60)], when="now", earlier=3)
    assert validate_message({"text": text, "blocks": blocks}) == []
    assert "63 key results" in text
    entries = [HelpEntry(f"cmd{i}", "<x>" * 20, LONG[:300]) for i in range(40)]
    text, blocks = help_message(entries, unknown="x" * 500)
    assert validate_message({"text": text, "blocks": blocks}) == []


def test_editing_modals_are_within_limits() -> None:
    choices = [Choice(str(i), LONG) for i in range(150)]
    form = ObjectiveForm(cycles=choices, teams=choices, cycle="3", team="nope",
                         owner_slack_id="U1", title=LONG, align=Choice("o:x", LONG))
    for slots in (1, 3, 6, 9):
        assert validate_view(new_objective_modal(form, slots)) == []
    view = edit_kr_modal("k", LONG, KRForm(title=LONG, kr_type="bogus", unit="x" * 50,
                                           start=1e20, state="weird"))
    assert validate_view(view) == []
    assert validate_options({"options": [{"text": {"type": "plain_text", "text": "x"},
                                          "value": "o:x"}]}) == []


def test_nudge_lists_the_waiting_krs_and_opens_the_modal_on_them() -> None:
    waiting = [kr(i) for i in range(12)]
    message = nudge_message(PromptView(delivery_id=7, first_name=LONG, cycle_name=LONG, day=30,
                                       total_days=89, krs=waiting), updated=2)
    assert validate_message(message) == []
    assert "2 key results already updated" in str(message["blocks"])
    button = next(e for b in message["blocks"] if b["type"] == "actions"
                  for e in b["elements"] if e["action_id"] == "okr_open_checkin")
    assert checkin.parse_open_value(button["value"]).kr_keys == tuple(k.key for k in waiting)
    many = [kr(i, key=f"{i:02d}" + "k" * 98) for i in range(20)]
    message = nudge_message(PromptView(delivery_id=7, first_name="Ada", cycle_name="Q",
                                       day=1, total_days=89, krs=many))
    assert validate_message(message) == []
    assert not any("already updated" in str(b) for b in message["blocks"])
