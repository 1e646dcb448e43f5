"""``okr tracker add|list|remove`` and the link commands' allow-list, through the real CLI."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select, text

from app.bootstrap import bootstrap
from app.cli import main
from app.config import Settings
from app.db import unit_of_work
from app.models import IssueLink, TrackerConnection
from app.services.links import connections
from app.services.tenancy.secrets import TokenCipher
from tests.fixtures.web import seed

TOKEN = "glpat-abcdefghijklmnop1234"
KEY = "the operator's key"


@pytest.fixture()
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'okr.db'}")
    monkeypatch.setenv("OKR_SECRET_KEY", KEY)
    container = bootstrap(Settings(), migrate=True)
    with unit_of_work(container.session_factory) as s:
        seed(s, datetime(2026, 3, 2, tzinfo=UTC))
        seed(s, datetime(2026, 3, 2, tzinfo=UTC), name="beta", slack_id="U0B")
    container.close()
    yield Settings()


def _run(*args: str, input: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), input=input)
    return result.exit_code, result.stdout, result.stderr


def test_rotation_re_encrypts_tracker_tokens_and_secrets(
        cli_env: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, err = _run("tracker", "add", "github", "--host", "github.com",
                          "--workspace", "acme", input=TOKEN + "\n")
    assert code == 0, out + err
    monkeypatch.setenv("OKR_SECRET_KEY", "the next key")
    monkeypatch.setenv("OKR_SECRET_KEY_OLD", KEY)
    code, out, err = _run("secrets", "rotate")
    assert code == 0, out + err
    assert "tracker_connections: 2 re-encrypted" in out
    bootstrapped = bootstrap(Settings(), migrate=False)
    with unit_of_work(bootstrapped.session_factory) as s:
        token, _ = s.execute(text("SELECT token, webhook_secret FROM tracker_connections")).one()
        assert TokenCipher("the next key").decrypt(token) == TOKEN
        conn = connections.for_fetch(session=s, settings=Settings(),
                                     workspace_id=s.scalars(select(TrackerConnection)).one()
                                     .workspace_id, provider="github", host="github.com")
        assert conn.token == TOKEN
    bootstrapped.close()


def test_add_list_remove_keeps_the_token_encrypted(cli_env: Settings) -> None:
    code, out, err = _run("tracker", "add", "gitlab", "--host", "GitLab.Example.com",
                          "--workspace", "acme", input=TOKEN + "\n")
    assert code == 0, out + err
    assert "webhook URL: https://<this service>/webhooks/gitlab/" in out
    secret = out.split("webhook secret: ")[1].strip()
    assert "not shown again" in err and TOKEN not in out + err

    bootstrapped = bootstrap(cli_env, migrate=False)
    with unit_of_work(bootstrapped.session_factory) as s:
        row = s.scalars(select(TrackerConnection)).one()
        raw = s.execute(text("SELECT token, webhook_secret FROM tracker_connections")).one()
        assert row.host == "gitlab.example.com"
        assert all(v.startswith("enc:v1:") for v in raw) and TOKEN not in raw[0]
        assert TokenCipher(KEY).decrypt(raw[0]) == TOKEN
        assert TokenCipher(KEY).decrypt(raw[1]) == secret
        conn = connections.for_fetch(session=s, settings=cli_env, workspace_id=row.workspace_id,
                                     provider="gitlab", host="gitlab.example.com")
        assert (conn.token, conn.source) == (TOKEN, "stored")
    bootstrapped.close()

    code, out, _ = _run("tracker", "list", "--workspace", "acme")
    assert code == 0 and "gitlab.example.com" in out and "...1234" in out
    assert TOKEN not in out and secret not in out
    code, out, _ = _run("tracker", "list", "--workspace", "beta")
    assert "no tracker connections in workspace 'beta'" in out

    # The host is now allowed for acme's links, and only acme's.
    url = "https://gitlab.example.com/acme/web/-/issues/3"
    assert _run("link", "--no-fetch", url, "beta-bugs", "--workspace", "beta")[0] == 1
    code, out, err = _run("link", "--no-fetch", url, "acme-bugs", "--workspace", "acme")
    assert code == 0, out + err

    code, out, _ = _run("tracker", "remove", "gitlab.example.com", "--workspace", "acme")
    assert code == 0 and "removed tracker" in out
    assert "no tracker connections" in _run("tracker", "list", "--workspace", "acme")[1]


def test_add_refuses_without_a_key_and_bad_hosts(cli_env: Settings,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    for host in ("127.0.0.1", "169.254.169.254", "user@gitlab.example.com", "a/b"):
        code, _, err = _run("tracker", "add", "gitlab", "--host", host, "--workspace", "acme",
                            input="\n")
        assert code == 1 and "Error:" in err and "Traceback" not in err, (host, err)
    code, _, err = _run("tracker", "add", "gitlab", "--host", "gitlab.example.com",
                        "--api-url", "http://gitlab.example.com/api/v4", "--workspace", "acme",
                        input="\n")
    assert code == 1 and "https://" in err
    monkeypatch.delenv("OKR_SECRET_KEY")
    code, _, err = _run("tracker", "add", "github", "--workspace", "acme", input=TOKEN + "\n")
    assert code == 1 and "set OKR_SECRET_KEY first" in err


def test_link_refuses_other_hosts_and_huge_numbers_in_one_line(cli_env: Settings) -> None:
    for url in ("https://gitlab.evil.example/acme/web/-/issues/1",
                "https://gitlab.com/acme/web/-/issues/" + "9" * 30):
        code, out, err = _run("link", "--no-fetch", url, "acme-bugs", "--workspace", "acme")
        assert code == 1 and "Traceback" not in out + err
        assert len(err.strip().splitlines()) == 1 and "not a link we can track" in err
    bootstrapped = bootstrap(cli_env, migrate=False)
    with unit_of_work(bootstrapped.session_factory) as s:
        assert s.scalars(select(IssueLink)).all() == []
    bootstrapped.close()


def test_import_refuses_a_link_to_another_host(cli_env: Settings, tmp_path: Path) -> None:
    path = tmp_path / "okrs.yaml"
    path.write_text("""
