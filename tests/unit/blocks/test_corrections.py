"""The Edit and Undo builders: the summary's buttons, Home's recent check-ins, the Edit modal."""

from __future__ import annotations

from datetime import UTC, datetime

from app.domain import CheckinEntry, KRType
from blocks import checkin
from blocks.checkin_edit import edit_modal
from blocks.corrections import CorrectMeta, checkin_id, recent_blocks, summary_ids
from blocks.home import HomeData, home_view
from tests.slack.blockkit import validate_message, validate_view
from tests.unit.blocks.test_limits import LONG, kr

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def entry(i: int, **kw: object) -> CheckinEntry:
    values: dict[str, object] = dict(
        id=i, kr_key=f"kr-{i}", kr_title=LONG, at=AT, value=4.0, score=0.4, status="red",
        confidence="low", note=LONG * 5, blockers="waiting", can_undo=True)
    values.update(kw)
    return CheckinEntry(**values)  # type: ignore[arg-type]


def _action_ids(blocks: list[dict[str, object]]) -> list[str]:
    return [str(el["action_id"]) for b in blocks if b["type"] == "actions"  # type: ignore[index]
            for el in b["elements"]]  # type: ignore[attr-defined]


def test_summary_carries_edit_and_undo_within_limits() -> None:
    done = [checkin.CheckedIn.of(entry(i + 1000)) for i in range(60)]
    text, blocks = checkin.checked_in_message(done, when="now")
    assert validate_message({"text": text, "blocks": blocks}) == []
    ids = _action_ids(blocks)
    assert ids[:2] == ["okr_edit_checkin:1000", "okr_undo_checkin:1000"]
    assert len(ids) == 20  # the first 10 check-ins; the rest are plain lines
    assert summary_ids(blocks) == list(range(1000, 1010))


def test_an_undone_check_in_has_no_buttons_and_past_the_window_no_undo() -> None:
    done = [checkin.CheckedIn.of(entry(1, undone=True)),
            checkin.CheckedIn.of(entry(2, can_undo=False))]
    _, blocks = checkin.checked_in_message(done, when="now")
    assert _action_ids(blocks) == ["okr_edit_checkin:2"]
    assert "undone" in str(blocks[1])


def test_home_lists_recent_check_ins_with_their_buttons() -> None:
    view = home_view(HomeData(name="Ada", tz="UTC", cycle=None, my_krs=[],
                              recent_checkins=[entry(i, can_undo=i % 2 == 0)
                                               for i in range(1, 8)]))
    assert validate_view(view) == []
    ids = _action_ids(view["blocks"])
    assert "okr_edit_checkin:1" in ids and "okr_undo_checkin:1" not in ids
    assert "okr_undo_checkin:2" in ids and "okr_edit_checkin:6" not in ids  # five shown
    assert recent_blocks([]) == []


def test_edit_modal_starts_from_the_entry() -> None:
    meta = CorrectMeta(checkin_id=7, channel="D1", ts="1.2", shown=tuple(range(40)))
    view = edit_modal(kr(1), entry(7, value=6.0, status="green", note="typo"), meta=meta,
                      fields=("value", "status", "note", "confidence", "blockers"))
    assert validate_view(view) == []
    assert view["callback_id"] == "okr_correct_checkin"
    inputs = {b["block_id"].split(":")[0]: b["element"] for b in view["blocks"]
              if b["type"] == "input"}
    assert inputs["ci_value"]["initial_value"] == "6"
    assert inputs["ci_status"]["initial_option"]["value"] == "green"
    assert inputs["ci_note"]["initial_value"] == "typo"
    assert inputs["ci_blockers"]["initial_value"] == "waiting"
    assert "ci_same" not in inputs
    decoded = CorrectMeta.decode(view["private_metadata"])
    assert decoded == CorrectMeta(checkin_id=7, channel="D1", ts="1.2", shown=tuple(range(20)))
    manual = edit_modal(kr(2, KRType.MANUAL), entry(8, value=None, score=0.3, status=None),
                        meta=CorrectMeta(checkin_id=8))
    inputs = {b["block_id"].split(":")[0]: b["element"] for b in manual["blocks"]
              if b["type"] == "input"}
    assert inputs["ci_value"]["initial_value"] == "0.30"
    assert "initial_option" not in inputs["ci_status"]


def test_bad_metadata_and_values_read_as_nothing() -> None:
    assert CorrectMeta.decode("not json") is None
    assert CorrectMeta.decode('{"i": "x"}') is None
    assert CorrectMeta.decode(None) is None
    assert (checkin_id("12"), checkin_id("x"), checkin_id(""), checkin_id("9" * 30)) == (
        12, None, None, None)
