"""Which tracker hosts a workspace may link to, and which addresses we may call.

Two checks, each in one place:

* :func:`link_hosts` is the allow-list every link source uses (``/okr link``, ``okr link``,
  the import file): github.com, gitlab.com, the operator's ``OKR_GITLAB_HOSTS`` and the hosts
  of the workspace's own GitLab and Jira connections (Jira Cloud sites, ``*.atlassian.net``,
  are always allowed). A link to any other host is refused when it is
  made, so reconciliation never calls it.
* :func:`check_address` runs before every outbound tracker request (each redirect hop too): it
  resolves the host and refuses it when any address is loopback, link-local, private,
  reserved or multicast, unless the operator allowed that host (``OKR_ALLOW_PRIVATE_HOSTS``).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Collection, Iterable
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import Settings
from app.models import TrackerConnection

ALWAYS = ("gitlab.com",)
# Providers whose connections' hosts links may name (GitHub has one host, github.com).
LINK_HOST_PROVIDERS = ("gitlab", "jira")


class BlockedAddress(ValueError):
    """The host resolves to an address trackers are never called on, or does not resolve."""


def normal_hosts(hosts: Iterable[str]) -> set[str]:
    return {h.strip().lower() for h in hosts if h.strip()}


def link_hosts_for(*, session: Session, workspace_id: int,
                   gitlab_hosts: Iterable[str]) -> list[str]:
    """The GitLab and Jira Server hosts links of this workspace may point at (github.com and
    Jira Cloud sites are always allowed): gitlab.com, the operator's ``gitlab_hosts`` and the
    workspace's own GitLab and Jira connections."""
    own = session.scalars(select(TrackerConnection.host).where(
        TrackerConnection.workspace_id == workspace_id,
        TrackerConnection.provider.in_(LINK_HOST_PROVIDERS)))
    return sorted(normal_hosts([*ALWAYS, *gitlab_hosts, *own]))


def link_hosts(*, session: Session, workspace_id: int, settings: Settings) -> list[str]:
    return link_hosts_for(session=session, workspace_id=workspace_id,
                          gitlab_hosts=settings.gitlab_hosts)


def allowed_private(host: str, port: int | None, allow: Collection[str]) -> bool:
    """True when the operator allowed this host (``host`` for any port, or ``host:port``)."""
    names = normal_hosts(allow)
    return host.lower() in names or (port is not None and f"{host.lower()}:{port}" in names)


def _refused(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


def literal_refused(host: str) -> bool:
    """A host written as an IP address that :func:`check_address` would refuse."""
    try:
        ip = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return _refused(ip)


def check_address(url: str, allow: Collection[str]) -> None:
    """Refuse (:class:`BlockedAddress`) a URL whose host is not a public address."""
    split = urlsplit(url)
    host = split.hostname
    if not host or split.scheme not in ("http", "https"):
        raise BlockedAddress(f"{url[:200]!r} is not an http(s) URL")
    port = split.port or (443 if split.scheme == "https" else 80)
    if allowed_private(host, split.port, allow):
        return
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise BlockedAddress(f"{host} does not resolve") from exc
    for info in infos:
        address = str(info[4][0]).split("%", 1)[0]
        if _refused(ipaddress.ip_address(address)):
            raise BlockedAddress(
                f"{host} resolves to {address}, a loopback, link-local or private address; "
                "trackers there need OKR_ALLOW_PRIVATE_HOSTS")
