"""``okr token``, ``okr link`` / ``okr unlink`` and ``okr sync-issues`` from the command line."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from app.bootstrap import Container, bootstrap
from app.cli import main
from app.config import Settings
from app.db import unit_of_work
from app.models import ApiToken, Checkin, IssueLink, KeyResult
from app.services.links import queries
from app.services.links.query_specs import from_mapping
from app.services.tenancy import tokens
from tests.fakeforge import FakeGitLab, running
from tests.fixtures.web import seed


@pytest.fixture()
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Container]:
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'okr.db'}")
    container = bootstrap(Settings(), migrate=True)
    with unit_of_work(container.session_factory) as s:
        seed(s, datetime(2026, 3, 2, tzinfo=UTC))
    yield container
    container.close()


def test_token_lifecycle(cli_env: Container) -> None:
    runner = CliRunner()
    created = runner.invoke(main, ["token", "create", "ci"])
    assert created.exit_code == 0, created.output
    secret = created.stdout.strip().splitlines()[0]
    assert secret.startswith("okr_") and "not shown again" in created.stderr
    with unit_of_work(cli_env.session_factory) as s:
        row = s.scalars(select(ApiToken)).one()
        assert row.token_hash == tokens.hash_secret(secret) and secret not in row.prefix
    listed = runner.invoke(main, ["token", "list"])
    assert "ci" in listed.stdout and secret not in listed.stdout and "REVOKED" not in listed.stdout
    assert runner.invoke(main, ["token", "revoke", "ci"]).exit_code == 0
    assert "REVOKED" in runner.invoke(main, ["token", "list"]).stdout
    again = runner.invoke(main, ["token", "revoke", "ci"])
    assert again.exit_code == 1 and "no live token" in again.stderr


def test_link_fetches_state_then_unlink(cli_env: Container, monkeypatch: pytest.MonkeyPatch
                                        ) -> None:
    with running(FakeGitLab()) as forge:
        forge.add("acme/web", "issue", 12, "closed")
        monkeypatch.setenv("OKR_GITLAB_API_URL", f"{forge.url}/api/v4")
        monkeypatch.setenv("OKR_ALLOW_PRIVATE_HOSTS", "127.0.0.1")
        runner = CliRunner()
        url = "https://gitlab.com/acme/web/-/issues/12"
        done = runner.invoke(main, ["link", url, "acme-bugs", "--weight", "2"])
        assert done.exit_code == 0, done.output
        assert f"linked {url} -> acme-bugs (weight 2)" in done.stdout
        with unit_of_work(cli_env.session_factory) as s:
            assert s.scalars(select(IssueLink.closed)).one() is True
            assert s.scalars(select(Checkin.note)).all() == [
                "acme/web#12 closed (found by reconciliation)"]
        again = runner.invoke(main, ["link", url, "acme-bugs", "--weight", "3"])
        assert f"{url} is already linked to acme-bugs (weight 3)" in again.stdout
        gone = runner.invoke(main, ["unlink", url, "acme-bugs"])
        assert gone.exit_code == 0 and "unlinked" in gone.stdout


@pytest.mark.parametrize(("args", "message"), [
    (["link", "https://example.com/a/b/issues/1", "acme-bugs"], "not a link we can track"),
    (["link", "https://gitlab.com/a/b/-/issues/1", "nope"], "no key result 'nope'"),
    (["link", "https://gitlab.com/a/b/-/issues/1", "acme-ttfv"], "only 'issues' key results"),
    (["unlink", "https://gitlab.com/a/b/-/issues/1", "acme-bugs"], "is not linked"),
    (["link", "https://gitlab.com/a/b/-/issues/1", "acme-bugs", "--weight", "0"], "weight"),
])
def test_bad_input_is_a_message_and_changes_nothing(cli_env: Container, args: list[str],
                                                    message: str) -> None:
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1 and message in result.stderr
    assert "Traceback" not in result.output
    with unit_of_work(cli_env.session_factory) as s:
        assert s.scalars(select(IssueLink)).all() == []


def test_sync_issues_reports_and_fails_on_errors(cli_env: Container,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    with running(FakeGitLab()) as forge:
        forge.add("acme/web", "issue", 12, "closed")
        monkeypatch.setenv("OKR_GITLAB_API_URL", f"{forge.url}/api/v4")
        monkeypatch.setenv("OKR_ALLOW_PRIVATE_HOSTS", "127.0.0.1")
        runner = CliRunner()
        runner.invoke(main, ["link", "--no-fetch", "https://gitlab.com/acme/web/-/issues/12",
                             "acme-bugs"])
        ok = runner.invoke(main, ["sync-issues"])
        assert ok.exit_code == 0 and "1 changed state, 1 key result(s) moved" in ok.stdout
        forge.inject_429(count=10, retry_after=3600)
        limited = runner.invoke(main, ["sync-issues", "--max-wait", "5"])
        assert limited.exit_code == 1 and "rate limited" in limited.stderr


def test_import_reads_the_state_of_new_links_where_a_token_is_set(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An item merged before it was linked counts as done right after ``okr import``."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'okr.db'}")
    with running(FakeGitLab()) as forge:
        assert isinstance(forge, FakeGitLab)
        forge.token = "glpat-test"
        forge.add("acme/web", "issue", 12, "closed")
        monkeypatch.setenv("OKR_GITLAB_API_URL", f"{forge.url}/api/v4")
        monkeypatch.setenv("OKR_GITLAB_TOKEN", "glpat-test")
        monkeypatch.setenv("OKR_ALLOW_PRIVATE_HOSTS", "127.0.0.1")
        example = tmp_path / "okrs.yaml"
        example.write_text("""
