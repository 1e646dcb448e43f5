"""End-of-cycle Block Kit builders: pure, within Slack's limits, and read back correctly."""

from __future__ import annotations

from datetime import date

from blocks import review as ui
from blocks.ids import Block
from blocks.review_text import environment, md_cell, score, signed, tenth
from tests.slack.blockkit import validate_message, validate_view
from tests.slack.state import submitted_values


def row(i: int, **kw: object) -> ui.ScoreRow:
    base: dict[str, object] = dict(
        kr_key=f"kr{i}", kr_title=f"KR <{i}> & co", objective_title="Objective",
        owner_name="Bob", progress="3 → *5* → 10", computed=0.46)
    base.update(kw)
    return ui.ScoreRow(**base)  # type: ignore[arg-type]


def test_self_score_modal_preselects_and_stays_within_limits() -> None:
    rows = [row(i) for i in range(40)]
    view = ui.self_score_modal(rows, cycle_name="FY27-Q1", deadline=date(2026, 5, 9))
    assert validate_view(view) == []
    assert len(view["blocks"]) <= 100
    selects = [b for b in view["blocks"] if b.get("block_id", "").startswith("rv_self:")]
    assert len(selects) == ui.MAX_ROWS
    # No self score yet: the computed score, to the nearest tenth.
    assert selects[0]["element"]["initial_option"]["value"] == "0.5"
    assert "16 more after you save" in str(view["blocks"][-1])
    assert "KR &lt;0&gt; &amp; co" in view["blocks"][1]["text"]["text"]
    assert ui.cycle_of(view["private_metadata"]) == "FY27-Q1"


def test_lead_modal_shows_scores_side_by_side() -> None:
    view = ui.lead_review_modal([row(1, self_score=0.8, evidence="shipped", final=None),
                                 row(2)], cycle_name="FY27-Q1")
    assert validate_view(view) == []
    head = view["blocks"][1]["text"]["text"]
    assert "Computed *46%* · self (Bob) *80%*" in head and "> shipped" in head
    finals = {b["block_id"]: b for b in view["blocks"] if b.get("block_id", "").startswith(
        "rv_final:")}
    assert finals["rv_final:kr1"]["element"]["initial_option"]["value"] == "0.8"
    assert finals["rv_final:kr2"]["element"]["initial_option"]["value"] == "0.5"
    assert "_not yet_" in view["blocks"][5]["text"]["text"]


def test_parse_scores_reads_back_what_was_picked() -> None:
    view = ui.self_score_modal([row(1), row(2)], cycle_name="C")
    values = submitted_values(view, {"rv_self:kr2": "0.9", "rv_evidence:kr2": " links "})
    values["junk:kr1"] = {"junk:kr1": {"value": "x"}}
    got = ui.parse_scores(values, Block.REVIEW_SELF, Block.REVIEW_EVIDENCE)
    assert sorted(got) == [("kr1", "0.5", None), ("kr2", "0.9", "links")]


def test_reflect_modal_and_its_answers() -> None:
    view = ui.reflect_modal([("o1", "First"), ("o2", "Second")], cycle_name="C", chosen="o2")
    assert validate_view(view) == []
    about = view["blocks"][1]["element"]
    assert about["initial_option"]["value"] == "o2" and len(about["options"]) == 3
    answers = ui.parse_reflection(submitted_values(view, {"rf_objective": ui.WHOLE_CYCLE,
                                                          "rf_worked": "demos"}))
    assert answers == {"objective": None, "worked": "demos", "did_not_work": None,
                       "carry_forward": None}


def test_review_dm_buttons_follow_what_is_owed() -> None:
    msg = ui.review_dm(first_name="Ada", cycle_name="FY27-Q1", deadline=date(2026, 5, 9),
                       self_count=1, final_count=3, reminder=True)
    assert validate_message(msg) == []
    assert msg["text"].startswith("Reminder: FY27-Q1 is in review")
    actions = [e["action_id"] for e in msg["blocks"][1]["elements"]]
    assert actions == ["okr_open_self_score", "okr_open_lead_review", "okr_open_reflect"]
    only_final = ui.review_dm(first_name="Dee", cycle_name="X", deadline=date(2026, 5, 9),
                              self_count=0, final_count=2)
    assert [e["action_id"] for e in only_final["blocks"][1]["elements"]] == [
        "okr_open_lead_review", "okr_open_reflect"]
    assert only_final["text"].startswith("Hi Dee, X is in review")


def test_retro_message_splits_long_text_into_sections() -> None:
    text = "\n\n".join(f"*Part {i}*\n" + "x" * 900 for i in range(8))
    msg = ui.retro_message(text, cycle_name="FY27-Q1")
    assert validate_message(msg) == []
    sections = [b for b in msg["blocks"] if b["type"] == "section"]
    assert len(sections) >= 3 and all(len(b["text"]["text"]) <= 3000 for b in sections)
    assert "".join(b["text"]["text"] for b in sections).count("Part") == 8


def test_text_filters() -> None:
    # Score differences read as percentage points, like the scores themselves.
    assert signed(0.234) == "+23 pts" and signed(-0.1) == "−10 pts" and signed(0.001) == "±0 pts"
    assert signed(0.234, percent=False) == "+0.23" and signed(-0.1, percent=False) == "−0.10"
    assert signed(0.001, percent=False) == "±0" and signed(None) == ""
    assert score(0.6434) == "64%" and tenth(0.7) == "70%" and score(None) == "—"
    assert md_cell("a|b\nc") == "a\\|b c"


def test_mrkdwn_templates_escape_every_value_and_plain_ones_none() -> None:
    source = "{{ x }} · {{ n }} · {{ s | score }}"
    shown = environment(html=False, mrkdwn=True).from_string(source)
    assert shown.render(x="<!here> a & b", n=3, s=0.5) == "&lt;!here&gt; a &amp; b · 3 · 50%"
    plain = environment(html=False).from_string(source)
    assert plain.render(x="<!here> a & b", n=3, s=0.5) == "<!here> a & b · 3 · 50%"