cycles:
  - {name: FY27-Q2, start: 2026-05-01, end: 2026-07-31}
people:
  - {slack_id: U0ADA, name: Ada}
objectives:
  - id: grow
    cycle: FY27-Q2
    owner: U0ADA
    title: Grow
    key_results:
      - id: links
        title: Ship it
        type: issues
        links: ["https://169.254.169.254/latest/meta-data/-/issues/1"]
""")
    code, out, err = _run("import", str(path), "--workspace", "acme")
    assert code == 1, out + err
    assert "objectives[0].key_results[0].links[0]: 169.254.169.254 is neither github.com" in err
    assert "nothing was imported" in err


JIRA_TOKEN = "ATATT3xFfGF0-jira-token-5678"


def test_a_jira_connection_with_its_account_email(cli_env: Settings) -> None:
    code, _, err = _run("tracker", "add", "jira", "--host", "acme.atlassian.net",
                        "--workspace", "acme", input=JIRA_TOKEN + "\n")
    assert code == 1 and "--email" in err and "Traceback" not in err
    code, _, err = _run("tracker", "add", "jira", "--email", "someone@acme.com",
                        "--workspace", "acme", input=JIRA_TOKEN + "\n")
    assert code == 1 and "names its site" in err
    code, out, err = _run("tracker", "add", "jira", "--host", "acme.atlassian.net", "--email",
                          "someone@acme.com", "--workspace", "acme", input=JIRA_TOKEN + "\n")
    assert code == 0, out + err
    assert "jira acme.atlassian.net" in out and "/webhooks/jira/" in out
    assert JIRA_TOKEN not in out + err
    code, out, _ = _run("tracker", "list", "--workspace", "acme")
    assert code == 0 and "jira" in out and "https://acme.atlassian.net" in out
    assert "...5678 (someone@acme.com)" in out and JIRA_TOKEN not in out
    bootstrapped = bootstrap(cli_env, migrate=False)
    with unit_of_work(bootstrapped.session_factory) as s:
        row = s.scalars(select(TrackerConnection)).one()
        assert (row.provider, row.account) == ("jira", "someone@acme.com")
        assert row.token and JIRA_TOKEN not in row.token
    bootstrapped.close()
    code, out, err = _run("link", "--no-fetch", "https://acme.atlassian.net/browse/PAY-7",
                          "acme-bugs", "--workspace", "acme")
    assert code == 0, out + err
    # A malformed key is refused in one line, with the reason.
    code, out, err = _run("link", "--no-fetch", "https://acme.atlassian.net/browse/7-PAY",
                          "acme-bugs", "--workspace", "acme")
    assert code == 1 and "not a Jira project key" in err and "Traceback" not in out + err


LINEAR_KEY = "lin_api_abcdefghijklmnop9876"


def test_add_linear_with_the_canceled_setting_and_list_it(cli_env: Settings) -> None:
    code, out, err = _run("tracker", "add", "linear", "--canceled-counts-as-done",
                          "--workspace", "acme", input=LINEAR_KEY + "\n")
    assert code == 0, out + err
    assert "linear linear.app for workspace 'acme'" in out
    assert "webhook URL: https://<this service>/webhooks/linear/" in out
    assert LINEAR_KEY not in out + err
    code, out, err = _run("tracker", "add", "linear", "--workspace", "beta",
                          input=LINEAR_KEY + "\n")
    assert code == 0, out + err

    bootstrapped = bootstrap(cli_env, migrate=False)
    with unit_of_work(bootstrapped.session_factory) as s:
        rows = s.scalars(select(TrackerConnection).order_by(TrackerConnection.id)).all()
        assert [(r.provider, r.host, r.canceled_counts_as_done) for r in rows] == [
            ("linear", "linear.app", True), ("linear", "linear.app", False)]
        raw = s.execute(text("SELECT token FROM tracker_connections")).scalars().all()
        assert all(v.startswith("enc:v1:") and LINEAR_KEY not in v for v in raw)
        conn = connections.for_fetch(session=s, settings=cli_env,
                                     workspace_id=rows[0].workspace_id, provider="linear",
                                     host="linear.app")
        assert (conn.token, conn.api_url, conn.canceled_done) == (
            LINEAR_KEY, "https://api.linear.app", True)
    bootstrapped.close()

    code, out, _ = _run("tracker", "list", "--workspace", "acme")
    assert code == 0 and "linear" in out and "...9876" in out
    assert "canceled counts as done: yes" in out and LINEAR_KEY not in out
    assert "canceled counts as done: no" in _run("tracker", "list", "--workspace", "beta")[1]

    # Linear links need no allow-list entry; a malformed one is refused with the reason.
    code, out, err = _run("link", "--no-fetch", "https://linear.app/acme/issue/ENG-12/a-title",
                          "acme-bugs", "--workspace", "acme")
    assert code == 0, out + err
    code, out, err = _run("link", "--no-fetch", "https://linear.app/acme/issue/ENG-x",
                          "acme-bugs", "--workspace", "acme")
    assert code == 1 and "does not end in an issue number" in err and "Traceback" not in err
    bootstrapped = bootstrap(cli_env, migrate=False)
    with unit_of_work(bootstrapped.session_factory) as s:
        link = s.scalars(select(IssueLink)).one()
        assert (link.provider, link.project, link.number, link.url) == (
            "linear", "acme/ENG", 12, "https://linear.app/acme/issue/ENG-12")
    bootstrapped.close()


def test_add_linear_refuses_another_host_and_the_setting_elsewhere(cli_env: Settings) -> None:
    code, _, err = _run("tracker", "add", "linear", "--host", "linear.example.com",
                        "--workspace", "acme", input=LINEAR_KEY + "\n")
    assert code == 1 and "Linear connections are for linear.app" in err
    code, _, err = _run("tracker", "add", "github", "--canceled-counts-as-done",
                        "--workspace", "acme", input=TOKEN + "\n")
    assert code == 1 and "only Linear issues can be canceled" in err


def test_set_takes_linears_own_signing_secret_and_the_canceled_setting(
        cli_env: Settings) -> None:
    code, out, err = _run("tracker", "add", "linear", "--workspace", "acme",
                          input=LINEAR_KEY + "\n")
    assert code == 0, out + err
    hook_key = out.split("/webhooks/linear/")[1].split()[0]
    linears = "lin_wh_generated_by_linear_0123"
    code, out, err = _run("tracker", "set", "linear.app", "--webhook-secret",
                          "--canceled-counts-as-done", "--workspace", "acme",
                          input=linears + "\n")
    assert code == 0, out + err
    assert "canceled counts as done: yes" in out and linears not in out + err
    bootstrapped = bootstrap(cli_env, migrate=False)
    with unit_of_work(bootstrapped.session_factory) as s:
        conn = connections.by_hook_key(session=s, settings=cli_env, provider="linear",
                                       key=hook_key)
        assert conn is not None and (conn.webhook_secret, conn.canceled_done) == (linears, True)
        raw = s.execute(text("SELECT webhook_secret FROM tracker_connections")).scalar_one()
        assert raw.startswith("enc:v1:") and linears not in raw
    bootstrapped.close()
    code, out, _ = _run("tracker", "set", "linear.app", "--canceled-not-done",
                        "--workspace", "acme")
    assert code == 0 and "canceled counts as done: no" in out
    # Nothing to change, another workspace's connection, the setting on GitHub: refused.
    assert "nothing to change" in _run("tracker", "set", "linear.app",
                                       "--workspace", "acme")[2]
    assert "no tracker connection" in _run("tracker", "set", "linear.app", "--canceled-not-done",
                                           "--workspace", "beta")[2]
    _run("tracker", "add", "github", "--workspace", "acme", input=TOKEN + "\n")
    code, _, err = _run("tracker", "set", "github.com", "--canceled-not-done",
                        "--workspace", "acme")
    assert code == 1 and "only Linear issues can be canceled" in err