cycles: [{name: FY27-Q1, start: 2026-02-01, end: 2026-04-30, phase: active}]
people: [{slack_id: U0ADA, name: Ada, tz: Europe/Berlin}]
objectives:
  - id: onboarding
    cycle: FY27-Q1
    owner: U0ADA
    title: Deliver an exceptional onboarding
    key_results:
      - id: bugs
        title: Close the onboarding bugs
        type: issues
        links: ["https://gitlab.com/acme/web/-/issues/12", "https://github.com/acme/api/pull/7"]
""", encoding="utf-8")
        result = CliRunner().invoke(main, ["import", str(example)])
        assert result.exit_code == 0, result.output
        # GitLab's item is read at once; GitHub has no token here, so it waits for a sync.
        assert "links: read the state of 1 from their trackers" in result.stdout
        container = bootstrap(Settings(), migrate=False)
        with unit_of_work(container.session_factory) as s:
            states = {lk.host: (lk.state, lk.closed) for lk in s.scalars(select(IssueLink))}
        container.close()
        assert states == {"gitlab.com": ("closed", True), "github.com": ("unknown", False)}
        again = CliRunner().invoke(main, ["import", str(example)])
        assert "links: read" not in again.stdout  # nothing new: no tracker call


def test_show_lists_a_kr_s_search_and_items_open_first(cli_env: Container,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """``okr show KR`` of an issues KR: its saved search, then its items (open, done, left)."""
    with running(FakeGitLab()) as forge:
        assert isinstance(forge, FakeGitLab)
        forge.add("acme/web", "issue", 1, "closed", labels=["okr"])
        forge.add("acme/web", "issue", 2, "opened", labels=["okr"])
        monkeypatch.setenv("OKR_GITLAB_API_URL", f"{forge.url}/api/v4")
        monkeypatch.setenv("OKR_ALLOW_PRIVATE_HOSTS", "127.0.0.1")
        runner = CliRunner()
        with unit_of_work(cli_env.session_factory) as s:
            kr = s.scalars(select(KeyResult).where(KeyResult.key == "acme-bugs")).one()
            queries.set_query(session=s, workspace_id=kr.workspace_id, kr=kr,
                              spec=from_mapping({"provider": "gitlab", "project": "acme/web",
                                                 "labels": ["okr"]}),
                              now=kr.created_at, actor_label="t", gitlab_hosts=["gitlab.com"])
        assert runner.invoke(main, ["sync-issues"]).exit_code == 0
        forge.set_labels("acme/web", "issue", 2, [])  # leaves the search
        forge.add("acme/web", "issue", 3, "opened", labels=["okr"])
        assert runner.invoke(main, ["sync-issues"]).exit_code == 0
        runner.invoke(main, ["link", "--no-fetch", "https://gitlab.com/acme/web/-/issues/9",
                             "acme-bugs"])
        shown = runner.invoke(main, ["show", "acme-bugs"])
    assert shown.exit_code == 0, shown.output
    lines = [ln for ln in shown.stdout.splitlines() if ln.startswith(("  search", "  link"))]
    assert lines == [
        "  search      gitlab acme/web labels=okr",
        "  link        acme/web#3 open, from the search, weight 1: "
        "https://gitlab.com/acme/web/-/issues/3 (item)",
        "  link        acme/web#9 not read yet, weight 1: https://gitlab.com/acme/web/-/issues/9",
        "  link        acme/web#1 done, from the search, weight 1: "
        "https://gitlab.com/acme/web/-/issues/1 (item)",
        "  link        acme/web#2 left the search, weight 1: "
        "https://gitlab.com/acme/web/-/issues/2 (item)",
    ]
