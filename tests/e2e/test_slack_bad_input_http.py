"""Bad input to ``okr serve``'s Slack endpoint over real HTTP: malformed signing headers are a
401 before Bolt (never a 500), and a note Slack would pass through but the database cannot
store (a NUL character) is an error in the modal, not a 503."""

from __future__ import annotations

import time

import requests
from sqlalchemy import create_engine, text

from app.db import normalise_url
from tests.fixtures.served import Served
from tests.slack.state import submitted_values


def _headers(served: Served, body: str, **override: str | None) -> dict[str, str]:
    headers = served.req.sign(body, "application/x-www-form-urlencoded")
    for name, value in override.items():
        header = {"timestamp": "x-slack-request-timestamp",
                  "signature": "x-slack-signature"}[name]
        if value is None:
            headers.pop(header)
        else:
            headers[header] = value
    return headers


MALFORMED: dict[str, dict[str, str | None]] = {
    "non-numeric timestamp": {"timestamp": "abc"},
    "missing timestamp": {"timestamp": None},
    "empty timestamp": {"timestamp": ""},
    "huge timestamp": {"timestamp": "9" * 400},
    "timestamp past int digits limit": {"timestamp": "1" * 5000},
    "fractional timestamp": {"timestamp": "1700000000.5"},
    "signed timestamp": {"timestamp": "-1700000000"},
    "future timestamp": {"timestamp": str(int(time.time()) + 10**9)},
    "missing signature": {"signature": None},
    "empty signature": {"signature": ""},
    "short signature": {"signature": "v0=abc"},
    "non-hex signature": {"signature": "v0=" + "z" * 64},
    "non-ASCII signature": {"signature": "v0=" + "\xe9" * 64},
    "other version": {"signature": "v1=" + "0" * 64},
}


def test_malformed_signing_headers_are_401(served: Served) -> None:
    body = served.req.command("U0BOB", "mine").body
    answers = {}
    for case, override in MALFORMED.items():
        response = requests.post(served.events_url, data=body.encode(),
                                 headers=_headers(served, body, **override), timeout=10)
        answers[case] = response.status_code
    assert answers == dict.fromkeys(MALFORMED, 401)
    # Well-formed and signed still gets through.
    assert served.req.command("U0BOB", "mine").post(served.events_url).status_code == 200


def test_a_body_that_is_not_utf8_is_401_when_unsigned(served: Served) -> None:
    raw = b"payload=%7B%22type%22%3A\xff\xfe"
    headers = served.req.sign("x", "application/x-www-form-urlencoded")
    response = requests.post(served.events_url, data=raw, headers=headers, timeout=10)
    assert response.status_code == 401


def test_a_nul_in_a_modal_note_is_a_field_error(served: Served) -> None:
    served.req.command("U0CY", "checkin").post(served.events_url)
    view = served.fake.last_view()
    assert view is not None
    values = submitted_values(view, {"ci_value:kr-cy": "3", "ci_status:kr-cy": "green",
                                     "ci_note:kr-cy": "all good\x00 really"})
    response = served.req.view_submission("U0CY", view, values).post(served.events_url)
    assert response.status_code == 200
    body = response.json()
    assert body["response_action"] == "errors"
    assert "NUL" in " ".join(body["errors"].values())
    engine = create_engine(normalise_url(served.database_url))
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT count(*) FROM checkins c JOIN key_results k ON k.id = c.kr_id "
            "WHERE k.key = 'kr-cy' AND c.value = 3")).scalar()
    engine.dispose()
    assert rows == 0
