"""Links and state changes move an issues KR's score, with a check-in saying why."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import AuditEntry, Checkin, IssueLink
from app.services.errors import InvalidValue, NotFound
from app.services.links import attach as links
from app.services.links.attach import ItemState
from tests.fixtures.web import seed

HOSTS = ["gitlab.com", "git.example.org"]
GL = "https://gitlab.com/acme/web/-/issues/12"
MR = "https://git.example.org/acme/platform/api/-/merge_requests/3"
GH_PR = "https://github.com/acme/api/pull/7"


def _checkins(session: Session, kr_id: int) -> list[Checkin]:
    return list(session.scalars(select(Checkin).where(Checkin.kr_id == kr_id)
                                .order_by(Checkin.id)))


def _link_all(session: Session, now: datetime) -> tuple[int, int]:
    org = seed(session, now)
    kr = org.krs["bugs"]
    for url, weight in ((GL, None), (MR, None), (GH_PR, 2.0)):
        links.add(session=session, workspace_id=org.workspace_id, kr=kr, url=url, weight=weight,
                  now=now, actor_label="cli", gitlab_hosts=HOSTS)
    return org.workspace_id, kr.id


def _state(provider: str, host: str, project: str, kind: str, number: int, state: str,
           at: datetime | None = None) -> ItemState:
    return ItemState(provider, host, project, kind, number, state, updated_at=at)


def test_add_stores_canonical_url_and_counts_open(session: Session, now: datetime) -> None:
    ws, kr_id = _link_all(session, now)
    rows = links.for_kr(session=session, workspace_id=ws, kr_id=kr_id)
    got = [(r.provider, r.host, r.project, r.kind, r.number, r.weight, r.closed) for r in rows]
    assert got == [
        ("gitlab", "gitlab.com", "acme/web", "issue", 12, 1.0, False),
        ("gitlab", "git.example.org", "acme/platform/api", "merge_request", 3, 1.0, False),
        ("github", "github.com", "acme/api", "pull_request", 7, 2.0, False),
    ]
    # All open: the score never moved, so no check-in was added.
    assert _checkins(session, kr_id) == []
    actions = session.scalars(select(AuditEntry.action).where(AuditEntry.workspace_id == ws)).all()
    assert actions.count("link.add") == 3


def test_close_merge_reopen_move_the_score_with_notes(session: Session, now: datetime) -> None:
    ws, kr_id = _link_all(session, now)
    steps = [
        (_state("gitlab", "gitlab.com", "acme/web", "issue", 12, "closed"), 0.25,
         "acme/web#12 closed"),
        (_state("github", "github.com", "acme/api", "pull_request", 7, "merged"), 0.75,
         "acme/api#7 merged"),
        (_state("gitlab", "gitlab.com", "acme/web", "issue", 12, "open"), 0.5,
         "acme/web#12 reopened"),
        (_state("gitlab", "git.example.org", "acme/platform/api", "merge_request", 3, "merged"),
         0.75, "acme/platform/api!3 merged"),
    ]
    for i, (item, score, note) in enumerate(steps):
        result = links.apply_state(session=session, item=item, now=now + timedelta(minutes=i),
                                   actor_label="test", workspace_id=ws)
        assert (result.matched, result.changed, result.checkins) == (1, 1, 1)
        last = _checkins(session, kr_id)[-1]
        assert (last.source, last.score, last.note) == ("issues", pytest.approx(score), note)
    assert len(_checkins(session, kr_id)) == 4


def test_same_state_twice_changes_nothing(session: Session, now: datetime) -> None:
    ws, kr_id = _link_all(session, now)
    item = _state("gitlab", "gitlab.com", "acme/web", "issue", 12, "closed")
    links.apply_state(session=session, item=item, now=now, actor_label="t", workspace_id=ws)
    again = links.apply_state(session=session, item=item, now=now, actor_label="t",
                              workspace_id=ws)
    assert (again.matched, again.changed, again.checkins) == (1, 0, 0)
    assert len(_checkins(session, kr_id)) == 1


def test_closed_unmerged_pull_request_counts_as_open(session: Session, now: datetime) -> None:
    ws, _kr_id = _link_all(session, now)
    result = links.apply_state(
        session=session, item=_state("github", "github.com", "acme/api", "pull_request", 7,
                                     "closed"), now=now, actor_label="t", workspace_id=ws)
    assert (result.changed, result.checkins) == (1, 0)
    link = session.scalars(select(IssueLink).where(IssueLink.number == 7)).one()
    assert (link.state, link.closed) == ("closed", False)


def test_late_older_event_is_ignored(session: Session, now: datetime) -> None:
    ws, _kr_id = _link_all(session, now)
    t0 = now - timedelta(hours=1)
    close = _state("gitlab", "gitlab.com", "acme/web", "issue", 12, "closed", now)
    stale_open = _state("gitlab", "gitlab.com", "acme/web", "issue", 12, "open", t0)
    links.apply_state(session=session, item=close, now=now, actor_label="t", workspace_id=ws)
    late = links.apply_state(session=session, item=stale_open, now=now, actor_label="t",
                             workspace_id=ws)
    assert late.changed == 0
    assert session.scalars(select(IssueLink.closed).where(IssueLink.number == 12)).one() is True


def test_github_issue_url_matches_pull_request_events(session: Session, now: datetime) -> None:
    org = seed(session, now)
    kr = org.krs["bugs"]
    links.add(session=session, workspace_id=org.workspace_id, kr=kr,
              url="https://github.com/Acme/API/issues/9", now=now, actor_label="t",
              gitlab_hosts=HOSTS)
    result = links.apply_state(
        session=session, item=_state("github", "github.com", "acme/api", "pull_request", 9,
                                     "merged"), now=now, actor_label="t",
        workspace_id=org.workspace_id)
    assert result.checkins == 1
    link = session.scalars(select(IssueLink).where(IssueLink.kr_id == kr.id)).one()
    assert (link.kind, link.closed) == ("pull_request", True)


def test_unlink_and_weight_change_are_history(session: Session, now: datetime) -> None:
    org = seed(session, now)
    kr = org.krs["bugs"]
    args = dict(session=session, workspace_id=org.workspace_id, kr=kr, now=now,
                actor_label="t", gitlab_hosts=HOSTS)
    links.add(url=GL, **args)  # type: ignore[arg-type]
    links.add(url=GH_PR, **args)  # type: ignore[arg-type]
    links.apply_state(session=session, item=_state("gitlab", "gitlab.com", "acme/web", "issue",
                                                   12, "closed"), now=now, actor_label="t",
                      workspace_id=org.workspace_id)
    _, created = links.add(url=GL, weight=3.0, **args)  # type: ignore[arg-type]
    assert created is False
    links.remove(url=GH_PR + "/", **args)  # type: ignore[arg-type]
    notes = [(c.note, c.score) for c in _checkins(session, kr.id)]
    assert notes == [("acme/web#12 closed", 0.5), ("acme/web#12 weight 1 -> 3", 0.75),
                     ("unlinked acme/api#7", 1.0)]
    with pytest.raises(NotFound):
        links.remove(url=GH_PR, **args)  # type: ignore[arg-type]


@pytest.mark.parametrize(("url", "field"), [
    ("https://bitbucket.org/acme/web/issues/1", "url"),
    ("https://gitlab.evil.test/acme/web/-/issues/1", "url"),
    ("https://github.com/acme/api/commits/7", "url"),
    ("not a url", "url"),
    ("http://[::1/a/b/-/issues/1", "url"),
    ("https://gitlab.com:99999/a/b/-/issues/1", "url"),
])
def test_bad_urls_are_refused_and_change_nothing(session: Session, now: datetime, url: str,
                                                 field: str) -> None:
    org = seed(session, now)
    with pytest.raises(InvalidValue) as err:
        links.add(session=session, workspace_id=org.workspace_id, kr=org.krs["bugs"], url=url,
                  now=now, actor_label="t", gitlab_hosts=HOSTS)
    assert err.value.field == field
    assert session.scalars(select(IssueLink)).all() == []


def test_only_issues_krs_take_links_and_weights_are_checked(session: Session,
                                                            now: datetime) -> None:
    org = seed(session, now)
    with pytest.raises(InvalidValue, match="only 'issues' key results"):
        links.add(session=session, workspace_id=org.workspace_id, kr=org.krs["ttfv"], url=GL,
                  now=now, actor_label="t", gitlab_hosts=HOSTS)
    for bad in (0.0, -1.0, float("nan"), 1e9):
        with pytest.raises(InvalidValue) as err:
            links.add(session=session, workspace_id=org.workspace_id, kr=org.krs["bugs"], url=GL,
                      weight=bad, now=now, actor_label="t", gitlab_hosts=HOSTS)
        assert err.value.field == "weight"


def test_apply_can_be_limited_to_one_workspace(session: Session,
                                                          now: datetime) -> None:
    a = seed(session, now, name="a", slack_id="U1")
    b = seed(session, now, name="b", slack_id="U2")
    for org in (a, b):
        links.add(session=session, workspace_id=org.workspace_id, kr=org.krs["bugs"], url=GL,
                  now=now, actor_label="t", gitlab_hosts=HOSTS)
    result = links.apply_state(session=session, item=_state("gitlab", "gitlab.com", "acme/web",
                                                            "issue", 12, "closed"),
                               now=now, actor_label="t", workspace_id=a.workspace_id)
    assert result.checkins == 1
    assert [c.kr_id for c in session.scalars(select(Checkin))] == [a.krs["bugs"].id]


def test_replace_all_makes_the_set_exact(session: Session, now: datetime) -> None:
    org = seed(session, now)
    kr = org.krs["bugs"]
    args = dict(session=session, workspace_id=org.workspace_id, kr=kr, now=now,
                actor_label="import", gitlab_hosts=HOSTS)
    links.replace_all(entries=[(GL, 1.0), (MR, 2.0)], **args)  # type: ignore[arg-type]
    links.replace_all(entries=[(MR, 1.0), (GH_PR, 1.0)], **args)  # type: ignore[arg-type]
    rows = links.for_kr(session=session, workspace_id=org.workspace_id, kr_id=kr.id)
    assert sorted((r.url, r.weight) for r in rows) == [
        ("https://git.example.org/acme/platform/api/-/merge_requests/3", 1.0),
        ("https://github.com/acme/api/pull/7", 1.0),
    ]


def test_links_written_by_imports_keep_their_case_and_still_match(session: Session,
                                                                  now: datetime) -> None:
    org = seed(session, now)
    session.add(IssueLink(workspace_id=org.workspace_id, kr_id=org.krs["bugs"].id,
                          url="https://gitlab.com/Acme/Web/-/issues/3", provider="gitlab",
                          host="gitlab.com", project="Acme/Web", kind="issue", number=3,
                          weight=1.0, closed=False, created_at=now))
    session.flush()
    result = links.apply_state(session=session, item=_state("gitlab", "gitlab.com", "Acme/Web",
                                                            "issue", 3, "closed"),
                               now=now, actor_label="t", workspace_id=org.workspace_id)
    assert (result.matched, result.checkins) == (1, 1)
    _, created = links.add(session=session, workspace_id=org.workspace_id, kr=org.krs["bugs"],
                           url="https://gitlab.com/acme/web/-/issues/3", now=now,
                           actor_label="t", gitlab_hosts=HOSTS)
    assert created is False
