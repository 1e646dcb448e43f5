"""What the subcommands of ``okr`` share: the per-invocation state, ``--at`` and ``--workspace``
parsing, and one transaction in the chosen workspace (:func:`opened`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, ClassVar, TypeVar

import click
from sqlalchemy.orm import Session

from app.bootstrap import Container, bootstrap, utcnow
from app.config import Settings
from app.db import unit_of_work
from app.models import Cycle, Workspace
from app.services.errors import OkrError
from app.services.okrs import cycles
from app.services.tenancy import workspaces

F = TypeVar("F", bound=Callable[..., Any])

WORKSPACE_HELP = "Workspace name or Slack team id (when there are several)."


class Obj:
    """Lazily built per-invocation state shared by subcommands."""

    def __init__(self) -> None:
        self._container: Container | None = None

    @property
    def container(self) -> Container:
        if self._container is None:
            self._container = bootstrap(Settings(), migrate=True)
        return self._container


pass_obj = click.make_pass_decorator(Obj, ensure=True)


def parse_instant(value: str) -> datetime:
    """An ISO-8601 instant; naive values are refused so nobody guesses a time zone."""
    try:
        at = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} is not an ISO-8601 date-time") from exc
    if at.tzinfo is None:
        raise click.BadParameter(f"{value!r} has no UTC offset (add Z or +01:00)")
    return at


def instant_or_now(at: str | None) -> datetime:
    """The instant ``--at`` names, else now (a bad value is a usage error)."""
    return parse_instant(at) if at else utcnow()


def workspace_option(*, metavar: str | None = None) -> Callable[[F], F]:
    """``--workspace REF`` into the ``workspace_ref`` parameter."""
    return click.option("--workspace", "workspace_ref", default=None, metavar=metavar,
                        help=WORKSPACE_HELP)


@dataclass
class Ctx:
    """One transaction in one workspace, at one instant."""

    session: Session
    ws: Workspace
    settings: Settings
    now: datetime

    no_cycle: ClassVar[str] = "there are no cycles yet: import some first (okr import)"

    @property
    def today(self) -> date:
        return cycles.org_today(self.ws, self.now)

    def cycle(self, name: str | None) -> Cycle:
        """The named cycle, else :meth:`default_cycle`."""
        if name:
            return cycles.by_name(session=self.session, workspace_id=self.ws.id, name=name)
        found = self.default_cycle()
        if found is None:
            raise click.ClickException(self.no_cycle)
        return found

    def default_cycle(self) -> Cycle | None:
        """The current cycle."""
        return cycles.current(session=self.session, workspace_id=self.ws.id, today=self.today)


@contextmanager
def opened(container: Container, workspace_ref: str | None, now: datetime,
           ctx_type: type[Ctx] = Ctx) -> Iterator[Ctx]:
    """One transaction in the chosen workspace; domain errors become CLI messages (exit 1).
    ``ctx_type`` may be a subclass of :class:`Ctx` choosing another default cycle."""
    try:
        with unit_of_work(container.session_factory) as s:
            if workspace_ref:
                ws = workspaces.by_ref(session=s, ref=workspace_ref)
                if ws is None:
                    raise click.ClickException(f"no workspace {workspace_ref!r}")
            else:
                ws = workspaces.default_workspace(session=s, now=now)
            yield ctx_type(session=s, ws=ws, settings=container.settings, now=now)
    except OkrError as exc:
        raise click.ClickException(str(exc)) from None
