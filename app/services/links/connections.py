"""Each workspace's tracker connections: the token its links are fetched with and the secret
its webhooks are verified with.

A connection is stored per (workspace, provider, host) (a Jira connection also keeps the
account email its API token is used with), its token and webhook secret encrypted
with :class:`~app.services.tenancy.secrets.TokenCipher` (``OKR_SECRET_KEY``); listings show the
last four characters of a token only. Its webhooks arrive on
``/webhooks/<provider>/<hook_key>``, a random key naming the connection.

The environment (``OKR_GITHUB_TOKEN``, ``OKR_GITLAB_TOKEN``, ``OKR_*_WEBHOOK_SECRET``,
``OKR_GITLAB_HOSTS``) configures the connections of one workspace only: the install's single
workspace, or the one ``OKR_TRACKER_WORKSPACE`` names when there are several (none otherwise).
A stored connection for the same host takes precedence. A link whose workspace has no
connection for its host is fetched without credentials.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import Settings
from app.models import TrackerConnection, Workspace
from app.services import audit
from app.services.errors import InvalidValue, NotAllowed, NotFound
from app.services.links import jira_keys, linear_ids
from app.services.links.hosts import allowed_private, literal_refused, normal_hosts
from app.services.tenancy import workspaces
from app.services.tenancy.secrets import TokenCipher

PROVIDERS = ("gitlab", "github", "jira", linear_ids.PROVIDER)
MAX_ACCOUNT = 200
LINEAR_API = "https://api.linear.app"
MAX_SECRET = 500


@dataclass(frozen=True, slots=True)
class Connection:
    """What a tracker call or a webhook check needs, secrets decrypted."""

    provider: str
    host: str
    api_url: str
    token: str | None = field(repr=False)  # never in a log line or a traceback
    webhook_secret: str | None = field(repr=False)
    workspace_id: int | None = None
    source: str = "anonymous"  # stored | environment | anonymous
    id: int | None = None
    account: str | None = None  # Jira Cloud: the email its API token belongs to
    canceled_done: bool = False  # Linear: a canceled issue counts as done


@dataclass(frozen=True, slots=True)
class Listed:
    id: int | None
    provider: str
    host: str
    api_url: str
    token_hint: str | None  # "...abcd"; never the token
    webhook_path: str | None
    source: str
    account: str | None = None
    canceled_done: bool | None = None  # Linear connections only


@dataclass(frozen=True, slots=True)
class Added:
    id: int
    provider: str
    host: str
    webhook_path: str
    webhook_secret: str  # shown once


def webhook_path(provider: str, hook_key: str | None) -> str:
    return f"/webhooks/{provider}/{hook_key}" if hook_key else f"/webhooks/{provider}"


def default_host(provider: str) -> str:
    """The host a connection is for when none is given: the provider's public site
    (github.com, gitlab.com, linear.app); Jira has none (every Cloud site is its own host),
    so its host is required."""
    return {"gitlab": "gitlab.com", "github": "github.com",
            linear_ids.PROVIDER: linear_ids.HOST}.get(provider, "")


def env_workspace_id(*, session: Session, settings: Settings) -> int | None:
    """The workspace the tracker environment variables configure, if any."""
    if settings.tracker_workspace:
        ws = workspaces.by_ref(session=session, ref=settings.tracker_workspace)
        return ws.id if ws is not None else None
    ids = session.scalars(select(Workspace.id).order_by(Workspace.id).limit(2)).all()
    return ids[0] if len(ids) == 1 else None


def webhook_workspace(*, session: Session, settings: Settings) -> int | None:
    """The workspace ``/webhooks/gitlab`` and ``/webhooks/github`` apply to; None before any
    workspace exists; NotAllowed when there are several and none is named."""
    ws = env_workspace_id(session=session, settings=settings)
    if ws is None and settings.tracker_workspace:
        raise NotAllowed(f"OKR_TRACKER_WORKSPACE={settings.tracker_workspace[:100]!r} names no "
                         "workspace")
    if ws is None and session.scalars(select(Workspace.id).limit(1)).first() is not None:
        raise NotAllowed("this service has several workspaces: use the webhook URL of the "
                         "workspace's connection (okr tracker list), or set "
                         "OKR_TRACKER_WORKSPACE")
    return ws


def default_api_url(settings: Settings, provider: str, host: str) -> str:
    if provider == "github":
        return settings.github_api_url.rstrip("/")
    if provider == "jira":
        return f"https://{host}"  # the site itself serves /rest/api/...
    if provider == linear_ids.PROVIDER:
        return LINEAR_API
    return (settings.gitlab_api_url or f"https://{host}/api/v4").rstrip("/")


def _env(settings: Settings, provider: str, host: str, workspace_id: int) -> Connection | None:
    if provider == "github" and host == "github.com":
        token, secret = settings.github_token, settings.github_webhook_secret
    elif provider == "gitlab" and host in normal_hosts(["gitlab.com", *settings.gitlab_hosts]):
        token, secret = settings.gitlab_token, settings.gitlab_webhook_secret
    else:
        return None
    if not token and not secret:
        return None
    return Connection(provider, host, default_api_url(settings, provider, host), token or None,
                      secret or None, workspace_id, "environment")


def _decrypted(row: TrackerConnection, settings: Settings) -> Connection:
    cipher = TokenCipher.from_settings(settings)
    return Connection(row.provider, row.host,
                      row.api_url or default_api_url(settings, row.provider, row.host),
                      cipher.decrypt(row.token), cipher.decrypt(row.webhook_secret),
                      row.workspace_id, "stored", row.id, account=row.account,
                      canceled_done=bool(row.canceled_counts_as_done))


def _stored(session: Session, workspace_id: int, provider: str,
            host: str) -> TrackerConnection | None:
    return session.scalars(select(TrackerConnection).where(
        TrackerConnection.workspace_id == workspace_id, TrackerConnection.provider == provider,
        TrackerConnection.host == host)).first()


def for_fetch(*, session: Session, settings: Settings, workspace_id: int, provider: str,
              host: str) -> Connection:
    """The credentials links of this workspace on this host are fetched with."""
    row = _stored(session, workspace_id, provider, host)
    if row is not None:
        return _decrypted(row, settings)
    if env_workspace_id(session=session, settings=settings) == workspace_id:
        env = _env(settings, provider, host, workspace_id)
        if env is not None:
            return env
    return Connection(provider, host, default_api_url(settings, provider, host), None, None,
                      workspace_id, "anonymous")


def by_hook_key(*, session: Session, settings: Settings, provider: str,
                key: str) -> Connection | None:
    if not key or len(key) > 64:
        return None
    row = session.scalars(select(TrackerConnection).where(
        TrackerConnection.hook_key == key, TrackerConnection.provider == provider)).first()
    return None if row is None else _decrypted(row, settings)


def _host(provider: str, host: str, settings: Settings) -> str:
    text = host.strip().lower()
    if provider == "github":
        if text not in ("", "github.com"):
            raise InvalidValue("GitHub connections are for github.com", field="host")
        return "github.com"
    if provider == linear_ids.PROVIDER:
        if text not in ("", linear_ids.HOST):
            raise InvalidValue(f"Linear connections are for {linear_ids.HOST}", field="host")
        return linear_ids.HOST
    try:
        split = urlsplit(f"https://{text}/")
        name, port = split.hostname, split.port
    except ValueError as exc:
        raise InvalidValue(f"{host[:100]!r} is not a host name", field="host") from exc
    if not text and provider == "jira":
        raise InvalidValue("a Jira connection names its site, e.g. acme.atlassian.net",
                           field="host")
    if not name or split.path != "/" or split.username or "@" in text or len(text) > 200:
        raise InvalidValue(f"{host[:100]!r} is not a host name (e.g. gitlab.example.com)",
                           field="host")
    _public(name, port, settings, "host")
    return f"{name}:{port}" if port else name


def _public(name: str, port: int | None, settings: Settings, field: str) -> None:
    if literal_refused(name) and not allowed_private(name, port, settings.allow_private_hosts):
        raise InvalidValue(f"{name} is a loopback, link-local or private address "
                           "(allowed only through OKR_ALLOW_PRIVATE_HOSTS)", field=field)


def _api_url(api_url: str | None, settings: Settings) -> str | None:
    if not api_url or not api_url.strip():
        return None
    text = api_url.strip().rstrip("/")
    try:
        split = urlsplit(text)
        name, port = split.hostname, split.port
    except ValueError as exc:
        raise InvalidValue("the API URL is not a URL", field="api_url") from exc
    private = bool(name) and allowed_private(name or "", port, settings.allow_private_hosts)
    if not name or len(text) > 500 or split.scheme not in (
            ("https", "http") if private else ("https",)):
        raise InvalidValue("the API URL is an https:// URL, e.g. https://gitlab.example.com"
                           "/api/v4", field="api_url")
    _public(name, port, settings, "api_url")
    return text


def _secret(value: str | None, field: str) -> str | None:
    text = (value or "").strip()
    if len(text) > MAX_SECRET or any(ord(c) < 32 for c in text):
        raise InvalidValue(f"the {field.replace('_', ' ')} is at most {MAX_SECRET} printable "
                           "characters", field=field)
    return text or None


def _account(provider: str, host: str, account: str | None, token: str | None) -> str | None:
    """The email a Jira Cloud token is used with: needed there, meaningless elsewhere."""
    text = (account or "").strip()
    if provider != "jira":
        if text:
            raise InvalidValue("only Jira connections take an account email", field="account")
        return None
    if not text:
        if jira_keys.is_cloud(host) and (token or "").strip():
            raise InvalidValue("a Jira Cloud API token is used with the email of its Atlassian "
                               "account: give it (--email)", field="account")
        return None
    local, at, domain = text.rpartition("@")
    if (not at or not local or "." not in domain or len(text) > MAX_ACCOUNT
            or any(c.isspace() or ord(c) < 32 for c in text)):
        raise InvalidValue(f"{text[:100]!r} is not an email address", field="account")
    return text


def _hint(token: str | None) -> str | None:
    """The last four characters of a token long enough for them to give nothing away."""
    if not token:
        return None
    return token[-4:] if len(token) >= 16 else "****"


def add(*, session: Session, settings: Settings, workspace_id: int, provider: str, host: str,
        token: str | None, now: datetime, actor_label: str, api_url: str | None = None,
        webhook_secret: str | None = None, account: str | None = None,
        canceled_done: bool = False) -> Added:
    """Store a connection (its webhook secret generated unless given); refused when one for
    the same host exists, or when tokens cannot be encrypted (OKR_SECRET_KEY unset).

    ``account`` is the email a Jira Cloud API token belongs to (Basic email:token); a Jira
    connection without one sends its token as a bearer token (a Data Center personal access
    token). ``canceled_done``: whether a Linear issue in a canceled state counts as done."""
    cipher = TokenCipher.from_settings(settings)
    if not cipher.enabled:
        raise InvalidValue("set OKR_SECRET_KEY first: tracker tokens are stored encrypted")
    if provider not in PROVIDERS:
        raise InvalidValue("the provider is " + ", ".join(PROVIDERS[:-1])
                           + f" or {PROVIDERS[-1]}", field="provider")
    if canceled_done and provider != linear_ids.PROVIDER:
        raise InvalidValue("only Linear issues can be canceled", field="canceled_done")
    name = _host(provider, host, settings)
    account = _account(provider, name, account, token)
    url = _api_url(api_url, settings)
    token = _secret(token, "token")
    secret = _secret(webhook_secret, "webhook_secret") or secrets.token_urlsafe(24)
    if _stored(session, workspace_id, provider, name) is not None:
        raise InvalidValue(f"this workspace already has a {provider} connection for {name} "
                           "(remove it first)", field="host")
    row = TrackerConnection(
        workspace_id=workspace_id, provider=provider, host=name, api_url=url, account=account,
        token=cipher.encrypt(token), token_hint=_hint(token),
        webhook_secret=cipher.encrypt(secret), hook_key=secrets.token_urlsafe(18),
        created_at=now, created_by=actor_label[:200], canceled_counts_as_done=canceled_done)
    session.add(row)
    session.flush()
    audit.record(session=session, workspace_id=workspace_id, actor_label=actor_label,
                 action="tracker.add", subject_type="tracker_connection",
                 subject_key=f"{provider}:{name}", now=now,
                 after={"api_url": url, "token": bool(token), "account": account,
                        **({"canceled_done": canceled_done}
                           if provider == linear_ids.PROVIDER else {})})
    return Added(row.id, provider, name, webhook_path(provider, row.hook_key), secret)


def remove(*, session: Session, workspace_id: int, ref: str, now: datetime,
           actor_label: str) -> TrackerConnection:
    """Delete a stored connection by id or host (its token and secret go with it)."""
    query = select(TrackerConnection).where(TrackerConnection.workspace_id == workspace_id)
    text = ref.strip().lower()
    rows = [r for r in session.scalars(query) if str(r.id) == text or r.host == text]
    if not rows:
        raise NotFound(f"no tracker connection {ref[:100]!r} in this workspace "
                       "(`okr tracker list` shows them)")
    if len(rows) > 1:
        raise InvalidValue(f"{ref[:100]!r} names several connections: give the id")
    row = rows[0]
    session.delete(row)
    session.flush()
    audit.record(session=session, workspace_id=workspace_id, actor_label=actor_label,
                 action="tracker.remove", subject_type="tracker_connection",
                 subject_key=f"{row.provider}:{row.host}", now=now, after={})
    return row


def listing(*, session: Session, settings: Settings, workspace_id: int) -> list[Listed]:
    """Stored connections, then those the environment gives this workspace."""
    rows = session.scalars(select(TrackerConnection).where(
        TrackerConnection.workspace_id == workspace_id).order_by(TrackerConnection.id)).all()
    out = [Listed(r.id, r.provider, r.host,
                  r.api_url or default_api_url(settings, r.provider, r.host),
                  f"...{r.token_hint}" if r.token_hint else None,
                  webhook_path(r.provider, r.hook_key), "stored", account=r.account,
                  canceled_done=bool(r.canceled_counts_as_done)
                  if r.provider == linear_ids.PROVIDER else None) for r in rows]
    if env_workspace_id(session=session, settings=settings) != workspace_id:
        return out
    taken = {(r.provider, r.host) for r in rows}
    hosts = [("github", "github.com")] + [
        ("gitlab", h) for h in sorted(normal_hosts(["gitlab.com", *settings.gitlab_hosts]))]
    for provider, host in hosts:
        env = _env(settings, provider, host, workspace_id)
        if env is None or (provider, host) in taken:
            continue
        out.append(Listed(None, provider, host, env.api_url,
                          f"...{_hint(env.token)}" if env.token else None,
                          webhook_path(provider, None) if env.webhook_secret else None,
                          "environment"))
    return out
