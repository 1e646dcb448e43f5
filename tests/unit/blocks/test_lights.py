"""Lights in Slack: outdated, pending and grades in KR lines, lists, Home and digests."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime

from app.domain import Grade, Light, TrafficLight
from blocks import digest, home, okrs
from blocks.common import kr_line
from tests.scheduler.test_digest import CYCLE, kr, obj

LAST = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_an_outdated_kr_is_grey_with_its_last_update_whatever_its_light() -> None:
    view = replace(kr("a", 0.9), stale=True, last_checkin_at=LAST)
    assert view.status == TrafficLight.GREEN and view.light == Light.OUTDATED
    line = kr_line(view)
    assert line.startswith(":white_circle: ") and "_no update since Mon 2 Mar 2026_" in line
    assert ":large_green_circle:" not in line


def test_a_kr_never_checked_in_is_pending_never_green() -> None:
    view = replace(kr("a", 0.0), pending=True)
    assert view.light == Light.PENDING
    line = kr_line(view)
    assert line.startswith(":hourglass_flowing_sand: ") and "_no check-in yet_" in line


def test_after_the_end_objective_lines_show_the_grade() -> None:
    strong = replace(obj("o1", 0.9, (replace(kr("a", 0.9), grade=Grade.STRONG),)),
                     grade=Grade.STRONG)
    assert strong.light == Light.STRONG
    head = okrs.objective_head(strong)
    assert head.startswith(":large_green_circle: ") and "_strong_" in head
    assert "_strong_" in home.objective_line(strong)
    assert ":large_yellow_circle:" not in head


def test_digest_lists_outdated_krs_apart_and_never_as_at_risk() -> None:
    outdated = replace(kr("a", 0.1, TrafficLight.RED), stale=True, last_checkin_at=LAST)
    pending = replace(kr("b", 0.0, TrafficLight.RED), pending=True)
    behind = kr("c", 0.1, TrafficLight.RED)
    (msg,) = digest.build(digest.DigestInput(
        team_name="Eng", cycle=CYCLE, objectives=[obj("o1", 0.1, (outdated, pending, behind),
                                                      TrafficLight.RED)],
        previous=None, previous_date=date(2026, 3, 6)))
    text = json.dumps(msg["blocks"], ensure_ascii=False)
    assert "1 at risk or behind pace" in text and "1 outdated" in text
    assert "*Outdated: no update for two check-in cadences*" in text
    assert ":white_circle: Key result a · <@U0ADA> · no update since Mon 2 Mar 2026" in text
    at_risk = text.split("*At risk or behind pace*")[1].split("*Outdated")[0]
    assert "Key result c" in at_risk and "Key result a" not in at_risk \
        and "Key result b" not in at_risk
