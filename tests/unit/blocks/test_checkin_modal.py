"""The check-in modal: the owner's word kept, and a view that fits on a screen."""

from __future__ import annotations

from typing import Any

import pytest

from app.domain import KRType, TrafficLight
from blocks import checkin
from blocks.ids import Block
from tests.slack.blockkit import validate_view
from tests.unit.blocks.test_limits import kr

ALL = ("value", "status", "note", "confidence", "blockers")


def _view(krs: list[Any], fields: tuple[str, ...] = checkin.DEFAULT_FIELDS) -> dict[str, Any]:
    return checkin.modal(krs, meta=checkin.CheckinMeta(), cycle_name="FY27-Q1", fields=fields)


def _block(view: dict[str, Any], prefix: Block, key: str) -> dict[str, Any]:
    return next(b for b in view["blocks"] if b.get("block_id") == f"{prefix}:{key}")


def test_three_krs_with_the_default_fields_fit_in_18_blocks() -> None:
    krs = [kr(1), kr(2, KRType.MILESTONE), kr(3, KRType.MANUAL)]
    view = _view(krs)
    print(f"check-in view, 3 KRs, default fields: {len(view['blocks'])} blocks")
    assert len(view["blocks"]) <= 18
    assert validate_view(view) == []
    ids = {b.get("block_id", "").split(":")[0] for b in view["blocks"]}
    assert str(Block.CHECKIN_CONFIDENCE) not in ids and str(Block.CHECKIN_BLOCKERS) not in ids
    note = _block(view, Block.CHECKIN_NOTE, krs[0].key)
    assert note["label"]["text"] == "What moved? Anything blocking?"
    # "no change" stays for every KR with an earlier check-in.
    assert all(any(b.get("block_id") == f"{Block.CHECKIN_NO_CHANGE}:{k.key}"
                   for b in view["blocks"]) for k in krs)


@pytest.mark.parametrize("n", [1, 3, 10])
def test_per_kr_blocks_are_one_plus_five(n: int) -> None:
    view = _view([kr(i) for i in range(n)])
    # intro + (header + value, status, note, no change, divider) per KR - the last divider
    assert len(view["blocks"]) == 1 + 6 * n - 1


def test_settings_add_confidence_and_blockers() -> None:
    one = kr(1)
    view = _view([one], ALL)
    assert validate_view(view) == []
    assert len(view["blocks"]) == 1 + 7
    assert _block(view, Block.CHECKIN_NOTE, one.key)["label"]["text"] == "What moved?"
    blockers = _block(view, Block.CHECKIN_BLOCKERS, one.key)
    assert blockers["element"]["initial_value"].startswith(str(one.last_blockers)[:100])
    _block(view, Block.CHECKIN_CONFIDENCE, one.key)
    # Without a note field, no note input at all.
    bare = _view([one], ("value", "status"))
    assert not any(b.get("block_id", "").startswith(str(Block.CHECKIN_NOTE))
                   for b in bare["blocks"])


def test_declared_status_is_preselected_with_the_pace_beside_it() -> None:
    declared = kr(1, declared_status=TrafficLight.YELLOW, suggested_status=TrafficLight.RED)
    status = _block(_view([declared]), Block.CHECKIN_STATUS, declared.key)
    assert status["element"]["initial_option"]["value"] == "yellow"
    assert status["hint"]["text"] == "Pace suggests: off track."


def test_never_declared_kr_gets_the_suggestion() -> None:
    fresh = kr(1, declared_status=None, suggested_status=TrafficLight.YELLOW)
    status = _block(_view([fresh]), Block.CHECKIN_STATUS, fresh.key)
    assert status["element"]["initial_option"]["value"] == "yellow"
    assert "Pace suggests: at risk (preselected" in status["hint"]["text"]


@pytest.mark.parametrize(("declared", "words"), [
    ((TrafficLight.GREEN, TrafficLight.RED), "each status is the one you last set."),
    ((None, None), "each status is the pace suggestion, as you have not set one yet."),
    ((TrafficLight.GREEN, None), "or the pace suggestion where you have not set one yet."),
])
def test_intro_says_what_is_prefilled(declared: tuple[TrafficLight | None, ...],
                                      words: str) -> None:
    view = _view([kr(i, declared_status=d) for i, d in enumerate(declared)])
    intro = view["blocks"][0]["text"]["text"]
    assert "Values show where each key result stands now" in intro
    assert intro.endswith(words)
    assert "prefilled with the last check-in" not in intro


def test_parse_state_reads_whatever_fields_are_present() -> None:
    answers = checkin.parse_state({
        "ci_value:k1": {"ci_value:k1": {"type": "number_input", "value": "4"}},
        "ci_status:k1": {"ci_status:k1": {"type": "radio_buttons",
                                          "selected_option": {"value": "red"}}},
        "ci_note:k1": {"ci_note:k1": {"type": "plain_text_input", "value": " moved "}},
        "ci_conf:k2": {"ci_conf:k2": {"type": "static_select",
                                      "selected_option": {"value": "low"}}},
    })
    one, two = answers["k1"], answers["k2"]
    assert (one.value_text, one.status, one.note) == ("4", "red", "moved")
    assert one.confidence is None and one.blockers is None and not one.no_change
    assert two.confidence == "low" and two.status is None and two.value_text is None
